"""Fidelity to the UGC-VQA benchmark's procedure (Tu et al., ``evaluate_bvqa_features.py``).

The benchmark is re-implemented here, independently of ``second_opinion.audit``: its logistic
written as there (``np.exp``, not a stable sigmoid), ``curve_fit`` with its ``p0`` and
``maxfev = 1e8``, scipy's ``spearmanr``/``kendalltau``/``pearsonr``, ``train_test_split`` with
its seeds, and the median of the **signed** per-split values reported as a magnitude. The
signals are synthetic: some flip sign across splits (no correlation at all), some are weak
(|SRCC| ≈ 0.24 over 1,000 clips), which KoNViD-1k's published figures do not exercise.

Everything agrees to rounding (well inside the 1e-6 asked for): the package's logistic is the
benchmark's arithmetic, so ``curve_fit`` takes the same path. (A stable sigmoid, as before, moved
a fit on a sign-flipping signal to another optimum: PLCC 3e-4 away on one split.)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats  # type: ignore[import-untyped, unused-ignore]
from scipy.optimize import curve_fit  # type: ignore[import-untyped, unused-ignore]
from sklearn.model_selection import train_test_split

from second_opinion.audit.analysis import analyse_corpus
from second_opinion.audit.metrics import fit_logistic
from second_opinion.audit.options import build_options
from second_opinion.audit.protocol import ProtocolResult, run_protocol
from second_opinion.audit.signals import resolve_signals
from tests._audit_data import corpus_columns, make_corpus

FloatArray = npt.NDArray[np.float64]

SPLITS = 20


def _bench_logistic(x: FloatArray, b1: float, b2: float, b3: float, b4: float) -> FloatArray:
    """The benchmark's ``logistic_func``, as written there."""
    part = 1 + np.exp(np.negative(np.divide(x - b3, np.abs(b4))))
    out: FloatArray = b2 + np.divide(b1 - b2, part)
    return out


def _bench_metrics(y_pred: FloatArray, y: FloatArray) -> tuple[float, float, float, float]:
    """The benchmark's ``compute_metrics``: SRCC, KRCC, then PLCC and RMSE after its fit."""
    srcc = float(stats.spearmanr(y, y_pred)[0])
    krcc = float(stats.kendalltau(y, y_pred)[0])
    beta_init = [np.max(y), np.min(y), np.mean(y_pred), 0.5]
    popt, _ = curve_fit(_bench_logistic, y_pred, y, p0=beta_init, maxfev=int(1e8))
    mapped = _bench_logistic(y_pred, *popt)
    plcc = float(stats.pearsonr(y, mapped)[0])
    rmse = float(np.sqrt(np.mean((y - mapped) ** 2)))
    return srcc, krcc, plcc, rmse


def _bench_splits(x: FloatArray, y: FloatArray) -> FloatArray:
    """Per split (``random_state = ceil(8.8 i)``): the test part's metrics, one row each."""
    rows = []
    with warnings.catch_warnings(), np.errstate(over="ignore"):
        warnings.simplefilter("ignore")  # the benchmark runs through overflow and covariance
        for i in range(1, SPLITS + 1):
            _, x_test, _, y_test = train_test_split(
                x, y, test_size=0.2, random_state=math.ceil(8.8 * i)
            )
            rows.append(_bench_metrics(np.asarray(x_test), np.asarray(y_test)))
    return np.asarray(rows)


def _signal(seed: int, strength: float, n: int) -> tuple[FloatArray, FloatArray]:
    """MOS uniform on [1, 5] and a score ``strength · (MOS − 3) + N(0, 1)``."""
    rng = np.random.default_rng(seed)
    mos = rng.uniform(1.0, 5.0, size=n)
    return strength * (mos - 3.0) + rng.normal(size=n), mos


