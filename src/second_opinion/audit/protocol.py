"""The UGC-VQA split protocol (Tu et al., IEEE TIP 2021), as published in its evaluation script.

For each of ``r`` random 80/20 splits (``train_test_split(test_size=0.2,
random_state=ceil(8.8 * i))``, i = 1..r, shuffled, no grouping):

* a training-free signal (one column) is compared with MOS as it is, on the test split;
* a feature matrix (several columns) is regressed: infinities → NaN → the training split's
  column mean; MinMax scaling fitted on the training split; an RBF SVR whose ``C`` (2^1..2^10)
  and ``gamma`` (2^-8..2^1) are chosen by 3-fold cross-validation on the training split, with
  the regressor's R² as the score, and refitted on the whole training split to predict the test
  split. As in the benchmark's script, the search is ``RandomizedSearchCV`` over that grid with
  10 draws, seeded with the split's seed here, so runs repeat exactly: ``search='random-exact'``
  is that search bit for bit; ``search='random'`` (the default) the same with each
  cross-validation fit capped at ``CV_MAX_ITER`` solver iterations: faster, with the same
  medians on KoNViD-1k (:mod:`~second_opinion.audit.svr_search`);
  ``search='grid'`` tries all 100 pairs (slower, and on KoNViD-1k BRISQUE ~0.05 SRCC above the
  published numbers). ``model='ridge'``: ``RidgeCV`` over a fixed alpha grid, a fast alternative;
* the test split's predictions are scored: SRCC (Spearman), KRCC (Kendall tau-b), and PLCC and
  RMSE after fitting the 4-parameter logistic
  ŷ = β2 + (β1 − β2) / (1 + exp(−(x − β3)/|β4|)) from [max(MOS), min(MOS), mean(x), 0.5]
  (a linear fit when the logistic fit fails).

The result holds each split's metrics and their median and population standard deviation.
As the benchmark does, SRCC, KRCC and PLCC keep their sign per split; the summary is the
magnitude of the median of the **signed** values (so a signal whose correlation flips sign
across splits is not inflated), with the std of the signed values, and ``direction`` states the
sign once (+1: higher is better, −1: lower is better, 0: undefined). Each split's degenerate
logistic fits (``'fallback'``, ``'step-like'``) are kept in ``fit_flags``; ``warnings`` lists
them, and a test split under :data:`MIN_TEST_ROWS` rows.

Splits run in worker processes (``concurrent.futures.ProcessPoolExecutor``, ``spawn`` context)
when ``processes > 1``; every split is a pure function of its index, so the result is identical
for any number of processes. The metrics are :func:`second_opinion.audit.metrics.evaluate`.
"""

from __future__ import annotations

import math
import multiprocessing
import warnings
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import get_args

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from second_opinion._typing import Regressor, SearchMode
from second_opinion.audit.metrics import FitFlag, evaluate, summarize
from second_opinion.audit.svr_search import svr_search
from second_opinion.errors import InputError

Model = Regressor
Search = SearchMode
MODELS: tuple[Model, ...] = get_args(Model)
SEARCHES: tuple[Search, ...] = get_args(Search)

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]

TEST_SIZE = 0.2
RIDGE_ALPHAS: tuple[float, ...] = tuple(10.0**p for p in np.arange(-4.0, 4.5, 0.5))
METRICS: tuple[str, ...] = ("srcc", "krcc", "plcc", "rmse")
SIGNED: frozenset[str] = frozenset({"srcc", "krcc", "plcc"})
"""The metrics whose median is taken over signed values and shown as a magnitude."""
MIN_TEST_ROWS = 30
"""Fewer test rows than this make a split's correlations too noisy to rank signals by."""

SplitRow = tuple[tuple[float, float, float, float], FitFlag | None]


@dataclass(frozen=True)
class Summary:
    """Median and population standard deviation of one metric over the splits."""

    median: float
    std: float


@dataclass(frozen=True)
class ProtocolResult:
    """Per-split metrics (in split order) and their summary.

    ``srcc``, ``krcc`` and ``plcc`` keep their sign per split; ``summary`` holds the magnitude
    of their signed median (see the module docstring) and ``direction`` its sign.
    ``model`` is ``'training-free'`` for a single column, else the regressor used.
    """

    n: int
    seeds: tuple[int, ...]
    model: str
    srcc: FloatArray
    krcc: FloatArray
    plcc: FloatArray
    rmse: FloatArray
    summary: dict[str, Summary]
    direction: int = 0
    """The sign of the median signed SRCC: +1 higher is better, −1 lower is better, 0 unknown."""
    test_rows: int = 0
    """Rows in each test split (the same in every split)."""
    fit_flags: tuple[FitFlag | None, ...] = ()
    """Per split, the logistic fit's flag (None for a sound fit or an undefined split)."""

    @property
    def warnings(self) -> tuple[str, ...]:
        """What a reader should know before trusting the medians: a tiny test split, then the
        degenerate fits (:attr:`fit_warnings`)."""
        if self.test_rows >= MIN_TEST_ROWS:
            return self.fit_warnings
        small = (
            f"test splits hold only {self.test_rows} rows (fewer than {MIN_TEST_ROWS}): "
            "per-split correlations are noisy; audit a larger corpus before ranking on them"
        )
        return (small, *self.fit_warnings)

    @property
    def fit_warnings(self) -> tuple[str, ...]:
        """One line per kind of degenerate logistic fit, with the number of splits it hit."""
        found = []
        for flag, what in (
            ("fallback", "fell back to a linear fit"),
            ("step-like", "gave a step-like logistic"),
        ):
            count = sum(1 for f in self.fit_flags if f == flag)
            if count:
                found.append(
                    f"the logistic fit {what} in {count} of {len(self.fit_flags)} splits "
                    "(PLCC and RMSE there are less comparable)"
                )
        return tuple(found)


