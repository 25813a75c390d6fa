"""Agreement metrics between a quality prediction and subjective scores (MOS).

The field's standard protocol (VQEG / ITU-T P.1401 style):

* SRCC and KRCC are computed on the raw prediction; their sign is kept, so a score where
  lower means better gives a negative correlation.
* PLCC and RMSE are computed after mapping the prediction onto the MOS scale with the
  four-parameter logistic :func:`logistic4`, fitted by least squares (:func:`fit_logistic`).
  ``plcc_raw`` is the Pearson correlation before that mapping.

Every function takes two paired 1-D arrays, drops the pairs where either value is NaN, and
raises :class:`~second_opinion.errors.InputError` when fewer than three pairs remain, when a
value is infinite, or (for a correlation) when one side is constant.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped, unused-ignore]
from scipy.optimize import OptimizeWarning, curve_fit  # type: ignore[import-untyped, unused-ignore]

from second_opinion.errors import InputError

FloatArray = npt.NDArray[np.float64]
BootstrapMetric = Literal["srcc", "plcc"]

MIN_PAIRS = 3
"""The fewest complete pairs any metric accepts."""

LOGISTIC_MAXFEV = int(1e8)
"""The benchmark's ``maxfev``: the optimiser runs as long as it needs."""

STEP_BAND = math.log(19.0)
"""Half-width of the logistic's rise in units of ``|b4|``: it covers 5 % to 95 % of ``b1 − b2``
within ``|x − b3| ≤ ln(19)·|b4|``."""

STEP_MIN_SHARE = 0.05
"""A fitted logistic whose rise holds fewer than this share of the points (and fewer than
``STEP_MIN_POINTS``) is step-like: the mapping is a step (or flat) across the data."""

STEP_MIN_POINTS = 3

FitFlag = Literal["fallback", "step-like"]


