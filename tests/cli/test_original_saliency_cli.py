"""``second-opinion batch`` and ``validate`` on the original saliency runner's manifests, through
the real entry point: the dialect is recognised, its flags and summary line are the original's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests._saliency import clip_row, model_file, noise_clip, write_clips
from tests.cli._run import run_cli


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Two 16 × 12 yuv420p clips, their clips table, the tiny model, and a manifest of one table."""
    noise_clip(tmp_path / "a.yuv", 16, 12, 8, seed=1)
    noise_clip(tmp_path / "b.yuv", 16, 12, 8, seed=2)
    write_clips(tmp_path / "clips.jsonl", [clip_row("a", "a.yuv"), clip_row("b", "b.yuv")])
    model_file(tmp_path / "tiny.onnx")
    _manifest(tmp_path, {"id": "t1", "input": "clips.jsonl", "output": "out/t1.jsonl"})
    return tmp_path


def _manifest(folder: Path, *tables: dict[str, Any], **defaults: Any) -> Path:
    base = {"path_column": "path", "model_path": "tiny.onnx", "root": "."}
    data = {"_comment": "a saliency batch", "defaults": base | defaults, "tables": list(tables)}
    path = folder / "batch.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_batch_runs_it_with_the_originals_flags_reports_and_summary_line(corpus: Path) -> None:
    done = run_cli(
        "batch",
        "--manifest",
        corpus / "batch.json",
        "--base-dir",
        corpus,
        "--report-json",
        corpus / "report" / "batch.json",
        "--report-md",
        corpus / "report" / "batch.md",
        "--jobs",
        "1",
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "saliency batch materialize: tables=1 total=2 ok=2 skipped=0 failed=0"
    )
    assert (corpus / "out" / "t1.jsonl").is_file()
    report = json.loads((corpus / "report" / "batch.json").read_text(encoding="utf-8"))
    assert (report["schema"], report["status"]) == ("saliency-materializer-batch-v1", "ok")
    assert [t["id"] for t in report["tables"]] == ["t1"]
    markdown = (corpus / "report" / "batch.md").read_text(encoding="utf-8")
    assert "Status: **ok**" in markdown
    assert "| t1 | ok |" in markdown


def test_validate_translates_it_and_runs_nothing(corpus: Path) -> None:
    done = run_cli("validate", corpus / "batch.json", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["valid"] is True
    assert [job["name"] for job in report["jobs"]] == ["t1"]
    assert report["jobs"][0]["kind"] == "saliency"
    assert not (corpus / "out").exists()


def test_a_field_we_cannot_honour_is_refused_with_exit_2_and_nothing_written(
    corpus: Path,
) -> None:
    _manifest(
        corpus,
        {"id": "t1", "input": "clips.jsonl", "output": "out/t1.jsonl"},
        temporal_aggregator="max",
    )
    done = run_cli("batch", corpus / "batch.json")
    assert done.returncode == 2
    assert "temporal_aggregator" in done.stderr
    assert "cannot run as second-opinion saliency jobs" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (corpus / "out").exists()


def test_native_only_flags_are_refused_for_it(corpus: Path) -> None:
    done = run_cli("batch", corpus / "batch.json", "--dry-run")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: --dry-run: for native manifests only; {corpus / 'batch.json'} is an original "
        "saliency manifest (tables of input/output)"
    )


def test_allow_row_failures_belongs_to_this_dialect_only(tmp_path: Path) -> None:
    native = tmp_path / "native.json"
    native.write_text(json.dumps({"version": 1, "output_dir": "out", "jobs": []}), "utf-8")
    done = run_cli("batch", native, "--allow-row-failures")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: --allow-row-failures applies to original saliency manifests (tables of "
        f"input/output); {native} is native"
    )
