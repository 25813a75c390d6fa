"""The loaded source, as the checks and the canonical query see it, and SQL helpers over it.

A loader (:mod:`~second_opinion.ingest.table_source` or
:mod:`~second_opinion.ingest.dataset_source`) fills the temporary table ``so_src`` of the
ingest's DuckDB connection: one kept row per clip, ``__i`` its index in the source, ``__id`` the
clip id, ``__score`` the MOS or DMOS, ``__std`` and ``__n``, then the other source columns. The
:class:`Source` returned with it says what those are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from second_opinion._typing import ScoreKind
from second_opinion.ingest.presets import Scale
from second_opinion.ingest.report import DroppedRow
from second_opinion.tables.formats import quote_ident
from second_opinion.tables.memory import TablePath


@dataclass
class Source:
    """The loaded source: ``so_src`` holds one kept row per clip, ``__i`` its source index."""

    path: TablePath
    id_column: str
    mos_column: str
    kind: ScoreKind
    scale: Scale
    locate: Callable[[int], str]
    others: list[tuple[str, str]] = field(default_factory=list)  # (output name, so_src column)
    has_std: bool = False
    has_n: bool = False
    dropped: int = 0
    dropped_rows: tuple[DroppedRow, ...] = ()


def scalar(con: duckdb.DuckDBPyConnection, query: str) -> Any:  # noqa: ANN401 - any DuckDB value
    """The first value of the first row of ``query``, or ``None`` if it has no rows."""
    rows = con.execute(query).fetchall()
    return rows[0][0] if rows else None


def number_sql(column: str) -> str:
    """A text column as a finite DOUBLE, or NULL (empty, not a number, NaN, infinite)."""
    v = f"trim({quote_ident(column)})"
    return (
        f"(CASE WHEN NOT contains({v}, '_') AND isfinite(TRY_CAST({v} AS DOUBLE)) "
        f"THEN TRY_CAST({v} AS DOUBLE) END)"
    )


def double_sql(value: float) -> str:
    """A DOUBLE literal that parses back to exactly ``value``."""
    return f"CAST('{value!r}' AS DOUBLE)"
