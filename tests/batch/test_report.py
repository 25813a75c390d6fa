"""The batch report's data: ``build_batch_report`` reads an output_dir alone (run summaries,
provenance records, the hash cache) into jobs with their status, graph, coverage and provenance;
``write_batch_report`` writes the page where it is asked, confined to output_dir."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from second_opinion import BatchReport, build_batch_report, run_batch, write_batch_report
from second_opinion.batch.report.coverage import file_check, file_state
from second_opinion.batch.report.model import Diagnosis, KeySample
from second_opinion.batch.report.render import report_html
from second_opinion.errors import InputError
from second_opinion.provenance import provenance_path
from tests._report_batch import SECOND_RUN, run_twice


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output_dir after the two runs of tests/_report_batch.py (not to be changed)."""
    return run_twice(tmp_path_factory.mktemp("report"), run_batch)


@pytest.fixture(scope="module")
def report(out: Path) -> BatchReport:
    return build_batch_report(out)


@pytest.fixture
def copy(out: Path, tmp_path: Path) -> Path:
    """A copy of the batch's folder (manifest, inputs, output_dir) a test may change: the paths
    in its summaries, records and hash cache moved to the copy, modification times kept."""
    folder = tmp_path / "batch"
    shutil.copytree(out.parent, folder, symlinks=True)
    for path in folder.rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(str(out.parent), str(folder)), encoding="utf-8")
    return folder / "out"


