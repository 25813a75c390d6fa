"""The original materializer's saliency batch manifests (docs/migrating.md, saliency section):
what translates onto a saliency job, what is refused (each message), the run and its reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.original_saliency.clips import original_frames
from second_opinion.batch.original_saliency.manifest import (
    is_original_saliency_manifest,
    load_original_saliency_manifest,
)
from second_opinion.batch.original_saliency.report import (
    write_report_json,
    write_report_markdown,
)
from second_opinion.batch.original_saliency.run import run_original_saliency_manifest
from second_opinion.batch.settings import BatchSettings
from second_opinion.errors import InputError, UsageError
from second_opinion.provenance import provenance_path
from second_opinion.saliency.run import run_saliency
from tests._saliency import clip_row, model_file, noise_clip, write_clips

ONE_WORKER = BatchSettings(workers=1)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Two 16 × 12 yuv420p clips of 8 frames, their clips table and the tiny model."""
    noise_clip(tmp_path / "a.yuv", 16, 12, 8, seed=1)
    noise_clip(tmp_path / "b.yuv", 16, 12, 8, seed=2)
    write_clips(tmp_path / "clips.jsonl", [clip_row("a", "a.yuv"), clip_row("b", "b.yuv")])
    model_file(tmp_path / "tiny.onnx")
    return tmp_path


def _manifest(folder: Path, tables: list[dict[str, Any]], **defaults: Any) -> Path:
    base = {"path_column": "path", "model_path": "tiny.onnx", "root": "."}
    data = {"_comment": "ignored", "defaults": base | defaults, "tables": tables}
    path = folder / "batch.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _table(name: str = "t1", **fields: Any) -> dict[str, Any]:
    return {"id": name, "input": "clips.jsonl", "output": f"out/{name}.jsonl"} | fields


def _refusal(path: Path, **kwargs: Any) -> str:
    with pytest.raises(InputError, match="cannot run as second-opinion saliency jobs") as info:
        load_original_saliency_manifest(path, **kwargs)
    return info.value.message


# --- recognising the dialect ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"tables": [{"id": "a", "input": "x.jsonl", "output": "y.jsonl"}]}, True),
        ({"_status": "blocked", "defaults": {"max_frames": 4}, "tables": []}, True),
        ({"version": 1, "output_dir": "o", "jobs": []}, False),
        ({"tables": [{"id": "a", "features": "f.csv", "scores": ["s.jsonl"], "out": "o"}]}, False),
        ({"tables": []}, False),
        ({"tables": "clips.jsonl"}, False),
        ([{"input": "x"}], False),
    ],
)
def test_is_original_saliency_manifest(data: object, expected: bool) -> None:
    assert is_original_saliency_manifest(data) is expected


def test_a_native_manifest_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "native.json"
    path.write_text(json.dumps({"version": 1, "output_dir": "o", "jobs": []}), encoding="utf-8")
    with pytest.raises(InputError, match="not the original's saliency batch manifest") as info:
        load_original_saliency_manifest(path)
    assert "but a native manifest; run a native manifest with second-opinion batch" in str(
        info.value
    )


# --- what translates ----------------------------------------------------------------------------


def test_fields_translate_onto_the_saliency_job(corpus: Path) -> None:
    table = _table(audit_json="audit/t1.json", max_frames=8, frame_samples=4)
    ignored = {
        "model_id": "saliency_student_v2",
        "ffmpeg_bin": "/opt/ffmpeg",
        "ffprobe_bin": "/opt/ffprobe",
        "status_column": "",
        "model_id_column": "mid",
        "aggregator_column": "",
        "ema_alpha_column": "",
        "default_width": 1920,
        "default_height": 1080,
        "ema_alpha": 0.3,
    }
    loaded = load_original_saliency_manifest(_manifest(corpus, [table], **ignored))
    (t,) = loaded.tables
    spec = t.job.spec
    assert t.job.name == "t1"
    assert (spec.clips, spec.model) == (corpus / "clips.jsonl", corpus / "tiny.onnx")
    assert (spec.frame_step, spec.on_bad_clip, spec.maps) == (2, "skip", None)
    assert t.job.output == t.output == corpus / "out" / "t1.jsonl"
    assert t.audit_json == corpus / "audit" / "t1.json"
    assert [(role, clip) for role, clip, _ in t.job.files] == [("clip", "a"), ("clip", "b")]
    assert t.clips == 2
    payload = t.config.payload()
    assert payload["model_id"] == "saliency_student_v2"
    assert payload["ffmpeg_bin"] == "/opt/ffmpeg"
    assert payload["model_path"] == str(corpus / "tiny.onnx")
    assert payload["max_frames"] == 8
    assert loaded.native_manifest() == {
        "version": 1,
        "output_dir": ".",
        "jobs": [
            {
                "name": "t1",
                "kind": "saliency",
                "clips": "clips.jsonl",
                "model": "tiny.onnx",
                "frame_step": 2,
                "on_bad_clip": "skip",
                "output": "out/t1.jsonl",
            }
        ],
    }


