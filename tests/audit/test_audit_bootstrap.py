"""The bootstrap CIs: all resamples fitted at once, checked against the per-resample curve_fit loop
they replace (kept here as the reference), determinism, and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from second_opinion.audit.bootstrap import bootstrap_ci, bootstrap_values, pearson_rows
from second_opinion.audit.metrics import _pearson, evaluate, fit_logistic
from second_opinion.errors import InputError


def _loop_values(x: np.ndarray, y: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """The replaced implementation: ``fit_logistic`` (scipy's ``curve_fit``) on every resample."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(resamples, x.size))
    values = np.full(resamples, np.nan)
    for i in range(resamples):
        xb, yb = x[idx[i]], y[idx[i]]
        if np.ptp(xb) == 0 or np.ptp(yb) == 0:
            continue
        values[i] = _pearson(fit_logistic(xb, yb).predict(xb), yb)
    return values


def _noisy_pairs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    mos = rng.normal(size=60)
    return mos + 0.5 * rng.normal(size=60), mos


def _sigmoid_pairs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 10, size=120)
    mos = 1 + 4 / (1 + np.exp(-(x - 5) / 1.5)) + 0.3 * rng.normal(size=120)
    return x, mos


def _weak_pairs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(9)
    mos = rng.normal(size=300)
    return 0.3 * mos + rng.normal(size=300), mos


def _mc_band(reference: np.ndarray, q: float) -> tuple[float, float]:
    """Where a percentile bootstrap's ``q`` quantile of ``B`` resamples may fall by Monte Carlo
    error alone: between the order statistics ``B·q ∓ 3·sqrt(B·q·(1 − q))`` of the reference
    (the binomial count of resamples below the true quantile has that standard deviation)."""
    ordered = np.sort(reference[np.isfinite(reference)])
    b = ordered.size
    spread = 3.0 * math.sqrt(b * q * (1.0 - q))
    low = int(max(0, math.floor(b * q - spread)))
    high = int(min(b - 1, math.ceil(b * q + spread)))
    return float(ordered[low]), float(ordered[high])


@pytest.mark.parametrize("pairs", [_noisy_pairs, _sigmoid_pairs, _weak_pairs])
def test_batched_plcc_matches_the_curve_fit_loop_within_monte_carlo_error(pairs: object) -> None:
    assert callable(pairs)
    x, mos = pairs()
    resamples = 200
    batched = bootstrap_values(x, mos, "plcc", resamples=resamples, seed=4)
    loop = _loop_values(x, mos, resamples, seed=4)
    # Same resamples, same defined/undefined pattern; per resample the same optimum to 3e-3 in
    # nine of ten (curve_fit stops a little earlier or later in the logistic's flat valleys),
    # another local optimum (a difference over 1e-2) in at most one in twenty.
    assert np.array_equal(np.isnan(batched), np.isnan(loop))
    diff = np.abs(batched - loop)
    assert np.nanquantile(diff, 0.9) < 3e-3
    assert np.mean(diff[np.isfinite(diff)] > 1e-2) <= 0.05
    low, high = bootstrap_ci(x, mos, "plcc", resamples=resamples, seed=4)
    for end, q in ((low, 0.025), (high, 0.975)):
        band = _mc_band(loop, q)
        assert band[0] <= end <= band[1], (end, q, band)


def test_batched_plcc_equals_the_loop_where_the_optimum_is_clear() -> None:
    x, mos = _sigmoid_pairs()
    batched = bootstrap_values(x, mos, "plcc", resamples=50, seed=1)
    loop = _loop_values(x, mos, 50, seed=1)
    np.testing.assert_allclose(batched, loop, atol=1e-4)


def test_plcc_of_a_tiny_table_falls_back_to_the_line() -> None:
    # Three pairs: fewer than the logistic's four parameters; curve_fit refuses, the line's
    # PLCC (|r|) is used on each resample, as fit_logistic does.
    x = np.array([1.0, 2.0, 4.0])
    mos = np.array([1.0, 3.0, 2.0])
    batched = bootstrap_values(x, mos, "plcc", resamples=30, seed=2)
    loop = _loop_values(x, mos, 30, seed=2)
    np.testing.assert_allclose(batched, loop, atol=1e-12)


def test_pearson_rows_matches_numpy_per_row() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 20)), rng.normal(size=(5, 20))
    expected = [np.corrcoef(a[i], b[i])[0, 1] for i in range(5)]
    np.testing.assert_allclose(pearson_rows(a, b), expected, atol=1e-12)
    constant = pearson_rows(np.ones((1, 4)), rng.normal(size=(1, 4)))
    assert np.isnan(constant[0])


def test_bootstrap_is_byte_identical_across_runs_and_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x, mos = _noisy_pairs()
    first = bootstrap_values(x, mos, "plcc", resamples=64, seed=3)
    import second_opinion.audit.bootstrap as module  # noqa: PLC0415

    monkeypatch.setattr(module, "CHUNK_VALUES", 7 * 60)  # 7 resamples per chunk
    chunked = bootstrap_values(x, mos, "plcc", resamples=64, seed=3)
    assert first.tobytes() == chunked.tobytes()


@pytest.mark.parametrize(("metric", "resamples"), [("srcc", 500), ("plcc", 20)])
def test_bootstrap_is_deterministic_and_covers_the_estimate(metric: str, resamples: int) -> None:
    pred, mos = _noisy_pairs()
    assert metric in ("srcc", "plcc")
    first = bootstrap_ci(pred, mos, metric, resamples=resamples, seed=11)  # type: ignore[arg-type]
    again = bootstrap_ci(pred, mos, metric, resamples=resamples, seed=11)  # type: ignore[arg-type]
    other = bootstrap_ci(pred, mos, metric, resamples=resamples, seed=12)  # type: ignore[arg-type]
    assert first == again
    assert first != other
    low, high = first
    estimate = evaluate(pred, mos).srcc if metric == "srcc" else evaluate(pred, mos).plcc
    assert low < estimate < high
    assert high - low < 0.3


def test_bootstrap_level_widens_the_interval() -> None:
    pred, mos = _noisy_pairs()
    low90, high90 = bootstrap_ci(pred, mos, "srcc", resamples=400, level=0.9)
    low99, high99 = bootstrap_ci(pred, mos, "srcc", resamples=400, level=0.99)
    assert low99 <= low90 < high90 <= high99


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "krcc"}, r"unknown metric 'krcc'; use 'srcc' or 'plcc'"),
        ({"metric": "srcc", "resamples": 0}, r"resamples must be at least 1, got 0"),
        ({"metric": "srcc", "level": 1.0}, r"level must lie strictly between 0 and 1, got 1\.0"),
    ],
)
def test_bootstrap_rejects_bad_options(kwargs: dict[str, object], message: str) -> None:
    pred, mos = _noisy_pairs()
    with pytest.raises(InputError, match=message):
        bootstrap_ci(pred, mos, **kwargs)  # type: ignore[arg-type]
