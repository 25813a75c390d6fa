"""Reading and writing tables (second_opinion.tables): formats, types, error messages, atomicity."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from second_opinion.errors import InputError, UsageError
from second_opinion.tables.diagnosis import explain_scan_error, locate_bad_key, why_not_numbers
from second_opinion.tables.files import TableFile
from second_opinion.tables.formats import (
    SUPPORTED_SUFFIXES,
    is_numeric_type,
    quote_ident,
    quote_literal,
    table_format,
    table_stem,
)
from second_opinion.tables.reading import HEADER_LIMIT, _csv_header, open_table, scan_sql
from second_opinion.tables.writing import copy_options, finite_for_json, output_format, write_query
from tests._tables import write_table


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def scan(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    text: Sequence[str] = (),
    numbers: Sequence[str] = (),
    others: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Open and scan ``path`` the way the joiner does, explaining a failed scan."""
    table = open_table(con, path)
    query = scan_sql(table, text=text, numbers=numbers, others=others)
    try:
        return [tuple(row) for row in con.execute(query).fetchall()]
    except duckdb.Error as exc:
        raise explain_scan_error(table, exc, numbers=numbers) from None


def scan_types(
    con: duckdb.DuckDBPyConnection, path: Path, *, text: Sequence[str], numbers: Sequence[str]
) -> dict[str, str]:
    table = open_table(con, path)
    query = scan_sql(table, text=text, numbers=numbers)
    return {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {query}").fetchall()}


def at(path: Path) -> str:
    """``path`` as the start of a message pattern."""
    return re.escape(str(path))


# --- formats from suffixes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("t.jsonl", ("jsonl", False)),
        ("t.ndjson", ("jsonl", False)),
        ("t.jsonl.gz", ("jsonl", True)),
        ("t.ndjson.gz", ("jsonl", True)),
        ("t.csv", ("csv", False)),
        ("t.csv.gz", ("csv", True)),
        ("t.tsv", ("tsv", False)),
        ("t.tsv.gz", ("tsv", True)),
        ("t.parquet", ("parquet", False)),
        ("T.CSV.GZ", ("csv", True)),
        ("konvid.v2.csv", ("csv", False)),
        ("dir.parquet/t.jsonl", ("jsonl", False)),
        ("t.json", ("json", False)),
        ("t.PQ", ("parquet", False)),
    ],
)
def test_table_format_comes_from_the_suffix(name: str, expected: tuple[str, bool]) -> None:
    assert table_format(Path(name)) == expected


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("scores.xlsx", "'.xlsx'"),
        ("scores", "'(no suffix)'"),
        ("scores.parquet.gz", "'.parquet.gz'"),
        ("scores.gz", "'.gz'"),
        ("scores.pq.gz", "'.pq.gz'"),
    ],
)
def test_unsupported_suffix_is_named_and_the_supported_ones_listed(name: str, shown: str) -> None:
    with pytest.raises(
        InputError,
        match=rf"^{re.escape(name)}: unsupported file type {re.escape(shown)}; "
        rf"use {re.escape(SUPPORTED_SUFFIXES)}$",
    ):
        table_format(Path(name))


def test_supported_suffixes_message_names_every_format() -> None:
    for suffix in (".jsonl", ".ndjson", ".csv", ".tsv", ".gz", ".parquet"):
        assert suffix in SUPPORTED_SUFFIXES


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("out.jsonl", ("jsonl", False)),
        ("out.ndjson", ("jsonl", False)),
        ("out.jsonl.gz", ("jsonl", True)),
        ("out.csv", ("csv", False)),
        ("out.csv.gz", ("csv", True)),
        ("out.tsv", ("tsv", False)),
        ("out.parquet", ("parquet", False)),
    ],
)
def test_output_format_comes_from_the_suffix(name: str, expected: tuple[str, bool]) -> None:
    assert output_format(Path(name)) == expected


@pytest.mark.parametrize(
    ("name", "shown"),
    [("out.xlsx", ".xlsx"), ("out", "a file with no suffix"), ("out.parquet.gz", ".parquet.gz")],
)
def test_unwritable_output_suffix_is_a_usage_error_listing_the_formats(
    name: str, shown: str
) -> None:
    with pytest.raises(
        UsageError,
        match=rf"^{re.escape(name)}: cannot write {re.escape(shown)}; "
        rf"name the output with one of {re.escape(SUPPORTED_SUFFIXES)}$",
    ):
        output_format(Path(name))


# --- small helpers --------------------------------------------------------------------------


def test_identifiers_and_literals_are_quoted_for_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    assert quote_ident('we"ird') == '"we""ird"'
    assert quote_literal("it's") == "'it''s'"
    literal, ident = quote_literal("it's"), quote_ident('we"ird')
    assert con.execute(f"SELECT {literal} AS {ident}").fetchall() == [("it's",)]
    assert con.execute(f"SELECT {ident} FROM (SELECT 2 AS {ident})").fetchall() == [(2,)]


@pytest.mark.parametrize(
    ("duck_type", "numeric"),
    [
        ("BIGINT", True),
        ("double", True),
        ("FLOAT", True),
        ("UBIGINT", True),
        ("DECIMAL(18,3)", True),
        ("VARCHAR", False),
        ("JSON", False),
        ("BOOLEAN", False),
        ("DATE", False),
    ],
)
def test_is_numeric_type(duck_type: str, numeric: bool) -> None:
    assert is_numeric_type(duck_type) is numeric


