"""Time ``batch --executor ray`` against the local executor on W2: three jobs, one per sidecar.

    python benchmarks/generate.py --workloads W2                     # once
    ray start --head --num-cpus 2 --include-dashboard false          # optional: a running cluster
    python benchmarks/run_ray.py --ray-address 127.0.0.1:6379        # or no address: a new local
                                                                     # Ray instance per run

Each repetition runs the manifest into fresh folders with each executor, checks that the outputs
hold the same rows (floats to 1e-12 relative), and prints the wall times (medians). On one
machine Ray can only add overhead (starting or joining the cluster, the up-front check of every
node, task dispatch); the numbers say how much.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from _corpus import DEFAULT_DATA, FRAME, KEY, POOL, Corpus
from _measure import wait_until_idle
from run_batch import batch_command, ready_inputs, run_tree_measured, statuses

WORKLOAD = "W2"


def write_manifest(corpus: Corpus, fmt: str, folder: Path) -> Path:
    """Three jobs, each joining one of W2's per-frame sidecars onto the base."""
    jobs = [
        {
            "name": f"w2-{scorer}",
            "features": str(corpus.base(fmt)),
            "sidecars": [
                {"scorer": scorer, "path": str(path), "frame_column": FRAME, "pool": list(POOL)}
            ],
            "output": f"w2-{scorer}.parquet",
        }
        for scorer, path in corpus.sidecars(WORKLOAD, fmt).items()
    ]
    manifest = {
        "version": 1,
        "output_dir": str(folder / "out"),
        "defaults": {"key": [KEY]},
        "jobs": jobs,
    }
    path = folder / "batch.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


def same_outputs(left: Path, right: Path) -> bool:
    """Whether two runs' outputs hold the same rows: equal keys and text, and floats equal to
    1e-12 relative (DuckDB sums each thread's part of a large table in the order the threads
    finish, so means and deviations may differ in their last bits from run to run)."""
    names = sorted(p.name for p in left.glob("*.parquet"))
    if names != sorted(p.name for p in right.glob("*.parquet")):
        return False
    for name in names:
        a, b = pq.read_table(left / name), pq.read_table(right / name)
        if a.column_names != b.column_names or a.num_rows != b.num_rows:
            return False
        for column in a.column_names:
            x, y = a.column(column).to_numpy(), b.column(column).to_numpy()
            if x.dtype.kind == "f":
                if not np.allclose(x, y, rtol=1e-12, atol=0.0, equal_nan=True):
                    return False
            elif not (x == y).all():
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ray-address", help="a running cluster (default: a new local instance)")
    args = parser.parse_args()

    corpus = Corpus.at(args.data, args.scale)
    ready_inputs(corpus, args.format)
    ray_options = ["--executor", "ray"]
    if args.ray_address:
        ray_options += ["--ray-address", args.ray_address]
    times: dict[str, list[float]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory(prefix="so-bench-ray-") as tmp:
        folder = Path(tmp)
        manifest = write_manifest(corpus, args.format, folder)
        for index in range(args.repeat):
            for name, extra in (("local", []), ("ray", ray_options)):
                out = folder / f"{name}-{index}"
                wait_until_idle()
                start = time.perf_counter()
                run = run_tree_measured(batch_command(manifest, out, *extra))
                times[name].append(time.perf_counter() - start)
                if statuses(run) != ["done"] * 3:
                    msg = f"{name} run did not finish: {run.stdout[:500]}"
                    raise SystemExit(msg)
            if not same_outputs(folder / f"ray-{index}", folder / f"local-{index}"):
                msg = "the Ray executor's outputs differ from the local executor's"
                raise SystemExit(msg)
    local, remote = statistics.median(times["local"]), statistics.median(times["ray"])
    where = f"cluster at {args.ray_address}" if args.ray_address else "a new local Ray instance"
    print(
        f"{WORKLOAD} {args.format} scale {args.scale:g}, 3 jobs: local {local:.2f} s, "
        f"ray ({where}) {remote:.2f} s (+{remote - local:.2f} s); same outputs"
    )


if __name__ == "__main__":
    main()
