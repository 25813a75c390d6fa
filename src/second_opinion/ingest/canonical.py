"""The canonical corpus table: its columns, and the query that builds it from the source.

The canonical table has, in this order: ``clip_id`` (text), ``mos`` (float, higher is better),
``mos_std`` and ``n_ratings`` when the source has them, ``corpus`` (the preset's name),
``mos_min`` and ``mos_max`` (the rating scale's ends, doubles in every format), ``mos_01``
(``(mos − mos_min) / (mos_max − mos_min)``), then every other source column in source order (see
docs/adr/0005-canonical-corpus-table.md). A DMOS becomes ``mos`` as ``low + high − dmos``; the
DMOS itself is kept under its own name.
"""

from __future__ import annotations

from second_opinion.ingest.source import Source, double_sql
from second_opinion.tables.formats import quote_ident, quote_literal

CANONICAL_COLUMNS = (
    "clip_id",
    "mos",
    "mos_std",
    "n_ratings",
    "corpus",
    "mos_min",
    "mos_max",
    "mos_01",
)


def canonical_query(source: Source, corpus: str) -> str:
    """The query of the canonical table (the same columns and types in every output format)."""
    low, high = source.scale
    lo, hi = double_sql(low), double_sql(high)
    mos = "__score" if source.kind == "mos" else f"(({lo} + {hi}) - __score)"
    select = ["__id AS clip_id", f"{mos} AS mos"]
    if source.has_std:
        select.append("__std AS mos_std")
    if source.has_n:
        select.append("__n AS n_ratings")
    select += [
        f"{quote_literal(corpus)} AS corpus",
        f"{lo} AS mos_min",
        f"{hi} AS mos_max",
        f"({mos} - {lo}) / ({hi} - {lo}) AS mos_01",
    ]
    select += [f"{internal} AS {quote_ident(name)}" for name, internal in source.others]
    return f"SELECT {', '.join(select)} FROM so_src ORDER BY __i"