def test_table_file_names_real_lines_and_rows_the_way_messages_do(tmp_path: Path) -> None:
    def table(path: Path, fmt: Any) -> TableFile:
        return TableFile(path, fmt, compressed=False, columns=("k",), types=("VARCHAR",))

    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"k": "a"}\n\n{"k": "b"}\n', encoding="utf-8")
    assert table(jsonl, "jsonl").location(0) == "line 1"
    assert table(jsonl, "jsonl").location(1) == "line 3"  # the blank line counts
    csv_file = tmp_path / "t.csv"
    csv_file.write_text('k,note\na,"two\nlines"\nb,x\n', encoding="utf-8")
    assert table(csv_file, "csv").location(0) == "line 2"  # the header is line 1
    assert table(csv_file, "csv").location(1) == "line 4"  # the quoted newline counts
    tsv = tmp_path / "t.tsv"
    tsv.write_text("k\n" + "".join(f"{i}\n" for i in range(5)), encoding="utf-8")
    assert table(tsv, "tsv").location(4) == "line 6"
    assert table(tmp_path / "t.parquet", "parquet").location(0) == "row 1"


def test_require_names_the_missing_column_and_lists_the_existing_ones(tmp_path: Path) -> None:
    table = TableFile(
        tmp_path / "s.csv",
        "csv",
        compressed=False,
        columns=("video", "s"),
        types=("VARCHAR", "DOUBLE"),
    )
    table.require(["video"], "key column", "fix it")
    with pytest.raises(
        InputError,
        match=rf"^{at(tmp_path / 's.csv')}: key column 'clip_id' not found "
        r"\(columns: video, s\); map it$",
    ):
        table.require(["video", "clip_id"], "key column", "map it")


# --- reading: every format ------------------------------------------------------------------

ROWS: list[dict[str, Any]] = [
    {"clip_id": "a", "score": 1.5, "note": "x"},
    {"clip_id": "b", "score": 2.0, "note": "y"},
    {"clip_id": "c", "score": None, "note": "z"},
]


@pytest.mark.parametrize(
    "name",
    [
        "t.jsonl",
        "t.ndjson",
        "t.jsonl.gz",
        "t.csv",
        "t.csv.gz",
        "t.tsv",
        "t.tsv.gz",
        "t.parquet",
    ],
)
def test_every_format_reads_keys_as_text_and_scores_as_float64_in_file_order(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    path = write_table(tmp_path / name, ROWS)
    table = open_table(con, path)
    assert table.columns == ("clip_id", "score", "note")
    assert table.name == name
    assert scan(con, path, text=["clip_id"], numbers=["score"]) == [
        ("a", 1.5),
        ("b", 2.0),
        ("c", None),
    ]
    assert scan_types(con, path, text=["clip_id"], numbers=["score"]) == {
        "clip_id": "VARCHAR",
        "score": "DOUBLE",
    }


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".tsv.gz"])
@pytest.mark.parametrize("stem", ["x[1]", "y*", "z?", "[ab]*?"])
def test_a_file_name_with_glob_characters_reads_that_file_only(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, stem: str, suffix: str
) -> None:
    # Files the name would match as a glob pattern, which DuckDB would otherwise read instead.
    for decoy in ("x1", "yy", "zz", "a", "ab", "b1"):
        write_table(tmp_path / f"{decoy}{suffix}", [{"clip_id": decoy, "score": 9.0}])
    path = write_table(tmp_path / f"{stem}{suffix}", ROWS)
    assert scan(con, path, text=["clip_id"], numbers=["score"]) == [
        ("a", 1.5),
        ("b", 2.0),
        ("c", None),
    ]


