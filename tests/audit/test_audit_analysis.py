"""The audit's analyses (redundancy, Wilcoxon, per-signal metrics, gain, out-of-fold predictions,
cross-corpus) against independent references: scipy, sklearn pipelines built here, hand-computed
cases, and synthetic corpora whose structure is known (tests/_audit_data.py).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped, unused-ignore]
from sklearn.impute import SimpleImputer
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from second_opinion.audit.analysis import (
    CorpusResult,
    GainEntry,
    analyse_corpus,
    analyse_gain,
    analyse_signal,
    redundancy,
)
from second_opinion.audit.corpus import Corpus
from second_opinion.audit.cross import cross_corpus
from second_opinion.audit.crossfit import fit_predict, out_of_fold
from second_opinion.audit.options import AuditOptions, build_options
from second_opinion.audit.protocol import RIDGE_ALPHAS, run_protocol, split_seeds
from second_opinion.audit.run import run_audit
from second_opinion.audit.signals import Signal, SignalSet, SignalSpec, resolve_signals
from second_opinion.audit.wilcoxon import wilcoxon_p
from second_opinion.errors import InputError
from tests._audit_data import (
    BRISQUE_COLUMNS,
    DUPLICATE_COLUMN,
    NIQE_COLUMN,
    Columns,
    corpus_columns,
    gain_columns,
    make_corpus,
    write_corpus,
)

FloatArray = npt.NDArray[np.float64]

FAST = build_options(jobs=1, splits=4, bootstrap=0, model="ridge")


def _spearman(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    return float(stats.spearmanr(x, y).statistic)


def _reference_ridge(x_train: FloatArray, y_train: FloatArray, x_test: FloatArray) -> FloatArray:
    """The protocol's ridge regressor, assembled here from sklearn parts."""
    model = make_pipeline(
        SimpleImputer(strategy="mean"), MinMaxScaler(), RidgeCV(alphas=RIDGE_ALPHAS)
    )
    model.fit(x_train, y_train)
    return np.asarray(model.predict(x_test), dtype=np.float64)


def _split_srcc(x: FloatArray, y: FloatArray, count: int) -> FloatArray:
    """Signed SRCC of a raw score on each protocol test split, computed with scipy."""
    out = []
    for seed in (math.ceil(8.8 * i) for i in range(1, count + 1)):
        _, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=seed)
        out.append(_spearman(x[test], y[test]))
    return np.asarray(out)


# --- redundancy ---------------------------------------------------------------------------------


@st.composite
def _vectors(draw: st.DrawFn) -> tuple[list[FloatArray], float]:
    k = draw(st.integers(2, 4))
    n = draw(st.integers(0, 14))
    # Few distinct values: ties, constant sides and exact ±1 all happen.
    value = st.one_of(st.just(math.nan), st.integers(-3, 3).map(float))
    vectors = [
        np.asarray(draw(st.lists(value, min_size=n, max_size=n)), dtype=np.float64)
        for _ in range(k)
    ]
    threshold = draw(st.sampled_from([0.0, 0.5, 0.95]))
    return vectors, threshold


@settings(max_examples=150, deadline=None)
@given(_vectors())
def test_redundancy_matches_scipy_spearman_over_pairwise_complete_rows(
    drawn: tuple[list[FloatArray], float],
) -> None:
    vectors, threshold = drawn
    names = [f"s{i}" for i in range(len(vectors))]
    found = redundancy(names, vectors, threshold)

    k = len(vectors)
    assert found.signals == tuple(names)
    assert found.threshold == threshold
    assert found.rho.shape == found.pairs.shape == (k, k)
    np.testing.assert_array_equal(np.diag(found.rho), np.ones(k))
    np.testing.assert_array_equal(found.rho, found.rho.T)
    np.testing.assert_array_equal(found.pairs, found.pairs.T)

    expected_flags = set()
    undecided = set()
    for i in range(k):
        assert found.pairs[i, i] == int(np.isfinite(vectors[i]).sum())
        for j in range(i + 1, k):
            both = np.isfinite(vectors[i]) & np.isfinite(vectors[j])
            assert found.pairs[i, j] == int(both.sum())
            a, b = vectors[i][both], vectors[j][both]
            if both.sum() < 3 or len(set(a)) == 1 or len(set(b)) == 1:
                assert math.isnan(found.rho[i, j]), (i, j, a, b)
                continue
            reference = _spearman(a, b)
            assert found.rho[i, j] == pytest.approx(reference, abs=1e-12)
            if abs(abs(reference) - threshold) < 1e-9:
                undecided.add((names[i], names[j]))
            elif abs(reference) > threshold:
                expected_flags.add((names[i], names[j]))
    flagged = {(a, b) for a, b, _ in found.flagged}
    assert flagged - undecided == expected_flags
    for first, second, rho in found.flagged:
        assert rho == found.rho[names.index(first), names.index(second)]
        assert names.index(first) < names.index(second)


