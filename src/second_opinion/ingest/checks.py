"""The checks of the source's values: MOS, std and count values, clip ids, column names, scale.

:func:`drop_missing_mos` and :func:`checked_number` run on the raw table (``so_raw``) while a
metadata table is loaded; the others on the loaded source (``so_src``).
"""

from __future__ import annotations

import math

import duckdb

from second_opinion.errors import InputError
from second_opinion.ingest.canonical import CANONICAL_COLUMNS
from second_opinion.ingest.errors import (
    ColumnClashError,
    DuplicateIdError,
    MissingIdError,
    MissingMosError,
    ScaleError,
)
from second_opinion.ingest.presets import format_scale
from second_opinion.ingest.report import EXAMPLES, DroppedRow
from second_opinion.ingest.source import Source, double_sql, number_sql, scalar
from second_opinion.tables.files import TableFile
from second_opinion.tables.formats import quote_ident

# --- while loading a metadata table ------------------------------------------------------------


def _why_not_a_mos(column: str, raw: object) -> str:
    """Why a text cell is not a MOS: empty, not a number, or not a finite number."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return f"column {column!r} is empty"
    try:
        non_finite = "_" not in text and not math.isfinite(float(text))
    except ValueError:
        non_finite = False
    kind = "a finite number" if non_finite else "a number"
    return f"column {column!r} has {raw!r}, which is not {kind}"


def drop_missing_mos(
    con: duckdb.DuckDBPyConnection, source: Source, column: str, score: str, *, drop: bool
) -> None:
    """Refuse rows without a finite MOS, or count and list them with ``drop_missing_mos``."""
    bad = scalar(con, f"SELECT count(*) FROM so_raw WHERE {score} IS NULL")
    if not bad:
        return
    ident = quote_ident(column)
    rows = con.execute(
        f"SELECT rowid, {ident} FROM so_raw WHERE {score} IS NULL ORDER BY rowid LIMIT "
        f"{EXAMPLES if drop else 1}"
    ).fetchall()
    mos = source.mos_column
    examples = []
    for index, raw in rows:
        examples.append(DroppedRow(source.locate(int(index)), _why_not_a_mos(mos, raw)))
    if not drop:
        first = examples[0]
        total = scalar(con, "SELECT count(*) FROM so_raw")
        msg = (
            f"{source.path} {first.where}: {first.reason}; fix the value, or pass "
            f"--drop-missing-mos to drop rows without a numeric MOS "
            f"({bad} of {total} rows lack one)"
        )
        raise MissingMosError(msg)
    if bad == scalar(con, "SELECT count(*) FROM so_raw"):
        msg = (
            f"{source.path}: no row has a numeric MOS in column {mos!r} (all {bad} would be "
            "dropped); check the column, or name the MOS column with --mos-column"
        )
        raise MissingMosError(msg)
    source.dropped = int(bad)
    source.dropped_rows = tuple(examples)


def checked_number(
    con: duckdb.DuckDBPyConnection,
    table: TableFile,
    column: str | None,
    aliases: dict[str, str],
    score: str,
    *,
    integral: bool,
) -> str:
    """The SQL for an optional std or count column, after refusing values that are not."""
    if column is None:
        return "NULL"
    value = number_sql(aliases[column])
    ident = quote_ident(aliases[column])
    invalid = f"{value} < 0" + (
        f" OR {value} <> trunc({value}) OR {value} >= 9.2e18" if integral else ""
    )
    rows = con.execute(
        f"SELECT rowid, {ident} FROM so_raw WHERE {score} IS NOT NULL AND "
        f"nullif(trim({ident}), '') IS NOT NULL AND ({value} IS NULL OR {invalid}) "
        "ORDER BY rowid LIMIT 1"
    ).fetchall()
    if rows:
        index, raw = rows[0]
        what = (
            "a count of ratings (a whole number ≥ 0)"
            if integral
            else ("a standard deviation (a finite number ≥ 0)")
        )
        flag = "--n-ratings-column" if integral else "--mos-std-column"
        msg = (
            f"{table.path} {table.location(int(index))}: column {column!r} has {raw!r}, "
            f"which is not {what}; fix the value, or name another column with {flag}"
        )
        raise InputError(msg)
    return value


# --- on the loaded source ----------------------------------------------------------------------


def check_clashes(source: Source) -> None:
    """Refuse a kept source column whose name is a canonical one (in any case)."""
    canonical = {c.casefold(): c for c in CANONICAL_COLUMNS}
    for name, _ in source.others:
        if name.casefold() in canonical:
            msg = (
                f"{source.path}: column {name!r} would be kept as it is, but the canonical "
                f"table has a column {canonical[name.casefold()]!r} "
                f"(canonical: {', '.join(CANONICAL_COLUMNS)}); rename it in the source"
            )
            raise ColumnClashError(msg)


def check_ids(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Refuse empty and repeated clip ids."""
    row = con.execute(
        "SELECT __i FROM so_src WHERE __id IS NULL OR trim(__id) = '' ORDER BY __i LIMIT 1"
    ).fetchall()
    if row:
        msg = (
            f"{source.path} {source.locate(int(row[0][0]))}: the clip id "
            f"(column {source.id_column!r}) is empty; every clip needs an id — fill it in "
            "or remove the row"
        )
        raise MissingIdError(msg)
    pair = con.execute(
        "SELECT __id, first_i, __i FROM (SELECT __id, __i, "
        "min(__i) OVER (PARTITION BY __id) AS first_i, "
        "row_number() OVER (PARTITION BY __id ORDER BY __i) AS k FROM so_src) "
        "WHERE k = 2 ORDER BY __i LIMIT 1"
    ).fetchall()
    if pair:
        clip, first, second = pair[0]
        repeated = scalar(
            con, "SELECT count(*) FROM (SELECT __id FROM so_src GROUP BY __id HAVING count(*) > 1)"
        )
        more = f" ({repeated - 1} more ids repeat)" if repeated > 1 else ""
        msg = (
            f"{source.path}: clip id {clip!r} (column {source.id_column!r}) is on two rows, "
            f"{source.locate(int(first))} and {source.locate(int(second))}{more}; ids must "
            "be unique — remove the repeated row or fix its id"
        )
        raise DuplicateIdError(msg)


def check_scale(con: duckdb.DuckDBPyConnection, source: Source, corpus: str, *, allow: bool) -> int:
    """Refuse (or count, with ``allow_out_of_scale``) scores outside the scale."""
    low, high = source.scale
    outside = f"__score < {double_sql(low)} OR __score > {double_sql(high)}"
    count = int(scalar(con, f"SELECT count(*) FROM so_src WHERE {outside}"))
    if not count or allow:
        return count
    index, clip, value = con.execute(
        f"SELECT __i, __id, __score FROM so_src WHERE {outside} ORDER BY __i LIMIT 1"
    ).fetchall()[0]
    what = "DMOS" if source.kind == "dmos" else "MOS"
    msg = (
        f"{source.path} {source.locate(int(index))}: {what} {value!r} of clip {clip!r} "
        f"(column {source.mos_column!r}) is outside the {corpus} scale "
        f"{format_scale(source.scale)} ({count} rows are); check the preset and the column, "
        "pass --mos-scale LOW,HIGH with the scale the file uses, or --allow-out-of-scale to "
        "keep such rows (their mos_01 leaves [0, 1])"
    )
    raise ScaleError(msg)
