"""The audit's SVR split protocol against the UGC-VQA benchmark's own loop, side by side, one run.

    python benchmarks/protocol_vs_benchmark.py --splits 100 --jobs 2 [--signal BRISQUE]
        [--search random] [--also-exact] [--benchmark-jobs 4]

The **measurement baseline** is a re-creation of the per-split loop of the benchmark's
``evaluate_bvqa_features.py`` (Tu et al., IEEE TIP 2021; the script itself is not part of this
repository), as it runs it: the features' infinities → NaN → the column mean over all clips
(``SimpleImputer``); per split ``i`` ``train_test_split(test_size=0.2,
random_state=ceil(8.8·i))``; ``MinMaxScaler`` fitted on the training part;
``RandomizedSearchCV(SVR(kernel='rbf'), {C: 2^1..2^10, gamma: 2^-8..2^1}, cv=3, n_jobs=4)``
(10 draws, refitted on the training part), then ``SVR(C, gamma)`` of the best parameters fitted
again and predicting both parts; the 4-parameter logistic fitted with ``curve_fit`` (``maxfev``
1e8) on the training and on the test predictions, SRCC, KRCC, PLCC and RMSE of both. The one
change: the search is seeded (``random_state`` = the split's seed, as the audit seeds it), so that
the two runs draw the same candidates and their numbers can be compared split by split; the
script leaves it unseeded.

Then ``run_protocol`` of ``second_opinion.audit.protocol`` over the same splits with ``--jobs``
worker processes (``--search``, default the audit's default; ``--also-exact`` adds a run of
``search='random-exact'``). Prints each run's wall time, the speed-up over the baseline, the
median |SRCC| and PLCC of each, and the largest and median per-split differences from the
baseline. Exits 1 when a median is further than ``--tolerance`` from the published one.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.io
from scipy import stats
from scipy.optimize import curve_fit
from sklearn.impute import SimpleImputer
from sklearn.model_selection import RandomizedSearchCV, train_test_split
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVR

from second_opinion.audit.protocol import run_protocol

DATA = Path(__file__).resolve().parents[2] / "shared" / "real" / "konvid-1k"
FILES = {"BRISQUE": "KONVID_1K_BRISQUE_feats.mat", "VIDEVAL": "KONVID_1K_VIDEVAL_feats.mat"}
PUBLISHED = {"BRISQUE": (0.6567, 0.6576), "VIDEVAL": (0.7832, 0.7803)}  # median SRCC, PLCC

FloatArray = npt.NDArray[np.float64]


def _logistic(x: FloatArray, b1: float, b2: float, b3: float, b4: float) -> FloatArray:
    """The benchmark's ``logistic_func``, as written there."""
    part = 1 + np.exp(np.negative(np.divide(x - b3, np.abs(b4))))
    out: FloatArray = b2 + np.divide(b1 - b2, part)
    return out


def _compute_metrics(y_pred: FloatArray, y: FloatArray) -> tuple[float, float, float, float]:
    """The benchmark's ``compute_metrics``: SRCC, KRCC, and PLCC and RMSE after the logistic."""
    beta_init = [np.max(y), np.min(y), np.mean(y_pred), 0.5]
    popt, _ = curve_fit(_logistic, y_pred, y, p0=beta_init, maxfev=int(1e8))
    mapped = _logistic(y_pred, *popt)
    plcc = float(stats.pearsonr(y, mapped)[0])
    rmse = float(np.sqrt(np.mean((y - mapped) ** 2)))
    srcc = float(stats.spearmanr(y, y_pred)[0])
    krcc = float(stats.kendalltau(y, y_pred)[0])
    return srcc, krcc, plcc, rmse


