"""Writing a query's result to a table file atomically (temporary file, then rename)."""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from second_opinion._typing import TableFormat
from second_opinion.errors import InputError, InternalError, UsageError
from second_opinion.paths import not_a_file, not_a_folder
from second_opinion.tables.formats import (
    _FLOAT_TYPES,
    SUPPORTED_SUFFIXES,
    column_key,
    out_of_memory,
    quote_ident,
    quote_literal,
    table_format,
)
from second_opinion.tables.reading import _parquet_names

_WRITE_SUFFIXES: dict[str, TableFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


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
    if fmt == "json":
        return f"(FORMAT json, ARRAY true{gz})"
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


WIDE_JSON = 64
"""DOUBLE columns above which :func:`finite_json_query` makes them finite as one list."""


def finite_json_query(query: str, columns: Sequence[tuple[str, str]]) -> str:
    """``query`` with NaN and infinities turned into null (:func:`finite_for_json`). With more
    than :data:`WIDE_JSON` DOUBLE columns, those are made finite as one list, read back by
    position: DuckDB plans thousands of ``CASE``s in quadratic time (5,000: 8.7 s; the list:
    1.7 s)."""
    items = finite_for_json(columns)
    doubles = {
        name: i for i, (name, t) in enumerate(c for c in columns if c[1].upper() == "DOUBLE")
    }
    if len(doubles) <= WIDE_JSON:
        return f"SELECT {', '.join(items)} FROM ({query})"
    listed = ", ".join(quote_ident(name) for name in doubles)
    items = [
        f"__so_finite_json[{doubles[name] + 1}] AS {quote_ident(name)}" if name in doubles else item
        for (name, _), item in zip(columns, items, strict=True)
    ]
    inner = (
        f"SELECT *, list_transform([{listed}], lambda x: CASE WHEN isfinite(x) THEN x END) "
        f"AS __so_finite_json FROM ({query})"
    )
    return f"SELECT {', '.join(items)} FROM ({inner})"


def write_query(
    con: duckdb.DuckDBPyConnection,
    query: str,
    output: Path,
    *,
    columns: Sequence[str] | None = None,
    ready: Callable[[], None] | None = None,
) -> int:
    """Write the result of ``query`` to ``output`` atomically; return the number of rows.

    ``columns``: the header the caller reports (default: the query's column names). The query's
    names must be those, told apart as DuckDB tells names apart (ignoring case), and the header
    read back from the written file must be those too, or :class:`InternalError` is raised and
    nothing is written (DuckDB renames a second ``score``/``Score`` to ``score_1``).

    The rows go to a temporary file in ``output``'s folder, renamed over ``output`` only when
    complete: on any failure nothing new is left at ``output`` (a previous file there is kept as
    it was) and the temporary file is removed. A ``.json`` output is one document,
    ``{"rows": [...]}``: DuckDB writes the array, which is then wrapped.

    ``ready``: called once the rows are written and checked, before the rename; if it raises,
    nothing is put in place (a caller that wrote while it was still checking the inputs).
    """
    fmt, compressed = output_format(output)
    folder = output.parent if str(output.parent) else Path()
    problem = not_a_folder(folder)
    if problem is not None:
        fix = "create it first" if problem == "does not exist" else "name another folder"
        msg = f"{output}: the folder {folder} {problem}; {fix}"
        raise UsageError(msg)
    if (odd := not_a_file(output)) not in (None, "no such file"):  # a FIFO, a device, a loop
        msg = f"{output}: {odd.removesuffix('; give a regular file')}; name another output"
        raise UsageError(msg)
    token = uuid.uuid4().hex[:12]
    tmp = folder / f".{output.name}.{token}.tmp"
    array = folder / f".{output.name}.{token}.rows.tmp"
    target = array if fmt == "json" else tmp
    try:
        expected = list(columns) if columns is not None else None
        if fmt in ("jsonl", "json") or expected is None:  # planning a wide query takes a while
            rows = con.execute(f"DESCRIBE {query}").fetchall()
            described = [(str(r[0]), str(r[1])) for r in rows]
            expected = expected or [name for name, _ in described]
            # JSON selects by name: names must differ (but for case) before they are selected
            _check_header(output, [name for name, _ in described], expected)
            if fmt in ("jsonl", "json"):
                query = finite_json_query(query, described)
        copied = con.execute(
            f"COPY ({query}) TO {quote_literal(str(target.absolute()))} "
            f"{copy_options(fmt, compressed)}"
        ).fetchall()
        _check_header(output, written_header(con, target, fmt, compressed), expected)
        if fmt == "json":
            _wrap_rows(array, tmp)
        if ready is not None:
            ready()
        tmp.replace(output)
        return int(copied[0][0]) if copied and copied[0] and copied[0][0] is not None else 0
    except duckdb.Error as exc:
        if (exhausted := out_of_memory(output, exc)) is not None:
            raise exhausted from None
        reason = str(exc).strip().splitlines()[0].replace(str(target), str(output))
        msg = f"{output}: cannot write ({reason})"
        raise InputError(msg) from None
    except OSError as exc:
        msg = f"{output}: cannot write ({exc.strerror or exc})"
        raise InputError(msg) from None
    finally:
        for leftover in (tmp, array):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _wrap_rows(array: Path, target: Path) -> None:
    """Write ``{"rows": <the JSON array in array>}`` to ``target``, streaming."""
    with array.open("rb") as source, target.open("wb") as sink:
        sink.write(b'{"rows": ')
        shutil.copyfileobj(source, sink, 1 << 20)
        sink.write(b"}\n")


def _check_header(output: Path, header: Sequence[str] | None, expected: Sequence[str]) -> None:
    """Raise :class:`InternalError` unless ``header`` (None: a file with no rows, which shows
    no header) is ``expected``, with no two names equal but for case."""
    if header is None:
        return
    header = list(header)
    if header != list(expected) or len({column_key(n) for n in header}) != len(header):
        msg = (
            f"{output}: the written header ({', '.join(header)}) is not the reported one "
            f"({', '.join(expected)}), or repeats a name but for case; nothing was written"
        )
        raise InternalError(msg)


def written_header(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: TableFormat, compressed: bool
) -> list[str] | None:
    """The column names of a file just written, read back cheaply (the first line, or the
    Parquet schema); None for a JSON or JSONL file with no rows."""
    if fmt == "parquet":
        return _parquet_names(con, path)
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        if fmt in ("csv", "tsv"):
            return next(csv.reader(handle, delimiter="\t" if fmt == "tsv" else ","), [])
        if fmt == "json":  # DuckDB writes "[", then one row per line
            handle.readline()
        line = handle.readline().strip().rstrip(",")
    if not line or line == "]":
        return None
    pairs: list[tuple[str, object]] = json.loads(line, object_pairs_hook=list)
    return [name for name, _ in pairs]
