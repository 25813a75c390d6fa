"""Corpus ingest (second_opinion.ingest): every preset, every error, atomic output, mos_01.

Fixtures are generated in each corpus's published shape (tests/_corpora.py, fixed seeds); the
canonical table is compared whole with a plain-Python reference.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from second_opinion import errors
from second_opinion.errors import InputError, UsageError
from second_opinion.ingest import errors as ingest_errors
from second_opinion.ingest.canonical import CANONICAL_COLUMNS
from second_opinion.ingest.errors import (
    ColumnClashError,
    ColumnNotFoundError,
    DuplicateIdError,
    IngestError,
    MissingIdError,
    MissingMosError,
    ScaleError,
)
from second_opinion.ingest.ingest import ingest
from second_opinion.ingest.presets import PRESET_NAMES, get_preset, parse_scale
from tests._corpora import SHAPES, canonical, expected_for, fixture_rows
from tests._paths import KONVID, needs_real_data
from tests._tables import assert_rows_equal, read_rows, write_table

ROOT = Path(__file__).resolve().parents[2]
KONVID_REAL = KONVID / "KONVID_1K_metadata.csv"
TABLE_SHAPES = [name for name in SHAPES if name != "generic"]


def run(shape_name: str, tmp_path: Path, suffix: str = ".csv", **options: Any) -> Any:
    """Write the shape's fixture as ``suffix`` and ingest it to Parquet; return report, rows."""
    shape = SHAPES[shape_name]
    rows = fixture_rows(shape)
    source = write_table(tmp_path / f"{shape_name}{suffix}", rows)
    out = tmp_path / "out.parquet"
    report = ingest(shape.preset, source, out, **options)
    return report, rows, read_rows(out)


def only_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- presets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape_name", TABLE_SHAPES)
def test_each_preset_writes_the_canonical_table(shape_name: str, tmp_path: Path) -> None:
    report, rows, written = run(shape_name, tmp_path)
    shape = SHAPES[shape_name]
    assert_rows_equal(written, expected_for(shape, rows))
    assert report.rows == len(rows)
    assert report.dropped == 0
    assert report.preset == shape.preset
    assert report.mos_scale == shape.scale
    assert report.id_column == shape.id_column
    assert report.mos_column == shape.mos_column
    assert list(report.columns) == list(written[0])


def test_generic_needs_its_columns_and_scale(tmp_path: Path) -> None:
    shape = SHAPES["generic"]
    rows = fixture_rows(shape)
    source = write_table(tmp_path / "g.csv", rows)
    out = tmp_path / "out.parquet"
    report = ingest(
        "generic", source, out, id_column="video", mos_column="score", mos_scale=(0, 10)
    )
    assert_rows_equal(read_rows(out), expected_for(shape, rows))
    assert report.columns == ("clip_id", "mos", "corpus", "mos_min", "mos_max", "mos_01", "fps")
    with pytest.raises(UsageError, match=r"^preset 'generic' needs mos_scale \(--mos-scale"):
        ingest("generic", source, out, id_column="video", mos_column="score")
    with pytest.raises(
        UsageError,
        match=r"needs id_column \(--id-column\), mos_column \(--mos-column\) and mos_scale",
    ):
        ingest("generic", source, out)


def test_canonical_columns_come_first_in_a_fixed_order(tmp_path: Path) -> None:
    report, _, _ = run("chug", tmp_path)
    assert report.columns[:7] == (
        "clip_id",
        "mos",
        "mos_std",
        "corpus",
        "mos_min",
        "mos_max",
        "mos_01",
    )
    assert report.columns[7:] == (
        "ref",
        "name",
        "bitladder",
        "resolution",
        "bitrate",
        "orientation",
        "framerate",
        "content_name",
        "height",
        "width",
    )
    report, _, _ = run("konvid-1k", tmp_path)
    assert report.columns[:6] == ("clip_id", "mos", "corpus", "mos_min", "mos_max", "mos_01")