def test_redundancy_hand_computed_cases() -> None:
    nan = math.nan
    up = np.array([1.0, 2.0, 3.0, 4.0, 5.0, nan])
    down = np.array([50.0, 40.0, 30.0, 20.0, 10.0, 0.0])  # exactly reversed on the shared rows
    flat = np.array([7.0, 7.0, 7.0, 7.0, 7.0, 7.0])
    sparse = np.array([nan, nan, nan, nan, 1.0, 2.0])  # shares 1 row with `up`, 2 with `down`
    # ranks (1, 2, 3, 4, 5) vs (1, 2, 3.5, 5, 3.5), deviations from 3: (-2, -1, 0, 1, 2) and
    # (-2, -1, 0.5, 2, 0.5): ρ = (4 + 1 + 0 + 2 + 1) / sqrt(10 · 9.5)
    tied = np.array([1.0, 2.0, 4.0, 9.0, 4.0, nan])
    found = redundancy(
        ["up", "down", "flat", "sparse", "tied"], [up, down, flat, sparse, tied], threshold=0.95
    )
    assert found.rho[0, 1] == pytest.approx(-1.0)
    assert found.rho[0, 4] == pytest.approx(8 / math.sqrt(95))
    assert math.isnan(found.rho[0, 2])  # a constant side
    assert math.isnan(found.rho[0, 3])  # one shared row
    assert math.isnan(found.rho[1, 3])  # two shared rows
    assert found.pairs.tolist()[0] == [5, 5, 5, 1, 5]
    assert found.pairs[1, 3] == 2
    assert found.pairs[3, 3] == 2
    assert found.pairs[2, 2] == 6
    assert [(a, b) for a, b, _ in found.flagged] == [("up", "down")]
    assert found.flagged[0][2] == pytest.approx(-1.0)


# --- Wilcoxon -----------------------------------------------------------------------------------


def _scipy_wilcoxon(deltas: FloatArray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.wilcoxon(deltas, zero_method="wilcox").pvalue)


@pytest.mark.parametrize("seed", range(6))
def test_wilcoxon_p_matches_scipy_on_finite_deltas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 40))
    deltas = np.round(rng.normal(loc=0.02 * seed, scale=0.05, size=n), 3)
    deltas[rng.random(n) < 0.15] = 0.0
    with_nan = deltas.copy()
    with_nan[rng.random(n) < 0.2] = np.nan
    assert wilcoxon_p(deltas) == pytest.approx(_scipy_wilcoxon(deltas), rel=1e-12)
    finite = with_nan[np.isfinite(with_nan)]
    assert wilcoxon_p(with_nan) == pytest.approx(_scipy_wilcoxon(finite), rel=1e-12)


def test_wilcoxon_p_hand_computed_exact_cases() -> None:
    # n = 5, all positive: P(T = 0) = 1/32, two-sided 2/32.
    assert wilcoxon_p(np.array([0.1, 0.2, 0.3, 0.4, 0.5])) == pytest.approx(2 / 32)
    # ranks 1..5, the rank-2 one negative: T = 2; subsets of {1..5} summing to ≤ 2: {}, {1}, {2}.
    assert wilcoxon_p(np.array([0.1, -0.2, 0.3, 0.4, 0.5])) == pytest.approx(2 * 3 / 32)