def test_scan_keeps_other_columns_renames_aliases_and_follows_file_column_order(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    row: dict[str, Any] = {"note": "x", "score": 1, "clip_id": "7", "n": 3}
    path = write_table(tmp_path / "t.csv", [row])
    table = open_table(con, path)
    query = scan_sql(
        table, text=["clip_id"], numbers=["score"], others=["n"], aliases={"clip_id": "k0"}
    )
    described = [(str(r[0]), str(r[1])) for r in con.execute(f"DESCRIBE {query}").fetchall()]
    assert described == [("score", "DOUBLE"), ("k0", "VARCHAR"), ("n", "BIGINT")]
    assert con.execute(query).fetchall() == [(1.0, "7", 3)]


def test_json_number_key_and_json_string_key_read_as_the_same_text(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    as_number = write_table(tmp_path / "n.jsonl", [{"flickr_id": 3339962845, "s": 1.0}])
    as_string = write_table(tmp_path / "s.jsonl", [{"flickr_id": "3339962845", "s": 1.0}])
    keys = [scan(con, p, text=["flickr_id"])[0][0] for p in (as_number, as_string)]
    assert keys == ["3339962845", "3339962845"]


def test_csv_keys_keep_leading_zeros(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("clip_id,s\n007,1\n010,2\n", encoding="utf-8")
    assert scan(con, path, text=["clip_id"], numbers=["s"]) == [("007", 1.0), ("010", 2.0)]


def test_tsv_gz_keys_keep_leading_zeros(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "t.tsv.gz"
    path.write_bytes(gzip.compress(b"clip_id\ts\n007\t1.5\n"))
    assert scan(con, path, text=["clip_id"], numbers=["s"]) == [("007", 1.5)]


def test_parquet_float_keys_holding_integers_lose_their_point_zero(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_table(
        tmp_path / "t.parquet",
        [{"clip_id": 3.0, "s": 1.0}, {"clip_id": 2.5, "s": 2.0}, {"clip_id": None, "s": 3.0}],
    )
    assert [r[0] for r in scan(con, path, text=["clip_id"], numbers=["s"])] == ["3", "2.5", None]


def test_parquet_integer_keys_read_as_text(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.parquet", [{"clip_id": 3339962845, "s": 1.0}])
    assert scan(con, path, text=["clip_id"], numbers=["s"]) == [("3339962845", 1.0)]


def test_numeric_strings_in_score_columns_are_coerced_in_every_text_format(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"k": "a", "s": 1.5}\n{"k": "b", "s": "2.5"}\n{"k": "c", "s": "3"}\n')
    csv_path = tmp_path / "t.csv"
    csv_path.write_text('k,s\na,1.5\nb,"2.5"\nc, 3 \n', encoding="utf-8")
    parquet = write_table(tmp_path / "t.parquet", [{"k": "a", "s": "1.5"}, {"k": "b", "s": "2.5"}])
    assert scan(con, jsonl, text=["k"], numbers=["s"]) == [("a", 1.5), ("b", 2.5), ("c", 3.0)]
    assert scan(con, csv_path, text=["k"], numbers=["s"]) == [("a", 1.5), ("b", 2.5), ("c", 3.0)]
    assert scan(con, parquet, text=["k"], numbers=["s"]) == [("a", 1.5), ("b", 2.5)]
    assert scan_types(con, jsonl, text=["k"], numbers=["s"])["s"] == "DOUBLE"


def test_nan_and_infinities_parse_in_csv(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("k,s\na,NaN\nb,inf\nc,-inf\nd,\ne,1e3\n", encoding="utf-8")
    values = [r[1] for r in scan(con, path, text=["k"], numbers=["s"])]
    assert math.isnan(values[0])
    assert values[1:3] == [math.inf, -math.inf]
    assert values[3] is None  # an empty cell is null
    assert values[4] == 1000.0


def test_nan_and_infinities_parse_in_jsonl(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"k": "a", "s": NaN}\n{"k": "b", "s": "inf"}\n{"k": "c", "s": "-Infinity"}\n')
    values = [r[1] for r in scan(con, path, text=["k"], numbers=["s"])]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf]


def test_nan_and_infinities_survive_in_parquet(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_table(
        tmp_path / "t.parquet", [{"k": "a", "s": math.nan}, {"k": "b", "s": -math.inf}]
    )
    values = [r[1] for r in scan(con, path, text=["k"], numbers=["s"])]
    assert math.isnan(values[0])
    assert values[1] == -math.inf


def test_blank_jsonl_lines_are_skipped(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('\n{"k": "a", "s": 1}\n\n   \n{"k": "b", "s": 2}\n\n', encoding="utf-8")
    assert scan(con, path, text=["k"], numbers=["s"]) == [("a", 1.0), ("b", 2.0)]


def test_header_only_csv_opens_and_scans_to_no_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("k,s\n", encoding="utf-8")
    assert open_table(con, path).columns == ("k", "s")
    assert scan(con, path, text=["k"], numbers=["s"]) == []


# --- reading: malformed input ---------------------------------------------------------------


def test_malformed_jsonl_line_names_the_real_line_counting_blank_lines(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"k": "a", "s": 1}\n\n{"k": "b", "s": \n', encoding="utf-8")
    with pytest.raises(
        InputError, match=rf"^{at(path)} line 3: invalid JSON \(Expecting value, column \d+\)$"
    ):
        scan(con, path, text=["k"], numbers=["s"])


def test_malformed_first_jsonl_line_is_caught_when_opening(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('\n\n{"k": "a", "s": 1 "t": 2}\n', encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{at(path)} line 3: invalid JSON \(.*, column 19\)$"):
        open_table(con, path)


def test_malformed_jsonl_line_beyond_duckdbs_sample_names_the_real_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    lines = [json.dumps({"k": str(i), "s": i}) for i in range(25_000)]
    path = tmp_path / "t.jsonl"
    path.write_text(
        "\n".join(lines[:10]) + "\n\n" + "\n".join(lines[10:]) + '\n{"k": "x", "s": 1\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=rf"^{at(path)} line 25002: invalid JSON \("):
        scan(con, path, text=["k"], numbers=["s"])


def test_malformed_jsonl_gz_line_names_the_real_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"k": "a", "s": 1}\n{"k": "b" "s": 2}\n'))
    with pytest.raises(InputError, match=rf"^{at(path)} line 2: invalid JSON \(Expecting ','"):
        scan(con, path, text=["k"], numbers=["s"])


@pytest.mark.parametrize(("line", "kind"), [("[1, 2]", "list"), ("42", "int"), ('"a"', "str")])
def test_first_jsonl_line_that_is_not_an_object_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, line: str, kind: str
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(f"\n{line}\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=rf"^{at(path)} line 2: expected a JSON object per line, got {kind}$"
    ):
        open_table(con, path)


def test_later_jsonl_line_that_is_not_an_object_is_refused_when_opening(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # Within DuckDB's sample the file is sniffed as one column named 'json'; opening it must not
    # succeed (a join would then report "key column 'k' not found (columns: json)").
    path = tmp_path / "t.jsonl"
    path.write_text('{"k": "a", "s": 1}\n"b"\n', encoding="utf-8")
    with pytest.raises(
        InputError, match=rf"^{at(path)} line 2: expected a JSON object per line, got str$"
    ):
        open_table(con, path)


def test_later_jsonl_line_that_is_not_an_object_is_refused_when_scanning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    lines = [json.dumps({"k": str(i), "s": i}) for i in range(25_000)]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n\n[1, 2]\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=rf"^{at(path)} line 25002: expected a JSON object per line, got list$"
    ):
        scan(con, path, text=["k"], numbers=["s"])


@pytest.mark.parametrize("name", ["t.jsonl", "t.csv", "t.tsv", "t.parquet", "t.csv.gz"])
def test_a_zero_byte_file_is_empty(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(InputError, match=rf"^{at(path)}: file is empty \(0 bytes\)$"):
        open_table(con, path)


@pytest.mark.parametrize(
    ("name", "content"),
    [("t.jsonl", b"\n\n   \n"), ("t.jsonl.gz", gzip.compress(b"\n\n", mtime=0))],
)
def test_jsonl_with_only_blank_lines_is_empty(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(
        InputError,
        match=rf"^{at(path)}: file is empty \(no JSON objects\); write one JSON object per line$",
    ):
        open_table(con, path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("t.csv", b"\n\n"),
        ("t.csv", b",,\n1,2,3\n"),
        ("t.tsv", b"\n"),
        ("t.csv.gz", gzip.compress(b"", mtime=0)),
    ],
)
def test_csv_without_a_header_row_is_empty(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(
        InputError,
        match=rf"^{at(path)}: file is empty \(no header row\); "
        "the first line must name the columns$",
    ):
        open_table(con, path)


def test_non_numeric_score_in_jsonl_names_file_line_column_and_value(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "scores.jsonl"
    path.write_text('{"k": "a", "s": 1}\n\n{"k": "b", "s": "high"}\n', encoding="utf-8")
    with pytest.raises(
        InputError,
        match=rf"^{at(path)} line 3: column 's' has 'high', which is not a number; "
        r"fix the value, or leave the column out",
    ):
        scan(con, path, text=["k"], numbers=["s"])


def test_non_numeric_jsonl_value_that_is_not_a_string_is_shown_as_json(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "scores.jsonl"
    path.write_text('{"k": "a", "s": 1}\n{"k": "b", "s": [1, 2]}\n', encoding="utf-8")
    with pytest.raises(
        InputError, match=rf"^{at(path)} line 2: column 's' has \[1, 2\], which is not a number"
    ):
        scan(con, path, text=["k"], numbers=["s"])


def test_non_numeric_score_beyond_duckdbs_sample_names_the_real_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    lines = [json.dumps({"k": str(i), "s": i}) for i in range(25_000)]
    path = tmp_path / "scores.jsonl"
    path.write_text("\n".join(lines) + '\n{"k": "x", "s": "oops"}\n', encoding="utf-8")
    with pytest.raises(
        InputError, match=rf"^{at(path)} line 25001: column 's' has 'oops', which is not a number"
    ):
        scan(con, path, text=["k"], numbers=["s"])


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        ("scores.csv", "k,s\na,1\nb,abc\n", 3),
        ("scores.csv", "k,s\na,1\n\nb,abc\n", 4),
        ("scores.tsv", "k\ts\na\t1\nb\t2\nc\tx y\n", 4),
    ],
)
def test_non_numeric_score_in_csv_names_the_line_with_the_header_as_line_1(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, content: str, line: int
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    value = "x y" if name.endswith(".tsv") else "abc"
    with pytest.raises(
        InputError,
        match=rf"^{at(path)} line {line}: column 's' has '{value}', which is not a number",
    ):
        scan(con, path, text=["k"], numbers=["s"])


def test_non_numeric_score_in_csv_gz_names_the_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "scores.csv.gz"
    path.write_bytes(gzip.compress(b"k,s\na,1\nb,n/a\n"))
    with pytest.raises(
        InputError, match=rf"^{at(path)} line 3: column 's' has 'n/a', which is not a number"
    ):
        scan(con, path, text=["k"], numbers=["s"])


def test_non_numeric_score_line_counts_file_lines_not_csv_records(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # A quoted cell holding a newline spans two lines; the bad value is on line 4 of the file.
    path = tmp_path / "scores.csv"
    path.write_text('k,note,s\na,"two\nlines",1\nb,x,abc\n', encoding="utf-8")
    with pytest.raises(
        InputError, match=rf"^{at(path)} line 4: column 's' has 'abc', which is not a number"
    ):
        scan(con, path, text=["k"], numbers=["s"])


def test_non_numeric_score_in_parquet_names_the_row(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write_table(
        tmp_path / "scores.parquet",
        [{"k": "a", "s": "1.5"}, {"k": "b", "s": None}, {"k": "c", "s": "high"}],
    )
    with pytest.raises(
        InputError,
        match=rf"^{at(path)} row 3: column 's' has 'high', which is not a number; "
        r"fix the value, or leave the column out",
    ):
        scan(con, path, text=["k"], numbers=["s"])


def test_scan_error_without_a_bad_value_says_the_file_cannot_be_read(tmp_path: Path) -> None:
    path = write_table(tmp_path / "t.csv", [{"k": "a", "s": 1.0}])
    table = TableFile(
        path, "csv", compressed=False, columns=("k", "s"), types=("VARCHAR", "DOUBLE")
    )
    error = explain_scan_error(
        table, duckdb.Error("Something broke\nLINE 1: details"), numbers=["s"]
    )
    assert isinstance(error, InputError)
    assert error.message == f"{path}: cannot read as csv (Something broke)"


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.csv.gz"])
def test_duplicate_column_names_in_csv_are_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    sep = "\t" if ".tsv" in name else ","
    content = sep.join(["k", "s", "s"]) + "\n" + sep.join(["a", "1", "2"]) + "\n"
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(content.encode()))
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(
        InputError,
        match=rf"^{at(path)}: duplicate column name 's' \(columns: k, s, s\); "
        "give each column a unique name$",
    ):
        open_table(con, path)


def test_csv_column_names_differing_only_in_case_are_refused_not_renamed(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # DuckDB's names are case-insensitive: it would silently rename the second column to 'k_1'.
    path = tmp_path / "t.csv"
    path.write_text("K,k,s\na,b,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{at(path)}: duplicate column name .*K, k, s"):
        open_table(con, path)


def test_duplicate_column_names_in_parquet_are_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.parquet"
    table = pa.Table.from_arrays(
        [pa.array(["a"]), pa.array([1.0]), pa.array([2.0])], ["k", "s", "s"]
    )
    pq.write_table(table, path)
    assert pq.read_schema(path).names == ["k", "s", "s"]
    with pytest.raises(
        InputError,
        match=rf"^{at(path)}: duplicate column name 's' \(columns: k, s, s\); "
        "give each column a unique name$",
    ):
        open_table(con, path)


def test_a_missing_file_is_named(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputError, match=rf"^{at(path)}: no such file$"):
        open_table(con, path)


def test_a_directory_is_not_a_table(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    path.mkdir()
    with pytest.raises(InputError, match=rf"^{at(path)}: is a directory, not a file$"):
        open_table(con, path)


def test_unsupported_suffix_is_refused_before_the_file_is_looked_at(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "scores.xlsx"
    with pytest.raises(InputError, match=rf"^{at(path)}: unsupported file type '.xlsx'; use "):
        open_table(con, path)


def test_a_file_that_is_not_parquet_is_named(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"clip_id,s\na,1\n")
    with pytest.raises(InputError, match=rf"^{at(path)}: not a readable parquet file \("):
        open_table(con, path)


@pytest.mark.parametrize("name", ["t.jsonl.gz", "t.csv.gz"])
def test_a_gz_file_that_is_not_gzip_cannot_be_read(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b'{"k": "a"}\n')
    with pytest.raises(InputError, match=rf"^{at(path)}: cannot read \(Not a gzipped file"):
        open_table(con, path)


def test_a_csv_that_is_not_utf8_is_named(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("clé,s\na,1\n".encode("latin-1"))
    with pytest.raises(
        InputError,
        match=rf"^{at(path)} line 1: not UTF-8 text: byte 0xe9 at column 3 \('cl\\xe9,s'; "
        r"in Latin-1 that byte is 'é'\); save the file as UTF-8$",
    ):
        open_table(con, path)


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl", "t.csv.gz"])
def test_a_bad_byte_past_the_first_chunk_names_its_line_and_column(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    # 2 MiB of good lines first: the byte is found by streaming, and its line counted exactly.
    line = '{"k": "a", "s": 1}\n' if ".jsonl" in name else "a,1\n"
    good = line * ((2 << 20) // len(line))
    head = "" if ".jsonl" in name else "k,s\n"
    bad = ('{"k": "b\xe9", "s": 2}\n' if ".jsonl" in name else "b\xe9,2\n").encode("latin-1")
    content = head.encode() + good.encode() + bad
    path = tmp_path / name
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    number = content.count(b"\n")
    column = 9 if ".jsonl" in name else 2
    with pytest.raises(
        InputError,
        match=rf"^{at(path)} line {number}: not UTF-8 text: byte 0xe9 at column {column} ",
    ):
        scan(con, path, text=["k"], numbers=["s"])


@pytest.mark.parametrize(
    ("encoding", "bom", "shown"),
    [
        ("utf-16-le", b"\xff\xfe", "little-endian UTF-16"),
        ("utf-16-be", b"\xfe\xff", "big-endian UTF-16"),
        ("utf-32-le", b"\xff\xfe\x00\x00", "little-endian UTF-32"),
        ("utf-32-be", b"\x00\x00\xfe\xff", "big-endian UTF-32"),
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_utf16_or_utf32_byte_order_mark_names_the_encoding(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    encoding: str,
    bom: bytes,
    shown: str,
    suffix: str,
) -> None:
    path = tmp_path / f"t{suffix}"
    text = "k,s\na,1\n" if suffix == ".csv" else '{"k": "a", "s": 1}\n'
    path.write_bytes(bom + text.encode(encoding))
    kind = shown.split()[1]
    with pytest.raises(
        InputError,
        match=rf"^{at(path)}: the file is {kind} text \(it starts with a {shown} byte order "
        r"mark\), not UTF-8; save it as UTF-8$",
    ):
        open_table(con, path)


def test_binary_content_is_called_binary(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(InputError, match=r"it looks like a binary file, not a CSV table"):
        open_table(con, path)


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl"])
def test_a_utf8_byte_order_mark_is_skipped(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    text = "k,s\n1,a\nx,b\n" if name == "t.csv" else '{"k": 1, "s": "a"}\n{"k": "x", "s": "b"}\n'
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    table = open_table(con, path)
    assert table.columns[0] == "k"
    line = 3 if name == "t.csv" else 2
    # The re-read on the error path skips the mark too, so the first column is found.
    with pytest.raises(InputError, match=rf"line {line}: column 'k' has"):
        scan(con, path, text=["s"], numbers=["k"])


# --- malformed JSON lines -----------------------------------------------------------------------


def test_a_trailing_comma_in_a_jsonl_line_is_allowed_as_duckdb_allows_it(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"k": "a", "s": 1,}\n{"k": "b", "s": 2 , }\n{"k": "c", "s": "x",}\n', encoding="utf-8"
    )
    assert open_table(con, path).columns == ("k", "s")
    # The lines re-read in Python on the error path allow it too: the bad value is found.
    with pytest.raises(InputError, match=rf"^{at(path)} line 3: column 's' has 'x'"):
        scan(con, path, text=["k"], numbers=["s"])


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"k": "a", "s": 1,,}', r"Expecting property name enclosed in double quotes, column 19"),
        ('{"k": [1,,2], "s": 1}', r"Expecting value, column 10"),
        ("{,}", r"Expecting property name enclosed in double quotes, column 2"),
    ],
)
def test_commas_that_are_not_trailing_are_still_invalid(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, line: str, reason: str
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{at(path)} line 1: invalid JSON \({reason}\)$"):
        open_table(con, path)


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x00", "a NUL byte inside a string, column 9; {rule}: remove it"),
        ("\t", "a tab inside a string, column 9; {rule}: write it as \\t"),
        ("\x1f", "control character U+001F inside a string, column 9; {rule}: remove it"),
    ],
)
def test_a_raw_control_character_is_named(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, char: str, shown: str
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(f'{{"k": "a{char}", "s": 1}}\n', encoding="utf-8")
    reason = shown.format(rule="JSON allows no raw control characters in strings")
    with pytest.raises(InputError) as caught:
        open_table(con, path)
    assert caught.value.message == f"{path} line 1: invalid JSON ({reason})"


def test_deeply_nested_json_is_an_error_not_a_crash(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"k": "a", "s": 1}\n{"k": "b", "s": ' + "[" * 100_000 + "}\n")
    with pytest.raises(InputError, match=rf"^{at(path)} line 2: invalid JSON \(nested too deeply"):
        scan(con, path, text=["k"], numbers=["s"])


# --- the CSV header row and the CSV structure ---------------------------------------------------


def test_a_header_longer_than_the_limit_is_refused_unread(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a" * (HEADER_LIMIT + 10), encoding="utf-8")
    with pytest.raises(
        InputError,
        match=rf"^{at(path)}: the header row is longer than 1 MiB \(1,048,576 characters\); is "
        r"it a CSV file\? save it with a line break after the header row$",
    ):
        open_table(con, path)


def test_a_header_just_under_the_limit_is_read(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    names = [f"c{i:06d}" for i in range(HEADER_LIMIT // 8 - 1)]  # 8 characters each with ','
    header = ",".join(names) + "\n"
    assert len(header) < HEADER_LIMIT
    path = tmp_path / "t.csv"
    path.write_text(header + "a" * (2 * HEADER_LIMIT) + "\n", encoding="utf-8")
    assert _csv_header(path, False, ",") == names


def test_a_header_cell_over_the_csv_field_limit_is_named(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("k," + "a" * (csv.field_size_limit() + 1) + "\n1,2\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"a column name in the header row is longer than 131,072 characters"
    ):
        open_table(con, path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "k,s\na,1\nb,2,3\n",
            (
                r"line 3: expected 2 fields \(as in the header row\), found 3 "
                r"\(\['b', '2', '3'\]\); quote a value that holds a comma, "
                r"or remove the extra fields$"
            ),
        ),
        (
            "k,s\na,1\nb\n",
            (
                r"line 3: expected 2 fields \(as in the header row\), found 1 "
                r"\(\['b'\]\); add the missing fields \(an empty field is a missing value\)$"
            ),
        ),
        ('k,s\na,1\n"b,2\nc,3\n', r"line 3: a quote opened on this line is never closed"),
        ('k,s\na,1\n"b"x,2\n', r"line 3: text follows the closing quote of a quoted field"),
    ],
)
def test_a_broken_csv_row_is_named_with_its_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{at(path)} {message}"):
        scan(con, path, text=["k"], numbers=["s"])


def test_a_broken_csv_row_past_duckdbs_sample_is_named(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # DuckDB counts this one itself ("CSV Error on Line"); the message is ours all the same.
    path = tmp_path / "t.tsv"
    rows = "".join(f"a{i}\t{i}\n" for i in range(30_000))
    path.write_text(f"k\ts\n{rows}b\t1\t2\n", encoding="utf-8")
    with pytest.raises(
        InputError,
        match=rf"^{at(path)} line 30002: expected 2 fields .* quote a value that holds a tab",
    ):
        scan(con, path, text=["k"], numbers=["s"])


# --- column names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "t.csv",
            b"k,   \na,1\n",
            r"column 2 has a blank name \('   '\); give every column a name$",
        ),
        (
            "t.csv",
            b",k,s\n0,a,1\n",
            (
                r"column 1 has a blank name \(''\); give every column a "
                r"name \(pandas' to_csv writes its index as an unnamed first column: "
                r"write the table with index=False\)$"
            ),
        ),
        ("t.tsv", b"k\t\t\ta\t1\t2\n", r"column 2 has a blank name \(''\)"),
        ("t.jsonl", b'{"k": "a", " \\t": 1}\n', r"column 2 has a blank name \(' \\t'\)"),
    ],
)
def test_blank_column_names_are_refused_with_their_position(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=rf"^{at(path)}: {message}"):
        open_table(con, path)


def test_a_blank_parquet_column_name_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"k": ["a"], " ": [1.0]}), path)
    with pytest.raises(InputError, match=rf"^{at(path)}: column 2 has a blank name \(' '\)"):
        open_table(con, path)


# --- why a column is not numbers, where a bad key is ------------------------------------------


def test_why_not_numbers_names_the_first_value_that_made_a_column_text(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    rows = [
        {"k": "a", "s": "1.5", "t": "x", "u": None, "b": True},
        {"k": "b", "s": "2", "t": 3, "u": None, "b": False},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    table = open_table(con, path)
    assert why_not_numbers(table, ["s", "t", "u", "b"]) == [
        (
            "column 's' holds numbers as JSON strings (line 1 has '1.5'), which are read as "
            "numbers only when the column is named"
        ),
        "column 't' is text (line 1 has 'x', which is not a number)",
        "column 'u' has no values in its first rows",
        "column 'b' is text (line 1 has true, which is not a number)",
    ]


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_why_not_numbers_of_a_table_without_rows_is_none(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    if name == "t.csv":
        path.write_text("k,s\n", encoding="utf-8")
    else:
        pq.write_table(
            pa.table({"k": pa.array([], pa.string()), "s": pa.array([], pa.string())}), path
        )
    assert why_not_numbers(open_table(con, path), ["s"]) is None


@pytest.mark.parametrize(
    ("name", "rows", "expected"),
    [
        ("t.jsonl", [{"k": "a"}, {"k": "[x]"}, {"k": ["x"]}], ("line 3", "k", ["x"], "array")),
        ("t.jsonl", [{"k": "a"}, {"k": "{x}"}], None),
        ("t.csv", [{"k": "a"}, {"k": " \t"}], ("line 3", "k", " \t", "blank")),
        ("t.csv", [{"k": "a"}, {"k": None}], ("line 3", "k", "", "empty")),
        ("t.parquet", [{"k": "a"}, {"k": "b\x00"}], ("row 2", "k", "b\x00", "nul")),
    ],
)
def test_locate_bad_key_tells_json_values_from_text(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    name: str,
    rows: list[dict[str, Any]],
    expected: tuple[str, str, object, str] | None,
) -> None:
    path = tmp_path / name
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        write_table(path, rows)
    assert locate_bad_key(open_table(con, path), ["k"]) == expected


# --- writing --------------------------------------------------------------------------------

QUERY = (
    "SELECT * FROM (VALUES ('007', 1.5, 3), ('b', 'nan'::DOUBLE, NULL), "
    "('c', '-inf'::DOUBLE, 1)) AS t(clip_id, score, n)"
)
# Fails on its 200 001st row, after DuckDB has started writing.
FAILING_QUERY = (
    "SELECT i, CAST(CASE WHEN i < 200000 THEN i::VARCHAR ELSE 'oops' END AS INTEGER) AS v "
    "FROM range(200001) AS r(i)"
)


def read_back(path: Path) -> list[dict[str, Any]]:
    """Read a written file with plain Python (csv, json, gzip) or pyarrow."""
    if path.suffix == ".parquet":
        return list(pq.read_table(path).to_pylist())
    data = path.read_bytes()
    if path.suffix == ".gz":
        assert data[:2] == b"\x1f\x8b", "not gzip-compressed"
        data = gzip.decompress(data)
    text = data.decode("utf-8")
    if ".csv" in path.suffixes or ".tsv" in path.suffixes:
        delimiter = "\t" if ".tsv" in path.suffixes else ","
        return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("name", ["out.jsonl", "out.ndjson", "out.jsonl.gz"])
def test_jsonl_output_writes_nan_and_infinities_as_null(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    write_query(con, QUERY, out)
    assert read_back(out) == [
        {"clip_id": "007", "score": 1.5, "n": 3},
        {"clip_id": "b", "score": None, "n": None},
        {"clip_id": "c", "score": None, "n": 1},
    ]
    assert leftovers(tmp_path) == [name]


@pytest.mark.parametrize("name", ["out.csv", "out.csv.gz", "out.tsv", "out.tsv.gz"])
def test_csv_and_tsv_output_has_a_header_and_keeps_the_values(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    write_query(con, QUERY, out)
    rows = read_back(out)
    assert [list(r) for r in rows] == [["clip_id", "score", "n"]] * 3
    assert [r["clip_id"] for r in rows] == ["007", "b", "c"]
    assert [r["n"] for r in rows] == ["3", "", "1"]
    assert float(rows[0]["score"]) == 1.5
    assert math.isnan(float(rows[1]["score"]))
    assert float(rows[2]["score"]) == -math.inf
    assert leftovers(tmp_path) == [name]


def test_tsv_output_is_tab_delimited(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = tmp_path / "out.tsv"
    write_query(con, QUERY, out)
    assert out.read_text(encoding="utf-8").splitlines()[0] == "clip_id\tscore\tn"


def test_parquet_output_keeps_types_nan_and_infinities(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out.parquet"
    write_query(con, QUERY, out)
    assert out.read_bytes()[:4] == b"PAR1"
    table = pq.read_table(out)
    assert table.column_names == ["clip_id", "score", "n"]
    assert str(table.schema.field("clip_id").type) == "string"
    assert str(table.schema.field("score").type) == "double"
    scores = table.column("score").to_pylist()
    assert scores[0] == 1.5
    assert math.isnan(scores[1])
    assert scores[2] == -math.inf
    assert table.column("clip_id").to_pylist() == ["007", "b", "c"]
    assert leftovers(tmp_path) == ["out.parquet"]


def test_written_file_reads_back_through_open_table(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl.gz"
    write_query(con, QUERY, out)
    assert scan(con, out, text=["clip_id"], numbers=["score"]) == [
        ("007", 1.5),
        ("b", None),
        ("c", None),
    ]


def test_write_replaces_an_existing_file(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    write_query(con, QUERY, out)
    assert out.read_text(encoding="utf-8").startswith("clip_id,score,n\n")
    assert leftovers(tmp_path) == ["out.csv"]


def test_write_to_a_bare_file_name_uses_the_current_folder(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_query(con, QUERY, Path("out.csv"))
    assert leftovers(tmp_path) == ["out.csv"]


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.parquet", "out.jsonl.gz"])
def test_a_query_failing_midway_leaves_no_output_and_no_temporary_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    with pytest.raises(InputError, match=rf"^{at(out)}: cannot write \(.*'oops'"):
        write_query(con, FAILING_QUERY, out)
    assert not out.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.parquet"])
def test_a_failed_write_keeps_an_existing_output_as_it_was(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    out.write_bytes(b"previous result\n")
    with pytest.raises(InputError, match=rf"^{at(out)}: cannot write \("):
        write_query(con, FAILING_QUERY, out)
    assert out.read_bytes() == b"previous result\n"
    assert leftovers(tmp_path) == [name]


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl"])
def test_output_folder_that_does_not_exist_is_a_usage_error_and_not_created(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "missing" / name
    with pytest.raises(
        UsageError,
        match=rf"^{at(out)}: the folder {at(out.parent)} does not exist; create it first$",
    ):
        write_query(con, QUERY, out)
    assert leftovers(tmp_path) == []


def test_output_that_is_a_directory_cannot_be_written_and_leaves_no_temporary_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    out.mkdir()
    with pytest.raises(InputError, match=rf"^{at(out)}: is a directory, not a file; name another"):
        write_query(con, QUERY, out)
    assert out.is_dir()
    assert leftovers(tmp_path) == ["out.csv"]


def test_unsupported_output_suffix_writes_nothing(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out.xlsx"
    with pytest.raises(UsageError, match=rf"^{at(out)}: cannot write .xlsx; name the output"):
        write_query(con, QUERY, out)
    assert leftovers(tmp_path) == []


def test_copy_options_per_format() -> None:
    assert copy_options("jsonl", compressed=False) == "(FORMAT json)"
    assert copy_options("jsonl", compressed=True) == "(FORMAT json, COMPRESSION gzip)"
    assert copy_options("parquet", compressed=False) == "(FORMAT parquet, COMPRESSION zstd)"
    assert (
        copy_options("tsv", compressed=True)
        == "(FORMAT csv, HEADER true, DELIMITER '\t', COMPRESSION gzip)"
    )


def test_finite_for_json_only_wraps_float_columns() -> None:
    assert finite_for_json([("k", "VARCHAR"), ("s", "DOUBLE"), ("n", "BIGINT")]) == [
        '"k"',
        'CASE WHEN isfinite("s") THEN "s" END AS "s"',
        '"n"',
    ]


@pytest.mark.parametrize(
    ("file_name", "stem"),
    [
        ("konvid.json", "konvid"),
        ("konvid.json.gz", "konvid"),
        ("konvid.pq", "konvid"),
        ("KONVID.PQ", "KONVID"),
        ("konvid.ndjson", "konvid"),
        ("konvid.1k.csv", "konvid.1k"),
        ("konvid.txt", "konvid.txt"),
        ("notes.gz", "notes"),
        (".csv", ".csv"),
    ],
)
def test_table_stem_strips_every_table_suffix(file_name: str, stem: str) -> None:
    assert table_stem(Path(file_name)) == stem
