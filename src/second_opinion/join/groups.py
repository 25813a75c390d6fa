"""A table sidecar split by scorer (``scorer_column``): one per-clip table per scorer value.

One file may hold several scorers' rows (a ``competitor`` column). The table is read once into
DuckDB, its keys and scorer values checked against the file (so messages name its lines), and
each scorer's rows are written, in file order and without the scorer column, as a Parquet table
into the join's scratch folder; each is then joined as an ordinary sidecar of its own, its output
columns prefixed by that scorer's slug. A row whose scorer value is null or blank belongs to the
sidecar's own scorer (``scorer_fallback``), or is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from second_opinion.errors import InputError
from second_opinion.join.key_checks import check_keys
from second_opinion.join.plan import Base, Owners, Sidecar, key_map_fix, plan_sidecar
from second_opinion.join.session import JoinSession, first_row
from second_opinion.join.spec import SidecarSpec, scorer_slug
from second_opinion.join.spelling import SidecarSpelling
from second_opinion.join.wrapper import plan_wrapper
from second_opinion.tables.diagnosis import explain_scan_error
from second_opinion.tables.files import TableFile
from second_opinion.tables.formats import quote_ident, quote_literal
from second_opinion.tables.keys import WHITESPACE, sql_string
from second_opinion.tables.reading import open_table, scan_sql


def plan_sidecars(
    session: JoinSession, *, spec: SidecarSpec, index: int, base: Base, owners: Owners
) -> tuple[Sidecar, ...]:
    """Plan sidecar number ``index``: one planned sidecar, or one per scorer of a grouped one
    (wrapper records, ``scorer_column``); claim their output names in ``owners``."""
    if spec.records == "wrapper":
        return plan_wrapper(session, spec=spec, index=index, base=base, owners=owners)
    if spec.scorer_column is None:
        return (plan_sidecar(session, spec=spec, index=index, base=base, owners=owners),)
    table = open_table(session.con, spec.path)
    keys = [spec.sidecar_key(k) for k in base.key]
    say = session.spelling.sidecar(index, spec.scorer)
    table.require(keys, "key column", key_map_fix(say, base.key[0]))
    table.require_flat_keys(keys)
    groups = split_groups(
        session.con,
        spec=spec,
        table=table,
        keys=keys,
        folder=session.scratch(),
        index=index,
        say=say,
    )
    return tuple(
        plan_sidecar(
            session,
            spec=spec,
            index=index,
            base=base,
            owners=owners,
            group=(scorer, open_table(session.con, path), number),
        )
        for number, (scorer, path) in enumerate(groups)
    )


def split_groups(
    con: duckdb.DuckDBPyConnection,
    *,
    spec: SidecarSpec,
    table: TableFile,
    keys: Sequence[str],
    folder: Path,
    index: int,
    say: SidecarSpelling,
) -> list[tuple[str, Path]]:
    """Write each scorer's rows of ``table`` as a Parquet table in ``folder``; return
    (scorer, path) pairs in sorted order of the scorer."""
    column = spec.scorer_column
    if column is None:
        msg = f"sidecar {spec.scorer!r} has no scorer_column"
        raise InputError(msg)
    table.require([column], "scorer column", f"fix {say.name('scorer_column')}")
    if spec.status_column is not None:
        table.require([spec.status_column], "status column", f"fix {say.name('status_column')}")
    text = [*keys, column] + ([spec.status_column] if spec.status_column else [])
    others = [c for c in table.columns if c not in text]
    relation = f"so_split_{index}"
    query = scan_sql(table, text=text, numbers=(), others=others)
    try:
        con.execute(f"CREATE TABLE {relation} AS {query}")
    except duckdb.Error as exc:
        raise explain_scan_error(table, exc, numbers=()) from None
    check_keys(
        con,
        table=table,
        relation=relation,
        columns=[quote_ident(k) for k in keys],
        names=keys,
        source=table.path,
        every="row",
    )
    value = f"nullif(trim({quote_ident(column)}, {sql_string(WHITESPACE)}), '')"
    if not spec.scorer_fallback:
        row = first_row(con, f"SELECT min(rowid) FROM {relation} WHERE {value} IS NULL")
        if row is not None and row[0] is not None:
            msg = (
                f"{table.path} {table.location(int(row[0]))}: the scorer column {column!r} is "
                f"empty; name the row's scorer, or let it be {spec.scorer!r}'s: "
                + say.choose(
                    python=f"set {say.name('scorer_fallback')} to True",
                    cli=f"leave out {say.setting({'scorer_fallback': False})}",
                    manifest=say.setting({"scorer_fallback": True}),
                )
            )
            raise InputError(msg)
    group = f"coalesce({value}, {quote_literal(spec.scorer)})"
    names = sorted(
        str(r[0]) for r in con.execute(f"SELECT DISTINCT {group} FROM {relation}").fetchall()
    )
    written = []
    for number, name in enumerate(names):
        if "\x00" in name or not scorer_slug(name):
            msg = (
                f"{table.path}: the scorer column {column!r} holds {name!r}, which gives no "
                "column name (it needs a letter or a digit); fix the value"
            )
            raise InputError(msg)
        target = folder / f"group-{index}-{number}.parquet"
        con.execute(
            f"COPY (SELECT * EXCLUDE ({quote_ident(column)}) FROM {relation} "
            f"WHERE {group} = {quote_literal(name)} ORDER BY rowid) "
            f"TO {quote_literal(str(target))} (FORMAT parquet)"
        )
        written.append((name, target))
    con.execute(f"DROP TABLE {relation}")
    return written
