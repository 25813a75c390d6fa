"""Opening a table (existence, emptiness, column names, the schema from a sample) and the one
query that scans it (:func:`scan_sql`: keys as text, scores as float64)."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import duckdb

from second_opinion._typing import TableFormat
from second_opinion.errors import InternalError, SchemaError, UnreadableFileError
from second_opinion.tables.diagnosis import _format_label, _not_utf8_error, explain_scan_error
from second_opinion.tables.files import (
    _FIELD_LIMIT,
    STORED_TYPES,
    TableFile,
    _iter_records,
    _json_object,
    _open_text,
    _text_expr,
    json_rows,
    json_rows_key,
    undecided_in_head,
)
from second_opinion.tables.formats import (
    check_file,
    column_key,
    file_argument,
    is_numeric_type,
    quote_ident,
    quote_literal,
    table_format,
)
from second_opinion.tables.keys import WHITESPACE, sql_string
from second_opinion.tables.memory import MemoryTable, TablePath


def _first_json_object(path: Path, compressed: bool) -> None:
    """Check that the first non-blank line of a JSONL file is a JSON object."""
    with _open_text(path, compressed) as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                _check_names(path, list(_json_object(path, number, line)))
                return
    msg = f"{path}: file is empty (no JSON objects); write one JSON object per line"
    raise UnreadableFileError(msg)


JSON_OBJECT_LIMIT = (1 << 31) - 1
"""The largest JSON value DuckDB reads from a JSON table document (bytes)."""

HEADER_LIMIT = 1 << 20  # characters read when looking for a CSV/TSV header row


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
            raise UnreadableFileError(msg) from None
        msg = f"{path}: cannot read the header row ({exc}); fix the first line"
        raise UnreadableFileError(msg) from None
    if truncated and used.exhausted:
        raise UnreadableFileError(too_long)
    if not header or not any(cell.strip() for cell in header):
        msg = f"{path}: file is empty (no header row); the first line must name the columns"
        raise UnreadableFileError(msg)
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
    if fmt == "json":
        # The whole document is one value: no size limit, and types from every row.
        whole = f"sample_size=-1, maximum_object_size={JSON_OBJECT_LIMIT}{options}"
        if json_rows_key(path, path.suffix.lower() == ".gz"):
            document = f"read_json({lit}, format='unstructured', {whole})"
            return f"(SELECT unnest(rows, max_depth := 2) FROM {document})"
        return f"read_json({lit}, format='array', {whole})"
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


def _check_names(path: TablePath, names: Sequence[str]) -> None:
    """Refuse blank column names (DuckDB would rename them ``column1`` …), repeated names
    (DuckDB compares names ignoring case, and so do we) and names holding a NUL character
    (SQL text ends at a NUL)."""
    seen: dict[str, str] = {}
    for position, name in enumerate(names, start=1):
        if "\x00" in name:
            msg = f"{path}: column name {name!r} holds a NUL character; rename the column"
            raise SchemaError(msg)
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
            raise SchemaError(msg)
        if column_key(name) in seen:
            first = seen[column_key(name)]
            same = "" if first == name else f" (same as {first!r} but for case)"
            msg = (
                f"{path}: duplicate column name {name!r}{same} "
                f"(columns: {', '.join(names)}); give each column a unique name"
            )
            raise SchemaError(msg)
        seen[column_key(name)] = name


def open_table(
    con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str] | MemoryTable
) -> TableFile:
    """Open a table file: check it is readable and non-empty, and sniff its schema. An
    in-memory table is registered on ``con`` and its stored schema taken."""
    if isinstance(path, MemoryTable):
        return _open_memory(con, path)
    path = Path(path)
    fmt, compressed = table_format(path)
    check_file(path)
    try:
        if fmt == "jsonl":
            _first_json_object(path, compressed)
        elif fmt == "parquet":
            _check_names(path, _parquet_names(con, path))
        elif fmt == "json":
            rows = json_rows(path, compressed)
            if not rows:
                msg = f"{path}: the JSON table has no rows; write at least one row object"
                raise UnreadableFileError(msg)
            _check_names(path, list(rows[0]))
        else:
            _check_names(path, _csv_header(path, compressed, "\t" if fmt == "tsv" else ","))
    except UnicodeDecodeError as exc:
        raise _not_utf8_error(path, compressed, exc) from None
    except (OSError, EOFError, zlib.error) as exc:
        msg = f"{path}: cannot read ({exc})"
        raise UnreadableFileError(msg) from None
    except duckdb.Error as exc:
        msg = f"{path}: not a readable {fmt} file ({str(exc).strip().splitlines()[0]})"
        raise UnreadableFileError(msg) from None
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


def _open_memory(con: duckdb.DuckDBPyConnection, memory: MemoryTable) -> TableFile:
    """Register ``memory`` on ``con`` (DuckDB scans it in place) and take its schema."""
    _check_names(memory, memory.table.column_names)
    columns, types = zip(*memory.schema_in(con), strict=True)
    return TableFile(memory, "arrow", False, columns, types)


_NESTED_PREFIXES = ("STRUCT", "MAP", "JSON", "UNION")


def numeric_columns(con: duckdb.DuckDBPyConnection, table: TableFile) -> tuple[str, ...]:
    """The columns of ``table`` that hold numbers, decided over every value, never a sample.

    Parquet stores its types, and a JSON table's are read from every row. In CSV, TSV and JSONL
    a column DuckDB sniffed as numbers is numbers (a later value that is not one is refused,
    naming its line, when the column is read as numbers); a column sniffed otherwise whose first
    rows hold text is text. The rest, blank or numbers only in the first rows (a column empty
    for its first 25,000 rows is sniffed as text, or in JSONL as null), are decided over every
    value, in one more scan of those columns: numbers when every value is blank or a number (in
    JSONL, a JSON number) and one at least is.
    """
    sniffed = [c for c in table.columns if is_numeric_type(table.type_of(c))]
    if table.format in STORED_TYPES:
        return tuple(sniffed)
    undecided = undecided_in_head(table, [c for c in table.columns if c not in sniffed])
    if not undecided:
        return tuple(sniffed)
    aliases = {c: f"u{i}" for i, c in enumerate(undecided)}
    if table.format == "jsonl":
        fields = ", ".join(f"{quote_literal(c)}: 'JSON'" for c in undecided)
        reader = _reader_sql(table.file, table.format, f", columns={{{fields}}}")
        value = "json_type({0}) NOT IN ('NULL', 'BIGINT', 'UBIGINT', 'DOUBLE')"
        blank = "({0} IS NULL OR json_type({0}) = 'NULL')"
    else:
        reader = _reader_sql(table.file, table.format, ", all_varchar=true")
        value = "TRY_CAST(trim({0}) AS DOUBLE) IS NULL"
        blank = f"({{0}} IS NULL OR trim({{0}}, {sql_string(WHITESPACE)}) = '')"
    checks = [
        f"count(*) FILTER (WHERE NOT {blank.format(a)}), "
        f"count(*) FILTER (WHERE NOT {blank.format(a)} AND {value.format(a)})"
        for a in aliases.values()
    ]
    select = ", ".join(f"{quote_ident(c)} AS {a}" for c, a in aliases.items())
    try:
        row = con.execute(f"SELECT {', '.join(checks)} FROM (SELECT {select} FROM {reader})")
        facts = row.fetchall()[0]
    except duckdb.Error as exc:
        raise explain_scan_error(table, exc, numbers=()) from None
    found = {c for i, c in enumerate(undecided) if facts[2 * i] and not facts[2 * i + 1]}
    return tuple(c for c in table.columns if c in sniffed or c in found)


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


def scan_sql(
    table: TableFile,
    *,
    text: Sequence[str],
    numbers: Sequence[str],
    others: Sequence[str] = (),
    aliases: dict[str, str] | None = None,
    row_number: str | None = None,
) -> str:
    """A ``SELECT`` that reads ``table`` once, in file order.

    ``text`` columns (keys) come out as VARCHAR, ``numbers`` as DOUBLE (numeric strings coerced),
    ``others`` as sniffed. Output columns keep their names unless ``aliases`` renames them; the
    select list follows the order of ``table.columns``. ``row_number``: a column to add, the
    row's number in the file from 0 (a Parquet file only).
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
        reader = _reader_sql(table.file, table.format, f", columns={{{fields}}}")
    elif table.format in ("csv", "tsv"):
        types = ", ".join(f"{quote_literal(c)}: {quote_literal(t)}" for c, t in forced.items())
        reader = _reader_sql(table.file, table.format, f", types={{{types}}}" if types else "")
    elif isinstance(table.path, MemoryTable):
        reader = quote_ident(table.path.view)
    else:
        numbered = ", file_row_number=true" if row_number is not None else ""
        reader = _reader_sql(table.path, table.format, numbered)
    select = []
    for column in table.columns:
        if column not in wanted:
            continue
        if column in forced and table.format in STORED_TYPES:
            expr = (
                _text_expr(table, column)
                if forced[column] == "VARCHAR"
                else f"CAST({quote_ident(column)} AS DOUBLE)"
            )
        else:
            expr = quote_ident(column)
        select.append(f"{expr} AS {quote_ident(aliases.get(column, column))}")
    if row_number is not None:
        if table.format != "parquet" or isinstance(table.path, MemoryTable):
            msg = f"{table.path}: row numbers are read from Parquet files only"
            raise InternalError(msg)
        select.append(f"file_row_number AS {quote_ident(row_number)}")
    return f"SELECT {', '.join(select)} FROM {reader}"
