"""The audit metrics: values against scipy and hand computations, NaN handling, errors."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from second_opinion.audit.metrics import (
    LogisticFit,
    MetricSet,
    evaluate,
    fit_logistic,
    krcc,
    logistic4,
    plcc,
    rmse,
    srcc,
    summarize,
)
from second_opinion.errors import InputError


def _kendall_tau_b_brute(x: list[float], y: list[float]) -> float:
    """Tau-b by counting every pair: the definition, independent of scipy."""
    p = q = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        sx = np.sign(x[i] - x[j])
        sy = np.sign(y[i] - y[j])
        if sx == 0 and sy == 0:
            continue
        if sx == 0:
            tx += 1
        elif sy == 0:
            ty += 1
        elif sx == sy:
            p += 1
        else:
            q += 1
    return (p - q) / math.sqrt((p + q + tx) * (p + q + ty))


# Values on a 1e-3 grid: distinct values never sit so close that Pearson is ill-conditioned.
_value = st.integers(-100_000, 100_000).map(lambda v: v / 1000)


@st.composite
def _paired(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    n = draw(st.integers(3, 15))
    x = draw(st.lists(_value, min_size=n, max_size=n))
    y = draw(st.lists(_value, min_size=n, max_size=n))
    assume(len(set(x)) >= 3 and len(set(y)) >= 3)
    return x, y


@settings(max_examples=60, deadline=None)
@given(_paired())
def test_correlations_match_scipy(pair: tuple[list[float], list[float]]) -> None:
    x, y = pair
    xa, ya = np.array(x), np.array(y)
    assert srcc(xa, ya) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-9)
    assert krcc(xa, ya) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-9)
    assert krcc(xa, ya) == pytest.approx(_kendall_tau_b_brute(x, y), abs=1e-9)
    assert plcc(xa, ya) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-9)


@pytest.mark.parametrize("metric", [srcc, krcc, plcc])
def test_perfectly_monotone_is_one_and_reversed_is_minus_one(metric: object) -> None:
    assert callable(metric)
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert metric(x, 2 * x + 1) == pytest.approx(1.0)
    assert metric(x, -x) == pytest.approx(-1.0)


def test_rank_correlations_ignore_monotone_distortion() -> None:
    x = np.array([0.1, 0.5, 1.0, 2.0, 7.0])
    assert srcc(x, np.exp(x)) == pytest.approx(1.0)
    assert krcc(x, x**3) == pytest.approx(1.0)
    assert plcc(x, np.exp(x)) < 0.99


def test_four_point_example_by_hand() -> None:
    # dx = dy-order = [-1.5, -0.5, 0.5, 1.5] vs [-1.5, 0.5, -0.5, 1.5]: Σdxdy = 4, Σdx² = Σdy² = 5.
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 3.0, 2.0, 4.0])
    assert plcc(x, y) == pytest.approx(0.8)
    assert srcc(x, y) == pytest.approx(0.8)
    # 5 concordant pairs, 1 discordant (the 2↔3 swap): (5 − 1) / 6.
    assert krcc(x, y) == pytest.approx(2 / 3)
    # Differences [0, −1, 1, 0]: sqrt(2 / 4).
    assert rmse(x, y) == pytest.approx(math.sqrt(0.5))


def test_kendall_tau_b_with_ties_by_hand() -> None:
    # P = 4, Q = 0, one pair tied only in x, one tied only in y: 4 / sqrt(5 · 5).
    x = np.array([1.0, 2.0, 2.0, 3.0])
    y = np.array([1.0, 2.0, 3.0, 3.0])
    assert krcc(x, y) == pytest.approx(0.8)


def test_nan_pairs_are_dropped() -> None:
    x = np.array([1.0, np.nan, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1.0, 9.0, 3.0, 2.0, np.nan, 4.0])
    clean_x, clean_y = np.array([1.0, 2.0, 3.0, 5.0]), np.array([1.0, 3.0, 2.0, 4.0])
    for metric in (srcc, krcc, plcc, rmse):
        assert metric(x, y) == pytest.approx(metric(clean_x, clean_y))
    assert plcc(x, y) == pytest.approx(stats.pearsonr(clean_x, clean_y).statistic)
    assert evaluate(x, y).n == 4


@pytest.mark.parametrize("metric", [srcc, krcc, plcc, rmse])
def test_too_few_pairs_raise(metric: object) -> None:
    assert callable(metric)
    x = np.array([1.0, 2.0, np.nan, 4.0])
    y = np.array([1.0, 2.0, 3.0, np.nan])
    with pytest.raises(InputError, match=r"only 2 complete pair\(s\) of x and y \(2 of 4 dropped"):
        metric(x, y)


@pytest.mark.parametrize("metric", [srcc, krcc, plcc])
def test_constant_side_raises_and_names_it(metric: object) -> None:
    assert callable(metric)
    varied = np.array([1.0, 2.0, 3.0, 4.0])
    constant = np.full(4, 2.5)
    with pytest.raises(InputError, match=r"y is constant \(all 4 values equal 2\.5\)"):
        metric(varied, constant)
    with pytest.raises(InputError, match=r"x is constant"):
        metric(constant, varied)


def test_evaluate_names_prediction_and_mos_in_messages() -> None:
    with pytest.raises(InputError, match=r"^evaluate: prediction is constant"):
        evaluate(np.ones(5), np.arange(5.0))
    with pytest.raises(InputError, match=r"prediction has 3 values but mos has 4"):
        evaluate(np.ones(3), np.arange(4.0))


def test_rmse_allows_a_constant_baseline() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert rmse(np.full(4, 2.5), y) == pytest.approx(np.std(y))


def test_infinite_values_raise() -> None:
    with pytest.raises(InputError, match=r"x holds 1 infinite value"):
        plcc(np.array([1.0, np.inf, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 4.0]))


def test_logistic4_formula() -> None:
    x = np.array([-1.0, 2.0, 5.0])
    expected = 1.0 + (5.0 - 1.0) / (1.0 + np.exp(-(x - 2.0) / 0.5))
    np.testing.assert_allclose(logistic4(x, 5.0, 1.0, 2.0, -0.5), expected)
    # Far from the midpoint it saturates at b2 / b1 without overflow warnings.
    np.testing.assert_allclose(logistic4(np.array([-1e6, 1e6]), 5.0, 1.0, 0.0, 1e-3), [1, 5])


def test_fit_logistic_recovers_known_parameters() -> None:
    x = np.linspace(0.0, 10.0, 50)
    mos = logistic4(x, 4.6, 1.2, 4.2, 1.3)
    fit = fit_logistic(x, mos)
    assert fit.fitted
    assert fit.note is None
    b1, b2, b3, b4 = fit.params
    assert (b1, b2, b3, abs(b4)) == pytest.approx((4.6, 1.2, 4.2, 1.3), abs=1e-3)
    np.testing.assert_allclose(fit.predict(x), mos, atol=1e-6)


def test_fit_logistic_falls_back_to_a_line_with_three_points() -> None:
    fit = fit_logistic(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    assert not fit.fitted
    assert fit.note is not None
    assert "fell back to a linear least-squares fit" in fit.note
    assert "TypeError" in fit.note  # 3 points cannot determine 4 parameters
    assert fit.flag == "fallback"
    assert fit.params == pytest.approx((1.5, -2 / 3))
    np.testing.assert_allclose(fit.predict(np.array([0.0, 2.0])), [-2 / 3, 7 / 3])


def test_fit_logistic_keeps_a_flat_fit_on_constant_mos_without_warning() -> None:
    # scipy cannot estimate the covariance here (OptimizeWarning); the benchmark keeps the fit,
    # and so do we: b1 = b2 = the MOS, a flat mapping, with no warning escaping.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_logistic(np.arange(10.0), np.full(10, 3.0))
    assert fit.fitted
    assert (fit.flag, fit.note) == (None, None)
    assert fit.params[:2] == pytest.approx((3.0, 3.0))
    np.testing.assert_allclose(fit.predict(np.array([0.0, 100.0])), [3.0, 3.0], atol=1e-9)


def test_logistic_fit_is_a_plain_dataclass() -> None:
    fit = LogisticFit(params=(2.0, 1.0), fitted=False, note="n")
    np.testing.assert_allclose(fit.predict(np.array([1.0, 3.0])), [3.0, 7.0])


def test_evaluate_follows_the_protocol() -> None:
    rng = np.random.default_rng(7)
    pred = np.linspace(0.0, 10.0, 40)
    mos = logistic4(pred, 4.5, 1.0, 5.0, 1.5) + rng.normal(scale=0.1, size=pred.size)
    result = evaluate(-pred, mos)  # a "lower is better" score
    assert isinstance(result, MetricSet)
    assert result.n == 40
    # Rank correlations keep the sign of the raw prediction.
    assert result.srcc == pytest.approx(srcc(-pred, mos))
    assert result.srcc < -0.9
    assert result.krcc == pytest.approx(krcc(-pred, mos))
    assert result.plcc_raw == pytest.approx(plcc(-pred, mos))
    assert result.plcc_raw < 0
    # PLCC and RMSE are taken after the logistic mapping.
    fit = fit_logistic(-pred, mos)
    mapped = fit.predict(-pred)
    assert result.logistic_fitted == fit.fitted
    assert result.plcc == pytest.approx(plcc(mapped, mos))
    assert result.plcc > abs(result.plcc_raw)
    assert result.rmse == pytest.approx(rmse(mapped, mos))
    assert result.rmse < 0.2
    as_dict = result.to_dict()
    assert list(as_dict) == [
        "n",
        "srcc",
        "krcc",
        "plcc",
        "plcc_raw",
        "rmse",
        "logistic_fitted",
        "note",
        "fit_flag",
    ]
    assert as_dict["fit_flag"] is None
    assert as_dict["n"] == 40


def test_evaluate_reports_the_fallback() -> None:
    result = evaluate(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    assert not result.logistic_fitted
    assert result.note is not None
    assert "linear" in result.note
    assert result.fit_flag == "fallback"
    # The linear mapping leaves Pearson's r unchanged.
    assert result.plcc == pytest.approx(result.plcc_raw)


def test_summarize_ignores_nan_and_uses_population_std() -> None:
    # [1, 2, 3, 10]: median 2.5; mean 4, squared deviations 9 + 4 + 1 + 36 = 50, 50 / 4.
    result = summarize(np.array([1.0, np.nan, 3.0, 2.0, 10.0]))
    assert result == pytest.approx({"median": 2.5, "std": math.sqrt(12.5)})


def test_summarize_of_nothing_is_nan() -> None:
    result = summarize(np.array([np.nan, np.nan]))
    assert set(result) == {"median", "std"}
    assert math.isnan(result["median"])
    assert math.isnan(result["std"])
