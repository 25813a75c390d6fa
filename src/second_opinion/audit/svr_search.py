"""The SVR's hyper-parameter search, as the UGC-VQA benchmark's ``RandomizedSearchCV`` runs it.

:func:`svr_search` is ``RandomizedSearchCV`` (or ``GridSearchCV``) over the benchmark's C and gamma
grid, done by hand so that the cross-validation fits share one kernel per gamma: the same
candidates, folds, scores and choice, and the same refit (see its docstring for why the numbers
are the search's own).

The search modes (``SearchMode``):

* ``'random'`` (the default): the benchmark's randomized search with each cross-validation fit
  stopped after :data:`CV_MAX_ITER` solver iterations (libsvm's ``max_iter``; the candidate is
  scored with the solution reached, as scikit-learn's ``max_iter`` does). The refit on the whole
  training split is never capped. It is mainly fits with a large C·gamma that need more, and the
  chosen candidate usually converges well before the cap: on KoNViD-1k's 100 splits the
  choice differs from the exact search's in 1 (BRISQUE) and 16 (VIDEVAL), by at most 0.033
  SRCC on a split, and the medians are the same (docs/audit.md, ADR 0014);
* ``'random-exact'``: the benchmark's search exactly, every fit solved to libsvm's tolerance;
* ``'grid'``: all 100 pairs (``GridSearchCV``), exact.
"""

from __future__ import annotations

import math
import os
import warnings
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import sklearn
from scipy.linalg.blas import ddot  # type: ignore[import-untyped, unused-ignore]
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, ParameterGrid, ParameterSampler
from sklearn.svm import SVR

from second_opinion._typing import SearchMode

_smo: ModuleType | None
try:  # compiled when the package is built (hatch_build.py); libsvm itself where it is not
    from second_opinion.audit import _smo
except ImportError:  # pragma: no cover - a build without a C compiler
    _smo = None
if os.environ.get("SECOND_OPINION_NO_EXTENSION"):  # libsvm on purpose: to compare, or to rule out
    _smo = None

SEARCH_DRAWS = 10  # RandomizedSearchCV's default, as the benchmark's script uses it
SVR_C_GRID: tuple[float, ...] = tuple(2.0**p for p in range(1, 11))
SVR_GAMMA_GRID: tuple[float, ...] = tuple(2.0**p for p in range(-8, 2))
CV_FOLDS = 3
CV_MAX_ITER = 2000
"""The solver iterations each cross-validation fit of the ``'random'`` search may take."""

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]


def svr_search(
    x_train: FloatArray, y_train: FloatArray, x_test: FloatArray, search: SearchMode, seed: int
) -> FloatArray:
    """The search's choice (:func:`svr_choice`) refitted on the whole training split, as the
    search's ``refit`` does (``SVR(kernel='rbf')`` itself, never capped): the test predictions."""
    c, gamma = svr_choice(x_train, y_train, search, seed)
    refit = SVR(kernel="rbf", C=c, gamma=gamma).fit(x_train, y_train)
    return np.asarray(refit.predict(x_test), dtype=np.float64)


