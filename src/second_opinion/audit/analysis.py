"""The audit's analyses of one corpus, and across corpora.

* per signal: the full-table metrics with bootstrap CIs (a multi-column signal through its
  out-of-fold prediction) and the split protocol's medians;
* redundancy: the Spearman matrix between signals' predictions, pairs above the threshold flagged;
* gain: baseline B alone, B + each second opinion S, and B + all of them, regressed on the same
  rows and splits; per S the median ΔSRCC/ΔPLCC with a 95 % interval over splits, the fraction
  of splits where B + S beats B, and a paired Wilcoxon signed-rank p-value;
* cross-corpus: each signal trained on one corpus and tested on another (SRCC);
* warnings: test splits under 30 rows, degenerate logistic fits (:func:`corpus_warnings`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from second_opinion.audit.bootstrap import bootstrap_ci, intervals
from second_opinion.audit.corpus import MIN_ROWS, Corpus
from second_opinion.audit.crossfit import out_of_fold
from second_opinion.audit.metrics import MetricSet, evaluate, srcc
from second_opinion.audit.options import REDUNDANCY_THRESHOLD, AuditOptions
from second_opinion.audit.progress import Counter, CountingPool, ProgressCallback
from second_opinion.audit.protocol import MIN_TEST_ROWS, ProtocolResult, run_protocol
from second_opinion.audit.signals import Signal, SignalSet, signal_rows
from second_opinion.audit.wilcoxon import wilcoxon_p
from second_opinion.errors import InputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Step = Callable[[str], None]


@dataclass(frozen=True)
class SignalResult:
    """One signal of one corpus: full-table metrics and the split protocol."""

    signal: Signal
    full: MetricSet
    srcc_ci: tuple[float, float] | None
    plcc_ci: tuple[float, float] | None
    splits: ProtocolResult
    prediction: FloatArray
    """The raw column (training-free) or the out-of-fold prediction, over the signal's rows."""
    mos: FloatArray
    rows: BoolArray
    """Which of the corpus's rows (those with a MOS) the signal has."""

    @property
    def n(self) -> int:
        """Rows with MOS and the signal."""
        return int(self.rows.sum())

    @property
    def direction_agrees(self) -> bool | None:
        """Whether SRCC's sign matches the declared direction of a training-free signal.

        None when the direction or SRCC is unknown, and for a regressed signal (its prediction
        estimates MOS, whatever the direction of its columns).
        """
        if (
            not self.signal.training_free
            or self.signal.higher_is_better is None
            or not math.isfinite(self.full.srcc)
        ):
            return None
        return (self.full.srcc >= 0) == self.signal.higher_is_better


@dataclass(frozen=True)
class Redundancy:
    """Spearman's ρ between the signals' predictions, over the rows both have."""

    signals: tuple[str, ...]
    rho: FloatArray
    pairs: npt.NDArray[np.int64]
    flagged: tuple[tuple[str, str, float], ...]
    threshold: float


@dataclass(frozen=True)
class GainEntry:
    """The baseline plus one second opinion (or all of them), against the baseline alone."""

    name: str
    columns: tuple[str, ...]
    splits: ProtocolResult
    delta_srcc: FloatArray
    delta_plcc: FloatArray

    def delta_summary(self, metric: str) -> tuple[float, float, float]:
        """Median and 95 % interval (2.5th, 97.5th percentiles over splits) of a delta."""
        values = self.delta_srcc if metric == "srcc" else self.delta_plcc
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return math.nan, math.nan, math.nan
        low, high = np.quantile(finite, [0.025, 0.975])
        return float(np.median(finite)), float(low), float(high)

    @property
    def win_fraction(self) -> float:
        """Share of splits where B + S has the higher SRCC than B."""
        finite = self.delta_srcc[np.isfinite(self.delta_srcc)]
        return float(np.mean(finite > 0)) if finite.size else math.nan

    @property
    def wilcoxon_p(self) -> float:
        """Two-sided paired Wilcoxon signed-rank p-value of SRCC(B + S) vs SRCC(B)."""
        return wilcoxon_p(self.delta_srcc)


@dataclass(frozen=True)
class Gain:
    """What second opinions add to a baseline, on the rows all of them have."""

    baseline: Signal
    n: int
    baseline_splits: ProtocolResult | None
    entries: tuple[GainEntry, ...]
    combined: GainEntry | None
    note: str | None = None
    baseline_reused: bool | None = None
    """True when B alone is the baseline signal's own protocol run (same regressor, rows and
    splits, so the same numbers), False when it was refitted here, None when not computed."""


@dataclass(frozen=True)
class CorpusResult:
    """Every analysis of one corpus."""

    corpus: Corpus
    signals: tuple[SignalResult, ...]
    redundancy: Redundancy
    gain: Gain | None
    seconds: float
    notes: tuple[str, ...] = ()
    """The corpus's notes (rows without MOS) and the signal set's (signals left out)."""
    warnings: tuple[str, ...] = ()
    """Small test splits and degenerate fits, for the report and stderr (corpus_warnings)."""


