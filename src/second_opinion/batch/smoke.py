"""``smoke``: run the bundled smoke scaffold in a fresh folder and compare with its goldens."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import duckdb

from second_opinion.batch.outcomes import READY
from second_opinion.batch.runner import BatchResult, run_batch
from second_opinion.errors import InputError, UsageError
from second_opinion.paths import resolved
from second_opinion.tables.formats import quote_ident
from second_opinion.tables.reading import open_table, scan_sql

SCAFFOLD = "smoke-second-opinion-batch"
SCAFFOLDS: dict[str, tuple[str, float]] = {
    "join": (SCAFFOLD, 1e-9),
    # Model outputs may differ in the last bits between CPUs (onnxruntime's kernels).
    "saliency": ("smoke-saliency-batch", 1e-6),
}
"""Scaffold name → (folder under testdata/, tolerance of the value comparison)."""
TOLERANCE = 1e-9


def default_scaffold(folder: str = SCAFFOLD) -> Path:
    """A scaffold folder: packaged with the wheel, or ``testdata/`` of a checkout."""
    package = resolved(Path(__file__)).parents[1]  # second_opinion/
    for candidate in (package / "_testdata" / folder, package.parents[1] / "testdata" / folder):
        if (candidate / "batch.json").is_file():
            return candidate
    msg = f"cannot find the {folder} scaffold (looked beside the package and in testdata/)"
    raise InputError(msg)


@dataclass(frozen=True)
class SmokeResult:
    """PASS, or the first difference between an output and its golden file."""

    scaffold: str
    passed: bool
    difference: str | None
    batch: BatchResult

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "scaffold": self.scaffold,
            "passed": self.passed,
            "difference": self.difference,
            "batch": self.batch.to_dict(),
        }


def _read(path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    con = duckdb.connect()
    try:
        table = open_table(con, path)
        rel = con.execute(scan_sql(table, text=(), numbers=(), others=table.columns))
        return list(table.columns), [tuple(r) for r in rel.fetchall()]
    finally:
        con.close()


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: object, b: object, tolerance: float) -> bool:
    if _is_number(a) and _is_number(b):
        x, y = float(a), float(b)
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return math.isclose(x, y, rel_tol=tolerance, abs_tol=tolerance)
    return a == b


def compare_tables(actual: Path, expected: Path, tolerance: float = TOLERANCE) -> str | None:
    """The first difference between two tables (columns and rows exactly, values to
    ``tolerance``, relative or absolute)."""
    got_columns, got_rows = _read(actual)
    want_columns, want_rows = _read(expected)
    name = expected.name
    if got_columns != want_columns:
        return f"{name}: columns {got_columns} != expected {want_columns}"
    if len(got_rows) != len(want_rows):
        return f"{name}: {len(got_rows)} rows != expected {len(want_rows)}"
    for index, (got, want) in enumerate(zip(got_rows, want_rows, strict=True)):
        for column, a, b in zip(want_columns, got, want, strict=True):
            if not _same(a, b, tolerance):
                return (
                    f"{name} row {index + 1}, column {quote_ident(column)}: {a!r} != expected {b!r}"
                )
    return None


def run_smokes(only: Sequence[str] = ()) -> list[SmokeResult]:
    """Run the bundled scaffolds (``only`` those named: ``join``, ``saliency``), in order, each
    in a fresh temporary folder, and compare every output with its golden file: per scaffold,
    PASS or the first difference (:class:`SmokeResult`)."""
    unknown = [name for name in only if name not in SCAFFOLDS]
    if unknown:
        msg = f"no such scaffold: {unknown[0]!r} (scaffolds: {', '.join(SCAFFOLDS)})"
        raise UsageError(msg)
    return [
        run_smoke(default_scaffold(folder), tolerance=tolerance)
        for name, (folder, tolerance) in SCAFFOLDS.items()
        if not only or name in only
    ]


def run_smoke(scaffold: Path | None = None, *, tolerance: float = TOLERANCE) -> SmokeResult:
    """Run the scaffold's manifest in a new temporary folder; compare every output."""
    scaffold = scaffold or default_scaffold()
    with tempfile.TemporaryDirectory(prefix="second-opinion-smoke-") as tmp:
        batch = run_batch(scaffold / "batch.json", out_dir=tmp)
        difference = next(
            (f"{j.name}: {j.status}: {j.error}" for j in batch.jobs if j.status not in READY), None
        )
        for job in batch.jobs:
            if difference:
                break
            output = Path(job.output)
            golden = scaffold / "expected" / output.name
            if not golden.is_file():
                difference = f"no golden file {golden} for job {job.name}"
            else:
                difference = compare_tables(output, golden, tolerance)
    return SmokeResult(str(scaffold), difference is None, difference, batch)
