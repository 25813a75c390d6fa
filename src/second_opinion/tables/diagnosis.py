"""Why a table cannot be read or scanned, told by re-reading it in Python on the error path:
the line or row, the column and the value (text that is not UTF-8, CSV structure, values that
are not numbers, unusable keys)."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import duckdb

from second_opinion._typing import TableFormat
from second_opinion.decoding import other_encoding
from second_opinion.errors import InputError, SchemaError, UnreadableFileError
from second_opinion.tables.files import (
    _FIELD_LIMIT,
    TYPED,
    TableFile,
    _is_number_text,
    _iter_records,
    _open_binary,
    _open_text,
    _text_expr,
)
from second_opinion.tables.formats import (
    file_argument,
    is_numeric_type,
    out_of_memory,
    quote_ident,
    table_format,
)
from second_opinion.tables.keys import KeyProblem, bad_key_sql, key_problem
from second_opinion.tables.line_endings import mixed_line_endings
from second_opinion.tables.memory import MemoryTable

_CHUNK = 1 << 20


_CONTEXT = 40  # characters shown on each side of a bad byte


def not_utf8(path: Path, compressed: bool) -> UnreadableFileError | None:
    """Why ``path`` is not UTF-8 text, or None if it is (or cannot be read at all).

    A byte-order mark of UTF-16 or UTF-32 names that encoding; otherwise the first byte that is
    not UTF-8 is named with its line, column and the text around it. The file is streamed in
    1 MiB chunks; this runs on error paths only.
    """
    try:
        with _open_binary(path, compressed) as handle:
            return _first_non_utf8(path, handle)
    except (OSError, EOFError, zlib.error):
        return None


def _not_utf8_error(path: Path, compressed: bool, exc: UnicodeDecodeError) -> UnreadableFileError:
    """:func:`not_utf8`'s message, or a plain one from ``exc`` if the re-read finds nothing."""
    found = not_utf8(path, compressed)
    if found is not None:
        return found
    return UnreadableFileError(f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8")


def _first_non_utf8(path: Path, handle: io.BufferedIOBase) -> UnreadableFileError | None:
    chunk = handle.read(_CHUNK)
    wide = other_encoding("the file", chunk)
    if wide is not None:
        return UnreadableFileError(f"{path}: {wide}")
    binary = b"\x00" in chunk
    line, column, tail = 1, 0, ""  # tail: the end of the current line, as read so far
    pending = b""
    while True:
        data = pending + chunk
        final = not chunk
        try:
            text, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError as exc:
            line, column, tail = _advance(data[: exc.start].decode("utf-8"), line, column, tail)
            bad = data[exc.start : max(exc.end, exc.start + 1)]
            byte = " ".join(f"0x{b:02x}" for b in bad)
            where = f"{path} line {line}: not UTF-8 text: byte {byte} at column {column + 1}"
            if binary:
                return UnreadableFileError(
                    f"{where}; the file also holds NUL bytes: it looks like a binary file, not "
                    f"a {_format_label(path)} table; give the table as UTF-8 text"
                )
            after = data[exc.start + len(bad) :].split(b"\n", 1)[0][: 4 * _CONTEXT]
            shown = (
                repr(tail)[1:-1]
                + "".join(f"\\x{b:02x}" for b in bad)
                + repr(after.decode("utf-8", "replace")[:_CONTEXT])[1:-1]
            )
            # Latin-1 and Windows-1252 agree from 0xa0 up; below, only Windows-1252 has letters.
            legacy = "Latin-1" if bad[0] >= 0xA0 else "Windows-1252"
            char = bad[:1].decode("cp1252", "replace")
            hint = f"; in {legacy} that byte is {char!r}" if char.isprintable() else ""
            return UnreadableFileError(f"{where} ('{shown}'{hint}); save the file as UTF-8")
        line, column, tail = _advance(text, line, column, tail)
        if final:
            return None
        pending = data[used:]
        chunk = handle.read(_CHUNK)


def _advance(text: str, line: int, column: int, tail: str) -> tuple[int, int, str]:
    """Line, column and line tail after reading ``text``."""
    newlines = text.count("\n")
    if not newlines:
        return line, column + len(text), (tail + text)[-_CONTEXT:]
    last = text[text.rfind("\n") + 1 :]
    return line + newlines, len(last), last[-_CONTEXT:]


def _format_label(path: Path | MemoryTable) -> str:
    if isinstance(path, MemoryTable):
        return "in-memory"
    with contextlib.suppress(InputError):
        return table_format(path)[0].upper()
    return "text"


def _bad_number(value: object, fmt: TableFormat) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return False
    if isinstance(value, str):
        # DuckDB's JSON reader refuses numeric strings with spaces or a '+'; its CSV reader not.
        unplain = fmt == "jsonl" and (value != value.strip() or value.startswith("+"))
        return unplain or not _is_number_text(value)
    return True


def locate_bad_key(
    table: TableFile, columns: Sequence[str]
) -> tuple[str, str, object, KeyProblem] | None:
    """The first unusable key value (see :func:`keys.key_problem`) of ``columns``: where it is
    (``line N``, or ``row N`` of a Parquet file), the column, the value and the problem.

    Re-reads the file (JSONL lines are parsed again, so a JSON object read as text is told from
    a string); error paths only.
    """
    if table.format in TYPED:
        return _bad_key_in_parquet(table, columns)
    with contextlib.suppress(OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error):
        for line, record in _iter_records(table):
            for column in columns:
                value = record.get(column)
                problem = key_problem(value)
                if problem is not None:
                    return table.place(line), column, value, problem
    return None


def _bad_key_in_parquet(
    table: TableFile, columns: Sequence[str]
) -> tuple[str, str, object, KeyProblem] | None:
    texts = [_text_expr(table, c) for c in columns]
    test = " OR ".join(bad_key_sql(t) for t in texts)
    con = duckdb.connect()
    try:
        row = con.execute(
            f"SELECT file_row_number, {', '.join(texts)} "
            f"FROM {_numbered(con, table)} "
            f"WHERE {test} ORDER BY file_row_number LIMIT 1"
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    if row is None:
        return None
    for column, value in zip(columns, row[1:], strict=True):
        problem = key_problem(value)
        if problem is not None:
            return f"row {int(row[0]) + 1}", column, value, problem
    return None


SNIFF_ROWS = 20_480  # rows DuckDB's sniffers look at; a column's type is decided within them


def why_not_numbers(table: TableFile, columns: Sequence[str]) -> list[str] | None:
    """Why each of ``columns`` is not read as numbers, or None if the table has no rows.

    For a text table, each reason names the first line whose value made the column text (a
    value that is not a number; in JSONL, a number written as a string), or says the column has
    no values. The first :data:`SNIFF_ROWS` records are read; error paths only.
    """
    if table.format in TYPED:
        return _parquet_not_numbers(table, columns)
    text: dict[str, tuple[int, object]] = {}
    strings: dict[str, tuple[int, object]] = {}
    rows = 0
    with contextlib.suppress(OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error):
        for rows, (line, record) in enumerate(_iter_records(table), start=1):
            for column in columns:
                value = record.get(column)
                if column in text or value is None or value == "":
                    continue
                if table.format == "jsonl" and isinstance(value, str) and _is_number_text(value):
                    strings.setdefault(column, (line, value))
                elif isinstance(value, bool) or _bad_number(value, table.format):
                    text[column] = (line, value)
            if rows >= SNIFF_ROWS or len(text) == len(columns):
                break
    if not rows:
        return None
    reasons = []
    for column in columns:
        if column in text:
            line, value = text[column]
            reasons.append(
                f"column {column!r} is text ({table.place(line)} has {_shown(value)}, which is "
                "not a number)"
            )
        elif column in strings:
            line, value = strings[column]
            reasons.append(
                f"column {column!r} holds numbers as JSON strings ({table.place(line)} has "
                f"{_shown(value)}), which are read as numbers only when the column is named"
            )
        else:
            reasons.append(f"column {column!r} has no values in its first rows")
    return reasons


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(value)


def _numbered(con: duckdb.DuckDBPyConnection, table: TableFile) -> str:
    """A relation reading ``table`` (Parquet, or in memory: registered on ``con``) with each
    row's number from 0 in ``file_row_number``."""
    if isinstance(table.path, MemoryTable):
        con.register("so_numbered", table.path.numbered("__so_row_number"))
        return '(SELECT "__so_row_number" AS file_row_number, * FROM so_numbered)'
    return f"read_parquet({file_argument(table.path)}, file_row_number=true)"


def _parquet_not_numbers(table: TableFile, columns: Sequence[str]) -> list[str] | None:
    con = duckdb.connect()
    try:
        row = con.execute(f"SELECT count(*) FROM {_numbered(con, table)}").fetchone()
    except duckdb.Error:
        row = None
    finally:
        con.close()
    if row is not None and not row[0]:
        return None
    return [f"column {c!r} is stored as {table.type_of(c)}" for c in columns]


def explain_scan_error(
    table: TableFile, error: duckdb.Error, *, numbers: Sequence[str]
) -> InputError:
    """Turn a DuckDB error while scanning ``table`` into a message naming line, column and value.

    Only runs on the error path, so re-reading the file here costs nothing on success.
    """
    if (exhausted := out_of_memory(table.path, error)) is not None:
        return exhausted
    try:
        if table.format in ("csv", "tsv") and any(m in str(error) for m in _CSV_STRUCTURE):
            broken = mixed_line_endings(table.file, table.compressed) or csv_structure_error(table)
            if broken is not None:
                return broken
        if table.format in TYPED:
            located = _locate_in_parquet(table, numbers)
        else:
            located = _locate_bad_number(table, numbers)
    except InputError as exc:
        return exc
    except UnicodeDecodeError as exc:
        return _not_utf8_error(table.file, table.compressed, exc)
    except (OSError, EOFError, csv.Error, zlib.error) as exc:
        return UnreadableFileError(f"{table.path}: cannot read ({exc})")
    if located is not None:
        where, column, value = located
        place = f"row {where + 1}" if table.format in TYPED else table.place(where)
        shown = json.dumps(value) if not isinstance(value, str) else repr(value)
        unplain = table.format == "jsonl" and isinstance(value, str) and _is_number_text(value)
        kind = "a plain number" if unplain else "a number"
        hint = (
            ' (in JSONL write numbers as JSON numbers or as strings like "2.5": no spaces, no +)'
            if unplain
            else ""
        )
        return SchemaError(
            f"{table.path} {place}: column {column!r} has {shown}, which is not {kind}{hint}; "
            "fix the value, or leave the column out (choose columns explicitly)"
        )
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return UnreadableFileError(f"{table.path}: cannot read as {table.format} ({first_line})")


def _locate_bad_number(table: TableFile, numbers: Sequence[str]) -> tuple[int, str, object] | None:
    """The first (line, column, value) of a text table where a value of ``numbers`` is not a
    number. Every record is read, so a malformed JSONL line raises its own error."""
    for line, record in _iter_records(table):
        for column in numbers:
            value = record.get(column)
            if _bad_number(value, table.format):
                return line, column, value
    return None


# What DuckDB says when a CSV file's structure (not a value) is wrong.
_CSV_STRUCTURE = ("Error when sniffing file", "CSV Error on Line")


def csv_structure_error(table: TableFile) -> UnreadableFileError | None:
    """The first place where a CSV/TSV file breaks the fixed dialect, or None.

    A row with more or fewer fields than the header, a quote that is never closed, text after a
    closing quote. DuckDB reports these as "Error when sniffing file" with no line (or with its
    own line count); this streams the file with Python's csv module to name the line. Error
    paths only.
    """
    delimiter = "\t" if table.format == "tsv" else ","
    separator = "tab" if table.format == "tsv" else "comma"
    path = table.file
    with _open_text(path, table.compressed) as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        start = 1  # the line where the current record starts
        try:
            header = next(reader, None)
            if header is None:
                return None
            start = reader.line_num + 1
            for row in reader:
                if row and len(row) != len(header):
                    fix = (
                        f"quote a value that holds a {separator}, or remove the extra fields"
                        if len(row) > len(header)
                        else "add the missing fields (an empty field is a missing value)"
                    )
                    return UnreadableFileError(
                        f"{path} line {start}: expected {len(header)} fields (as in the header "
                        f"row), found {len(row)} ({_shown_row(row)}); {fix}"
                    )
                start = reader.line_num + 1
        except csv.Error as exc:
            return _csv_error(path, exc, start, reader.line_num)
    return None


def _shown_row(row: Sequence[str]) -> str:
    text = repr(row if len(row) <= 6 else [*row[:6], "…"])
    return text if len(text) <= 2 * _CONTEXT else text[: 2 * _CONTEXT] + "…"


def _csv_error(path: Path, exc: csv.Error, start: int, line: int) -> UnreadableFileError:
    reason = str(exc)
    if "unexpected end of data" in reason:
        return UnreadableFileError(
            f"{path} line {start}: a quote opened on this line is never closed (the quoted "
            "field runs to the end of the file); close the quote, and write a quote inside a "
            'quoted field twice ("")'
        )
    if "field limit" in reason:
        return UnreadableFileError(
            f"{path} line {start}: a field longer than {_FIELD_LIMIT:,} characters starts "
            "here (a quote that is never closed?); close the quote, or shorten the field"
        )
    if "expected after" in reason:
        return UnreadableFileError(
            f"{path} line {line}: text follows the closing quote of a quoted field; quote the "
            'whole field, and write a quote inside it twice ("")'
        )
    return UnreadableFileError(f"{path} line {start}: not a valid CSV row ({reason}); fix the row")


def _locate_in_parquet(table: TableFile, numbers: Sequence[str]) -> tuple[int, str, object] | None:
    con = duckdb.connect()
    try:
        for column in numbers:
            if is_numeric_type(table.type_of(column)):
                continue
            ident = quote_ident(column)
            rows = con.execute(
                f"SELECT file_row_number, CAST({ident} AS VARCHAR) "
                f"FROM {_numbered(con, table)} "
                f"WHERE {ident} IS NOT NULL AND TRY_CAST({ident} AS DOUBLE) IS NULL "
                "ORDER BY file_row_number LIMIT 1"
            ).fetchall()
            if rows:
                row = rows[0]
                return int(row[0]), column, row[1]
    except duckdb.Error:
        return None
    finally:
        con.close()
    return None
