"""Reading the metadata table: pick the id, MOS, std and count columns, load the rows.

The role columns are read as text, so that a value that is not a number is reported with its
row and value. Other columns keep their types; those whose type DuckDB only sniffed (every one
in CSV and TSV, numeric ones in JSONL) are read as text and typed from all their values.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import duckdb

from second_opinion.errors import InputError, InternalError, UsageError
from second_opinion.ingest.checks import checked_number, drop_missing_mos
from second_opinion.ingest.errors import ColumnNotFoundError
from second_opinion.ingest.options import IngestOptions
from second_opinion.ingest.presets import Preset, Scale
from second_opinion.ingest.source import Source, number_sql, scalar
from second_opinion.tables.diagnosis import explain_scan_error
from second_opinion.tables.files import STORED_TYPES, TableFile
from second_opinion.tables.formats import is_numeric_type
from second_opinion.tables.reading import open_table, scan_sql, whole_column_types


def _table_scale(options: IngestOptions, preset: Preset) -> Scale:
    scale = options.mos_scale or preset.scale
    if scale is None:  # IngestOptions requires mos_scale for the presets without one
        msg = f"preset {preset.name!r} has no scale and none was given"
        raise InternalError(msg)
    return scale


def _pick(
    preset: Preset, table: TableFile, role: str, given: str | None, names: Sequence[str], flag: str
) -> str:
    """The column for ``role``: the one given, else the first of the preset's names."""
    if given is not None:
        if given not in table.columns:
            close = difflib.get_close_matches(given, table.columns, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = (
                f"{table.path}: {role} column {given!r} ({flag}) not found{hint} "
                f"(columns: {', '.join(table.columns)}); name one of those with {flag}"
            )
            raise ColumnNotFoundError(msg)
        return given
    for name in names:
        if name in table.columns:
            return name
    accepted = " or ".join(repr(n) for n in names)
    msg = (
        f"{table.path}: {role} column {accepted} of preset {preset.name!r} not found "
        f"(columns: {', '.join(table.columns)}); name the {role} column with {flag}, "
        "or check that the file is a table of that corpus"
    )
    raise ColumnNotFoundError(msg)


def _pick_optional(
    preset: Preset, table: TableFile, role: str, given: str | None, names: Sequence[str], flag: str
) -> str | None:
    if given is None and not any(n in table.columns for n in names):
        return None
    return _pick(preset, table, role, given, names, flag)


def load_table(con: duckdb.DuckDBPyConnection, options: IngestOptions, preset: Preset) -> Source:
    """Load the metadata table into ``so_src``, after checking its columns and values."""
    table = open_table(con, options.metadata)
    id_col = _pick(preset, table, "id", options.id_column, preset.id_columns, "--id-column")
    mos_col = _pick(preset, table, "MOS", options.mos_column, preset.mos_columns, "--mos-column")
    std_col = _pick_optional(
        preset, table, "MOS std", options.mos_std_column, preset.mos_std_columns, "--mos-std-column"
    )
    n_col = _pick_optional(
        preset,
        table,
        "ratings count",
        options.n_ratings_column,
        preset.n_ratings_columns,
        "--n-ratings-column",
    )
    roles = {"--id-column": id_col, "--mos-column": mos_col}
    roles |= {"--mos-std-column": std_col} if std_col else {}
    roles |= {"--n-ratings-column": n_col} if n_col else {}
    picked = list(roles.items())
    for i, (flag, column) in enumerate(picked):
        for other_flag, other in picked[:i]:
            if column == other:
                msg = (
                    f"{table.path}: column {column!r} would be both the {other_flag} and "
                    f"the {flag} column; name another column with {flag}"
                )
                raise UsageError(msg)
    text = [c for c in (id_col, mos_col, std_col, n_col) if c is not None]
    aliases = {c: f"c{i}" for i, c in enumerate(table.columns)}
    others = [c for c in table.columns if c not in text]
    if table.format in STORED_TYPES:
        doubtful: list[str] = []
    elif table.format == "jsonl":
        doubtful = [c for c in others if is_numeric_type(table.type_of(c))]
    else:
        doubtful = others
    kept = [c for c in others if c not in doubtful]
    query = scan_sql(table, text=[*text, *doubtful], numbers=(), others=kept, aliases=aliases)
    try:
        con.execute(f"CREATE TEMP TABLE so_raw AS {query}")
    except duckdb.Error as exc:
        raise explain_scan_error(table, exc, numbers=()) from None
    if not scalar(con, "SELECT count(*) FROM so_raw"):
        msg = f"{table.path}: the table has no rows"
        raise InputError(msg)
    typed = dict(
        zip(
            doubtful,
            whole_column_types(con, "so_raw", [(aliases[c], table.type_of(c)) for c in doubtful]),
            strict=True,
        )
    )
    source = Source(
        path=table.path,
        id_column=id_col,
        mos_column=mos_col,
        kind=preset.kind,
        scale=_table_scale(options, preset),
        locate=table.location,
        has_std=std_col is not None,
        has_n=n_col is not None,
    )
    score = number_sql(aliases[mos_col])
    drop_missing_mos(con, source, aliases[mos_col], score, drop=options.drop_missing_mos)
    std = checked_number(con, table, std_col, aliases, score, integral=False)
    n = checked_number(con, table, n_col, aliases, score, integral=True)
    select = [
        "rowid AS __i",
        f"{aliases[id_col]} AS __id",
        f"{score} AS __score",
        f"{std} AS __std",
        f"CAST({n} AS BIGINT) AS __n",
    ]
    for column in others:
        alias = aliases[column]
        if column in typed:
            select.append(f"CAST({alias} AS {typed[column]}) AS {alias}")
        else:
            select.append(alias)
        source.others.append((column, alias))
    if preset.kind == "dmos":  # the DMOS itself is kept, as a number, under its own name
        position = table.columns.index(mos_col)
        before = sum(1 for c in others if table.columns.index(c) < position)
        source.others.insert(before, (mos_col, "__score"))
    con.execute(
        f"CREATE TEMP TABLE so_src AS SELECT {', '.join(select)} FROM so_raw "
        f"WHERE {score} IS NOT NULL ORDER BY rowid"
    )
    return source
