"""Check that the tool and the hand-written query wrote the same table, with DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb

TOLERANCE = 1e-9
_TEXT_TYPES = ("VARCHAR",)


class MismatchError(AssertionError):
    """The two outputs differ."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _schema(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _differs(name: str, duck_type: str) -> str:
    """A condition that is true where column ``name`` differs between ``t`` and ``h``."""
    t, h = f"t.{_ident(name)}", f"h.{_ident(name)}"
    if duck_type.upper() in _TEXT_TYPES:
        return f"{t} IS DISTINCT FROM {h}"
    return (
        f"(({t} IS NULL) <> ({h} IS NULL) OR "
        f"abs({t}::DOUBLE - {h}::DOUBLE) > {TOLERANCE} * greatest(1.0, abs({h}::DOUBLE)))"
    )


def same_table(tool: Path, hand: Path) -> int:
    """Raise :class:`MismatchError` unless ``tool`` and ``hand`` hold the same rows; count them.

    Same column names in the same order, the same number of rows, and row by row (in file order)
    equal text and numbers equal to within 1e-9 (relative above 1).
    """
    con = duckdb.connect()
    try:
        tool_schema, hand_schema = _schema(con, tool), _schema(con, hand)
        if [c for c, _ in tool_schema] != [c for c, _ in hand_schema]:
            msg = f"columns differ:\n  tool {tool_schema}\n  hand {hand_schema}"
            raise MismatchError(msg)
        counts = con.execute(
            "SELECT (SELECT count(*) FROM read_parquet(?)), (SELECT count(*) FROM read_parquet(?))",
            [str(tool), str(hand)],
        ).fetchone()
        if counts is None or counts[0] != counts[1]:
            msg = f"row counts differ: tool {counts and counts[0]}, hand {counts and counts[1]}"
            raise MismatchError(msg)
        pairs = (
            "FROM read_parquet(?, file_row_number=true) t "
            "JOIN read_parquet(?, file_row_number=true) h USING (file_row_number)"
        )
        per_column = ", ".join(f"count(*) FILTER (WHERE {_differs(c, t)})" for c, t in tool_schema)
        bad = con.execute(f"SELECT {per_column} {pairs}", [str(tool), str(hand)]).fetchone() or ()
        differing = {c: n for (c, _), n in zip(tool_schema, bad, strict=True) if n}
        if differing:
            msg = f"{tool} and {hand} differ (rows per column): {differing}"
            raise MismatchError(msg)
        return int(counts[0])
    finally:
        con.close()
