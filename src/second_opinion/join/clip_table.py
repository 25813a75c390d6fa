"""A per-clip Parquet sidecar read straight into its keyed table, and checked in one pass.

The general path (:func:`second_opinion.join.load.load_sidecar`) reads a per-clip sidecar into a
raw table, checks its keys, counts its non-finite values and its repeated keys in three queries,
then builds the keyed table from the raw one. For the common case, a Parquet file (DuckDB
numbers its rows) with a few score columns and no repeated key, :func:`load_clip_table` builds
the keyed table from the scan at once (the raw scores ``c<i>`` kept beside their finite values
``p<i>``) and makes every check in one aggregate over it. The table and its checks are the
general path's: the same columns, values, row numbers, messages. A sidecar whose keys repeat is
handed back to the general path, which reduces them (``on_duplicate``).
"""

from __future__ import annotations

import duckdb

from second_opinion.join.key_checks import check_keys
from second_opinion.join.plan import COUNT, ROW, Sidecar
from second_opinion.join.session import first_row
from second_opinion.join.wide import WIDE_COLUMNS
from second_opinion.tables.diagnosis import explain_scan_error
from second_opinion.tables.formats import column_key
from second_opinion.tables.keys import bad_key_sql
from second_opinion.tables.memory import MemoryTable


def eligible(sidecar: Sidecar) -> bool:
    """Whether ``sidecar`` may take this path: a per-clip Parquet file with at most
    :data:`WIDE_COLUMNS` score columns and no column of the name of DuckDB's row number."""
    table = sidecar.table
    return (
        not sidecar.spec.per_frame
        and table.format == "parquet"
        and not isinstance(table.path, MemoryTable)
        and len(sidecar.columns) <= WIDE_COLUMNS
        and all(column_key(c) != column_key("file_row_number") for c in table.columns)
    )


def load_clip_table(
    con: duckdb.DuckDBPyConnection,
    sidecar: Sidecar,
    *,
    scan: str,
    normalized: str,
    carried: str,
) -> bool:
    """Create ``sidecar``'s keyed table and ``<name>_nonfinite`` from ``scan`` (a scan of the
    file selecting ``k<i>``, ``c<i>``, ``t<j>`` and the row number :data:`ROW`); return False,
    leaving nothing behind, when a normalised key repeats.

    ``normalized``: the select-list items ``nk<i>``; ``carried``: the carried columns' items
    (each after a comma). A suspect key found by the pass is checked as the general path checks
    it (:func:`~second_opinion.join.key_checks.check_keys`: it raises, naming the row).
    """
    name, n, scores = sidecar.name, len(sidecar.keys), len(sidecar.columns)
    items = [normalized, *(f"k{i} AS ok{i}" for i in range(n)), f"1 AS {COUNT}", ROW]
    items += [f"CASE WHEN isfinite(c{i}) THEN c{i} END AS p{i}" for i in range(scores)]
    items += [f"c{i}" for i in range(scores)]
    try:
        con.execute(f"CREATE TABLE {name} AS SELECT {', '.join(items)}{carried} FROM ({scan})")
    except duckdb.Error as exc:
        raise explain_scan_error(sidecar.table, exc, numbers=sidecar.columns) from None
    jsonl = sidecar.table.format == "jsonl"
    suspect = " OR ".join(bad_key_sql(f"ok{i}", json_values=jsonl) for i in range(n))
    keys = ", ".join(f"nk{i}" for i in range(n))
    distinct = f"count(DISTINCT [{keys}])" if n > 1 else f"count(DISTINCT {keys})"
    aggregates = [f"coalesce(bool_or({suspect}), false)", f"count(*) > {distinct}"]
    for i in range(scores):
        aggregates += [f"count(c{i}) - count(p{i})", f"count(p{i}) = count(*)"]
    row = first_row(con, f"SELECT {', '.join(aggregates)} FROM {name}")
    assert row is not None  # noqa: S101 - an aggregate has one row
    if row[0]:
        check_keys(
            con,
            table=sidecar.table,
            relation=name,
            columns=[f"ok{i}" for i in range(n)],
            names=sidecar.keys,
            source=sidecar.key_source,
            every="row",
        )
    if row[1]:  # repeated keys: the general path reduces them
        con.execute(f"DROP TABLE {name}")
        return False
    values = ", ".join(
        f"({i}, {int(row[2 + 2 * i])}, {'true' if row[3 + 2 * i] else 'false'})"
        for i in range(scores)
    )
    counts = (
        f"SELECT * FROM (VALUES {values}) AS v(col, n, clean)"
        if scores
        else "SELECT NULL::BIGINT AS col, NULL::BIGINT AS n, NULL::BOOLEAN AS clean WHERE false"
    )
    con.execute(f"CREATE TABLE {name}_nonfinite AS {counts}")
    return True