def svr_choice(
    x_train: FloatArray, y_train: FloatArray, search: SearchMode, seed: int
) -> tuple[float, float]:
    """The (C, gamma) ``RandomizedSearchCV`` / ``GridSearchCV`` over the SVR grid picks, by hand.

    The same candidates in the same order (``ParameterSampler(space, SEARCH_DRAWS,
    random_state=seed)`` or ``ParameterGrid(space)``), the same folds (``KFold(CV_FOLDS)``, what
    ``cv=3`` means for a regressor), the same score (R², averaged over the folds) and the same
    choice (the highest mean; the first candidate among equals, as ``rank_test_score.argmin()``).
    The cross-validation SVRs are fitted on a precomputed kernel, exp(−gamma · D) with D from
    :func:`_squared_distances` (computed once per split, not in every fit and prediction), which
    libsvm sees exactly as it would its own RBF kernel: it solves the same problems. Their held-out
    predictions sum in another order than libsvm's, so the R² equals the search's to ~1e-12.
    (Where NumPy's dot products are not BLAS ``ddot``'s, the folds are fitted with the RBF kernel.)
    ``search='random'`` stops each cross-validation fit after :data:`CV_MAX_ITER` iterations
    (the module docstring): its choice is that of ``RandomizedSearchCV`` over
    ``SVR(max_iter=CV_MAX_ITER)``; ``'random-exact'`` and ``'grid'`` solve every fit.
    """
    space = {"C": list(SVR_C_GRID), "gamma": list(SVR_GAMMA_GRID)}
    candidates: list[dict[str, float]] = list(
        ParameterGrid(space)
        if search == "grid"
        else ParameterSampler(space, n_iter=SEARCH_DRAWS, random_state=seed)
    )
    max_iter = CV_MAX_ITER if search == "random" else -1
    n = x_train.shape[0]
    folds = list(KFold(n_splits=CV_FOLDS).split(np.empty((n, 1))))
    distance = _squared_distances(x_train)
    means = np.full(len(candidates), np.nan)
    runs = [(_runs(fit), _runs(held_out)) for fit, held_out in folds]
    # The inputs are checked once, by the caller; scikit-learn need not re-check each fit's.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        for gamma in dict.fromkeys(c["gamma"] for c in candidates):  # one kernel per gamma
            gram = None if distance is None else np.exp(-gamma * distance)
            # The fold kernels are shared by this gamma's candidates.
            blocks = _fold_kernels(gram, runs)
            for index, candidate in enumerate(candidates):
                if candidate["gamma"] == gamma:
                    fits = zip(folds, blocks, strict=True)
                    pair = (candidate["C"], gamma)
                    scores = [
                        _fold_score(x_train, block, y_train, fold, pair, max_iter)
                        for fold, block in fits
                    ]
                    means[index] = np.mean(scores)
    best = candidates[_best_index(means)]
    return float(best["C"]), float(best["gamma"])


class FoldKernel(NamedTuple):
    """One fold's kernel: its rows against the fitting rows."""

    held_out: FloatArray
    """held-out × fit."""
    fit: FloatArray | None
    """fit × fit, for libsvm (None when the compiled solver fits)."""
    fit32: npt.NDArray[np.float32] | None
    """fit × fit rounded to float32 as libsvm rounds it, for the compiled solver."""
    diagonal: FloatArray
    """The diagonal of fit × fit, unrounded (libsvm's QD)."""


Blocks = FoldKernel | None


Runs = list[tuple[int, int]]


def _runs(indices: IndexArray) -> Runs:
    """``indices`` as the (start, stop) ranges of its consecutive stretches, in order: a fold of
    ``KFold`` without shuffling is one or two of them."""
    if indices.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [indices.size]))
    return [(int(indices[a]), int(indices[b - 1]) + 1) for a, b in zip(starts, stops, strict=True)]


def _fold_kernels(gram: FloatArray | None, runs: list[tuple[Runs, Runs]]) -> list[Blocks]:
    """Each fold's :class:`FoldKernel` from ``gram``, copied slice by slice from the fold's
    ``runs`` (:func:`_runs`: the same values as taking the rows, several times faster); Nones
    without a kernel. For the compiled solver the fit × fit blocks come from ``gram`` rounded
    to float32 once (the same values as rounding each block)."""
    if gram is None:
        return [None for _ in runs]
    gram32 = gram.astype(np.float32) if _smo is not None else None
    diagonal = gram.diagonal()
    kernels: list[Blocks] = []
    for fit, held_out in runs:
        kernels.append(
            FoldKernel(
                held_out=_block(gram, held_out, fit),
                fit=_block(gram, fit, fit) if gram32 is None else None,
                fit32=None if gram32 is None else _block(gram32, fit, fit),
                diagonal=np.concatenate([diagonal[a:b] for a, b in fit] or [diagonal[:0]]),
            )
        )
    return kernels


def _block(gram: npt.NDArray[Any], rows: Runs, columns: Runs) -> npt.NDArray[Any]:
    if not rows or not columns:
        shape = (sum(b - a for a, b in rows), sum(b - a for a, b in columns))
        return np.empty(shape, dtype=gram.dtype)
    return np.block([[gram[r0:r1, c0:c1] for c0, c1 in columns] for r0, r1 in rows])


