"""The manifest's ``audit`` section: validation, and ``batch`` running it incrementally."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from second_opinion.audit.options import available_cores, build_options
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.runner import run_batch
from second_opinion.errors import InputError, UsageError
from tests.cli._run import run_cli

SCAFFOLD = Path(__file__).resolve().parents[2] / "testdata" / "smoke-second-opinion-batch"
FAST = {"splits": 3, "bootstrap": 20, "model": "ridge", "folds": 2}


def _manifest(folder: Path, audit: dict[str, Any] | None, **extra: Any) -> Path:
    for name in ("features_corpus_a.jsonl", "scores_a_niqe.jsonl"):
        shutil.copy(SCAFFOLD / name, folder / name)
    job = {
        "name": "corpus-a",
        "features": "features_corpus_a.jsonl",
        "key": ["clip_id"],
        "sidecars": [
            {
                "scorer": "niqe",
                "path": "scores_a_niqe.jsonl",
                "columns": ["niqe"],
                "key_map": {"video": "clip_id"},
                "normalize_keys": ["basename", "stem", "lower"],
                "higher_is_better": False,
            }
        ],
        "output": "corpus-a.jsonl",
        **extra,
    }
    data: dict[str, Any] = {"version": 1, "output_dir": "out", "jobs": [job]}
    if audit is not None:
        data["audit"] = audit
    path = folder / "batch.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_audit_section_resolves_tables_out_and_options(tmp_path: Path) -> None:
    path = _manifest(tmp_path, {**FAST, "out": "reports/audit", "baseline": "vmaf=vmaf_*"})
    manifest = load_manifest(path)
    assert manifest.audit is not None
    assert manifest.audit.tables == ("corpus-a",)
    assert manifest.audit.out == tmp_path / "out" / "reports" / "audit"
    assert manifest.audit.options.splits == 3
    assert manifest.audit.options.baseline == "vmaf=vmaf_*"
    assert manifest.audit.jobs_set is False


def test_audit_section_problems_are_reported_with_their_location(tmp_path: Path) -> None:
    path = _manifest(tmp_path, {"tables": ["corpus-b"], "splits": 0, "modle": "svr"})
    with pytest.raises(InputError) as caught:
        load_manifest(path)
    message = caught.value.message
    assert "audit.splits: Input should be greater than or equal to 1 (got 0)" in message
    assert "audit.modle: unknown field; did you mean 'model'?" in message


def test_audit_tables_must_name_jobs(tmp_path: Path) -> None:
    path = _manifest(tmp_path, {"tables": ["corpus-aa"]})
    with pytest.raises(InputError) as caught:
        load_manifest(path)
    assert "audit.tables[0]: no job named 'corpus-aa'; did you mean 'corpus-a'?" in (
        caught.value.message
    )


def test_a_bad_signal_in_the_audit_section_is_a_manifest_problem(tmp_path: Path) -> None:
    path = _manifest(tmp_path, {"baseline": "no-equals-sign"})
    with pytest.raises(InputError) as caught:
        load_manifest(path)
    assert "audit.baseline: baseline 'no-equals-sign': expected NAME=GLOB" in caught.value.message


def test_audit_compare_in_a_manifest_is_checked_where_it_is_written(tmp_path: Path) -> None:
    path = _manifest(tmp_path, {"compare": ["niqe", "vmaf,vmaf"]})
    with pytest.raises(InputError) as caught:
        load_manifest(path)
    message = caught.value.message
    assert "audit.compare: 'niqe': expected two signal names as A,B" in message
    named = _manifest(tmp_path, {"signals": {"adm": "vmaf_adm2"}, "compare": [["adm", "vif"]]})
    with pytest.raises(InputError) as caught:
        load_manifest(named)
    assert "audit.compare: adm,vif: no signal named 'vif' (signals: adm)" in caught.value.message


def test_batch_runs_the_comparisons_its_manifest_asks_for(tmp_path: Path) -> None:
    path = _manifest(tmp_path, {**FAST, "compare": ["niqe,vmaf_adm2"], "compare_all": True})
    result = run_batch(path)
    assert result.audit is not None
    assert result.audit.status == "built", result.audit.error
    report = json.loads((tmp_path / "out" / "audit" / "audit.json").read_text())
    found = report["comparisons"]["corpus-a"]
    assert (found["pairs"][0]["a"], found["pairs"][0]["b"]) == ("niqe", "vmaf_adm2")
    assert len(found["pairs"]) == 6  # 4 signals: every pair once, the one asked for first
    assert found["matrix"]["signals"] == list(report["corpora"]["corpus-a"]["signals"])


def test_a_manifest_comparing_a_signal_no_table_has_fails_the_audit(tmp_path: Path) -> None:
    path = _manifest(tmp_path, {**FAST, "compare": ["niqe,brisque"]})
    result = run_batch(path)
    assert result.audit is not None
    assert result.audit.status == "failed"
    assert result.audit.error == (
        "compare niqe,brisque: no corpus has a signal named 'brisque' "
        "(signals: niqe, vmaf_adm2, vmaf_motion2, vmaf_vif)"
    )


def test_batch_runs_the_audit_after_its_jobs_then_skips_it_while_unchanged(
    tmp_path: Path,
) -> None:
    path = _manifest(tmp_path, {**FAST, "baseline": "vmaf=vmaf_*"})
    first = run_batch(path)
    assert first.audit is not None
    assert (first.audit.status, first.audit.reason) == ("built", "new")
    report = json.loads((tmp_path / "out" / "audit" / "audit.json").read_text())
    assert report["fingerprint"] == first.audit.fingerprint
    assert list(report["corpora"]) == ["corpus-a"]  # named after the job
    assert set(report["corpora"]["corpus-a"]["signals"]) == {
        "vmaf",
        "niqe",
        "vmaf_adm2",
        "vmaf_vif",
        "vmaf_motion2",
    }
    assert report["gain"]["corpus-a"]["baseline"] == "vmaf"
    assert list(report["gain"]["corpus-a"]["second_opinions"]) == ["niqe"]
    niqe = report["corpora"]["corpus-a"]["signals"]["niqe"]
    assert niqe["higher_is_better"] is False  # from the job's provenance
    assert (tmp_path / "out" / "audit" / "audit.html").is_file()

    second = run_batch(path)
    assert second.audit is not None
    assert (second.audit.status, second.audit.reason) == ("up-to-date", "unchanged")
    assert second.audit.fingerprint == first.audit.fingerprint

    forced = run_batch(path, force=True)
    assert forced.audit is not None
    assert (forced.audit.status, forced.audit.reason) == ("rebuilt", "forced")


def test_a_changed_table_or_option_reruns_the_audit(tmp_path: Path) -> None:
    path = _manifest(tmp_path, FAST)
    first = run_batch(path)
    scores = tmp_path / "scores_a_niqe.jsonl"
    scores.write_text(scores.read_text().replace("5.087", "5.5"), encoding="utf-8")
    second = run_batch(path)
    assert second.jobs[0].status == "rebuilt"
    assert second.audit is not None
    assert (second.audit.status, second.audit.reason) == ("rebuilt", "changed")
    assert first.audit is not None
    assert second.audit.fingerprint != first.audit.fingerprint

    _manifest(tmp_path, {**FAST, "splits": 4})
    third = run_batch(path)
    assert third.audit is not None
    assert third.audit.status == "rebuilt"


def test_the_audit_worker_count_does_not_change_the_fingerprint(tmp_path: Path) -> None:
    path = _manifest(tmp_path, FAST)
    first = run_batch(path, jobs=1)
    second = run_batch(path, jobs=2)
    assert first.audit is not None
    assert second.audit is not None
    assert second.audit.status == "up-to-date"


def test_dry_run_plans_the_audit_and_writes_nothing(tmp_path: Path) -> None:
    path = _manifest(tmp_path, FAST)
    planned = run_batch(path, dry_run=True)
    assert planned.audit is not None
    assert (planned.audit.status, planned.audit.reason) == (
        "planned",
        "job 'corpus-a' will change its table",
    )
    assert not (tmp_path / "out" / "audit").exists()
    run_batch(path)
    again = run_batch(path, dry_run=True)
    assert again.audit is not None
    assert again.audit.status == "up-to-date"


def test_the_audit_is_skipped_when_a_job_fails(tmp_path: Path) -> None:
    path = _manifest(tmp_path, FAST)
    (tmp_path / "scores_a_niqe.jsonl").write_text("not json\n", encoding="utf-8")
    result = run_batch(path)
    assert result.jobs[0].status == "failed"
    assert result.audit is not None
    assert result.audit.status == "skipped"
    assert result.audit.reason == "job 'corpus-a' did not finish (failed)"
    assert not (tmp_path / "out" / "audit").exists()


def test_a_failing_audit_fails_the_batch_with_exit_1_and_keeps_the_job_output(
    tmp_path: Path,
) -> None:
    path = _manifest(tmp_path, {**FAST, "mos": "no_such_column"})
    result = run_cli("batch", path)
    assert result.returncode == 1, result.stderr
    assert "no MOS column 'no_such_column'" in result.stdout
    assert "the audit failed" in result.stderr
    assert (tmp_path / "out" / "corpus-a.jsonl").is_file()
    assert not (tmp_path / "out" / "audit").exists()


def test_a_batch_jobs_over_the_audits_limit_is_refused_as_audit_jobs_is(tmp_path: Path) -> None:
    """``--jobs`` reaches the audit when the section sets no ``jobs``: through validation, so the
    audit's limit (1024 worker processes) holds for it too, before any job runs."""
    path = _manifest(tmp_path, dict(FAST))
    with pytest.raises(UsageError) as direct:
        build_options(**FAST, jobs=5000)
    assert direct.value.message == (
        "invalid audit options:\n  jobs: Input should be less than or equal to 1024 (got 5000)"
    )
    with pytest.raises(UsageError) as through_batch:
        run_batch(path, jobs=5000)
    assert through_batch.value.message == direct.value.message
    assert not (tmp_path / "out" / "corpus-a.jsonl").exists()
    manifest = load_manifest(path)
    assert manifest.audit is not None
    with pytest.raises(UsageError, match=r"jobs: Input should be less than or equal to 1024"):
        manifest.audit.options_for(5000)
    assert manifest.audit.options_for(8).jobs == 8
    assert manifest.audit.options_for(None).jobs == available_cores()  # the audit's default


def test_a_set_audit_jobs_is_kept_whatever_the_batch_jobs(tmp_path: Path) -> None:
    manifest = load_manifest(_manifest(tmp_path, {**FAST, "jobs": 2}))
    assert manifest.audit is not None
    assert manifest.audit.options_for(5000).jobs == 2


def test_an_audit_report_folder_swapped_for_a_symlink_is_refused(tmp_path: Path) -> None:
    """Confinement holds when the report is written (ADR 0018), not only when the manifest loads."""
    path = _manifest(tmp_path, {**FAST, "out": "reports/audit"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    manifest = load_manifest(path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "reports").symlink_to(elsewhere, target_is_directory=True)

    result = run_batch(manifest)

    assert result.audit is not None
    assert (result.audit.status, result.audit.error) == (
        "failed",
        (
            f"{tmp_path / 'out' / 'reports'}: is a symlink (to {elsewhere}) inside output_dir "
            f"{tmp_path / 'out'}; a batch writes only into real folders, so nothing lands outside "
            "output_dir: replace the symlink by a folder, or pass --allow-outside-output-dir"
        ),
    )
    assert list(elsewhere.iterdir()) == []
