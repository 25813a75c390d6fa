"""An opened table file (:class:`TableFile`) and its records read back in Python, for messages
that name lines and values."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from second_opinion._typing import TableFormat
from second_opinion.decoding import json_problem
from second_opinion.errors import (
    ColumnNotFoundError,
    InputError,
    InternalError,
    SchemaError,
    UnreadableFileError,
)
from second_opinion.tables.formats import _FLOAT_TYPES, quote_ident
from second_opinion.tables.memory import MemoryTable, TablePath

STORED_TYPES = ("parquet", "json", "arrow")
"""Formats whose column types are read from every value or stored, never sniffed from a sample."""
TYPED = ("parquet", "arrow")
"""Formats that store their column types (and may store nested ones)."""


@dataclass(frozen=True)
class TableFile:
    """An opened table: a file (its format and the schema DuckDB sniffed from it), or an
    in-memory table (format ``arrow``, ``path`` the :class:`MemoryTable`, types as stored)."""

    path: TablePath
    format: TableFormat
    compressed: bool
    columns: tuple[str, ...]
    types: tuple[str, ...]

    @property
    def name(self) -> str:
        """The file name (an in-memory table's label), as used in messages."""
        return self.path.label if isinstance(self.path, MemoryTable) else self.path.name

    @property
    def file(self) -> Path:
        """The file, for the readers of text formats (never called for an in-memory table)."""
        if isinstance(self.path, MemoryTable):
            msg = f"{self.path}: an in-memory table has no file to re-read"
            raise InternalError(msg)
        return self.path

    def type_of(self, column: str) -> str:
        """The sniffed DuckDB type of ``column``."""
        return self.types[self.columns.index(column)]

    def require(self, columns: Sequence[str], what: str, fix: str) -> None:
        """Raise an :class:`InputError` naming the first of ``columns`` the file lacks."""
        for column in columns:
            if column not in self.columns:
                msg = (
                    f"{self.path}: {what} {column!r} not found "
                    f"(columns: {', '.join(self.columns)}); {fix}"
                )
                raise ColumnNotFoundError(msg)

    def require_flat_keys(self, columns: Sequence[str]) -> None:
        """Refuse key columns a Parquet file stores as nested values (struct, list, map): they
        are not text, and their text form would silently become the key."""
        if self.format not in TYPED:
            return
        for column in columns:
            stored = self.type_of(column)
            if stored.upper().startswith(("STRUCT", "MAP", "UNION")) or stored.endswith("]"):
                msg = (
                    f"{self.path}: the key column {column!r} is stored as {stored}, not as text "
                    "or a number; store the key as a string"
                )
                raise SchemaError(msg)

    def place(self, number: int) -> str:
        """How messages name record ``number`` as :func:`_iter_records` counts: ``line N``, or
        ``rows[i]`` in a JSON document."""
        if self.format in TYPED:
            return f"row {number}"
        return f"rows[{number - 1}]" if self.format == "json" else f"line {number}"

    def location(self, index: int) -> str:
        """How messages name the ``index``-th (0-based) record: ``row N`` or the real ``line N``.

        For text formats the file is re-read to count lines exactly (blank JSONL lines and quoted
        newlines in CSV cells count); this runs on error paths only.
        """
        if self.format in TYPED:
            return f"row {index + 1}"
        with contextlib.suppress(
            OSError, EOFError, UnicodeDecodeError, csv.Error, InputError, zlib.error
        ):
            for position, (line, _) in enumerate(_iter_records(self)):
                if position == index:
                    return self.place(line)
        return f"record {index + 1}"


def _open_text(path: Path, compressed: bool) -> TextIO:
    # utf-8-sig: a UTF-8 byte-order mark is skipped, as DuckDB's readers skip it.
    if compressed:
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _open_binary(path: Path, compressed: bool) -> io.BufferedIOBase:
    if compressed:
        return gzip.open(path, "rb")
    return path.open("rb")


_JSON_SPACE = " \t\n\r"


def _loads(line: str) -> object:
    """``json.loads``, except that a comma before a closing ``}`` or ``]`` is allowed.

    DuckDB's JSON reader allows that trailing comma (the value is unambiguous), so the lines
    re-read here in Python must allow it too. Each such comma becomes a space, so the columns
    of a later error stay right.
    """
    text = line
    for _ in range(line.count(",") + 1):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            comma = _trailing_comma(exc)
            if comma is None:
                raise
            text = f"{text[:comma]} {text[comma + 1 :]}"
    return json.loads(text)


def _trailing_comma(exc: json.JSONDecodeError) -> int | None:
    """The position of the comma ``exc`` stumbled on before a closing bracket, if that is it."""
    doc, pos = exc.doc, exc.pos
    if pos >= len(doc) or doc[pos] not in "}]":
        return None
    before = len(doc[:pos].rstrip(_JSON_SPACE)) - 1
    return before if before >= 0 and doc[before] == "," else None


def _json_object(path: Path, number: int, line: str) -> dict[str, object]:
    """Line ``number`` of a JSONL file as an object, or an error naming the line."""
    try:
        value = _loads(line)
    except json.JSONDecodeError as exc:
        msg = f"{path} line {number}: invalid JSON ({json_problem(exc)})"
        raise UnreadableFileError(msg) from None
    except RecursionError:
        msg = (
            f"{path} line {number}: invalid JSON (nested too deeply to read: thousands of "
            "arrays or objects inside each other); a table's values are numbers and strings: "
            "fix the line"
        )
        raise UnreadableFileError(msg) from None
    if not isinstance(value, dict):
        msg = f"{path} line {number}: expected a JSON object per line, got {type(value).__name__}"
        raise UnreadableFileError(msg)
    return value


def json_rows(path: Path, compressed: bool) -> list[dict[str, object]]:
    """The rows of a JSON table document: a list of objects, or ``{"rows": [...]}``."""
    with _open_text(path, compressed) as handle:
        text = handle.read()
    try:
        document = _loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: invalid JSON ({json_problem(exc)})"
        raise UnreadableFileError(msg) from None
    rows = document.get("rows") if isinstance(document, dict) else document
    if not isinstance(rows, list):
        got = "an object without a rows list" if isinstance(document, dict) else "a value"
        msg = (
            f'{path}: a JSON table is a list of rows or an object {{"rows": [...]}}, not '
            f"{got} ({type(document).__name__}); write the rows as a list"
        )
        raise UnreadableFileError(msg)
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            msg = f"{path} rows[{index}]: expected a JSON object, got {type(row).__name__}"
            raise UnreadableFileError(msg)
    return rows


def json_rows_key(path: Path, compressed: bool) -> bool:
    """Whether a JSON table document is an object ``{"rows": [...]}`` (else a list)."""
    with _open_text(path, compressed) as handle:
        while True:
            char = handle.read(1)
            if not char or not char.isspace():
                return char == "{"


_FIELD_LIMIT = csv.field_size_limit()  # the csv module's longest field (128 KiB by default)


def _text_expr(table: TableFile, column: str) -> str:
    """An expression giving ``column`` as text; integral floats lose their ``.0``."""
    ident = quote_ident(column)
    if table.format in STORED_TYPES and table.type_of(column).upper() in _FLOAT_TYPES:
        return (
            f"CASE WHEN isfinite({ident}) AND {ident} = trunc({ident}) "
            f"THEN CAST(CAST({ident} AS HUGEINT) AS VARCHAR) ELSE CAST({ident} AS VARCHAR) END"
        )
    if table.format in STORED_TYPES:
        return f"CAST({ident} AS VARCHAR)"
    return ident


def _is_number_text(value: str) -> bool:
    stripped = value.strip()
    if not stripped:
        return True  # an empty cell is a missing value
    try:
        float(stripped)
    except ValueError:
        return False
    return "_" not in stripped


def _iter_records(table: TableFile) -> Iterator[tuple[int, dict[str, object]]]:
    """Yield (line number where the record starts, record) in file order; in a JSON document,
    (its number, from 1, record).

    Raises :class:`InputError` on a malformed JSONL line or one that is not an object.
    """
    if table.format == "json":
        yield from enumerate(json_rows(table.file, table.compressed), start=1)
        return
    with _open_text(table.file, table.compressed) as handle:
        if table.format == "jsonl":
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, _json_object(table.file, number, line)
        else:
            reader = csv.reader(handle, delimiter="\t" if table.format == "tsv" else ",")
            header = next(reader)
            start = reader.line_num + 1
            for row in reader:
                yield start, dict(zip(header, row, strict=False))
                start = reader.line_num + 1


HEAD_ROWS = 1000


def undecided_in_head(table: TableFile, columns: Sequence[str]) -> list[str]:
    """Which of ``columns`` the first :data:`HEAD_ROWS` records do not show to hold text (a
    string that is not a number): blank there, or numbers only. Only every value can decide
    those."""
    possible = set(columns)
    with contextlib.suppress(
        OSError, EOFError, UnicodeDecodeError, csv.Error, InputError, zlib.error
    ):
        for count, (_, record) in enumerate(_iter_records(table)):
            if count >= HEAD_ROWS or not possible:
                break
            for column in list(possible):
                value = record.get(column)
                if isinstance(value, str) and value.strip() and not _is_number_text(value):
                    possible.discard(column)
    return [c for c in columns if c in possible]
