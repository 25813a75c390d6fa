"""Reading and writing corpus and score tables with DuckDB.

Formats come from the file's suffix: ``.jsonl``/``.ndjson`` (one JSON object per line), ``.csv``,
``.tsv`` (header row), each optionally ``.gz``, and ``.parquet``. A table is first *opened*
(:func:`open_table`: existence, emptiness, duplicate column names, the schema from a sample), then
*scanned* once by a query built with :func:`scan_sql`, which reads key columns as text and score
columns as float64. When a scan fails on a value, :func:`explain_scan_error` re-reads the file in
Python to name the line (JSONL, CSV) or row (Parquet), the column and the value.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import json
import os
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import duckdb

from second_opinion._typing import TableFormat
from second_opinion.decoding import json_problem, other_encoding
from second_opinion.errors import InputError, UsageError
from second_opinion.keys import WHITESPACE, KeyProblem, bad_key_sql, key_problem

_READ_SUFFIXES: dict[str, TableFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
}
SUPPORTED_SUFFIXES = ".jsonl, .ndjson, .csv, .tsv (each optionally .gz) and .parquet"
_NUMERIC_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL",
)  # fmt: skip
_FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")


@dataclass(frozen=True)
class Engine:
    """Limits of the table engine: DuckDB's ``memory_limit`` (e.g. ``4GB``; past it, joins and
    pooling spill to disk) and the folder it spills to (``temp_dir``)."""

    memory_limit: str | None = None
    temp_dir: Path | None = None


def connect(engine: Engine | None = None, **config: str) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB connection with the progress bar off (DuckDB would draw it on
    stdout, into a ``--json`` document); ``engine`` limits it; ``config`` as ``duckdb.connect``
    takes it. A memory limit DuckDB cannot read is a :class:`UsageError`."""
    settings: dict[str, str | bool | int | float | list[str]] = dict(config)
    if engine is not None and engine.temp_dir is not None:
        settings["temp_directory"] = str(engine.temp_dir)
    if engine is not None and engine.memory_limit is not None:
        settings["memory_limit"] = engine.memory_limit
    try:
        con = duckdb.connect(":memory:", config=settings)
    except duckdb.Error as exc:
        limit = engine.memory_limit if engine is not None else None
        msg = (
            f"--memory-limit {limit!r}: DuckDB cannot use it ({str(exc).strip().splitlines()[0]});"
            " give a size such as 4GB or 512MB"
        )
        raise UsageError(msg) from None
    con.execute("SET enable_progress_bar = false")
    return con


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (``b`` need not exist)."""
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


def quote_ident(name: str) -> str:
    """``name`` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def file_argument(path: Path) -> str:
    """``path`` as the file argument of DuckDB's readers: a literal naming exactly that file.

    DuckDB rewrites what it is given: it expands ``*``, ``?`` and ``[...]`` (so ``x[1].csv``
    would read ``x1.csv``), a leading ``~`` (the home folder) and URI schemes (``file:``), and
    takes ``\\`` for a folder separator. So the path goes absolute (``~`` and ``file:`` are then
    mere folder names), each glob character is wrapped in brackets (``[[]``, ``[*]``, ``[?]``,
    which match only the character itself), and a backslash, which no escaping survives, is
    refused.
    """
    text = str(path.absolute())
    if "\\" in text:
        msg = (
            f"{path}: the table engine cannot read a file whose path holds a backslash ('\\'); "
            "rename the file (or its folder) without one"
        )
        raise InputError(msg)
    escaped = "".join(f"[{c}]" if c in "[*?" else c for c in text)
    return quote_literal(escaped)


def is_numeric_type(duckdb_type: str) -> bool:
    """Whether a DuckDB type name is a number type (integers, floats, decimals)."""
    upper = duckdb_type.upper()
    return upper in _NUMERIC_TYPES or upper.startswith("DECIMAL")


