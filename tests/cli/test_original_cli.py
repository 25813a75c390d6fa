"""The original materializer's smoke run through `second-opinion batch`, with the original
README's invocation; `validate` and `migrate` on the dialect."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import yaml

from second_opinion._version import __version__
from tests.cli._run import run_cli

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "testdata" / "original-smoke-second-opinion-batch"
RELATIVE = "testdata/original-smoke-second-opinion-batch"
OUT = Path("/tmp/second-opinion-original-smoke")
SUMMARY = "second-opinion batch materialize: tables=2 input_rows=5 output_rows=5 failed_tables=0"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _described(path: Path, shown: str | None = None) -> dict[str, object]:
    return {"path": shown or str(path), "exists": True, "kind": "file", "sha256": _sha(path)}


def test_the_smoke_run_with_the_original_invocation() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    names = ("smoke_table_a.jsonl", "smoke_table_b.jsonl", "smoke_table_a.audit.json")
    for name in (*names, "smoke.report.json", "smoke.report.md"):
        (OUT / name).unlink(missing_ok=True)
    argv = [
        "batch",
        "--manifest",
        f"{RELATIVE}/batch.json",
        "--base-dir",
        ".",
        "--report-json",
        str(OUT / "smoke.report.json"),
        "--report-md",
        str(OUT / "smoke.report.md"),
    ]
    result = run_cli(*argv, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == SUMMARY
    for name in ("smoke_table_a.jsonl", "smoke_table_b.jsonl"):
        assert (OUT / name).read_bytes() == (SMOKE / "expected" / name).read_bytes(), name
        assert (OUT / f"{name}.provenance.json").is_file()

    audit = json.loads((OUT / "smoke_table_a.audit.json").read_text(encoding="utf-8"))
    provenance = audit.pop("run_provenance")
    assert audit == {
        "feature_table": f"{RELATIVE}/fixtures/features_a.jsonl",
        "output": str(OUT / "smoke_table_a.jsonl"),
        "key_column": "video_id",
        "key_normalize": "auto",
        "input_rows": 3,
        "output_rows": 3,
        "missing_policy": "mark",
        "competitors": {
            "fork-nr": {
                "competitor": "fork-nr",
                "column_prefix": "second_opinion_fork_nr",
                "scores_loaded": 3,
                "matched_rows": 3,
                "missing_rows": 0,
                "bad_rows": 0,
            }
        },
    }
    assert provenance["schema"] == "ai-run-provenance-v1"
    assert provenance["entrypoint"] == {
        "tool": "second-opinion",
        "command": "batch",
        "version": __version__,
    }
    assert provenance["argv"] == argv
    assert provenance["args"]["base_dir"] == "."
    scores = SMOKE / "fixtures" / "scores_fork_nr_a.jsonl"
    assert provenance["inputs"] == {
        "manifest": _described(SMOKE / "batch.json", f"{RELATIVE}/batch.json"),
        "features": _described(
            SMOKE / "fixtures" / "features_a.jsonl", f"{RELATIVE}/fixtures/features_a.jsonl"
        ),
        "scores": [_described(scores, f"{RELATIVE}/fixtures/scores_fork_nr_a.jsonl")],
    }
    assert provenance["outputs"] == {
        "out": _described(OUT / "smoke_table_a.jsonl"),
        "audit_json": {"path": str(OUT / "smoke_table_a.audit.json"), "kind": "this document"},
    }
    text = (OUT / "smoke_table_a.audit.json").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"

    report = json.loads((OUT / "smoke.report.json").read_text(encoding="utf-8"))
    assert report["schema"] == "second-opinion-materializer-batch-v1"
    assert report["status"] == "ok"
    assert report["manifest"] == f"{RELATIVE}/batch.json"
    assert report["summary"] == {"tables": 2, "failed_tables": 0, "input_rows": 5, "output_rows": 5}
    first, second = report["tables"]
    assert first | {"summary": None} == {
        "id": "smoke_table_a",
        "features": f"{RELATIVE}/fixtures/features_a.jsonl",
        "scores": [f"fork-nr={RELATIVE}/fixtures/scores_fork_nr_a.jsonl"],
        "out": str(OUT / "smoke_table_a.jsonl"),
        "audit_json": str(OUT / "smoke_table_a.audit.json"),
        "config": {"key_normalize": "auto", "missing_policy": "mark", "prefix": "second_opinion"},
        "status": "ok",
        "summary": None,
    }
    assert first["summary"]["competitors"] == audit["competitors"]
    assert (second["audit_json"], second["summary"]["output_rows"]) == (None, 2)
    outputs = report["run_provenance"]["outputs"]
    assert outputs["report_md"] == _described(OUT / "smoke.report.md")
    assert outputs["tables"][1] == {
        "id": "smoke_table_b",
        "out": _described(OUT / "smoke_table_b.jsonl"),
    }

    assert (OUT / "smoke.report.md").read_text(encoding="utf-8") == (
        "# Second-Opinion Materializer Batch Report\n\nStatus: **ok**\n\n"
        "| Table | Status | Input rows | Output rows | Output |\n"
        "| --- | --- | ---: | ---: | --- |\n"
        f"| smoke_table_a | ok | 3 | 3 | `{OUT}/smoke_table_a.jsonl` |\n"
        f"| smoke_table_b | ok | 2 | 2 | `{OUT}/smoke_table_b.jsonl` |\n"
    )


def _copy(tmp_path: Path, edit: dict[str, object] | None = None) -> Path:
    folder = tmp_path / "smoke"
    shutil.copytree(SMOKE / "fixtures", folder / RELATIVE / "fixtures")
    manifest = json.loads((SMOKE / "batch.json").read_text(encoding="utf-8"))
    for table in manifest["tables"]:
        table["out"] = str(tmp_path / "out" / Path(table["out"]).name)
        table.pop("audit_json", None)
    manifest["tables"][1] |= edit or {}
    path = folder / "batch.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_a_failed_table_exits_1_and_the_other_is_written(tmp_path: Path) -> None:
    manifest = _copy(tmp_path, {"features": "missing.jsonl"})
    result = run_cli("batch", manifest, cwd=manifest.parent)
    assert result.returncode == 1
    assert (
        "second-opinion batch materialize: tables=2 input_rows=3 output_rows=3 failed_tables=1"
        in result.stderr
    )
    assert "error: 1 table(s) failed: smoke_table_b" in result.stderr
    assert "smoke_table_b: " in result.stdout
    assert "missing.jsonl" in result.stdout
    assert (tmp_path / "out" / "smoke_table_a.jsonl").is_file()


def test_a_typo_in_a_policy_exits_2_naming_the_field(tmp_path: Path) -> None:
    manifest = _copy(tmp_path, {"missing_policy": "fial"})
    for command in ("batch", "validate"):
        result = run_cli(command, manifest)
        assert result.returncode == 2, command
        assert "tables[1].missing_policy: Input should be 'mark', 'drop' or 'fail'" in (
            result.stderr
        )
        assert "'fial'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_validate_checks_the_dialect_and_its_files(tmp_path: Path) -> None:
    manifest = _copy(tmp_path)
    ok = run_cli("validate", manifest, "--json")
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert [job["name"] for job in report["jobs"]] == ["smoke_table_a", "smoke_table_b"]
    assert report["output_dir"] == str(tmp_path / "out")
    broken = _copy(tmp_path / "b", {"scores": ["fork-nr=nowhere.jsonl"], "key_column": "vid"})
    result = run_cli("validate", broken)
    assert result.returncode == 2
    assert (
        f"tables[1] (smoke_table_b): scores {broken.parent / 'nowhere.jsonl'} does not exist"
        in (result.stderr)
    )


def test_migrate_prints_or_writes_the_native_manifest(tmp_path: Path) -> None:
    manifest = _copy(tmp_path)
    printed = run_cli("migrate", manifest)
    assert printed.returncode == 0, printed.stderr
    document = yaml.safe_load(printed.stdout)
    assert [job["name"] for job in document["jobs"]] == ["smoke_table_a", "smoke_table_b"]
    target = tmp_path / "native.yaml"
    written = run_cli("migrate", manifest, "-o", target)
    assert written.returncode == 0, written.stderr
    assert f"wrote {target}" in written.stderr
    ran = run_cli("batch", target, "--out-dir", tmp_path / "native-out")
    assert ran.returncode == 0, ran.stderr


def test_native_only_flags_are_refused_for_the_dialect(tmp_path: Path) -> None:
    manifest = _copy(tmp_path)
    result = run_cli("batch", manifest, "--out-dir", tmp_path, "--dry-run")
    assert result.returncode == 2
    assert "--dry-run, --out-dir: for native manifests only;" in result.stderr
    assert not (tmp_path / "out").exists()
