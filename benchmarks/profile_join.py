"""Where does ``second-opinion join`` spend its time? Time every SQL statement it runs, by phase.

    python benchmarks/profile_join.py --workload W1 --format parquet

Runs the library's join in-process on a generated corpus, with the joiner's DuckDB connection
wrapped so that each ``execute`` is timed, groups the statements into phases, and prints the
phase totals next to the statements of the hand-written query (``_hand.py``), timed the same way.
It wraps the connection of the library's join session (``second_opinion.join.session.JoinSession``):
a diagnostic, not an API.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from _corpus import DEFAULT_DATA, FRAME, KEY, POOL, Corpus, check_formats, check_workloads
from _hand import hand_statements
from second_opinion.join.run import join_to_file
from second_opinion.join.session import JoinSession
from second_opinion.join.spec import build_join_spec

# (phase, pattern): the first pattern that matches a statement (whitespace collapsed) names it.
PHASES = (
    ("open: sniff schema", r"^DESCRIBE SELECT \* FROM read_"),
    ("final: describe the output", r"^DESCRIBE "),
    ("final: write (COPY)", r"^COPY "),
    ("final: CREATE so_result", r"^CREATE TEMP TABLE so_result"),
    ("base: load", r"^CREATE TEMP TABLE so_base "),
    ("base: key checks", r"FROM so_base (WHERE|GROUP BY ALL)|FROM \(SELECT 1 FROM so_base "),
    ("sidecar: load / pool", r"^CREATE TEMP TABLE so_sidecar_\d+(_raw)? AS"),
    ("sidecar: key checks", r"so_sidecar_\d+_raw WHERE|HAVING (n|count\(\*\)) > 1|nk0 IS NULL"),
    ("coverage: closest key", r"levenshtein|contains\(ld"),
    ("coverage: counts and examples", r"so_base b|FROM so_sidecar_\d+ s"),
)


class TimedConnection:
    """A DuckDB connection whose ``execute`` calls are timed (results are fetched eagerly)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.log: list[tuple[float, str]] = []

    def execute(self, query: str, *args: Any) -> duckdb.DuckDBPyConnection:
        start = time.perf_counter()
        result = self._con.execute(query, *args)
        self.log.append((time.perf_counter() - start, re.sub(r"\s+", " ", query).strip()))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def phase_of(statement: str) -> str:
    """The phase a statement of the tool belongs to."""
    return next((name for name, p in PHASES if re.search(p, statement)), "other")


def profile_tool(corpus: Corpus, workload: str, fmt: str, output: Path) -> TimedConnection:
    """Run the library's join with a timed connection; return it (with its log)."""
    original: Callable[..., None] = JoinSession.__init__
    timed: list[TimedConnection] = []

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.con = TimedConnection(self.con)
        timed.append(self.con)

    pooled = {"frame_column": FRAME, "pool": list(POOL)} if workload == "W2" else {}
    sidecars = [
        {"scorer": scorer, "path": path, **pooled}
        for scorer, path in corpus.sidecars(workload, fmt).items()
    ]
    spec = build_join_spec(features=corpus.base(fmt), key=[KEY], sidecars=sidecars)
    JoinSession.__init__ = init
    try:
        join_to_file(spec, output)
    finally:
        JoinSession.__init__ = original
    return timed[0]


def profile_hand(corpus: Corpus, workload: str, fmt: str, output: Path) -> TimedConnection:
    """Run the hand-written statements with a timed connection."""
    con = TimedConnection(duckdb.connect())
    statements, matched = hand_statements(
        corpus.base(fmt), corpus.sidecars(workload, fmt), output, per_frame=workload == "W2"
    )
    for statement in [*statements, matched]:
        con.execute(statement).fetchall()
    return con


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workload", default="W1")
    parser.add_argument("--format", default="parquet")
    args = parser.parse_args()
    (workload,), (fmt,) = check_workloads([args.workload]), check_formats([args.format])
    corpus = Corpus.at(args.data, args.scale)
    with tempfile.TemporaryDirectory(prefix="so-profile-") as tmp:
        tool = profile_tool(corpus, workload, fmt, Path(tmp) / "tool.parquet")
        hand = profile_hand(corpus, workload, fmt, Path(tmp) / "hand.parquet")
    phases: dict[str, list[float]] = {}
    for seconds, statement in tool.log:
        phases.setdefault(phase_of(statement), []).append(seconds)
    print(f"tool: {len(tool.log)} statements, {sum(s for s, _ in tool.log):.2f} s")
    for name, times in sorted(phases.items(), key=lambda item: -sum(item[1])):
        print(f"  {sum(times):7.2f} s  {len(times):3d} x  {name}")
    for seconds, statement in sorted(tool.log, reverse=True)[:12]:
        print(f"  ..{seconds:7.3f} s {' '.join(statement.split())[:150]}")
    print(f"hand: {len(hand.log)} statements, {sum(s for s, _ in hand.log):.2f} s")
    for seconds, statement in hand.log:
        print(f"  {seconds:7.2f} s         {statement[:90]}")


if __name__ == "__main__":
    main()