def benchmark_one_split(
    i: int, x: FloatArray, y: FloatArray, n_jobs: int
) -> tuple[float, float, float, float]:
    """The benchmark's ``evaluate_bvqa_one_split``: the test part's SRCC, KRCC, PLCC, RMSE."""
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=math.ceil(8.8 * i)
    )
    param_grid = {"C": np.logspace(1, 10, 10, base=2), "gamma": np.logspace(-8, 1, 10, base=2)}
    grid = RandomizedSearchCV(
        SVR(kernel="rbf"), param_grid, cv=3, n_jobs=n_jobs, random_state=math.ceil(8.8 * i)
    )
    scaler = MinMaxScaler().fit(x_train)
    x_train = scaler.transform(x_train)
    grid.fit(x_train, y_train)
    best = grid.best_params_
    regressor = SVR(kernel="rbf", gamma=best["gamma"], C=best["C"])
    regressor.fit(x_train, y_train)
    y_train_pred = regressor.predict(x_train)
    y_test_pred = regressor.predict(scaler.transform(x_test))
    _compute_metrics(y_train_pred, y_train)  # the script reports the training part's too
    return _compute_metrics(y_test_pred, y_test)


def benchmark(x: FloatArray, y: FloatArray, splits: int, n_jobs: int) -> FloatArray:
    """The benchmark's main loop (its preprocessing, then one split after another)."""
    x = np.array(x, dtype=np.float64)
    x[np.isinf(x)] = np.nan
    x = SimpleImputer(missing_values=np.nan, strategy="mean").fit(x).transform(x)
    with warnings.catch_warnings(), np.errstate(over="ignore"):
        warnings.simplefilter("ignore")  # the script runs through overflow warnings
        rows = [benchmark_one_split(i, x, y, n_jobs) for i in range(1, splits + 1)]
    return np.asarray(rows, dtype=np.float64)


def _medians(srcc: FloatArray, plcc: FloatArray) -> tuple[float, float]:
    return abs(float(np.median(srcc))), abs(float(np.median(plcc)))


def _load(after: str) -> None:
    """The machine's load averages: other work on a shared machine slows both runs."""
    one, five, _ = os.getloadavg()
    print(f"  (after {after}: load average {one:.1f} over 1 min, {five:.1f} over 5)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--signal", choices=sorted(FILES), default="BRISQUE")
    parser.add_argument("--search", default="random")
    parser.add_argument("--also-exact", action="store_true")
    parser.add_argument("--benchmark-jobs", type=int, default=4, help="the script's n_jobs")
    parser.add_argument("--skip-benchmark", action="store_true")
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data at {args.data}; pass --data", file=sys.stderr)
        return 2
    features = np.asarray(
        scipy.io.loadmat(args.data / FILES[args.signal])["feats_mat"], dtype=np.float64
    )
    with (args.data / "KONVID_1K_metadata.csv").open(encoding="utf-8", newline="") as handle:
        mos = np.array([float(row["mos"]) for row in csv.DictReader(handle)])
    runs: dict[str, tuple[float, FloatArray, FloatArray]] = {}
    if not args.skip_benchmark:
        start = time.perf_counter()
        table = benchmark(features, mos, args.splits, args.benchmark_jobs)
        runs["benchmark loop"] = (time.perf_counter() - start, table[:, 0], table[:, 2])
        _load("benchmark loop")
    searches = [args.search] + (["random-exact"] if args.also_exact else [])
    for search in searches:
        start = time.perf_counter()
        result = run_protocol(features, mos, splits=args.splits, search=search, processes=args.jobs)
        runs[f"audit search={search}"] = (time.perf_counter() - start, result.srcc, result.plcc)
        _load(f"audit search={search}")
    published = PUBLISHED[args.signal]
    print(
        f"{args.signal}, {args.splits} splits; published median SRCC {published[0]:.4f} "
        f"PLCC {published[1]:.4f}"
    )
    reference = runs.get("benchmark loop")
    failed = False
    for name, (wall, srcc, plcc) in runs.items():
        median_srcc, median_plcc = _medians(srcc, plcc)
        line = f"{name:<28} {wall:7.1f} s  SRCC {median_srcc:.4f}  PLCC {median_plcc:.4f}"
        if reference is not None and name != "benchmark loop":
            d_srcc, d_plcc = np.abs(srcc - reference[1]), np.abs(plcc - reference[2])
            line += (
                f"  {reference[0] / wall:4.2f}x faster; per-split |d| vs the loop: SRCC max "
                f"{d_srcc.max():.4f} median {np.median(d_srcc):.4f}, PLCC max {d_plcc.max():.4f}"
                f" median {np.median(d_plcc):.4f}"
            )
        print(line, flush=True)
        if max(abs(median_srcc - published[0]), abs(median_plcc - published[1])) > args.tolerance:
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