def test_wilcoxon_p_degenerate_inputs() -> None:
    assert wilcoxon_p(np.zeros(7)) == 1.0
    assert wilcoxon_p(np.array([0.0, np.nan, 0.0])) == 1.0
    assert math.isnan(wilcoxon_p(np.full(5, np.nan)))
    assert math.isnan(wilcoxon_p(np.array([], dtype=np.float64)))


# --- GainEntry summaries ------------------------------------------------------------------------


def test_gain_entry_summaries_hand_computed() -> None:
    dummy = run_protocol(np.arange(10.0), np.arange(10.0), splits=1)
    entry = GainEntry(
        "s",
        ("a", "b"),
        dummy,
        delta_srcc=np.array([0.1, -0.05, 0.2, np.nan, 0.0]),
        delta_plcc=np.array([np.nan, np.nan, 0.3, np.nan, 0.1]),
    )
    median, low, high = entry.delta_summary("srcc")
    # finite, sorted: -0.05, 0, 0.1, 0.2; linear quantiles at positions 0.075 and 2.925
    assert median == pytest.approx(0.05)
    assert low == pytest.approx(-0.05 + 0.075 * 0.05)
    assert high == pytest.approx(0.1 + 0.925 * 0.1)
    assert entry.delta_summary("plcc")[0] == pytest.approx(0.2)
    assert entry.win_fraction == pytest.approx(2 / 4)  # a zero delta is no win
    empty = GainEntry("e", ("a",), dummy, np.full(3, np.nan), np.full(3, np.nan))
    assert all(math.isnan(v) for v in empty.delta_summary("srcc"))
    assert math.isnan(empty.win_fraction)
    assert math.isnan(empty.wilcoxon_p)


# --- one signal ---------------------------------------------------------------------------------


def test_training_free_signal_full_and_split_metrics_match_scipy() -> None:
    columns = corpus_columns(60, seed=4, nan_fraction=0.1)
    corpus = make_corpus(columns)
    options = build_options(jobs=1, splits=5, bootstrap=50, model="ridge")
    signal = Signal("niqe", (NIQE_COLUMN,), higher_is_better=False, scorer="niqe")
    result = analyse_signal(corpus, signal, options, None)

    x, y = columns[NIQE_COLUMN], columns["mos"]
    has = np.isfinite(x)
    assert result.n == int(has.sum()) < 60
    np.testing.assert_array_equal(result.rows, has)
    np.testing.assert_array_equal(result.prediction, x[has])
    assert result.full.srcc == pytest.approx(_spearman(x[has], y[has]), abs=1e-12)
    assert result.full.srcc < -0.3  # lower is better
    assert result.full.krcc == pytest.approx(stats.kendalltau(x[has], y[has]).statistic)
    assert result.full.plcc_raw == pytest.approx(stats.pearsonr(x[has], y[has]).statistic)
    assert result.srcc_ci is not None
    assert result.plcc_ci is not None
    assert -1.0 <= result.srcc_ci[0] < result.full.srcc < result.srcc_ci[1] <= 0.0
    assert result.plcc_ci[0] < result.plcc_ci[1]

    per_split = _split_srcc(x[has], y[has], 5)
    np.testing.assert_allclose(result.splits.srcc, per_split, atol=1e-12)
    assert result.splits.summary["srcc"].median == pytest.approx(np.median(np.abs(per_split)))
    assert result.splits.model == "training-free"

    assert result.direction_agrees is True
    upside_down = analyse_signal(corpus, Signal("niqe", (NIQE_COLUMN,), True), FAST, None)
    assert upside_down.direction_agrees is False
    unknown = analyse_signal(corpus, Signal("niqe", (NIQE_COLUMN,)), FAST, None)
    assert unknown.direction_agrees is None


