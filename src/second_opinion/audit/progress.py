"""How far a running audit is, reported through a callback: the library never prints.

:func:`~second_opinion.audit.run.run_audit` reports each phase's count of finished units as an
:class:`AuditProgress` (a frozen dataclass, picklable): protocol splits per corpus
(``signals``), bootstrap intervals (``bootstrap``), the gain analysis's splits (``gain``) and
the cross-corpus fits (``cross-corpus``). A phase reports ``done = 0`` when it starts and
``done = total`` when it ends. The CLI renders the events (a live bar with an ETA on a
terminal, log lines in a pipe); a Python caller may pass any callable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

Phase = Literal["signals", "bootstrap", "gain", "cross-corpus"]

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class AuditProgress:
    """One phase's progress: ``done`` of ``total`` units, in corpus ``corpus`` (None: across
    corpora); ``detail`` names what runs now (a signal, a gain set)."""

    phase: Phase
    corpus: str | None
    done: int
    total: int
    detail: str = ""

    @property
    def label(self) -> str:
        """``'CORPUS: phase'``, or the phase alone across corpora."""
        return self.phase if self.corpus is None else f"{self.corpus}: {self.phase}"

    @property
    def unit(self) -> str:
        """What is counted."""
        return {"signals": "splits", "bootstrap": "intervals", "gain": "splits"}.get(
            self.phase, "fits"
        )


ProgressCallback = Callable[[AuditProgress], None]


class Counter:
    """Counts one phase's units and reports every change (nothing when ``callback`` is None)."""

    def __init__(
        self, callback: ProgressCallback | None, phase: Phase, corpus: str | None, total: int
    ) -> None:
        self.callback = callback
        self.phase: Phase = phase
        self.corpus = corpus
        self.total = total
        self.done = 0
        self.detail = ""
        self._report()

    def _report(self) -> None:
        if self.callback is not None:
            event = AuditProgress(self.phase, self.corpus, self.done, self.total, self.detail)
            self.callback(event)

    def describe(self, detail: str) -> None:
        """Name what runs now."""
        self.detail = detail
        self._report()

    def advance(self, count: int = 1) -> None:
        """``count`` more units are done."""
        self.done = min(self.total, self.done + count)
        self._report()

    def finish(self) -> None:
        """The phase is over (units skipped, e.g. reused results, count as done)."""
        if self.done != self.total:
            self.done = self.total
            self._report()


class CountingPool(Executor):
    """A pool whose ``map`` advances ``counter`` as each result arrives (in order)."""

    def __init__(self, pool: Executor, counter: Counter) -> None:
        self.pool = pool
        self.counter = counter

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """As the wrapped pool's ``submit``."""
        return self.pool.submit(fn, *args, **kwargs)

    def map(
        self,
        fn: Callable[..., T],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
    ) -> Iterator[T]:
        """As the wrapped pool's ``map``, counting each result."""
        for item in self.pool.map(fn, *iterables, timeout=timeout, chunksize=chunksize):
            self.counter.advance()
            yield item