@dataclass(frozen=True)
class CrossCorpus:
    """SRCC of a signal trained on corpus ``corpora[i]`` (row) and tested on ``corpora[j]``.

    The diagonal is the within-corpus median SRCC over the splits.
    """

    signal: str
    columns: tuple[str, ...]
    training_free: bool
    corpora: tuple[str, ...]
    srcc: FloatArray


def _matrix(corpus: Corpus, columns: Sequence[str], rows: BoolArray) -> FloatArray:
    return np.column_stack([corpus.columns[c][rows] for c in columns])


def analyse_signal(
    corpus: Corpus,
    signal: Signal,
    options: AuditOptions,
    pool: Executor | None,
    *,
    bootstrap: bool = True,
) -> SignalResult:
    """The full-table metrics and the split protocol of one signal (``bootstrap=False``: no CIs
    yet; :func:`with_intervals` adds them)."""
    rows = signal_rows(corpus, signal.columns)
    x = _matrix(corpus, signal.columns, rows)
    y = corpus.mos[rows]
    if signal.training_free:
        prediction = x[:, 0]
    else:
        prediction = out_of_fold(
            x,
            y,
            folds=options.folds,
            model=options.model,
            search=options.search,
            seed=options.seed,
        )
    try:
        full = evaluate(prediction, y)
    except InputError as exc:  # e.g. an out-of-fold prediction that came out constant
        nan = math.nan
        undefined = f"metrics undefined: {exc.message}"
        full = MetricSet(int(y.size), nan, nan, nan, nan, nan, False, undefined)
    srcc_ci = plcc_ci = None
    if bootstrap and options.bootstrap and math.isfinite(full.srcc):
        srcc_ci = bootstrap_ci(
            prediction, y, "srcc", resamples=options.bootstrap, seed=options.seed
        )
        plcc_ci = bootstrap_ci(
            prediction, y, "plcc", resamples=options.bootstrap, seed=options.seed
        )
    splits = run_protocol(
        x,
        y,
        splits=options.splits,
        model=options.model,
        search=options.search,
        processes=options.jobs,
        seed=options.seed,
        pool=pool,
    )
    return SignalResult(signal, full, srcc_ci, plcc_ci, splits, prediction, y, rows)


def redundancy(names: Sequence[str], vectors: Sequence[FloatArray], threshold: float) -> Redundancy:
    """Spearman's ρ between every pair of ``vectors`` (NaN = absent) over rows both have."""
    k = len(vectors)
    rho = np.eye(k, dtype=np.float64)
    pairs = np.zeros((k, k), dtype=np.int64)
    flagged = []
    for i in range(k):
        pairs[i, i] = int(np.isfinite(vectors[i]).sum())
        for j in range(i + 1, k):
            both = np.isfinite(vectors[i]) & np.isfinite(vectors[j])
            pairs[i, j] = pairs[j, i] = int(both.sum())
            value = math.nan
            if both.sum() >= 3 and np.ptp(vectors[i][both]) > 0 and np.ptp(vectors[j][both]) > 0:
                value = srcc(vectors[i][both], vectors[j][both])
            rho[i, j] = rho[j, i] = value
            if math.isfinite(value) and abs(value) > threshold:
                flagged.append((names[i], names[j], value))
    return Redundancy(tuple(names), rho, pairs, tuple(flagged), threshold)


def _full_vector(result: SignalResult, size: int) -> FloatArray:
    out = np.full(size, np.nan)
    out[result.rows] = result.prediction
    return out


