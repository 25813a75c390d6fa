"""A plain-Python reference implementation of the join contract (docs/join.md), for property tests.

No DuckDB and no NumPy: tables are lists of dicts holding the values *as read* (a key may be an
``int`` or a ``str``; a score an ``int``, a ``float`` — NaN and ±inf included — or ``None``), and
every rule is written out directly, the slow and obvious way. Only key normalisation is shared
with the package: :func:`second_opinion.join.keys.normalize_key` is itself the plain-Python
definition
(a property test in ``tests/join/test_keys.py`` holds DuckDB's version equal to it).

:func:`reference_join` either returns a :class:`RefResult` (the joined rows and one
:class:`RefCoverage` per sidecar) or raises :class:`ReferenceJoinError` listing *every* error the
contract requires for that input. Which of them the implementation reports first is not part of
the contract, so a caller checks that the error it got is one of them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from second_opinion._typing import KeyNormalization, OnDuplicate, OnMissing, PoolStat
from second_opinion.join.keys import normalize_key

Value = object
KeyTuple = tuple[str, ...]
SHOWN_KEYS = 5  # unmatched keys listed per side in a coverage report


@dataclass(frozen=True)
class RefTable:
    """A table as read: its columns in file order and its rows in file order."""

    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Value], ...]


@dataclass(frozen=True)
class RefSidecar:
    """One sidecar and how to join it (the fields of ``SidecarSpec`` the contract uses)."""

    scorer: str
    path: str
    table: RefTable
    key_map: Mapping[str, str] = field(default_factory=dict)
    normalize_keys: tuple[KeyNormalization, ...] = ()
    frame_column: str | None = None
    pool: tuple[PoolStat, ...] = ("mean",)
    columns: tuple[str, ...] | None = None
    on_missing: OnMissing = "null"
    on_duplicate: OnDuplicate = "error"
    min_coverage: float = 0.0
    allow_no_match: bool = False

    @property
    def per_frame(self) -> bool:
        return self.frame_column is not None


@dataclass(frozen=True)
class RefCoverage:
    """The coverage report fields the reference computes."""

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
    per_frame: bool
    # Every unmatched key, in the documented order; a report shows the first SHOWN_KEYS of them.
    # Base: the base keys as read, in base order. Sidecar, per-clip: the key of each extra key's
    # first row, in file order of that row. Sidecar, per-frame: per key column the smallest raw key
    # of each extra key, sorted by the first column (ties: any order).
    unmatched_base: tuple[KeyTuple, ...]
    unmatched_sidecar: tuple[KeyTuple, ...]


@dataclass(frozen=True)
class RefResult:
    """The output columns, the rows (dicts in that order), a coverage report per sidecar."""

    columns: list[str]
    rows: list[dict[str, Value]]
    coverage: tuple[RefCoverage, ...]


@dataclass(frozen=True)
class ExpectedError:
    """An error the contract requires: its kind and text its message must contain."""

    kind: Literal["input", "policy"]
    fragments: tuple[str, ...]
    why: str


class ReferenceJoinError(Exception):
    """The input must make the join fail, with one of ``errors``."""

    def __init__(self, errors: Sequence[ExpectedError]) -> None:
        super().__init__("; ".join(e.why for e in errors))
        self.errors = tuple(errors)


# --- values -------------------------------------------------------------------------------------


def key_text(value: Value) -> str:
    """A key value as text: keys are compared as strings (the int 7 is the key ``"7"``).

    A float key (Parquet) that holds an integer reads as that integer (``3.0`` -> ``"3"``).
    """
    if isinstance(value, bool):
        msg = f"a bool key is outside the reference's contract: {value!r}"
        raise TypeError(msg)
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    msg = f"a key must be a str or an int, got {value!r}"
    raise TypeError(msg)


def as_float(value: Value) -> float | None:
    """A score as read: float64 (numeric strings coerced), or None when missing."""
    if value is None:
        return None
    if isinstance(value, str):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"a score must be a number or None, got {value!r}"
        raise TypeError(msg)
    return float(value)


def finite(value: Value) -> float | None:
    """A score as joined: NaN and ±inf become None."""
    number = as_float(value)
    return number if number is not None and math.isfinite(number) else None


def is_non_finite(value: Value) -> bool:
    number = as_float(value)
    return number is not None and not math.isfinite(number)


def is_numeric_column(rows: Sequence[Mapping[str, Value]], column: str) -> bool:
    """A column of numbers: at least one value, and every value an int or a float."""
    values = [row.get(column) for row in rows if row.get(column) is not None]
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


# --- pooling ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """NumPy's default ('linear') percentile: interpolate between the closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def pool(stat: PoolStat, values: Sequence[float]) -> float | None:
    """``stat`` over a key's finite values; None when there are none (std: fewer than two)."""
    if not values:
        return None
    if stat == "mean":
        return statistics.fmean(values)
    if stat == "median":
        return float(statistics.median(values))
    if stat == "min":
        return min(values)
    if stat == "max":
        return max(values)
    if stat == "std":
        return statistics.stdev(values) if len(values) > 1 else None
    if stat == "p5":
        return percentile(values, 0.05)
    if stat == "p95":
        return percentile(values, 0.95)
    # harmonic_mean; values <= 0 make the join fail (see _join_one), so their result is unused
    if any(v <= 0 for v in values):
        return None
    return len(values) / math.fsum(1.0 / v for v in values)