def test_konvid_150k_prefers_mos_and_keeps_video_score(tmp_path: Path) -> None:
    report, rows, written = run("konvid-150k-b", tmp_path)
    assert report.mos_column == "mos"
    assert [r["video_score"] for r in written] == [r["video_score"] for r in rows]
    report, rows, written = run("konvid-150k", tmp_path)
    assert report.mos_column == "video_score"
    assert "video_score" not in written[0]


def test_live_vqa_dmos_becomes_a_mos_and_stays_as_dmos(tmp_path: Path) -> None:
    _, rows, written = run("live-vqa", tmp_path)
    for row, out in zip(rows, written, strict=True):
        assert out["mos"] == 100.0 - row["dmos"]
        assert out["dmos"] == row["dmos"]
        assert out["mos_std"] == row["dmos_std"]
        assert out["mos_01"] == (100.0 - row["dmos"]) / 100.0
    assert list(written[0]) == [
        "clip_id",
        "mos",
        "mos_std",
        "corpus",
        "mos_min",
        "mos_max",
        "mos_01",
        "dmos",
    ]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".tsv.gz", ".csv.gz"])
def test_any_input_format_gives_the_same_table(suffix: str, tmp_path: Path) -> None:
    _, rows, written = run("lsvq", tmp_path, suffix)
    assert_rows_equal(written, expected_for(SHAPES["lsvq"], rows))


def test_ids_are_text_whatever_their_type(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"id": 7, "s": 1.0},
        {"id": 3.0, "s": 2.0},
        {"id": "007", "s": 3.0},
    ]
    # JSON numbers keep their text; a Parquet float column holding integers gives the integers.
    for suffix, ids in ((".jsonl", ["7", "3.0"]), (".parquet", ["7", "3"])):
        source = write_table(tmp_path / f"ids{suffix}", rows[:2])
        out = tmp_path / f"ids-out{suffix}.parquet"
        ingest("generic", source, out, id_column="id", mos_column="s", mos_scale=(0, 5))
        assert [r["clip_id"] for r in read_rows(out)] == ids
    source = write_table(tmp_path / "ids.csv", rows)
    out = tmp_path / "ids-out.parquet"
    ingest("generic", source, out, id_column="id", mos_column="s", mos_scale=(0, 5))
    assert [r["clip_id"] for r in read_rows(out)] == ["7", "3.0", "007"]


# --- output formats ---------------------------------------------------------------------------


def test_the_scale_is_two_numeric_columns_in_every_format(tmp_path: Path) -> None:
    shape = SHAPES["konvid-1k"]
    source = write_table(tmp_path / "k.csv", fixture_rows(shape, 3))
    for name in ("o.jsonl", "o.parquet", "o.csv"):
        ingest("konvid-1k", source, tmp_path / name)
        rows = read_rows(tmp_path / name)
        assert [(r["mos_min"], r["mos_max"]) for r in rows] == [(1.0, 5.0)] * 3, name
    with (tmp_path / "o.csv").open(encoding="utf-8", newline="") as handle:
        cells = [(r["mos_min"], r["mos_max"]) for r in csv.DictReader(handle)]
    assert cells == [("1.0", "5.0")] * 3
    ingest("konvid-1k", source, tmp_path / "o.tsv.gz")
    with gzip.open(tmp_path / "o.tsv.gz", "rt", encoding="utf-8", newline="") as handle:
        header, first = list(csv.reader(handle, delimiter="\t"))[:2]
    assert header[:6] == ["clip_id", "mos", "corpus", "mos_min", "mos_max", "mos_01"]
    assert first[3:5] == ["1.0", "5.0"]
    schema = pq.read_schema(tmp_path / "o.parquet")
    assert (str(schema.field("mos_min").type), str(schema.field("mos_max").type)) == (
        "double",
        "double",
    )


