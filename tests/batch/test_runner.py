"""`run_batch`: incremental runs, provenance, locking, failures and interruption.

Most tests run the bundled smoke scaffold (two small jobs) copied into ``tmp_path``, in this
process; the interruption tests run ``python -m second_opinion batch`` in a subprocess on a
generated per-frame sidecar of a few million rows, so that the join takes long enough to stop it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pytest

import second_opinion
from second_opinion import provenance
from second_opinion.batch import planning
from second_opinion.batch.lock import output_lock
from second_opinion.batch.runner import run_batch
from second_opinion.errors import BusyError, UsageError
from second_opinion.provenance import (
    fingerprint,
    provenance_path,
    read_record,
    spec_digest,
)
from tests._scaffold import JOBS, OUTPUTS, Scaffold, by_name, outcome
from tests._tables import read_rows

ROOT = Path(__file__).resolve().parents[2]
COVERAGE = {"corpus-a": {"niqe": 11 / 12}, "corpus-b": {"dover": 0.8}}
ROWS = {"corpus-a": 12, "corpus-b": 10}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ENV = {**os.environ, "COLUMNS": "200"}  # rich wraps at 80 columns when not on a terminal


# --- helpers --------------------------------------------------------------------------------------


def listing(folder: Path) -> dict[str, tuple[int, int] | None]:
    """Every entry under ``folder`` with (size, mtime_ns), None for folders; {} when absent."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): (
            (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else None
        )
        for p in sorted(folder.rglob("*"))
    }


def temporaries(folder: Path) -> list[Path]:
    """Temporary files (``.<name>.<random>.tmp``) anywhere under ``folder``."""
    return sorted(p for p in folder.rglob(".*tmp")) if folder.exists() else []


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bump_a_digit(path: Path) -> None:
    """Change one byte of ``path``: the last digit of its second line (a score, never a key)."""
    data = bytearray(path.read_bytes())
    start = data.index(b"\n") + 1
    end = data.index(b"\n", start)
    index = max(i for i in range(start, end) if chr(data[i]).isdigit())
    data[index] = ord(str((int(chr(data[index])) + 1) % 10))
    stat = path.stat()
    path.write_bytes(bytes(data))
    assert path.stat().st_size == stat.st_size


def assert_sorted_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    assert keys == sorted(keys), f"keys not in sorted order: {keys}"
    return dict(pairs)


# --- a first run ----------------------------------------------------------------------------------


def test_first_run_writes_outputs_provenance_and_a_run_summary(scaffold: Scaffold) -> None:
    result = scaffold.run()

    assert result.ok
    assert not result.dry_run
    assert result.manifest == str(scaffold.manifest)
    assert result.output_dir == str(scaffold.out)
    assert outcome(result) == dict.fromkeys(JOBS, ("built", "new"))
    for job in result.jobs:
        assert job.output == str(scaffold.output(job.name))
        assert job.rows == ROWS[job.name]
        assert job.coverage == pytest.approx(COVERAGE[job.name])
        assert job.error is None
        assert job.seconds > 0
        assert scaffold.output(job.name).is_file()
        assert len(read_rows(scaffold.output(job.name))) == ROWS[job.name]
        assert provenance_path(scaffold.output(job.name)).is_file()
    summary = scaffold.out / "runs" / f"{result.run_id}.json"
    assert summary.is_file()
    assert json.loads(summary.read_text(encoding="utf-8")) == result.to_dict()
    assert [p.name for p in (scaffold.out / "runs").iterdir()] == [summary.name]
    assert temporaries(scaffold.out) == []

    # the hash cache holds every input and output, by path, size and mtime_ns
    cache = json.loads(
        (scaffold.out / ".second-opinion" / "hashes.json").read_text(encoding="utf-8")
    )
    assert cache["version"] == 1
    files = cache["files"]
    expected = [scaffold.output(j) for j in JOBS] + [
        scaffold.folder / name
        for name in (
            "features_corpus_a.jsonl",
            "scores_a_niqe.jsonl",
            "features_corpus_b.csv",
            "scores_b_dover_frames.csv",
        )
    ]
    assert sorted(files) == sorted(str(p) for p in expected)
    for path in expected:
        stat = path.stat()
        assert files[str(path)] == {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": sha256(path),
        }


# --- when a job is up to date, and why it reruns -----------------------------------------------


