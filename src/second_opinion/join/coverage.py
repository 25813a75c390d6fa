"""Coverage: what matched, what did not, and why (data, not rendering), and its computation.

:func:`measure_coverage` counts each loaded sidecar against the base in two anti joins (the
base keys without a partner, the sidecar keys without one), names, beside every unmatched key
shown, the closest key of the other side (:mod:`~second_opinion.join.closest`), and, below
100 %, the fixes the key diagnosis finds (:mod:`~second_opinion.join.diagnosis`);
:mod:`~second_opinion.join.policies` then applies the policies and words the warnings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from second_opinion.join.closest import closest
from second_opinion.join.diagnosis import KeyFix, Unmatched, diagnose
from second_opinion.join.key_checks import check_base_normalized
from second_opinion.join.keys import key_text, normalize_sql
from second_opinion.join.plan import COUNT, EXAMPLES, ROW, JoinPlan, Sidecar
from second_opinion.join.session import first_row, scalar
from second_opinion.join.sql import display, match, value_columns
from second_opinion.join.wide import clean_columns, non_finite_counts


@dataclass(frozen=True)
class UnmatchedKey:
    """A key with no partner on the other side, and the closest key that side has."""

    key: tuple[str, ...]
    closest: tuple[str, ...] | None


@dataclass(frozen=True)
class Coverage:
    """How one sidecar matched the base table.

    ``matched + missing == base_rows``; ``coverage == matched / base_rows``. Counts are of keys
    after normalisation; ``sidecar_rows`` counts rows as read (frames, for per-frame sidecars).
    ``per_frame``: its frames were pooled; ``frame_column``: the column that numbers its rows as
    frames (its ``frame_column``, or one recognised in a per-clip sidecar whose keys repeat);
    ``diagnosis``: below 100 %, the fixes that would match more keys, best first.
    """

    scorer: str
    path: str
    base_rows: int
    sidecar_rows: int
    sidecar_keys: int
    matched: int
    missing: int
    extra: int
    duplicate_keys: int
    nulls: dict[str, int]
    non_finite: dict[str, int]
    coverage: float
    unmatched_base: tuple[UnmatchedKey, ...] = field(default=())
    unmatched_sidecar: tuple[UnmatchedKey, ...] = field(default=())
    per_frame: bool = False
    higher_is_better: bool = True
    frame_column: str | None = None
    diagnosis: tuple[KeyFix, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with a fixed key order; ``per_frame`` is ``{"column": …}`` (the
        column that numbers its frames) or null, ``diagnosis`` a list of ``{"text", "matched",
        "rows"}``."""
        data = asdict(self)
        for side in ("unmatched_base", "unmatched_sidecar"):
            data[side] = [
                {"key": list(item.key), "closest": list(item.closest) if item.closest else None}
                for item in getattr(self, side)
            ]
        del data["frame_column"]
        data["per_frame"] = {"column": self.frame_column} if self.frame_column else None
        data["diagnosis"] = [fix.to_dict() for fix in self.diagnosis]
        return data


def measure_coverage(
    con: duckdb.DuckDBPyConnection,
    plan: JoinPlan,
    frames: Mapping[str, str | None] | None = None,
) -> tuple[Coverage, ...]:
    """The coverage of every loaded sidecar of ``plan``, in order; ``frames``: the column that
    numbers each sidecar's frames, by its table name, as loading found it."""
    frames = frames or {}
    rows = scalar(con, "SELECT count(*) FROM so_base")
    reports = [
        _coverage(con, plan, sidecar, frames.get(sidecar.name), rows) for sidecar in plan.sidecars
    ]
    return _with_base_closest(con, plan, reports)


