"""Test helpers: write small tables in any supported format, read results back."""

from __future__ import annotations

import csv
import gzip
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

Row = Mapping[str, Any]


def write_table(path: Path, rows: Sequence[Row], columns: Sequence[str] | None = None) -> Path:
    """Write ``rows`` to ``path`` in the format its suffix names (.jsonl/.csv/.tsv/.parquet/.gz)."""
    columns = (
        list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    )
    suffixes = path.suffixes
    compressed = suffixes[-1] == ".gz"
    kind = suffixes[-2] if compressed else suffixes[-1]
    if kind == ".parquet":
        pq.write_table(pa.Table.from_pylist([dict(r) for r in rows]), path)
        return path
    opener = gzip.open if compressed else open
    with opener(path, "wt", encoding="utf-8", newline="") as handle:
        if kind in (".jsonl", ".ndjson"):
            for row in rows:
                handle.write(json.dumps({c: row[c] for c in columns if c in row}) + "\n")
        else:
            writer = csv.writer(handle, delimiter="\t" if kind == ".tsv" else ",")
            writer.writerow(columns)
            for row in rows:
                writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return path


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read a written output back as a list of dicts (JSONL, CSV or Parquet)."""
    if path.suffix == ".parquet":
        return list(pq.read_table(path).to_pylist())
    if path.suffix == ".csv":
        return list(pacsv.read_csv(path).to_pylist())
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def same_value(a: Any, b: Any, tol: float = 1e-9) -> bool:
    """Equality for table cells: floats to a relative/absolute tolerance, NaN equals NaN."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    return bool(a == b)


def assert_rows_equal(actual: Sequence[Row], expected: Sequence[Row]) -> None:
    """Compare two tables row by row; report the first differing row and column."""
    assert len(actual) == len(expected), f"row count {len(actual)} != {len(expected)}"
    for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert list(got) == list(want), f"row {index}: columns {list(got)} != {list(want)}"
        for column in want:
            assert same_value(got[column], want[column]), (
                f"row {index}, column {column!r}: {got[column]!r} != {want[column]!r}"
            )
