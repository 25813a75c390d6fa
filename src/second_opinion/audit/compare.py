"""Head-to-head comparisons of two signals of one corpus over the same splits (``compare``,
``compare_all``; docs/audit.md, ADR 0016).

Two signals are compared on the same rows and the same splits, so each split pairs one value of
A with one of B:

* signals with the same rows (the usual case) reuse the split results the audit already has;
* signals with different rows (NaN in one of them) are evaluated again, each on the rows both
  have, with the same protocol and split seeds, so the 80/20 splits draw the same clips; fewer
  than :data:`~second_opinion.audit.corpus.MIN_ROWS` such rows and the pair is refused, with the
  reason in its ``note``.

Each signal's per-split SRCC and PLCC are taken in its direction (multiplied by the sign of the
metric's median signed value over the signal's own rows, as the tables show magnitudes), and
Δ = A − B per split. A comparison holds the median Δ with the 2.5th–97.5th percentiles of the
per-split Δ, the share of splits A wins (Δ > 0), and the two-sided paired Wilcoxon signed-rank p
over splits.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from second_opinion.audit.analysis import BoolArray, CorpusResult, FloatArray, SignalResult
from second_opinion.audit.corpus import MIN_ROWS
from second_opinion.audit.options import AuditOptions
from second_opinion.audit.protocol import ProtocolResult, run_protocol
from second_opinion.audit.signals import SignalSet
from second_opinion.audit.wilcoxon import wilcoxon_p
from second_opinion.errors import UsageError

COMPARED: tuple[str, ...] = ("srcc", "plcc")
"""The metrics a comparison takes per split."""
TIE_DIGITS = 12
"""Decimals the per-split Δ are rounded to for the Wilcoxon test (float noise is not a rank)."""


@dataclass(frozen=True)
class Delta:
    """One metric's per-split Δ = A − B, summarised."""

    values: FloatArray

    @property
    def finite(self) -> FloatArray:
        """The splits where both signals' metric is defined."""
        return self.values[np.isfinite(self.values)]

    @property
    def median(self) -> float:
        """The median Δ over splits."""
        return float(np.median(self.finite)) if self.finite.size else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        """The 2.5th and 97.5th percentiles of the per-split Δ (where 95 % of splits fall)."""
        if not self.finite.size:
            return math.nan, math.nan
        low, high = np.quantile(self.finite, [0.025, 0.975])
        return float(low), float(high)

    @property
    def wins(self) -> float:
        """The share of splits where A is ahead (Δ > 0)."""
        return float(np.mean(self.finite > 0)) if self.finite.size else math.nan

    @property
    def p(self) -> float:
        """The two-sided paired Wilcoxon signed-rank p over splits, of the Δ rounded to
        :data:`TIE_DIGITS` decimals: equal Δ that differ in the last bit (one SRCC computed
        as a − b, another as c − d) are ties, as they are in exact arithmetic."""
        return wilcoxon_p(np.round(self.values, TIE_DIGITS))


@dataclass(frozen=True)
class Comparison:
    """Signal ``a`` against signal ``b`` over the same rows and splits."""

    a: str
    b: str
    n: int
    """Rows both signals have (the rows compared)."""
    splits: int
    reevaluated: tuple[str, ...]
    """The signals evaluated again on the shared rows (their own rows differ)."""
    deltas: dict[str, Delta]
    """Metric (``'srcc'``, ``'plcc'``) → its per-split Δ; empty when refused."""
    note: str | None = None
    """Why the pair was not compared (too few shared rows)."""


@dataclass(frozen=True)
class CorpusComparisons:
    """One corpus's comparisons: the pairs asked for, and with ``compare_all`` every pair."""

    corpus: str
    pairs: tuple[Comparison, ...]
    all_pairs: bool
    signals: tuple[str, ...]
    """The corpus's signals, in audit order (the matrix's rows and columns)."""
    notes: tuple[str, ...] = ()
    """Pairs asked for that this corpus cannot compare (a signal it does not have)."""

    def find(self, a: str, b: str) -> Comparison | None:
        """The comparison of ``a`` with ``b`` (either order, as computed), if any."""
        return next((c for c in self.pairs if (c.a, c.b) in ((a, b), (b, a))), None)


