"""The key diagnosis: when a sidecar misses base keys, which change of its options would match
them, and how many it would match.

Run only when coverage is below 100 % (a join that matches every key pays nothing), on the tables
the join has loaded. Two kinds of fix are tried, each with its coverage computed exactly, in
DuckDB:

* more key normalisation (:mod:`~second_opinion.join.keys`): ``nfc``, ``strip``, ``basename``,
  ``stem`` (extensions), ``lower`` and ``number`` (zero-padding, ``123.0``), and combinations:
  every step the sidecar does not use yet is added, then each is taken away again if the match
  does not need it, so the fix named is the smallest that matches the most. The search runs on
  the keys left unmatched (few, at a useful coverage), judging sets on a sample of at most
  :data:`SAMPLE` of them; the set found is then counted on all of them;
* when fewer than half the base keys match (perhaps the wrong key column), for a per-clip table
  keyed by one column, the sidecar's other text or integer columns as its key (``key_map``),
  with the same normalisation search for the best of them.

The steps a fix adds run after the sidecar's own on both sides, as the join would run them. A fix
is valid only if it keeps the base keys distinct and merges no two sidecar keys (the join would
refuse the first, and the second would merge two clips' scores); only a valid fix that matches
more keys than now is named, as the caller spells it (:mod:`~second_opinion.join.spelling`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from second_opinion._typing import KeyNormalization
from second_opinion.join.keys import canonical_steps, normalize_sql
from second_opinion.join.plan import Base, Sidecar
from second_opinion.join.session import first_row
from second_opinion.tables.reading import scan_sql

ADDED: tuple[KeyNormalization, ...] = ("nfc", "lower", "strip", "stem", "basename", "number")
"""Steps a fix may add, in the order the search tries to take them away again (the least
wanted first: ``123.0`` is told ``number``, which also matches ``123.50``, not ``stem``)."""
KEY_COLUMNS = 8
"""Other columns of a sidecar tried as its key, at most (the first, in file order)."""
FIXES = 2
"""Fixes named per sidecar, at most: the best normalisation, and a better key column."""
SAMPLE = 4096
"""Unmatched keys the search for the smallest set of steps judges sets on, at most."""


@dataclass(frozen=True)
class KeyFix:
    """A change of a sidecar's options that would match more base keys.

    ``setting``: the options and their new values (``{"normalize_keys": ["basename", "stem"]}``,
    as :class:`~second_opinion.join.spec.SidecarSpec` takes them); ``text``: the same as the
    caller writes it; ``matched`` of ``rows`` base keys would match.
    """

    setting: Mapping[str, Any]
    text: str
    matched: int
    rows: int

    @property
    def coverage(self) -> float:
        """The coverage the fix would give."""
        return self.matched / self.rows if self.rows else 0.0

    def said(self) -> str:
        """``--normalize-keys dover:basename,stem would match 1,197 of 1,200 (99.75 %)``."""
        return (
            f"{self.text} would match {self.matched:,} of {self.rows:,} "
            f"({100 * self.coverage:.2f} %)"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of coverage reports and provenance records."""
        return {"text": self.text, "matched": self.matched, "rows": self.rows}


@dataclass(frozen=True)
class Unmatched:
    """The keys coverage found without a partner, as relations (tables or parenthesised
    queries) of their normalised keys ``n<i>``: the base's (``missing``) and the sidecar's
    (``extra``, ``extra_keys`` of them)."""

    missing: str
    extra: str
    extra_keys: int


