"""Time ``second-opinion join`` of a wide sidecar (thousands of score columns) against a plain
DuckDB read of the same file.

    python benchmarks/wide_sidecar.py --columns 1250,2500,5000 --rows 20 --repeat 1
    python benchmarks/wide_sidecar.py --columns 5000 --rows 200 --per-frame --repeat 1

For each width, a CSV sidecar (``clip_id`` and ``f0`` … ``f<N-1>``; with ``--per-frame`` also a
``frame`` column, 10 frames per clip, pooled with ``p5``) and a base table of its clips are
written to a temporary folder. Two programs run as fresh subprocesses (``_measure.py``: wall
time and exact peak RSS): **read**, ``python -c`` creating a DuckDB table from
``read_csv(sidecar)``, and **tool**, the CLI joining the sidecar onto the base and writing
Parquet. The target (issue 15): the tool within 2x of the read at 5,000 columns, and its cost
linear in the columns (the ratio column stays flat as the width doubles).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

from _measure import Run, median_run, run_measured, warm_cache
from _tool import working_tree

TARGET = 2.0


def write_inputs(folder: Path, columns: int, rows: int, *, per_frame: bool) -> tuple[Path, Path]:
    """The sidecar and base CSV files for ``columns`` score columns and ``rows`` rows."""
    side, base = folder / f"wide_{columns}.csv", folder / f"base_{columns}.csv"
    values = ", ".join(f"hash(i, {j}) % 1000000 / 1e3 AS f{j}" for j in range(columns))
    clip = "'c' || (i // 10)" if per_frame else "'c' || i"
    frame = "i % 10 AS frame, " if per_frame else ""
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT {clip} AS clip_id, {frame}{values} FROM range({rows}) t(i)) "
        f"TO '{side}' (HEADER)"
    )
    con.execute(
        f"COPY (SELECT DISTINCT {clip} AS clip_id, 1.0 AS mos FROM range({rows}) t(i) "
        f"ORDER BY clip_id) TO '{base}' (HEADER)"
    )
    return side, base


def measure(columns: int, rows: int, *, per_frame: bool, repeat: int) -> tuple[Run, Run]:
    """The median plain read and the median tool run, for one width."""
    tool = working_tree()
    with tempfile.TemporaryDirectory(prefix="wide-") as tmp:
        folder = Path(tmp)
        side, base = write_inputs(folder, columns, rows, per_frame=per_frame)
        warm_cache([side, base])
        read = [
            sys.executable,
            "-c",
            f"import duckdb; duckdb.sql(\"CREATE TABLE t AS SELECT * FROM read_csv('{side}')\")",
        ]
        pool = ["--frame-column", "frame", "--pool", "p5"] if per_frame else []
        join = [
            *tool.prefix,
            "join",
            "--features",
            str(base),
            "--sidecar",
            f"x={side}",
            "--key",
            "clip_id",
            *pool,
            "--output",
            str(folder / "out.parquet"),
        ]
        reads = [run_measured(read) for _ in range(repeat)]
        joins = [run_measured(join, tool.env) for _ in range(repeat)]
    return _median(reads), _median(joins)


def _median(runs: list[Run]) -> Run:
    seconds, peak = median_run(runs)
    return Run(seconds, peak, 0.0, 0.0, "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", default="1250,2500,5000")
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--per-frame", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print("| columns | rows | read s | read MiB | tool s | tool MiB | time ratio | memory ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for columns in (int(c) for c in args.columns.split(",")):
        read, tool = measure(columns, args.rows, per_frame=args.per_frame, repeat=args.repeat)
        print(
            f"| {columns:,} | {args.rows} | {read.seconds:.2f} | {read.peak_rss / 2**20:.0f} | "
            f"{tool.seconds:.2f} | {tool.peak_rss / 2**20:.0f} | "
            f"{tool.seconds / read.seconds:.1f}x | {tool.peak_rss / read.peak_rss:.1f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