def test_a_second_run_is_up_to_date_and_rewrites_nothing(ran: Scaffold) -> None:
    files = [ran.output(j) for j in JOBS] + [provenance_path(ran.output(j)) for j in JOBS]
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}

    result = ran.run()

    assert result.ok
    assert outcome(result) == dict.fromkeys(JOBS, ("up-to-date", "unchanged"))
    for job in result.jobs:  # rows and coverage come from the provenance record
        assert job.rows == ROWS[job.name]
        assert job.coverage == pytest.approx(COVERAGE[job.name])
        assert job.error is None
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before
    assert (ran.out / "runs" / f"{result.run_id}.json").is_file()
    assert len(list((ran.out / "runs").iterdir())) == 2


def test_touching_an_input_without_changing_it_keeps_the_job_up_to_date(ran: Scaffold) -> None:
    niqe = ran.folder / "scores_a_niqe.jsonl"
    stat = niqe.stat()
    os.utime(niqe, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    output_mtime = ran.output("corpus-a").stat().st_mtime_ns

    result = ran.run()

    assert outcome(result) == dict.fromkeys(JOBS, ("up-to-date", "unchanged"))
    assert ran.output("corpus-a").stat().st_mtime_ns == output_mtime
    cache = json.loads((ran.out / ".second-opinion" / "hashes.json").read_text(encoding="utf-8"))
    assert cache["files"][str(niqe)]["mtime_ns"] == stat.st_mtime_ns + 5_000_000_000


@pytest.mark.parametrize(
    ("changed", "job", "reason"),
    [
        ("scores_a_niqe.jsonl", "corpus-a", "input changed (niqe)"),
        ("features_corpus_a.jsonl", "corpus-a", "input changed (features)"),
        ("scores_b_dover_frames.csv", "corpus-b", "input changed (dover)"),
    ],
)
def test_changing_one_byte_of_an_input_reruns_only_its_job(
    ran: Scaffold, changed: str, job: str, reason: str
) -> None:
    (other,) = set(JOBS) - {job}
    other_mtime = ran.output(other).stat().st_mtime_ns
    bump_a_digit(ran.folder / changed)

    result = ran.run()

    assert outcome(result) == {job: ("rebuilt", reason), other: ("up-to-date", "unchanged")}
    assert ran.output(other).stat().st_mtime_ns == other_mtime
    recorded = {i["path"]: i["sha256"] for i in ran.record(job)["inputs"]}
    assert recorded[str(ran.folder / changed)] == sha256(ran.folder / changed)
    assert outcome(ran.run()) == dict.fromkeys(JOBS, ("up-to-date", "unchanged"))


def test_changing_a_job_option_reruns_only_that_job(ran: Scaffold) -> None:
    def fewer_pools(data: dict[str, Any]) -> None:
        data["jobs"][1]["sidecars"][0]["pool"] = ["mean"]

    ran.edit_manifest(fewer_pools)

    result = ran.run()

    assert outcome(result) == {
        "corpus-a": ("up-to-date", "unchanged"),
        "corpus-b": ("rebuilt", "spec changed"),
    }
    assert ran.record("corpus-b")["job"]["spec"]["sidecars"][0]["pool"] == ["mean"]
    assert "so_dover_technical_p5" not in read_rows(ran.output("corpus-b"))[0]


def test_descriptions_and_input_locations_are_not_fingerprinted(ran: Scaffold) -> None:
    moved = ran.folder / "elsewhere" / "niqe.jsonl"
    moved.parent.mkdir()
    shutil.copy2(ran.folder / "scores_a_niqe.jsonl", moved)

    def cosmetic(data: dict[str, Any]) -> None:
        data["description"] = "a new description"
        data["jobs"][0]["description"] = "another description"
        data["jobs"][0]["sidecars"][0]["description"] = "NIQE, moved"
        data["jobs"][0]["sidecars"][0]["path"] = "elsewhere/niqe.jsonl"

    ran.edit_manifest(cosmetic)

    assert outcome(ran.run()) == dict.fromkeys(JOBS, ("up-to-date", "unchanged"))


def test_a_new_tool_series_reruns_every_job(ran: Scaffold, monkeypatch: pytest.MonkeyPatch) -> None:
    real = provenance.tool_series

    def next_series(version: str | None = None) -> str:
        return "9.9" if version is None else real(version)

    monkeypatch.setattr(provenance, "tool_series", next_series)
    monkeypatch.setattr(planning, "tool_series", next_series)

    result = ran.run(dry_run=True)

    assert outcome(result) == dict.fromkeys(JOBS, ("planned", "tool version changed (0.1 -> 9.9)"))


def test_an_output_edited_by_hand_is_rebuilt(ran: Scaffold) -> None:
    output = ran.output("corpus-b")
    original = output.read_bytes()
    output.write_bytes(original.replace(b"4001", b"9999", 1))

    result = ran.run()

    assert outcome(result) == {
        "corpus-a": ("up-to-date", "unchanged"),
        "corpus-b": ("rebuilt", "output changed since its run"),
    }
    assert output.read_bytes() == original
    assert ran.record("corpus-b")["output"]["sha256"] == sha256(output)


def test_an_output_without_provenance_is_rebuilt(ran: Scaffold) -> None:
    provenance_path(ran.output("corpus-a")).unlink()

    result = ran.run()

    assert outcome(result) == {
        "corpus-a": ("rebuilt", "no provenance"),
        "corpus-b": ("up-to-date", "unchanged"),
    }
    assert read_record(ran.output("corpus-a"))["run"]["run_id"] == result.run_id


def _truncated(text: str) -> str:
    return text[: len(text) // 2]


def _edited(**fields: object) -> Callable[[str], str]:
    def edit(text: str) -> str:
        return json.dumps({**json.loads(text), **fields})

    return edit


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        pytest.param(_truncated, "provenance unreadable (JSONDecodeError)", id="truncated"),
        pytest.param(lambda t: "[1, 2]", "provenance unreadable (no schema)", id="a-list"),
        pytest.param(
            _edited(schema="second-opinion.provenance/9"),
            "provenance schema 'second-opinion.provenance/9' is not 'second-opinion.provenance/1'",
            id="newer-schema",
        ),
    ],
)
def test_an_unreadable_provenance_is_stale_and_rebuilt(
    ran: Scaffold, damage: Callable[[str], str], reason: str
) -> None:
    record = provenance_path(ran.output("corpus-a"))
    record.write_text(damage(record.read_text(encoding="utf-8")), encoding="utf-8")

    result = ran.run()

    assert outcome(result) == {
        "corpus-a": ("rebuilt", reason),
        "corpus-b": ("up-to-date", "unchanged"),
    }
    assert read_record(ran.output("corpus-a"))["run"]["run_id"] == result.run_id
    assert outcome(ran.run()) == dict.fromkeys(JOBS, ("up-to-date", "unchanged"))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(_edited(output=None), id="output-null"),
        pytest.param(_edited(tool=[], fingerprint="0" * 64), id="tool-a-list"),
        pytest.param(_edited(inputs=["a", "b"], fingerprint="0" * 64), id="inputs-not-objects"),
    ],
)
def test_a_malformed_provenance_of_the_right_schema_is_stale_not_a_crash(
    ran: Scaffold, damage: Callable[[str], str]
) -> None:
    # A record that parses and has the right schema, but fields of the wrong shape (edited by
    # hand, or written by a buggy tool), must count as unreadable, like a corrupt file.
    record = provenance_path(ran.output("corpus-a"))
    record.write_text(damage(record.read_text(encoding="utf-8")), encoding="utf-8")

    result = ran.run()

    status, reason = outcome(result)["corpus-a"]
    assert status == "rebuilt"
    assert "provenance" in reason
    assert read_record(ran.output("corpus-a"))["run"]["run_id"] == result.run_id