def test_multi_column_signal_is_scored_through_its_out_of_fold_prediction() -> None:
    columns = corpus_columns(60, seed=5, nan_fraction=0.1)
    corpus = make_corpus(columns)
    signal = Signal("brisque", BRISQUE_COLUMNS, higher_is_better=False, scorer="brisque")
    result = analyse_signal(corpus, signal, FAST, None)

    matrix = np.column_stack([columns[c] for c in BRISQUE_COLUMNS])
    has = np.isfinite(matrix).any(axis=1)  # a row with any of the columns counts
    np.testing.assert_array_equal(result.rows, has)
    expected = out_of_fold(matrix[has], columns["mos"][has], folds=5, model="ridge", seed=0)
    np.testing.assert_allclose(result.prediction, expected)
    assert result.full.srcc == pytest.approx(_spearman(expected, columns["mos"][has]))
    assert result.full.srcc > 0.5  # three informative columns
    assert result.srcc_ci is None  # bootstrap=0
    assert result.splits.model == "ridge"
    assert result.direction_agrees is None  # a regressed prediction estimates MOS


# --- out-of-fold and fit_predict ----------------------------------------------------------------


def _features(n: int = 50, seed: int = 0) -> tuple[FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = x @ np.array([1.0, -0.5, 0.2]) + rng.normal(scale=0.3, size=n)
    x[rng.random(x.shape) < 0.05] = np.nan
    return x, y


def test_out_of_fold_predicts_each_row_from_a_model_that_never_saw_it() -> None:
    x, y = _features()
    found = out_of_fold(x, y, folds=5, model="ridge", seed=3)
    assert found.shape == (50,)
    assert np.isfinite(found).all()
    expected = np.full(50, np.nan)
    seen = np.zeros(50, dtype=int)
    for train, test in KFold(n_splits=5, shuffle=True, random_state=3).split(x):
        expected[test] = _reference_ridge(x[train], y[train], x[test])
        seen[test] += 1
    assert (seen == 1).all()
    np.testing.assert_allclose(found, expected, rtol=1e-9, atol=1e-9)


def test_out_of_fold_is_deterministic_per_seed() -> None:
    x, y = _features(seed=1)
    first = out_of_fold(x, y, folds=4, model="ridge", seed=7)
    np.testing.assert_array_equal(first, out_of_fold(x, y, folds=4, model="ridge", seed=7))
    other = out_of_fold(x, y, folds=4, model="ridge", seed=8)
    assert not np.allclose(first, other)
    # the same rows are predicted, only by models fitted on other folds
    assert _spearman(first, other) > 0.9


def test_out_of_fold_with_svr_is_seeded_and_predictive() -> None:
    x, y = _features(n=40, seed=4)
    first = out_of_fold(x, y, folds=4, model="svr", seed=2)
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, out_of_fold(x, y, folds=4, model="svr", seed=2))
    assert not np.array_equal(first, out_of_fold(x, y, folds=4, model="svr", seed=3))
    assert _spearman(first, y) > 0.6  # y is mostly a linear function of x


def test_out_of_fold_needs_two_rows_per_fold() -> None:
    x, y = _features(n=9)
    with pytest.raises(InputError) as caught:
        out_of_fold(x, y, folds=5, model="ridge")
    assert str(caught.value) == "out-of-fold predictions need at least 10 rows for 5 folds; got 9"


def test_fit_predict_matches_a_pipeline_fitted_on_the_training_table() -> None:
    x_train, y_train = _features(n=40, seed=2)
    x_test, _ = _features(n=25, seed=3)
    found = fit_predict(x_train, y_train, x_test, model="ridge")
    np.testing.assert_allclose(found, _reference_ridge(x_train, y_train, x_test), rtol=1e-9)
    one = fit_predict(x_train[:, 0], y_train, x_test[:, 0], model="ridge")
    assert one.shape == (25,)


def test_fit_predict_rejects_tables_with_different_columns() -> None:
    x_train, y_train = _features(n=20)
    with pytest.raises(InputError) as caught:
        fit_predict(x_train[:, :2], y_train, x_train, model="ridge")
    assert str(caught.value) == (
        "fit_predict: the training table has 2 columns and the test table 3; "
        "both need the same columns"
    )


# --- gain ---------------------------------------------------------------------------------------