def test_the_native_manifest_loads_as_the_same_job(corpus: Path) -> None:
    loaded = load_original_saliency_manifest(_manifest(corpus, [_table(frame_samples=4)]))
    native = corpus / "native.json"
    native.write_text(json.dumps(loaded.native_manifest()), encoding="utf-8")
    (job,) = load_manifest(native).jobs
    assert job.spec == loaded.tables[0].job.spec
    assert job.output == loaded.tables[0].output


@pytest.mark.parametrize(
    ("max_frames", "frame_samples", "step"),
    [(8, 8, 1), (8, 4, 2), (8, 2, 4), (16, 8, 1), (8, 1, 8)],
)
def test_frames_translate_to_frame_step(
    corpus: Path, max_frames: int, frame_samples: int, step: int
) -> None:
    table = _table(max_frames=max_frames, frame_samples=frame_samples)
    loaded = load_original_saliency_manifest(_manifest(corpus, [table]))
    assert loaded.tables[0].job.spec.frame_step == step


def test_n_frames_in_the_clips_table_lets_max_frames_translate(corpus: Path) -> None:
    rows = [clip_row("a", "a.yuv", n_frames=4), clip_row("b", "b.yuv", n_frames=4)]
    write_clips(corpus / "clips.jsonl", rows)
    table = _table(max_frames=4, frame_samples=4)
    loaded = load_original_saliency_manifest(_manifest(corpus, [table]))
    assert loaded.tables[0].job.spec.frame_step == 1


def test_original_frames_follow_the_original_sampling() -> None:
    assert original_frames(8, max_frames=8, frame_samples=8) == list(range(8))
    assert original_frames(10, max_frames=10, frame_samples=4) == [0, 2, 4, 6]
    assert original_frames(3, max_frames=8, frame_samples=8) == [0, 1, 2]
    assert original_frames(8, max_frames=8, frame_samples=1) == [0]
    assert original_frames(1, max_frames=8, frame_samples=4) == [0]