def test_output_is_deterministic(tmp_path: Path) -> None:
    source = write_table(tmp_path / "c.csv", fixture_rows(SHAPES["chug"]))
    ingest("chug", source, tmp_path / "a.jsonl")
    ingest("chug", source, tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


# --- options ----------------------------------------------------------------------------------


def test_column_and_scale_overrides(tmp_path: Path) -> None:
    rows = [{"clip": f"c{i}", "MOS": 20.0 * i, "sd": 0.5, "votes": 10 + i} for i in range(5)]
    source = write_table(tmp_path / "t.csv", rows)
    out = tmp_path / "out.jsonl"
    report = ingest(
        "konvid-1k",
        source,
        out,
        id_column="clip",
        mos_column="MOS",
        mos_std_column="sd",
        n_ratings_column="votes",
        mos_scale=(0, 80),
    )
    expected = canonical(
        rows,
        preset="konvid-1k",
        id_column="clip",
        mos_column="MOS",
        scale=(0.0, 80.0),
        std_column="sd",
        n_column="votes",
    )
    assert_rows_equal(read_rows(out), expected)
    assert report.mos_scale == (0.0, 80.0)
    assert report.columns[:8] == CANONICAL_COLUMNS


def test_parse_scale() -> None:
    assert parse_scale("1,5") == (1.0, 5.0)
    assert parse_scale(" 0 , 100 ") == (0.0, 100.0)
    for text in ("1", "1,2,3", "a,b", "1-5", ""):
        with pytest.raises(UsageError, match=r"^--mos-scale .*: expected LOW,HIGH, e.g. "):
            parse_scale(text)
    with pytest.raises(UsageError, match=r"^--mos-scale 5,1: LOW must be below HIGH"):
        parse_scale("5,1")
    with pytest.raises(UsageError, match=r"^--mos-scale 0,inf: both bounds must be finite"):
        parse_scale("0,inf")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"preset": "konvid1k"},
            (
                r"^unknown preset 'konvid1k' \(presets: konvid-1k, .*"
                r"did you mean 'konvid-1k'\?$"
            ),
        ),
        ({"mos_scale": (5, 1)}, r"^mos_scale: --mos-scale 5,1: LOW must be below HIGH"),
        (
            {"id_column": "mos", "mos_column": "mos"},
            r"^--id-column and --mos-column both name 'mos'; each role needs its own column$",
        ),
        (
            {"preset": "netflix-public", "id_column": "x"},
            r"^preset 'netflix-public' reads a VMAF dataset file, .*; leave out --id-column$",
        ),
        ({"id_column": ""}, r"^id_column: String should have at least 1 character"),
    ],
)
def test_options_that_make_no_sense_are_usage_errors(
    options: dict[str, Any], message: str, tmp_path: Path
) -> None:
    arguments: dict[str, Any] = {
        "preset": "konvid-1k",
        "metadata": tmp_path / "m.csv",
        "output": tmp_path / "o.csv",
    } | options
    preset, metadata, output = (arguments.pop(k) for k in ("preset", "metadata", "output"))
    with pytest.raises(UsageError, match=message):
        ingest(preset, metadata, output, **arguments)


def test_output_suffix_and_same_file_are_checked_before_reading(tmp_path: Path) -> None:
    source = write_table(tmp_path / "k.csv", fixture_rows(SHAPES["konvid-1k"], 2))
    with pytest.raises(UsageError, match=r"out\.txt: cannot write \.txt; name the output with"):
        ingest("konvid-1k", tmp_path / "missing.csv", tmp_path / "out.txt")
    with pytest.raises(UsageError, match=r"k\.csv: the output is the metadata file itself"):
        ingest("konvid-1k", source, source)


def test_every_preset_is_documented() -> None:
    corpora = (ROOT / "docs" / "corpora.md").read_text(encoding="utf-8")
    for name in PRESET_NAMES:
        assert re.search(rf"^## `{re.escape(name)}`", corpora, re.MULTILINE), name
        assert get_preset(name).name == name


# --- errors -----------------------------------------------------------------------------------


def konvid(tmp_path: Path, rows: list[dict[str, Any]], name: str = "k.csv") -> Path:
    return write_table(tmp_path / name, rows)


ROWS: list[dict[str, Any]] = [
    {"flickr_id": 11, "mos": 3.5, "width": 960},
    {"flickr_id": 12, "mos": 2.0, "width": 960},
    {"flickr_id": 13, "mos": 4.25, "width": 960},
]


