"""Loading a join's inputs into DuckDB, each file read once.

The base is loaded into the table ``so_base`` (its ``rowid`` is the file order); a
per-clip sidecar is loaded and reduced to one row per key; a per-frame sidecar is streamed
straight into its per-key pooled aggregate (in passes over key hashes under a memory limit, see
:mod:`second_opinion.join.passes`). The key checks of :mod:`second_opinion.join.key_checks` run
on the loaded tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import cast

import duckdb

from second_opinion._typing import PoolStat
from second_opinion.errors import InputError, KeyProblemError
from second_opinion.join.clip_table import eligible, load_clip_table
from second_opinion.join.frames import frame_column, refuse_duplicates
from second_opinion.join.key_checks import check_keys, refuse_bad_key_in_file
from second_opinion.join.keys import normalize_sql, with_auto
from second_opinion.join.passes import HOLISTIC_STATS, pooling_passes
from second_opinion.join.plan import COUNT, FILE_ROW, HIDDEN, ROW, Base, Sidecar
from second_opinion.join.pooling import check_positive, pool_sql
from second_opinion.join.session import first_row, scalar
from second_opinion.join.spec import JoinSpec
from second_opinion.join.spelling import PYTHON, Spelling
from second_opinion.join.wide import (
    WIDE_COLUMNS,
    create_non_finite,
    dedupe_long,
    finite_relation,
    pool_long,
)
from second_opinion.join.wrapper import OK_STATUSES
from second_opinion.tables.diagnosis import explain_scan_error
from second_opinion.tables.files import STORED_TYPES, TableFile
from second_opinion.tables.formats import column_key, is_numeric_type, quote_ident, quote_literal
from second_opinion.tables.keys import WHITESPACE, bad_key_sql, sql_string
from second_opinion.tables.memory import MemoryTable
from second_opinion.tables.reading import open_table, scan_sql, whole_column_types


def load_base(con: duckdb.DuckDBPyConnection, spec: JoinSpec, spelling: Spelling = PYTHON) -> Base:
    """Open and load the base table as ``so_base``; refuse it without rows or key columns (the
    key option named as ``spelling`` says). Its keys' values are checked by the caller
    (:func:`~second_opinion.join.key_checks.check_base_keys`, beside the sidecars' loads)."""
    table = open_table(con, spec.features)
    table.require(spec.key, "key column", f"fix {spelling.key_option()}")
    table.require_flat_keys(spec.key)
    base = _load_base(con, Base(table=table, key=spec.key))
    if scalar(con, "SELECT count(*) FROM so_base") == 0:
        msg = f"{table.path}: the table has no rows"
        raise InputError(msg)
    return base


def _load_base(con: duckdb.DuckDBPyConnection, base: Base) -> Base:
    """Load the base as ``so_base``: key columns text, the others typed over every value.

    DuckDB sniffs types from the first rows; a value past them would be truncated (2.5 read
    into an integer column as 2). So the columns a sniff can get wrong are read as text and
    typed over all their values (:func:`whole_column_types`): in CSV/TSV every column; in
    JSONL the integer ones (numbers there are typed by JSON itself, and a column sniffed as
    float is read as DOUBLE, which holds any later integer exactly). Parquet stores types.
    Returns the base with the types as loaded.
    """
    table, key = base.table, base.key
    aliases = {c: base.column(c) for c in table.columns}
    others = [c for c in table.columns if c not in key]
    if _rereadable(table):  # keys loaded; the final query reads the rest from the file
        query = scan_sql(table, text=key, numbers=(), aliases=aliases)
        _create(con, table=table, name="so_base", query=query, numbers=())
        scan = scan_sql(
            table, text=key, numbers=(), others=others, aliases=aliases, row_number=FILE_ROW
        )
        return dataclasses.replace(base, scan=scan)
    if table.format in STORED_TYPES:  # types from every value, or stored
        query = scan_sql(table, text=key, numbers=(), others=others, aliases=aliases)
        _create(con, table=table, name="so_base", query=query, numbers=())
        return base
    if table.format == "jsonl":
        floats = [c for c in others if table.type_of(c).upper() in ("DOUBLE", "FLOAT")]
        # A column null in the whole sample is sniffed as NULL: its values come later.
        doubtful = [
            c
            for c in others
            if (is_numeric_type(table.type_of(c)) or table.type_of(c).strip('"') == "NULL")
            and c not in floats
        ]
    else:
        floats, doubtful = [], others
    kept = [c for c in others if c not in floats and c not in doubtful]
    query = scan_sql(table, text=[*key, *doubtful], numbers=floats, others=kept, aliases=aliases)
    final = dict.fromkeys(key, "VARCHAR") | dict.fromkeys(floats, "DOUBLE")
    if doubtful:
        _create(con, table=table, name="so_base_text", query=query, numbers=floats)
        types = whole_column_types(
            con, "so_base_text", [(aliases[c], table.type_of(c)) for c in doubtful]
        )
        typed = dict(zip(doubtful, types, strict=True))
        select = [
            aliases[c] if c not in typed else f"CAST({aliases[c]} AS {typed[c]}) AS {aliases[c]}"
            for c in table.columns
        ]
        con.execute(
            f"CREATE TABLE so_base AS SELECT {', '.join(select)} FROM so_base_text ORDER BY rowid"
        )
        con.execute("DROP TABLE so_base_text")
        final |= typed
    else:  # nothing to retype: load straight into place
        _create(con, table=table, name="so_base", query=query, numbers=floats)
    loaded = tuple(final.get(c, table.type_of(c)) for c in table.columns)
    return dataclasses.replace(base, table=dataclasses.replace(table, types=loaded))


def _rereadable(table: TableFile) -> bool:
    """Whether the final query may read the base's rows from its file instead of a loaded copy:
    a Parquet file (typed as stored, cheap to scan again, numbered by DuckDB in file order)
    with no column of the name DuckDB gives that number."""
    return (
        table.format == "parquet"
        and not isinstance(table.path, MemoryTable)
        and all(column_key(c) != column_key("file_row_number") for c in table.columns)
    )


def _create(
    con: duckdb.DuckDBPyConnection,
    *,
    table: TableFile,
    name: str,
    query: str,
    numbers: Sequence[str],
) -> None:
    """Create the table ``name`` from ``query``, a scan of ``table``."""
    try:
        con.execute(f"CREATE TABLE {name} AS {query}")
    except duckdb.Error as exc:
        raise explain_scan_error(table, exc, numbers=numbers) from None


def load_sidecar(con: duckdb.DuckDBPyConnection, sidecar: Sidecar, *, limited: bool) -> str | None:
    """Load ``sidecar`` as its table, one row per normalised key; return the column
    that numbers its frames: its ``frame_column``, or, for a per-clip sidecar whose keys repeat
    (reduced by ``on_duplicate``), a column recognised as one (:mod:`~second_opinion.join.frames`).

    ``limited``: the connection has a memory limit, so quantile pooling may run in passes.
    """
    if sidecar.spec.per_frame:
        _load_per_frame(con, sidecar, limited=limited)
        return sidecar.spec.frame_column
    return _load_per_clip(con, sidecar)


def _scan(sidecar: Sidecar, row_number: str | None = None) -> str:
    table = sidecar.table
    aliases = {k: f"k{i}" for i, k in enumerate(sidecar.keys)}
    aliases |= {c: f"c{i}" for i, c in enumerate(sidecar.columns)}
    aliases |= {c: f"t{j}" for j, c in enumerate(sidecar.carried)}
    texts = [c for c in sidecar.carried if not is_numeric_type(table.type_of(c))]
    others = [c for c in sidecar.carried if c not in texts]
    if sidecar.path_flag is not None:
        aliases[sidecar.path_flag] = "kp"
        others.append(sidecar.path_flag)
    return scan_sql(
        table,
        text=[*sidecar.keys, *texts],
        numbers=sidecar.columns,
        others=others,
        aliases=aliases,
        row_number=row_number,
    )


def _normalized(sidecar: Sidecar) -> str:
    """Select-list items: the sidecar's key columns ``k<i>``, normalised, as ``nk<i>``.

    ``auto`` is decided by the key column's name, or, for wrapper records, row by row by the
    name of the field the key came from (column ``kp``).
    """
    steps = sidecar.spec.normalize_keys
    items = []
    for i, name in enumerate(sidecar.keys):
        expr = normalize_sql(f"k{i}", steps, column=name)
        if sidecar.path_flag is not None and "auto" in steps:
            as_path = normalize_sql(f"k{i}", with_auto(steps, basename=True))
            expr = f"CASE WHEN kp THEN {as_path} ELSE {expr} END"
        items.append(f"{expr} AS nk{i}")
    return ", ".join(items)


def status_sql(expr: str) -> str:
    """A DuckDB expression reading the status ``expr`` as ``ok`` or ``bad`` (see
    :func:`second_opinion.join.wrapper.status_of`)."""
    ok = ", ".join(quote_literal(s) for s in OK_STATUSES)
    return (
        f"CASE WHEN {expr} IS NULL OR lower(trim({expr}, {sql_string(WHITESPACE)})) IN ({ok}) "
        "THEN 'ok' ELSE 'bad' END"
    )


def _carried(sidecar: Sidecar) -> str:
    """Select-list items (with a leading comma): the carried columns ``t<j>``, a status read
    as ok or bad."""
    items = [
        status_sql(f"t{j}") + f" AS t{j}" if j == 0 and sidecar.has_status else f"t{j}"
        for j in range(len(sidecar.carried))
    ]
    return "".join(f", {item}" for item in items)


def _key_lists(sidecar: Sidecar) -> tuple[str, str]:
    n = len(sidecar.keys)
    return ", ".join(f"k{i}" for i in range(n)), ", ".join(f"nk{i}" for i in range(n))


def _finite(sidecar: Sidecar) -> str:
    """Select-list items: each score ``c{i}`` kept as read, and ``v{i}``, finite or null, from a
    relation made by :func:`~second_opinion.join.wide.finite_relation`.

    Non-finite values are counted per column in ``<name>_nonfinite``.
    """
    return ", ".join(f"c{i}, v{i}" for i in range(len(sidecar.columns)))


def _load_per_clip(con: duckdb.DuckDBPyConnection, sidecar: Sidecar) -> str | None:
    spec, n = sidecar.spec, len(sidecar.keys)
    if eligible(sidecar) and load_clip_table(
        con,
        sidecar,
        scan=_scan(sidecar, row_number=ROW),
        normalized=_normalized(sidecar),
        carried=_carried(sidecar),
    ):
        return None  # one row per key, read and checked in one pass
    raw = f"{sidecar.name}_raw"
    _create(con, table=sidecar.table, name=raw, query=_scan(sidecar), numbers=sidecar.columns)
    check_keys(
        con,
        table=sidecar.table,
        relation=raw,
        columns=[f"k{i}" for i in range(n)],
        names=sidecar.keys,
        source=sidecar.key_source,
        every="row",
    )
    ks, nks = _key_lists(sidecar)
    norm = _normalized(sidecar)
    scores = len(sidecar.columns)
    non_finite = create_non_finite(con, sidecar.name, raw, scores)
    rows = finite_relation(raw, scores, rowid=True, all_finite=not non_finite)
    source = f"SELECT rowid, {ks}, {norm}, {_finite(sidecar)}{_carried(sidecar)} FROM {rows}"
    duplicated = scalar(
        con,
        f"SELECT count(*) FROM (SELECT 1 FROM (SELECT {norm} FROM {raw}) GROUP BY {nks} "
        "HAVING count(*) > 1)",
    )
    frames = frame_column(con, sidecar, relation=raw, keys=norm) if duplicated else None
    if duplicated and spec.on_duplicate == "error":
        refuse_duplicates(con, sidecar=sidecar, raw=raw, norm=norm, total=duplicated, frames=frames)
    if not duplicated:  # one row per key already: no (ordered) aggregation needed
        columns = [f"{nks}, {', '.join(f'k{i} AS ok{i}' for i in range(n))}"]
        columns.append(f"1 AS {COUNT}, rowid AS {ROW}")
        columns.extend(f"v{i} AS p{i}" for i in range(scores))
        columns.extend(f"t{j}" for j in range(len(sidecar.carried)))
        con.execute(f"CREATE TABLE {sidecar.name} AS SELECT {', '.join(columns)} FROM ({source})")
        con.execute(f"DROP TABLE {raw}")
        return None
    last = "last" if spec.on_duplicate == "last" else "first"
    aggs = [f"{last}(t{j} ORDER BY rowid) AS t{j}" for j in range(len(sidecar.carried))]
    originals = ", ".join(f"first(k{i} ORDER BY rowid) AS ok{i}" for i in range(n))
    head = f"{nks}, {originals}, count(*) AS {COUNT}, min(rowid) AS {ROW}"
    if scores > WIDE_COLUMNS:  # one group per key and column (second_opinion.join.wide)
        keyed = f"SELECT rowid, {ks}, {norm}{_carried(sidecar)} FROM {raw}"
        per_key = f"SELECT {', '.join([head, *aggs])} FROM ({keyed}) GROUP BY {nks}"
        dedupe_long(con, sidecar, per_key=per_key, rows=f"(SELECT rowid, {norm}, * FROM {raw})")
        con.execute(f"DROP TABLE {raw}")
        return frames
    for i in range(scores):
        if spec.on_duplicate == "mean":
            aggs.append(f"{pool_sql('mean', f'v{i}')} AS p{i}")
        else:
            aggs.append(f"{last}(v{i} ORDER BY rowid) AS p{i}")
    con.execute(
        f"CREATE TABLE {sidecar.name} AS SELECT {', '.join([head, *aggs])} "
        f"FROM ({source}) GROUP BY {nks}"
    )
    con.execute(f"DROP TABLE {raw}")
    return frames


def _hidden(sidecar: Sidecar) -> str:
    """A per-row test of the keys as read: a NUL or a leading ``{``/``[`` that ``auto``,
    ``basename`` or ``stem`` could cut out of the normalised key (``false`` without them)."""
    if not {"auto", "basename", "stem"} & set(sidecar.spec.normalize_keys):
        return "false"
    jsonl = sidecar.table.format == "jsonl"
    return " OR ".join(
        f"contains(k{i}, chr(0))"
        + (f" OR starts_with(k{i}, '{{') OR starts_with(k{i}, '[')" if jsonl else "")
        for i in range(len(sidecar.keys))
    )


def _pooling(sidecar: Sidecar) -> list[str]:
    """The per-key aggregates of a per-frame sidecar: pooled outputs, then checks' counts."""
    spec = sidecar.spec
    aggs = []
    for output in sidecar.outputs:
        stat = cast(PoolStat, output.stat)
        aggs.append(f"{pool_sql(stat, f'v{output.index}')} AS {quote_ident(output.name)}")
    aggs.append(f"bool_or({_hidden(sidecar)}) AS {HIDDEN}")
    for i in range(len(sidecar.columns)):
        aggs.append(f"count(c{i}) - count(v{i}) AS bad{i}")
        if "harmonic_mean" in spec.pool:
            aggs.append(f"count(*) FILTER (WHERE v{i} <= 0) AS nonpos{i}")
            aggs.append(f"arg_min(k0, v{i}) FILTER (WHERE v{i} <= 0) AS nonpos_key{i}")
            aggs.append(f"min(v{i}) AS min{i}")
    return aggs


def _load_per_frame(con: duckdb.DuckDBPyConnection, sidecar: Sidecar, *, limited: bool) -> None:
    spec, n, scores = sidecar.spec, len(sidecar.keys), len(sidecar.columns)
    ks, nks = _key_lists(sidecar)
    if spec.normalize_keys:
        originals = ", ".join(f"min(k{i}) AS ok{i}" for i in range(n))
    else:  # the group key is the original key: no need to aggregate it again
        originals = ", ".join(f"nk{i} AS ok{i}" for i in range(n))
    columns = ", ".join(f"c{i}" for i in range(scores))
    source = f"SELECT {ks}, {_normalized(sidecar)}, {columns} FROM ({_scan(sidecar)})"
    quantiles = sum(o.stat in HOLISTIC_STATS for o in sidecar.outputs)
    passes = pooling_passes(con, sidecar.table, quantiles, limited=limited)
    where = [f"WHERE hash({nks}) % {passes} = {p} " if passes > 1 else "" for p in range(passes)]
    try:
        if scores > WIDE_COLUMNS:  # one group per key and column (second_opinion.join.wide)
            hidden = _hidden(sidecar)
            pool_long(con, sidecar, source=source, originals=originals, hidden=hidden, where=where)
        else:
            _pool_narrow(con, sidecar, source=source, originals=originals, where=where)
    except duckdb.Error as exc:
        raise explain_scan_error(sidecar.table, exc, numbers=sidecar.columns) from None
    # A key that is null, blank or holds a NUL stays so after normalising (unless basename
    # or stem cut the NUL out: HIDDEN tests those rows as read); the file then names it.
    jsonl = sidecar.table.format == "jsonl"
    test = " OR ".join(bad_key_sql(f"nk{i}", json_values=jsonl) for i in range(n))
    null_test = " OR ".join(f"nk{i} IS NULL" for i in range(n))
    suspect = first_row(
        con,
        f"SELECT count(*), sum({COUNT}) FILTER (WHERE {null_test}) FROM {sidecar.name} "
        f"WHERE {test} OR {HIDDEN}",
    )
    if suspect and suspect[0]:
        refuse_bad_key_in_file(
            table=sidecar.table, names=sidecar.keys, source=sidecar.key_source, every="row"
        )
        if suspect[1]:
            msg = (
                f"{sidecar.key_source}: {suspect[1]} row(s) have an empty key "
                f"({', '.join(sidecar.keys)}); every row needs a key"
            )
            raise KeyProblemError(msg)
    if "harmonic_mean" in spec.pool:
        check_positive(con, sidecar)


def _pool_narrow(
    con: duckdb.DuckDBPyConnection,
    sidecar: Sidecar,
    *,
    source: str,
    originals: str,
    where: Sequence[str],
) -> None:
    """Pool a per-frame sidecar with a few score columns: one group per key, one aggregate per
    column and statistic; then its non-finite counts per column."""
    nks = _key_lists(sidecar)[1]
    aggs = _pooling(sidecar)
    finite = finite_relation(f"({source})", len(sidecar.columns))
    for part, filter_ in enumerate(where):
        query = (
            f"SELECT {nks}, {originals}, count(*) AS {COUNT}, NULL::BIGINT AS {ROW}, "
            f"{', '.join(aggs)} FROM {finite} {filter_}GROUP BY {nks}"
        )
        into = f"INSERT INTO {sidecar.name} " if part else f"CREATE TABLE {sidecar.name} AS "
        con.execute(into + query)
    sums = ", ".join(f"coalesce(sum(bad{i}), 0)" for i in range(len(sidecar.columns)))
    con.execute(
        f"CREATE TABLE {sidecar.name}_nonfinite AS SELECT unnest(range("
        f"{len(sidecar.columns)})) AS col, unnest([{sums}]) AS n, false AS clean "
        f"FROM {sidecar.name}"
    )
