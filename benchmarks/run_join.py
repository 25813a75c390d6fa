"""Time ``second-opinion join`` against a hand-written DuckDB query on the generated corpora.

    python benchmarks/run_join.py --scale 1 --workloads W1,W2 --formats parquet,jsonl --repeat 3

For each workload x format, both run as fresh subprocesses writing Parquet to a temporary
directory: (a) the tool's CLI, (b) ``python -c`` with the query of ``_hand.py``. Each run's wall
time and exact peak RSS are measured (``_measure.py``), tool and query alternating which goes
first, with the inputs in the page cache; the median of ``--repeat`` runs is reported. A run only
starts once other processes have been quiet for 3 s, and is repeated (up to ``--attempts``) when
they used more than 10 % of a CPU meanwhile. Every run's output is checked against the other's
(``_verify.py``), and the tool's matched counts against the query's; any difference fails the
benchmark. ``--commit REV`` benchmarks ``src/`` of that commit instead of the working tree."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from _corpus import (
    DEFAULT_DATA,
    FRAME,
    KEY,
    POOL,
    Corpus,
    check_formats,
    check_workloads,
    split_list,
)
from _hand import hand_script
from _measure import Run, median_run, run_measured, wait_until_idle, warm_cache
from _tool import Tool, environment, pinned, working_tree
from _verify import MismatchError, same_table

TARGET = 1.3  # the tool within 1.3x of the hand-written query, in time and in peak memory
QUIET = 0.1  # other processes may use at most this fraction of one CPU during a run


def tool_command(
    tool: Tool, corpus: Corpus, workload: str, fmt: str, output: Path, *, provenance: bool = False
) -> list[str]:
    """The CLI call joining the workload's sidecars onto the base table (``--provenance``:
    also writing the provenance record, every input and the output hashed)."""
    command = [*tool.prefix, "join", "--features", str(corpus.base(fmt)), "--key", KEY]
    for scorer, path in corpus.sidecars(workload, fmt).items():
        command += ["--sidecar", f"{scorer}={path}"]
    if workload == "W2":
        command += ["--frame-column", FRAME, "--pool", ",".join(POOL)]
    if provenance:
        command.append("--provenance")
    return [*command, "--output", str(output), "--json"]


def check_record(output: Path) -> None:
    """Fail loudly unless the provenance record beside ``output`` names its bytes' SHA-256."""
    record = json.loads(output.with_name(output.name + ".provenance.json").read_text())
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    if record["output"]["sha256"] != digest:
        msg = f"the provenance record of {output} names another SHA-256"
        raise MismatchError(msg)


def hand_command(corpus: Corpus, workload: str, fmt: str, output: Path) -> list[str]:
    """The ``python -c`` call running the hand-written query."""
    sidecars = corpus.sidecars(workload, fmt)
    script = hand_script(corpus.base(fmt), sidecars, output, per_frame=workload == "W2")
    return [sys.executable, "-c", script]


def check_pair(tool: Run, hand: Run, tool_out: Path, hand_out: Path) -> dict[str, int]:
    """Fail loudly unless both runs wrote the same table and report the same matched counts."""
    same_table(tool_out, hand_out)
    report = json.loads(tool.stdout)
    tool_matched = {c["scorer"]: int(c["matched"]) for c in report["coverage"]}
    hand_matched = {k: int(v) for k, v in json.loads(hand.stdout).items()}
    if tool_matched != hand_matched:
        msg = f"matched counts differ: tool {tool_matched}, hand {hand_matched}"
        raise MismatchError(msg)
    return tool_matched


def _measure(
    command: list[str], idle_timeout: float, attempts: int, env: dict[str, str] | None = None
) -> Run:
    """Run ``command`` on a quiet machine; rerun it while other processes used the CPU."""
    for _ in range(attempts):
        busy = wait_until_idle(max_busy=QUIET, timeout=idle_timeout)
        if busy >= QUIET:
            print(f"  machine still busy ({busy:.0%} of a CPU); measuring anyway", file=sys.stderr)
        run = run_measured(command, env=env)
        if not _disturbed(run):
            return run
        print(f"  disturbed run ({_describe(run)}); measuring again", file=sys.stderr)
    return run


def _disturbed(run: Run) -> bool:
    return run.foreign_cpu_seconds > QUIET * run.seconds


def _run_json(run: Run) -> dict[str, float | bool]:
    return {
        "seconds": run.seconds,
        "peak_rss": run.peak_rss,
        "cpu_seconds": run.cpu_seconds,
        "foreign_cpu_seconds": run.foreign_cpu_seconds,
        "disturbed": _disturbed(run),
    }


def _describe(run: Run) -> str:
    return (
        f"{run.seconds:.2f} s {run.peak_rss / 2**20:,.0f} MiB "
        f"(cpu {run.cpu_seconds:.1f} s, others {run.foreign_cpu_seconds:.1f} s)"
    )


