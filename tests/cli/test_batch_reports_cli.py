"""`second-opinion batch`'s report flags for native manifests, and naming the manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli._run import run_cli

ROOT = Path(__file__).resolve().parents[2]
SCAFFOLD = ROOT / "testdata" / "smoke-second-opinion-batch"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "scaffold"
    shutil.copytree(SCAFFOLD, folder)
    return folder / "batch.json"


def test_native_batch_writes_a_markdown_and_a_json_report(tmp_path: Path) -> None:
    manifest = _copy(tmp_path)
    md, js = tmp_path / "r" / "report.md", tmp_path / "r" / "report.json"
    result = run_cli(
        "batch",
        "--manifest",
        manifest,
        "--out-dir",
        tmp_path / "out",
        "--report-md",
        md,
        "--report-json",
        js,
    )
    assert result.returncode == 0, result.stderr
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Second-Opinion Batch Report\n\nManifest: `")
    assert "Status: **ok**" in text
    assert "| Job | Status | Reason | Rows | Output |\n| --- | --- | --- | ---: | --- |\n" in text
    assert f"| corpus-a | built | new | 12 | `{tmp_path / 'out' / 'corpus-a.jsonl'}` |" in text
    report = json.loads(js.read_text(encoding="utf-8"))
    assert report["ok"] is True
    assert [job["name"] for job in report["jobs"]] == ["corpus-a", "corpus-b"]


def test_the_manifest_is_named_once(tmp_path: Path) -> None:
    manifest = _copy(tmp_path)
    both = run_cli("batch", manifest, "--manifest", manifest)
    assert both.returncode == 2
    assert "give the manifest once: as the argument" in both.stderr
    neither = run_cli("batch")
    assert neither.returncode == 2
    assert "name the manifest: second-opinion batch MANIFEST (or --manifest MANIFEST)" in (
        neither.stderr
    )


def test_base_dir_is_refused_for_a_native_manifest(tmp_path: Path) -> None:
    manifest = _copy(tmp_path)
    result = run_cli("batch", manifest, "--base-dir", tmp_path)
    assert result.returncode == 2
    assert "--base-dir applies to original manifests (tables, no version)" in result.stderr
