"""Table formats and the table engine's plumbing: suffixes, DuckDB connections, quoting,
and file paths DuckDB reads as exactly that file."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import duckdb

from second_opinion._typing import TableFormat
from second_opinion.errors import UnreadableFileError, UsageError
from second_opinion.paths import not_a_file, resolved

_READ_SUFFIXES: dict[str, TableFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


SUPPORTED_SUFFIXES = ".jsonl, .ndjson, .json, .csv, .tsv (each optionally .gz), .parquet and .pq"


_NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "REAL",
)


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
    con = _open(engine, config, limit_name="--memory-limit")
    con.execute("SET enable_progress_bar = false")
    _ENGINE.set(engine)
    return con


_ENGINE: ContextVar[Engine | None] = ContextVar("second_opinion_engine", default=None)
"""The limits of the connection this thread opened last: what an out-of-memory error names."""


def out_of_memory(subject: object | None, error: BaseException) -> UsageError | None:
    """For DuckDB running out of memory (or of room to spill) while working on ``subject``: an
    error naming the memory limit, the spill folder and the fix, not blaming the input. None for
    any other error."""
    text = str(error).strip()
    if not isinstance(error, duckdb.OutOfMemoryException) and not (
        isinstance(error, duckdb.Error) and "Out of Memory Error" in text
    ):
        return None
    engine = _ENGINE.get() or Engine()
    with duckdb.connect() as defaults:  # DuckDB's own, where the engine set none
        limit, folder = defaults.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchall()[0]
    limit = (
        f"{engine.memory_limit} (--memory-limit)"
        if engine.memory_limit
        else f"{limit} (DuckDB's default; set one with --memory-limit)"
    )
    spill = (
        f"{engine.temp_dir} (--temp-dir)"
        if engine.temp_dir
        else f"{Path(folder).absolute()} (DuckDB's default; choose one with --temp-dir)"
    )
    cause = text.splitlines()[0].removeprefix("Out of Memory Error: ")
    msg = (
        f"{f'{subject}: ' if subject is not None else ''}the table engine ran out of memory "
        f"({cause}) under the memory limit "
        f"{limit}, spilling to the folder {spill}; the input is not at fault: raise "
        "--memory-limit, point --temp-dir at a folder on a disk with free space, or run fewer "
        "jobs at once (--jobs)"
    )
    return UsageError(msg)


def check_engine(engine: Engine, *, limit_name: str = "--memory-limit") -> None:
    """Refuse, before any work, an engine DuckDB cannot use: a memory limit it cannot read is a
    :class:`UsageError` naming the limit as ``limit_name`` (the CLI flag, or a Python keyword)."""
    _open(engine, {}, limit_name=limit_name).close()


def _open(
    engine: Engine | None, config: dict[str, str], *, limit_name: str
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` with ``engine``'s limits; an unreadable limit named as ``limit_name``."""
    settings: dict[str, str | bool | int | float | list[str]] = dict(config)
    if engine is not None and engine.temp_dir is not None:
        settings["temp_directory"] = str(engine.temp_dir)
    if engine is not None and engine.memory_limit is not None:
        settings["memory_limit"] = engine.memory_limit
    try:
        return duckdb.connect(":memory:", config=settings)
    except duckdb.Error as exc:
        limit = engine.memory_limit if engine is not None else None
        msg = (
            f"{limit_name} {limit!r}: DuckDB cannot use it ({str(exc).strip().splitlines()[0]});"
            " give a size such as 4GB or 512MB"
        )
        raise UsageError(msg) from None


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (``b`` need not exist)."""
    try:
        return resolved(a) == resolved(b) or (b.exists() and a.samefile(b))
    except OSError:
        return False


def column_key(name: str) -> str:
    """A column name as DuckDB compares names: ignoring case (``Score`` and ``score`` are one
    column; DuckDB renames the second to ``score_1``). Folded with Unicode's full case folding,
    a little stricter than DuckDB, so two names it tells apart may be refused, never the
    reverse."""
    return name.casefold()


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
        raise UnreadableFileError(msg)
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
        raise UnreadableFileError(msg)
    return fmt, compressed


def table_stem(path: Path) -> str:
    """The file name without its table suffix (and ``.gz``): ``konvid.jsonl.gz`` → ``konvid``.
    A name with no table suffix is returned whole."""
    name = path.name
    lowered = name.lower()
    if lowered.endswith(".gz"):
        name, lowered = name[:-3], lowered[:-3]
    for suffix in _READ_SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name or path.name


def check_file(path: Path) -> None:
    """Refuse a path that is not a file, or an empty one, naming it."""
    problem = not_a_file(path)
    if problem is not None:
        msg = f"{path}: {problem}"
        raise UnreadableFileError(msg)
    if path.stat().st_size == 0:
        msg = f"{path}: file is empty (0 bytes)"
        raise UnreadableFileError(msg)