def run_case(
    tool: Tool,
    corpus: Corpus,
    workload: str,
    fmt: str,
    *,
    repeat: int,
    idle_timeout: float,
    attempts: int,
    provenance: bool = False,
) -> dict[str, Any]:
    """Measure one workload x format ``repeat`` times each; alternate which goes first."""
    inputs = corpus.inputs(workload, fmt)
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        msg = f"missing input(s) {missing}; run benchmarks/generate.py first"
        raise SystemExit(msg)
    warm_cache(inputs)
    tool_runs: list[Run] = []
    hand_runs: list[Run] = []
    matched: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="so-bench-") as tmp:
        tool_out, hand_out = Path(tmp) / "tool.parquet", Path(tmp) / "hand.parquet"
        calls = [
            (
                tool_command(tool, corpus, workload, fmt, tool_out, provenance=provenance),
                tool.env,
                tool_runs,
            ),
            (hand_command(corpus, workload, fmt, hand_out), None, hand_runs),
        ]
        for index in range(repeat):
            for command, env, runs in calls if index % 2 == 0 else calls[::-1]:
                runs.append(_measure(command, idle_timeout, attempts, env))
            matched = check_pair(tool_runs[-1], hand_runs[-1], tool_out, hand_out)
            if provenance:
                check_record(tool_out)
            print(
                f"  {workload} {fmt} run {index + 1}/{repeat}: tool {_describe(tool_runs[-1])}, "
                f"hand {_describe(hand_runs[-1])}; outputs equal",
                file=sys.stderr,
            )
        rows = json.loads(tool_runs[-1].stdout)["rows"]
    tool_s, tool_rss = median_run(tool_runs)
    hand_s, hand_rss = median_run(hand_runs)
    return {
        "workload": workload,
        "format": fmt,
        "provenance": provenance,
        "rows": rows,
        "matched": matched,
        "tool_seconds": tool_s,
        "hand_seconds": hand_s,
        "time_ratio": tool_s / hand_s,
        "tool_peak_rss": tool_rss,
        "hand_peak_rss": hand_rss,
        "rss_ratio": tool_rss / hand_rss,
        "tool_runs": [_run_json(r) for r in tool_runs],
        "hand_runs": [_run_json(r) for r in hand_runs],
    }


def format_table(cases: list[dict[str, Any]]) -> str:
    """A Markdown table of the medians, with whether each ratio meets the target.

    A case is marked "(noisy)" when a run stayed disturbed by other processes after every attempt.
    """

    def mib(n: int) -> str:
        return f"{n / 2**20:,.0f} MiB"

    def ratio(r: float) -> str:
        return f"{r:.2f}x {'ok' if r <= TARGET else 'MISSED'}"

    lines = [
        "| workload | format | tool s | hand s | ratio | tool peak RSS | hand peak RSS | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]

    def noisy(c: dict[str, Any]) -> str:
        runs = [*c["tool_runs"], *c["hand_runs"]]
        return " (noisy)" if any(r["disturbed"] for r in runs) else ""

    lines += [
        f"| {c['workload']} | {c['format']}{' + provenance' if c.get('provenance') else ''}"
        f"{noisy(c)} | {c['tool_seconds']:.2f} "
        f"| {c['hand_seconds']:.2f} "
        f"| {ratio(c['time_ratio'])} | {mib(c['tool_peak_rss'])} | {mib(c['hand_peak_rss'])} "
        f"| {ratio(c['rss_ratio'])} |"
        for c in cases
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="the generated scale to use")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory")
    parser.add_argument("--formats", default="parquet,jsonl", help="comma-separated formats")
    parser.add_argument("--workloads", default="W1,W2", help="comma-separated workloads")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--save", type=Path, help="also write the JSON report to this file")
    parser.add_argument(
        "--attempts",
        type=int,
        default=20,
        help="runs to try per measurement for an undisturbed one",
    )
    parser.add_argument("--commit", help="benchmark src/ of this commit, not the working tree")
    parser.add_argument(
        "--provenance",
        action="store_true",
        help="the tool also writes its provenance record (join --provenance)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        help="seconds to wait before each run for other processes to go quiet",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    corpus = Corpus.at(args.data, args.scale)
    with tempfile.TemporaryDirectory(prefix="so-bench-src-") as src:
        tool = pinned(args.commit, Path(src)) if args.commit else working_tree()
        cases = [
            run_case(
                tool,
                corpus,
                workload,
                fmt,
                repeat=args.repeat,
                idle_timeout=args.idle_timeout,
                attempts=args.attempts,
                provenance=args.provenance,
            )
            for workload in check_workloads(split_list(args.workloads))
            for fmt in check_formats(split_list(args.formats))
        ]
    if not args.commit and working_tree().src_changes != tool.src_changes:
        print("src/ changed while the benchmark ran: the numbers mix versions", file=sys.stderr)
    env = environment(tool)
    report = json.dumps(
        {"environment": env, "scale": args.scale, "repeat": args.repeat, "cases": cases}, indent=2
    )
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(report + "\n", encoding="utf-8")
    print(report if args.json else format_table(cases))
    if any(c["time_ratio"] > TARGET or c["rss_ratio"] > TARGET for c in cases):
        print(f"target missed: the tool is over {TARGET}x somewhere", file=sys.stderr)


if __name__ == "__main__":
    main()