def _fold_score(
    x: FloatArray,
    blocks: Blocks,
    y: FloatArray,
    fold: tuple[IndexArray, IndexArray],
    candidate: tuple[float, float],
    max_iter: int,
) -> float:
    """R² on the fold's held-out rows of an SVR (C, gamma = ``candidate``) fitted on its fitting
    rows with at most ``max_iter`` solver iterations (-1: to convergence): on the precomputed
    kernel ``blocks`` (:func:`_fold_blocks`), or (``blocks`` None) with libsvm's own RBF kernel."""
    fit, held_out = fold
    c, gamma = candidate
    # SVR's defaults otherwise (epsilon 0.1, tol 1e-3, shrinking, cache 200 MB), as before.
    # A capped fit stops where it is (fit_status_ 1), and warns so; the cap is the point here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if blocks is None:
            rbf = SVR(kernel="rbf", C=c, gamma=gamma, max_iter=max_iter).fit(x[fit], y[fit])
            return _r2(y[held_out], rbf.predict(x[held_out]))
        if blocks.fit32 is None:
            model = SVR(kernel="precomputed", C=c, max_iter=max_iter).fit(blocks.fit, y[fit])
            support, dual, intercept = model.support_, model.dual_coef_[0], model.intercept_[0]
        else:
            support, dual, intercept = solve_svr(blocks.fit32, blocks.diagonal, y[fit], c, max_iter)
    rows = blocks.held_out.take(support, axis=1)
    return _r2(y[held_out], rows @ dual + intercept)


def solve_svr(
    kernel: npt.NDArray[np.float32], diagonal: FloatArray, y: FloatArray, c: float, max_iter: int
) -> tuple[IndexArray, FloatArray, float]:
    """``SVR(kernel='precomputed', C=c, max_iter=max_iter).fit`` on the kernel whose float32
    rounding is ``kernel`` and whose diagonal is ``diagonal``, by the compiled solver
    (``_smo``, which takes libsvm's steps): ``(support_, dual_coef_[0], intercept_[0])``, bit for
    bit those of scikit-learn (epsilon 0.1, tol 1e-3, shrinking, unit sample weights)."""
    if _smo is None:  # pragma: no cover - guarded by the caller
        msg = "the compiled SVR solver is not built"
        raise RuntimeError(msg)
    coef = np.empty(y.shape[0], dtype=np.float64)
    rho, _, _ = _smo.svr(kernel, diagonal, np.ascontiguousarray(y), c, 0.1, 1e-3, max_iter, coef)
    support = np.flatnonzero(coef)
    return support, coef[support], -rho


def _squared_distances(x: FloatArray) -> FloatArray | None:
    """‖xi − xj‖² between the rows of ``x``, exactly as libsvm's RBF kernel computes them; None
    if NumPy's dot products turn out not to be those of SciPy's BLAS ``ddot``, which libsvm calls.

    libsvm trains on exp(−gamma·‖xi − xj‖²) rounded to float32 (its ``Qfloat``), with the squared
    distance computed as ``x_square[i] + x_square[j] - 2 * dot(x[i], x[j])`` by BLAS ``ddot``. The
    same expression is evaluated here, every dot product from ``ddot`` too (``np.matmul`` of a
    stack of row-vector × column-vector pairs calls it pair by pair), and the diagonal is exactly
    0: so the precomputed kernel libsvm is given rounds to the float32 values it would have
    computed itself, and its solver takes the same steps to the same solution. (A few products are
    checked against SciPy's ``ddot``: NumPy may use another BLAS, or none.)
    """
    rows = np.ascontiguousarray(x, dtype=np.float64)
    squares = np.matmul(rows[:, None, :], rows[:, :, None])[:, 0, 0]
    dots = np.matmul(rows[:, None, None, :], rows[None, :, :, None])[:, :, 0, 0]
    picks = np.linspace(0, rows.shape[0] - 1, num=min(rows.shape[0], 16)).astype(np.intp)
    for i, j in zip(picks, picks[::-1], strict=True):
        if dots[i, j] != ddot(rows[i], rows[j]) or squares[i] != ddot(rows[i], rows[i]):
            return None
    distance = np.asarray((squares[:, None] + squares[None, :]) - 2.0 * dots, dtype=np.float64)
    np.fill_diagonal(distance, 0.0)
    return distance


def _r2(y: FloatArray, predicted: FloatArray) -> float:
    """``SVR.score``: R² as ``r2_score`` computes it (1 for a perfect fit, 0 for a constant y;
    NaN for fewer than two values, which the search ranks last)."""
    if y.shape[0] < 2:
        return math.nan
    residual = float(np.sum((y - predicted) ** 2))
    total = float(np.sum((y - np.mean(y)) ** 2))
    if residual == 0.0:
        return 1.0
    return 0.0 if total == 0.0 else 1.0 - residual / total


def _best_index(means: FloatArray) -> int:
    """The search's ``best_index_``: the highest mean score, the first among equals; NaN (a
    failed candidate) ranks with the worst."""
    if np.all(np.isnan(means)):
        return 0
    return int(np.argmax(np.where(np.isnan(means), np.nanmin(means) - 1.0, means)))
