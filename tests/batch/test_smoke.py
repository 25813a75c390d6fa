"""The smoke scaffold: its goldens are right (checked independently), and `smoke` uses them."""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
from pathlib import Path
from typing import Any

from second_opinion.batch.smoke import compare_tables, default_scaffold, run_smoke
from tests._tables import assert_rows_equal, read_rows
from tests.reference_join import RefSidecar, RefTable, reference_join

SCAFFOLD = Path(__file__).resolve().parents[2] / "testdata" / "smoke-second-opinion-batch"


def _number(text: str) -> int | float:
    return int(text) if text.lstrip("-").isdigit() else float(text)


def _jsonl(name: str) -> RefTable:
    with (SCAFFOLD / name).open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return RefTable(tuple(rows[0]), tuple(rows))


def _csv(name: str, text_columns: tuple[str, ...] = ("clip_id",)) -> RefTable:
    with (SCAFFOLD / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [
            {k: (v if k in text_columns else _number(v)) for k, v in row.items()} for row in reader
        ]
        return RefTable(tuple(reader.fieldnames or ()), tuple(rows))


def _zscores(values: list[float | None]) -> list[float | None]:
    present = [v for v in values if v is not None]
    mean, std = statistics.fmean(present), statistics.pstdev(present)
    return [None if v is None else (v - mean) / std for v in values]


def test_the_scaffold_is_found_beside_the_package() -> None:
    assert default_scaffold() == SCAFFOLD


def test_corpus_a_golden_equals_an_independent_join() -> None:
    niqe = RefSidecar(
        scorer="niqe",
        path="scores_a_niqe.jsonl",
        table=_jsonl("scores_a_niqe.jsonl"),
        key_map={"video": "clip_id"},
        normalize_keys=("basename", "stem", "lower"),
        columns=("niqe",),
    )
    reference = reference_join(_jsonl("features_corpus_a.jsonl"), ("clip_id",), (niqe,))
    rows: list[dict[str, Any]] = reference.rows
    # Derived features (not in the reference joiner), from their definitions in docs/join.md:
    # zscore with the population std; delta: the oriented (lower is better -> negated) z-score
    # minus the base column's z-score.
    z = _zscores([r["so_niqe_niqe"] for r in rows])
    adm2 = _zscores([r["vmaf_adm2"] for r in rows])
    for row, zi, ai in zip(rows, z, adm2, strict=True):
        row["so_niqe_niqe_zscore"] = zi
        row["so_niqe_niqe_delta_vmaf_adm2"] = None if zi is None or ai is None else -zi - ai
    golden = read_rows(SCAFFOLD / "expected" / "corpus-a.jsonl")
    assert_rows_equal(golden, rows)
    assert reference.coverage[0].matched == 11


def test_corpus_b_golden_equals_an_independent_join() -> None:
    dover = RefSidecar(
        scorer="dover",
        path="scores_b_dover_frames.csv",
        table=_csv("scores_b_dover_frames.csv"),
        frame_column="frame",
        pool=("mean", "p5", "std"),
    )
    reference = reference_join(_csv("features_corpus_b.csv"), ("clip_id",), (dover,))
    golden: list[dict[str, Any]] = [
        {k: (str(v) if k == "clip_id" else v) for k, v in row.items()}
        for row in read_rows(SCAFFOLD / "expected" / "corpus-b.csv")
    ]
    assert_rows_equal(golden, reference.rows)
    # one frame of clip 4003 is NaN: pooled over the finite ones, and counted as a frame
    row_4003 = next(r for r in golden if r["clip_id"] == "4003")
    assert row_4003["so_dover_n_frames"] > 0
    assert not math.isnan(row_4003["so_dover_technical_mean"])


def test_smoke_passes_on_the_committed_scaffold() -> None:
    result = run_smoke()
    assert result.passed, result.difference
    assert [j.status for j in result.batch.jobs] == ["built", "built"]


def test_smoke_reports_the_first_difference(tmp_path: Path) -> None:
    scaffold = tmp_path / "scaffold"
    shutil.copytree(SCAFFOLD, scaffold)
    golden = scaffold / "expected" / "corpus-b.csv"
    lines = golden.read_text(encoding="utf-8").splitlines()
    cells = lines[2].split(",")
    cells[1] = "91.26"  # mos of the second row
    lines[2] = ",".join(cells)
    golden.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run_smoke(scaffold)

    assert not result.passed
    assert result.difference == 'corpus-b.csv row 2, column "mos": 91.25 != expected 91.26'


def test_compare_tables_reports_columns_and_row_counts(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text("k,x\n1,2\n", encoding="utf-8")
    b.write_text("k,y\n1,2\n", encoding="utf-8")
    assert compare_tables(a, b) == "b.csv: columns ['k', 'x'] != expected ['k', 'y']"
    b.write_text("k,x\n1,2\n3,4\n", encoding="utf-8")
    assert compare_tables(a, b) == "b.csv: 1 rows != expected 2"
    b.write_text("k,x\n1,2.0000000000001\n", encoding="utf-8")
    assert compare_tables(a, b) is None  # within 1e-9
