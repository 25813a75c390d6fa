"""Choosing the executor a batch wave runs on: ``local`` worker processes or ``ray`` tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from second_opinion.batch.outcomes import EventHandler, JobResult
from second_opinion.batch.planning import Plan
from second_opinion.batch.settings import BatchSettings
from second_opinion.hashing import HashCache

if TYPE_CHECKING:
    from second_opinion.batch.executors.scheduler import Scheduler


def run_plans(
    plans: list[Plan],
    *,
    run_id: str,
    workers: int,
    settings: BatchSettings,
    on_event: EventHandler,
    cache: HashCache,
) -> dict[str, JobResult]:
    """Run ``plans`` on ``settings.executor``, ``workers`` at a time; results by job name."""
    scheduler_class: type[Scheduler]
    if settings.executor == "ray":
        from second_opinion.batch.executors.ray import RayScheduler  # noqa: PLC0415 - optional extra

        scheduler_class = RayScheduler
    else:
        from second_opinion.batch.executors.local import ProcessScheduler  # noqa: PLC0415

        scheduler_class = ProcessScheduler
    scheduler = scheduler_class(
        plans,
        run_id=run_id,
        workers=workers,
        settings=settings,
        on_event=on_event,
        cache=cache,
    )
    return scheduler.run()