def test_force_reruns_up_to_date_jobs(ran: Scaffold) -> None:
    before = {j: ran.output(j).read_bytes() for j in JOBS}

    result = ran.run(force=True)

    assert outcome(result) == dict.fromkeys(JOBS, ("rebuilt", "forced"))
    for job in JOBS:
        assert ran.output(job).read_bytes() == before[job]
        assert ran.record(job)["run"]["run_id"] == result.run_id


# --- dry runs -------------------------------------------------------------------------------------


def test_a_dry_run_on_a_fresh_folder_plans_everything_and_writes_nothing(
    scaffold: Scaffold,
) -> None:
    inputs_before = listing(scaffold.folder)

    result = scaffold.run(dry_run=True)

    assert result.dry_run
    assert result.ok
    assert outcome(result) == dict.fromkeys(JOBS, ("planned", "no output"))
    for job in result.jobs:
        assert job.coverage == pytest.approx(COVERAGE[job.name])
        assert job.rows == ROWS[job.name]
        assert job.error is None
    assert not scaffold.out.exists()
    assert listing(scaffold.folder) == inputs_before


def test_a_dry_run_says_what_would_run_and_why_and_writes_nothing(ran: Scaffold) -> None:
    bump_a_digit(ran.folder / "scores_a_niqe.jsonl")
    before = listing(ran.out)

    result = ran.run(dry_run=True)

    assert outcome(result) == {
        "corpus-a": ("planned", "input changed (niqe)"),
        "corpus-b": ("up-to-date", "unchanged"),
    }
    assert by_name(result)["corpus-a"].coverage == pytest.approx(COVERAGE["corpus-a"])
    assert by_name(result)["corpus-b"].coverage == pytest.approx(COVERAGE["corpus-b"])
    assert listing(ran.out) == before
    # ... and the real run afterwards still sees the change
    assert outcome(ran.run())["corpus-a"] == ("rebuilt", "input changed (niqe)")