def test_paths_are_relative_to_base_dir(
    corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("manifests") / "batch.json"
    _manifest(corpus, [_table()]).rename(elsewhere)
    loaded = load_original_saliency_manifest(elsewhere, base_dir=corpus)
    assert loaded.base_dir == corpus
    assert loaded.tables[0].input == corpus / "clips.jsonl"
    assert loaded.tables[0].job.spec.model == corpus / "tiny.onnx"


def test_root_may_be_left_out_when_clip_paths_are_absolute(corpus: Path) -> None:
    rows = [clip_row("a", str(corpus / "a.yuv")), clip_row("b", str(corpus / "b.yuv"))]
    write_clips(corpus / "clips.jsonl", rows)
    data = json.loads(_manifest(corpus, [_table()]).read_text(encoding="utf-8"))
    del data["defaults"]["root"]
    (corpus / "batch.json").write_text(json.dumps(data), encoding="utf-8")
    assert load_original_saliency_manifest(corpus / "batch.json").tables[0].clips == 2


def test_overwrite_true_accepts_existing_saliency_columns(corpus: Path) -> None:
    rows = [clip_row(c, f"{c}.yuv", saliency_mean=0.2, saliency_var=0.01) for c in "ab"]
    write_clips(corpus / "clips.jsonl", rows)
    path = _manifest(corpus, [_table(overwrite=True)])
    assert load_original_saliency_manifest(path).tables[0].job.name == "t1"


# --- what is refused, and the messages ------------------------------------------------------------

REFUSALS: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    (
        {"path_column": "src"},
        {},
        (
            "tables[0].path_column is 'src': a saliency job reads the clip's path from the column "
            "'path' of its clips table (with clip_id and pix_fmt); name that column 'path' in "
            'clips.jsonl and set "path_column": "path"'
        ),
    ),
    (
        {"width_column": "w"},
        {},
        (
            "tables[0].width_column is 'w': a saliency job reads the clip's width from the column "
            "'width'"
        ),
    ),
    (
        {"height_column": "h"},
        {},
        "tables[0].height_column is 'h': a saliency job reads the clip's height",
    ),
    (
        {"temporal_aggregator": "ema"},
        {},
        (
            "tables[0].temporal_aggregator is 'ema': a saliency job has no temporal reducer "
            "('ema', 'max', 'motion-weighted'); its features average each sampled map's "
            "statistics, as 'mean' does (sal_temporal_change measures how the maps move): set "
            '"temporal_aggregator": "mean", or keep the original for this table'
        ),
    ),
    (
        {"ema_alpha": 0},
        {},
        (
            "tables[0].ema_alpha is 0: the original fails every row with it (it must be in "
            "(0, 1]); write a value in that range (it is not used with 'mean')"
        ),
    ),
    (
        {"max_frames": 0},
        {},
        "tables[0].max_frames is 0: the original reads it as 1; write 1 (a positive integer)",
    ),
    (
        {"frame_samples": "4"},
        {},
        "tables[0].frame_samples: '4' is text; frame_samples must be an integer",
    ),
    (
        {"overwrite": "yes"},
        {},
        "tables[0].overwrite: 'yes' is text; overwrite must be true or false",
    ),
    ({"model_path": 3}, {}, "tables[0].model_path: 3 is a number; model_path must be text or null"),
    (
        {"bogus": 1},
        {},
        (
            "tables[0].bogus: not a field of the original's saliency manifest (the materializer "
            "would refuse it too)"
        ),
    ),
    (
        {"max_frame": 4},
        {},
        (
            "tables[0].max_frame: not a field of the original's saliency "
            "manifest (the materializer would refuse it too); did you mean 'max_frames'?"
        ),
    ),
    (
        {},
        {"temporal_aggreggator": "mean"},
        (
            "defaults.temporal_aggreggator: not a field of the "
            "original's saliency manifest (the materializer would refuse it too); did you mean "
            "'temporal_aggregator'?"
        ),
    ),
    (
        {"id": "CHUG HDR"},
        {},
        (
            "tables[0].id is 'CHUG HDR': it names the saliency job, whose name "
            "is lower-case letters, digits, '_', '.' and '-' (starting with a letter or digit); "
            "write 'chug-hdr'"
        ),
    ),
    ({"id": ""}, {}, "tables[0].id: a string (''); it must be a non-empty name"),
    ({"output": None}, {}, "tables[0].output: null; it must be a path (text)"),
    ({"audit_json": 5}, {}, "tables[0].audit_json: a number; it must be a path (text)"),
    (
        {"audit_json": "clips.jsonl"},
        {},
        "is also tables[0].input; write the audit elsewhere",
    ),
    ({"model_path": "missing.onnx"}, {}, "tables[0].model_path: no such file: "),
    ({"input": "nothing.jsonl"}, {}, "tables[0].input: "),
]


@pytest.mark.parametrize(("table_fields", "defaults", "expected"), REFUSALS)
def test_refusals_name_the_field_what_differs_and_the_fix(
    corpus: Path, table_fields: dict[str, Any], defaults: dict[str, Any], expected: str
) -> None:
    message = _refusal(_manifest(corpus, [_table(**table_fields)], **defaults))
    assert expected in message
    assert message.startswith(f"{corpus / 'batch.json'}: cannot run as second-opinion")
    assert message.endswith(
        "What translates and what does not: docs/migrating.md#saliency-batch-manifests"
    )


def test_a_refused_table_gets_its_native_job(corpus: Path) -> None:
    message = _refusal(_manifest(corpus, [_table(temporal_aggregator="max")]))
    assert (
        'A native job for tables[0] (docs/manifest.md#saliency-jobs): {"name": "t1", "kind": '
        '"saliency", "clips": "clips.jsonl", "model": "tiny.onnx", "frame_step": 1, '
        '"on_bad_clip": "skip", "output": "out/t1.jsonl"}'
    ) in message


