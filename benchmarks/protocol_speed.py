"""Time ``run_protocol`` (SVR, random search) on the real KoNViD-1k features, and check its numbers.

    python benchmarks/protocol_speed.py --splits 100 --jobs 2 --repeat 2 \
        [--signals BRISQUE,VIDEVAL] [--save ref.npz | --compare ref.npz]

Each run waits (up to ``--idle-timeout`` seconds) for the machine to be idle first, then prints
the wall time, the CPU time the protocol used (this process and its workers), the CPU time the
rest of the machine used meanwhile (other work skews the timing) and the median |SRCC| / PLCC;
then the median wall time.
``--save`` stores the per-split metrics of the last run; ``--compare`` reports the largest
per-split difference from stored ones (``{signal}_srcc``, ``{signal}_plcc`` arrays).
``--implementation FILE.py`` times another copy of the protocol module (say, an older revision
from ``git show REV:src/second_opinion/audit/protocol.py``) instead of the installed one.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from _measure import machine_busy_seconds, wait_until_idle
from second_opinion.audit import protocol

DATA = Path(__file__).resolve().parents[2] / "shared" / "real" / "konvid-1k"
FILES = {"BRISQUE": "KONVID_1K_BRISQUE_feats.mat", "VIDEVAL": "KONVID_1K_VIDEVAL_feats.mat"}


def _own_cpu_seconds() -> float:
    times = os.times()  # children count once reaped: the pool's workers, after the run
    return times.user + times.system + times.children_user + times.children_system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--signals", default="BRISQUE,VIDEVAL")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--idle-timeout", type=float, default=120.0)
    parser.add_argument("--implementation", type=Path)
    args = parser.parse_args()
    module = protocol
    if args.implementation:  # importable by name, so that spawned workers find it too
        sys.path.insert(0, str(args.implementation.resolve().parent))
        module = importlib.import_module(args.implementation.stem)
    mos = np.ravel(scipy.io.loadmat(args.data / "KONVID_1K_NIQE_scores.mat")["MOS"])
    saved: dict[str, Any] = {}
    reference = dict(np.load(args.compare)) if args.compare else {}
    for name in args.signals.split(","):
        features = scipy.io.loadmat(args.data / FILES[name])["feats_mat"]
        walls = []
        for run in range(args.repeat):
            wait_until_idle(timeout=args.idle_timeout)
            busy, own = machine_busy_seconds(), _own_cpu_seconds()
            start = time.perf_counter()
            result = module.run_protocol(
                features, mos, splits=args.splits, model="svr", jobs=args.jobs
            )
            wall = time.perf_counter() - start
            used = _own_cpu_seconds() - own
            others = machine_busy_seconds() - busy - used
            walls.append(wall)
            srcc, plcc = result.summary["srcc"].median, result.summary["plcc"].median
            print(
                f"{name} run {run + 1}: {wall:6.1f} s wall, {used:6.1f} CPU s "
                f"(other processes: {others:5.1f} CPU s)  "
                f"median |SRCC| {srcc:.4f}  PLCC {plcc:.4f}",
                flush=True,
            )
        print(f"{name}: median wall {statistics.median(walls):.1f} s over {len(walls)} runs")
        saved[f"{name}_srcc"], saved[f"{name}_plcc"] = result.srcc, result.plcc
        for metric in ("srcc", "plcc"):
            key = f"{name}_{metric}"
            if key in reference:
                ref = reference[key][: args.splits]
                diff = np.abs(saved[key] - ref)
                print(
                    f"  {metric}: max |Δ| vs {args.compare} = {np.nanmax(diff):.3g}; "
                    f"splits differing by > 1e-6: {int(np.sum(diff > 1e-6))}"
                )
    if args.save:
        np.savez(args.save, **saved)
    return 0


if __name__ == "__main__":
    sys.exit(main())