def test_a_dry_run_reports_a_policy_failure_without_writing(scaffold: Scaffold) -> None:
    def strict(data: dict[str, Any]) -> None:
        data["jobs"][0]["sidecars"][0]["min_coverage"] = 1.0

    scaffold.edit_manifest(strict)

    result = scaffold.run(dry_run=True)

    assert not result.ok
    a, b = result.jobs
    assert (a.status, a.reason) == ("failed", "no output")
    assert a.error is not None
    assert "niqe: coverage 0.9167 (11/12) is below the minimum 1" in a.error
    assert a.coverage == pytest.approx(COVERAGE["corpus-a"])
    assert (b.status, b.reason) == ("planned", "no output")
    assert not scaffold.out.exists()


# --- selecting jobs, workers ---------------------------------------------------------------------


def test_only_runs_the_named_jobs(scaffold: Scaffold) -> None:
    result = scaffold.run(only=["corpus-a"])

    assert outcome(result) == {"corpus-a": ("built", "new")}
    assert scaffold.output("corpus-a").is_file()
    assert not scaffold.output("corpus-b").exists()
    assert not provenance_path(scaffold.output("corpus-b")).exists()


def test_an_unknown_only_name_is_a_usage_error_listing_the_jobs(scaffold: Scaffold) -> None:
    with pytest.raises(UsageError) as caught:
        scaffold.run(only=["corpus-a", "corpus-c"])

    message = caught.value.message
    assert "only= 'corpus-c': no job in" in message
    assert str(scaffold.manifest) in message
    assert "(jobs: corpus-a, corpus-b)" in message
    assert listing(scaffold.out) == {}


def test_fewer_than_one_worker_is_a_usage_error(scaffold: Scaffold) -> None:
    with pytest.raises(UsageError, match=r"--jobs 0: give at least 1"):
        scaffold.run(jobs=0)


def test_one_and_two_workers_give_identical_outputs(tmp_path: Path, scaffold: Scaffold) -> None:
    results = {}
    for workers in (1, 2):
        out = tmp_path / f"out-{workers}"
        results[workers] = run_batch(scaffold.manifest, out_dir=out, jobs=workers)
    assert outcome(results[1]) == outcome(results[2]) == dict.fromkeys(JOBS, ("built", "new"))
    for job in JOBS:
        one = (tmp_path / "out-1" / OUTPUTS[job]).read_bytes()
        two = (tmp_path / "out-2" / OUTPUTS[job]).read_bytes()
        assert one == two
        assert by_name(results[1])[job].rows == by_name(results[2])[job].rows


# --- failing jobs --------------------------------------------------------------------------------


def _require_full_niqe_coverage(data: dict[str, Any]) -> None:
    data["jobs"][0]["sidecars"][0]["min_coverage"] = 1.0