def check_compare(options: AuditOptions, signal_sets: Sequence[tuple[str, SignalSet]]) -> None:
    """Refuse a ``compare`` pair naming a signal that no corpus has, listing the known ones."""
    known = sorted({s.name for _, found in signal_sets for s in found.signals})
    for a, b in options.compare:
        for name in (a, b):
            if name not in known:
                msg = (
                    f"compare {a},{b}: no corpus has a signal named {name!r} "
                    f"(signals: {', '.join(known)})"
                )
                raise UsageError(msg)


def compare_corpus(
    result: CorpusResult, options: AuditOptions, pool: Executor | None
) -> CorpusComparisons | None:
    """The comparisons ``options`` asks for on one corpus; None when it asks for none."""
    if not options.compare and not options.compare_all:
        return None
    by_name = {s.signal.name: s for s in result.signals}
    names = tuple(by_name)
    wanted: list[tuple[str, str]] = []
    notes = []
    for a, b in options.compare:
        missing = [name for name in (a, b) if name not in by_name]
        if missing:
            notes.append(f"compare {a},{b}: this corpus has no signal {missing[0]!r}")
        elif (a, b) not in wanted:
            wanted.append((a, b))
    if options.compare_all:
        taken = {frozenset(pair) for pair in wanted}
        wanted += [p for p in itertools.combinations(names, 2) if frozenset(p) not in taken]
    cache: dict[tuple[str, bytes], ProtocolResult] = {}
    pairs = tuple(_compare(result, by_name[a], by_name[b], options, pool, cache) for a, b in wanted)
    return CorpusComparisons(result.corpus.name, pairs, options.compare_all, names, tuple(notes))


def _compare(
    result: CorpusResult,
    a: SignalResult,
    b: SignalResult,
    options: AuditOptions,
    pool: Executor | None,
    cache: dict[tuple[str, bytes], ProtocolResult],
) -> Comparison:
    rows = a.rows & b.rows
    n = int(rows.sum())
    names = (a.signal.name, b.signal.name)
    if n < MIN_ROWS:
        note = f"only {n} rows have both signals (at least {MIN_ROWS} needed)"
        return Comparison(*names, n, options.splits, (), {}, note)
    again = tuple(s.signal.name for s in (a, b) if not np.array_equal(s.rows, rows))
    first, second = (_splits(result, s, rows, options, pool, cache) for s in (a, b))
    deltas = {
        metric: Delta(_oriented(first, metric, a) - _oriented(second, metric, b))
        for metric in COMPARED
    }
    return Comparison(*names, n, options.splits, again, deltas)


def _splits(
    result: CorpusResult,
    signal: SignalResult,
    rows: BoolArray,
    options: AuditOptions,
    pool: Executor | None,
    cache: dict[tuple[str, bytes], ProtocolResult],
) -> ProtocolResult:
    """The signal's split results on ``rows``: its own when they are its rows, else run again
    (once per signal and set of rows)."""
    if np.array_equal(signal.rows, rows):
        return signal.splits
    key = (signal.signal.name, hashlib.sha256(np.packbits(rows).tobytes()).digest())
    if key not in cache:
        corpus = result.corpus
        x = np.column_stack([corpus.columns[c][rows] for c in signal.signal.columns])
        cache[key] = run_protocol(
            x,
            corpus.mos[rows],
            splits=options.splits,
            model=options.model,
            search=options.search,
            processes=options.jobs,
            seed=options.seed,
            pool=pool,
        )
    return cache[key]


def orientation(splits: ProtocolResult, metric: str) -> int:
    """The sign of a metric's median signed value over splits (+1 when undefined or zero):
    multiplied by it, the per-split values read as the tables' magnitudes. PLCC has its own
    sign (the logistic before it can turn a falling signal into a rising mapping)."""
    values: FloatArray = getattr(splits, metric)
    finite = values[np.isfinite(values)]
    return -1 if finite.size and float(np.median(finite)) < 0 else 1


def _oriented(splits: ProtocolResult, metric: str, signal: SignalResult) -> FloatArray:
    """Per-split values in the signal's direction over its own rows (:func:`orientation`)."""
    values: FloatArray = getattr(splits, metric)
    return values * orientation(signal.splits, metric)