def _assert_agrees(ours: ProtocolResult, reference: FloatArray) -> None:
    found = np.column_stack([ours.srcc, ours.krcc, ours.plcc, ours.rmse])
    np.testing.assert_allclose(found[:, :2], reference[:, :2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(found[:, 2:], reference[:, 2:], rtol=0, atol=1e-9)
    for i, metric in enumerate(("srcc", "krcc", "plcc")):
        published = abs(float(np.median(reference[:, i])))  # the signed median's magnitude
        assert ours.summary[metric].median == pytest.approx(published, abs=1e-9)
        assert ours.summary[metric].std == pytest.approx(np.std(reference[:, i]), abs=1e-9)
    assert ours.summary["rmse"].median == pytest.approx(np.median(reference[:, 3]), abs=1e-9)


def test_a_signal_that_flips_sign_is_not_inflated() -> None:
    x, mos = _signal(16, 0.0, 300)  # no correlation: SRCC is positive on half the splits
    reference = _bench_splits(x, mos)
    ours = run_protocol(x, mos, splits=SPLITS)
    assert int(np.sum(reference[:, 0] > 0)) == SPLITS // 2
    _assert_agrees(ours, reference)
    # Magnitudes first would report ~27 times the benchmark's figure.
    assert ours.summary["srcc"].median < 0.002
    assert float(np.median(np.abs(reference[:, 0]))) > 0.04


@pytest.mark.parametrize(("seed", "strength"), [(5, 0.2), (2, -0.28)])
def test_a_weak_signal_matches_the_benchmark_fit(seed: int, strength: float) -> None:
    x, mos = _signal(seed, strength, 1000)
    reference = _bench_splits(x, mos)
    assert 0.2 < abs(float(np.median(reference[:, 0]))) < 0.33  # |SRCC| ≈ 0.24-0.3: weak
    ours = run_protocol(x, mos, splits=SPLITS)
    _assert_agrees(ours, reference)
    assert ours.direction == (1 if strength > 0 else -1)
    assert "fallback" not in ours.fit_flags  # the benchmark's fit never fails here


def test_a_lower_is_better_signal_is_a_magnitude_with_its_direction() -> None:
    x, mos = _signal(1, -0.8, 400)
    ours = run_protocol(x, mos, splits=5)
    assert ours.direction == -1
    assert all(ours.srcc < 0)  # per split, the sign is kept
    for metric in ("srcc", "krcc", "plcc"):
        assert ours.summary[metric].median > 0.3  # the summary is a magnitude


def test_a_step_like_fit_is_flagged() -> None:
    # Two clusters of scores, MOS jumping between them: the best logistic is a step.
    x = np.concatenate([np.linspace(0.0, 1.0, 20), np.linspace(9.0, 10.0, 20)])
    mos = np.concatenate([np.full(20, 2.0), np.full(20, 4.0)])
    mos = mos + np.random.default_rng(0).normal(scale=0.05, size=40)
    fit = fit_logistic(x, mos)
    assert fit.fitted
    assert fit.flag == "step-like"
    assert fit.note is not None
    assert fit.note.startswith("step-like logistic: its rise (5-95 %")
    assert "holds 0 of 40 points, so the mapping is a step" in fit.note


def test_a_smooth_fit_beyond_the_data_is_not_flagged() -> None:
    x = np.linspace(0.0, 1.0, 50)
    fit = fit_logistic(x, np.exp(x))  # the data on the lower tail of a wide logistic
    assert fit.fitted
    assert (fit.flag, fit.note) == (None, None)


def test_fallbacks_and_small_test_splits_are_warned() -> None:
    x, mos = _signal(3, 1.0, 15)  # 3 rows per test split: too few to fit four parameters
    ours = run_protocol(x, mos, splits=4)
    assert ours.test_rows == 3
    assert ours.fit_flags == ("fallback",) * 4
    small = (
        "test splits hold only 3 rows (fewer than 30): per-split correlations are noisy; "
        "audit a larger corpus before ranking on them"
    )
    fallback = (
        "the logistic fit fell back to a linear fit in 4 of 4 splits "
        "(PLCC and RMSE there are less comparable)"
    )
    assert ours.warnings == (small, fallback)
    assert ours.fit_warnings == (fallback,)
    large = run_protocol(*_signal(3, 1.0, 150), splits=2)
    assert large.test_rows == 30
    assert large.warnings == ()


def test_a_corpus_lists_its_warnings() -> None:
    corpus = make_corpus(corpus_columns(60, seed=3, brisque=None, niqe=None))
    signals = resolve_signals(corpus)
    options = build_options(jobs=1, splits=3, bootstrap=0, model="ridge")
    result = analyse_corpus(corpus, signals, options, None)
    rows = {s.signal.name: s.splits.test_rows for s in result.signals}
    assert set(rows.values()) == {11, 12}  # vmaf_neg misses a few values
    listed = ", ".join(f"{name} ({count})" for name, count in rows.items())
    assert result.warnings[0] == f"test splits under 30 rows (rows per test split): {listed}"
    for line in result.warnings[1:]:
        assert "logistic" in line
