"""The SQL of a planned join: how a sidecar matches the base, and the query of the result.

Inside, every column has an internal name (``b<i>`` for base columns, ``o<j>`` for sidecar
outputs); user names appear only as the final aliases, so none can clash with ours.
"""

from __future__ import annotations

from second_opinion.join.keys import normalize_sql
from second_opinion.join.plan import COUNT, ROW, Base, JoinPlan, Sidecar
from second_opinion.tables.formats import quote_ident


def match(base: Base, sidecar: Sidecar, *, base_alias: str = "b", side_alias: str = "s") -> str:
    """The join condition of ``sidecar`` (alias ``side_alias``) on ``so_base`` (``base_alias``):
    the base key normalised as the sidecar asks equals the sidecar's normalised key."""
    steps = sidecar.spec.normalize_keys
    base_norm = [normalize_sql(f"{base_alias}.{base.column(k)}", steps, column=k) for k in base.key]
    return " AND ".join(f"{e} = {side_alias}.nk{i}" for i, e in enumerate(base_norm))


def display(columns: str) -> str:
    """Key columns as one text: the column itself, or the parts joined with ``|``."""
    return columns if "," not in columns else f"concat_ws('|', {columns})"


def value_columns(sidecar: Sidecar, alias: str) -> list[str]:
    """The loaded sidecar's output values, one per output column, under table alias ``alias``."""
    if sidecar.spec.per_frame:
        return [f"{alias}.{quote_ident(o.name)}" for o in sidecar.outputs]
    return [f"{alias}.{'t' if o.carried else 'p'}{o.index}" for o in sidecar.outputs]


def marked(sidecar: Sidecar, alias: str) -> list[str]:
    """:func:`value_columns`, with ``on_missing='mark'``'s value for a base row with no match
    (a status ``missing``, frames 0, source ``''``)."""
    values = value_columns(sidecar, alias)
    if sidecar.spec.on_missing != "mark":
        return values
    return [
        v
        if o.when_missing is None
        else f"CASE WHEN {alias}.{COUNT} IS NULL THEN {o.when_missing} ELSE {v} END"
        for o, v in zip(sidecar.outputs, values, strict=True)
    ]


def final_query(plan: JoinPlan) -> str:
    """The query producing the joined table, base rows in base order."""
    base = plan.base
    selects = [f"b.{base.column(c)}" for c in base.table.columns]
    outer = [f"j.{base.column(c)} AS {quote_ident(c)}" for c in base.table.columns]
    joins, drops = [], []
    internal: dict[str, str] = {}
    for i, sidecar in enumerate(plan.sidecars):
        alias = f"s{i}"
        named = list(zip(sidecar.outputs, marked(sidecar, alias), strict=True))
        pairs = [(o.name, v) for o, v in named]
        if sidecar.spec.per_frame:
            pairs.append((sidecar.n_frames_name, f"{alias}.{COUNT}"))
        for name, value in pairs:
            internal[name] = f"o{len(internal)}"
            selects.append(f"{value} AS {internal[name]}")
            outer.append(f"j.{internal[name]} AS {quote_ident(name)}")
        outer.extend(derived_sql(base, sidecar, internal))
        condition = match(base, sidecar, base_alias="b", side_alias=alias)
        joins.append(f"LEFT JOIN {sidecar.name} {alias} ON {condition}")
        if sidecar.spec.on_missing == "drop":
            drops.append(f"{alias}.{COUNT} IS NOT NULL")
    where = f" WHERE {' AND '.join(drops)}" if drops else ""
    rows, order = base.relation()
    inner = (
        f"SELECT b.{order} AS {ROW}, {', '.join(selects)} FROM {rows} b {' '.join(joins)}{where}"
    )
    return f"SELECT {', '.join(outer)} FROM ({inner}) AS j ORDER BY j.{ROW}"


def output_names(plan: JoinPlan) -> tuple[str, ...]:
    """The column names of :func:`final_query`'s result, in order, as the plan names them."""
    names = list(plan.base.table.columns)
    for sidecar in plan.sidecars:
        names.extend(o.name for o in sidecar.outputs)
        if sidecar.spec.per_frame:
            names.append(sidecar.n_frames_name)
        names.extend(d.name for d in sidecar.derived)
    return tuple(names)


def derived_sql(base: Base, sidecar: Sidecar, internal: dict[str, str]) -> list[str]:
    """Select-list items of ``sidecar``'s derived columns, over the joined rows ``j``;
    ``internal`` maps output names to their internal names."""
    sign = "" if sidecar.spec.higher_is_better else "-"
    items = []
    for derived in sidecar.derived:
        x = f"j.{internal[derived.source]}"
        if derived.kind == "zscore":
            expr = zscore(x)
        elif derived.kind == "rank":
            expr = (
                f"CASE WHEN {x} IS NOT NULL THEN (rank() OVER (ORDER BY {x} NULLS LAST) - 1 "
                f"+ (count(*) OVER (PARTITION BY {x}) - 1) / 2.0) "
                f"/ NULLIF(count({x}) OVER () - 1, 0) END"
            )
        else:
            column = f"j.{base.column(derived.kind.removeprefix('delta:'))}"
            finite = f"(CASE WHEN isfinite({column}::DOUBLE) THEN {column}::DOUBLE END)"
            expr = f"{sign}{zscore(x)} - {zscore(finite)}"
        items.append(f"{expr} AS {quote_ident(derived.name)}")
    return items


def zscore(x: str) -> str:
    """The z-score of ``x`` over all rows; null when every value is the same."""
    return f"(({x} - avg({x}) OVER ()) / NULLIF(stddev_pop({x}) OVER (), 0))"
