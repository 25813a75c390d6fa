"""The key diagnosis in batches: a sidecar matching no key fails its job, coverage below 100 % is
a warning in the results and the provenance record, and messages name manifest fields at their
location; the original dialect keeps writing rows marked missing, with the same diagnosis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]

from second_opinion import run_batch, validate_manifest
from second_opinion.errors import InputError
from second_opinion.provenance import read_record
from tests._keys import KeyCase, key_case
from tests._tables import write_table
from tests.batch._original_cases import make_case

FIX = 'jobs[0].sidecars[0].normalize_keys: ["basename", "stem"]'


@pytest.fixture
def case(tmp_path: Path) -> KeyCase:
    return key_case(tmp_path)


def _manifest(case: KeyCase, *sidecars: dict[str, Any]) -> Path:
    path = case.folder / "batch.json"
    job = {
        "name": "konvid",
        "features": "metadata.csv",
        "key": ["flickr_id"],
        "sidecars": list(sidecars),
        "output": "konvid.csv",
    }
    path.write_text(json.dumps({"version": 1, "output_dir": "out", "jobs": [job]}), "utf-8")
    return path


PATHS = {"scorer": "dover", "path": "dover.csv", "key_map": {"filename": "flickr_id"}}


def test_a_job_whose_sidecar_matches_no_key_fails_naming_the_field_that_fixes_it(
    case: KeyCase,
) -> None:
    result = run_batch(_manifest(case, PATHS), jobs=1)
    (job,) = result.jobs
    assert job.status == "failed"
    assert job.error == (
        "join policy failed:\n  dover: no base key has a sidecar row (0 of 20 matched); "
        f"{FIX} would match 17 of 20 (85.00 %); if no match is expected, set "
        "jobs[0].sidecars[0].allow_no_match: true"
    )
    assert not (case.folder / "out" / "konvid.csv").exists()


def test_allow_no_match_builds_the_job_with_the_warning_in_results_and_provenance(
    case: KeyCase,
) -> None:
    result = run_batch(_manifest(case, {**PATHS, "allow_no_match": True}), jobs=1)
    (job,) = result.jobs
    assert job.status == "built"
    warning = f"dover: 0 of 20 base keys matched (0.00 %); {FIX} would match 17 of 20 (85.00 %)"
    assert job.warnings == [warning]
    assert result.to_dict()["jobs"][0]["warnings"] == [warning]
    record = read_record(case.folder / "out" / "konvid.csv")  # validated against its schema
    assert record["warnings"] == [warning]
    (coverage,) = record["coverage"]
    assert coverage["diagnosis"] == [{"text": FIX, "matched": 17, "rows": 20}]
    assert coverage["per_frame"] is None
    again = run_batch(case.folder / "batch.json", jobs=1)  # up to date: the warning stays
    assert (again.jobs[0].status, again.jobs[0].warnings) == ("up-to-date", [warning])


def test_a_dry_run_warns_as_the_run_would(case: KeyCase) -> None:
    manifest = _manifest(case, {**PATHS, "normalize_keys": ["basename", "stem"]})
    (job,) = run_batch(manifest, dry_run=True).jobs
    assert job.status == "planned"
    assert job.warnings == [
        (
            "dover: 17 of 20 base keys matched (85.00 %); no key normalisation or other key column "
            "would match more"
        )
    ]


def test_a_per_frame_file_as_a_second_sidecar_is_told_its_frame_column_field(
    case: KeyCase,
) -> None:
    padded = {"scorer": "p", "path": "padded.csv", "normalize_keys": ["number"]}
    frames = {"scorer": "dover", "path": "frames.csv"}
    (job,) = run_batch(_manifest(case, padded, frames), jobs=1).jobs
    assert job.error is not None
    assert job.error.endswith(
        ", and column 'frame_idx' numbers the rows: a per-frame file; pool its frames per clip "
        'with jobs[0].sidecars[1].frame_column: "frame_idx" (the mean; other statistics with '
        "jobs[0].sidecars[1].pool)"
    )


def test_duplicates_and_a_missing_key_column_name_the_manifest_fields(case: KeyCase) -> None:
    write_table(case.folder / "dup.csv", [{"flickr_id": "3339962845", "s": 1.0}] * 2)
    (dup,) = run_batch(_manifest(case, {"scorer": "d", "path": "dup.csv"}), jobs=1).jobs
    assert dup.error is not None
    assert dup.error.endswith(
        "1 duplicate key(s) ('3339962845' x2); keep one row per key with "
        'jobs[0].sidecars[0].on_duplicate: "first" (or last, or mean), or fix the sidecar; if '
        "the rows are frames, name the column that numbers them with "
        "jobs[0].sidecars[0].frame_column"
    )
    (keyless,) = run_batch(_manifest(case, {"scorer": "dover", "path": "dover.csv"}), jobs=1).jobs
    assert keyless.error is not None
    assert keyless.error.endswith(
        "key column 'flickr_id' not found (columns: filename, technical); map the sidecar's key "
        "column to 'flickr_id' with jobs[0].sidecars[0].key_map"
    )


def test_variable_is_named_at_its_location(case: KeyCase) -> None:
    with pytest.raises(InputError) as caught:
        validate_manifest(_manifest(case, {**PATHS, "variable": "y_pred"}))
    assert (
        "jobs[0].sidecars[0]: sidecar 'dover': variable applies to a score matrix; set align as "
        "well" in caught.value.message
    )
    scipy.io.savemat(case.folder / "niqe.mat", {"MOS": np.ones(20), "y_pred": np.zeros(20)})
    align = {"keys_from": "metadata.csv", "column": "flickr_id"}
    matrix = {"scorer": "niqe", "path": "niqe.mat", "align": align}
    (job,) = run_batch(_manifest(case, matrix), jobs=1).jobs
    assert job.error is not None
    assert job.error.endswith(
        "pass the name of the one to read as jobs[0].sidecars[0].variable (e.g. "
        'jobs[0].sidecars[0].variable: "y_pred")'
    )


def test_the_original_dialect_still_writes_rows_marked_missing_with_the_diagnosis(
    tmp_path: Path,
) -> None:
    features = [{"clip_id": k} for k in ("a", "b", "c")]
    scores: dict[str, object] = {
        "nr=s.jsonl": [{"clip_id": f"clips/{k}.mp4", "score": 1.0} for k in ("a", "b")]
    }
    case = make_case(tmp_path, features, scores, key_normalize="raw")
    result = case.run()
    assert result.ok
    assert [row["second_opinion_nr_status"] for row in case.written()] == ["missing"] * 3
    fix = 'tables[0].key_normalize: "stem"'
    (entry,) = result.report["tables"]
    assert entry["warnings"] == [
        f"nr: 0 of 3 base keys matched (0.00 %); {fix} would match 2 of 3 (66.67 %)"
    ]
    record = read_record(case.out)
    assert record["coverage"][0]["diagnosis"] == [{"text": fix, "matched": 2, "rows": 3}]
