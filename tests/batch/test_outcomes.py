"""How batch jobs end (second_opinion.batch.outcomes): the one constructor of a JobResult, the
typed JobOutcome a worker hands back across processes, and the hashes the scheduler records."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from second_opinion.batch.executors.scheduler import Scheduler
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.outcomes import BatchEvent, JobOutcome, JobResult, from_record
from second_opinion.batch.planning import Plan, plan_job
from second_opinion.batch.settings import BatchSettings
from second_opinion.batch.worker import run_job
from second_opinion.hashing import FileHash, HashCache, sha256_file
from tests._scaffold import Scaffold


@pytest.fixture
def scaffold(tmp_path: Path) -> Scaffold:
    return Scaffold.copy_into(tmp_path)


def first_plan(scaffold: Scaffold, cache: HashCache) -> Plan:
    manifest = load_manifest(scaffold.manifest, out_dir=scaffold.out)
    return plan_job(manifest.job("corpus-a"), cache)


class Recording(Scheduler):
    """A scheduler that starts nothing: the test hands it outcomes as a worker would."""

    def launch(self, plan: Plan) -> None:
        self.running[plan.job.name] = plan

    def wait(self, timeout: float) -> None:
        """Nothing runs, so nothing reports."""

    def stop_all(self) -> None:
        """Nothing runs, so nothing stops."""


def test_a_result_names_the_job_and_its_output_as_the_manifest_does(scaffold: Scaffold) -> None:
    plan = first_plan(scaffold, HashCache(None))
    coverage = {"niqe": 0.5}
    result = JobResult.for_job(
        plan.job, "failed", reason="no output", coverage=coverage, error="it broke", notes=("n",)
    )
    assert result.to_dict() == {
        "name": "corpus-a",
        "status": "failed",
        "reason": "no output",
        "output": str(scaffold.out / "corpus-a.jsonl"),
        "rows": None,
        "coverage": {"niqe": 0.5},
        "seconds": 0.0,
        "error": "it broke",
        "notes": ["n"],
        "warnings": [],
    }
    coverage["niqe"] = 1.0
    assert result.coverage == {"niqe": 0.5}  # a copy, not the caller's dict


def test_a_job_that_did_not_run_takes_its_rows_and_coverage_from_its_record(
    scaffold: Scaffold,
) -> None:
    scaffold.run()
    plan = first_plan(scaffold, HashCache(None))
    result = from_record(plan, "up-to-date")
    record = scaffold.record("corpus-a")
    assert (result.name, result.status, result.reason) == ("corpus-a", "up-to-date", "unchanged")
    assert result.rows == record["output"]["rows"]
    assert result.coverage == {c["scorer"]: c["coverage"] for c in record["coverage"]}


def test_an_outcome_crosses_process_boundaries_unchanged(tmp_path: Path) -> None:
    outcome = JobOutcome(
        status="done",
        seconds=1.5,
        rows=3,
        coverage={"niqe": 1.0},
        notes=("clip x skipped",),
        inputs=(FileHash(path=tmp_path / "in.csv", size=10, mtime_ns=7, sha256="ab"),),
        output=FileHash(path=tmp_path / "out.csv", size=20, mtime_ns=8, sha256="cd"),
    )
    assert pickle.loads(pickle.dumps(outcome)) == outcome  # noqa: S301 - our own bytes
    with pytest.raises(AttributeError, match="cannot assign"):
        outcome.status = "failed"  # type: ignore[misc]


def test_the_worker_reports_the_hashes_it_took(scaffold: Scaffold) -> None:
    plan = first_plan(scaffold, HashCache(None))
    scaffold.out.mkdir()
    outcome = run_job(plan, run_id="run", settings=BatchSettings(), phase=lambda phase: None)
    assert (outcome.status, outcome.error) == ("done", None)
    output = plan.job.output
    assert outcome.output == FileHash(
        path=output,
        size=output.stat().st_size,
        mtime_ns=output.stat().st_mtime_ns,
        sha256=sha256_file(output),
    )
    assert [(h.path, h.sha256) for h in outcome.inputs] == [
        (path, sha256_file(path)) for _, _, path in plan.job.inputs
    ]


def test_the_scheduler_records_an_outcomes_hashes_and_its_result(scaffold: Scaffold) -> None:
    cache = HashCache(None)
    plan = first_plan(scaffold, cache)
    events: list[BatchEvent] = []
    scheduler = Recording(
        [plan],
        run_id="run",
        workers=1,
        settings=BatchSettings(),
        on_event=events.append,
        cache=cache,
    )
    scheduler.launch(plan)
    source = scaffold.input("features_corpus_a.jsonl")
    outcome = JobOutcome(
        status="done",
        seconds=2.0,
        rows=4,
        coverage={"niqe": 0.75},
        notes=("a note",),
        inputs=(FileHash(path=source, size=1, mtime_ns=2, sha256="in-sha"),),
        output=FileHash(path=plan.job.output, size=3, mtime_ns=4, sha256="out-sha"),
    )

    scheduler.finished("corpus-a", outcome)

    assert cache.changed
    assert cache.entries[str(source.absolute())] == {"size": 1, "mtime_ns": 2, "sha256": "in-sha"}
    assert cache.entries[str(plan.job.output.absolute())] == {
        "size": 3,
        "mtime_ns": 4,
        "sha256": "out-sha",
    }
    result = scheduler.results["corpus-a"]
    assert result == JobResult.for_job(
        plan.job,
        "built",
        reason="new",
        rows=4,
        coverage={"niqe": 0.75},
        seconds=2.0,
        notes=("a note",),
    )
    assert [(e.kind, e.job, e.detail) for e in events] == [("finished", "corpus-a", "built")]


def test_a_failed_outcome_records_no_hash(scaffold: Scaffold) -> None:
    cache = HashCache(None)
    plan = first_plan(scaffold, cache)
    scheduler = Recording(
        [plan],
        run_id="run",
        workers=1,
        settings=BatchSettings(),
        on_event=lambda event: None,
        cache=cache,
    )
    scheduler.launch(plan)
    scheduler.finished("corpus-a", JobOutcome(status="failed", seconds=0.5, error="it broke"))
    assert not cache.changed
    assert scheduler.results["corpus-a"].error == "it broke"
    assert scheduler.failed_first == "corpus-a"


def test_a_recorded_hash_is_used_while_size_and_mtime_hold(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("clip_id\na\n", encoding="utf-8")
    stat = path.stat()
    cache = HashCache(tmp_path / "hashes.json")
    cache.record(path, size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256="recorded")
    assert cache.sha256(path) == "recorded"
    cache.save()
    assert HashCache(tmp_path / "hashes.json").sha256(path) == "recorded"
    path.write_text("clip_id\nbb\n", encoding="utf-8")  # another size: hashed again
    assert cache.sha256(path) == sha256_file(path)