def _gain_setup(columns: Columns, *second: str) -> tuple[Corpus, SignalSet]:
    corpus = make_corpus(columns)
    specs = [SignalSpec.parse(text) for text in second]
    signals = resolve_signals(corpus, specs, baseline=SignalSpec.parse("base=base_f*"))
    return corpus, signals


GAIN_OPTIONS = build_options(jobs=1, splits=10, bootstrap=0, model="ridge")


def test_gain_of_an_informative_second_opinion_is_positive() -> None:
    corpus, signals = _gain_setup(gain_columns(80, seed=1), "extra=so_extra_*")
    gain = analyse_gain(corpus, signals, GAIN_OPTIONS, None)
    assert gain is not None
    assert gain.note is None
    assert gain.n == 80
    (entry,) = gain.entries
    assert entry.name == "extra"
    assert entry.columns == ("base_f1", "base_f2", "so_extra_f1", "so_extra_f2")
    median, low, high = entry.delta_summary("srcc")
    # MOS is half what the baseline sees and half what the second opinion sees.
    assert median > 0.15
    assert 0.0 < low <= median <= high
    assert entry.delta_summary("plcc")[0] > 0.15
    assert entry.win_fraction == 1.0
    assert entry.wilcoxon_p == pytest.approx(2 / 2**10)  # all 10 splits improve: exact p
    assert gain.combined is None  # one second opinion: no "all"


def test_gain_of_a_noise_second_opinion_is_near_zero() -> None:
    corpus, signals = _gain_setup(gain_columns(80, seed=2, informative=False), "extra=so_extra_*")
    gain = analyse_gain(corpus, signals, GAIN_OPTIONS, None)
    assert gain is not None
    (entry,) = gain.entries
    assert abs(entry.delta_summary("srcc")[0]) < 0.05
    assert entry.win_fraction < 0.9


def test_gain_compares_b_and_b_plus_s_on_the_same_rows_and_splits() -> None:
    columns = gain_columns(60, seed=3, nan_fraction=0.1)
    corpus, signals = _gain_setup(columns, "extra=so_extra_*", "one=so_extra_f1")
    # "one" shares a column with "extra", but neither shares one with the baseline
    options = build_options(jobs=1, splits=5, bootstrap=0, model="ridge")
    gain = analyse_gain(corpus, signals, options, None)
    assert gain is not None
    assert gain.baseline_splits is not None

    def present(names: Sequence[str]) -> npt.NDArray[np.bool_]:
        matrix = np.column_stack([columns[c] for c in names])
        return np.asarray(np.isfinite(matrix).any(axis=1), dtype=np.bool_)

    # the rows that have the baseline and every second opinion
    rows = (
        present(["base_f1", "base_f2"])
        & present(["so_extra_f1", "so_extra_f2"])
        & present(["so_extra_f1"])
    )
    assert gain.n == int(rows.sum()) < 60
    y = columns["mos"][rows]

    def protocol(names: Sequence[str]) -> FloatArray:
        x = np.column_stack([columns[c][rows] for c in names])
        return run_protocol(x, y, splits=5, model="ridge", regress=True).srcc

    alone = protocol(["base_f1", "base_f2"])
    np.testing.assert_allclose(gain.baseline_splits.srcc, alone)
    assert gain.baseline_splits.model == "ridge"  # a baseline is regressed, even one column
    assert [e.name for e in gain.entries] == ["extra", "one"]
    for entry in gain.entries:
        assert entry.splits.seeds == gain.baseline_splits.seeds == tuple(split_seeds(5))
        assert entry.splits.n == gain.n
        np.testing.assert_allclose(entry.delta_srcc, protocol(entry.columns) - alone)
    assert gain.combined is not None
    assert gain.combined.name == "all"
    # so_extra_f1 belongs to two second opinions: it enters "all" once, not twice (a copy would
    # weigh double in the regression's distances).
    assert gain.combined.columns == ("base_f1", "base_f2", "so_extra_f1", "so_extra_f2")
    assert gain.combined.splits.seeds == gain.baseline_splits.seeds
    np.testing.assert_allclose(gain.combined.delta_srcc, protocol(gain.combined.columns) - alone)