def _pairs(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    metric: str,
    *,
    x_name: str = "x",
    y_name: str = "y",
    need_variation: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """Both arrays as float64, with the pairs where either value is NaN dropped, validated."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    for name, arr in ((x_name, xa), (y_name, ya)):
        if arr.ndim != 1:
            msg = (
                f"{metric}: {name} must be a 1-D array, got shape {arr.shape}; "
                "pass one value per item"
            )
            raise InputError(msg)
    if xa.shape != ya.shape:
        msg = (
            f"{metric}: {x_name} has {xa.size} values but {y_name} has {ya.size}; "
            "pass the two sides paired item by item"
        )
        raise InputError(msg)
    keep = ~(np.isnan(xa) | np.isnan(ya))
    xa, ya = xa[keep], ya[keep]
    for name, arr in ((x_name, xa), (y_name, ya)):
        n_inf = int(np.isinf(arr).sum())
        if n_inf:
            msg = (
                f"{metric}: {name} holds {n_inf} infinite value(s); "
                "replace them with finite numbers or NaN (NaN pairs are dropped)"
            )
            raise InputError(msg)
    dropped = int((~keep).sum())
    if xa.size < MIN_PAIRS:
        msg = (
            f"{metric}: only {xa.size} complete pair(s) of {x_name} and {y_name} "
            f"({dropped} of {keep.size} dropped for NaN); at least {MIN_PAIRS} are needed — "
            "provide more items or fill in the missing values"
        )
        raise InputError(msg)
    if need_variation:
        for name, arr in ((x_name, xa), (y_name, ya)):
            if np.ptp(arr) == 0:
                msg = (
                    f"{metric}: {name} is constant (all {arr.size} values equal {float(arr[0])}); "
                    "a correlation needs variation on both sides — check that the column "
                    "holds per-item scores"
                )
                raise InputError(msg)
    return xa, ya


def _pearson(x: FloatArray, y: FloatArray) -> float:
    """Pearson's r of two clean arrays; NaN when a side has no variation."""
    dx = x - x.mean()
    dy = y - y.mean()
    denom = float(np.sqrt(np.dot(dx, dx) * np.dot(dy, dy)))
    if denom == 0.0 or not np.isfinite(denom):
        return float("nan")
    return float(np.clip(np.dot(dx, dy) / denom, -1.0, 1.0))


def srcc(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Spearman's rank correlation: Pearson's r of the average ranks (ties share a rank).

    ``srcc = cov(R(x), R(y)) / (σ(R(x)) · σ(R(y)))``.
    """
    xa, ya = _pairs(x, y, "srcc")
    return _pearson(stats.rankdata(xa), stats.rankdata(ya))


def krcc(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Kendall's tau-b, which corrects for ties.

    ``τ_b = (P − Q) / sqrt((P + Q + T_x) · (P + Q + T_y))`` with P concordant pairs,
    Q discordant pairs, T_x pairs tied only in x and T_y pairs tied only in y.
    """
    xa, ya = _pairs(x, y, "krcc")
    tau = stats.kendalltau(xa, ya, variant="b").statistic
    return float(np.clip(tau, -1.0, 1.0))


def plcc(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Pearson's linear correlation, with no mapping.

    ``r = Σ(x − x̄)(y − ȳ) / sqrt(Σ(x − x̄)² · Σ(y − ȳ)²)``.
    """
    xa, ya = _pairs(x, y, "plcc")
    return _pearson(xa, ya)


def rmse(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Root mean squared error: ``sqrt(mean((x − y)²))``.

    Unlike the correlations, a constant side is allowed: the RMSE of a constant prediction is a
    meaningful baseline.
    """
    xa, ya = _pairs(x, y, "rmse", need_variation=False)
    return float(np.sqrt(np.mean((xa - ya) ** 2)))


def logistic4(x: npt.ArrayLike, b1: float, b2: float, b3: float, b4: float) -> FloatArray:
    """The four-parameter logistic of the protocol.

    ``f(x) = b2 + (b1 − b2) / (1 + exp(−(x − b3) / |b4|))``: it rises from ``b2`` (far below
    ``b3``) to ``b1`` (far above), with midpoint ``b3`` and scale ``|b4|``. Computed with the
    benchmark's own arithmetic, operation for operation, so that ``curve_fit`` follows the same
    path to the same parameters (a stable sigmoid differs in the last bits, and on a weak or
    sign-flipping signal that can move the fit to another optimum); an overflowing ``exp`` gives
    ``inf`` and so the limit ``b2``, without a warning.
    """
    xa = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        part = 1 + np.exp(np.negative(np.divide(xa - b3, np.abs(b4))))
        out: FloatArray = b2 + np.divide(b1 - b2, part)
    return out


@dataclass(frozen=True)
class LogisticFit:
    """A fitted mapping from prediction to MOS scale.

    When ``fitted`` is true, ``params`` are ``(b1, b2, b3, b4)`` of :func:`logistic4`; when the
    logistic fit failed, ``params`` are ``(slope, intercept)`` of a least-squares line and
    ``note`` says why. ``flag`` marks a degenerate fit: ``'fallback'`` (the line) or
    ``'step-like'`` (a logistic whose rise holds almost none of the points).
    """

    params: tuple[float, ...]
    fitted: bool
    note: str | None = None
    flag: FitFlag | None = None

    def predict(self, x: npt.ArrayLike) -> FloatArray:
        """The prediction ``x`` mapped onto the MOS scale."""
        xa = np.asarray(x, dtype=np.float64)
        if self.fitted:
            b1, b2, b3, b4 = self.params
            return logistic4(xa, b1, b2, b3, b4)
        slope, intercept = self.params
        out: FloatArray = slope * xa + intercept
        return out


def _linear_fit(x: FloatArray, y: FloatArray, reason: str) -> LogisticFit:
    """The fallback: a least-squares line (a flat line at the mean when ``x`` is constant)."""
    if np.ptp(x) == 0:
        slope, intercept = 0.0, float(y.mean())
    else:
        coef = np.polyfit(x, y, 1)
        slope, intercept = float(coef[0]), float(coef[1])
    note = f"logistic fit failed ({reason}); fell back to a linear least-squares fit"
    return LogisticFit(params=(slope, intercept), fitted=False, note=note, flag="fallback")


def _step_note(x: FloatArray, params: tuple[float, ...]) -> str | None:
    """Why the fitted logistic is step-like, or None when its rise spans enough points.

    Step-like: points lie on both sides of the rise, but the rise itself holds fewer than
    ``STEP_MIN_POINTS`` and fewer than ``STEP_MIN_SHARE`` of them. A midpoint beyond the data
    (the data on one tail of a wide logistic) is a smooth curve, not a step.
    """
    _, _, b3, b4 = params
    width = STEP_BAND * abs(b4)
    inside = int(np.count_nonzero(np.abs(x - b3) <= width))
    if inside >= STEP_MIN_POINTS or inside >= STEP_MIN_SHARE * x.size:
        return None
    if not (np.any(x < b3 - width) and np.any(x > b3 + width)):
        return None
    return (
        f"step-like logistic: its rise (5-95 %, |x - {b3:.6g}| <= {width:.6g}) holds {inside} "
        f"of {x.size} points, so the mapping is a step; PLCC after it rests on the step alone"
    )


def fit_logistic(x: npt.ArrayLike, mos: npt.ArrayLike) -> LogisticFit:
    """Fit :func:`logistic4` from prediction ``x`` to ``mos`` by least squares.

    As the UGC-VQA benchmark calls it: scipy's ``curve_fit`` from
    ``[max(mos), min(mos), mean(x), 0.5]`` with ``maxfev = 1e8`` (:data:`LOGISTIC_MAXFEV`). The
    fit is kept whenever the optimiser returns finite parameters, even when scipy warns that
    their covariance cannot be estimated (the benchmark ignores that warning too); a fit whose
    rise holds almost none of the points is kept but flagged ``'step-like'``. Never raises for a
    failed fit: when the optimiser gives up, rejects the data (fewer points than parameters) or
    returns non-finite values, the result is a linear least-squares fit with ``fitted=False``,
    ``flag='fallback'`` and a ``note``. Invalid input (too few pairs, infinite values) still
    raises :class:`InputError`.
    """
    xa, ya = _pairs(x, mos, "fit_logistic", y_name="mos", need_variation=False)
    p0 = [float(ya.max()), float(ya.min()), float(xa.mean()), 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            popt, _ = curve_fit(logistic4, xa, ya, p0=p0, maxfev=LOGISTIC_MAXFEV)
        except (RuntimeError, TypeError, ValueError) as error:
            return _linear_fit(xa, ya, f"{type(error).__name__}: {error}")
    params = tuple(float(p) for p in popt)
    if not all(np.isfinite(params)):
        return _linear_fit(xa, ya, f"non-finite parameters {params}")
    step = _step_note(xa, params)
    return LogisticFit(params=params, fitted=True, note=step, flag="step-like" if step else None)


@dataclass(frozen=True)
class MetricSet:
    """The protocol's metrics for one prediction against MOS."""

    n: int
    """Complete pairs used."""
    srcc: float
    """Spearman's rank correlation on the raw prediction."""
    krcc: float
    """Kendall's tau-b on the raw prediction."""
    plcc: float
    """Pearson's r after the logistic mapping."""
    plcc_raw: float
    """Pearson's r on the raw prediction."""
    rmse: float
    """Root mean squared error after the logistic mapping, in MOS units."""
    logistic_fitted: bool
    """False when the mapping fell back to a line."""
    note: str | None = None
    fit_flag: FitFlag | None = None
    """A degenerate mapping: ``'fallback'`` (a line) or ``'step-like'`` (:class:`LogisticFit`)."""

    def to_dict(self) -> dict[str, float | int | bool | str | None]:
        """The fields as a plain dict, for JSON or a table row."""
        return asdict(self)


def evaluate(prediction: npt.ArrayLike, mos: npt.ArrayLike) -> MetricSet:
    """All protocol metrics of ``prediction`` against ``mos`` (see the module docstring)."""
    xa, ya = _pairs(prediction, mos, "evaluate", x_name="prediction", y_name="mos")
    fit = fit_logistic(xa, ya)
    mapped = fit.predict(xa)
    plcc_mapped = _pearson(mapped, ya)
    note = fit.note
    if np.isnan(plcc_mapped):
        extra = "the mapped prediction is constant, so PLCC after the mapping is NaN"
        note = extra if note is None else f"{note}; {extra}"
    return MetricSet(
        n=int(xa.size),
        srcc=_pearson(stats.rankdata(xa), stats.rankdata(ya)),
        krcc=krcc(xa, ya),
        plcc=plcc_mapped,
        plcc_raw=_pearson(xa, ya),
        rmse=float(np.sqrt(np.mean((mapped - ya) ** 2))),
        logistic_fitted=fit.fitted,
        note=note,
        fit_flag=fit.flag,
    )


def summarize(values: npt.ArrayLike) -> dict[str, float]:
    """Median and population standard deviation (``ddof=0``) of ``values``, ignoring NaN.

    Both are NaN when no value is left.
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return {"median": float("nan"), "std": float("nan")}
    return {"median": float(np.median(arr)), "std": float(np.std(arr, ddof=0))}