def test_missing_id_column_lists_columns_and_the_flag(tmp_path: Path) -> None:
    source = konvid(tmp_path, [{"id": 1, "mos": 3.0}])
    with pytest.raises(ColumnNotFoundError) as caught:
        ingest("konvid-1k", source, tmp_path / "o.csv")
    assert caught.value.message == (
        f"{source}: id column 'flickr_id' of preset 'konvid-1k' not found (columns: id, mos); "
        "name the id column with --id-column, or check that the file is a table of that corpus"
    )
    with pytest.raises(ColumnNotFoundError) as caught:
        ingest("konvid-1k", source, tmp_path / "o.csv", id_column="clip")
    assert caught.value.message == (
        f"{source}: id column 'clip' (--id-column) not found (columns: id, mos); "
        "name one of those with --id-column"
    )


def test_missing_mos_column_names_the_accepted_names_and_the_flag(tmp_path: Path) -> None:
    source = konvid(tmp_path, [{"flickr_id": 1, "score": 3.0}])
    with pytest.raises(ColumnNotFoundError) as caught:
        ingest("konvid-1k", source, tmp_path / "o.csv")
    assert caught.value.message == (
        f"{source}: MOS column 'mos' or 'MOS' of preset 'konvid-1k' not found "
        "(columns: flickr_id, score); name the MOS column with --mos-column, "
        "or check that the file is a table of that corpus"
    )
    with pytest.raises(ColumnNotFoundError, match=r"MOS column 'x' \(--mos-column\) not found "):
        ingest("konvid-1k", source, tmp_path / "o.csv", mos_column="x")
    message = (
        r"MOS column 'Score' \(--mos-column\) not found \(did you mean 'score'\?\) "
        r"\(columns: flickr_id, score\)"
    )
    with pytest.raises(ColumnNotFoundError, match=message):
        ingest("konvid-1k", source, tmp_path / "o.csv", mos_column="Score")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "column 'mos' has 'abc', which is not a number"),
        ("", "column 'mos' is empty"),
        ("nan", "column 'mos' has 'nan', which is not a finite number"),
        ("1_000", "column 'mos' has '1_000', which is not a number"),
    ],
)
def test_a_row_without_a_numeric_mos_is_refused(value: str, reason: str, tmp_path: Path) -> None:
    rows = [dict(ROWS[0]), dict(ROWS[1], mos=value), dict(ROWS[2])]
    source = konvid(tmp_path, rows)
    with pytest.raises(MissingMosError) as caught:
        ingest("konvid-1k", source, tmp_path / "o.csv")
    assert caught.value.message == (
        f"{source} line 3: {reason}; fix the value, or pass --drop-missing-mos to drop rows "
        "without a numeric MOS (1 of 3 rows lack one)"
    )
    assert only_files(tmp_path) == ["k.csv"]


def test_missing_mos_in_jsonl_and_parquet(tmp_path: Path) -> None:
    rows = [dict(ROWS[0]), dict(ROWS[1], mos=None), dict(ROWS[2], mos="x")]
    source = konvid(tmp_path, rows, "k.jsonl")
    with pytest.raises(
        MissingMosError,
        match=r"k\.jsonl line 2: column 'mos' is empty; .*"
        r"\(2 of 3 rows lack one\)$",
    ):
        ingest("konvid-1k", source, tmp_path / "o.csv")
    source = konvid(tmp_path, [dict(ROWS[0]), dict(ROWS[1], mos=math.nan)], "k.parquet")
    with pytest.raises(
        MissingMosError,
        match=r"k\.parquet row 2: column 'mos' has 'nan', which "
        "is not a finite number",
    ):
        ingest("konvid-1k", source, tmp_path / "o.csv")


