"""Time ``second-opinion batch`` on W2: a first run with provenance, and an unchanged re-check.

    python benchmarks/generate.py --workloads W2        # once
    python benchmarks/run_batch.py --format parquet     # or jsonl

Targets (issue: batch manifests): the first run, which hashes every input and writes provenance,
stays within 1.3x of the hand-written DuckDB query; re-checking the unchanged batch (every job
up to date) takes under 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from _corpus import DEFAULT_DATA, FRAME, KEY, POOL, Corpus
from _measure import Run, median_run, run_measured, wait_until_idle, warm_cache
from run_join import hand_command

WORKLOAD = "W2"


def write_manifest(corpus: Corpus, fmt: str, folder: Path) -> Path:
    """A one-job manifest joining W2's three per-frame sidecars onto the base."""
    sidecars = [
        {"scorer": scorer, "path": str(path), "frame_column": FRAME, "pool": list(POOL)}
        for scorer, path in corpus.sidecars(WORKLOAD, fmt).items()
    ]
    manifest = {
        "version": 1,
        "output_dir": str(folder / "out"),
        "defaults": {"key": [KEY]},
        "jobs": [
            {
                "name": "w2",
                "features": str(corpus.base(fmt)),
                "sidecars": sidecars,
                "output": "w2.parquet",
            }
        ],
    }
    path = folder / "batch.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


def ready_inputs(corpus: Corpus, fmt: str) -> None:
    """Refuse to start without W2's generated files; read them once, so runs start warm."""
    inputs = corpus.inputs(WORKLOAD, fmt)
    missing = [p for p in inputs if not p.is_file()]
    if missing:
        msg = f"missing {missing[0]}; run benchmarks/generate.py --workloads W2 first"
        raise SystemExit(msg)
    warm_cache(inputs)


def batch_command(manifest: Path, out_dir: Path, *extra: str) -> list[str]:
    """The CLI call running the manifest into ``out_dir``, with ``extra`` options."""
    tool = Path(sys.executable).with_name("second-opinion")
    return [str(tool), "batch", str(manifest), "--out-dir", str(out_dir), "--json", *extra]


def run_tree_measured(command: list[str]) -> Run:
    """Like ``run_measured``, but the peak RSS is the whole process tree's, polled every 20 ms.

    ``batch`` runs its jobs in worker processes forked by a fork server, which the exact
    ``wait4`` accounting of ``run_measured`` does not see; the tree's summed RSS does.
    """
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL)
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                tree = [root, *root.children(recursive=True)]
                total = 0
                for member in tree:
                    with contextlib.suppress(psutil.Error):
                        total += member.memory_info().rss
                peak = max(peak, total)
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        out.seek(0)
        stdout = out.read().decode()
    if proc.returncode != 0:
        msg = f"exit status {proc.returncode}: {' '.join(command)}"
        raise SystemExit(msg)
    return Run(
        seconds=seconds, peak_rss=peak, cpu_seconds=0.0, foreign_cpu_seconds=0.0, stdout=stdout
    )


def statuses(run: Run) -> list[str]:
    """The job statuses a ``batch --json`` run printed."""
    return [job["status"] for job in json.loads(run.stdout)["jobs"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--memory-limit", help="pass --memory-limit to batch (e.g. 4GB)")
    parser.add_argument("--temp-dir", type=Path, help="pass --temp-dir to batch")
    parser.add_argument(
        "--skip-hand", action="store_true", help="time the batch only (no hand-written query)"
    )
    parser.add_argument("--work", type=Path, help="folder for outputs (default: a temporary one)")
    args = parser.parse_args()
    extra = []
    if args.memory_limit:
        extra += ["--memory-limit", args.memory_limit]
    if args.temp_dir:
        extra += ["--temp-dir", str(args.temp_dir)]

    corpus = Corpus.at(args.data, args.scale)
    ready_inputs(corpus, args.format)
    first, hand, recheck = [], [], []
    with tempfile.TemporaryDirectory(prefix="so-bench-batch-", dir=args.work) as tmp:
        folder = Path(tmp)
        manifest = write_manifest(corpus, args.format, folder)
        for index in range(args.repeat):
            out_dir = folder / f"run-{index}"
            wait_until_idle()
            first.append(run_tree_measured(batch_command(manifest, out_dir, *extra)))
            if statuses(first[-1]) != ["done"]:
                msg = f"first run did not finish: {first[-1].stdout[:500]}"
                raise SystemExit(msg)
            wait_until_idle()
            recheck.append(run_tree_measured(batch_command(manifest, out_dir, *extra)))
            if statuses(recheck[-1]) != ["up-to-date"]:
                msg = f"re-check was not up to date: {recheck[-1].stdout[:500]}"
                raise SystemExit(msg)
            if args.skip_hand:
                continue
            wait_until_idle()
            hand.append(
                run_measured(
                    hand_command(corpus, WORKLOAD, args.format, folder / f"hand-{index}.parquet")
                )
            )
    first_s, first_rss = median_run(first)
    if args.skip_hand:
        recheck_s, _ = median_run(recheck)
        result = {
            "workload": WORKLOAD,
            "format": args.format,
            "scale": args.scale,
            "memory_limit": args.memory_limit,
            "first_run_s": round(first_s, 3),
            "first_run_peak_rss_mib": round(first_rss / 2**20),
            "recheck_s": round(recheck_s, 3),
        }
        print(json.dumps(result, indent=2))
        return
    hand_s, hand_rss = median_run(hand)
    recheck_s, recheck_rss = median_run(recheck)
    result = {
        "workload": WORKLOAD,
        "format": args.format,
        "scale": args.scale,
        "first_run_s": round(first_s, 3),
        "hand_s": round(hand_s, 3),
        "time_ratio": round(first_s / hand_s, 3),
        "first_run_peak_rss_mib": round(first_rss / 2**20),
        "hand_peak_rss_mib": round(hand_rss / 2**20),
        "rss_ratio": round(first_rss / hand_rss, 3),
        "recheck_s": round(recheck_s, 3),
        "recheck_peak_rss_mib": round(recheck_rss / 2**20),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{WORKLOAD} {args.format}: first run {first_s:.2f} s / hand {hand_s:.2f} s "
        f"= {first_s / hand_s:.2f}x time, {first_rss / hand_rss:.2f}x peak RSS "
        f"({first_rss / 2**20:.0f} vs {hand_rss / 2**20:.0f} MiB); "
        f"unchanged re-check {recheck_s:.2f} s"
    )


if __name__ == "__main__":
    main()