def test_a_failed_job_does_not_stop_the_others_under_keep_going(scaffold: Scaffold) -> None:
    scaffold.edit_manifest(_require_full_niqe_coverage)

    result = scaffold.run(jobs=1, keep_going=True)

    assert not result.ok
    assert outcome(result) == {
        "corpus-a": ("failed", "no output"),
        "corpus-b": ("built", "new"),
    }
    failed = by_name(result)["corpus-a"]
    assert failed.error is not None
    assert "join policy failed" in failed.error
    assert "niqe: coverage 0.9167 (11/12) is below the minimum 1" in failed.error
    assert failed.coverage == pytest.approx(COVERAGE["corpus-a"])
    assert failed.rows is None
    assert not scaffold.output("corpus-a").exists()
    assert not provenance_path(scaffold.output("corpus-a")).exists()
    assert temporaries(scaffold.out) == []
    summary = json.loads((scaffold.out / "runs" / f"{result.run_id}.json").read_text("utf-8"))
    assert summary["ok"] is False
    assert summary["jobs"][0]["error"] == failed.error

    # once the policy is relaxed, exactly the failed job runs
    def relaxed(data: dict[str, Any]) -> None:
        data["jobs"][0]["sidecars"][0]["min_coverage"] = 0.9

    scaffold.edit_manifest(relaxed)
    assert outcome(scaffold.run()) == {
        "corpus-a": ("built", "new"),
        "corpus-b": ("up-to-date", "unchanged"),
    }


def test_fail_fast_skips_the_jobs_not_yet_started(scaffold: Scaffold) -> None:
    scaffold.edit_manifest(_require_full_niqe_coverage)

    result = scaffold.run(jobs=1, keep_going=False)

    assert not result.ok
    assert outcome(result) == {
        "corpus-a": ("failed", "no output"),
        "corpus-b": ("skipped", "--fail-fast: corpus-a failed"),
    }
    skipped = by_name(result)["corpus-b"]
    assert skipped.error is None
    assert skipped.rows is None
    assert not scaffold.output("corpus-b").exists()


# --- the provenance record ----------------------------------------------------------------------


