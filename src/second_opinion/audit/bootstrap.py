"""Percentile bootstrap confidence intervals of SRCC and PLCC, computed over all resamples at once.

A resample draws the complete pairs with replacement (``numpy.random.default_rng(seed)``, one
``(resamples, n)`` index matrix). SRCC is Pearson's r of each resample's average ranks.

PLCC needs the four-parameter logistic (:func:`~second_opinion.audit.metrics.logistic4`)
refitted on every resample. Calling ``curve_fit`` once per resample took seconds to minutes (a
thousand Python-level optimisations with ``maxfev = 1e8``); here every resample is fitted at
once in NumPy arrays:

* For a fixed shape (midpoint ``b3``, scale ``|b4|``) the best ``b1``, ``b2`` are the
  least-squares line of MOS on the sigmoid, so only the shape is searched (variable projection):
  the squared error is ``Syy − (s·y)²/(s·s)`` over the centred sigmoid ``s``, and PLCC after the
  fitted logistic is ``sqrt(1 − SSE/Syy)``.
* Each resample starts from the best (smallest SSE) of: the benchmark's own start
  (``b3 = mean(x)``, ``|b4| = 0.5``), the shape fitted on all pairs, and a coarse grid over the
  resample's range of ``x`` (:data:`GRID_MIDPOINTS` × :data:`GRID_SCALES`); then
  Levenberg–Marquardt in ``(b3, log |b4|)`` with Kaufman's Jacobian and a trust region, each
  resample stopping on its own (:data:`TOLERANCE`, :data:`MAX_ITERATIONS`).
* A resample where a side is constant is skipped; one whose sigmoid comes out constant takes the
  least-squares line's PLCC (``|r|``), as :func:`~second_opinion.audit.metrics.fit_logistic`
  falls back to the line.

``curve_fit`` finds one local optimum from one start; the grid start finds the same or a better
one. On tables of 60 rows and more the per-resample PLCC agrees with the ``curve_fit`` loop to
~1e-4 and the interval's ends within the Monte Carlo error of a percentile bootstrap (a test
compares both on the same resamples); on a dozen rows, where ``curve_fit`` often stops far from
the optimum, the lower end can be higher (docs/audit.md).

Everything is element-wise arithmetic and sums over rows, with no BLAS call whose result could
depend on a thread count: the interval is the same bit for bit on every run and in every process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped, unused-ignore]
from scipy.special import expit  # type: ignore[import-untyped, unused-ignore]

from second_opinion.audit.metrics import BootstrapMetric, _pairs, fit_logistic
from second_opinion.errors import InputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_ITERATIONS = 300
"""Levenberg–Marquardt iterations per resample before its current parameters are taken."""

TOLERANCE = 1e-6
"""A row stops when an accepted step reduces its squared error by at most this share (and the
linear model predicted no more), or moves the parameters by at most this share: the PLCC is
then settled to about 1e-6, a thousandth of a bootstrap interval's Monte Carlo error."""

CHUNK_VALUES = 2_000_000
"""Resamples are fitted in chunks of at most this many values (rows × resamples)."""


def pearson_rows(x: FloatArray, y: FloatArray) -> FloatArray:
    """Pearson's r of each row pair of two 2-D arrays; NaN for rows without variation."""
    dx = x - x.mean(axis=1, keepdims=True)
    dy = y - y.mean(axis=1, keepdims=True)
    num = (dx * dy).sum(axis=1)
    denom = np.sqrt((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))
    out = np.full(num.shape, np.nan)
    ok = denom > 0
    out[ok] = np.clip(num[ok] / denom[ok], -1.0, 1.0)
    return out


