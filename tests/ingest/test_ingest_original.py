"""``layout="original"`` (the original project's corpus JSONL) and the presets bvi-dvc and
waterloo-ivc-4k, on fixtures in each source's shape (tests/_corpora.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from second_opinion.errors import InputError, UsageError
from second_opinion.ingest.errors import (
    ColumnNotFoundError,
    DatasetFormatError,
    DuplicateIdError,
    MissingMosError,
)
from second_opinion.ingest.ingest import ingest
from tests._corpora import SHAPES, bvi_dvc_logs, expected_for, fixture_rows
from tests._tables import assert_rows_equal, read_rows, write_table

MOS_FIELDS = [
    "corpus",
    "corpus_version",
    "duration_s",
    "encoder_upstream",
    "framerate",
    "height",
    "ingested_at_utc",
    "mos",
    "mos_std_dev",
    "n_ratings",
    "pix_fmt",
    "src",
    "src_sha256",
    "src_size_bytes",
    "width",
]


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_logs(folder: Path, logs: dict[str, Any]) -> Path:
    folder.mkdir()
    for name, log in logs.items():
        (folder / name).write_text(json.dumps(log), encoding="utf-8")
    return folder


# --- the original layout of the MOS corpora --------------------------------------------------


@pytest.mark.parametrize(
    ("shape_name", "src", "version"),
    [
        ("konvid-1k", lambda r: f"{r['flickr_id']}.mp4", "konvid-1k-2017"),
        ("konvid-150k", lambda r: r["video_name"], "konvid-150k-2019"),
        ("live-vqc", lambda r: r["File"], "live-vqc-2019"),
        ("lsvq", lambda r: r["name"].split("/")[-1] + ".mp4", "lsvq-2021"),
        ("youtube-ugc", lambda r: r["vid"] + ".mp4", "ugc-2019-orig"),
        ("waterloo-ivc-4k", lambda r: r["name"] + ".yuv", "waterloo-ivc-4k-201908"),
    ],
)
def test_mos_corpora_keep_the_mos_as_given(
    tmp_path: Path, shape_name: str, src: Any, version: str
) -> None:
    shape = SHAPES[shape_name]
    rows = fixture_rows(shape, 5)
    out = tmp_path / "o.jsonl"
    report = ingest(shape.preset, write_table(tmp_path / "m.csv", rows), out, layout="original")
    written = lines_of(out)
    assert report.rows == 5
    assert list(report.columns) == MOS_FIELDS
    assert [sorted(r) for r in written] == [MOS_FIELDS] * 5
    for row, line in zip(rows, written, strict=True):
        assert line["src"] == src(row)
        assert line["mos"] == pytest.approx(float(row[shape.mos_column]))
        assert (line["corpus"], line["corpus_version"]) == (shape.preset, version)
        assert (line["src_sha256"], line["width"], line["ingested_at_utc"]) == ("", 0, "")
    if shape.std_column:
        assert [w["mos_std_dev"] for w in written] == pytest.approx(
            [r[shape.std_column] for r in rows]
        )
        assert [w["n_ratings"] for w in written] == [r["n"] for r in rows]
    else:
        assert {(w["mos_std_dev"], w["n_ratings"]) for w in written} == {(0.0, 0)}


def test_formatting_is_the_originals_and_deterministic(tmp_path: Path) -> None:
    rows = fixture_rows(SHAPES["live-vqc"], 3)
    rows[0]["File"] = "Ä001.mp4"
    source = write_table(tmp_path / "m.csv", rows)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    ingest("live-vqc", source, first, layout="original", corpus_version="v2")
    ingest("live-vqc", source, second, layout="original", corpus_version="v2")
    text = first.read_text(encoding="utf-8")
    assert first.read_bytes() == second.read_bytes()
    expected = [json.dumps(r, sort_keys=True) for r in lines_of(first)]
    assert text.splitlines() == expected
    assert '"src": "\\u00c4001.mp4"' in text
    assert '"corpus_version": "v2"' in text


def test_chug_maps_its_mos_onto_1_5_and_keeps_the_manifest(tmp_path: Path) -> None:
    rows = fixture_rows(SHAPES["chug"], 4)
    rows[1]["mos_j"] = 100.0
    out = tmp_path / "chug.jsonl"
    report = ingest("chug", write_table(tmp_path / "chug.csv", rows), out, layout="original")
    written = lines_of(out)
    assert "mos_raw_0_100" in report.columns
    assert "chug_width_manifest" in report.columns
    for row, line in zip(rows, written, strict=True):
        assert line["src"] == f"{row['Video']}.mp4"
        assert line["mos"] == pytest.approx(1 + 4 * row["mos_j"] / 100)
        assert line["mos_raw_0_100"] == pytest.approx(row["mos_j"])
        assert line["mos_std_dev"] == pytest.approx(row["sos_j"])
        assert line["chug_video_id"] == row["Video"]
        assert line["chug_bitladder"] == row["bitladder"]
        assert line["chug_bitrate_label"] == row["bitrate"]
        assert (line["chug_ref"], line["chug_height_manifest"]) == (row["ref"], 1080)
        assert line["chug_framerate_manifest"] == pytest.approx(row["framerate"])
    assert written[1]["mos"] == 5.0


@pytest.mark.parametrize("preset", ["live-vqa", "netflix-public", "generic"])
def test_original_layout_needs_a_converter(tmp_path: Path, preset: str) -> None:
    extra: dict[str, Any] = (
        {"id_column": "a", "mos_column": "b", "mos_scale": (0, 1)} if preset == "generic" else {}
    )
    with pytest.raises(UsageError, match=f"no converter for preset '{preset}'") as caught:
        ingest(preset, tmp_path / "m.csv", tmp_path / "o.jsonl", layout="original", **extra)
    assert "leave out --layout original" in str(caught.value)


def test_original_layout_is_json_lines_and_version_needs_it(tmp_path: Path) -> None:
    source = tmp_path / "m.csv"
    with pytest.raises(UsageError, match=r"o\.parquet: the original layout is JSON lines"):
        ingest("lsvq", source, tmp_path / "o.parquet", layout="original")
    with pytest.raises(UsageError, match="--corpus-version is a field of the original layout"):
        ingest("lsvq", source, tmp_path / "o.jsonl", corpus_version="x")
    with pytest.raises(UsageError, match="record no corpus version"):
        ingest("bvi-dvc", tmp_path, tmp_path / "o.jsonl", layout="original", corpus_version="x")


def test_checks_still_run_and_nothing_is_written(tmp_path: Path) -> None:
    rows = fixture_rows(SHAPES["lsvq"], 4)
    rows[3]["name"] = rows[1]["name"]
    out = tmp_path / "o.jsonl"
    with pytest.raises(DuplicateIdError, match="is on two rows, line 3 and line 5"):
        ingest("lsvq", write_table(tmp_path / "m.csv", rows), out, layout="original")
    assert not out.exists()


# --- waterloo-ivc-4k --------------------------------------------------------------------------


def test_waterloo_canonical_table(tmp_path: Path) -> None:
    shape = SHAPES["waterloo-ivc-4k"]
    rows = fixture_rows(shape, 6)
    out = tmp_path / "w.parquet"
    report = ingest("waterloo-ivc-4k", write_table(tmp_path / "w.csv", rows), out)
    assert (report.mos_scale, report.id_column, report.mos_column) == ((0.0, 100.0), "name", "mos")
    assert report.columns[:5] == ("clip_id", "mos", "mos_std", "n_ratings", "corpus")
    assert_rows_equal(read_rows(out), expected_for(shape, rows))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            lambda rows: [r.pop("name") for r in rows],
            ColumnNotFoundError,
            (
                r"id column 'name' or 'video_name' or 'filename' or 'file_name' of preset "
                r"'waterloo-ivc-4k' not found"
            ),
        ),
        (
            lambda rows: rows[0].update(mos="bad"),
            MissingMosError,
            r"line 2: column 'mos' has 'bad', which is not a number",
        ),
        (
            lambda rows: rows[0].update(mos=140.0),
            InputError,
            r"line 2: MOS 140\.0 of clip .* is outside the waterloo-ivc-4k scale 0–100",
        ),
    ],
)
def test_waterloo_errors(tmp_path: Path, change: Any, error: type, message: str) -> None:
    rows = fixture_rows(SHAPES["waterloo-ivc-4k"], 3)
    change(rows)
    with pytest.raises(error, match=message):
        ingest("waterloo-ivc-4k", write_table(tmp_path / "w.csv", rows), tmp_path / "o.jsonl")


# --- bvi-dvc ----------------------------------------------------------------------------------


def test_bvi_dvc_canonical_table(tmp_path: Path) -> None:
    logs = bvi_dvc_logs(4)
    folder = write_logs(tmp_path / "cache", logs)
    out = tmp_path / "bvi.jsonl"
    report = ingest("bvi-dvc", folder, out)
    written = read_rows(out)
    assert report.rows == 4
    assert report.mos_scale == (0.0, 100.0)
    assert [r["clip_id"] for r in written] == [name.removesuffix(".json") for name in sorted(logs)]
    first_log = logs[sorted(logs)[0]]
    first = written[0]
    assert first["mos"] == pytest.approx(first_log["pooled_metrics"]["vmaf"]["mean"])
    assert first["mos_01"] == pytest.approx(first["mos"] / 100)
    assert (first["width"], first["height"], first["framerate"], first["frames"]) == (
        3840,
        2160,
        60.0,
        8,
    )
    assert first["duration_s"] == pytest.approx(8 / 60)
    assert first["adm2_std"] == pytest.approx(first_log["pooled_metrics"]["adm2"]["stddev"])


def test_bvi_dvc_original_layout_is_a_vmaf_tune_row(tmp_path: Path) -> None:
    logs = bvi_dvc_logs(2)
    name = sorted(logs)[1]
    del logs[name]["pooled_metrics"]["motion2"]
    folder = write_logs(tmp_path / "cache", logs)
    out = tmp_path / "bvi.jsonl"
    report = ingest("bvi-dvc", folder, out, layout="original")
    rows = lines_of(out)
    assert len(report.columns) == 54
    assert rows[1]["src"] == f"bvi-dvc:{name.removesuffix('.json')}"
    assert len(rows[1]["src_sha256"]) == 64
    assert rows[1]["vmaf_score"] == pytest.approx(logs[name]["pooled_metrics"]["vmaf"]["mean"])
    assert (rows[1]["encoder"], rows[1]["crf"], rows[1]["schema_version"]) == ("libx264", 35, 3)
    assert (rows[1]["width"], rows[1]["height"], rows[1]["framerate"]) == (1920, 1080, 50.0)
    assert math.isnan(rows[1]["motion2_mean"])
    assert '"motion2_mean": NaN' in out.read_text(encoding="utf-8")
    assert (rows[1]["run_id"], rows[1]["timestamp"]) == ("", "")


def test_bvi_dvc_falls_back_to_the_last_frame(tmp_path: Path) -> None:
    logs = bvi_dvc_logs(1)
    log = next(iter(logs.values()))
    del log["pooled_metrics"]["vmaf"]
    folder = write_logs(tmp_path / "cache", logs)
    ingest("bvi-dvc", folder, tmp_path / "o.jsonl")
    assert read_rows(tmp_path / "o.jsonl")[0]["mos"] == pytest.approx(
        log["frames"][-1]["metrics"]["vmaf"]
    )


def test_bvi_dvc_errors(tmp_path: Path) -> None:
    logs = bvi_dvc_logs(3)
    names = sorted(logs)
    del logs[names[0]]["pooled_metrics"]["vmaf"]
    logs[names[0]]["frames"] = []
    logs[names[1]]["pooled_metrics"]["vmaf"]["mean"] = "high"
    folder = write_logs(tmp_path / "cache", logs)
    out = tmp_path / "o.jsonl"
    with pytest.raises(DatasetFormatError, match=rf"{names[0]}: no VMAF score: neither"):
        ingest("bvi-dvc", folder, out)
    (folder / names[0]).unlink()
    with pytest.raises(
        MissingMosError,
        match=rf"file {names[1]}: 'pooled_metrics.vmaf.mean' has 'high', which is not a finite "
        r"number; fix or remove the file, or pass --drop-missing-mos",
    ):
        ingest("bvi-dvc", folder, out)
    report = ingest("bvi-dvc", folder, out, drop_missing_mos=True)
    assert (report.rows, report.dropped) == (1, 1)
    (folder / "broken.json").write_text('{"frames": [', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.json line 1: invalid JSON"):
        ingest("bvi-dvc", folder, out)
    with pytest.raises(InputError, match="reads a folder of libvmaf JSON logs"):
        ingest("bvi-dvc", folder / "broken.json", out)
    with pytest.raises(InputError, match=r"no \.json files"):
        ingest("bvi-dvc", write_logs(tmp_path / "empty", {}), out)
    with pytest.raises(UsageError, match="reads a folder of libvmaf JSON files, which has no"):
        ingest("bvi-dvc", folder, out, id_column="x")