def test_drop_missing_mos_drops_counts_and_lists_rows(tmp_path: Path) -> None:
    rows = [dict(r, flickr_id=i) for i, r in enumerate(ROWS * 3)]
    rows[1]["mos"] = ""
    rows[4]["mos"] = "n/a"
    rows[8]["mos"] = "inf"
    source = konvid(tmp_path, rows)
    out = tmp_path / "o.parquet"
    report = ingest("konvid-1k", source, out, drop_missing_mos=True)
    assert report.rows == 6
    assert report.dropped == 3
    assert [d.to_dict() for d in report.dropped_rows] == [
        {"where": "line 3", "reason": "column 'mos' is empty"},
        {"where": "line 6", "reason": "column 'mos' has 'n/a', which is not a number"},
        {"where": "line 10", "reason": "column 'mos' has 'inf', which is not a finite number"},
    ]
    assert [r["clip_id"] for r in read_rows(out)] == ["0", "2", "3", "5", "6", "7"]
    assert report.to_dict()["dropped"] == 3


def test_drop_missing_mos_lists_the_first_five(tmp_path: Path) -> None:
    rows = [{"flickr_id": i, "mos": "" if i % 2 else 3.0} for i in range(20)]
    report = ingest("konvid-1k", konvid(tmp_path, rows), tmp_path / "o.csv", drop_missing_mos=True)
    assert (report.rows, report.dropped, len(report.dropped_rows)) == (10, 10, 5)


def test_drop_missing_mos_refuses_to_drop_every_row(tmp_path: Path) -> None:
    source = konvid(tmp_path, [{"flickr_id": 1, "mos": "x"}, {"flickr_id": 2, "mos": ""}])
    with pytest.raises(
        MissingMosError,
        match=r"no row has a numeric MOS in column 'mos' \(all 2 "
        "would be dropped\\); check the column",
    ):
        ingest("konvid-1k", source, tmp_path / "o.csv", drop_missing_mos=True)
    assert only_files(tmp_path) == ["k.csv"]


def test_duplicate_ids_name_the_id_and_both_rows(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS] + [dict(ROWS[1], mos=1.5), dict(ROWS[0]), dict(ROWS[0])]
    source = konvid(tmp_path, rows)
    with pytest.raises(DuplicateIdError) as caught:
        ingest("konvid-1k", source, tmp_path / "o.csv")
    assert caught.value.message == (
        f"{source}: clip id '12' (column 'flickr_id') is on two rows, line 3 and line 5 "
        "(1 more ids repeat); ids must be unique — remove the repeated row or fix its id"
    )


def test_a_dropped_row_does_not_count_as_a_duplicate(tmp_path: Path) -> None:
    rows = [dict(ROWS[0]), dict(ROWS[0], mos="")]
    report = ingest("konvid-1k", konvid(tmp_path, rows), tmp_path / "o.csv", drop_missing_mos=True)
    assert (report.rows, report.dropped) == (1, 1)


def test_an_empty_id_is_refused(tmp_path: Path) -> None:
    source = konvid(tmp_path, [dict(ROWS[0]), dict(ROWS[1], flickr_id="  ")])
    with pytest.raises(MissingIdError) as caught:
        ingest("konvid-1k", source, tmp_path / "o.csv")
    assert caught.value.message == (
        f"{source} line 3: the clip id (column 'flickr_id') is empty; every clip needs an id — "
        "fill it in or remove the row"
    )


def test_mos_outside_the_scale_is_an_error_unless_allowed(tmp_path: Path) -> None:
    rows = [dict(ROWS[0]), dict(ROWS[1], mos=64.5), dict(ROWS[2], mos=0.5)]
    source = konvid(tmp_path, rows)
    with pytest.raises(ScaleError) as caught:
        ingest("konvid-1k", source, tmp_path / "o.csv")
    assert caught.value.message == (
        f"{source} line 3: MOS 64.5 of clip '12' (column 'mos') is outside the konvid-1k scale "
        "1–5 (2 rows are); check the preset and the column, pass --mos-scale LOW,HIGH with the "
        "scale the file uses, or --allow-out-of-scale to keep such rows (their mos_01 leaves "
        "[0, 1])"
    )
    assert only_files(tmp_path) == ["k.csv"]
    out = tmp_path / "o.parquet"
    report = ingest("konvid-1k", source, out, allow_out_of_scale=True)
    assert report.out_of_scale == 2
    assert [r["mos_01"] for r in read_rows(out)] == [0.625, 15.875, -0.125]
    report = ingest("konvid-1k", source, out, mos_scale=(0, 100))
    assert report.out_of_scale == 0


