"""Time the audit's bootstrap CIs: all resamples at once against the per-resample curve_fit loop.

    python benchmarks/bootstrap_speed.py --rows 1200 --resamples 1000 [--repeat 1]

On a synthetic prediction of MOS (``mos ~ N(3, 0.6)``, ``prediction = mos + N(0, 0.5)``, fixed
seed), times :func:`second_opinion.audit.bootstrap.bootstrap_ci` for SRCC and PLCC, and the
replaced PLCC implementation (``fit_logistic``, i.e. scipy's ``curve_fit``, on each resample in
a Python loop), side by side in one run: wall time and this process's CPU time (the machine may
be shared; CPU time is the steadier figure). Prints both intervals too; they agree within the
bootstrap's Monte Carlo error (tests/audit/test_audit_bootstrap.py checks that).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from second_opinion.audit.bootstrap import bootstrap_ci
from second_opinion.audit.metrics import _pearson, fit_logistic


def loop_plcc_ci(x: np.ndarray, y: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    """The replaced implementation: one ``curve_fit`` per resample."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(resamples, x.size))
    values = np.full(resamples, np.nan)
    for i in range(resamples):
        xb, yb = x[idx[i]], y[idx[i]]
        if np.ptp(xb) == 0 or np.ptp(yb) == 0:
            continue
        values[i] = _pearson(fit_logistic(xb, yb).predict(xb), yb)
    low, high = np.quantile(values[~np.isnan(values)], [0.025, 0.975])
    return float(low), float(high)


def timed(run: Callable[[], tuple[float, float]]) -> tuple[float, float, tuple[float, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    found = run()
    return time.perf_counter() - wall, time.process_time() - cpu, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1200)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    mos = rng.normal(3.0, 0.6, size=args.rows)
    x = mos + rng.normal(scale=0.5, size=args.rows)
    cases: dict[str, Callable[[], tuple[float, float]]] = {
        "srcc, batched": lambda: bootstrap_ci(x, mos, "srcc", resamples=args.resamples),
        "plcc, batched": lambda: bootstrap_ci(x, mos, "plcc", resamples=args.resamples),
        "plcc, curve_fit loop (before)": lambda: loop_plcc_ci(x, mos, args.resamples, 0),
    }
    print(f"{args.rows} rows, {args.resamples} resamples")
    for _ in range(args.repeat):
        for name, run in cases.items():
            wall, cpu, (low, high) = timed(run)
            print(f"{name:32s} wall {wall:7.2f} s  cpu {cpu:7.2f} s  CI [{low:.4f}, {high:.4f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
