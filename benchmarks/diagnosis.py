"""What the key diagnosis costs: a join of 150,000 clips with one per-clip sidecar whose keys
match all, most, or none of the base's, timed with and without the diagnosis.

    python benchmarks/diagnosis.py --clips 150000 --repeat 5

The corpus and four sidecars are written to a temporary folder as Parquet (keys ``clip<n>``):
**full** has every key (the diagnosis does not run); **w1** lacks ~2 % and has ~0.5 % extra keys,
as the W1 benchmark's sidecars (the diagnosis runs and finds nothing); **paths** keys every clip
as ``videos/clip<n>.mp4`` (nothing matches; the fix is ``basename, stem``); **renamed** keys
every clip by a row number and holds the clip's file name in another column (the fix is a key
map with ``stem``). Each join runs in this process (``join`` with ``allow_no_match``), the
median of ``--repeat`` runs is reported, and the diagnosis's own time is measured around its
function; ``off`` runs the same join with the diagnosis replaced by one that finds nothing.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from second_opinion import JoinSpec, SidecarSpec, join

SIDECARS = {
    "full": "SELECT 'clip' || i AS clip_id, i / 7 AS s FROM range({n}) t(i)",
    "w1": (
        "SELECT 'clip' || i AS clip_id, i / 7 AS s FROM range({n}) t(i) WHERE hash(i) % 50 <> 0 "
        "UNION ALL SELECT 'extra' || i, 1.0 FROM range({n} // 200) t(i)"
    ),
    "paths": "SELECT 'videos/clip' || i || '.mp4' AS clip_id, i / 7 AS s FROM range({n}) t(i)",
    "renamed": (
        "SELECT 'v' || i AS clip_id, 'clip' || i || '.MP4' AS name, i / 7 AS s FROM range({n}) t(i)"
    ),
}


def write_inputs(folder: Path, clips: int) -> dict[str, Path]:
    """The base table and the sidecars, as Parquet files in ``folder``."""
    con = duckdb.connect()
    paths = {"base": folder / "base.parquet"}
    con.execute(
        f"COPY (SELECT 'clip' || i AS clip_id, i % 5 + 1.0 AS mos FROM range({clips}) t(i)) "
        f"TO '{paths['base']}'"
    )
    for name, query in SIDECARS.items():
        paths[name] = folder / f"{name}.parquet"
        con.execute(f"COPY ({query.format(n=clips)}) TO '{paths[name]}'")
    return paths


def timed(case: str, paths: dict[str, Path], repeat: int, *, diagnose: bool) -> dict[str, Any]:
    """The median join time, diagnosis time and the fix found, for one sidecar."""
    coverage = importlib.import_module("second_opinion.join.coverage")
    real: Callable[..., Any] = coverage.diagnose
    spent: list[float] = []

    def measured(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        found = real(*args, **kwargs)
        spent.append(time.perf_counter() - start)
        return found

    coverage.diagnose = measured if diagnose else (lambda *args, **kwargs: ())
    spec = JoinSpec(
        features=paths["base"],
        key=("clip_id",),
        sidecars=(SidecarSpec(scorer="x", path=paths[case], allow_no_match=True),),
    )
    totals, diagnoses, fix = [], [], "-"
    try:
        for _ in range(repeat):
            spent.clear()
            start = time.perf_counter()
            result = join(spec)
            totals.append(time.perf_counter() - start)
            diagnoses.append(sum(spent))
            report = result.coverage[0]
            fix = report.diagnosis[0].said() if report.diagnosis else "-"
    finally:
        coverage.diagnose = real
    return {
        "case": case,
        "coverage": f"{100 * report.coverage:.2f} %",
        "join": statistics.median(totals),
        "diagnosis": statistics.median(diagnoses),
        "fix": fix,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="diagnosis-") as tmp:
        paths = write_inputs(Path(tmp), args.clips)
        print("| sidecar | coverage | join, diagnosis on | of which diagnosis | join, off | fix |")
        print("|---|---:|---:|---:|---:|---|")
        for case in SIDECARS:
            on = timed(case, paths, args.repeat, diagnose=True)
            off = timed(case, paths, args.repeat, diagnose=False)
            print(
                f"| {case} | {on['coverage']} | {on['join']:.3f} s | {on['diagnosis']:.3f} s | "
                f"{off['join']:.3f} s | {on['fix']} |"
            )


if __name__ == "__main__":
    main()
