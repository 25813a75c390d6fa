"""Running original-dialect tables: every cell against the plain-Python reference, the policies,
the audit's counts, the formats, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from second_opinion.batch.original.run import run_original_batch
from second_opinion.errors import InputError
from second_opinion.provenance import inspect_output
from tests.batch._original_cases import make_case, same_rows
from tests.original_reference import ReferenceError

FEATURES = [
    {"clip_id": "c1", "vmaf": 70.5, "n": 1},
    {"clip_id": " c2 ", "vmaf": 80.0, "n": 2},
    {"clip_id": "c3", "vmaf": 90.25, "n": 3},
]
SCORES = [
    {"clip_id": "c1", "score": 61.0, "runtime_ms": 5},
    {"clip_id": "c2", "score": 72.5, "status": "FAILED"},
    {"clip_id": "c3", "mos": 3.5, "status": " Pass "},
]


def test_a_table_matches_the_reference_cell_by_cell(tmp_path: Path) -> None:
    case = make_case(tmp_path, FEATURES, {"dover=s.jsonl": SCORES})
    result = case.run()
    assert result.ok, result.report
    same_rows(case.written(), case.reference().rows)
    (entry,) = result.report["tables"]
    assert entry["summary"]["competitors"]["dover"] == {
        "competitor": "dover",
        "column_prefix": "second_opinion_dover",
        "scores_loaded": 3,
        "matched_rows": 2,
        "missing_rows": 0,
        "bad_rows": 1,
    }


def test_base_columns_keep_their_types(tmp_path: Path) -> None:
    case = make_case(tmp_path, FEATURES, {"dover=s.jsonl": SCORES})
    case.run()
    first = case.out.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith('{"clip_id": "c1", "n": 1, "second_opinion_dover_frames": 0,')
    assert '"vmaf": 70.5}' in first


@pytest.mark.parametrize("policy", ["mark", "drop"])
def test_missing_rows_are_marked_or_dropped(tmp_path: Path, policy: str) -> None:
    case = make_case(tmp_path, FEATURES, {"dover=s.jsonl": SCORES[:2]}, missing_policy=policy)
    result = case.run()
    assert result.ok
    want = case.reference().rows
    same_rows(case.written(), want)
    assert len(want) == (3 if policy == "mark" else 2)
    summary = result.report["tables"][0]["summary"]
    assert (summary["input_rows"], summary["output_rows"]) == (3, len(want))
    assert summary["competitors"]["dover"]["missing_rows"] == 1


def test_missing_policy_fail_writes_nothing_and_names_the_competitor(tmp_path: Path) -> None:
    case = make_case(tmp_path, FEATURES, {"fork-nr=s.jsonl": SCORES[:1]}, missing_policy="fail")
    result = case.run()
    assert not result.ok
    assert result.report["tables"][0]["error"] == "missing second-opinion scores: fork-nr=2"
    with pytest.raises(ReferenceError, match="missing second-opinion scores: fork-nr=2"):
        case.reference()
    assert not case.out.exists()
    assert result.summary_line == (
        "second-opinion batch materialize: tables=1 input_rows=0 output_rows=0 failed_tables=1"
    )


def test_path_keys_are_basenames_under_auto_and_other_keys_are_raw(tmp_path: Path) -> None:
    features = [
        {"distorted_path": "/corpus/a/clip1.mp4", "x": 1},
        {"distorted_path": "/corpus/b/clip2.mp4", "x": 2},
    ]
    scores = [{"path": "clip1.mp4", "score": 1.0}, {"file_name": "/o/clip2.mp4", "score": 2.0}]
    case = make_case(tmp_path, features, {"nr=s.jsonl": scores})
    assert case.run().ok
    rows = case.written()
    same_rows(rows, case.reference().rows)
    assert [r["second_opinion_nr_status"] for r in rows] == ["ok", "ok"]


def test_stem_and_raw_normalisation(tmp_path: Path) -> None:
    features = [{"clip_id": "a/clip1.mp4"}, {"clip_id": "clip2"}]
    scores = [{"clip_id": "x/clip1.yuv", "score": 1.0}, {"clip_id": "clip2", "score": 2.0}]
    stem = make_case(tmp_path / "stem", features, {"nr=s.jsonl": scores}, key_normalize="stem")
    raw = make_case(tmp_path / "raw", features, {"nr=s.jsonl": scores}, key_normalize="raw")
    for case in (stem, raw):
        assert case.run().ok
        same_rows(case.written(), case.reference().rows)
    assert [r["second_opinion_nr_status"] for r in raw.written()] == ["missing", "ok"]
    assert [r["second_opinion_nr_status"] for r in stem.written()] == ["ok", "ok"]


def test_wrapper_rows_with_frames_and_summary(tmp_path: Path) -> None:
    scores = [
        {
            "clip_id": "c1",
            "frames": [
                {"predicted_vmaf_or_mos": 50.0, "runtime_ms": 10.0},
                {"predicted_vmaf_or_mos": 61.0, "runtime_ms": 12.5},
            ],
        },
        {"summary": {"clip_id": "c2", "score": 70.0, "competitor": "fast-vqa", "elapsed_ms": 3}},
        {"clip_id": "c3", "summary": {"Quality": 4.0}},
    ]
    case = make_case(tmp_path, FEATURES, {"fast-vqa=w.json": {"results": scores}})
    assert case.run().ok
    rows = case.written()
    same_rows(rows, case.reference().rows)
    assert rows[0]["second_opinion_fast_vqa_score"] == pytest.approx(55.5)
    assert rows[0]["second_opinion_fast_vqa_frames"] == 2
    assert rows[0]["second_opinion_fast_vqa_runtime_ms"] == pytest.approx(22.5)
    assert rows[2]["second_opinion_fast_vqa_runtime_ms"] is None


def test_a_file_of_several_competitors_gives_a_group_each_in_sorted_order(tmp_path: Path) -> None:
    scores = [
        {"clip_id": "c1", "competitor": "q-align", "score": 1.0},
        {"clip_id": "c1", "competitor": "dover", "score": 2.0},
        {"clip_id": "c2", "competitor": "dover", "score": 3.0},
    ]
    case = make_case(tmp_path, FEATURES, {"mixed.jsonl": scores})
    result = case.run()
    assert result.ok, result.report
    same_rows(case.written(), case.reference().rows)
    competitors = result.report["tables"][0]["summary"]["competitors"]
    assert list(competitors) == ["dover", "q-align"]
    assert competitors["q-align"]["column_prefix"] == "second_opinion_q_align"
    assert (competitors["dover"]["matched_rows"], competitors["dover"]["missing_rows"]) == (2, 1)


def test_an_unlabelled_file_needs_a_competitor_in_every_row(tmp_path: Path) -> None:
    case = make_case(tmp_path, FEATURES, {"plain.jsonl": [{"clip_id": "c1", "score": 1.0}]})
    result = case.run()
    assert not result.ok
    error = result.report["tables"][0]["error"]
    assert "plain.jsonl" in error
    assert "no competitor" in error


def test_hyphenated_labels_and_the_prefix_meaning(tmp_path: Path) -> None:
    case = make_case(
        tmp_path, FEATURES, {"Fork-NR-metric=s.jsonl": SCORES}, prefix="so2", key_column="clip_id"
    )
    result = case.run()
    assert result.ok, result.report
    rows = case.written()
    same_rows(rows, case.reference().rows)
    assert "so2_fork_nr_metric_score" in rows[0]
    competitors = result.report["tables"][0]["summary"]["competitors"]
    assert competitors["fork-nr-metric"]["column_prefix"] == "so2_fork_nr_metric"
    assert rows[0]["so2_fork_nr_metric_source"] == str(tmp_path / "s.jsonl")


def test_json_scores_and_json_out(tmp_path: Path) -> None:
    case = make_case(tmp_path, FEATURES, {"dover=s.json": {"rows": SCORES}}, out="out.json")
    assert case.run().ok
    text = case.out.read_text(encoding="utf-8")
    assert text.startswith('{\n  "rows": [\n    {\n      "clip_id": "c1",')
    same_rows(case.written(), case.reference().rows)


def test_score_key_field_and_score_field(tmp_path: Path) -> None:
    scores = [{"id": "c1", "nr": 4.0, "score": 1.0}, {"id": "c3", "nr": 5.0}]
    case = make_case(
        tmp_path, FEATURES, {"nr=s.jsonl": scores}, score_key_field="id", score_field="nr"
    )
    assert case.run().ok
    rows = case.written()
    same_rows(rows, case.reference().rows)
    assert [r["second_opinion_nr_score"] for r in rows] == [4.0, None, 5.0]


def test_existing_columns_are_refused_unless_overwrite(tmp_path: Path) -> None:
    features = [{**row, "second_opinion_dover_score": 0.0} for row in FEATURES]
    refused = make_case(tmp_path / "a", features, {"dover=s.jsonl": SCORES})
    result = refused.run()
    assert result.report["tables"][0]["error"].endswith(
        "refusing to overwrite existing second-opinion columns: second_opinion_dover_score; "
        "set overwrite: true to replace them"
    )
    assert not refused.out.exists()
    allowed = make_case(tmp_path / "b", features, {"dover=s.jsonl": SCORES}, overwrite=True)
    assert allowed.run().ok
    same_rows(allowed.written(), allowed.reference().rows)


def test_fail_fast_stops_after_the_first_failed_table(tmp_path: Path) -> None:
    case = make_case(tmp_path, FEATURES, {"dover=s.jsonl": SCORES})
    good = dict(case.table, id="good", out="good.jsonl")
    bad = dict(case.table, id="bad", features="nowhere.jsonl", out="bad.jsonl")
    case.manifest.write_text(json.dumps({"tables": [bad, good]}), encoding="utf-8")
    going = run_original_batch(case.manifest)
    assert [t["status"] for t in going.report["tables"]] == ["error", "ok"]
    assert "nowhere.jsonl" in going.report["tables"][0]["error"]
    (tmp_path / "good.jsonl").unlink()
    stopped = run_original_batch(case.manifest, fail_fast=True)
    assert [t["id"] for t in stopped.report["tables"]] == ["bad"]
    assert not (tmp_path / "good.jsonl").exists()


def test_outputs_are_deterministic_and_carry_provenance(tmp_path: Path) -> None:
    case = make_case(tmp_path, FEATURES, {"dover=s.jsonl": SCORES}, audit_json="audit.json")
    case.run()
    first = (case.out.read_bytes(), (tmp_path / "audit.json").read_bytes())
    case.run()
    assert (case.out.read_bytes(), (tmp_path / "audit.json").read_bytes()) == first
    assert inspect_output(case.out).matches


def test_a_manifest_error_runs_nothing(tmp_path: Path) -> None:
    case = make_case(tmp_path, FEATURES, {"dover=s.jsonl": SCORES}, missing_policy="ignore")
    with pytest.raises(InputError, match=r"tables\[0\]\.missing_policy: Input should be 'mark'"):
        case.run()
    assert not case.out.exists()


@pytest.mark.parametrize("features", [FEATURES, {"rows": FEATURES}], ids=["list", "rows"])
def test_json_feature_tables(
    tmp_path: Path, features: list[dict[str, Any]] | dict[str, Any]
) -> None:
    case = make_case(
        tmp_path, features, {"dover=s.jsonl": SCORES}, features_name="f.json", out="out.json"
    )
    result = case.run()
    assert result.ok, result.report
    text = case.out.read_text(encoding="utf-8")
    assert text.startswith('{\n  "rows": [\n    {\n      "clip_id": "c1",\n      "n": 1,')
    same_rows(case.written(), case.reference().rows)


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_outputs_keep_the_base_types(tmp_path: Path, suffix: str) -> None:
    import pyarrow.parquet as pq  # noqa: PLC0415 - this test only

    case = make_case(tmp_path, FEATURES, {"dover=s.jsonl": SCORES}, out=f"out{suffix}")
    assert case.run().ok
    table = pq.read_table(case.out)
    assert str(table.schema.field("n").type) == "int64"
    assert str(table.schema.field("second_opinion_dover_frames").type) == "int64"
    same_rows(table.to_pylist(), case.reference().rows)


def test_an_unwritable_audit_fails_the_table_naming_the_file(tmp_path: Path) -> None:
    case = make_case(tmp_path, FEATURES, {"dover=s.jsonl": SCORES}, audit_json="ro/audit.json")
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "audit.json").mkdir()  # a folder where the file should go
    result = case.run()
    error = result.report["tables"][0]["error"]
    assert error.startswith(f"{tmp_path / 'ro' / 'audit.json'}: cannot write (")
    assert result.summary_line.endswith("failed_tables=1")
