"""Row-aligned sidecars: a score matrix with no key, aligned to a key list by row order.

A scorer's output is often a bare matrix (MATLAB ``.mat``, NumPy ``.npy``/``.npz``, a headerless
CSV) whose rows follow the corpus's row order. ``align: {keys_from, column}`` names the table
holding the keys in that order; row *i* of the matrix is the clip whose key is on row *i* of that
column. The joiner turns the pair into an ordinary per-clip sidecar (a Parquet file in its scratch
folder, keyed by the base key column), so every join rule — key normalisation, missing and
duplicate policies, non-finite values, coverage — applies unchanged.

* The matrix is read by :func:`second_opinion.matrices.read_matrix` (``variable`` picks one
  in a ``.mat``/``.npz`` file); N×M, N×1 and 1×N (one score per clip) shapes.
* Keys are read as text, in file order; a missing (null, empty or blank) key, one holding a NUL
  and a JSON object or array are errors naming the line.
* The matrix must have exactly one row per key: otherwise an error gives both counts.
* Column names: ``columns`` as a list of M names, or a pattern with ``{i}`` (1-based, e.g.
  ``f{i:02d}``), default ``f{i}``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from second_opinion.errors import InputError, KeyProblemError, UsageError
from second_opinion.join.patterns import format_column_pattern, parse_column_pattern
from second_opinion.join.spec import SidecarSpec
from second_opinion.join.spelling import SidecarSpelling
from second_opinion.tables.diagnosis import explain_scan_error, locate_bad_key
from second_opinion.tables.formats import quote_ident
from second_opinion.tables.keys import bad_key_message, key_problem, may_be_json
from second_opinion.tables.memory import file_of
from second_opinion.tables.reading import open_table, scan_sql

DEFAULT_PATTERN = "f{i}"


def column_names(spec: SidecarSpec, count: int, say: SidecarSpelling) -> tuple[str, ...]:
    """The names of a score matrix's ``count`` columns, from ``spec.columns``."""
    columns = spec.columns
    if columns is None or isinstance(columns, str):
        pattern = columns or DEFAULT_PATTERN
        try:
            parts = parse_column_pattern(pattern)  # validated already; never str.format
        except ValueError as exc:
            msg = f"sidecar {spec.scorer!r}: {exc}"
            raise UsageError(msg) from None
        return tuple(format_column_pattern(parts, i) for i in range(1, count + 1))
    if len(columns) != count:
        msg = (
            f"sidecar {spec.scorer!r}: {say.named('columns')} lists {len(columns)} names but "
            f"{file_of(spec.path).name} has {count} column{'s' if count != 1 else ''}; "
            f"list {count} name{'s' if count != 1 else ''}, or give a "
            "pattern such as 'f{i:02d}'"
        )
        raise UsageError(msg)
    return columns


def read_keys(con: duckdb.DuckDBPyConnection, spec: SidecarSpec, say: SidecarSpelling) -> list[str]:
    """The keys of ``spec.align``, as text, in file order; a missing key is an error."""
    align = spec.align
    if align is None:
        msg = f"sidecar {spec.scorer!r} is not a score matrix (no align)"
        raise UsageError(msg)
    table = open_table(con, align.keys_from)
    fix = say.choose(
        python=f"fix align.column of {spec.scorer!r} (a column of it)",
        cli=f"fix the COLUMN of --align {spec.scorer}:{align.keys_from}:COLUMN (a column of it)",
        manifest=f"fix {say.name('align')}.column (a column of it)",
    )
    table.require([align.column], "key column", fix)
    table.require_flat_keys([align.column])
    query = scan_sql(table, text=[align.column], numbers=())
    try:
        rows = con.execute(f"SELECT {quote_ident(align.column)} FROM ({query})").fetchall()
    except duckdb.Error as exc:
        raise explain_scan_error(table, exc, numbers=()) from None
    keys = [row[0] for row in rows]
    for index, key in enumerate(keys):
        problem = key_problem(key)
        if problem in ("empty", "blank"):
            msg = (
                f"{table.path} {table.location(index)}: the key column {align.column!r} is "
                f"empty; every row of a score matrix needs a key (sidecar {spec.scorer!r})"
            )
            raise KeyProblemError(msg)
        if problem is not None or (table.format == "jsonl" and may_be_json(key)):
            # A NUL, or text that may have been a JSON object: the file names the first one.
            found = locate_bad_key(table, [align.column])
            if found is not None:
                place, column, value, kind = found
                msg = bad_key_message(
                    where=f"{table.path} {place}",
                    key=[column],
                    column=column,
                    value=value,
                    problem=kind,
                    every="row",
                )
                raise KeyProblemError(msg)
    return [str(key) for key in keys]


def write_aligned(
    con: duckdb.DuckDBPyConnection,
    spec: SidecarSpec,
    key_column: str,
    folder: Path,
    say: SidecarSpelling,
) -> tuple[Path, tuple[str, ...]]:
    """Write the matrix of ``spec`` with its keys as a Parquet table in ``folder``; messages
    name options as ``say`` spells them.

    Returns the table's path and its score columns; the key column is named ``key_column``.
    """
    # NumPy and pyarrow load only when a score matrix is met (a join without one never needs them)
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    from second_opinion.matrices.core import VariableOption  # noqa: PLC0415
    from second_opinion.matrices.read import read_matrix  # noqa: PLC0415

    option = VariableOption()  # a Python caller's: variable='y_pred'
    if say.surface != "python":
        option = VariableOption(
            say.name("variable", "NAME"), lambda name: say.setting({"variable": name})
        )
    matrix = read_matrix(file_of(spec.path), spec.variable, option=option)
    keys = read_keys(con, spec, say)
    align = spec.align
    assert align is not None  # noqa: S101 - read_keys checked it
    if matrix.values.shape[0] != len(keys):
        what = f"variable {matrix.variable!r} of " if matrix.variable else ""
        msg = (
            f"{spec.path}: {what}the matrix has {matrix.values.shape[0]} rows but "
            f"{align.keys_from} has {len(keys)} keys in column {align.column!r}; a score matrix "
            "needs exactly one row per key, in the same order"
        )
        raise InputError(msg)
    names = column_names(spec, matrix.values.shape[1], say)
    if key_column in names or len(set(names)) != len(names):
        msg = (
            f"sidecar {spec.scorer!r}: the column names {list(names)} repeat a name or the key "
            f"{key_column!r}; give distinct names in {say.named('columns')}"
        )
        raise UsageError(msg)
    arrays = {key_column: pa.array(keys, type=pa.string())}
    arrays |= {name: pa.array(matrix.values[:, i]) for i, name in enumerate(names)}
    target = folder / f"aligned-{spec.scorer}.parquet"
    pq.write_table(pa.table(arrays), target)
    return target, names