# --- one sidecar --------------------------------------------------------------------------------


@dataclass
class _Joined:
    outputs: list[str]  # output column names, in order (n_frames last for per-frame)
    values: dict[KeyTuple, dict[str, Value]]  # normalised key -> output column -> value
    coverage: RefCoverage


def _sidecar_key_columns(key: Sequence[str], sidecar: RefSidecar) -> list[str]:
    inverse = {base: side for side, base in sidecar.key_map.items()}
    return [inverse.get(k, k) for k in key]


def _score_columns(
    key_columns: Sequence[str], sidecar: RefSidecar, errors: list[ExpectedError]
) -> list[str]:
    if sidecar.columns is not None:
        return list(sidecar.columns)
    skip = {*key_columns, sidecar.frame_column}
    columns = [
        c
        for c in sidecar.table.columns
        if c not in skip and is_numeric_column(sidecar.table.rows, c)
    ]
    if not columns:
        errors.append(
            ExpectedError(
                "input",
                (sidecar.path, "no numeric score columns"),
                f"{sidecar.scorer}: no numeric score column",
            )
        )
    return columns


def _join_one(
    key: Sequence[str],
    base_keys: Sequence[KeyTuple],
    sidecar: RefSidecar,
    errors: list[ExpectedError],
) -> _Joined | None:
    steps = sidecar.normalize_keys
    key_columns = _sidecar_key_columns(key, sidecar)
    columns = _score_columns(key_columns, sidecar, errors)
    if not columns:
        return None
    prefix = f"so_{sidecar.scorer}_"
    rows = sidecar.table.rows

    groups: dict[KeyTuple, list[Mapping[str, Value]]] = {}
    raw_keys: dict[KeyTuple, list[KeyTuple]] = {}
    for row in rows:
        raw = tuple(key_text(row[c]) for c in key_columns)
        normalised = tuple(normalize_key(k, steps) for k in raw)
        groups.setdefault(normalised, []).append(row)
        raw_keys.setdefault(normalised, []).append(raw)
    non_finite = {c: sum(is_non_finite(row.get(c)) for row in rows) for c in columns}
    duplicates = [k for k, group in groups.items() if len(group) > 1]

    values: dict[KeyTuple, dict[str, Value]] = {}
    outputs: list[str] = []
    if sidecar.per_frame:
        outputs = [f"{prefix}{c}_{stat}" for c in columns for stat in sidecar.pool]
        if "harmonic_mean" in sidecar.pool:
            for column in columns:
                bad = [v for row in rows if (v := finite(row.get(column))) is not None and v <= 0]
                if bad:
                    fragments = [
                        sidecar.path,
                        (
                            f"harmonic_mean needs values > 0, but column {column!r} has "
                            f"{len(bad)} value(s) <= 0"
                        ),
                    ]
                    if min(bad) != 0:  # min() of 0.0 and -0.0 depends on their order
                        fragments.append(f"smallest {min(bad)!r}")
                    errors.append(
                        ExpectedError(
                            "input", tuple(fragments), f"{sidecar.scorer}: harmonic_mean of <= 0"
                        )
                    )
        for normalised, group in groups.items():
            out: dict[str, Value] = {}
            for column in columns:
                xs = [v for row in group if (v := finite(row.get(column))) is not None]
                for stat in sidecar.pool:
                    out[f"{prefix}{column}_{stat}"] = pool(stat, xs)
            out[f"{prefix}n_frames"] = len(group)
            values[normalised] = out
    else:
        outputs = [f"{prefix}{c}" for c in columns]
        if sidecar.on_duplicate == "error" and duplicates:
            errors.append(
                ExpectedError(
                    "input",
                    (sidecar.path, f"{len(duplicates)} duplicate key(s)", "duplicate key"),
                    f"{sidecar.scorer}: duplicate keys under on_duplicate=error",
                )
            )
        for normalised, group in groups.items():
            out = {}
            for column in columns:
                if sidecar.on_duplicate == "last":
                    out[f"{prefix}{column}"] = finite(group[-1].get(column))
                elif sidecar.on_duplicate == "mean":
                    xs = [v for row in group if (v := finite(row.get(column))) is not None]
                    out[f"{prefix}{column}"] = statistics.fmean(xs) if xs else None
                else:  # "first", and "error" when there is no duplicate
                    out[f"{prefix}{column}"] = finite(group[0].get(column))
            values[normalised] = out

    base_normalised = [tuple(normalize_key(k, steps) for k in bk) for bk in base_keys]
    if len(set(base_normalised)) < len(base_normalised):
        errors.append(
            ExpectedError(
                "input",
                ("become the same key after normalising", sidecar.scorer),
                f"{sidecar.scorer}: base keys collide after normalisation",
            )
        )
    matched_rows = [i for i, nk in enumerate(base_normalised) if nk in groups]
    matched = len(matched_rows)
    base_set = set(base_normalised)
    extras = [k for k in groups if k not in base_set]  # dict order: order of first row
    if sidecar.per_frame:
        displays = [
            tuple(min(raw[i] for raw in raw_keys[k]) for i in range(len(key))) for k in extras
        ]
        unmatched_sidecar = tuple(sorted(displays, key=lambda d: d[0]))
    else:
        unmatched_sidecar = tuple(raw_keys[k][0] for k in extras)
    coverage = RefCoverage(
        scorer=sidecar.scorer,
        path=sidecar.path,
        base_rows=len(base_keys),
        sidecar_rows=len(rows),
        sidecar_keys=len(groups),
        matched=matched,
        missing=len(base_keys) - matched,
        extra=len(extras),
        duplicate_keys=0 if sidecar.per_frame else len(duplicates),
        nulls={
            name: sum(values[base_normalised[i]][name] is None for i in matched_rows)
            for name in outputs
        },
        non_finite=non_finite,
        coverage=matched / len(base_keys),
        per_frame=sidecar.per_frame,
        unmatched_base=tuple(
            base_keys[i] for i, nk in enumerate(base_normalised) if nk not in groups
        ),
        unmatched_sidecar=unmatched_sidecar,
    )
    if not matched and not sidecar.allow_no_match:
        errors.append(
            ExpectedError(
                "policy",
                (
                    "join policy failed",
                    (
                        f"{sidecar.scorer}: no base key has a sidecar row "
                        f"(0 of {len(base_keys):,} matched)"
                    ),
                    "if no match is expected, set SidecarSpec(allow_no_match=True)",
                ),
                f"{sidecar.scorer}: no base key matched",
            )
        )
    elif sidecar.on_missing == "error" and coverage.missing:
        errors.append(
            ExpectedError(
                "policy",
                (
                    "join policy failed",
                    (
                        f"{sidecar.scorer}: {coverage.missing} base key(s) have no sidecar row "
                        '(on_missing="error")'
                    ),
                ),
                f"{sidecar.scorer}: missing keys under on_missing=error",
            )
        )
    if coverage.coverage < sidecar.min_coverage and (matched or sidecar.allow_no_match):
        errors.append(
            ExpectedError(
                "policy",
                (
                    "join policy failed",
                    (
                        f"{sidecar.scorer}: coverage {coverage.coverage:.4f} "
                        f"({matched}/{len(base_keys)}) is below the minimum"
                    ),
                ),
                f"{sidecar.scorer}: coverage below min_coverage",
            )
        )
    if sidecar.per_frame:
        outputs.append(f"{prefix}n_frames")
    return _Joined(outputs=outputs, values=values, coverage=coverage)


