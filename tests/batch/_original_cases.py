"""Writing small original-dialect cases (feature rows, score files, a manifest) and comparing
what the dialect wrote with the plain-Python reference (``tests/original_reference.py``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from second_opinion.batch.original.run import OriginalBatchResult, run_original_batch
from tests.original_reference import RefTable, read_rows, reference_table


@dataclass(frozen=True)
class Case:
    """A manifest of one table in ``folder``: ``features.<suffix>``, score files, ``out``."""

    folder: Path
    manifest: Path
    table: dict[str, Any]

    def run(self, **options: Any) -> OriginalBatchResult:
        return run_original_batch(self.manifest, **options)

    @property
    def out(self) -> Path:
        return self.folder / str(self.table["out"])

    def written(self) -> list[dict[str, Any]]:
        """The output's rows (JSONL or ``{"rows": [...]}``)."""
        return [dict(row) for row in read_rows(self.out)]

    def reference(self) -> RefTable:
        """What the original gives for this table."""
        features = read_rows(self.folder / str(self.table["features"]))
        scores = []
        for text in self.table["scores"]:
            label, sep, name = str(text).partition("=")
            path = self.folder / (name if sep else label)
            scores.append(((label.strip() or None) if sep else None, path, str(path)))
        options = {k: v for k, v in self.table.items() if k not in ("id", "features", "scores")}
        options = {k: v for k, v in options.items() if k not in ("out", "audit_json", "overwrite")}
        return reference_table(features, scores, **options)


def _dump(path: Path, data: object) -> None:
    if path.suffix == ".jsonl":
        rows = data if isinstance(data, list) else [data]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        path.write_text(json.dumps(data), encoding="utf-8")


def make_case(
    folder: Path,
    features: list[dict[str, Any]] | dict[str, Any],
    scores: dict[str, object],
    *,
    features_name: str = "features.jsonl",
    out: str = "out.jsonl",
    **table: Any,
) -> Case:
    """Write a one-table case: ``scores`` maps a ``scores`` entry's text (``LABEL=file`` or
    ``file``) to the file's rows (a list for ``.jsonl``; any JSON for ``.json``)."""
    folder.mkdir(parents=True, exist_ok=True)
    _dump(folder / features_name, features)
    for text, data in scores.items():
        _dump(folder / text.partition("=")[2 if "=" in text else 0], data)
    entry = {"id": "t", "features": features_name, "scores": list(scores), "out": out, **table}
    manifest = folder / "batch.json"
    manifest.write_text(json.dumps({"tables": [entry]}), encoding="utf-8")
    return Case(folder, manifest, entry)


def same_rows(got: list[dict[str, Any]], want: list[dict[str, object]]) -> None:
    """Every row and cell equal (floats to 1e-12); the first difference is named."""
    assert len(got) == len(want), f"{len(got)} rows written, {len(want)} expected"
    for index, (row, expected) in enumerate(zip(got, want, strict=True)):
        assert sorted(row) == sorted(expected), f"row {index}: columns {sorted(row)}"
        for column, value in expected.items():
            cell = row[column]
            if isinstance(value, float) and isinstance(cell, float | int):
                assert math.isclose(cell, value, rel_tol=1e-12), f"row {index} {column}: {cell}"
            else:
                assert cell == value, f"row {index} {column}: {cell!r} != {value!r}"
