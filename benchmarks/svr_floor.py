"""Where the KoNViD-1k example's audit time goes: libsvm's own solver time, and what a lower
cross-validation cap would trade for it.

    python benchmarks/svr_floor.py OUTPUT.parquet --splits 20
    python benchmarks/svr_floor.py OUTPUT.parquet --splits 100 --caps 2000,1500,1000 --jobs 2

``OUTPUT.parquet`` is the example's materialized table (``second-opinion batch
examples/konvid-1k/manifest.json``). The example's audit runs five SVR protocols (VIDEVAL,
BRISQUE, and the gain's VIDEVAL + BRISQUE, + NIQE, + both), 100 splits each.

Without ``--caps``: one process, one BLAS thread; per feature set, the CPU seconds of a whole
split (as the protocol runs it) and of its libsvm fits alone (``SVR.fit``: the 30 capped
cross-validation fits and the uncapped refit), then the example's floor on 2 cores: what the
five protocols would take if everything but libsvm's solver cost nothing.

With ``--caps``: the split protocol at each cross-validation cap, every set, ``--splits`` splits
in ``--jobs`` forked processes: per set and cap, the splits whose (C, gamma) choice differs from
the first cap's, the median SRCC / PLCC, the largest per-split |ΔSRCC|, and CPU per split.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVR
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from second_opinion.audit import protocol, svr_search

SETS = {
    "VIDEVAL": ("so_videval_",),
    "BRISQUE": ("so_brisque_",),
    "VIDEVAL + BRISQUE": ("so_videval_", "so_brisque_"),
    "VIDEVAL + NIQE": ("so_videval_", "so_niqe_"),
    "VIDEVAL + both": ("so_videval_", "so_brisque_", "so_niqe_"),
}
EXAMPLE_SPLITS = 100
CORES = 2
_FIT_SECONDS = [0.0]
_DATA: dict[str, Any] = {}


def _load(path: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    table = pq.read_table(path)
    mos = np.asarray(table.column("mos").to_numpy(), dtype=np.float64)
    matrices = {}
    for name, prefixes in SETS.items():
        columns = [c for p in prefixes for c in table.column_names if c.startswith(p)]
        matrices[name] = np.column_stack(
            [np.asarray(table.column(c).to_numpy(zero_copy_only=False), float) for c in columns]
        )
    return matrices, mos


def _timed_fit(original: Any) -> Any:
    def fit(self: SVR, *args: Any, **kwargs: Any) -> SVR:
        start = time.process_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            _FIT_SECONDS[0] += time.process_time() - start

    return fit


def floor(matrices: dict[str, np.ndarray], mos: np.ndarray, splits: int) -> None:
    SVR.fit = _timed_fit(SVR.fit)  # type: ignore[method-assign]
    seeds = protocol.split_seeds(splits)
    total_floor = total_split = 0.0
    print(f"{'set':20} {'columns':>7} {'split CPU s':>12} {'libsvm CPU s':>13} {'share':>6}")
    for name, x in matrices.items():
        _FIT_SECONDS[0] = 0.0
        start = time.process_time()
        for seed in seeds:
            protocol._run_split((x, mos, seed, "svr", "random", 0, True))
        split = (time.process_time() - start) / splits
        fits = _FIT_SECONDS[0] / splits
        total_split += split
        total_floor += fits
        print(f"{name:20} {x.shape[1]:7d} {split:12.3f} {fits:13.3f} {fits / split:6.0%}")
    scale = EXAMPLE_SPLITS / CORES
    print(
        f"the example's five protocols on {CORES} cores: {total_split * scale:.0f} s as run, "
        f"{total_floor * scale:.0f} s if only libsvm's solver cost anything"
    )


def _cap_split(task: tuple[str, int, int]) -> tuple[str, int, int, tuple[float, float], Any, float]:
    name, seed, cap = task
    svr_search.CV_MAX_ITER = cap
    x, mos = _DATA["matrices"][name], _DATA["mos"]
    start = time.process_time()
    train, test = protocol._split(mos.size, seed)
    features = protocol._impute(x, train)
    scaler = MinMaxScaler().fit(features[train])
    x_train, x_test = scaler.transform(features[train]), scaler.transform(features[test])
    with threadpool_limits(limits=1, user_api="blas"):
        choice = svr_search.svr_choice(x_train, mos[train], "random", seed)
        predicted = svr_search.svr_search(x_train, mos[train], x_test, "random", seed)
        metrics = protocol._test_metrics(predicted, mos[test])[0]
    return name, seed, cap, choice, metrics, time.process_time() - start


def caps(
    matrices: dict[str, np.ndarray], mos: np.ndarray, splits: int, caps_: list[int], jobs: int
) -> None:
    _DATA.update(matrices=matrices, mos=mos)
    tasks = [(n, s, c) for c in caps_ for n in matrices for s in protocol.split_seeds(splits)]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        rows = pool.map(_cap_split, tasks, chunksize=4)
    found = {(n, c, s): (ch, m, cpu) for n, s, c, ch, m, cpu in rows}
    header = ("set", "cap", "changed", "SRCC", "PLCC", "max |dSRCC|", "CPU s")
    print("{:20} {:>5} {:>8} {:>7} {:>7} {:>12} {:>6}".format(*header))
    for name in matrices:
        seeds = protocol.split_seeds(splits)
        first = [found[(name, caps_[0], s)] for s in seeds]
        for cap in caps_:
            now = [found[(name, cap, s)] for s in seeds]
            changed = sum(a[0] != b[0] for a, b in zip(now, first, strict=True))
            srcc = np.array([r[1][0] for r in now])
            delta = np.max(np.abs(srcc - np.array([r[1][0] for r in first])))
            print(
                f"{name:20} {cap:5d} {changed:8d} {np.median(srcc):7.4f} "
                f"{np.median([r[1][2] for r in now]):7.4f} {delta:12.4f} "
                f"{np.mean([r[2] for r in now]):6.3f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", type=Path)
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument(
        "--caps", help="comma-separated cross-validation caps, the first the reference"
    )
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    matrices, mos = _load(args.table)
    if args.caps:
        caps(matrices, mos, args.splits, [int(c) for c in args.caps.split(",")], args.jobs)
    else:
        with threadpool_limits(limits=1, user_api="blas"):
            floor(matrices, mos, args.splits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
