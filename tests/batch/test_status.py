"""``status``: each job up to date, stale (and why), failed or in error; nothing run or written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from second_opinion.batch.manifest.jobs import AnyJob
from second_opinion.batch.planning import Plan, plan_job
from second_opinion.batch.status import batch_status
from second_opinion.errors import InputError, UsageError
from second_opinion.hashing import HashCache
from tests._scaffold import Scaffold
from tests.cli._run import run_cli

SALIENCY = Path(__file__).resolve().parents[2] / "testdata" / "smoke-saliency-batch"


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and mtime: what a read-only command keeps."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _states(scaffold: Scaffold) -> dict[str, tuple[str, str]]:
    status = batch_status(scaffold.manifest, out_dir=scaffold.out)
    return {job.name: (job.state, job.reason) for job in status.jobs}


@pytest.fixture
def scaffold(tmp_path: Path) -> Scaffold:
    return Scaffold.copy_into(tmp_path)


def test_status_follows_a_batch_without_writing(scaffold: Scaffold) -> None:
    assert _states(scaffold) == {
        "corpus-a": ("stale", "no output"),
        "corpus-b": ("stale", "no output"),
    }
    assert not scaffold.out.exists()
    assert scaffold.run().ok
    before = _tree(scaffold.out)
    status = batch_status(scaffold.manifest, out_dir=scaffold.out)
    assert status.up_to_date
    assert [(j.state, j.reason, j.last_run) for j in status.jobs] == [
        ("up-to-date", "unchanged", "built"),
        ("up-to-date", "unchanged", "built"),
    ]
    sidecar = scaffold.input("scores_a_niqe.jsonl")
    sidecar.write_text(sidecar.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _states(scaffold) == {
        "corpus-a": ("stale", "input changed (niqe)"),
        "corpus-b": ("up-to-date", "unchanged"),
    }
    assert _tree(scaffold.out) == before  # no hash cache update, no lock, no run summary


def test_a_failed_last_run_is_reported_with_its_error(scaffold: Scaffold) -> None:
    assert scaffold.run().ok
    frames = scaffold.input("scores_b_dover_frames.csv")
    lines = frames.read_text(encoding="utf-8").splitlines()
    frames.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")  # coverage far below 0.7
    result = scaffold.run()
    assert not result.ok
    status = {j.name: j for j in batch_status(scaffold.manifest, out_dir=scaffold.out).jobs}
    assert status["corpus-a"].state == "up-to-date"
    failed = status["corpus-b"]
    assert (failed.state, failed.last_run, failed.last_run_id) == (
        "failed",
        "failed",
        result.run_id,
    )
    assert failed.reason.startswith(f"its last run ({result.run_id}) failed: ")
    assert failed.reason.endswith(
        "dover: coverage 0.1000 (1/10) is below the minimum 0.7 "
        "(jobs[1].sidecars[0].min_coverage: 0.7)"
    )


def test_a_missing_input_is_the_manifest_error_batch_gives(scaffold: Scaffold) -> None:
    assert scaffold.run().ok
    scaffold.input("scores_a_niqe.jsonl").unlink()
    with pytest.raises(InputError) as caught:
        batch_status(scaffold.manifest, out_dir=scaffold.out)
    assert "jobs[0].sidecars[0].path: no such file: " in caught.value.message


def test_a_job_that_cannot_be_planned_is_an_error_state_not_a_crash(
    scaffold: Scaffold, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert scaffold.run().ok

    def unreadable(job: AnyJob, cache: HashCache, *, force: bool = False) -> Plan:
        if job.name == "corpus-a":  # as a non-root user sees a file it may not read
            msg = "cannot read input scores_a_niqe.jsonl: Permission denied"
            raise UsageError(msg)
        return plan_job(job, cache, force=force)

    monkeypatch.setattr("second_opinion.batch.status.plan_job", unreadable)
    assert _states(scaffold) == {
        "corpus-a": ("error", "cannot read input scores_a_niqe.jsonl: Permission denied"),
        "corpus-b": ("up-to-date", "unchanged"),
    }


def test_a_job_after_a_stale_one_is_stale(tmp_path: Path) -> None:
    folder = tmp_path / "scaffold"
    shutil.copytree(SALIENCY, folder, ignore=shutil.ignore_patterns("expected"))
    status = batch_status(folder / "batch.json", out_dir=folder / "out", select=["+corpus"])
    assert [(j.name, j.state, j.reason) for j in status.jobs] == [
        ("saliency-model", "stale", "no output"),
        ("corpus", "stale", "after job 'saliency-model', whose output it reads"),
    ]


def test_cli_status_exit_code_and_json(scaffold: Scaffold) -> None:
    args = ("status", scaffold.manifest, "--out-dir", scaffold.out)
    stale = run_cli(*args, "--exit-code")
    assert stale.returncode == 1, stale.stderr
    assert "stale" in stale.stdout
    assert "no output" in stale.stdout
    assert run_cli(*args).returncode == 0  # without --exit-code, a report only
    assert scaffold.run().ok
    fresh = run_cli(*args, "--exit-code", "--json")
    assert fresh.returncode == 0, fresh.stderr
    data = json.loads(fresh.stdout)
    assert data["up_to_date"] is True
    assert [(j["name"], j["state"]) for j in data["jobs"]] == [
        ("corpus-a", "up-to-date"),
        ("corpus-b", "up-to-date"),
    ]
    unknown = run_cli(*args, "--select", "corpus-z")
    assert unknown.returncode == 2
    assert "error: --select 'corpus-z': no job in" in unknown.stderr