def test_the_provenance_record_says_what_produced_the_output(ran: Scaffold) -> None:
    job = "corpus-a"
    output = ran.output(job)
    text = provenance_path(output).read_text(encoding="utf-8")
    record = json.loads(text)
    summary = json.loads(next((ran.out / "runs").iterdir()).read_text(encoding="utf-8"))

    assert record["schema"] == "second-opinion.provenance/1"
    assert set(record) == {
        "schema",
        "tool",
        "environment",
        "run",
        "job",
        "spec_sha256",
        "fingerprint",
        "inputs",
        "output",
        "coverage",
        "warnings",
    }
    tool = record["tool"]
    assert tool["name"] == "second-opinion"
    assert tool["version"] == second_opinion.__version__
    assert tool["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", tool["git_commit"])
    assert record["environment"] == {
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "executable": record["environment"]["executable"],
    }
    assert Path(record["environment"]["executable"]).name.startswith("python")

    run = record["run"]
    assert run["run_id"] == summary["run_id"]
    assert ISO_UTC.match(run["started"])
    assert ISO_UTC.match(run["finished"])
    assert summary["started"] <= run["started"] <= run["finished"] <= summary["finished"]
    started = datetime.fromisoformat(run["started"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(run["finished"].replace("Z", "+00:00"))
    assert 0 < run["seconds"] < 60
    assert run["seconds"] == pytest.approx((finished - started).total_seconds(), abs=0.05)

    spec = record["job"]["spec"]
    assert record["job"]["name"] == job
    assert record["job"]["output"] == str(output)
    assert spec["features"] == str(ran.folder / "features_corpus_a.jsonl")
    assert spec["key"] == ["clip_id"]
    (niqe,) = spec["sidecars"]
    assert niqe["scorer"] == "niqe"
    assert niqe["path"] == str(ran.folder / "scores_a_niqe.jsonl")
    assert niqe["normalize_keys"] == ["basename", "stem", "lower"]
    assert niqe["min_coverage"] == 0.9
    assert niqe["on_duplicate"] == "error"  # from the manifest's defaults
    assert "description" not in niqe
    assert record["spec_sha256"] == spec_digest(spec)

    features, sidecar = record["inputs"]
    for item, role, name in (
        (features, "features", "features_corpus_a.jsonl"),
        (sidecar, "sidecar", "scores_a_niqe.jsonl"),
    ):
        path = ran.folder / name
        assert item["role"] == role
        assert item["path"] == str(path)
        assert item["size"] == path.stat().st_size
        assert item["sha256"] == sha256(path)
        assert item["rows"] == 12
    assert "scorer" not in features
    assert sidecar["scorer"] == "niqe"

    out = record["output"]
    assert out["path"] == str(output)
    assert out["size"] == output.stat().st_size
    assert out["sha256"] == sha256(output)
    assert out["rows"] == 12 == len(read_rows(output))
    assert out["columns"] == list(read_rows(output)[0])
    assert out["columns"][-3:] == [
        "so_niqe_niqe",
        "so_niqe_niqe_zscore",
        "so_niqe_niqe_delta_vmaf_adm2",
    ]

    (coverage,) = record["coverage"]
    assert coverage["scorer"] == "niqe"
    assert (coverage["matched"], coverage["base_rows"], coverage["missing"]) == (11, 12, 1)
    assert coverage["coverage"] == pytest.approx(11 / 12)
    assert coverage["unmatched_base"] == [
        {"key": ["a007"], "closest": ["/videos/corpus_a/A008.mp4"]}
    ]
    assert (coverage["diagnosis"], coverage["per_frame"]) == ([], None)
    warning = (  # nothing would match more
        "niqe: 11 of 12 base keys matched (91.67 %); no key normalisation or other key column "
        "would match more"
    )
    assert record["warnings"] == [warning]

    expected_fp = fingerprint(spec_digest(spec), [features["sha256"], sidecar["sha256"]], ".jsonl")
    assert record["fingerprint"] == expected_fp
    assert re.fullmatch(r"[0-9a-f]{64}", record["fingerprint"])


def test_the_record_of_a_per_frame_job_counts_frames_and_clips(ran: Scaffold) -> None:
    record = ran.record("corpus-b")
    features, dover = record["inputs"]
    assert (features["role"], features["rows"]) == ("features", 10)
    assert (dover["role"], dover["scorer"]) == ("sidecar", "dover")
    assert dover["rows"] == 38  # frame rows, not clips
    assert record["coverage"][0]["per_frame"] == {"column": "frame"}
    assert record["output"]["columns"][-1] == "so_dover_n_frames"
    assert record["fingerprint"] == fingerprint(
        record["spec_sha256"], [features["sha256"], dover["sha256"]], ".csv"
    )
    for job in JOBS:  # keys sorted at every level, two-space indent, a final newline
        text = provenance_path(ran.output(job)).read_text(encoding="utf-8")
        data = json.loads(text, object_pairs_hook=assert_sorted_keys)
        assert text == json.dumps(data, sort_keys=True, indent=2) + "\n"


# --- the lock -------------------------------------------------------------------------------------


def test_a_second_batch_on_the_same_folder_is_refused_naming_the_first(scaffold: Scaffold) -> None:
    scaffold.out.mkdir()
    with (
        output_lock(scaffold.out, "20260101T000000Z-abcdef", "2026-01-01T00:00:00.000000Z"),
        pytest.raises(BusyError) as caught,
    ):
        scaffold.run()
    message = caught.value.message
    assert message.startswith(f"{scaffold.out}: another second-opinion batch is writing here")
    assert "run 20260101T000000Z-abcdef" in message
    assert f"pid {os.getpid()} on {socket.gethostname()}" in message
    assert "since 2026-01-01T00:00:00.000000Z" in message
    assert "--lock-timeout" in message
    assert caught.value.exit_code == 2
    assert not scaffold.output("corpus-a").exists()
    assert not (scaffold.out / "runs").exists()


def _hold_lock(folder: Path, seconds: float, held: threading.Event) -> None:
    with output_lock(folder, "20260101T000000Z-holder", "2026-01-01T00:00:00.000000Z"):
        held.set()
        time.sleep(seconds)


def test_lock_timeout_waits_for_the_other_batch_to_finish(scaffold: Scaffold) -> None:
    scaffold.out.mkdir()
    held = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(scaffold.out, 0.6, held))
    holder.start()
    try:
        assert held.wait(10)
        clock = time.monotonic()
        with pytest.raises(BusyError) as caught:
            scaffold.run(lock_timeout=0.2)
        assert time.monotonic() - clock >= 0.2
        assert "after waiting 0.2 s: run 20260101T000000Z-holder" in caught.value.message
        result = scaffold.run(lock_timeout=30)
        waited = time.monotonic() - clock
    finally:
        holder.join()
    assert waited >= 0.5
    assert outcome(result) == dict.fromkeys(JOBS, ("built", "new"))
    holder_now = json.loads((scaffold.out / ".second-opinion" / "lock").read_text("utf-8"))
    assert holder_now["run_id"] == result.run_id
    assert holder_now["pid"] == os.getpid()


# --- interruption: signals and killed workers (subprocesses) -------------------------------------

FRAMES_PER_CLIP = 3000
CLIPS = 2000


@dataclass(frozen=True)
class BigInputs:
    """A corpus of 2000 clips and per-frame sidecars: a slow one (6 M rows) and a small one."""

    features: Path
    frames: Path
    small_frames: Path


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> BigInputs:
    folder = tmp_path_factory.mktemp("big")
    inputs = BigInputs(folder / "features.csv", folder / "frames.parquet", folder / "small.parquet")
    clip = "'c' || lpad(({i})::VARCHAR, 5, '0')"
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT {clip.format(i='i')} AS clip_id, i % 5 + 1.0 AS mos "
            f"FROM range({CLIPS}) t(i)) TO '{inputs.features}'"
        )
        for path, frames in ((inputs.frames, FRAMES_PER_CLIP), (inputs.small_frames, 1)):
            con.execute(
                f"COPY (SELECT {clip.format(i=f'i // {frames}')} AS clip_id, "
                f"i % {frames} AS frame, hash(i) % 1000 / 1000.0 AS technical, "
                f"hash(i + 7) % 997 / 997.0 AS aesthetic "
                f"FROM range({CLIPS * frames}) t(i)) TO '{path}'"
            )
    finally:
        con.close()
    return inputs