def _coverage(
    con: duckdb.DuckDBPyConnection,
    plan: JoinPlan,
    sidecar: Sidecar,
    frames: str | None,
    base_rows: int,
) -> Coverage:
    """The coverage of one sidecar; unmatched sidecar keys get their closest partner later,
    in one lookup for all sidecars (see :func:`_with_base_closest`)."""
    base = plan.base
    check_base_normalized(con, base, sidecar)
    s, n = sidecar.name, len(base.key)
    steps = sidecar.spec.normalize_keys
    normalised = ", ".join(
        f"{normalize_sql(f'b.{base.column(k)}', steps, column=k)} AS bn{i}"
        for i, k in enumerate(base.key)
    )
    # One full outer join keeps the unmatched keys of both sides (few, at a useful coverage):
    # as read (k<i>) and normalised (n<i>), with the row each was read on (r: the base's in
    # base order; the sidecar's, the row it was first read on). Counts and the first few come
    # from it; so does the key diagnosis. Then the nulls per output column among the matched.
    table = f"{s}_unmatched"
    shown = ", ".join(f"k{i}" for i in range(n))
    kept = [f"coalesce(b.{c}, s.ok{i}) AS k{i}" for i, c in enumerate(base.key_columns())]
    kept += [f"coalesce(b.bn{i}, s.nk{i}) AS n{i}" for i in range(n)]
    rows = f"SELECT rowid AS r, {', '.join(base.key_columns())}, {normalised} FROM so_base b"
    on = " AND ".join(f"b.bn{i} = s.nk{i}" for i in range(n))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT b.r IS NULL AS extra, "
        f"coalesce(b.r, s.{ROW}) AS r, {', '.join(kept)} FROM ({rows}) b FULL JOIN {s} s "
        f"ON {on} WHERE b.r IS NULL OR s.{COUNT} IS NULL"
    )
    order = "k0" if sidecar.spec.per_frame else "r"
    counts = first_row(
        con,
        f"SELECT count(*) FILTER (WHERE NOT extra), "
        f"(list([{shown}] ORDER BY r) FILTER (WHERE NOT extra))[1:{EXAMPLES}], "
        f"count(*) FILTER (WHERE extra), "
        f"(list([{shown}] ORDER BY {order}) FILTER (WHERE extra))[1:{EXAMPLES}], "
        f"(SELECT [count(*), coalesce(sum({COUNT}), 0), count(*) FILTER (WHERE {COUNT} > 1)] "
        f"FROM {s}) FROM {table}",
    )
    assert counts is not None  # noqa: S101 - an aggregate has one row
    matched = base_rows - int(counts[0])
    nulls = _nulls(con, sidecar, match(base, sidecar), matched)
    missing_examples = [key_text(k) for k in counts[1] or []]
    extra = int(counts[2])
    extra_examples = [key_text(k) for k in counts[3] or []]
    side_pass = counts[4]
    side_keys = ", ".join(f"s.ok{i}" for i in range(n))
    side_closest = closest(con, keys=missing_examples, source=f"{s} s", text=display(side_keys))
    fixes: tuple[KeyFix, ...] = ()
    if matched < base_rows:  # nothing to diagnose, and nothing spent, at 100 %
        items = f"r, {', '.join(f'n{i}' for i in range(n))}"
        unmatched = Unmatched(
            f"(SELECT {items} FROM {table} WHERE NOT extra)",
            f"(SELECT {items} FROM {table} WHERE extra)",
            extra,
        )
        fixes = diagnose(con, base, sidecar, matched=matched, rows=base_rows, unmatched=unmatched)
    con.execute(f"DROP TABLE {table}")
    return Coverage(
        scorer=sidecar.scorer,
        path=str(sidecar.spec.path),
        base_rows=base_rows,
        sidecar_rows=int(side_pass[1]),
        sidecar_keys=int(side_pass[0]),
        matched=matched,
        missing=base_rows - matched,
        extra=extra,
        duplicate_keys=0 if sidecar.spec.per_frame else int(side_pass[2]),
        nulls=nulls,
        non_finite=non_finite_counts(con, sidecar),
        coverage=matched / base_rows,
        unmatched_base=tuple(map(UnmatchedKey, missing_examples, side_closest)),
        unmatched_sidecar=tuple(UnmatchedKey(k, None) for k in extra_examples),
        per_frame=sidecar.spec.per_frame,
        higher_is_better=sidecar.spec.higher_is_better,
        frame_column=frames,
        diagnosis=fixes,
    )


def _nulls(
    con: duckdb.DuckDBPyConnection, sidecar: Sidecar, condition: str, matched: int
) -> dict[str, int]:
    """Nulls per output column among the ``matched`` base rows: one plain count per column
    (a filtered aggregate per column costs the square of their number); none counted for a
    score column with neither null nor non-finite value in the sidecar."""
    clean = clean_columns(con, sidecar)
    counted = [
        (o.name, v)
        for o, v in zip(sidecar.outputs, value_columns(sidecar, "s"), strict=True)
        if o.carried or o.index not in clean
    ]
    nulls = dict.fromkeys((o.name for o in sidecar.outputs), 0)
    if counted:
        counts = ", ".join(f"count({v})" for _, v in counted)
        query = f"SELECT {counts} FROM so_base b JOIN {sidecar.name} s ON {condition}"
        row = first_row(con, query) or ()
        nulls |= {name: matched - int(c or 0) for (name, _), c in zip(counted, row, strict=True)}
    return nulls


def _with_base_closest(
    con: duckdb.DuckDBPyConnection, plan: JoinPlan, reports: Sequence[Coverage]
) -> tuple[Coverage, ...]:
    """Fill in the closest base key of every sidecar's unmatched keys, in one lookup."""
    wanted = [u.key for r in reports for u in r.unmatched_sidecar]
    keys = ", ".join(f"b.{c}" for c in plan.base.key_columns())
    found = iter(closest(con, keys=wanted, source="so_base b", text=display(keys)))
    return tuple(
        dataclasses.replace(
            r,
            unmatched_sidecar=tuple(UnmatchedKey(u.key, next(found)) for u in r.unmatched_sidecar),
        )
        for r in reports
    )
