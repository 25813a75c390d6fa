"""Writing a query's result to a table file atomically (temporary file, then rename)."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import duckdb

from second_opinion._typing import TableFormat
from second_opinion.errors import InputError, UsageError
from second_opinion.paths import not_a_file, not_a_folder
from second_opinion.tables.formats import (
    _FLOAT_TYPES,
    SUPPORTED_SUFFIXES,
    out_of_memory,
    quote_ident,
    quote_literal,
    table_format,
)

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


def write_query(con: duckdb.DuckDBPyConnection, query: str, output: Path) -> int:
    """Write the result of ``query`` to ``output`` atomically; return the number of rows.

    The rows go to a temporary file in ``output``'s folder, renamed over ``output`` only when
    complete: on any failure nothing new is left at ``output`` (a previous file there is kept as
    it was) and the temporary file is removed. A ``.json`` output is one document,
    ``{"rows": [...]}``: DuckDB writes the array, which is then wrapped.
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
        if fmt in ("jsonl", "json"):
            described = con.execute(f"DESCRIBE {query}").fetchall()
            finite = finite_for_json([(str(r[0]), str(r[1])) for r in described])
            query = f"SELECT {', '.join(finite)} FROM ({query})"
        copied = con.execute(
            f"COPY ({query}) TO {quote_literal(str(target.absolute()))} "
            f"{copy_options(fmt, compressed)}"
        ).fetchall()
        if fmt == "json":
            _wrap_rows(array, tmp)
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
