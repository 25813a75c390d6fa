"""Showing a batch while it runs: a live rich display on a terminal, log lines elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from second_opinion.batch.outcomes import BatchEvent
from second_opinion.cli.render import console, err_console


class BatchDisplay:
    """Consumes :class:`BatchEvent` objects; live on a terminal, plain lines in a pipe or CI."""

    def __init__(self, *, live: bool) -> None:
        self.live = live
        self.progress: Progress | None = None
        self.overall: TaskID | None = None
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Self:
        if self.live:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[phase]}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.progress.start()
            self.overall = self.progress.add_task("batch", total=None, phase="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    def handle(self, event: BatchEvent) -> None:
        """Show one event."""
        if self.progress is None or self.overall is None:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            detail = f" ({event.detail})" if event.detail else ""
            if event.result is not None and event.result.error:
                detail += f": {event.result.error.splitlines()[0]}"
            err_console.print(f"{stamp} {event.job}: {event.kind}{detail}", markup=False)
            return
        progress = self.progress
        if event.kind == "planned":
            total = (progress.tasks[self.overall].total or 0) + 1
            progress.update(self.overall, total=total)
        elif event.kind == "started":
            self.tasks[event.job] = progress.add_task(event.job, total=None, phase="starting")
        elif event.kind == "phase" and event.job in self.tasks:
            progress.update(self.tasks[event.job], phase=event.detail)
        elif event.kind == "finished":
            progress.advance(self.overall)
            task = self.tasks.pop(event.job, None)
            if task is not None:
                progress.remove_task(task)
