"""Reproduce the UGC-VQA benchmark's KoNViD-1k numbers with ``second_opinion.audit.protocol``.

    python benchmarks/run_audit.py --splits 100 --jobs 2 [--signals NIQE,BRISQUE,VIDEVAL]

Runs the published protocol (100 random 80/20 splits, SVR whose C and gamma are picked by the
benchmark script's randomized search for feature sets, the raw score for NIQE) on the real data in
``../shared/real/konvid-1k`` and prints,
per signal, the median (std) SRCC and PLCC next to the published values, and the wall time.
Exits 1 when a median is further than ``--tolerance`` from the published value.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.io

from second_opinion.audit.protocol import run_protocol

DATA = Path(__file__).resolve().parents[2] / "shared" / "real" / "konvid-1k"

# signal: (file, variable, published median SRCC, published median PLCC), Tu et al. 2021
PUBLISHED: dict[str, tuple[str, str, float, float]] = {
    "NIQE": ("KONVID_1K_NIQE_scores.mat", "y_pred", 0.5417, 0.5530),
    "BRISQUE": ("KONVID_1K_BRISQUE_feats.mat", "feats_mat", 0.6567, 0.6576),
    "VIDEVAL": ("KONVID_1K_VIDEVAL_feats.mat", "feats_mat", 0.7832, 0.7803),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--model", choices=["svr", "ridge"], default="svr")
    parser.add_argument("--signals", default="BRISQUE,VIDEVAL")
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data at {args.data}; pass --data", file=sys.stderr)
        return 2
    mos = np.ravel(scipy.io.loadmat(args.data / "KONVID_1K_NIQE_scores.mat")["MOS"])
    failed = False
    print(
        f"{'signal':<8} {'SRCC':>16} {'published':>10} {'PLCC':>16} {'published':>10} {'time':>8}"
    )
    for name in args.signals.split(","):
        file, variable, srcc_pub, plcc_pub = PUBLISHED[name]
        features = scipy.io.loadmat(args.data / file)[variable]
        if name == "NIQE":
            features = np.ravel(features)
        start = time.perf_counter()
        result = run_protocol(features, mos, splits=args.splits, model=args.model, jobs=args.jobs)
        wall = time.perf_counter() - start
        srcc, plcc = result.summary["srcc"], result.summary["plcc"]
        print(
            f"{name:<8} {srcc.median:.4f} ({srcc.std:.4f}) {srcc_pub:>10.4f} "
            f"{plcc.median:.4f} ({plcc.std:.4f}) {plcc_pub:>10.4f} {wall:>7.1f}s",
            flush=True,
        )
        print(f"  per-split |SRCC|: {np.round(np.abs(result.srcc), 4).tolist()}", flush=True)
        print(f"  per-split PLCC: {np.round(result.plcc, 4).tolist()}", flush=True)
        if max(abs(srcc.median - srcc_pub), abs(plcc.median - plcc_pub)) > args.tolerance:
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
