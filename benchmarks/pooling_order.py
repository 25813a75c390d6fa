"""The cost of order-independent pooling (ADR 0019), side by side with DuckDB's plain aggregates.

    python benchmarks/pooling_order.py [--clips 30000] [--frames 150] [--repeat 3]

Writes a per-frame table (``clips`` × ``frames`` rows, frames of a clip scattered, fixed seed) to
a temporary Parquet file, then pools it per clip with ``mean, p5, std`` two ways, each in a fresh
process, alternating: the plain aggregates (``avg``, ``stddev_samp``: their sums follow the order
threads meet the rows, so the last bit can differ between runs) and the statistics as
``second_opinion.join.pooling`` writes them (each clip's values sorted, then added). Prints the
median wall time and peak RSS of each, and whether repeated runs gave identical bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from _measure import run_measured
from second_opinion.join.pooling import pool_sql

PLAIN = {"mean": "avg(x)", "p5": "quantile_cont(x, 0.05)", "std": "stddev_samp(x)"}


def _query(variant: str, path: Path) -> str:
    stats = PLAIN if variant == "plain" else {s: pool_sql(s, "x") for s in PLAIN}  # type: ignore[arg-type]
    columns = ", ".join(f"{sql} AS {name}" for name, sql in stats.items())
    return f"SELECT clip, {columns} FROM read_parquet('{path}') GROUP BY clip ORDER BY clip"


def _child(variant: str, path: Path) -> None:
    rows = duckdb.connect().execute(_query(variant, path)).fetchall()
    print(hashlib.sha256(repr(rows).encode()).hexdigest())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=30_000)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["plain", "sorted"])
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.path)
        return
    rng = np.random.default_rng(19)
    n = args.clips * args.frames
    order = rng.permutation(n)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "frames.parquet"
        table = pa.table(
            {"clip": np.repeat(np.arange(args.clips), args.frames)[order],
             "x": rng.lognormal(3.0, 1.5, n)}
        )  # fmt: skip
        pq.write_table(table, path, row_group_size=100_000)
        print(f"{n:,} frame rows, {args.clips:,} clips; mean, p5, std per clip")
        runs: dict[str, list[tuple[float, int, str]]] = {"plain": [], "sorted": []}
        for _ in range(args.repeat):
            for variant, measured in runs.items():
                run = run_measured(
                    [sys.executable, __file__, "--child", variant, "--path", str(path)]
                )
                measured.append((run.seconds, run.peak_rss, run.stdout.strip()))
        for variant, measured in runs.items():
            seconds = statistics.median(m[0] for m in measured)
            rss = statistics.median(m[1] for m in measured) / 2**20
            digests = len({m[2] for m in measured})
            print(f"{variant:<7} {seconds:6.2f} s  {rss:7.0f} MiB  {digests} distinct output(s)")


if __name__ == "__main__":
    main()