def split_seeds(r: int) -> list[int]:
    """The ``random_state`` of each split: ``ceil(8.8 * i)`` for i = 1..r."""
    _check_count("r", r)
    return [math.ceil(8.8 * i) for i in range(1, r + 1)]


def splits(n: int, r: int) -> list[tuple[IndexArray, IndexArray]]:
    """``r`` shuffled 80/20 (train, test) index splits of ``range(n)``, one per seed."""
    _check_count("n", n, minimum=5)
    return [_split(n, seed) for seed in split_seeds(r)]


def predict_training_free(x: npt.ArrayLike, train: IndexArray, test: IndexArray) -> FloatArray:
    """The raw score on the test split (non-finite values take the training split's mean)."""
    column = _as_matrix(x, "x")
    if column.shape[1] != 1:
        msg = (
            f"A training-free signal is one column; got {column.shape[1]} columns in x. "
            "Pass one score per clip, or use predict_regressed for a feature matrix."
        )
        raise InputError(msg)
    return np.asarray(_impute(column, train)[test, 0], dtype=np.float64)


def predict_regressed(
    x: npt.ArrayLike,
    mos: npt.ArrayLike,
    train: IndexArray,
    test: IndexArray,
    model: Model = "svr",
    search: Search = "random",
    seed: int = 0,
) -> FloatArray:
    """Fit ``model`` on the training split and predict the test split.

    Non-finite features take the training split's column mean; features are MinMax-scaled with
    the training split's range; ``'svr'`` picks C and gamma by 3-fold cross-validation (default
    scoring, R²) on the training split and refits on all of it — the search of
    ``RandomizedSearchCV`` (``SEARCH_DRAWS`` draws, ``random_state=seed``; ``'random-exact'``
    exactly, ``'random'`` with capped cross-validation fits) or, with ``search='grid'``,
    ``GridSearchCV``, done faster by hand
    (:func:`~second_opinion.audit.svr_search.svr_search`); ``'ridge'`` is ``RidgeCV`` over
    ``RIDGE_ALPHAS``.
    """
    _check_model(model)
    _check_search(search)
    features = _impute(_as_matrix(x, "X"), train)
    target = _as_vector(mos, "mos", features.shape[0])
    scaler = MinMaxScaler().fit(features[train])
    x_train = scaler.transform(features[train])
    x_test = scaler.transform(features[test])
    if model == "svr":
        predicted = svr_search(x_train, target[train], x_test, search, seed)
    else:
        ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(x_train, target[train])
        predicted = ridge.predict(x_test)
    return np.asarray(predicted, dtype=np.float64)


@contextmanager
def worker_pool(processes: int) -> Iterator[Executor | None]:
    """A pool of ``processes`` worker processes (``None`` for one): share it across protocol
    runs."""
    _check_count("processes", processes)
    if processes == 1:
        yield None
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        yield pool


def run_protocol(
    x: npt.ArrayLike,
    mos: npt.ArrayLike,
    *,
    splits: int = 100,
    model: Model = "svr",
    search: Search = "random",
    processes: int = 1,
    seed: int = 0,
    regress: bool | None = None,
    pool: Executor | None = None,
) -> ProtocolResult:
    """Run the protocol over ``splits`` splits: training-free if ``x`` has one column.

    ``regress=True`` sends a single column through the regressor too (to compare feature sets
    on equal terms). ``seed`` is added to each split's seed for the C/gamma search draws (0
    reproduces the benchmark's setting); the splits themselves never change. ``pool`` (from
    :func:`worker_pool`) runs the splits there instead of a pool of ``processes`` workers.
    """
    _check_model(model)
    _check_count("splits", splits)
    _check_count("processes", processes)
    features = _as_matrix(x, "X")
    target = _as_vector(mos, "mos", features.shape[0])
    if features.shape[0] < 5:
        msg = f"The protocol needs at least 5 clips for an 80/20 split; got {features.shape[0]}."
        raise InputError(msg)
    seeds = split_seeds(splits)
    _check_search(search)
    regressed = features.shape[1] > 1 if regress is None else regress
    tasks = [(features, target, s, model, search, seed, regressed) for s in seeds]
    if pool is not None:
        rows = list(pool.map(_run_split, tasks))
    elif processes == 1 or splits == 1:
        rows = [_run_split(task) for task in tasks]
    else:
        with worker_pool(min(processes, splits)) as own:
            assert own is not None  # noqa: S101 - processes > 1
            rows = list(own.map(_run_split, tasks))
    table = np.asarray([r[0] for r in rows], dtype=np.float64).reshape(len(seeds), len(METRICS))
    columns = {name: table[:, i].copy() for i, name in enumerate(METRICS)}
    summary = {name: _summarize(values, signed=name in SIGNED) for name, values in columns.items()}
    median_srcc = _summarize(columns["srcc"], signed=False).median
    return ProtocolResult(
        n=features.shape[0],
        seeds=tuple(seeds),
        model=model if regressed else "training-free",
        srcc=columns["srcc"],
        krcc=columns["krcc"],
        plcc=columns["plcc"],
        rmse=columns["rmse"],
        summary=summary,
        direction=int(np.sign(median_srcc)) if math.isfinite(median_srcc) else 0,
        test_rows=int(_split(features.shape[0], seeds[0])[1].size),
        fit_flags=tuple(r[1] for r in rows),
    )