def test_gain_without_a_baseline_is_none() -> None:
    corpus = make_corpus(gain_columns(40, seed=4))
    signals = resolve_signals(corpus)
    assert analyse_gain(corpus, signals, FAST, None) is None


def test_gain_note_when_no_signal_qualifies_as_a_second_opinion() -> None:
    corpus = make_corpus(corpus_columns(40, seed=5, brisque=None, niqe=None))
    # without scorer columns, no default signal is a second opinion
    signals = resolve_signals(corpus, baseline=SignalSpec.parse("vmaf=vmaf"))
    assert signals.second_opinions == ()
    gain = analyse_gain(corpus, signals, FAST, None)
    assert gain is not None
    assert gain.entries == ()
    assert gain.combined is None
    assert gain.baseline_splits is None
    assert gain.note is not None
    assert gain.note.startswith("no second opinion")
    assert gain.note.endswith("nothing to add")


def test_gain_note_when_no_second_opinion_is_not_a_double_negative() -> None:
    corpus = make_corpus(corpus_columns(40, seed=5, brisque=None, niqe=None))
    signals = resolve_signals(corpus, baseline=SignalSpec.parse("vmaf=vmaf"))
    gain = analyse_gain(corpus, signals, FAST, None)
    assert gain is not None
    assert gain.note is not None
    assert "no second opinion shares no column" not in gain.note


def test_gain_note_when_too_few_rows_have_every_signal() -> None:
    columns = gain_columns(60, seed=6)
    for name in ("base_f1", "base_f2"):
        columns[name][30:] = np.nan  # the baseline on rows 0..29
    for name in ("so_extra_f1", "so_extra_f2"):
        columns[name][:25] = np.nan  # the second opinion on rows 25..59
    corpus, signals = _gain_setup(columns, "extra=so_extra_*")
    gain = analyse_gain(corpus, signals, FAST, None)
    assert gain is not None
    assert gain.n == 5
    assert gain.entries == ()
    assert gain.baseline_splits is None
    assert gain.note == (
        "only 5 rows have the baseline and every second opinion (at least 10 needed)"
    )


# --- a whole corpus -----------------------------------------------------------------------------


def test_analyse_corpus_flags_the_near_duplicate_and_reports_each_step() -> None:
    corpus = make_corpus(corpus_columns(50, seed=7), name="c")
    signals = resolve_signals(corpus, baseline=SignalSpec.parse("vmaf=vmaf"))
    steps: list[str] = []
    result = analyse_corpus(corpus, signals, FAST, None, steps.append)
    names = [s.signal.name for s in result.signals]
    assert names == ["vmaf", "brisque", "niqe", "vmaf_neg", "psnr_y", DUPLICATE_COLUMN]
    assert steps == [
        "c: vmaf (1 column)",
        "c: brisque (5 columns)",
        "c: niqe (1 column)",
        "c: vmaf_neg (1 column)",
        "c: psnr_y (1 column)",
        f"c: {DUPLICATE_COLUMN} (1 column)",
        "c: gain over baseline vmaf",
    ]
    assert result.redundancy.signals == tuple(names)
    assert [(a, b) for a, b, _ in result.redundancy.flagged] == [("vmaf", DUPLICATE_COLUMN)]
    both = np.isfinite(corpus.columns["vmaf"]) & np.isfinite(corpus.columns[DUPLICATE_COLUMN])
    expected = _spearman(corpus.columns["vmaf"][both], corpus.columns[DUPLICATE_COLUMN][both])
    assert result.redundancy.flagged[0][2] == pytest.approx(expected)
    assert result.gain is not None
    assert [e.name for e in result.gain.entries] == ["brisque", "niqe"]
    assert result.gain.combined is not None  # two second opinions: "all"
    assert result.gain.combined.columns == ("vmaf", *BRISQUE_COLUMNS, NIQE_COLUMN)


# --- cross-corpus -------------------------------------------------------------------------------