def slow_manifest(folder: Path, big: BigInputs, sidecars: dict[str, Path]) -> Path:
    """A manifest with one job per entry of ``sidecars`` (job name -> per-frame sidecar)."""
    jobs = [
        {
            "name": name,
            "features": str(big.features),
            "sidecars": [
                {
                    "scorer": "dover",
                    "path": str(path),
                    "frame_column": "frame",
                    "normalize_keys": ["strip", "lower"],
                    "pool": ["mean", "median", "p5", "p95", "std", "min", "max"],
                }
            ],
            "output": f"{name}.csv",
        }
        for name, path in sidecars.items()
    ]
    manifest = folder / "slow.json"
    data = {"version": 1, "output_dir": "out", "defaults": {"key": ["clip_id"]}, "jobs": jobs}
    manifest.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return manifest


class BatchProcess:
    """``python -m second_opinion batch`` in a subprocess, its stdout and stderr in files."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.stdout_path = folder / "batch.stdout"
        self.stderr_path = folder / "batch.stderr"
        # A child inherits an ignored SIGINT (pytest started in the background, under nohup, by
        # some CI runners), and Python then never raises KeyboardInterrupt: un-ignore it here.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        with (
            self.stdout_path.open("wb") as out,
            self.stderr_path.open("wb") as err,
            contextlib.ExitStack() as restore,
        ):
            restore.callback(signal.signal, signal.SIGINT, previous)
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "second_opinion", "batch", *args],
                stdout=out,
                stderr=err,
                cwd=folder,
                env=ENV,
            )
        self.spawned: list[psutil.Process] = []

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def wait_for(self, *needles: str, timeout: float = 60) -> None:
        """Wait until every needle is on stderr; fail if the batch ends or time runs out first."""
        deadline = time.monotonic() + timeout
        while not all(n in self.stderr for n in needles):
            assert self.proc.poll() is None, f"the batch ended early:\n{self.stderr}"
            assert time.monotonic() < deadline, f"no {needles} on stderr:\n{self.stderr}"
            time.sleep(0.02)

    def workers(self) -> list[psutil.Process]:
        """The worker processes: descendants not started by the batch process itself.

        (The batch's own children are the forkserver and the resource tracker; workers are
        forked by the forkserver.)
        """
        descendants = psutil.Process(self.proc.pid).children(recursive=True)
        self.spawned = descendants
        return [
            p
            for p in descendants
            if p.ppid() != self.proc.pid and p.status() != psutil.STATUS_ZOMBIE
        ]

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def __enter__(self) -> BatchProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:  # a failed test: do not leave our processes behind
            self.proc.kill()
            self.proc.wait()
        for process in self.spawned:
            if process.is_running():
                process.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_batch_and_leaves_no_partial_output(
    tmp_path: Path, big: BigInputs, signum: int
) -> None:
    old_frames = tmp_path / "old_frames.parquet"
    shutil.copyfile(big.small_frames, old_frames)
    manifest = slow_manifest(tmp_path, big, {"fresh": big.frames, "old": old_frames})
    out = tmp_path / "out"
    assert outcome(run_batch(manifest, only=["old"])) == {"old": ("built", "new")}
    kept = {p: p.read_bytes() for p in (out / "old.csv", provenance_path(out / "old.csv"))}
    shutil.copyfile(big.frames, old_frames)  # now "old" must run again, on a big input

    with BatchProcess(tmp_path, str(manifest), "--jobs", "2") as batch:
        batch.wait_for("fresh: phase (joining)", "old: phase (joining)")
        workers = batch.workers()
        assert len(workers) == 2
        time.sleep(0.2)
        batch.proc.send_signal(signum)
        code = batch.wait(timeout=60)

    assert code == 130, batch.stderr
    assert "error: interrupted: stopped the running jobs; no partial output was left" in (
        batch.stderr
    )
    assert "Traceback" not in batch.stderr
    assert "finished (built)" not in batch.stderr
    assert not (out / "fresh.csv").exists()
    assert not provenance_path(out / "fresh.csv").exists()
    assert {p: p.read_bytes() for p in kept} == kept  # the previous output and its record
    assert temporaries(out) == []
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], f"workers still running after the batch ended: {alive}"


def test_a_killed_worker_fails_its_job_and_the_next_run_redoes_exactly_it(
    tmp_path: Path, big: BigInputs
) -> None:
    manifest = slow_manifest(tmp_path, big, {"quick": big.small_frames, "slow": big.frames})
    out = tmp_path / "out"

    with BatchProcess(tmp_path, str(manifest), "--jobs", "2", "--json") as batch:
        batch.wait_for("slow: phase (joining)", "quick: finished (built)")
        (worker,) = batch.workers()
        worker.kill()
        code = batch.wait(timeout=60)

    assert code == 1, batch.stderr
    document = json.loads(batch.stdout)
    jobs = {j["name"]: j for j in document["jobs"]}
    assert jobs["quick"]["status"] == "built"
    assert jobs["slow"]["status"] == "failed"
    assert jobs["slow"]["reason"] == "no output"
    assert "the worker process died (exit code -9)" in jobs["slow"]["error"]
    assert "error: 1 of 2 jobs did not finish: slow" in batch.stderr
    assert "Traceback" not in batch.stderr
    assert not (out / "slow.csv").exists()
    assert not provenance_path(out / "slow.csv").exists()
    assert temporaries(out) == []

    result = run_batch(manifest)

    assert outcome(result) == {
        "quick": ("up-to-date", "unchanged"),
        "slow": ("built", "new"),
    }
    assert by_name(result)["slow"].rows == CLIPS


# A batch driver whose workers stop right after the output was renamed into place, before its
# provenance is written: the top-level code below also runs in each worker, because the
# forkserver start method re-imports the parent's main script there.
WINDOW_DRIVER = """
import os
import sys
import time
from pathlib import Path