def test_the_default_path_column_is_named_as_the_originals_default(corpus: Path) -> None:
    data = json.loads(_manifest(corpus, [_table()]).read_text(encoding="utf-8"))
    del data["defaults"]["path_column"], data["defaults"]["model_path"]
    (corpus / "batch.json").write_text(json.dumps(data), encoding="utf-8")
    message = _refusal(corpus / "batch.json")
    assert "tables[0].path_column is not set (the original's default: 'src'): " in message
    assert (
        "tables[0].model_path is not set (the original's default: None): without it the "
        "original runs its bundled saliency_student_v1 model, and second-opinion bundles none; "
        'set model_path to the ONNX file (a native job\'s "model")'
    ) in message


def test_a_defaults_problem_is_listed_once(corpus: Path) -> None:
    path = _manifest(corpus, [_table("a"), _table("b")], temporal_aggregator="max")
    message = _refusal(path)
    assert message.count("defaults.temporal_aggregator is 'max'") == 1
    assert "(1 problem)" in message


def test_every_problem_is_listed_at_once(corpus: Path) -> None:
    message = _refusal(_manifest(corpus, [_table(bogus=1, temporal_aggregator="ema")]))
    assert "(2 problems)" in message
    assert "tables[0].bogus" in message
    assert "tables[0].temporal_aggregator" in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"tables": [], "defaults": {"max_frames": 4}},
            (
                "tables: the list is empty (the original "
                "refuses it as well); list at least one table with id, input and output"
            ),
        ),
        ({"tables": [{"input": "a"}], "defaults": []}, "defaults: a list; it must be an object"),
        (
            {"tables": [{"input": "a", "output": "b"}, 3]},
            "tables[1]: a number; a table entry is an object (id, input, output)",
        ),
        (
            {"tables": [{"input": "a", "output": "b"}]},
            "tables[0].id: missing; it must be a non-empty name",
        ),
    ],
)
def test_malformed_manifests(tmp_path: Path, data: dict[str, Any], expected: str) -> None:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert expected in _refusal(path)


def test_existing_saliency_columns_need_overwrite(corpus: Path) -> None:
    rows = [clip_row(c, f"{c}.yuv", saliency_mean=0.2, saliency_var=0.01) for c in "ab"]
    write_clips(corpus / "clips.jsonl", rows)
    message = _refusal(_manifest(corpus, [_table()]))
    assert (
        "tables[0].overwrite is not set (the original's default: False): clips.jsonl has "
        "saliency_mean and saliency_var, whose rows the original would keep instead of "
        'computing; second-opinion writes a new table and computes every clip: set "overwrite": '
        "true, or drop those columns"
    ) in message


def test_root_elsewhere_with_relative_paths(corpus: Path) -> None:
    message = _refusal(_manifest(corpus, [_table()], root="videos"))
    assert (
        f"defaults.root is '{corpus / 'videos'}': the original reads the relative clip path "
        f"'a.yuv' (clips.jsonl, row 1) from root {corpus / 'videos'}, second-opinion from the "
        f"clips table's folder {corpus}: make the clip paths absolute, or move the clips table "
        "into that folder"
    ) in message


