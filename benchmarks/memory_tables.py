"""In-memory tables against the same data in Parquet files: the join's time, and the content hash.

    python benchmarks/memory_tables.py [--clips 150000] [--repeat 3]

A W1-shaped corpus (``clip_id``, ``mos``, 60 float features; three per-clip sidecars of two
scores each, ~2 % of keys missing) is built as pyarrow Tables and written to Parquet once. Timed,
in this process (minimum of ``--repeat`` runs): ``join_to_file`` from the files, from the
in-memory tables, and from the tables with ``provenance=True`` (which hashes every input); and
``content_sha256`` of the base table alone (ADR 0023).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from second_opinion import JoinSpec, SidecarSpec, join_to_file
from second_opinion.tables.memory import content_sha256

SCORERS = ("a", "b", "c")


def tables(clips: int) -> dict[str, pa.Table]:
    """The base table and one sidecar per scorer."""
    rng = np.random.default_rng(20_240_601)
    ids = pa.array([f"clip{i:07d}" for i in range(clips)])
    base = {"clip_id": ids, "mos": rng.uniform(1, 5, clips)}
    base |= {f"f{j:02d}": rng.normal(size=clips).astype(np.float32) for j in range(1, 61)}
    found = {"base": pa.table(base)}
    for scorer in SCORERS:
        keep = rng.random(clips) >= 0.02
        found[scorer] = pa.table(
            {
                "clip_id": ids.filter(pa.array(keep)),
                "x": rng.normal(size=int(keep.sum())),
                "y": rng.normal(size=int(keep.sum())),
            }
        )
    return found


def spec(inputs: dict[str, object]) -> JoinSpec:
    """The join of the three sidecars onto the base."""
    sidecars = tuple(SidecarSpec(scorer=s, path=inputs[s]) for s in SCORERS)
    return JoinSpec(features=inputs["base"], key=("clip_id",), sidecars=sidecars)


def best(repeat: int, run: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    made = tables(args.clips)
    with tempfile.TemporaryDirectory() as folder:
        files: dict[str, object] = {}
        for name, table in made.items():
            files[name] = Path(folder) / f"{name}.parquet"
            pq.write_table(table, files[name])
        out = Path(folder) / "out.parquet"
        memory: dict[str, object] = dict(made)
        rows = {
            "join_to_file, Parquet files": lambda: join_to_file(spec(files), out),
            "join_to_file, in-memory pyarrow Tables": lambda: join_to_file(spec(memory), out),
            "  the same, provenance=True": lambda: join_to_file(spec(memory), out, provenance=True),
            "content_sha256 of the base table": lambda: content_sha256(made["base"]),
        }
        size = made["base"].nbytes / 2**20
        print(f"{args.clips:,} clips; base {size:.0f} MiB in memory; best of {args.repeat}")
        for label, run in rows.items():
            print(f"{label:<42} {best(args.repeat, run):6.2f} s")


if __name__ == "__main__":
    main()