def _edit_json(path: Path, edit: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


# --- status, graph, runs -------------------------------------------------------------------------


def test_each_job_has_the_status_of_the_newest_run_that_names_it(report: BatchReport) -> None:
    assert [(job.name, job.status) for job in report.jobs] == list(SECOND_RUN.items())
    assert report.job("corpus-b").reason == "input changed (features)"
    assert report.job("corpus-c").reason == "new"
    assert report.job("after-broken").reason == "input from job 'broken' is not ready (failed)"
    broken = report.job("broken")
    assert broken.error is not None
    # Nothing matches: the join fails (issue 16 §1) before the minimum coverage is looked at.
    assert "niqe: no base key has a sidecar row (0 of 11 matched)" in broken.error
    assert "set jobs[3].sidecars[0].allow_no_match: true" in broken.error
    assert {job.run_id for job in report.jobs} == {report.runs[0].run_id}


def test_the_graph_comes_from_the_run_summary(report: BatchReport) -> None:
    graph = {job.name: (job.needs, job.feeds) for job in report.jobs}
    assert graph == {
        "corpus-a": ((), ("corpus-a-plus",)),
        "corpus-b": ((), ()),
        "corpus-a-plus": (("corpus-a",), ()),
        "broken": ((), ("after-broken",)),
        "after-broken": (("broken",), ()),
        "corpus-c": ((), ()),
    }


def test_without_the_graph_in_summaries_it_comes_from_the_records(copy: Path) -> None:
    # Summaries written before they carried the graph: a job's inputs that are another job's
    # output, as its record names them; a job without a record (skipped) reads from nothing known.
    for summary in (copy / "runs").iterdir():
        _edit_json(summary, lambda data: data.pop("dependencies"))
    report = build_batch_report(copy)
    assert report.job("corpus-a-plus").needs == ("corpus-a",)
    assert report.job("corpus-a").feeds == ("corpus-a-plus",)
    assert report.job("after-broken").needs == ()


def test_runs_are_listed_newest_first_with_their_statuses(report: BatchReport, out: Path) -> None:
    second, first = report.runs
    assert second.started > first.started
    assert report.manifest == str(out.parent / "batch.json")
    assert dict(first.statuses) == {"built": 3, "failed": 1, "skipped": 1}
    assert dict(second.statuses) == {"up-to-date": 2, "rebuilt": 1, "failed": 1, "skipped": 1,
                                     "built": 1}  # fmt: skip
    assert (first.ok, second.ok) == (False, False)
    assert second.summary == str(out / "runs" / f"{second.run_id}.json")


# --- coverage and provenance ---------------------------------------------------------------------


def test_coverage_and_unmatched_keys_come_from_the_current_record(report: BatchReport) -> None:
    (niqe,) = report.job("corpus-a").coverage
    assert (niqe.scorer, niqe.matched, niqe.base_rows, niqe.missing, niqe.extra) == (
        "niqe", 11, 12, 1, 1,
    )  # fmt: skip
    assert niqe.coverage == pytest.approx(11 / 12)
    assert niqe.unmatched_base == (KeySample(("a007",), ("/videos/corpus_a/A008.mp4",)),)
    assert niqe.unmatched_sidecar == (KeySample(("/videos/corpus_a/A099.mp4",), ("a004",)),)
    # 11 of 12 and nothing would match more: no fix named; per_frame names the frame column
    assert (niqe.diagnosis, niqe.per_frame, niqe.frame_column) == ((), False, None)
    (dover,) = report.job("corpus-b").coverage
    assert (dover.per_frame, dover.frame_column) == (True, "frame")
    assert report.scorers == ("dover", "niqe", "niqe2")


def test_a_failed_job_shows_the_coverage_its_run_measured(report: BatchReport) -> None:
    broken = report.job("broken")
    (niqe,) = broken.coverage
    assert (niqe.scorer, niqe.coverage, niqe.matched) == ("niqe", 0.0, None)
    assert broken.provenance is None  # a failed job writes no record
    assert not broken.output_exists
    assert report.job("after-broken").coverage == ()


def test_provenance_names_versions_timings_hashes_and_that_nothing_changed(
    report: BatchReport, out: Path
) -> None:
    corpus_b = report.job("corpus-b")
    provenance = corpus_b.provenance
    assert provenance is not None
    assert provenance.current
    assert provenance.run_id == report.runs[0].run_id  # rebuilt in the second run
    assert provenance.record == str(provenance_path(out / "corpus-b.csv"))
    assert provenance.tool.startswith("second-opinion ")
    assert {"python", "duckdb", "platform", "host"} <= dict(provenance.environment).keys()
    assert provenance.seconds is not None
    assert provenance.seconds > 0
    assert [(f.role, f.scorer, f.state) for f in provenance.inputs] == [
        ("features", None, "unchanged"),
        ("sidecar", "dover", "unchanged"),
    ]
    assert provenance.output.state == "unchanged"
    assert provenance.output.rows == corpus_b.rows == 11
    assert len(provenance.inputs[0].sha256) == 64


def test_a_job_whose_last_run_failed_shows_its_earlier_record_as_earlier(copy: Path) -> None:
    # corpus-a failed in a later run (here: its summary entry says so): its output and record
    # are from before, so they are not its coverage now.
    def fail(data: dict[str, Any]) -> None:
        for job in data["jobs"]:
            if job["name"] == "corpus-a":
                job.update(status="failed", error="boom", coverage={})

    newest = build_batch_report(copy).runs[0].summary  # two runs may share their second
    _edit_json(Path(newest), fail)
    report = build_batch_report(copy)
    job = report.job("corpus-a")
    assert (job.status, job.error, job.coverage) == ("failed", "boom", ())
    assert job.provenance is not None
    assert not job.provenance.current
    assert "before this job's last run (failed)" in report_html(report, copy / "r.html")


@pytest.mark.parametrize(
    ("change", "state"),
    [
        (None, "unchanged"),
        ("touch", "modified"),
        ("bytes", "changed"),
        ("same size", "changed"),
        ("delete", "missing"),
    ],
)
def test_a_file_state_comes_from_stat_and_the_hash_cache(
    tmp_path: Path, change: str | None, state: str
) -> None:
    path = tmp_path / "input.csv"
    path.write_text("a,b\n1,2\n")
    now = path.stat()
    cache = {str(path): {"size": now.st_size, "mtime_ns": now.st_mtime_ns, "sha256": "x" * 64}}
    if change == "touch":
        os.utime(path, ns=(now.st_atime_ns, now.st_mtime_ns + 1_000_000_000))
    elif change == "bytes":
        path.write_text("a,b\n1,2\n3,4\n")
    elif change == "same size":  # the cache has another hash at this size and mtime
        cache[str(path)]["sha256"] = "y" * 64
    elif change == "delete":
        path.unlink()
    assert file_state(str(path), "x" * 64, now.st_size, cache) == state
    assert file_state(str(path), "x" * 64, now.st_size, {}) in (state, "unknown")


def test_an_input_from_memory_is_shown_unchecked() -> None:
    item = {"role": "sidecar", "scorer": "niqe", "source": "memory", "kind": "pyarrow.Table"}
    found = file_check({**item, "rows": 4, "sha256": "a" * 64}, "sidecar", {})
    assert (found.path, found.state, found.rows, found.scorer) == (
        "<in-memory pyarrow.Table>",
        "unknown",
        4,
        "niqe",
    )


# --- the key diagnosis, as the join will record it -----------------------------------------------

HOSTILE = "<script>alert(\"x\")</script> & 'e\u0301'"


def _with_diagnosis(data: dict[str, Any]) -> None:
    entry = data["coverage"][0]
    entry["diagnosis"] = [
        {"text": "--normalize-keys niqe:basename,stem would match", "matched": 11, "rows": 12},
        {"text": f"key_map to {HOSTILE}", "matched": 3, "rows": 12},
    ]
    entry["per_frame"] = {"column": "frame<idx>"}
    entry["unmatched_base"] = [{"key": [HOSTILE], "closest": None}]


def test_a_record_with_the_key_diagnosis_shows_it(copy: Path) -> None:
    _edit_json(provenance_path(copy / "corpus-a.jsonl"), _with_diagnosis)
    report = build_batch_report(copy)
    (niqe,) = report.job("corpus-a").coverage
    assert niqe.diagnosis == (
        Diagnosis("--normalize-keys niqe:basename,stem would match", 11, 12),
        Diagnosis(f"key_map to {HOSTILE}", 3, 12),
    )
    assert (niqe.per_frame, niqe.frame_column) == (True, "frame<idx>")
    assert niqe.unmatched_base == (KeySample((HOSTILE,), None),)

    page = report_html(report, copy / "report.html")
    assert (
        "<li>--normalize-keys niqe:basename,stem would match (would match 11 of 12, 91.7 %)" in page
    )
    assert "key_map to &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; " in page
    assert "yes (column frame&lt;idx&gt;)" in page
    # the key as key_repr shows it: quoted, the combining accent escaped, then HTML-escaped
    shown = "&#x27;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
    assert shown + "\\&#x27;e\\u0301\\&#x27;&#x27;" in page
    assert "<script>alert" not in page
    assert page.count("<script>") == 1  # the page's own sorting script


def test_a_lone_surrogate_in_a_record_is_shown_escaped_and_the_page_is_utf8(copy: Path) -> None:
    record = provenance_path(copy / "corpus-a.jsonl")
    text = record.read_text(encoding="utf-8").replace('"a007"', '"a\\ud800"')
    record.write_text(text, encoding="utf-8")
    written = write_batch_report(build_batch_report(copy))
    page = written.read_bytes().decode("utf-8")  # strict: no surrogate was written
    assert "&#x27;a\\ud800&#x27;" in page


# --- what is passed over, and what is refused ----------------------------------------------------


def test_unreadable_summaries_and_records_are_passed_over_with_the_reason(copy: Path) -> None:
    (copy / "runs" / "garbage.json").write_text("{not json", encoding="utf-8")
    (copy / "runs" / "shape.json").write_text('{"run_id": 1}', encoding="utf-8")
    os.mkfifo(copy / "runs" / "fifo.json")
    provenance_path(copy / "corpus-b.csv").write_text("[]", encoding="utf-8")
    report = build_batch_report(copy)
    assert report.problems == (
        (
            f"{copy}/runs/fifo.json: is a FIFO (named pipe), not a regular file; give a "
            "regular file; passed over"
        ),
        f"{copy}/runs/garbage.json: not a run summary (JSONDecodeError); passed over",
        (
            f"{copy}/runs/shape.json: not a run summary (run_id: Input should be a valid "
            "string); passed over"
        ),
        f"{provenance_path(copy / 'corpus-b.csv')}: provenance unreadable (no schema); passed over",
    )
    assert report.job("corpus-b").provenance is None
    assert report.job("corpus-b").status == "rebuilt"
    assert "<li>" + f"{copy}/runs/garbage.json: not a run summary" in report_html(
        report, copy / "r.html"
    )


def test_a_folder_without_run_summaries_is_refused_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no run summary here \(runs/\*\.json\)") as caught:
        build_batch_report(tmp_path)
    assert caught.value.message == (
        f"{tmp_path}: no run summary here (runs/*.json): not the output_dir of a batch that ran; "
        "run second-opinion batch MANIFEST first, or give the folder it wrote to"
    )
    with pytest.raises(InputError, match="does not exist; give the output_dir of a batch"):
        build_batch_report(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder; give the output_dir"):
        build_batch_report(tmp_path / "file")


# --- writing -------------------------------------------------------------------------------------


def test_the_same_folder_gives_the_same_bytes(copy: Path, report: BatchReport) -> None:
    first = write_batch_report(build_batch_report(copy)).read_bytes()
    assert write_batch_report(build_batch_report(copy)).read_bytes() == first
    assert first.startswith(b"<!DOCTYPE html>")
    # the page itself is not read back: a second report does not list the first
    assert b"report.html" not in first


def test_the_report_goes_where_asked_and_never_over_a_job_output(copy: Path) -> None:
    report = build_batch_report(copy)
    assert write_batch_report(report) == copy / "report.html"
    assert write_batch_report(report, copy / "sub" / "r.html").is_file()
    assert write_batch_report(report, copy.parent / "elsewhere.html").is_file()
    with pytest.raises(InputError) as caught:
        write_batch_report(report, copy / "corpus-a.jsonl", spelling={"out": "--report-html"})
    assert caught.value.message == (
        f"{copy}/corpus-a.jsonl: is the output (or its record) of job 'corpus-a'; write the "
        "report elsewhere (--report-html PATH)"
    )
    with pytest.raises(InputError, match=r"is a folder; name the report's file \(out= PATH\)"):
        write_batch_report(report, copy / "runs")


def test_inside_output_dir_the_report_is_not_written_through_a_symlink(
    copy: Path, tmp_path: Path
) -> None:
    (tmp_path / "outside").mkdir()
    (copy / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(InputError, match=r"link: is a symlink \(to .*outside\) inside output_dir"):
        write_batch_report(build_batch_report(copy), copy / "link" / "r.html")
    assert list((tmp_path / "outside").iterdir()) == []
