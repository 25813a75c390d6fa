"""Progress reporting (counts per phase through a callback; the library never prints) and the gain
analysis's reuse of the baseline signal's own protocol run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from second_opinion.audit.analysis import analyse_corpus, analyse_gain, analyse_signal
from second_opinion.audit.corpus import Corpus
from second_opinion.audit.options import build_options
from second_opinion.audit.progress import AuditProgress, Counter, CountingPool
from second_opinion.audit.protocol import worker_pool
from second_opinion.audit.signals import SignalSet, SignalSpec, resolve_signals
from tests._audit_data import gain_columns, make_corpus

OPTIONS = build_options(jobs=1, splits=4, bootstrap=20, model="ridge")


def _setup(nan_fraction: float = 0.0) -> tuple[Corpus, SignalSet]:
    corpus = make_corpus(gain_columns(60, seed=4, nan_fraction=nan_fraction))
    extra = [SignalSpec.parse("extra=so_extra_*")]
    return corpus, resolve_signals(corpus, extra, baseline=SignalSpec.parse("base=base_f*"))


def test_counter_reports_start_each_unit_and_the_end() -> None:
    events: list[AuditProgress] = []
    counter = Counter(events.append, "gain", "A", 3)
    counter.describe("base")
    counter.advance()
    counter.advance(5)  # never past the total
    counter.finish()  # already at the total: nothing more
    assert [(e.done, e.total, e.detail) for e in events] == [
        (0, 3, ""),
        (0, 3, "base"),
        (1, 3, "base"),
        (3, 3, "base"),
    ]
    assert events[0].label == "A: gain"
    assert events[0].unit == "splits"
    assert AuditProgress("cross-corpus", None, 0, 2).label == "cross-corpus"
    assert AuditProgress("cross-corpus", None, 0, 2).unit == "fits"
    assert AuditProgress("bootstrap", "A", 0, 2).unit == "intervals"


def test_counting_pool_counts_each_result_and_keeps_their_order() -> None:
    events: list[AuditProgress] = []
    counter = Counter(events.append, "signals", "A", 5)
    with ThreadPoolExecutor(2) as pool:
        counted = CountingPool(pool, counter)
        assert list(counted.map(abs, [-1, 2, -3, 4, -5])) == [1, 2, 3, 4, 5]
        assert counted.submit(abs, -7).result() == 7
    assert [e.done for e in events] == [0, 1, 2, 3, 4, 5]


def test_analyse_corpus_reports_every_phase_with_counts() -> None:
    corpus, signals = _setup()
    events: list[AuditProgress] = []
    # Worker processes, as run_audit uses: threads would share the warning filters that each
    # split's logistic fit sets (catch_warnings is not thread-safe), and scipy's warnings are errors
    # under pytest.
    with worker_pool(2) as pool:
        result = analyse_corpus(corpus, signals, OPTIONS, pool, progress=events.append)
    by_phase: dict[str, list[AuditProgress]] = {}
    for event in events:
        by_phase.setdefault(event.phase, []).append(event)
    assert list(by_phase) == ["signals", "bootstrap", "gain"]
    k = len(signals.signals)
    # every split of every signal, counted one by one as it comes back from the pool
    assert [e.done for e in by_phase["signals"] if e.detail == ""] == [0]
    assert {e.total for e in by_phase["signals"]} == {k * 4}
    assert sorted({e.done for e in by_phase["signals"]}) == list(range(k * 4 + 1))
    assert {e.total for e in by_phase["bootstrap"]} == {2 * k}
    assert by_phase["bootstrap"][-1].done == 2 * k
    # gain: base alone is the base signal's own run here (no NaN: the same rows), so only
    # base + extra is fitted
    assert result.gain is not None
    assert result.gain.baseline_reused is True
    assert {e.total for e in by_phase["gain"]} == {4}
    assert by_phase["gain"][-1].done == 4
    # the CIs computed in the pool are those computed here
    base = next(r for r in result.signals if r.signal.name == "base")
    alone = analyse_signal(corpus, base.signal, OPTIONS, None)
    assert (base.srcc_ci, base.plcc_ci) == (alone.srcc_ci, alone.plcc_ci)


def test_gain_reuses_the_baseline_run_only_when_rows_and_splits_are_the_same() -> None:
    corpus, signals = _setup()
    assert signals.baseline is not None
    own = analyse_signal(corpus, signals.baseline, OPTIONS, None, bootstrap=False)
    reused = analyse_gain(corpus, signals, OPTIONS, None, known=[own])
    refitted = analyse_gain(corpus, signals, OPTIONS, None)
    assert reused is not None
    assert refitted is not None
    assert (reused.baseline_reused, refitted.baseline_reused) == (True, False)
    assert reused.baseline_splits is own.splits
    assert refitted.baseline_splits is not None
    # the same numbers, bit for bit, as the refit
    for metric in ("srcc", "krcc", "plcc", "rmse"):
        got = getattr(reused.baseline_splits, metric)
        want = getattr(refitted.baseline_splits, metric)
        assert got.tobytes() == want.tobytes()
    assert reused.entries[0].delta_srcc.tobytes() == refitted.entries[0].delta_srcc.tobytes()


@pytest.mark.parametrize("why", ["rows", "model"])
def test_gain_refits_the_baseline_when_its_own_run_differs(why: str) -> None:
    # rows: a second opinion misses some rows, so the gain's rows are fewer than the baseline's;
    # model: the baseline's own run used another regressor.
    corpus, signals = _setup(nan_fraction=0.2 if why == "rows" else 0.0)
    assert signals.baseline is not None
    other = build_options(jobs=1, splits=4, bootstrap=0, model="svr") if why == "model" else OPTIONS
    own = analyse_signal(corpus, signals.baseline, other, None, bootstrap=False)
    gain = analyse_gain(corpus, signals, OPTIONS, None, known=[own])
    assert gain is not None
    assert gain.baseline_reused is False
    assert gain.baseline_splits is not own.splits
    if why == "rows":
        assert gain.n < own.n
        assert not np.array_equal(own.rows, own.rows & np.isfinite(corpus.columns["so_extra_f1"]))
