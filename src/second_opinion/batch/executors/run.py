"""Choosing the executor a batch wave runs on: ``local`` worker processes or ``ray`` tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from second_opinion._typing import Executor

if TYPE_CHECKING:
    from second_opinion.batch.executors.scheduler import Scheduler


def scheduler_class(executor: Executor) -> type[Scheduler]:
    """The scheduler that runs jobs on ``executor`` (Ray's is imported only when asked for)."""
    if executor == "ray":
        from second_opinion.batch.executors.ray import RayScheduler  # noqa: PLC0415 - optional extra

        return RayScheduler
    from second_opinion.batch.executors.local import ProcessScheduler  # noqa: PLC0415

    return ProcessScheduler
