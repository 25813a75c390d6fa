"""Choosing the executor a batch wave runs on: ``local`` worker processes or ``ray`` tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from second_opinion.batch.outcomes import EventHandler, JobResult
from second_opinion.batch.planning import Plan
from second_opinion.hashing import HashCache
from second_opinion.tables.formats import Engine

if TYPE_CHECKING:
    from second_opinion.batch.executors.scheduler import Scheduler

Executor = Literal["local", "ray"]
EXECUTORS: tuple[Executor, ...] = ("local", "ray")


def run_plans(
    executor: Executor,
    plans: list[Plan],
    run_id: str,
    workers: int,
    *,
    keep_going: bool,
    on_event: EventHandler,
    cache: HashCache,
    engine: Engine | None = None,
) -> dict[str, JobResult]:
    """Run ``plans`` on ``executor``; results by job name."""
    scheduler: Scheduler
    if executor == "ray":
        from second_opinion.batch.executors.ray import RayScheduler  # noqa: PLC0415 - optional extra

        scheduler = RayScheduler(plans, run_id, workers, keep_going=keep_going,
                                 on_event=on_event, cache=cache, engine=engine)  # fmt: skip
    else:
        from second_opinion.batch.executors.local import ProcessScheduler  # noqa: PLC0415

        scheduler = ProcessScheduler(plans, run_id, workers, keep_going=keep_going,
                                     on_event=on_event, cache=cache, engine=engine)  # fmt: skip
    return scheduler.run()
