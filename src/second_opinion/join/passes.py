"""How many passes a per-frame sidecar's pooling takes to stay within DuckDB's memory limit.

Percentiles and medians (``quantile_cont``) are holistic aggregates: DuckDB keeps every value of
a group in memory until the group is done, and, unlike plain sums and joins, cannot spill them;
so are the sums of ``mean``, ``std`` and ``harmonic_mean``, which add a clip's values sorted so
that their result never depends on the order the rows arrive in (second_opinion.join.pooling).
Under ``--memory-limit`` a large per-frame sidecar therefore runs out of memory in one pass. It
is pooled in ``P`` passes instead, each aggregating the clips whose key hashes to that pass
(``hash(key) % P``): the same aggregate on the same rows, so the same numbers, with 1/P of the
values in memory at a time, for P scans of the file.
"""

from __future__ import annotations

import contextlib
import math
import re
import zlib

import duckdb

from second_opinion.tables.files import TableFile
from second_opinion.tables.formats import file_argument
from second_opinion.tables.memory import MemoryTable

HOLISTIC_STATS = frozenset({"median", "p5", "p95", "mean", "std", "harmonic_mean"})
"""Pooling statistics that hold a clip's values until it is done, which DuckDB cannot spill: the
quantiles, and the sums, which add sorted values (second_opinion.join.pooling)."""

BYTES_PER_VALUE = 48
"""Memory one value of a quantile takes in DuckDB's aggregate (measured: ~1.1 GiB for 22 M rows
and 3 quantiles of 2 columns, with headroom for the hash table and the scan)."""

MEMORY_SHARE = 0.5
"""The share of the memory limit one pass may plan to fill; the rest is the scan's and the
join's."""

SAMPLE_BYTES = 1 << 20
"""How much of a text table's start is read to estimate its bytes per row."""

_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def limit_bytes(con: duckdb.DuckDBPyConnection) -> int | None:
    """The connection's memory limit in bytes (DuckDB reports it as e.g. '3.7 GiB')."""
    text = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    match = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?)(i?)b?\s*", text.lower())
    if match is None:
        return None
    number, unit, binary = match.groups()
    scale = 1024 ** "_kmgt".index(unit) if binary and unit else _UNITS[unit]
    return int(float(number) * scale)


def estimated_rows(con: duckdb.DuckDBPyConnection, table: TableFile) -> int:
    """Rows of ``table``: exact for Parquet (its footer) and in-memory tables; for text, the
    file's size times the lines per (compressed) byte of its first MiB."""
    if isinstance(table.path, MemoryTable):
        return table.path.rows
    if table.format == "parquet":
        rows = con.execute(
            f"SELECT sum(num_rows) FROM parquet_file_metadata({file_argument(table.path)})"
        ).fetchall()
        return int(rows[0][0] or 0)
    size = table.file.stat().st_size
    with table.file.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    text = sample
    if table.compressed:
        with contextlib.suppress(zlib.error):
            text = zlib.decompressobj(wbits=47).decompress(sample)
    lines = text.count(b"\n") + 1
    return math.ceil(size * lines / max(1, len(sample)))


def pooling_passes(
    con: duckdb.DuckDBPyConnection, table: TableFile, quantiles: int, *, limited: bool
) -> int:
    """How many passes pool ``table`` with ``quantiles`` quantile aggregates (one per column and
    statistic): 1 without a memory limit (``limited`` false) or without quantiles."""
    if not limited or quantiles == 0:
        return 1
    limit = limit_bytes(con)
    if not limit:
        return 1
    need = estimated_rows(con, table) * quantiles * BYTES_PER_VALUE
    return max(1, math.ceil(need / (limit * MEMORY_SHARE)))