def _shape(x: FloatArray, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The sigmoid ``expit((x − b3)/s)`` of each row, ``theta = (b3, log s)``, and its argument."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        u = (x - theta[:, 0:1]) / np.exp(theta[:, 1:2])
    sig: FloatArray = expit(u)
    return sig, u


def _centred(v: FloatArray) -> FloatArray:
    out: FloatArray = v - v.mean(axis=1, keepdims=True)
    return out


def _sse(sig: FloatArray, yc: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The least-squares affine fit of ``y`` on ``sig`` per row: SSE, slope and centred ``sig``."""
    sc = _centred(sig)
    ss = (sc * sc).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (sc * yc).sum(axis=1) / ss
    sse = (yc * yc).sum(axis=1) - slope * (sc * yc).sum(axis=1)
    sse = np.where(ss > 0, np.maximum(sse, 0.0), np.nan)
    return sse, slope, sc


def fit_shape_batch(x: FloatArray, y: FloatArray, start: FloatArray) -> FloatArray:
    """SSE-minimising ``(b3, log |b4|)`` of :func:`logistic4` for each row of ``x``/``y``.

    For a fixed shape ``(b3, |b4|)`` the best ``b1``, ``b2`` are a least-squares line of ``y`` on
    the sigmoid, so only the shape is searched (variable projection, with Kaufman's Jacobian):
    Levenberg–Marquardt from ``start`` (shape (2,) or (rows, 2)); rows stop independently, as
    MINPACK does. Returns the SSE of each row's fit (NaN where the sigmoid came out constant).
    """
    rows = x.shape[0]
    theta = np.array(np.broadcast_to(start, (rows, 2)), dtype=np.float64)
    yc = _centred(y)
    sse, _, _ = _sse(_shape(x, theta)[0], yc)
    lam = np.full(rows, 1e-3)
    span = np.ptp(x, axis=1)
    active = np.isfinite(sse)
    for _ in range(MAX_ITERATIONS):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        xa, ya, ta = x[idx], yc[idx], theta[idx]
        sig, u = _shape(xa, ta)
        _, slope, sc = _sse(sig, ya)
        ss = (sc * sc).sum(axis=1, keepdims=True)
        residual = ya - slope[:, None] * sc
        rise = slope[:, None] * sig * (1.0 - sig)
        jac = []
        for d in (rise / np.exp(ta[:, 1:2]), rise * u):  # −∂fitted/∂b3, −∂fitted/∂log s
            dc = _centred(d)
            jac.append(dc - (sc * dc).sum(axis=1, keepdims=True) / ss * sc)
        j0, j1 = jac
        a00, a01, a11 = (j0 * j0).sum(axis=1), (j0 * j1).sum(axis=1), (j1 * j1).sum(axis=1)
        g0, g1 = (j0 * residual).sum(axis=1), (j1 * residual).sum(axis=1)
        damping = lam[idx]
        d00, d11 = a00 * (1.0 + damping), a11 * (1.0 + damping)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            det = d00 * d11 - a01 * a01
            step = -np.column_stack([(d11 * g0 - a01 * g1) / det, (d00 * g1 - a01 * g0) / det])
            ok = np.isfinite(step).all(axis=1) & (det > 0)
            step[~ok] = 0.0
            # A trust region: the scale changes at most e-fold, the midpoint by at most the
            # data's range plus the scale (else one step can leap onto the linear plateau).
            reach = np.column_stack([span[idx] + np.exp(ta[:, 1]), np.ones(idx.size)])
            shrink = np.minimum(1.0, (reach / np.maximum(np.abs(step), 1e-300)).min(axis=1))
            step *= shrink[:, None]
            trial = ta + step
            trial_sse, _, _ = _sse(_shape(xa, trial)[0], ya)
        better = ok & np.isfinite(trial_sse) & (trial_sse < sse[idx])
        gain = np.where(better, sse[idx] - trial_sse, 0.0)
        # MINPACK's ftol test: both the actual and the predicted reduction are tiny.
        predicted = -(2.0 * (g0 * step[:, 0] + g1 * step[:, 1]) + a00 * step[:, 0] ** 2)
        predicted -= 2.0 * a01 * step[:, 0] * step[:, 1] + a11 * step[:, 1] ** 2
        limit = TOLERANCE * sse[idx]
        small_f = better & (gain <= limit) & (predicted <= limit)
        small_x = better & (np.abs(step).max(axis=1) <= TOLERANCE * (np.abs(ta).max(axis=1) + 1.0))
        theta[idx[better]] = trial[better]
        sse[idx[better]] = trial_sse[better]
        lam[idx] = np.where(better, damping / 10.0, damping * 10.0)
        broken = ~np.isfinite(a00 + a01 + a11 + g0 + g1)
        done = small_f | small_x | broken | (lam[idx] > 1e16) | (sse[idx] == 0)
        active[idx[done]] = False
    return sse


GRID_MIDPOINTS = (-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5)
"""Midpoints tried for a start, as fractions of each resample's range of ``x`` from its minimum."""
GRID_SCALES = (1 / 16, 1 / 4, 1.0, 4.0)
"""Scales ``|b4|`` tried for a start, as fractions of each resample's range of ``x``."""


def _best_start(x: FloatArray, y: FloatArray, extra: list[FloatArray]) -> FloatArray:
    """Per row, the ``(b3, log |b4|)`` with the smallest SSE among ``extra`` (each (2,) or
    (rows, 2)) and a coarse grid over each row's range of ``x``."""
    low = x.min(axis=1)
    span = np.ptp(x, axis=1)
    yc = _centred(y)
    candidates = [np.broadcast_to(e, (x.shape[0], 2)) for e in extra]
    candidates += [
        np.column_stack([low + mid * span, np.log(scale * span)])
        for mid in GRID_MIDPOINTS
        for scale in GRID_SCALES
    ]
    best = np.full(x.shape[0], np.inf)
    start = np.array(candidates[0], dtype=np.float64)
    for theta in candidates:
        sse, _, _ = _sse(_shape(x, theta)[0], yc)
        take = np.isfinite(sse) & (sse < best)
        best[take] = sse[take]
        start[take] = theta[take]
    return start


def _plcc_values(xb: FloatArray, yb: FloatArray, starts: list[FloatArray]) -> FloatArray:
    """PLCC after the logistic refitted on each resample (NaN where undefined), fitted from the
    best of ``starts`` (each (2,) or (rows, 2)) and a coarse grid (:func:`_best_start`)."""
    values = np.full(xb.shape[0], np.nan)
    varied = (np.ptp(xb, axis=1) > 0) & (np.ptp(yb, axis=1) > 0)
    linear = np.abs(pearson_rows(xb, yb))  # the least-squares line's PLCC
    if xb.shape[1] < 4:  # fewer points than parameters: curve_fit refuses, the line is used
        values[varied] = linear[varied]
        return values
    chunk = max(1, CHUNK_VALUES // xb.shape[1])
    for first in range(0, xb.shape[0], chunk):
        part = slice(first, first + chunk)
        x, y = xb[part], yb[part]
        extra = [s if s.ndim == 1 else s[part] for s in starts]
        with np.errstate(divide="ignore", invalid="ignore"):
            sse = fit_shape_batch(x, y, _best_start(x, y, extra))
            yc = _centred(y)
            found = np.sqrt(np.clip(1.0 - sse / (yc * yc).sum(axis=1), 0.0, 1.0))
        values[part] = np.where(np.isfinite(sse), found, linear[part])
    values[~varied] = np.nan
    return values


def bootstrap_values(
    prediction: npt.ArrayLike,
    mos: npt.ArrayLike,
    metric: BootstrapMetric,
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> FloatArray:
    """The metric on each of ``resamples`` resamples of the complete pairs (NaN where a side is
    constant); the resamples are those :func:`bootstrap_ci` draws for the same seed."""
    if metric not in ("srcc", "plcc"):
        msg = f"bootstrap_ci: unknown metric {metric!r}; use 'srcc' or 'plcc'"
        raise InputError(msg)
    if resamples < 1:
        msg = f"bootstrap_ci: resamples must be at least 1, got {resamples}"
        raise InputError(msg)
    xa, ya = _pairs(prediction, mos, "bootstrap_ci", x_name="prediction", y_name="mos")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, xa.size, size=(resamples, xa.size))
    xb, yb = xa[idx], ya[idx]
    if metric == "srcc":
        return pearson_rows(stats.rankdata(xb, axis=1), stats.rankdata(yb, axis=1))
    # Starts: the benchmark's own (mean x, 0.5) per resample, and the fit on all pairs.
    starts = [np.column_stack([xb.mean(axis=1), np.full(resamples, np.log(0.5))])]
    full = fit_logistic(xa, ya)
    if full.fitted and full.params[3] != 0:
        starts.append(np.array([full.params[2], np.log(abs(full.params[3]))]))
    with np.errstate(all="ignore"):  # saturated sigmoids and degenerate rows are handled
        return _plcc_values(xb, yb, starts)


def bootstrap_ci(
    prediction: npt.ArrayLike,
    mos: npt.ArrayLike,
    metric: BootstrapMetric,
    *,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of SRCC or PLCC, resampling pairs.

    The interval is the ``(1 − level)/2`` and ``(1 + level)/2`` quantiles of the metric over
    :func:`bootstrap_values` (for ``plcc`` the logistic is refitted on every resample, all at
    once: see the module docstring). Resamples where the metric is undefined (a side constant)
    are skipped. Deterministic for a given seed.
    """
    if not 0.0 < level < 1.0:
        msg = f"bootstrap_ci: level must lie strictly between 0 and 1, got {level}"
        raise InputError(msg)
    values = bootstrap_values(prediction, mos, metric, resamples=resamples, seed=seed)
    values = values[~np.isnan(values)]
    if values.size == 0:
        msg = (
            f"bootstrap_ci: {metric} was undefined in every one of {resamples} resamples "
            "(a side constant in each); provide more varied data or more resamples"
        )
        raise InputError(msg)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


Interval = tuple[float, float]


def intervals(
    pairs: Sequence[tuple[FloatArray, FloatArray]],
    resamples: int,
    seed: int,
    pool: Executor | None = None,
    advance: Callable[[], None] | None = None,
) -> list[tuple[Interval, Interval]]:
    """The SRCC and PLCC intervals (:func:`bootstrap_ci`) of each ``(prediction, mos)`` pair, in
    ``pool`` (in parallel) when given; ``advance()`` is called as each interval is done. The
    same numbers wherever they are computed (see the module docstring)."""
    tasks = [(x, y, metric) for x, y in pairs for metric in ("srcc", "plcc")]
    found: list[Interval] = []
    if pool is not None:
        futures = [
            pool.submit(bootstrap_ci, x, y, metric, resamples=resamples, seed=seed)  # type: ignore[arg-type]
            for x, y, metric in tasks
        ]
        values = (future.result() for future in futures)
    else:
        values = (
            bootstrap_ci(x, y, metric, resamples=resamples, seed=seed)  # type: ignore[arg-type]
            for x, y, metric in tasks
        )
    for value in values:
        found.append(value)
        if advance is not None:
            advance()
    return [(found[2 * k], found[2 * k + 1]) for k in range(len(pairs))]