def _analysed(columns: Columns, name: str, options: AuditOptions) -> CorpusResult:
    corpus = make_corpus(columns, name=name)
    return analyse_corpus(corpus, resolve_signals(corpus), options, None)


def test_cross_corpus_matrices() -> None:
    options = build_options(jobs=1, splits=3, bootstrap=0, model="ridge")
    tables = {
        "a": corpus_columns(50, seed=11),
        "b": corpus_columns(40, seed=12, niqe=None),  # no niqe: skipped
        "c": corpus_columns(45, seed=13),
    }
    tables["c"].pop(BRISQUE_COLUMNS[-1])  # brisque has other columns in c: skipped
    results = [_analysed(columns, name, options) for name, columns in tables.items()]
    cross = cross_corpus(results, options)

    assert [c.signal for c in cross] == ["vmaf", "vmaf_neg", "psnr_y", DUPLICATE_COLUMN]
    for item in cross:
        assert item.corpora == ("a", "b", "c")
        assert item.srcc.shape == (3, 3)
        assert item.training_free
        for j, test_name in enumerate(item.corpora):
            columns = tables[test_name]
            x, y = columns[item.signal], columns["mos"]
            has = np.isfinite(x)
            # the diagonal: the within-corpus median SRCC over the splits (signed)
            assert item.srcc[j, j] == pytest.approx(np.median(_split_srcc(x[has], y[has], 3)))
            # off the diagonal, a training-free signal ignores the training corpus
            full = _spearman(x[has], y[has])
            for i in range(3):
                if i != j:
                    assert item.srcc[i, j] == pytest.approx(full, abs=1e-12)


def test_cross_corpus_regresses_a_multi_column_signal_on_the_training_corpus() -> None:
    options = build_options(jobs=1, splits=3, bootstrap=0, model="ridge")
    tables = {"a": corpus_columns(50, seed=21), "b": corpus_columns(40, seed=22)}
    results = [_analysed(columns, name, options) for name, columns in tables.items()]
    (brisque,) = [c for c in cross_corpus(results, options) if c.signal == "brisque"]
    assert not brisque.training_free
    assert brisque.columns == BRISQUE_COLUMNS

    def rows(name: str) -> tuple[FloatArray, FloatArray]:
        x = np.column_stack([tables[name][c] for c in BRISQUE_COLUMNS])
        has = np.isfinite(x).any(axis=1)
        return x[has], tables[name]["mos"][has]

    (xa, ya), (xb, yb) = rows("a"), rows("b")
    assert brisque.srcc[0, 1] == pytest.approx(_spearman(_reference_ridge(xa, ya, xb), yb))
    assert brisque.srcc[1, 0] == pytest.approx(_spearman(_reference_ridge(xb, yb, xa), ya))
    assert brisque.srcc[0, 1] > 0.5  # the same structure generalises
    for i, result in enumerate(results):
        (signal,) = [s for s in result.signals if s.signal.name == "brisque"]
        assert brisque.srcc[i, i] == pytest.approx(float(np.median(signal.splits.srcc)))


def test_the_audit_keeps_cross_corpus_grids_for_trained_signals_only(tmp_path: Path) -> None:
    """A training-free signal's grid repeats its full-table SRCC in every row: not reported."""
    options = build_options(jobs=1, splits=3, bootstrap=0, model="ridge")
    tables = {"a": corpus_columns(50, seed=41), "b": corpus_columns(40, seed=42)}
    paths = [f"{name}={write_corpus(tmp_path / f'{name}.csv', c)}" for name, c in tables.items()]
    result = run_audit(paths, options)
    every = {s.signal.name: s.signal.training_free for s in result.corpora[0].signals}
    assert any(every.values()), "the corpora must have training-free signals to leave out"
    assert [c.signal for c in result.cross] == [n for n, free in every.items() if not free]
    assert [c.signal for c in result.cross] == ["brisque"]
    assert not any(c.training_free for c in result.cross)


def test_cross_corpus_needs_two_corpora() -> None:
    result = _analysed(corpus_columns(30, seed=31), "only", FAST)
    assert cross_corpus([result], FAST) == ()
