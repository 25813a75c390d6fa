"""``batch --report-html [PATH]`` and ``report OUTPUT_DIR`` through ``python -m second_opinion``:
the page goes where asked, the report built from the folder alone is the batch's, byte for byte,
and each misuse is refused naming the flag as typed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from second_opinion.cli.options import with_omitted_values
from tests._report_batch import SECOND_RUN, add_corpus_c, write_manifest
from tests._scaffold import SCAFFOLD
from tests.cli._run import run_cli

LINE = "batch report: {path} (6 jobs: 2 up-to-date, 1 rebuilt, 1 failed, 1 skipped, 1 built)"


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """The batch of tests/_report_batch.py after its first run (through the CLI)."""
    path = write_manifest(tmp_path / "batch")
    first = run_cli("batch", path)
    assert first.returncode == 1, first.stderr  # a job fails on purpose
    add_corpus_c(path)
    return path


def test_batch_report_html_alone_writes_output_dir_report_html(manifest: Path) -> None:
    out = manifest.parent / "out"
    done = run_cli("batch", manifest, "--report-html")
    assert done.returncode == 1  # the failed job still fails the batch, after the report
    assert LINE.format(path=out / "report.html") in done.stdout.splitlines()
    assert "error: 2 of 6 jobs did not finish: broken, after-broken" in done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    for name, status in SECOND_RUN.items():
        assert f">{name}</a>" in page
        assert f'class="status s-{status}">{status}</span>' in page

    # the same report from the folder alone: the same bytes
    before = (out / "report.html").read_bytes()
    again = run_cli("report", out)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [LINE.format(path=out / "report.html")]
    assert (out / "report.html").read_bytes() == before


def test_batch_report_html_path_before_another_flag_and_with_json(manifest: Path) -> None:
    target = manifest.parent / "pages" / "batch.html"
    done = run_cli("batch", manifest, "--report-html", target, "--json")
    assert done.returncode == 1
    document = json.loads(done.stdout)  # stdout stays one JSON document
    assert [job["name"] for job in document["jobs"]] == list(SECOND_RUN)
    assert document["dependencies"]["corpus-a-plus"] == ["corpus-a"]
    assert LINE.format(path=target) in done.stderr.splitlines()
    assert target.is_file()
    # bare, then another option: the default place (now every job that can is up to date)
    bare = run_cli("batch", manifest, "--report-html", "--json")
    default = manifest.parent / "out" / "report.html"
    line = f"batch report: {default} (6 jobs: 4 up-to-date, 1 failed, 1 skipped)"
    assert line in bare.stderr.splitlines()


def test_report_writes_where_asked_and_prints_json(manifest: Path, tmp_path: Path) -> None:
    run_cli("batch", manifest)
    out = manifest.parent / "out"
    done = run_cli("report", out, "-o", tmp_path / "r.html", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["report"] == str(tmp_path / "r.html")
    assert document["output_dir"] == str(out)
    assert [(j["name"], j["status"]) for j in document["jobs"]] == list(SECOND_RUN.items())
    corpus_a = document["jobs"][0]
    unmatched = {"key": ["a007"], "closest": ["/videos/corpus_a/A008.mp4"]}
    assert corpus_a["coverage"][0]["unmatched_base"] == [unmatched]
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'href="batch/out/corpus-a.jsonl"' in page  # relative to the page, wherever it is


def test_report_refuses_a_folder_without_a_batch_and_a_job_output(
    manifest: Path, tmp_path: Path
) -> None:
    empty = run_cli("report", tmp_path / "nothing")
    assert empty.returncode == 2
    assert empty.stderr == (
        f"error: {tmp_path / 'nothing'}: does not exist; give the output_dir of a batch (where "
        "its runs/ folder is)\n"
    )
    out = manifest.parent / "out"
    taken = run_cli("report", out, "--out", out / "corpus-a.jsonl")
    assert taken.returncode == 2
    assert taken.stderr == (
        f"error: {out / 'corpus-a.jsonl'}: is the output (or its record) of job 'corpus-a'; "
        "write the report elsewhere (--out PATH)\n"
    )


def test_batch_report_html_misuses_are_refused_naming_the_fix(
    manifest: Path, tmp_path: Path
) -> None:
    swallowed = run_cli("batch", "--report-html", manifest)
    assert swallowed.returncode == 2
    assert swallowed.stderr == (
        f"error: --report-html took {manifest} as the report's path, and no manifest is left: "
        f"name the manifest first (second-opinion batch {manifest} --report-html), or give the "
        "path as --report-html=PATH\n"
    )
    dry = run_cli("batch", manifest, "--dry-run", "--report-html")
    assert dry.returncode == 2
    assert dry.stderr == (
        "error: --report-html with --dry-run: a dry run writes nothing; run without --dry-run, "
        "or write the report of the runs so far with second-opinion report OUTPUT_DIR\n"
    )
    assert not (manifest.parent / "out" / "report.html").exists()
    original = tmp_path / "original"
    shutil.copytree(SCAFFOLD.parent / "original-smoke-second-opinion-batch", original)
    refused = run_cli("batch", "--manifest", original / "batch.json", "--report-html")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: --report-html: for native manifests only; ")


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        (["m.json", "--report-html"], ["m.json", "--report-html="]),
        (["m.json", "--report-html", "-j", "2"], ["m.json", "--report-html=", "-j", "2"]),
        (["m.json", "--report-html", "r.html"], ["m.json", "--report-html", "r.html"]),
        (["--report-html", "-"], ["--report-html", "-"]),
        (["--", "--report-html"], ["--", "--report-html"]),
    ],
)  # fmt: skip
def test_a_bare_report_html_gets_an_empty_value_before_parsing(
    args: list[str], parsed: list[str]
) -> None:
    assert with_omitted_values(args) == parsed
