"""Generate the synthetic corpora of the join benchmark, with DuckDB.

    python benchmarks/generate.py --scale 1 --workloads W1,W2 --formats parquet,jsonl

Values are deterministic: every number is ``hash(SEED, tag, row…) / 2**64``, so a rerun with the
same DuckDB version writes the same files. Sidecar rows come in a different order from the base
(a fixed permutation of the clips), ~2 % of the base keys are missing from each sidecar and
~0.5 % of the sidecar keys are extra (not in the base). Existing files are kept unless ``--force``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import duckdb

from _corpus import (
    DEFAULT_DATA,
    EXTRA_FRACTION,
    FEATURES,
    FRAME,
    FRAMES,
    KEY,
    MISSING_PER_MILLE,
    SCORERS,
    SCORES,
    SEED,
    Corpus,
    base_clips,
    check_formats,
    check_workloads,
    split_list,
)

_TWO_64 = "18446744073709551616.0"


def _uniform(*parts: str | int) -> str:
    """A DOUBLE in [0, 1) determined by ``parts`` (SQL expressions or integers)."""
    return f"(hash({SEED}, {', '.join(str(p) for p in parts)}) / {_TWO_64})"


def _clip_id(index: str) -> str:
    return f"printf('clip%07d', {index})"


def base_sql(n: int) -> str:
    """The base table: ``n`` clips with a MOS and float features, in clip order."""
    features = ", ".join(
        f"CAST({_uniform(k, 'i')} AS FLOAT) AS f{k:02d}" for k in range(1, FEATURES + 1)
    )
    return (
        f"SELECT {_clip_id('i')} AS {KEY}, 1 + 4 * {_uniform(0, 'i')} AS mos, {features} "
        f"FROM range({n}) t(i)"
    )


def _permutation(m: int, salt: int) -> tuple[int, int]:
    """A multiplier coprime with ``m`` (so ``pos * mult % m`` permutes) and an offset."""
    mult = max(1, int(m * 0.6180339887))
    while math.gcd(mult, m) != 1:
        mult += 1
    return mult, (salt + 1) * m // 7


def sidecar_sql(n: int, scorer_index: int, *, per_frame: bool) -> str:
    """One sidecar over the ``n`` base clips: shuffled keys, some missing, some extra."""
    m = n + round(n * EXTRA_FRACTION)  # keys n..m-1 are not in the base
    mult, offset = _permutation(m, scorer_index)
    tag = 100 * (scorer_index + 1) + (50 if per_frame else 0)
    pos = f"(r // {FRAMES})" if per_frame else "r"
    rows = m * FRAMES if per_frame else m
    keep = f"j >= {n} OR hash({SEED}, {tag}, j) % 1000 >= {MISSING_PER_MILLE}"
    frame = f"r % {FRAMES}"
    cell = ("j", frame) if per_frame else ("j",)
    scores = ", ".join(
        f"{10**c} * {_uniform(tag + 1 + c, *cell)} AS {name}" for c, name in enumerate(SCORES)
    )
    columns = f"{_clip_id('j')} AS {KEY}" + (f", {frame} AS {FRAME}" if per_frame else "")
    shuffled = f"SELECT r, ({pos} * {mult} + {offset}) % {m} AS j FROM range({rows}) t(r)"
    return f"SELECT {columns}, {scores} FROM ({shuffled}) WHERE {keep}"


def write(con: duckdb.DuckDBPyConnection, query: str, path: Path, *, force: bool) -> None:
    """Write ``query`` to ``path`` (format from the suffix) unless it exists; atomically."""
    if path.exists() and not force:
        print(f"kept      {path}")
        return
    options = "(FORMAT parquet, COMPRESSION zstd)" if path.suffix == ".parquet" else "(FORMAT json)"
    tmp = path.with_name(f".{path.name}.tmp")
    start = time.perf_counter()
    con.execute(f"COPY ({query}) TO '{tmp}' {options}")
    tmp.replace(path)
    size = path.stat().st_size / 2**20
    print(f"generated {path} ({size:,.0f} MiB, {time.perf_counter() - start:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="150,000 x SCALE base clips")
    parser.add_argument("--out", type=Path, default=DEFAULT_DATA, help="data directory")
    parser.add_argument("--formats", default="parquet,jsonl", help="comma-separated formats")
    parser.add_argument("--workloads", default="W1,W2", help="comma-separated workloads")
    parser.add_argument("--force", action="store_true", help="regenerate existing files")
    args = parser.parse_args()
    formats = check_formats(split_list(args.formats))
    workloads = check_workloads(split_list(args.workloads))
    corpus = Corpus.at(args.out, args.scale)
    corpus.root.mkdir(parents=True, exist_ok=True)
    n = base_clips(args.scale)
    con = duckdb.connect()
    for fmt in formats:
        write(con, base_sql(n), corpus.base(fmt), force=args.force)
        for workload in workloads:
            for index, scorer in enumerate(SCORERS):
                query = sidecar_sql(n, index, per_frame=workload == "W2")
                write(con, query, corpus.sidecar(workload, scorer, fmt), force=args.force)


if __name__ == "__main__":
    main()