def diagnose(
    con: duckdb.DuckDBPyConnection,
    base: Base,
    sidecar: Sidecar,
    *,
    matched: int,
    rows: int,
    unmatched: Unmatched,
) -> tuple[KeyFix, ...]:
    """The fixes for ``sidecar``, which matches ``matched`` of the ``rows`` base keys; best
    first."""
    steps = sidecar.spec.normalize_keys
    fixes: list[KeyFix] = []
    floor = matched
    if unmatched.extra_keys:  # a base key can only gain a partner among the unmatched ones
        found = _normalisation(con, base, sidecar, unmatched)
        if found is not None:
            fixes.append(_fix(sidecar, {}, steps, (found[0], matched + found[1]), rows))
            floor = matched + found[1]
    if 2 * matched < rows:  # most keys missing: perhaps the wrong key column
        other = _other_column(con, base, sidecar, rows, floor)
        if other is not None:
            fixes.append(_fix(sidecar, {other[0]: base.key[0]}, steps, other[1], rows))
    for table in ("so_diag_base", "so_diag_key", "so_diag_col"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    fixes.sort(key=lambda f: -f.matched)
    return tuple(fixes[:FIXES])


def _fix(
    sidecar: Sidecar,
    key_map: Mapping[str, str],
    steps: Sequence[KeyNormalization],
    found: tuple[frozenset[KeyNormalization], int],
    rows: int,
) -> KeyFix:
    """The fix that maps ``key_map`` and adds steps ``found[0]``, matching ``found[1]``."""
    added, matched = found
    setting: dict[str, Any] = {}
    if key_map:
        setting["key_map"] = dict(key_map)
    if added:
        wanted = set(steps) | added
        if "basename" in added:
            wanted.discard("auto")  # auto stood for a basename on one side at most
        setting["normalize_keys"] = list(canonical_steps(wanted))
    return KeyFix(setting, sidecar.say.setting(setting), matched, rows)


def _choices(
    sidecar: Sidecar, steps: Sequence[KeyNormalization]
) -> list[frozenset[KeyNormalization]] | None:
    """The step sets a surface that cannot say every normalisation can add (the original
    dialect's ``key_normalize``), or None: any."""
    allowed = sidecar.say.key_steps()
    if allowed is None:
        return None
    own = set(steps) - {"auto"}
    return [
        frozenset(s for s in canonical_steps(choice) if s not in steps and s != "auto")
        for choice in allowed
        if own <= set(choice) - {"auto"} and tuple(choice) != tuple(steps)
    ]


def _base_keys(base: Base, steps: Sequence[KeyNormalization], alias: str = "b") -> list[str]:
    """The base's key columns normalised as the sidecar asks, as select-list expressions."""
    return [normalize_sql(f"{alias}.{base.column(k)}", steps, column=k) for k in base.key]


def _normalisation(
    con: duckdb.DuckDBPyConnection, base: Base, sidecar: Sidecar, unmatched: Unmatched
) -> tuple[frozenset[KeyNormalization], int] | None:
    """The smallest set of steps to add that gives the most unmatched base keys a partner among
    the unmatched sidecar keys, and how many it gives one; None when none does, or when the
    steps would make two base keys, or two sidecar keys, one (checked on every key, once)."""
    found = _best_steps(con, sidecar, unmatched.missing, unmatched.extra, len(base.key), 0)
    if found is None or not _distinct(con, base, sidecar, found[0]):
        return None
    return found


def _distinct(
    con: duckdb.DuckDBPyConnection,
    base: Base,
    sidecar: Sidecar,
    added: frozenset[KeyNormalization],
) -> bool:
    """Whether the base keys, and the sidecar's loaded keys, stay distinct with ``added``."""
    extra = canonical_steps(added)
    n = len(base.key)
    base_items = [normalize_sql(e, extra) for e in _base_keys(base, sidecar.spec.normalize_keys)]
    side_items = [normalize_sql(f"nk{i}", extra) for i in range(n)]
    row = first_row(
        con,
        f"SELECT (SELECT {_distinct_count(base_items)} = count(*) FROM so_base b), "
        f"(SELECT {_distinct_count(side_items)} = count(*) FROM {sidecar.name})",
    )
    return bool(row and row[0] and row[1])


def _distinct_count(items: Sequence[str]) -> str:
    return (
        f"count(DISTINCT [{', '.join(items)}])" if len(items) > 1 else f"count(DISTINCT {items[0]})"
    )


def _matches(
    con: duckdb.DuckDBPyConnection,
    keys: str,
    partners: str,
    added: Iterable[KeyNormalization],
    n: int,
) -> int:
    """How many rows of ``keys`` have a partner in ``partners`` (both relations of normalised
    keys ``n<i>``) once ``added`` is applied to both."""
    extra = canonical_steps(added)
    items = ", ".join(f"{normalize_sql(f'n{i}', extra)} AS a{i}" for i in range(n))
    names = ", ".join(f"a{i}" for i in range(n))
    row = first_row(
        con,
        f"SELECT count(*) FROM (SELECT {items} FROM {keys}) "
        f"SEMI JOIN (SELECT {items} FROM {partners}) USING ({names})",
    )
    return int(row[0]) if row else 0


def _best_steps(
    con: duckdb.DuckDBPyConnection,
    sidecar: Sidecar,
    keys: str,
    partners: str,
    n: int,
    floor: int,
) -> tuple[frozenset[KeyNormalization], int] | None:
    """The smallest set of steps to add (to the sidecar's) that gives the most rows of ``keys``
    a partner in ``partners`` (relations of normalised keys ``n<i>``), and how many; None when
    adding every step gives no more than ``floor``.

    Every step the sidecar lacks is added, and the rows it matches counted (one pass); then
    each step is taken away again, the least wanted first (:data:`ADDED`), if the match does
    not drop, judged on the pairs that set matched among :data:`SAMPLE` rows of ``keys`` (all
    of them, when they are fewer); the set found is counted exactly. A surface that cannot say
    every set (the original dialect) has its few sets judged instead."""
    steps = sidecar.spec.normalize_keys
    choices = _choices(sidecar, steps)
    widest = frozenset(s for s in ADDED if s not in steps)
    if choices is not None:
        widest = frozenset().union(*choices) if choices else frozenset()
    most = _matches(con, keys, partners, widest, n)  # one statement; nothing kept when no gain
    if most <= floor:
        return None
    _keep_widest(con, keys, partners, widest, n)
    _sample_pairs(con, n)

    def judged(added: frozenset[KeyNormalization]) -> tuple[int, int]:
        return (_paired(con, added, n), -len(added))

    if choices is not None:
        chosen = max(choices, key=judged)
    else:
        chosen = widest
        best = judged(chosen)
        for step in ADDED:
            if step in chosen and judged(chosen - {step})[0] >= best[0]:
                chosen = chosen - {step}
                best = judged(chosen)
    for table in ("so_diag_pairs", "so_diag_kw", "so_diag_pw"):
        con.execute(f"DROP TABLE {table}")
    matched = most if chosen == widest else _matches(con, keys, partners, chosen, n)
    return (chosen, matched) if matched > floor else None


def _keep_widest(
    con: duckdb.DuckDBPyConnection,
    keys: str,
    partners: str,
    added: Iterable[KeyNormalization],
    n: int,
) -> None:
    """Keep ``keys`` and ``partners`` with their keys transformed by ``added`` (``a<i>``) as
    ``so_diag_kw`` and ``so_diag_pw``, for :func:`_sample_pairs`."""
    extra = canonical_steps(added)
    items = ", ".join(f"n{i}, {normalize_sql(f'n{i}', extra)} AS a{i}" for i in range(n))
    for table, source in (("so_diag_kw", keys), ("so_diag_pw", partners)):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {items} FROM {source}")


def _sample_pairs(con: duckdb.DuckDBPyConnection, n: int) -> None:
    """``so_diag_pairs``: the keys (``k<i>``) and partners (``p<i>``) of :func:`_keep_widest`'s
    tables that match, among :data:`SAMPLE` keys chosen by the hash of their keys (the same
    rows every run)."""
    columns = ", ".join(f"n{i}" for i in range(n))
    names = ", ".join(f"a{i}" for i in range(n))
    pick = f"SELECT * FROM so_diag_kw ORDER BY hash({columns}), {columns} LIMIT {SAMPLE}"
    both = ", ".join(
        [*(f"k.n{i} AS k{i}" for i in range(n)), *(f"p.n{i} AS p{i}" for i in range(n))]
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE so_diag_pairs AS SELECT {both} FROM ({pick}) k "
        f"JOIN so_diag_pw p USING ({names})"
    )


def _paired(con: duckdb.DuckDBPyConnection, added: Iterable[KeyNormalization], n: int) -> int:
    """How many keys of ``so_diag_pairs`` still match their partner with only ``added``."""
    extra = canonical_steps(added)
    same = " AND ".join(
        f"{normalize_sql(f'k{i}', extra)} = {normalize_sql(f'p{i}', extra)}" for i in range(n)
    )
    keys = ", ".join(f"k{i}" for i in range(n))
    counted = f"count(DISTINCT [{keys}])" if n > 1 else "count(DISTINCT k0)"
    row = first_row(con, f"SELECT {counted} FROM so_diag_pairs WHERE {same}")
    return int(row[0]) if row else 0


def _other_column(
    con: duckdb.DuckDBPyConnection, base: Base, sidecar: Sidecar, rows: int, floor: int
) -> tuple[str, tuple[frozenset[KeyNormalization], int]] | None:
    """The sidecar's other column that, as its key (with the best normalisation for it),
    matches more than ``floor`` base keys, the most of them; None where there is none, or a
    key map does not apply (a key of several columns, per-frame, grouped or matrix sidecars).

    The columns are read in one scan; each is scored with every step added, and searched in
    full only when that beats the best so far. A column is valid as a key when it has a value
    on every row and, unless duplicates are reduced (``on_duplicate``), no value twice."""
    spec = sidecar.spec
    if (
        len(base.key) != 1
        or spec.per_frame
        or spec.grouped
        or spec.align is not None
        or not sidecar.say.can_set("key_map", {})
    ):
        return None
    skip = {*sidecar.keys, *sidecar.carried, spec.frame_column, spec.scorer_column}
    table = sidecar.table
    candidates = [c for c in table.columns if c not in skip and _key_like(table.type_of(c))]
    if not candidates:
        return None
    candidates = candidates[:KEY_COLUMNS]
    aliases = {c: f"x{j}" for j, c in enumerate(candidates)}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE so_diag_key AS "
        + scan_sql(table, text=candidates, numbers=(), aliases=aliases)
    )
    steps = spec.normalize_keys
    keys = ", ".join(f"{e} AS n{i}" for i, e in enumerate(_base_keys(base, steps)))
    con.execute(f"CREATE OR REPLACE TEMP TABLE so_diag_base AS SELECT {keys} FROM so_base b")
    best: tuple[str, tuple[frozenset[KeyNormalization], int]] | None = None
    for j, column in enumerate(candidates):
        usable = first_row(con, f"SELECT count(*) = count(nullif(trim(x{j}), '')) FROM so_diag_key")
        if not usable or not usable[0]:
            continue  # a key that is null or blank on some row: the join would refuse it
        norm = normalize_sql(f"x{j}", steps, column=column)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE so_diag_col AS SELECT {norm} AS n0 FROM so_diag_key"
        )
        found = _best_steps(con, sidecar, "so_diag_base", "so_diag_col", 1, floor)
        if found is not None and _column_distinct(con, found[0], spec.on_duplicate == "error"):
            best, floor = (column, found), found[1]
    return best


def _column_distinct(
    con: duckdb.DuckDBPyConnection, added: frozenset[KeyNormalization], strict: bool
) -> bool:
    """Whether the base keys stay distinct with ``added``, and (``strict``: duplicates are
    refused) the candidate key column's values too."""
    extra = canonical_steps(added)
    norm = normalize_sql("n0", extra)
    row = first_row(
        con,
        f"SELECT (SELECT count(DISTINCT {norm}) = count(*) FROM so_diag_base), "
        f"(SELECT count(DISTINCT {norm}) = count(*) FROM so_diag_col)",
    )
    return bool(row and row[0] and (row[1] or not strict))


def _key_like(duckdb_type: str) -> bool:
    """Whether a column of this type may hold clip keys: text or whole numbers."""
    upper = duckdb_type.upper()
    return upper == "VARCHAR" or upper.endswith("INT") or upper in ("INTEGER", "UINTEGER")