def test_no_root_reads_from_the_working_directory(
    corpus: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(_manifest(corpus, [_table()]).read_text(encoding="utf-8"))
    del data["defaults"]["root"]
    (corpus / "batch.json").write_text(json.dumps(data), encoding="utf-8")
    elsewhere = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(elsewhere)
    message = _refusal(corpus / "batch.json")
    assert (
        f"tables[0].root is not set: the original reads the relative clip path 'a.yuv' "
        f"(clips.jsonl, row 1) from the working directory {elsewhere}"
    ) in message
    monkeypatch.chdir(corpus)
    assert load_original_saliency_manifest(corpus / "batch.json").tables[0].clips == 2


def test_ten_bit_clips_are_refused(corpus: Path) -> None:
    noise_clip(corpus / "c.yuv", 16, 12, 8, pix_fmt="yuv420p10le")
    rows = [clip_row("a", "a.yuv"), clip_row("c", "c.yuv", pix_fmt="yuv420p10le")]
    write_clips(corpus / "clips.jsonl", rows)
    assert (
        "tables[0].input: clip 'c' (clips.jsonl) is yuv420p10le; the original reads every .yuv "
        "file as 8-bit yuv420p (other bytes, other frames): convert the clip to yuv420p, or run "
        "it in a native saliency job"
    ) in _refusal(_manifest(corpus, [_table()]))


def test_clips_without_the_yuv_suffix_are_refused(corpus: Path) -> None:
    (corpus / "a.yuv").rename(corpus / "a.raw")
    write_clips(corpus / "clips.jsonl", [clip_row("a", "a.raw")])
    assert (
        "tables[0].input: clip 'a' (clips.jsonl) is a.raw; the original decodes a file without "
        "the .yuv suffix with ffmpeg as a container, second-opinion reads raw YUV: if it is raw "
        "yuv420p, name it .yuv; else decode it to raw YUV first"
    ) in _refusal(_manifest(corpus, [_table()]))


def test_a_clip_longer_than_max_frames_needs_n_frames(corpus: Path) -> None:
    message = _refusal(_manifest(corpus, [_table(max_frames=4, frame_samples=4)]))
    assert (
        "tables[0].max_frames 4 and frame_samples 4: the original samples frames [0, 1, 2, 3] "
        "of clip 'a' (clips.jsonl), frame_step 1 with n_frames 8 would read [0, 1, 2, 3, 4, 5, "
        "6, 7]; set its n_frames to 4 in the clips table"
    ) in message


def test_clips_sampled_at_different_spacings_are_refused(corpus: Path) -> None:
    noise_clip(corpus / "b.yuv", 16, 12, 4, seed=2)
    message = _refusal(_manifest(corpus, [_table(max_frames=8, frame_samples=4)]))
    assert (
        "tables[0].max_frames 8 and frame_samples 4: the original samples frames [0, 1, 2, 3] "
        "of clip 'b' (clips.jsonl), frame_step 2 with n_frames 4 would read [0, 2]; its frames "
        "are 1 apart where the others' are 2: give the clips the same number of frames, or put "
        "it in a table of its own"
    ) in message


def test_repeated_outputs_name_both_tables(corpus: Path) -> None:
    tables = [_table("a", output="same.jsonl"), _table("b", output="same.jsonl")]
    message = _refusal(_manifest(corpus, tables))
    assert "tables[1].output: " in message
    assert "is also the output of tables[0]; give each job its own output" in message


# --- running ------------------------------------------------------------------------------------


def test_run_writes_the_jobs_outputs_with_provenance_and_reports(corpus: Path) -> None:
    path = _manifest(corpus, [_table(audit_json="audit/t1.json", frame_samples=4)])
    result = run_original_saliency_manifest(path, settings=ONE_WORKER)
    assert (result.status, result.ok) == ("ok", True)
    output = corpus / "out" / "t1.jsonl"
    spec = result.manifest.tables[0].job.spec
    reference = run_saliency(spec, corpus / "reference.jsonl")
    assert reference.rows == 2
    assert output.read_bytes() == (corpus / "reference.jsonl").read_bytes()
    assert provenance_path(output).is_file()
    report = result.to_dict()
    assert report["schema"] == "saliency-materializer-batch-v1"
    assert report["summary"] == {
        "tables": 1,
        "failed_tables": 0,
        "total": 2,
        "ok": 2,
        "skipped_existing": 0,
        "failed": 0,
    }
    (table,) = report["tables"]
    assert (table["id"], table["status"], table["frame_step"]) == ("t1", "ok", 2)
    assert table["provenance"] == str(provenance_path(output))
    audit = json.loads((corpus / "audit" / "t1.json").read_text(encoding="utf-8"))
    assert audit["schema"] == "saliency-materializer-audit-v1"
    assert (audit["table_id"], audit["summary"]["ok"]) == ("t1", 2)
    markdown = write_report_markdown(report, corpus / "report" / "batch.md").read_text("utf-8")
    assert markdown.startswith("# Saliency Materializer Batch Report\n\nStatus: **ok**\n")
    assert f"| t1 | ok | 2 | 2 | 0 | 0 | `{output}` |\n" in markdown
    first = write_report_json(report, corpus / "report.json").read_bytes()
    again = run_original_saliency_manifest(path, settings=ONE_WORKER)
    assert again.batch.jobs[0].status == "up-to-date"
    assert write_report_json(again.to_dict(), corpus / "report.json").read_bytes() == first
    assert not [p for p in (corpus / "report").iterdir() if p.name.endswith(".tmp")]


def test_unreadable_clips_are_row_failures(corpus: Path) -> None:
    (corpus / "c.yuv").write_bytes(b"x" * 7)
    rows = [clip_row("a", "a.yuv"), clip_row("b", "b.yuv"), clip_row("c", "c.yuv")]
    write_clips(corpus / "clips.jsonl", rows)
    path = _manifest(corpus, [_table()])
    result = run_original_saliency_manifest(path, settings=ONE_WORKER)
    assert (result.status, result.ok) == ("failed", False)
    (table,) = result.tables
    assert table.status == "row-failures"
    assert table.summary is not None
    assert table.summary.to_dict() == {"total": 3, "ok": 2, "skipped_existing": 0, "failed": 1}
    assert table.skipped[0][0] == "c"
    assert "has 7 bytes, not a whole number of 16×12 yuv420p frames" in table.skipped[0][1]
    allowed = run_original_saliency_manifest(path, settings=ONE_WORKER, allow_row_failures=True)
    assert (allowed.status, allowed.ok) == ("row-failures", True)
    markdown = write_report_markdown(allowed.to_dict(), corpus / "r.md").read_text("utf-8")
    assert "Status: **row-failures**" in markdown
    assert "| t1 | row-failures | 3 | 2 | 0 | 1 |" in markdown


def test_a_failing_table_is_an_error_and_fail_fast_stops(corpus: Path) -> None:
    (corpus / "broken.onnx").write_bytes(b"not a model")
    tables = [_table("a", model_path="broken.onnx"), _table("b")]
    path = _manifest(corpus, tables)
    result = run_original_saliency_manifest(path, settings=ONE_WORKER, allow_row_failures=True)
    assert (result.status, result.ok) == ("failed", False)
    assert [t.status for t in result.tables] == ["error", "ok"]
    assert result.tables[0].error is not None
    assert "broken.onnx" in result.tables[0].error
    assert "summary" not in result.to_dict()["tables"][0]
    assert "| a | error | - | - | - | - |" in write_report_markdown(
        result.to_dict(), corpus / "r.md"
    ).read_text("utf-8")
    (corpus / "out" / "b.jsonl").unlink()
    stopped = run_original_saliency_manifest(path, settings=ONE_WORKER, fail_fast=True)
    assert [t.table.table_id for t in stopped.tables] == ["a"]
    assert stopped.summary()["tables"] == 1


def test_dry_run_is_refused(corpus: Path) -> None:
    with pytest.raises(UsageError, match="dry_run is not supported") as info:
        run_original_saliency_manifest(
            _manifest(corpus, [_table()]), settings=BatchSettings(dry_run=True)
        )
    assert "load_original_saliency_manifest checks a manifest without running it" in str(info.value)


def test_the_refusal_in_the_docs_is_the_librarys(tmp_path: Path) -> None:
    data = {
        "defaults": {"model_path": "saliency.onnx", "temporal_aggregator": "ema", "root": "."},
        "tables": [
            {"id": "konvid", "input": "konvid.jsonl", "output": "out/konvid.saliency.jsonl"}
        ],
    }
    (tmp_path / "saliency.onnx").write_bytes(b"")
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    message = _refusal(path).removeprefix(str(tmp_path) + "/")
    docs = (Path(__file__).resolve().parents[2] / "docs" / "migrating.md").read_text("utf-8")
    assert f"```text\n{message}\n```" in docs


def test_tables_reading_each_others_outputs_in_a_cycle_are_refused(corpus: Path) -> None:
    for name in ("x", "y"):
        write_clips(corpus / f"{name}.jsonl", [clip_row("a", "a.yuv"), clip_row("b", "b.yuv")])
        provenance_path(corpus / f"{name}.jsonl").write_text("{}", encoding="utf-8")
    tables = [
        _table("first", input="x.jsonl", output="y.jsonl"),
        _table("second", input="y.jsonl", output="x.jsonl"),
    ]
    assert (
        "tables: each of these tables reads the next one's output: first -> second -> first; "
        "break the cycle"
    ) in _refusal(_manifest(corpus, tables))
