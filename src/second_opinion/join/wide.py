"""Sidecars with many score columns (one CNN feature vector per clip: 4,096 columns), at a cost
linear in the columns.

DuckDB plans a query with thousands of expressions that each name a column more than once (a
``CASE WHEN isfinite(c) THEN c END`` per column, ``count(*) FILTER (…)`` per column) in time
and memory that grow with the square of their number: 2,000 columns took 11 s and 3–5 GB, 5,000
were killed at 23 GB. And one ``GROUP BY`` holding thousands of quantile states per group, fed
straight from a file scan, kills the process with SIGFPE (an integer division by zero inside
DuckDB's hash aggregate). So a sidecar's per-column work is written so that no query holds more
than a fixed number of expressions per column, each naming it once:

- a row's scores become one list, made finite by one ``list_transform`` and read back by
  position (:func:`finite_relation`);
- counts per column (non-finite values) are one ``GROUP BY`` over the scores unnested into long
  form, ``(col, value)`` rows (:func:`create_non_finite`);
- a per-frame sidecar with more than :data:`WIDE_COLUMNS` score columns is pooled in long form,
  one group per (key, column) holding one state per statistic, and its per-key results gathered
  back into lists read by position (:func:`pool_long`).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from second_opinion.join.plan import COUNT, HIDDEN, ROW, Sidecar
from second_opinion.join.pooling import pool_sql
from second_opinion.tables.formats import quote_ident

WIDE_COLUMNS = 64
"""Score columns above which a per-frame sidecar is pooled in long form (fewer: one group per
key, one aggregate per column and statistic, which scans faster)."""

SCORES = "__so_scores"
"""Column of a relation made by :func:`finite_relation`: the row's finite scores as a list."""


def scores_list(n: int, prefix: str = "c") -> str:
    """The list ``[c0, c1, …]`` of a row's ``n`` score columns."""
    return f"[{', '.join(f'{prefix}{i}' for i in range(n))}]"


def finite_relation(relation: str, n: int, *, rowid: bool = False, all_finite: bool = False) -> str:
    """``relation`` (a table name or a parenthesised query with score columns ``c<i>``) with
    ``v<i>`` added: ``c<i>`` if finite, else null (NaN and infinities are counted, not
    pooled). ``all_finite``: every score is known to be finite or null (``v<i>`` is ``c<i>``)."""
    lead = "rowid, " if rowid else ""
    if all_finite:
        return f"(SELECT {lead}*, {', '.join(f'c{i} AS v{i}' for i in range(n))} FROM {relation})"
    if n <= WIDE_COLUMNS:  # a few CASEs plan at once and scan fastest
        finite = ", ".join(f"CASE WHEN isfinite(c{i}) THEN c{i} END AS v{i}" for i in range(n))
        return f"(SELECT {lead}*, {finite} FROM {relation})"
    items = ", ".join(f"{SCORES}[{i + 1}] AS v{i}" for i in range(n))
    made = (
        f"SELECT {lead}*, list_transform({scores_list(n)}, "
        f"lambda x: CASE WHEN isfinite(x) THEN x END) AS {SCORES} FROM {relation}"
    )
    return f"(SELECT *, {items} FROM ({made}))"


def create_non_finite(con: duckdb.DuckDBPyConnection, name: str, relation: str, n: int) -> int:
    """Create ``<name>_nonfinite(col, n, clean)``: per score column of the rows of a per-clip
    sidecar (``relation``), its values that are NaN or infinite, and whether it has no null
    either (then a matched key's value is never null); one group per column, in long form.
    Return the non-finite values in all."""
    con.execute(
        f"CREATE TABLE {name}_nonfinite AS SELECT col, "
        "count(*) FILTER (WHERE NOT isfinite(c)) AS n, "
        "count(*) FILTER (WHERE c IS NULL OR NOT isfinite(c)) = 0 AS clean "
        f"FROM (SELECT unnest(range({n})) AS col, unnest({scores_list(n)}) AS c FROM {relation}) "
        "GROUP BY col"
    )
    total = con.execute(f"SELECT sum(n) FROM {name}_nonfinite").fetchall()
    return int(total[0][0] or 0) if total else 0


def clean_columns(con: duckdb.DuckDBPyConnection, sidecar: Sidecar) -> set[int]:
    """The score columns (by position) with neither null nor non-finite values."""
    rows = con.execute(f"SELECT col FROM {sidecar.name}_nonfinite WHERE clean").fetchall()
    return {int(r[0]) for r in rows}


def non_finite_counts(con: duckdb.DuckDBPyConnection, sidecar: Sidecar) -> dict[str, int]:
    """The non-finite values of each score column of a loaded sidecar, by column name."""
    rows = con.execute(f"SELECT col, n FROM {sidecar.name}_nonfinite").fetchall()
    counts = {int(col): int(n or 0) for col, n in rows}
    return {c: counts.get(i, 0) for i, c in enumerate(sidecar.columns)}


