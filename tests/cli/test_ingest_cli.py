"""`second-opinion ingest` through its real entry point: exit codes, messages, files, JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests._corpora import SHAPES, expected_for, fixture_rows, netflix_dataset
from tests._tables import assert_rows_equal, read_rows, write_table
from tests.cli._run import run_cli

REPORT_KEYS = [
    "ok",
    "preset",
    "metadata",
    "output",
    "rows",
    "dropped",
    "dropped_rows",
    "out_of_scale",
    "mos_scale",
    "score_kind",
    "id_column",
    "mos_column",
    "columns",
]


def test_ingest_prints_a_summary_and_writes_the_table(tmp_path: Path) -> None:
    shape = SHAPES["live-vqc"]
    rows = fixture_rows(shape, 6)
    source = write_table(tmp_path / "LIVE_VQC_metadata.csv", rows)
    out = tmp_path / "live-vqc.parquet"
    result = run_cli("ingest", "live-vqc", source, "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = [line.strip("│ ").rstrip() for line in result.stdout.splitlines()]
    assert "clip id  │ File → clip_id" in lines
    assert "MOS      │ MOS → mos (as given)" in lines
    assert "scale    │ 0–100; mos_01 = (mos − 0) / 100" in lines
    assert "rows     │ 6 written, 0 dropped" in lines
    assert result.stdout.endswith(f"wrote 6 rows x 9 columns to {out}\n")
    assert_rows_equal(read_rows(out), expected_for(shape, rows))


def test_json_report_and_dropped_rows(tmp_path: Path) -> None:
    rows = fixture_rows(SHAPES["konvid-1k"], 5)
    rows[2]["mos"] = "n/a"
    source = write_table(tmp_path / "k.csv", rows)
    out = tmp_path / "k.jsonl"
    result = run_cli("ingest", "konvid-1k", source, "-o", out, "--drop-missing-mos", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == REPORT_KEYS
    assert report["ok"] is True
    assert (report["rows"], report["dropped"], report["mos_scale"]) == (4, 1, [1.0, 5.0])
    assert report["dropped_rows"] == [
        {"where": "line 4", "reason": "column 'mos' has 'n/a', which is not a number"}
    ]
    assert len(read_rows(out)) == 4
    # On a terminal-style run the count is in the summary and the rows are on stderr.
    result = run_cli("ingest", "konvid-1k", source, "-o", out, "--drop-missing-mos")
    assert "│ rows     │ 4 written, 1 dropped" in result.stdout
    assert result.stderr == (
        "warning: dropped 1 rows without a numeric MOS (--drop-missing-mos): line 4: column "
        "'mos' has 'n/a', which is not a number\n"
    )


def test_input_errors_exit_2_and_write_nothing(tmp_path: Path) -> None:
    source = write_table(tmp_path / "k.csv", [{"id": 1, "mos": 3.0}])
    out = tmp_path / "out.csv"
    result = run_cli("ingest", "konvid-1k", source, "-o", out)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {source}: id column 'flickr_id' of preset 'konvid-1k' not found (columns: id, "
        "mos); name the id column with --id-column, or check that the file is a table of that "
        "corpus\n"
    )
    assert not out.exists()
    result = run_cli("ingest", "konvid-1k", source, "-o", out, "--id-column", "id", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id_column"] == "id"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    source = write_table(tmp_path / "g.csv", [{"v": "a", "s": 1.0}])
    out = tmp_path / "out.csv"
    result = run_cli(
        "ingest",
        "generic",
        source,
        "-o",
        out,
        "--id-column",
        "v",
        "--mos-column",
        "s",
        "--mos-scale",
        "1-5",
    )
    assert (result.returncode, result.stderr) == (
        2,
        "error: --mos-scale '1-5': expected LOW,HIGH, e.g. --mos-scale 1,5\n",
    )
    result = run_cli("ingest", "generic", source, "-o", out)
    assert result.returncode == 2
    assert result.stderr.startswith("error: preset 'generic' needs id_column (--id-column)")
    assert not out.exists()


def test_netflix_dataset_file(tmp_path: Path) -> None:
    text, entries = netflix_dataset(2, 2)
    source = tmp_path / "NFLX_dataset_public_raw.py"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "nflx.csv"
    result = run_cli("ingest", "netflix-public", source, "-o", out, "--mos-scale", "1,5")
    assert result.returncode == 0, result.stderr
    assert "MOS      │ os → mos (mean of the ratings)" in result.stdout
    assert len(read_rows(out)) == len(entries)
    source.write_text("import os\n", encoding="utf-8")
    result = run_cli("ingest", "netflix-public", source, "-o", out, "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {source} line 1: an import is not allowed; ")


def test_layout_original_writes_the_originals_rows(tmp_path: Path) -> None:
    rows = fixture_rows(SHAPES["lsvq"], 3)
    source = write_table(tmp_path / "labels.csv", rows)
    out = tmp_path / "lsvq.jsonl"
    result = run_cli(
        "ingest", "lsvq", source, "-o", out, "--layout", "original", "--corpus-version", "v9"
    )
    assert result.returncode == 0, result.stderr
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [w["src"] for w in written] == [r["name"].split("/")[-1] + ".mp4" for r in rows]
    assert {w["corpus_version"] for w in written} == {"v9"}
    assert result.stdout.endswith(f"wrote 3 rows x 15 columns to {out}\n")


def test_layout_original_refused_for_a_preset_without_converter(tmp_path: Path) -> None:
    source = write_table(tmp_path / "live.tsv", fixture_rows(SHAPES["live-vqa"], 2))
    result = run_cli(
        "ingest", "live-vqa", source, "-o", tmp_path / "o.jsonl", "--layout", "original"
    )
    assert result.returncode == 2
    assert "no converter for preset 'live-vqa'" in result.stderr
    assert not (tmp_path / "o.jsonl").exists()