def analyse_gain(
    corpus: Corpus,
    signals: SignalSet,
    options: AuditOptions,
    pool: Executor | None,
    known: Sequence[SignalResult] = (),
    progress: ProgressCallback | None = None,
) -> Gain | None:
    """B, B + S for each second opinion S, and B + all, regressed on shared rows and splits.

    B alone is taken from ``known`` (the per-signal results) when the baseline's own run was
    regressed on exactly these rows (its splits are then these splits): a pure function of the
    same inputs, so the same numbers without a refit. ``progress`` hears the splits (``gain``).
    """
    base = signals.baseline
    if base is None:
        return None
    opinions = [signals.get(name) for name in signals.second_opinions]
    if not opinions:
        note = (
            "no second opinion: no scorer signal (with named signals: no other signal) "
            "is disjoint from the baseline; nothing to add"
        )
        return Gain(base, 0, None, (), None, note)
    rows = signal_rows(corpus, base.columns)
    for signal in opinions:
        rows &= signal_rows(corpus, signal.columns)
    if int(rows.sum()) < MIN_ROWS:
        note = (
            f"only {int(rows.sum())} rows have the baseline and every second opinion "
            f"(at least {MIN_ROWS} needed)"
        )
        return Gain(base, int(rows.sum()), None, (), None, note)
    y = corpus.mos[rows]
    own = next((r for r in known if r.signal.columns == base.columns), None)
    reused = (
        own is not None
        and own.splits.model == options.model
        and bool(np.array_equal(own.rows, rows))
    )
    fits = (0 if reused else 1) + len(opinions) + (1 if len(opinions) > 1 else 0)
    counter = Counter(progress, "gain", corpus.name, fits * options.splits)
    counted = CountingPool(pool, counter) if pool is not None else None

    def regress(columns: Sequence[str]) -> ProtocolResult:
        counter.describe(f"{len(columns)} columns")
        found = run_protocol(
            _matrix(corpus, columns, rows),
            y,
            splits=options.splits,
            model=options.model,
            search=options.search,
            processes=options.jobs,
            seed=options.seed,
            regress=True,
            pool=counted,
        )
        if counted is None:
            counter.advance(options.splits)
        return found

    alone = own.splits if reused and own is not None else regress(base.columns)

    def entry(name: str, columns: tuple[str, ...]) -> GainEntry:
        combined = regress(columns)
        return GainEntry(
            name, columns, combined, combined.srcc - alone.srcc, combined.plcc - alone.plcc
        )

    entries = tuple(entry(s.name, _unique(base.columns + s.columns)) for s in opinions)
    combined = None
    if len(opinions) > 1:
        # A column shared by two signals enters the regression once: a copy would weigh double
        # in the SVR's distances.
        every = _unique(base.columns + tuple(c for s in opinions for c in s.columns))
        combined = entry("all", every)
    counter.finish()
    return Gain(base, int(rows.sum()), alone, entries, combined, baseline_reused=reused)


def _unique(columns: tuple[str, ...]) -> tuple[str, ...]:
    """``columns`` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(columns))


def corpus_warnings(signals: Sequence[SignalResult], gain: Gain | None) -> tuple[str, ...]:
    """One corpus's warnings: the runs whose test splits hold fewer than ``MIN_TEST_ROWS`` rows
    (one line), then each degenerate logistic fit (on the full table, then over splits)."""
    runs = [(r.signal.name, r.splits) for r in signals]
    if gain is not None and gain.baseline_splits is not None:
        extra = [*gain.entries, *([gain.combined] if gain.combined else [])]
        runs += [(f"gain {gain.baseline.name}", gain.baseline_splits)]
        runs += [(f"gain {gain.baseline.name} + {e.name}", e.splits) for e in extra]
    small = [f"{name} ({r.test_rows})" for name, r in runs if r.test_rows < MIN_TEST_ROWS]
    found = []
    if small:
        listed = ", ".join(small)
        found.append(f"test splits under {MIN_TEST_ROWS} rows (rows per test split): {listed}")
    found += [f"{r.signal.name}: {r.full.note}" for r in signals if r.full.fit_flag is not None]
    found += [f"{name}: {w}" for name, run in runs for w in run.fit_warnings]
    return tuple(found)


def analyse_corpus(
    corpus: Corpus,
    signals: SignalSet,
    options: AuditOptions,
    pool: Executor | None,
    step: Step | None = None,
    progress: ProgressCallback | None = None,
) -> CorpusResult:
    """Every per-corpus analysis of ``corpus``; ``progress`` hears each phase's counts."""
    started = time.perf_counter()
    runs = Counter(progress, "signals", corpus.name, len(signals.signals) * options.splits)
    counted = CountingPool(pool, runs) if pool is not None else None
    results = []
    for signal in signals.signals:
        size = len(signal.columns)
        label = f"{signal.name} ({size} column{'s' if size > 1 else ''})"
        if step:
            step(f"{corpus.name}: {label}")
        runs.describe(label)
        results.append(analyse_signal(corpus, signal, options, counted, bootstrap=False))
        if counted is None:
            runs.advance(options.splits)
    runs.finish()
    wanted = [i for i, r in enumerate(results) if options.bootstrap and math.isfinite(r.full.srcc)]
    if wanted:
        counter = Counter(progress, "bootstrap", corpus.name, 2 * len(wanted))
        pairs = [(results[i].prediction, results[i].mos) for i in wanted]
        cis = intervals(pairs, options.bootstrap, options.seed, pool, counter.advance)
        for i, (srcc_ci, plcc_ci) in zip(wanted, cis, strict=True):
            results[i] = replace(results[i], srcc_ci=srcc_ci, plcc_ci=plcc_ci)
    vectors = [_full_vector(r, corpus.n) for r in results]
    mix = redundancy([r.signal.name for r in results], vectors, REDUNDANCY_THRESHOLD)
    if step and signals.baseline is not None:
        step(f"{corpus.name}: gain over baseline {signals.baseline.name}")
    gain = analyse_gain(corpus, signals, options, pool, results, progress)
    seconds = time.perf_counter() - started
    notes = (*corpus.notes, *signals.notes)
    warned = corpus_warnings(results, gain)
    return CorpusResult(corpus, tuple(results), mix, gain, seconds, notes, warned)