def test_dmos_outside_the_scale_names_the_dmos(tmp_path: Path) -> None:
    source = write_table(tmp_path / "l.csv", [{"filename": "a.yuv", "dmos": 101.0}])
    message = (
        r"l\.csv line 2: DMOS 101\.0 of clip 'a\.yuv' \(column 'dmos'\) is outside the live-vqa "
        r"scale 0–100 \(1 rows are\)"
    )
    with pytest.raises(ScaleError, match=message):
        ingest("live-vqa", source, tmp_path / "o.csv")


def test_a_kept_column_may_not_shadow_a_canonical_one(tmp_path: Path) -> None:
    source = konvid(tmp_path, [dict(ROWS[0], Corpus="KoNViD")])
    with pytest.raises(ColumnClashError) as caught:
        ingest("konvid-1k", source, tmp_path / "o.csv")
    assert caught.value.message == (
        f"{source}: column 'Corpus' would be kept as it is, but the canonical table has a "
        "column 'corpus' (canonical: clip_id, mos, mos_std, n_ratings, corpus, mos_min, "
        "mos_max, mos_01); rename it in the source"
    )


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "sd",
            "x",
            (
                r"line 2: column 'sd' has 'x', which is not a standard deviation \(a "
                r"finite number ≥ 0\); fix the value, or name another column with "
                "--mos-std-column"
            ),
        ),
        ("sd", "-1", r"line 2: column 'sd' has '-1', which is not a standard deviation"),
        (
            "votes",
            "2.5",
            (
                r"line 2: column 'votes' has '2.5', which is not a count of ratings "
                r"\(a whole number ≥ 0\); fix the value, or name another column with "
                "--n-ratings-column"
            ),
        ),
    ],
)
def test_std_and_count_columns_are_checked(
    column: str, value: str, message: str, tmp_path: Path
) -> None:
    rows = [{"flickr_id": 1, "mos": 3.0, "sd": "0.5", "votes": "3", column: value}]
    source = konvid(tmp_path, rows)
    with pytest.raises(InputError, match=message):
        ingest(
            "konvid-1k", source, tmp_path / "o.csv", mos_std_column="sd", n_ratings_column="votes"
        )
    rows[0][column] = ""  # an empty cell is a missing value, not an error
    report = ingest(
        "konvid-1k",
        konvid(tmp_path, rows),
        tmp_path / "o.jsonl",
        mos_std_column="sd",
        n_ratings_column="votes",
    )
    assert report.rows == 1


