"""Showing a batch or an audit while it runs: a live rich display on a terminal, log lines
elsewhere (stderr: stdout stays free for ``--json``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from second_opinion.audit.progress import AuditProgress
from second_opinion.batch.outcomes import BatchEvent
from second_opinion.cli.render import console, err_console

LOG_EVERY = 5.0
"""Seconds between two log lines of one running phase."""


class ProgressLog:
    """Audit progress as log lines: when a phase starts, at most every ``every`` seconds while it
    runs, and when it ends; each with the count and, once something is done, an ETA."""

    def __init__(
        self,
        out: Console = err_console,
        *,
        every: float = LOG_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.every = every
        self.clock = clock
        self.started: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.ended: set[str] = set()

    def __call__(self, event: AuditProgress) -> None:
        """Log ``event`` if it starts or ends its phase or the last line is old enough."""
        if event.total <= 0:
            return
        now = self.clock()
        key = event.label
        if key not in self.started:
            self.started[key] = now
        elif event.done >= event.total:
            if key in self.ended:
                return
            self.ended.add(key)
        elif now - self.last[key] < self.every:
            return
        self.last[key] = now
        self.out.print(self.line(event, now - self.started[key]), markup=False, highlight=False)

    @staticmethod
    def line(event: AuditProgress, elapsed: float) -> str:
        """``HH:MM:SS LABEL done/total unit (detail), ETA h:mm:ss``."""
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        return f"{stamp} {event.label} {describe(event, elapsed)}"


def describe(event: AuditProgress, elapsed: float) -> str:
    """``done/total unit (detail), ETA h:mm:ss`` (``done in …`` at the end)."""
    text = f"{event.done}/{event.total} {event.unit}"
    if event.detail and event.done < event.total:
        text += f" ({event.detail})"
    if event.done >= event.total:
        return f"{text}, done in {timedelta(seconds=round(elapsed))}"
    if event.done > 0:
        left = elapsed / event.done * (event.total - event.done)
        text += f", ETA {timedelta(seconds=round(left))}"
    return text


def progress_bars(out: Console) -> Progress:
    """A live display: spinner, what runs, bar, its count and ETA (``describe``), elapsed."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[phase]}"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    )


class ProgressBars:
    """Audit progress as live bars (one per phase, removed when it ends) on a terminal."""

    def __init__(self, progress: Progress, clock: Callable[[], float] = time.monotonic) -> None:
        self.progress = progress
        self.clock = clock
        self.tasks: dict[str, tuple[TaskID, float]] = {}

    def __call__(self, event: AuditProgress) -> None:
        """Show ``event``."""
        if event.total <= 0:
            return
        now = self.clock()
        found = self.tasks.get(event.label)
        if found is None:
            found = (self.progress.add_task(event.label, total=event.total, phase=""), now)
            self.tasks[event.label] = found
        task, started = found
        text = describe(event, now - started)
        self.progress.update(task, completed=event.done, total=event.total, phase=text)
        if event.done >= event.total:
            self.progress.remove_task(task)
            del self.tasks[event.label]


class BatchDisplay:
    """Consumes :class:`BatchEvent` objects; live on a terminal, plain lines in a pipe or CI."""

    def __init__(self, *, live: bool) -> None:
        self.live = live
        self.progress: Progress | None = None
        self.overall: TaskID | None = None
        self.tasks: dict[str, TaskID] = {}
        self.audit: Callable[[AuditProgress], None] = ProgressLog()

    def __enter__(self) -> Self:
        if self.live:
            self.progress = progress_bars(console)
            self.progress.start()
            self.overall = self.progress.add_task("batch", total=None, phase="")
            self.audit = ProgressBars(self.progress)
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
        if event.kind == "progress":
            if event.progress is not None:
                self.audit(event.progress)
            return
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