def table_format(path: Path) -> tuple[TableFormat, bool]:
    """The format of ``path`` from its suffix, and whether it is gzip-compressed."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    fmt = _READ_SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None or (compressed and fmt == "parquet"):
        msg = (
            f"{path}: unsupported file type {''.join(path.suffixes) or '(no suffix)'!r}; "
            f"use {SUPPORTED_SUFFIXES}"
        )
        raise InputError(msg)
    return fmt, compressed


@dataclass(frozen=True)
class TableFile:
    """An opened table file: its format and the schema DuckDB sniffed from it."""

    path: Path
    format: TableFormat
    compressed: bool
    columns: tuple[str, ...]
    types: tuple[str, ...]

    @property
    def name(self) -> str:
        """The file name, as used in messages."""
        return self.path.name

    def type_of(self, column: str) -> str:
        """The sniffed DuckDB type of ``column``."""
        return self.types[self.columns.index(column)]

    def numeric_columns(self) -> tuple[str, ...]:
        """Columns whose values are numbers: sniffed as such, or, in CSV/TSV, text columns
        whose first values all read as numbers (DuckDB's sniffer takes ``inf`` for a date).
        """
        numeric = [is_numeric_type(t) for t in self.types]
        if self.format in ("csv", "tsv"):
            doubtful = [c for c, n in zip(self.columns, numeric, strict=True) if not n]
            if doubtful:
                texts = _text_numbers(self, doubtful)
                numeric = [n or c in texts for c, n in zip(self.columns, numeric, strict=True)]
        return tuple(c for c, n in zip(self.columns, numeric, strict=True) if n)

    def require(self, columns: Sequence[str], what: str, fix: str) -> None:
        """Raise an :class:`InputError` naming the first of ``columns`` the file lacks."""
        for column in columns:
            if column not in self.columns:
                msg = (
                    f"{self.path}: {what} {column!r} not found "
                    f"(columns: {', '.join(self.columns)}); {fix}"
                )
                raise InputError(msg)

    def require_flat_keys(self, columns: Sequence[str]) -> None:
        """Refuse key columns a Parquet file stores as nested values (struct, list, map): they
        are not text, and their text form would silently become the key."""
        if self.format != "parquet":
            return
        for column in columns:
            stored = self.type_of(column)
            if stored.upper().startswith(("STRUCT", "MAP", "UNION")) or stored.endswith("]"):
                msg = (
                    f"{self.path}: the key column {column!r} is stored as {stored}, not as text "
                    "or a number; store the key as a string"
                )
                raise InputError(msg)

    def location(self, index: int) -> str:
        """How messages name the ``index``-th (0-based) record: ``row N`` or the real ``line N``.

        For text formats the file is re-read to count lines exactly (blank JSONL lines and quoted
        newlines in CSV cells count); this runs on error paths only.
        """
        if self.format == "parquet":
            return f"row {index + 1}"
        with contextlib.suppress(
            OSError, EOFError, UnicodeDecodeError, csv.Error, InputError, zlib.error
        ):
            for position, (line, _) in enumerate(_iter_records(self)):
                if position == index:
                    return f"line {line}"
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


# --- text that is not UTF-8 ------------------------------------------------------------------

_CHUNK = 1 << 20
_CONTEXT = 40  # characters shown on each side of a bad byte


def not_utf8(path: Path, compressed: bool) -> InputError | None:
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


def _not_utf8_error(path: Path, compressed: bool, exc: UnicodeDecodeError) -> InputError:
    """:func:`not_utf8`'s message, or a plain one from ``exc`` if the re-read finds nothing."""
    found = not_utf8(path, compressed)
    if found is not None:
        return found
    return InputError(f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8")


def _first_non_utf8(path: Path, handle: io.BufferedIOBase) -> InputError | None:
    chunk = handle.read(_CHUNK)
    wide = other_encoding("the file", chunk)
    if wide is not None:
        return InputError(f"{path}: {wide}")
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
                return InputError(
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
            return InputError(f"{where} ('{shown}'{hint}); save the file as UTF-8")
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


def _format_label(path: Path) -> str:
    with contextlib.suppress(InputError):
        return table_format(path)[0].upper()
    return "text"


# --- JSON lines ------------------------------------------------------------------------------

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
        raise InputError(msg) from None
    except RecursionError:
        msg = (
            f"{path} line {number}: invalid JSON (nested too deeply to read: thousands of "
            "arrays or objects inside each other); a table's values are numbers and strings: "
            "fix the line"
        )
        raise InputError(msg) from None
    if not isinstance(value, dict):
        msg = f"{path} line {number}: expected a JSON object per line, got {type(value).__name__}"
        raise InputError(msg)
    return value


def _first_json_object(path: Path, compressed: bool) -> None:
    """Check that the first non-blank line of a JSONL file is a JSON object."""
    with _open_text(path, compressed) as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                _check_names(path, list(_json_object(path, number, line)))
                return
    msg = f"{path}: file is empty (no JSON objects); write one JSON object per line"
    raise InputError(msg)


# --- the CSV header row ----------------------------------------------------------------------

HEADER_LIMIT = 1 << 20  # characters read when looking for a CSV/TSV header row
_FIELD_LIMIT = csv.field_size_limit()  # the csv module's longest field (128 KiB by default)


def _csv_header(path: Path, compressed: bool, delimiter: str) -> list[str]:
    """The header row, read from at most the first :data:`HEADER_LIMIT` characters (a file
    with no line break must not be read whole)."""
    with _open_text(path, compressed) as handle:
        try:
            prefix = handle.read(HEADER_LIMIT + 1)
        except UnicodeDecodeError as exc:
            raise _not_utf8_error(path, compressed, exc) from None
    truncated = len(prefix) > HEADER_LIMIT
    lines = io.StringIO(prefix[:HEADER_LIMIT], newline="").readlines()
    if truncated and lines and not lines[-1].endswith("\n"):
        lines.pop()  # cut by the limit: not a whole line
    used = _Lines(lines)
    too_long = (
        f"{path}: the header row is longer than {HEADER_LIMIT // (1 << 20)} MiB "
        f"({HEADER_LIMIT:,} characters); is it a {_format_label(path)} file? save it with a "
        "line break after the header row"
    )
    try:
        header = next(csv.reader(used, delimiter=delimiter), None)
    except csv.Error as exc:
        if "field limit" in str(exc):
            msg = (
                f"{path}: a column name in the header row is longer than {_FIELD_LIMIT:,} "
                f"characters; is it a {_format_label(path)} file? shorten the header row"
            )
            raise InputError(msg) from None
        msg = f"{path}: cannot read the header row ({exc}); fix the first line"
        raise InputError(msg) from None
    if truncated and used.exhausted:
        raise InputError(too_long)
    if not header or not any(cell.strip() for cell in header):
        msg = f"{path}: file is empty (no header row); the first line must name the columns"
        raise InputError(msg)
    return header


class _Lines:
    """An iterator over lines that records whether it ran out."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.exhausted = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            return next(self._lines)
        except StopIteration:
            self.exhausted = True
            raise


def _parquet_names(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """The top-level column names of a Parquet file, as stored (DuckDB renames duplicates)."""
    rows = con.execute(
        f"SELECT name, coalesce(num_children, 0) FROM parquet_schema({file_argument(path)})"
    ).fetchall()
    names, position = [], 1

    def skip(index: int) -> int:
        children = int(rows[index][1])
        index += 1
        for _ in range(children):
            index = skip(index)
        return index

    for _ in range(int(rows[0][1]) if rows else 0):
        names.append(str(rows[position][0]))
        position = skip(position)
    return names


def _reader_sql(path: Path, fmt: TableFormat, options: str = "") -> str:
    lit = file_argument(path)
    if fmt != "parquet":
        # Named, not detected: DuckDB's detection reads a '?' in the name as a URL query.
        gzip = path.suffix.lower() == ".gz"
        options = f", compression='{'gzip' if gzip else 'none'}'{options}"
    if fmt == "jsonl":
        return f"read_json({lit}, format='newline_delimited'{options})"
    if fmt == "parquet":
        return f"read_parquet({lit}{options})"
    delim = "\t" if fmt == "tsv" else ","
    # The dialect is fixed, not sniffed: double quotes, no comment lines ('x' and '#' are data),
    # the header on line 1 (DuckDB would otherwise skip lines it takes for a preamble: with a
    # ragged row, it took the last line for the header).
    return (
        f"read_csv({lit}, header=true, skip=0, delim={quote_literal(delim)}, quote='\"', "
        f"escape='\"', comment=''{options})"
    )


def _check_names(path: Path, names: Sequence[str]) -> None:
    """Refuse blank column names (DuckDB would rename them ``column1`` …), repeated names
    (DuckDB compares names ignoring case, and so do we) and names holding a NUL character
    (SQL text ends at a NUL)."""
    seen: dict[str, str] = {}
    for position, name in enumerate(names, start=1):
        if "\x00" in name:
            msg = f"{path}: column name {name!r} holds a NUL character; rename the column"
            raise InputError(msg)
        if not name.strip(WHITESPACE):
            pandas = (
                " (pandas' to_csv writes its index as an unnamed first column: write the table "
                "with index=False)"
                if position == 1 and not name and _format_label(path) in ("CSV", "TSV")
                else ""
            )
            msg = (
                f"{path}: column {position} has a blank name ({name!r}); give every column a "
                f"name{pandas}"
            )
            raise InputError(msg)
        if name.casefold() in seen:
            first = seen[name.casefold()]
            same = "" if first == name else f" (same as {first!r} but for case)"
            msg = (
                f"{path}: duplicate column name {name!r}{same} "
                f"(columns: {', '.join(names)}); give each column a unique name"
            )
            raise InputError(msg)
        seen[name.casefold()] = name


def open_table(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str]) -> TableFile:
    """Open a table file: check it is readable and non-empty, and sniff its schema."""
    path = Path(path)
    fmt, compressed = table_format(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "no such file"
        msg = f"{path}: {what}"
        raise InputError(msg)
    if path.stat().st_size == 0:
        msg = f"{path}: file is empty (0 bytes)"
        raise InputError(msg)
    try:
        if fmt == "jsonl":
            _first_json_object(path, compressed)
        elif fmt == "parquet":
            _check_names(path, _parquet_names(con, path))
        else:
            _check_names(path, _csv_header(path, compressed, "\t" if fmt == "tsv" else ","))
    except UnicodeDecodeError as exc:
        raise _not_utf8_error(path, compressed, exc) from None
    except (OSError, EOFError, zlib.error) as exc:
        msg = f"{path}: cannot read ({exc})"
        raise InputError(msg) from None
    except duckdb.Error as exc:
        msg = f"{path}: not a readable {fmt} file ({str(exc).strip().splitlines()[0]})"
        raise InputError(msg) from None
    try:
        schema = con.execute(f"DESCRIBE SELECT * FROM {_reader_sql(path, fmt)}").fetchall()
    except duckdb.Error as exc:
        raise explain_scan_error(
            TableFile(path, fmt, compressed, (), ()), exc, numbers=()
        ) from None
    columns = tuple(str(row[0]) for row in schema)
    _check_names(path, columns)
    table = TableFile(path, fmt, compressed, columns, tuple(str(row[1]) for row in schema))
    if fmt == "jsonl" and columns == ("json",) and table.types == ("JSON",):
        # DuckDB falls back to one 'json' column when a sampled line is not an object: find it.
        with contextlib.suppress(OSError, EOFError, UnicodeDecodeError, zlib.error):
            for _ in _iter_records(table):
                pass
    return table


_NESTED_PREFIXES = ("STRUCT", "MAP", "JSON", "UNION")


def infer_column_type(sniffed: str, bigint: bool, double: bool, boolean: bool) -> str:
    """The type of a text column from facts about *all* its values (not a sample).

    Narrowest first: BIGINT, DOUBLE, BOOLEAN; a nested JSON value stays JSON; else VARCHAR.
    """
    if bigint:
        return "BIGINT"
    if double:
        return "DOUBLE"
    if boolean:
        return "BOOLEAN"
    upper = sniffed.upper()
    if upper.startswith(_NESTED_PREFIXES) or upper.endswith("[]"):
        return "JSON"
    return "VARCHAR"


def whole_column_types(
    con: duckdb.DuckDBPyConnection, relation: str, columns: Sequence[tuple[str, str]]
) -> list[str]:
    """Infer, in one pass over an in-memory table of text columns, each column's real type.

    ``columns`` are (internal name, sniffed type). DuckDB sniffs types from the first rows only;
    a value past its sample would then be truncated (2.5 read as 2) or refused. Reading text and
    deciding over every value keeps values exact.
    """
    if not columns:
        return []
    checks = []
    for name, _ in columns:
        c = quote_ident(name)
        checks.append(
            # TRY_CAST rounds '4.6' to a BIGINT 5: require digits only, then that it fits.
            f"bool_and({c} IS NULL OR (regexp_full_match(trim({c}), '[+-]?[0-9]+') "
            f"AND TRY_CAST({c} AS BIGINT) IS NOT NULL)), "
            f"bool_and({c} IS NULL OR TRY_CAST({c} AS DOUBLE) IS NOT NULL), "
            f"bool_and({c} IS NULL OR lower({c}) IN ('true', 'false')), count({c})"
        )
    rows = con.execute(f"SELECT {', '.join(checks)} FROM {relation}").fetchall()
    facts = rows[0] if rows else ()
    types = []
    for i, (_, sniffed) in enumerate(columns):
        bigint, double, boolean, count = facts[4 * i : 4 * i + 4]
        if not count:  # no value at all: keep what the sniffer said
            types.append(sniffed if not sniffed.upper().startswith(_NESTED_PREFIXES) else "JSON")
        else:
            types.append(infer_column_type(sniffed, bool(bigint), bool(double), bool(boolean)))
    return types


def _text_expr(table: TableFile, column: str) -> str:
    """An expression giving ``column`` as text; integral floats lose their ``.0``."""
    ident = quote_ident(column)
    if table.format == "parquet" and table.type_of(column).upper() in _FLOAT_TYPES:
        return (
            f"CASE WHEN isfinite({ident}) AND {ident} = trunc({ident}) "
            f"THEN CAST(CAST({ident} AS HUGEINT) AS VARCHAR) ELSE CAST({ident} AS VARCHAR) END"
        )
    if table.format == "parquet":
        return f"CAST({ident} AS VARCHAR)"
    return ident


def scan_sql(
    table: TableFile,
    *,
    text: Sequence[str],
    numbers: Sequence[str],
    others: Sequence[str] = (),
    aliases: dict[str, str] | None = None,
) -> str:
    """A ``SELECT`` that reads ``table`` once, in file order.

    ``text`` columns (keys) come out as VARCHAR, ``numbers`` as DOUBLE (numeric strings coerced),
    ``others`` as sniffed. Output columns keep their names unless ``aliases`` renames them; the
    select list follows the order of ``table.columns``.
    """
    aliases = aliases or {}
    wanted = set(text) | set(numbers) | set(others)
    forced: dict[str, str] = dict.fromkeys(text, "VARCHAR") | dict.fromkeys(numbers, "DOUBLE")
    if table.format == "jsonl":
        # Listing the columns makes DuckDB cast while parsing; unlisted fields are skipped.
        fields = ", ".join(
            f"{quote_literal(c)}: {quote_literal(forced.get(c, table.type_of(c)))}"
            for c in table.columns
            if c in wanted
        )
        reader = _reader_sql(table.path, table.format, f", columns={{{fields}}}")
    elif table.format in ("csv", "tsv"):
        types = ", ".join(f"{quote_literal(c)}: {quote_literal(t)}" for c, t in forced.items())
        reader = _reader_sql(table.path, table.format, f", types={{{types}}}" if types else "")
    else:
        reader = _reader_sql(table.path, table.format)
    select = []
    for column in table.columns:
        if column not in wanted:
            continue
        if column in forced and table.format == "parquet":
            expr = (
                _text_expr(table, column)
                if forced[column] == "VARCHAR"
                else f"CAST({quote_ident(column)} AS DOUBLE)"
            )
        else:
            expr = quote_ident(column)
        select.append(f"{expr} AS {quote_ident(aliases.get(column, column))}")
    return f"SELECT {', '.join(select)} FROM {reader}"


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
    """Yield (line number where the record starts, record) in file order.

    Raises :class:`InputError` on a malformed JSONL line or one that is not an object.
    """
    with _open_text(table.path, table.compressed) as handle:
        if table.format == "jsonl":
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, _json_object(table.path, number, line)
        else:
            reader = csv.reader(handle, delimiter="\t" if table.format == "tsv" else ",")
            header = next(reader)
            start = reader.line_num + 1
            for row in reader:
                yield start, dict(zip(header, row, strict=False))
                start = reader.line_num + 1


HEAD_ROWS = 1000


def _text_numbers(table: TableFile, columns: Sequence[str]) -> set[str]:
    """Which of ``columns`` hold only numbers (or blanks, at least one number) in the first rows."""
    seen: dict[str, bool] = {}
    possible = set(columns)
    with contextlib.suppress(
        OSError, EOFError, UnicodeDecodeError, csv.Error, InputError, zlib.error
    ):
        for count, (_, record) in enumerate(_iter_records(table)):
            if count >= HEAD_ROWS or not possible:
                break
            for column in list(possible):
                value = record.get(column)
                if isinstance(value, str) and value.strip():
                    if _is_number_text(value):
                        seen[column] = True
                    else:
                        possible.discard(column)
    return {c for c in possible if seen.get(c)}


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
    if table.format == "parquet":
        return _bad_key_in_parquet(table, columns)
    with contextlib.suppress(OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error):
        for line, record in _iter_records(table):
            for column in columns:
                value = record.get(column)
                problem = key_problem(value)
                if problem is not None:
                    return f"line {line}", column, value, problem
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
            f"FROM read_parquet({file_argument(table.path)}, file_row_number=true) "
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
    if table.format == "parquet":
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
                f"column {column!r} is text (line {line} has {_shown(value)}, which is not a "
                "number)"
            )
        elif column in strings:
            line, value = strings[column]
            reasons.append(
                f"column {column!r} holds numbers as JSON strings (line {line} has "
                f"{_shown(value)}), which are read as numbers only when the column is named"
            )
        else:
            reasons.append(f"column {column!r} has no values in its first rows")
    return reasons


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else json.dumps(value)


def _parquet_not_numbers(table: TableFile, columns: Sequence[str]) -> list[str] | None:
    con = duckdb.connect()
    try:
        row = con.execute(
            f"SELECT count(*) FROM read_parquet({file_argument(table.path)})"
        ).fetchone()
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
    try:
        if table.format in ("csv", "tsv") and any(m in str(error) for m in _CSV_STRUCTURE):
            broken = csv_structure_error(table)
            if broken is not None:
                return broken
        if table.format == "parquet":
            located = _locate_in_parquet(table, numbers)
        else:
            located = _locate_bad_number(table, numbers)
    except InputError as exc:
        return exc
    except UnicodeDecodeError as exc:
        return _not_utf8_error(table.path, table.compressed, exc)
    except (OSError, EOFError, csv.Error, zlib.error) as exc:
        return InputError(f"{table.path}: cannot read ({exc})")
    if located is not None:
        where, column, value = located
        place = f"row {where + 1}" if table.format == "parquet" else f"line {where}"
        shown = json.dumps(value) if not isinstance(value, str) else repr(value)
        unplain = table.format == "jsonl" and isinstance(value, str) and _is_number_text(value)
        kind = "a plain number" if unplain else "a number"
        hint = (
            ' (in JSONL write numbers as JSON numbers or as strings like "2.5": no spaces, no +)'
            if unplain
            else ""
        )
        return InputError(
            f"{table.path} {place}: column {column!r} has {shown}, which is not {kind}{hint}; "
            "fix the value, or leave the column out (choose columns explicitly)"
        )
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return InputError(f"{table.path}: cannot read as {table.format} ({first_line})")


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


def csv_structure_error(table: TableFile) -> InputError | None:
    """The first place where a CSV/TSV file breaks the fixed dialect, or None.

    A row with more or fewer fields than the header, a quote that is never closed, text after a
    closing quote. DuckDB reports these as "Error when sniffing file" with no line (or with its
    own line count); this streams the file with Python's csv module to name the line. Error
    paths only.
    """
    delimiter = "\t" if table.format == "tsv" else ","
    separator = "tab" if table.format == "tsv" else "comma"
    path = table.path
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
                    return InputError(
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


def _csv_error(path: Path, exc: csv.Error, start: int, line: int) -> InputError:
    reason = str(exc)
    if "unexpected end of data" in reason:
        return InputError(
            f"{path} line {start}: a quote opened on this line is never closed (the quoted "
            "field runs to the end of the file); close the quote, and write a quote inside a "
            'quoted field twice ("")'
        )
    if "field limit" in reason:
        return InputError(
            f"{path} line {start}: a field longer than {_FIELD_LIMIT:,} characters starts "
            "here (a quote that is never closed?); close the quote, or shorten the field"
        )
    if "expected after" in reason:
        return InputError(
            f"{path} line {line}: text follows the closing quote of a quoted field; quote the "
            'whole field, and write a quote inside it twice ("")'
        )
    return InputError(f"{path} line {start}: not a valid CSV row ({reason}); fix the row")


def _locate_in_parquet(table: TableFile, numbers: Sequence[str]) -> tuple[int, str, object] | None:
    con = duckdb.connect()
    try:
        for column in numbers:
            if is_numeric_type(table.type_of(column)):
                continue
            ident = quote_ident(column)
            rows = con.execute(
                f"SELECT file_row_number, CAST({ident} AS VARCHAR) "
                f"FROM read_parquet({file_argument(table.path)}, file_row_number=true) "
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


# --- writing ---------------------------------------------------------------------------------

_WRITE_SUFFIXES: dict[str, TableFormat] = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet",
}  # fmt: skip


def output_format(path: Path) -> tuple[TableFormat, bool]:
    """The format to write ``path`` in, from its suffix, and whether to gzip it."""
    try:
        return table_format(path)
    except InputError:
        msg = (
            f"{path}: cannot write {''.join(path.suffixes) or 'a file with no suffix'}; "
            f"name the output with one of {SUPPORTED_SUFFIXES}"
        )
        raise UsageError(msg) from None


def copy_options(fmt: TableFormat, compressed: bool) -> str:
    """The options of DuckDB's ``COPY … TO`` for a format."""
    gz = ", COMPRESSION gzip" if compressed else ""
    if fmt == "jsonl":
        return f"(FORMAT json{gz})"
    if fmt == "parquet":
        return "(FORMAT parquet, COMPRESSION zstd)"
    delim = "\t" if fmt == "tsv" else ","
    return f"(FORMAT csv, HEADER true, DELIMITER {quote_literal(delim)}{gz})"


def finite_for_json(columns: Sequence[tuple[str, str]]) -> list[str]:
    """Select-list items that turn NaN and infinities into null (JSON has no NaN)."""
    items = []
    for name, duck_type in columns:
        ident = quote_ident(name)
        if duck_type.upper() in _FLOAT_TYPES:
            items.append(f"CASE WHEN isfinite({ident}) THEN {ident} END AS {ident}")
        else:
            items.append(ident)
    return items


def write_query(con: duckdb.DuckDBPyConnection, query: str, output: Path) -> int:
    """Write the result of ``query`` to ``output`` atomically; return the number of rows.

    The rows go to a temporary file in ``output``'s folder, renamed over ``output`` only when
    complete: on any failure nothing new is left at ``output`` (a previous file there is kept as
    it was) and the temporary file is removed.
    """
    fmt, compressed = output_format(output)
    folder = output.parent if str(output.parent) else Path()
    if not folder.is_dir():
        msg = f"{output}: the folder {folder} does not exist; create it first"
        raise UsageError(msg)
    tmp = folder / f".{output.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        if fmt == "jsonl":
            described = con.execute(f"DESCRIBE {query}").fetchall()
            finite = finite_for_json([(str(r[0]), str(r[1])) for r in described])
            query = f"SELECT {', '.join(finite)} FROM ({query})"
        copied = con.execute(
            f"COPY ({query}) TO {quote_literal(str(tmp.absolute()))} "
            f"{copy_options(fmt, compressed)}"
        ).fetchall()
        tmp.replace(output)
        return int(copied[0][0]) if copied and copied[0] and copied[0][0] is not None else 0
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0].replace(str(tmp), str(output))
        msg = f"{output}: cannot write ({reason})"
        raise InputError(msg) from None
    except OSError as exc:
        msg = f"{output}: cannot write ({exc.strerror or exc})"
        raise InputError(msg) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
