"""Table readers raise the error kind that fits: each caught by its class, message unchanged."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from second_opinion.errors import ColumnNotFoundError, SchemaError, UnreadableFileError
from second_opinion.tables.diagnosis import explain_scan_error
from second_opinion.tables.files import TableFile
from second_opinion.tables.formats import check_file
from second_opinion.tables.reading import open_table


def _open(path: Path) -> TableFile:
    con = duckdb.connect()
    try:
        return open_table(con, path)
    finally:
        con.close()


def test_a_missing_or_empty_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match=r"nope\.csv: no such file"):
        check_file(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(UnreadableFileError, match=r"empty\.csv: file is empty \(0 bytes\)$"):
        check_file(tmp_path / "empty.csv")


def test_a_file_not_in_its_format_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("a\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"t\.txt: unsupported file type '\.txt'; use "):
        _open(path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("k,s\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(UnreadableFileError, match=r"latin\.csv.*save the file as UTF-8"):
        _open(latin)


def test_duplicate_column_names_are_a_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("k,s,s\na,1,2\n", encoding="utf-8")
    with pytest.raises(
        SchemaError, match=r"d\.csv: duplicate column name 's' \(columns: k, s, s\); give each"
    ):
        _open(path)


def test_a_missing_column_is_column_not_found(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("k,s\na,1\n", encoding="utf-8")
    table = _open(path)
    with pytest.raises(
        ColumnNotFoundError, match=r"t\.csv: key column 'clip' not found \(columns: k, s\); fix"
    ):
        table.require(["clip"], "key column", "fix the key")


def test_a_score_that_is_not_a_number_is_a_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("k,s\na,1\nb,high\n", encoding="utf-8")
    table = _open(path)
    con = duckdb.connect()
    try:
        con.sql(f"SELECT CAST(s AS DOUBLE) FROM read_csv('{path}', all_varchar=true)").fetchall()
    except duckdb.Error as exc:
        error = explain_scan_error(table, exc, numbers=["s"])
    finally:
        con.close()
    assert isinstance(error, SchemaError)
    assert error.message.startswith(f"{path} line 3: column 's' has 'high', which is not a number")