def _run_split(
    task: tuple[FloatArray, FloatArray, int, Model, Search, int, bool],
) -> SplitRow:
    features, target, split_seed, model, search, seed, regressed = task
    train, test = _split(features.shape[0], split_seed)
    # One BLAS thread for the whole split (the regression and the logistic fit of its metrics):
    # the splits are the parallel unit, and the arithmetic is then the same whatever the number
    # of processes.
    with threadpool_limits(limits=1, user_api="blas"):
        if regressed:
            predicted = predict_regressed(
                features, target, train, test, model, search, split_seed + seed
            )
        else:
            predicted = predict_training_free(features, train, test)
        return _test_metrics(predicted, target[test])


def _split(n: int, seed: int) -> tuple[IndexArray, IndexArray]:
    train, test = train_test_split(np.arange(n), test_size=TEST_SIZE, random_state=seed)
    return np.asarray(train, dtype=np.intp), np.asarray(test, dtype=np.intp)


def _test_metrics(predicted: FloatArray, y: FloatArray) -> SplitRow:
    """SRCC, KRCC, PLCC and RMSE on one test split (metrics.evaluate), NaN where undefined,
    and the logistic fit's flag."""
    try:
        found = evaluate(predicted, y)
    except InputError:  # a constant side on this split: no correlation is defined
        # The mapping of a constant prediction is the mean MOS; its error is still defined.
        rmse = (
            float(np.sqrt(np.mean((y - np.mean(y)) ** 2))) if np.ptp(predicted) == 0 else math.nan
        )
        return (math.nan, math.nan, math.nan, rmse), None
    return (found.srcc, found.krcc, found.plcc, found.rmse), found.fit_flag


def _summarize(values: FloatArray, *, signed: bool) -> Summary:
    """Median and std of the finite values; ``signed``: the median's magnitude, as the benchmark
    reports it (the std is of the signed values)."""
    summary = summarize(values[np.isfinite(values)])
    median = abs(summary["median"]) if signed else summary["median"]
    return Summary(median, summary["std"])


def _impute(features: FloatArray, train: IndexArray) -> FloatArray:
    """Infinities → NaN → the training split's column mean (0 for an all-missing column)."""
    out = np.where(np.isfinite(features), features, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(out[train], axis=0)
    means = np.where(np.isfinite(means), means, 0.0)
    missing = np.isnan(out)
    out[missing] = np.broadcast_to(means, out.shape)[missing]
    return out


def _as_matrix(x: npt.ArrayLike, name: str) -> FloatArray:
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        msg = f"{name} must be numeric (clips × features); converting it failed: {error}."
        raise InputError(msg) from error
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] == 0:
        msg = (
            f"{name} must be 1-D (one score per clip) or 2-D (clips × features); "
            f"got shape {array.shape}. Reshape it to (n_clips, n_features)."
        )
        raise InputError(msg)
    return array


def _as_vector(values: npt.ArrayLike, name: str, n: int) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.shape[0] != n:
        msg = (
            f"{name} has {array.shape[0]} values but the features have {n} rows; "
            "pass one value per clip, in the same order."
        )
        raise InputError(msg)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        msg = (
            f"{name} must be finite; value {array[bad[0]]!r} at index {int(bad[0])} "
            f"({bad.size} non-finite in all). Drop those clips first."
        )
        raise InputError(msg)
    return array


def _check_count(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        msg = f"{name} must be an integer ≥ {minimum}; got {value!r}."
        raise InputError(msg)


def _check_search(search: str) -> None:
    if search not in SEARCHES:
        msg = (
            f"search must be one of {', '.join(SEARCHES)}; got {search!r}. "
            "'random-exact' reproduces the benchmark's search bit for bit; 'random' is its fast "
            "approximation (capped cross-validation fits)."
        )
        raise InputError(msg)


def _check_model(model: str) -> None:
    if model not in MODELS:
        msg = f"model must be one of {', '.join(MODELS)}; got {model!r}."
        raise InputError(msg)
