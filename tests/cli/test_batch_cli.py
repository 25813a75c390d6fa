"""`second-opinion batch`, `inspect` and `smoke` through `python -m second_opinion`.

Every command runs in a subprocess with stdout and stderr as pipes (not a terminal), as in CI.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from second_opinion.batch.lock import output_lock
from second_opinion.batch.runner import run_batch
from second_opinion.join.session import JoinSession
from second_opinion.provenance import provenance_path, read_record
from tests.cli._run import run_cli

ROOT = Path(__file__).resolve().parents[2]
SCAFFOLD = ROOT / "testdata" / "smoke-second-opinion-batch"
JOBS = ("corpus-a", "corpus-b")
RUN_ID = r"\d{8}T\d{6}Z-[0-9a-f]{6}"
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (?P<job>[a-z0-9_.-]+): "
    r"(?P<kind>planned|started|phase|finished)(?: \((?P<detail>[^)]*)\))?(?:: (?P<error>.+))?$"
)
TOP_KEYS = [
    "run_id",
    "manifest",
    "output_dir",
    "started",
    "finished",
    "dry_run",
    "ok",
    "jobs",
    "audit",
    "dependencies",
]
JOB_KEYS = [
    "name",
    "status",
    "reason",
    "output",
    "rows",
    "coverage",
    "seconds",
    "error",
    "notes",
    "warnings",
]


so = run_cli


@pytest.fixture
def scaffold(tmp_path: Path) -> Path:
    folder = tmp_path / "scaffold"
    shutil.copytree(SCAFFOLD, folder)
    return folder


def jobs_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {j["name"]: j for j in document["jobs"]}


def log_events(stderr: str) -> list[tuple[str, str, str | None]]:
    """(job, kind, detail) of each stderr line; every line must be a timestamped log line."""
    events = []
    for line in stderr.splitlines():
        match = LOG_LINE.match(line)
        assert match, f"not a timestamped log line: {line!r}\n{stderr}"
        events.append((match["job"], match["kind"], match["detail"]))
    return events


# --- batch ------------------------------------------------------------------------------------


def test_batch_prints_a_table_and_logs_plain_lines_on_stderr(scaffold: Path) -> None:
    result = so("batch", "batch.json", "--out-dir", "out", cwd=scaffold)

    assert result.returncode == 0, result.stderr
    assert re.search(rf"^run {RUN_ID}$", result.stdout, re.MULTILINE), result.stdout
    header = next(line for line in result.stdout.splitlines() if "job" in line)
    for column in ("job", "status", "reason", "rows", "coverage", "seconds", "output"):
        assert column in header
    row_a = next(line for line in result.stdout.splitlines() if "corpus-a" in line)
    row_b = next(line for line in result.stdout.splitlines() if "corpus-b" in line)
    for row, rows, coverage, output in (
        (row_a, "12", "niqe 91.7 %", "corpus-a.jsonl"),
        (row_b, "10", "dover 80.0 %", "corpus-b.csv"),
    ):
        cells = [cell.strip() for cell in re.split(r"[│┃|]", row) if cell.strip()]
        assert cells[1:5] == ["built", "new", rows, coverage], row
        assert re.fullmatch(r"\d+\.\d\d", cells[5]), row
        assert cells[6] == str(scaffold / "out" / output)
    assert "\x1b[" not in result.stdout + result.stderr  # no colours or cursor moves in a pipe

    events = log_events(result.stderr)
    for job in JOBS:
        assert [(k, d) for j, k, d in events if j == job] == [
            ("planned", "no output"),
            ("started", "no output"),
            ("phase", "joining"),
            ("phase", "provenance"),
            ("finished", "built"),
        ]


def test_batch_json_documents_every_job_and_matches_the_run_summary(scaffold: Path) -> None:
    first = so("batch", "batch.json", "--out-dir", "out", "--json", cwd=scaffold)

    assert first.returncode == 0, first.stderr
    document = json.loads(first.stdout)
    assert list(document) == TOP_KEYS
    assert re.fullmatch(RUN_ID, document["run_id"])
    assert document["manifest"] == str(scaffold / "batch.json")
    assert document["output_dir"] == str(scaffold / "out")
    assert (document["dry_run"], document["ok"]) == (False, True)
    assert [j["name"] for j in document["jobs"]] == list(JOBS)
    for job in document["jobs"]:
        assert list(job) == JOB_KEYS
        assert (job["status"], job["reason"], job["error"]) == ("built", "new", None)
        assert job["seconds"] > 0
    jobs = jobs_of(document)
    assert jobs["corpus-a"]["rows"] == 12
    assert jobs["corpus-a"]["coverage"] == {"niqe": pytest.approx(11 / 12)}
    assert jobs["corpus-b"]["rows"] == 10
    assert jobs["corpus-b"]["coverage"] == {"dover": pytest.approx(0.8)}
    assert jobs["corpus-b"]["output"] == str(scaffold / "out" / "corpus-b.csv")
    summary = scaffold / "out" / "runs" / f"{document['run_id']}.json"
    assert json.loads(summary.read_text(encoding="utf-8")) == document
    log_events(first.stderr)  # --json keeps the log lines on stderr, and stdout pure JSON

    second = so("batch", "batch.json", "--out-dir", "out", "--json", cwd=scaffold)

    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    assert again["run_id"] != document["run_id"]
    for job in again["jobs"]:
        assert (job["status"], job["reason"]) == ("up-to-date", "unchanged")
        assert job["rows"] == jobs[job["name"]]["rows"]


def test_dry_run_json_plans_every_job_and_writes_nothing(scaffold: Path) -> None:
    before = sorted(p.name for p in scaffold.iterdir())

    result = so("batch", "batch.json", "--out-dir", "out", "--dry-run", "--json", cwd=scaffold)

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["dry_run"], document["ok"]) == (True, True)
    jobs = jobs_of(document)
    assert {n: (j["status"], j["reason"]) for n, j in jobs.items()} == dict.fromkeys(
        JOBS, ("planned", "no output")
    )
    assert jobs["corpus-a"]["coverage"] == {"niqe": pytest.approx(11 / 12)}
    assert jobs["corpus-b"]["coverage"] == {"dover": pytest.approx(0.8)}
    assert not (scaffold / "out").exists()
    assert sorted(p.name for p in scaffold.iterdir()) == before


# Runs `second-opinion` with DuckDB's progress-bar threshold at 0 ms instead of 2 s: what every
# join that takes longer than 2 s does, on data small enough for a test. The top-level code also
# runs in the workers (the forkserver re-imports the parent's main script there).
def test_the_joiner_turns_duckdbs_progress_bar_off() -> None:
    # DuckDB draws a progress bar on stdout for queries over 2 s, which would corrupt
    # `batch --json`; every connection the joiner opens must have it off. (Forcing the bar on
    # with progress_bar_time = 0 before that setting shows a bar for the SET itself, so the
    # setting is checked directly.)
    with JoinSession() as session:
        rows = session.con.execute("SELECT current_setting('enable_progress_bar')").fetchall()
    assert rows == [(False,)]


def _strict_manifest(folder: Path) -> None:
    manifest = folder / "batch.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["jobs"][0]["sidecars"][0]["min_coverage"] = 1.0
    manifest.write_text(json.dumps(data), encoding="utf-8")


def test_a_failed_job_exits_1_and_says_why(scaffold: Path) -> None:
    _strict_manifest(scaffold)

    result = so("batch", "batch.json", "--out-dir", "out", cwd=scaffold)

    assert result.returncode == 1, result.stderr
    row_a = next(line for line in result.stdout.splitlines() if "│ corpus-a" in line)
    row_b = next(line for line in result.stdout.splitlines() if "│ corpus-b" in line)
    assert re.search(r"│ failed\s+│ no output", row_a), row_a
    assert re.search(r"│ built\s+│ new", row_b), row_b
    assert "corpus-a: join policy failed:" in result.stdout
    assert "niqe: coverage 0.9167 (11/12) is below the minimum 1" in result.stdout
    assert result.stderr.splitlines()[-1] == "error: 1 of 2 jobs did not finish: corpus-a"
    events = log_events("\n".join(result.stderr.splitlines()[:-1]))
    assert ("corpus-a", "finished", "failed") in events
    assert "corpus-a: finished (failed): join policy failed:" in result.stderr
    assert not (scaffold / "out" / "corpus-a.jsonl").exists()
    assert (scaffold / "out" / "corpus-b.csv").is_file()


def test_an_invalid_manifest_exits_2_naming_each_problem_and_its_location(scaffold: Path) -> None:
    manifest = scaffold / "batch.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["jobs"][0]["sidecars"][0]["path"] = "missing.jsonl"
    data["jobs"][1]["sidecars"][0]["pools"] = ["mean"]
    manifest.write_text(json.dumps(data), encoding="utf-8")

    result = so("batch", "batch.json", "--out-dir", "out", cwd=scaffold)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {manifest}: invalid manifest (2 problems):"
    assert sorted(line.strip() for line in lines[1:]) == [
        f"jobs[0].sidecars[0].path: no such file: {scaffold / 'missing.jsonl'}",
        "jobs[1].sidecars[0].pools: unknown field; did you mean 'pool'?",
    ]
    assert not (scaffold / "out").exists()


def test_an_unknown_only_name_exits_2_listing_the_jobs(scaffold: Path) -> None:
    result = so("batch", "batch.json", "--out-dir", "out", "--only", "corpus-z", cwd=scaffold)

    assert result.returncode == 2
    assert "error: --only 'corpus-z': no job in" in result.stderr
    assert "(jobs: corpus-a, corpus-b)" in result.stderr


def test_a_memory_limit_duckdb_cannot_read_exits_2_before_any_job_starts(scaffold: Path) -> None:
    result = so(
        "batch", "batch.json", "--out-dir", "out", "--memory-limit", "foo", "--json", cwd=scaffold
    )

    assert result.returncode == 2, result.stderr
    assert re.fullmatch(
        r"error: --memory-limit 'foo': DuckDB cannot use it \(.+\); "
        r"give a size such as 4GB or 512MB\n",
        result.stderr,
    ), result.stderr
    assert result.stdout == ""
    assert not (scaffold / "out").exists()


def test_a_locked_output_folder_exits_2_naming_the_other_run(scaffold: Path) -> None:
    out = scaffold / "out"
    with output_lock(out, "20260101T000000Z-0a0b0c", "2026-01-01T00:00:00.000000Z"):
        result = so("batch", "batch.json", "--out-dir", "out", cwd=scaffold)

    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {out}: another second-opinion batch is writing here")
    assert "run 20260101T000000Z-0a0b0c" in result.stderr
    assert "--lock-timeout" in result.stderr
    assert not (out / "corpus-a.jsonl").exists()


# --- inspect ----------------------------------------------------------------------------------


def test_inspect_shows_the_record_and_exits_1_once_the_output_was_edited(scaffold: Path) -> None:
    batch = run_batch(scaffold / "batch.json", only=["corpus-a"], out_dir=scaffold / "out")
    output = Path(batch.jobs[0].output)
    record = read_record(output)

    shown = so("inspect", output, cwd=scaffold)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert f"output      {output}" in lines
    assert "rows        12 x 8 columns" in lines
    assert f"job         corpus-a (run {batch.run_id})" in lines
    assert f"ran         {record['run']['started']} -> {record['run']['finished']}" in lines
    assert any(line.startswith("tool        second-opinion 0.1") for line in lines)
    niqe = record["inputs"][1]
    assert f"input       sidecar niqe: {niqe['path']} ({niqe['sha256'][:12]})" in lines
    assert "niqe" in shown.stdout
    assert "11/12" in shown.stdout
    assert lines[-1] == "the output matches its provenance"
    assert shown.stderr == ""

    as_json = so("inspect", output, "--json", cwd=scaffold)

    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document == {
        "output": str(output),
        "matches": True,
        "problems": [],
        "changed_inputs": [],
        "unchecked_inputs": [],
        "provenance": record,
    }

    output.write_bytes(output.read_bytes().replace(b"a001", b"a999"))
    edited = so("inspect", output, cwd=scaffold)

    assert edited.returncode == 1
    assert edited.stdout.splitlines()[-1] == "the output does NOT match its provenance"
    assert edited.stderr.strip() == (
        f"error: {output}: the output no longer matches its provenance (its SHA-256 changed)"
    )


def test_inspect_without_a_record_exits_1(scaffold: Path) -> None:
    stray = scaffold / "features_corpus_b.csv"

    result = so("inspect", stray, "--json", cwd=scaffold)

    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "output": str(stray),
        "matches": False,
        "problems": ["no provenance"],
        "changed_inputs": [],
        "unchecked_inputs": [],
        "provenance": None,
    }
    assert result.stderr.strip() == f"error: {stray}: no provenance"
    assert not provenance_path(stray).exists()


@pytest.mark.parametrize(
    "record",
    [
        pytest.param({"schema": "second-opinion.provenance/1"}, id="only-a-schema"),
        pytest.param({"schema": "second-opinion.provenance/1", "output": None}, id="output-null"),
    ],
)
def test_inspect_of_a_malformed_record_exits_1_without_a_traceback(
    scaffold: Path, record: dict[str, Any]
) -> None:
    batch = run_batch(scaffold / "batch.json", only=["corpus-a"], out_dir=scaffold / "out")
    output = Path(batch.jobs[0].output)
    provenance_path(output).write_text(json.dumps(record), encoding="utf-8")

    result = so("inspect", output, cwd=scaffold)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {output}: ")


# --- smoke ------------------------------------------------------------------------------------


def test_smoke_passes(tmp_path: Path) -> None:
    result = so("smoke", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "smoke-second-opinion-batch: PASS" in lines
    assert lines[-1] == "smoke-saliency-batch: PASS"
    assert "saliency-model" in result.stdout
    assert "corpus-a" in result.stdout
    assert "corpus-b" in result.stdout
    assert list(tmp_path.iterdir()) == []