from second_opinion.batch import worker

_real_sha256_file = worker.sha256_file


def _stop_after_the_rename(path):
    Path(os.environ["SO_TEST_MARKER"]).write_text(str(os.getpid()))
    time.sleep(60)
    return _real_sha256_file(path)


worker.sha256_file = _stop_after_the_rename

if __name__ == "__main__":
    from second_opinion.cli.main import main

    main(sys.argv[1:])
"""


def test_sigterm_between_writing_an_output_and_its_provenance_leaves_them_consistent(
    scaffold: Scaffold,
) -> None:
    assert outcome(scaffold.run(only=["corpus-b"])) == {"corpus-b": ("built", "new")}
    output = scaffold.output("corpus-b")
    before = {p: p.read_bytes() for p in (output, provenance_path(output))}
    bump_a_digit(scaffold.folder / "scores_b_dover_frames.csv")
    driver = scaffold.folder.parent / "driver.py"
    driver.write_text(WINDOW_DRIVER, encoding="utf-8")
    marker = scaffold.folder.parent / "renamed"
    command = [
        sys.executable,
        str(driver),
        "batch",
        str(scaffold.manifest),
        "--only",
        "corpus-b",
        "--out-dir",
        str(scaffold.out),
    ]

    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**ENV, "SO_TEST_MARKER": str(marker)},
    ) as proc:
        try:
            deadline = time.monotonic() + 30
            while not marker.exists():
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the worker never reached the window"
                time.sleep(0.02)
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()

    assert proc.returncode == 130, stderr
    assert "no partial output was left" in stderr
    assert temporaries(scaffold.out) == []
    found = provenance.inspect_output(output)
    state = {p.name: "unchanged" if p.read_bytes() == b else "replaced" for p, b in before.items()}
    assert found.matches, f"after SIGTERM the output and its record disagree: {state}"
