"""Keys that cannot identify a clip, refused once the tables are loaded.

The base's keys must be present, usable (:func:`second_opinion.tables.keys.key_problem`: not
null, blank or holding a NUL, not a JSON object) and unique, and stay unique once normalised as
each sidecar asks; a sidecar's keys must be usable. Each refusal is a :class:`KeyProblemError`
naming the file, the line and the key.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from second_opinion.errors import KeyProblemError
from second_opinion.join.keys import key_text, normalize_sql
from second_opinion.join.plan import EXAMPLES, Base, Sidecar
from second_opinion.join.session import first_row, scalar
from second_opinion.tables.diagnosis import locate_bad_key
from second_opinion.tables.files import TableFile
from second_opinion.tables.keys import bad_key_message, bad_key_sql, key_problem
from second_opinion.tables.memory import TablePath


def check_keys(
    con: duckdb.DuckDBPyConnection,
    *,
    table: TableFile,
    relation: str,
    columns: Sequence[str],
    names: Sequence[str],
    source: TablePath,
    every: str,
) -> None:
    """Refuse the first unusable key (:func:`key_problem`) of a loaded table.

    ``relation`` is the temporary table, ``columns`` its key columns, ``names`` their names
    in the file. One query over the (small, one row per clip) table finds the first suspect
    row; a JSONL key that merely starts like a JSON object or array is checked against the
    file, which tells an object from a string.
    """
    jsonl = table.format == "jsonl"
    test = " OR ".join(bad_key_sql(c, json_values=jsonl) for c in columns)
    row = first_row(
        con,
        f"SELECT rowid, {', '.join(columns)} FROM {relation} WHERE {test} ORDER BY rowid LIMIT 1",
    )
    if row is None:
        return
    for name, value in zip(names, row[1:], strict=True):
        problem = key_problem(value)
        if problem is not None:
            where = f"{source} {table.location(int(row[0]))}"
            msg = bad_key_message(
                where=where, key=names, column=name, value=value, problem=problem, every=every
            )
            raise KeyProblemError(msg)
    refuse_bad_key_in_file(table=table, names=names, source=source, every=every)


def refuse_bad_key_in_file(
    *, table: TableFile, names: Sequence[str], source: TablePath, every: str
) -> None:
    """Raise for the first unusable key found by re-reading the file, if there is one."""
    found = locate_bad_key(table, names)
    if found is None:
        return
    place, name, value, problem = found
    msg = bad_key_message(
        where=f"{source} {place}", key=names, column=name, value=value, problem=problem, every=every
    )
    raise KeyProblemError(msg)


def check_base_keys(con: duckdb.DuckDBPyConnection, base: Base) -> None:
    """Refuse an unusable base key, then duplicate base keys (the first few, in file order)."""
    columns = base.key_columns()
    keys = ", ".join(columns)
    check_keys(
        con,
        table=base.table,
        relation="so_base",
        columns=columns,
        names=base.key,
        source=base.table.path,
        every="clip",
    )
    dupes = con.execute(
        f"SELECT {keys}, count(*) AS n FROM so_base GROUP BY ALL HAVING n > 1 "
        f"ORDER BY min(rowid) LIMIT {EXAMPLES}"
    ).fetchall()
    if dupes:
        total = scalar(
            con,
            f"SELECT count(*) FROM (SELECT 1 FROM so_base GROUP BY {keys} HAVING count(*) > 1)",
        )
        shown = ", ".join(f"{'|'.join(key_text(d[:-1]))!r} x{d[-1]}" for d in dupes)
        msg = (
            f"{base.table.path}: {total} duplicate key(s) in the base table ({shown}); "
            "each clip must appear once"
        )
        raise KeyProblemError(msg)


def check_base_normalized(con: duckdb.DuckDBPyConnection, base: Base, sidecar: Sidecar) -> None:
    """Refuse base keys that become one key once normalised as ``sidecar`` asks."""
    if not sidecar.spec.normalize_keys:
        return
    steps = sidecar.spec.normalize_keys
    norm = [normalize_sql(base.column(k), steps, column=k) for k in base.key]
    keys = ", ".join(base.key_columns())
    row = first_row(
        con,
        f"SELECT list({'[' + keys + ']'} ORDER BY rowid) FROM so_base "
        f"GROUP BY {', '.join(norm)} HAVING count(*) > 1 ORDER BY min(rowid) LIMIT 1",
    )
    if row is not None:
        clash = " and ".join(repr("|".join(key_text(k))) for k in row[0][:2])
        msg = (
            f"{base.table.path}: base keys {clash} become the same key after "
            f"normalising with {', '.join(sidecar.spec.normalize_keys)} for sidecar "
            f"{sidecar.spec.scorer!r}; normalise less, or fix the keys"
        )
        raise KeyProblemError(msg)