def pool_long(
    con: duckdb.DuckDBPyConnection,
    sidecar: Sidecar,
    *,
    source: str,
    originals: str,
    hidden: str,
    where: Sequence[str],
) -> None:
    """Pool a wide per-frame sidecar in long form into ``<name>`` (the columns the narrow
    pooling makes: keys, originals, count, outputs by name, the hidden-key flag, and for
    ``harmonic_mean`` each column's ``nonpos``/``nonpos_key``/``min``) and
    ``<name>_nonfinite``.

    ``source`` selects ``k<i>``, ``nk<i>`` and the scores ``c<i>``; ``originals`` are the key
    aggregates ``ok<i>``; ``hidden`` the per-row hidden-key test; ``where``: one filter per pass
    (``""`` for one pass).
    """
    spec, name, n = sidecar.spec, sidecar.name, len(sidecar.columns)
    nks = ", ".join(f"nk{i}" for i in range(len(sidecar.keys)))
    oks = ", ".join(f"ok{i}" for i in range(len(sidecar.keys)))
    stats = list(spec.pool)
    aggs = [f"{pool_sql(s, 'v')} AS s_{s}" for s in stats]
    aggs += ["count(c) - count(v) AS bad", f"bool_or({hidden}) AS hid"]
    harmonic = "harmonic_mean" in stats
    if harmonic:
        aggs += [
            "count(*) FILTER (WHERE v <= 0) AS nonpos",
            "arg_min(k0, v) FILTER (WHERE v <= 0) AS nonpos_key",
            "min(v) AS mn",
        ]
    keys = ", ".join(f"k{i}" for i in range(len(sidecar.keys)))
    for part, filter_ in enumerate(where):
        long = (
            f"SELECT {keys}, {nks}, col, c, CASE WHEN isfinite(c) THEN c END AS v FROM "
            f"(SELECT {keys}, {nks}, unnest(range({n})) AS col, unnest({scores_list(n)}) AS c "
            f"FROM ({source}) {filter_})"
        )
        query = (
            f"SELECT {nks}, col, {originals}, count(*) AS n, {', '.join(aggs)} "
            f"FROM ({long}) GROUP BY {nks}, col"
        )
        into = f"INSERT INTO {name}_long " if part else f"CREATE TABLE {name}_long AS "
        con.execute(into + query)
    lists = [f"list(s_{s} ORDER BY col) AS l_{s}" for s in stats]
    if harmonic:
        lists += [f"list({c} ORDER BY col) AS l_{c}" for c in ("nonpos", "nonpos_key", "mn")]
    gathered = (
        f"SELECT {nks}, {', '.join(f'first(ok{i}) AS ok{i}' for i in range(len(sidecar.keys)))}, "
        f"first(n) AS n, bool_or(hid) AS hid, {', '.join(lists)} "
        f"FROM {name}_long GROUP BY {nks}"
    )
    items = [f"l_{o.stat}[{o.index + 1}] AS {quote_ident(o.name)}" for o in sidecar.outputs]
    if harmonic:
        for i in range(n):
            items += [f"l_nonpos[{i + 1}] AS nonpos{i}", f"l_nonpos_key[{i + 1}] AS nonpos_key{i}"]
            items.append(f"l_mn[{i + 1}] AS min{i}")
    con.execute(
        f"CREATE TABLE {name} AS SELECT {nks}, {oks}, n AS {COUNT}, NULL::BIGINT AS {ROW}, "
        f"{', '.join(items)}, hid AS {HIDDEN} FROM ({gathered})"
    )
    con.execute(
        f"CREATE TABLE {name}_nonfinite AS SELECT col, sum(bad) AS n, false AS clean "
        f"FROM {name}_long GROUP BY col"
    )
    con.execute(f"DROP TABLE {name}_long")


def dedupe_long(
    con: duckdb.DuckDBPyConnection, sidecar: Sidecar, *, per_key: str, rows: str
) -> None:
    """Reduce a wide per-clip sidecar with duplicate keys to one row per key as ``<name>``, in
    long form: ``per_key`` selects the normalised keys ``nk<i>`` and what is per key (originals,
    count, first row, carried columns); ``rows`` is the loaded table with ``rowid``, ``nk<i>``
    and the scores ``c<i>``. Each score is the key's first, last or mean value
    (``on_duplicate``), one group per (key, column)."""
    spec, name, n = sidecar.spec, sidecar.name, len(sidecar.columns)
    nks = [f"nk{i}" for i in range(len(sidecar.keys))]
    if spec.on_duplicate == "mean":
        stat = pool_sql("mean", "v")
    else:
        stat = f"{'last' if spec.on_duplicate == 'last' else 'first'}(v ORDER BY rowid)"
    long = (
        f"SELECT *, CASE WHEN isfinite(c) THEN c END AS v FROM (SELECT rowid, {', '.join(nks)}, "
        f"unnest(range({n})) AS col, unnest({scores_list(n)}) AS c FROM {rows})"
    )
    reduced = f"SELECT {', '.join(nks)}, col, {stat} AS s FROM ({long}) GROUP BY ALL"
    gathered = f"SELECT {', '.join(nks)}, list(s ORDER BY col) AS l FROM ({reduced}) GROUP BY ALL"
    same = " AND ".join(f"h.{k} IS NOT DISTINCT FROM g.{k}" for k in nks)
    items = ", ".join(f"g.l[{i + 1}] AS p{i}" for i in range(n))
    con.execute(
        f"CREATE TABLE {name} AS SELECT h.*, {items} FROM ({per_key}) h "
        f"JOIN ({gathered}) g ON {same}"
    )