# --- the join -----------------------------------------------------------------------------------


def reference_join(base: RefTable, key: Sequence[str], sidecars: Sequence[RefSidecar]) -> RefResult:
    """Join ``sidecars`` onto ``base`` by ``key`` the slow, obvious way.

    ``base`` must have unique, non-null keys (as text); raises :class:`ReferenceJoinError` with
    every error the contract requires.
    """
    base_keys = [tuple(key_text(row[k]) for k in key) for row in base.rows]
    if len(set(base_keys)) != len(base_keys) or not base_keys:
        msg = "the reference expects a non-empty base table with unique keys"
        raise ValueError(msg)
    errors: list[ExpectedError] = []
    joined = [_join_one(key, base_keys, sidecar, errors) for sidecar in sidecars]
    if errors:
        raise ReferenceJoinError(errors)
    done = [j for j in joined if j is not None]
    columns = [*base.columns, *(name for j in done for name in j.outputs)]
    rows: list[dict[str, Value]] = []
    for index, row in enumerate(base.rows):
        out: dict[str, Value] = {
            c: key_text(row[c]) if c in key else row.get(c) for c in base.columns
        }
        keep = True
        for sidecar, result in zip(sidecars, done, strict=True):
            normalised = tuple(normalize_key(k, sidecar.normalize_keys) for k in base_keys[index])
            found = result.values.get(normalised)
            if found is None and sidecar.on_missing == "drop":
                keep = False
            for name in result.outputs:
                out[name] = None if found is None else found[name]
        if keep:
            rows.append(out)
    return RefResult(columns=columns, rows=rows, coverage=tuple(j.coverage for j in done))
