"""``migrate``: the native manifest it writes produces the tables the original manifest does."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.original.migrate import migrate_manifest
from second_opinion.batch.runner import run_batch
from tests._paths import ROOT
from tests.batch._original_cases import Case, make_case
from tests.batch.test_original_batch import FEATURES, SCORES
from tests.original_reference import read_rows

SMOKE = ROOT / "testdata" / "original-smoke-second-opinion-batch"

PATHS = [{"distorted_path": "/c/a/clip1.mp4"}, {"distorted_path": "/c/b/clip2.mp4"}]
FRAMES = [
    {"clip_id": "c1", "frames": [{"vmaf": 50.0, "runtime_ms": 1.0}, {"vmaf": 61.0}]},
    {"summary": {"clip_id": "c2", "score": 70.0, "competitor": "fast-vqa"}},
]
MIXED = [
    {"clip_id": "c1", "competitor": "q-align", "score": 1.0},
    {"clip_id": "c2", "competitor": "dover", "score": 3.0},
]
CASES: dict[str, Callable[[Path], Case]] = {
    "mark": lambda p: make_case(p, FEATURES, {"dover=s.jsonl": SCORES[:2]}),
    "drop": lambda p: make_case(p, FEATURES, {"d=s.jsonl": SCORES[:2]}, missing_policy="drop"),
    "fail": lambda p: make_case(p, FEATURES, {"d=s.jsonl": SCORES[:2]}, missing_policy="fail"),
    "paths": lambda p: make_case(p, PATHS, {"nr=s.jsonl": [{"path": "clip1.mp4", "score": 1}]}),
    "stem": lambda p: make_case(
        p, PATHS, {"nr=s.jsonl": [{"name": "x/clip2.y4m", "mos": 2}]}, key_normalize="stem"
    ),
    "frames": lambda p: make_case(p, FEATURES, {"fast-vqa=w.json": FRAMES}, prefix="p"),
    "mixed": lambda p: make_case(p, FEATURES, {"mixed.jsonl": MIXED}),
    "fields": lambda p: make_case(
        p,
        FEATURES,
        {"nr=s.jsonl": [{"id": " c1", "nr": 4.0}]},
        score_key_field="id",
        score_field="nr",
        key_column="clip_id",
    ),
}


def _native(case: Case, tmp_path: Path) -> tuple[list[dict[str, Any]] | None, Path]:
    """Migrate ``case`` into ``tmp_path/native.yaml``, run it; its rows (None if it failed)."""
    target = tmp_path / "native" / "batch.yaml"
    target.parent.mkdir()
    migration = migrate_manifest(case.manifest, target=target)
    target.write_text(migration.text(), encoding="utf-8")
    manifest = load_manifest(target)
    (job,) = manifest.jobs
    out = tmp_path / "native-out"
    result = run_batch(target, out_dir=out)
    if result.jobs[0].status != "built":
        return None, job.output
    return [dict(r) for r in read_rows(out / job.output.name)], job.output


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_migrated_manifest_writes_the_same_table(tmp_path: Path, name: str) -> None:
    case = CASES[name](tmp_path / "case")
    result = case.run()
    native, _ = _native(case, tmp_path)
    if not result.ok:
        assert native is None, f"the dialect failed ({result.report}) but the native run did not"
        return
    assert native == case.written()


def test_the_smoke_manifest_migrates_to_a_native_manifest(tmp_path: Path) -> None:
    target = tmp_path / "batch.yaml"
    migration = migrate_manifest(SMOKE / "batch.json", base_dir=ROOT, target=target)
    document = yaml.safe_load(migration.text())
    assert document["version"] == 1
    assert document["output_dir"] == "/tmp/second-opinion-original-smoke"
    first = document["jobs"][0]
    relative = Path(first["features"])
    assert (tmp_path / relative).resolve() == (SMOKE / "fixtures" / "features_a.jsonl").resolve()
    assert first["name"] == "smoke_table_a"
    assert first["key"] == ["video_id"]
    assert first["output"] == "smoke_table_a.jsonl"
    assert first["sidecars"][0] | {"path": None} == {
        "scorer": "fork-nr",
        "path": None,
        "records": "wrapper",
        "normalize_keys": ["strip", "auto"],
        "on_missing": "mark",
        "prefix": "second_opinion_{scorer}_",
        "allow_no_match": True,  # the original writes every row, whatever matched
    }
    note = (
        "tables[0] (smoke_table_a): audit_json /tmp/second-opinion-original-smoke/"
        "smoke_table_a.audit.json is not written by a native batch; its provenance record is "
        "smoke_table_a.jsonl.provenance.json beside the output"
    )
    assert migration.notes == (note,)
    assert json.loads(migration.text(".json")) == document


def test_the_migrated_smoke_manifest_runs_like_the_original(tmp_path: Path) -> None:
    folder = tmp_path / "smoke"
    shutil.copytree(SMOKE, folder)
    manifest = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    for table in manifest["tables"]:
        table["out"] = str(tmp_path / "out" / Path(table["out"]).name)
    (folder / "batch.json").write_text(json.dumps(manifest), encoding="utf-8")
    # the manifest's inputs are below the repository root: a base folder holding testdata/
    (tmp_path / "testdata").mkdir()
    (tmp_path / "testdata" / SMOKE.name).symlink_to(folder)
    target = tmp_path / "native.yaml"
    migration = migrate_manifest(folder / "batch.json", base_dir=tmp_path, target=target)
    target.write_text(migration.text(), encoding="utf-8")
    result = run_batch(target, out_dir=tmp_path / "native-out")
    assert [job.status for job in result.jobs] == ["built", "built"]
    for name in ("smoke_table_a", "smoke_table_b"):
        expected = read_rows(SMOKE / "expected" / f"{name}.jsonl")
        got = read_rows(tmp_path / "native-out" / f"{name}.jsonl")
        for row in expected:  # the source column names the file as the manifest does
            for column in [c for c in row if c.endswith("_source")]:
                row[column] = str(tmp_path / str(row[column]))
        assert got == expected


def test_a_sidecar_split_into_scorer_groups_records_its_files_rows(tmp_path: Path) -> None:
    # One wrapper file holding two competitors gives two coverage reports (one per group); the
    # provenance record's input entry for that file counts the rows of both.
    (tmp_path / "f.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in FEATURES), encoding="utf-8"
    )
    (tmp_path / "mixed.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in MIXED), encoding="utf-8"
    )
    manifest = {
        "version": 1,
        "output_dir": "out",
        "jobs": [
            {
                "name": "t",
                "features": "f.jsonl",
                "key": ["clip_id"],
                "output": "t.jsonl",
                "sidecars": [
                    {
                        "scorer": "mixed",
                        "path": "mixed.jsonl",
                        "records": "wrapper",
                        "normalize_keys": ["strip"],  # the base's ' c2 '
                    }
                ],
            }
        ],
    }
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    result = run_batch(path, jobs=1)
    assert result.ok, result.jobs
    record = json.loads((tmp_path / "out" / "t.jsonl.provenance.json").read_text("utf-8"))
    (sidecar,) = [i for i in record["inputs"] if i["role"] != "features"]
    assert (sidecar["scorer"], sidecar["rows"]) == ("mixed", len(MIXED))
    assert sorted(c["scorer"] for c in record["coverage"]) == ["dover", "q-align"]