def test_a_table_without_rows_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "k.csv"
    source.write_text("flickr_id,mos\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"k\.csv: the table has no rows$"):
        ingest("konvid-1k", source, tmp_path / "o.csv")


def test_every_ingest_error_is_an_input_error() -> None:
    classes = [v for v in vars(ingest_errors).values() if isinstance(v, type)]
    errors = [
        c for c in classes if issubclass(c, Exception) and c.__module__ == ingest_errors.__name__
    ]
    assert len(errors) > 5
    for value in errors:
        assert issubclass(value, IngestError), value.__name__
        assert issubclass(value, InputError), value.__name__
        assert value.exit_code == 2, value.__name__


# --- atomic output ----------------------------------------------------------------------------


def test_nothing_is_written_on_error_and_an_old_output_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text("old\n", encoding="utf-8")
    source = konvid(tmp_path, [dict(ROWS[0]), dict(ROWS[0])])
    with pytest.raises(DuplicateIdError):
        ingest("konvid-1k", source, out)
    assert out.read_text(encoding="utf-8") == "old\n"
    assert only_files(tmp_path) == ["k.csv", "o.jsonl"]
    with pytest.raises(UsageError, match="does not exist; create it first"):
        ingest("konvid-1k", konvid(tmp_path, ROWS), tmp_path / "no" / "o.jsonl")
    assert only_files(tmp_path) == ["k.csv", "o.jsonl"]


# --- mos_01 -----------------------------------------------------------------------------------

scales = st.tuples(
    st.floats(-1e3, 1e3, allow_nan=False), st.floats(1e-3, 1e3, allow_nan=False)
).map(lambda t: (t[0], t[0] + t[1]))


@settings(max_examples=25, deadline=None)
@given(
    scale=scales,
    fractions=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=8),
    dmos=st.booleans(),
)
def test_mos_01_is_the_linear_map_of_the_scale(
    tmp_path_factory: pytest.TempPathFactory,
    scale: tuple[float, float],
    fractions: list[float],
    dmos: bool,
) -> None:
    low, high = scale
    scores = [min(max(low + f * (high - low), low), high) for f in fractions]
    folder = tmp_path_factory.mktemp("prop")
    rows = [{"filename": f"v{i}", "dmos": s} for i, s in enumerate(scores)]
    source = write_table(folder / "t.jsonl", rows)
    out = folder / "o.parquet"
    preset = "live-vqa" if dmos else "generic"
    options: dict[str, Any] = {"mos_scale": (low, high)}
    if not dmos:
        options |= {"id_column": "filename", "mos_column": "dmos"}
    ingest(preset, source, out, **options)
    written = read_rows(out)
    for score, row in zip(scores, written, strict=True):
        mos = (low + high) - score if dmos else score
        assert row["mos"] == mos
        assert row["mos_01"] == (mos - low) / (high - low)
        assert (row["mos_min"], row["mos_max"]) == (low, high)


# --- real data --------------------------------------------------------------------------------


@needs_real_data
def test_the_real_konvid_1k_metadata(tmp_path: Path) -> None:
    with KONVID_REAL.open(encoding="utf-8", newline="") as handle:
        source = list(csv.DictReader(handle))
    out = tmp_path / "konvid-1k.parquet"
    report = ingest("konvid-1k", KONVID_REAL, out)
    written = read_rows(out)
    assert report.rows == len(source) == 1200
    assert report.dropped == 0
    assert report.columns == (
        "clip_id",
        "mos",
        "corpus",
        "mos_min",
        "mos_max",
        "mos_01",
        "width",
        "height",
        "pixfmt",
        "framerate",
        "nb_frames",
        "bitdepth",
        "bitrate",
    )
    assert [r["clip_id"] for r in written] == [r["flickr_id"] for r in source]
    for row, out_row in zip(source, written, strict=True):
        assert out_row["mos"] == float(row["mos"])
        assert out_row["mos_01"] == (float(row["mos"]) - 1.0) / 4.0
        assert out_row["bitrate"] == int(row["bitrate"])
    mos = [r["mos"] for r in written]
    assert (min(mos), max(mos)) == (1.22, 4.64)


def test_ingest_errors_are_caught_by_their_kind(tmp_path: Path) -> None:
    """Each ingest error is also one of the package's kinds: a duplicate clip id is a
    KeyProblemError, a missing column a ColumnNotFoundError, a bad MOS a SchemaError."""
    rows = [dict(r) for r in ROWS] + [dict(ROWS[0])]
    source = konvid(tmp_path, rows)
    with pytest.raises(
        errors.KeyProblemError, match=r"clip id '11' \(column 'flickr_id'\) is on two rows, line 2"
    ):
        ingest("konvid-1k", source, tmp_path / "o.csv")
    with pytest.raises(
        errors.ColumnNotFoundError, match=r"MOS column 'x' \(--mos-column\) not found "
    ):
        ingest("konvid-1k", source, tmp_path / "o.csv", mos_column="x")
    out_of_scale = konvid(tmp_path, [dict(ROWS[0]), dict(ROWS[1], mos=64.5)], name="s.csv")
    with pytest.raises(
        errors.SchemaError, match=r"MOS 64\.5 of clip '12' .* is outside the konvid"
    ):
        ingest("konvid-1k", out_of_scale, tmp_path / "o.csv")
