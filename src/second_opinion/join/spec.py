"""What to join: the validated description of a base table and its sidecars.

These pydantic models are the library's contract (the CLI and, later, the batch manifest build
them); every rule that does not need to read a file is checked here.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from second_opinion._typing import (
    POOL_STATS,
    KeyNormalization,
    OnDuplicate,
    OnMissing,
    PoolStat,
)
from second_opinion.join.keys import canonical_steps
from second_opinion.validation import Loc, build, location

SLUG = re.compile(r"^[a-z0-9_]+$")
_DERIVED = re.compile(r"^(zscore|rank|delta:.+)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SidecarOptions(_Model):
    """How a sidecar is joined: every option but its scorer name and path.

    Shared by :class:`SidecarSpec` and by the batch manifest's ``defaults`` and sidecar entries,
    so each option is declared and validated in one place.
    """

    key_map: Annotated[
        dict[str, str],
        Field(description="Sidecar key column -> base key column, for keys named differently."),
    ] = {}
    normalize_keys: Annotated[
        tuple[KeyNormalization, ...],
        Field(description="Steps applied to keys on both sides before matching."),
    ] = ()
    frame_column: Annotated[
        str | None, Field(description="Set for per-frame sidecars: rows are pooled per key.")
    ] = None
    pool: Annotated[
        tuple[PoolStat, ...], Field(description="Pooling statistics for per-frame sidecars.")
    ] = ("mean",)
    columns: Annotated[
        tuple[str, ...] | str | None,
        Field(
            description="Score columns to take; default every non-key numeric column. For a "
            "score matrix (align): the names of its columns, or a pattern with {i} (1-based)."
        ),
    ] = None
    prefix: Annotated[
        str | None, Field(description="Replaces 'so_<scorer>_' in output column names.")
    ] = None
    on_missing: OnMissing = "null"
    min_coverage: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    on_duplicate: OnDuplicate = "error"
    higher_is_better: bool = True
    derived: Annotated[
        tuple[str, ...], Field(description="zscore, rank, and delta:<base column>.")
    ] = ()

    @field_validator("on_missing", mode="before")
    @classmethod
    def _yaml_null(cls, value: object) -> object:
        # YAML reads an unquoted `on_missing: null` as None; it means the "null" policy.
        return "null" if value is None else value

    @field_validator("normalize_keys")
    @classmethod
    def _steps(cls, value: tuple[KeyNormalization, ...]) -> tuple[KeyNormalization, ...]:
        return canonical_steps(value)

    @field_validator("pool")
    @classmethod
    def _pool(cls, value: tuple[PoolStat, ...]) -> tuple[PoolStat, ...]:
        if not value:
            msg = f"pool needs at least one statistic ({', '.join(POOL_STATS)})"
            raise ValueError(msg)
        return tuple(dict.fromkeys(value))

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: tuple[str, ...] | str | None) -> tuple[str, ...] | str | None:
        if isinstance(value, str):
            return check_column_pattern(value)
        if value is not None and not value:
            msg = "columns is empty; leave it out to take every numeric column"
            raise ValueError(msg)
        if value is not None and len(set(value)) != len(value):
            msg = f"columns repeats a name: {list(value)}"
            raise ValueError(msg)
        return value

    @field_validator("derived")
    @classmethod
    def _derived(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not _DERIVED.match(item):
                msg = f"unknown derived feature {item!r}; use zscore, rank or delta:<base column>"
                raise ValueError(msg)
        return tuple(dict.fromkeys(value))


OPTION_FIELDS: tuple[str, ...] = tuple(SidecarOptions.model_fields)
MATRIX_SUFFIXES = (".mat", ".npy", ".npz")
"""Sidecar files that are always score matrices (no key): they need ``align``."""


MAX_PATTERN_LENGTH = 200
"""The longest columns pattern (characters): every column's name is built from it."""
MAX_PATTERN_WIDTH = 9
"""The largest width (and precision) in the number format of a pattern's ``{i}``."""
_NUMBER_FORMAT = re.compile(
    rf"(?:[^{{}}]?[<>=^])?[+\- ]?#?0?[0-{MAX_PATTERN_WIDTH}]?[,_]?(?:\.[0-{MAX_PATTERN_WIDTH}])?"
    r"[bdeEfFgGnoxX%]?"
)
"""A format spec for ``{i}``: Python's for an integer, with a one-digit width and precision."""
_PATTERN_HINT = "use {i} for the 1-based column number, e.g. 'f{i:02d}'"

PatternParts = tuple[tuple[str, str | None], ...]
"""A parsed columns pattern: (literal text, format spec of the ``{i}`` after it or ``None``)."""


def _allowed_field(name: str, conversion: str | None, spec: str) -> bool:
    """Whether a replacement field of a columns pattern is ``{i}`` with a short number format."""
    return name == "i" and conversion is None and _NUMBER_FORMAT.fullmatch(spec) is not None


def parse_column_pattern(pattern: str) -> PatternParts:
    """The literal text and ``{i}`` fields of a columns pattern, or :class:`ValueError`.

    The pattern is parsed, never handed to ``str.format``: the only field is ``{i}``, with no
    attribute or index lookup and no conversion, and its format is a short integer format
    (``{i}``, ``{i:03d}``, ``{i:x}``; width and precision at most :data:`MAX_PATTERN_WIDTH`).
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        msg = (
            f"columns pattern {pattern!r} is {len(pattern)} characters long; a pattern "
            f"has at most {MAX_PATTERN_LENGTH} characters"
        )
        raise ValueError(msg)
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        msg = f"columns pattern {pattern!r} does not format with i=1 ({exc}); {_PATTERN_HINT}"
        raise ValueError(msg) from None
    parts: list[tuple[str, str | None]] = []
    for literal, name, format_spec, conversion in parsed:
        if name is None:  # trailing text: no field after it
            parts.append((literal, None))
            continue
        spec = format_spec or ""
        if not _allowed_field(name, conversion, spec):
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            msg = (
                f"columns pattern {pattern!r}: the field {shown} is not allowed; the only field "
                "is {i} (the 1-based column number), with no attribute, index or conversion and "
                "at most a short integer format such as {i:02d} or {i:>4} (width and precision "
                f"at most {MAX_PATTERN_WIDTH})"
            )
            raise ValueError(msg)
        parts.append((literal, spec))
    if all(spec is None for _, spec in parts):
        msg = f"columns pattern {pattern!r} has no {{i}}: every column would get one name"
        raise ValueError(msg)
    return tuple(parts)


def format_column_pattern(parts: PatternParts, i: int) -> str:
    """Column ``i``'s name from a parsed pattern (:func:`parse_column_pattern`)."""
    return "".join(literal + ("" if spec is None else format(i, spec)) for literal, spec in parts)


def check_column_pattern(pattern: str) -> str:
    """A column-name pattern must hold ``{i}`` and nothing else (``f{i:02d}``); see
    :func:`parse_column_pattern`."""
    parse_column_pattern(pattern)
    return pattern


class Align(_Model):
    """Where the keys of a score matrix come from: a table's column, one key per matrix row."""

    keys_from: Annotated[Path, Field(description="The table listing the keys in row order.")]
    column: Annotated[str, Field(min_length=1, description="Its key column.")]


class MatrixOptions(_Model):
    """A sidecar's fields for score matrices (a bare matrix aligned to keys by row order)."""

    variable: Annotated[
        str | None,
        Field(description="The matrix variable in a .mat/.npz file; default: the only one."),
    ] = None
    align: Annotated[
        Align | None, Field(description="Set for a score matrix: where its row keys come from.")
    ] = None


def check_scorer(value: str) -> str:
    """A scorer name must be a slug: it becomes part of column names."""
    if not SLUG.match(value):
        msg = f"scorer {value!r} is not a slug; use lower-case letters, digits and '_'"
        raise ValueError(msg)
    return value


class SidecarSpec(SidecarOptions, MatrixOptions):
    """One scorer's sidecar and how to join it."""

    scorer: Annotated[str, Field(description="Slug naming the scorer: [a-z0-9_]+.")]
    path: Annotated[Path, Field(description="The sidecar table file.")]

    @field_validator("scorer")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_scorer(value)

    @model_validator(mode="after")
    def _frame_and_keys(self) -> Self:
        if self.frame_column is not None and self.frame_column in self.key_map:
            msg = f"frame_column {self.frame_column!r} is also a key in key_map"
            raise ValueError(msg)
        if isinstance(self.columns, tuple) and self.frame_column in self.columns:
            msg = f"frame_column {self.frame_column!r} cannot also be a score column"
            raise ValueError(msg)
        problem = matrix_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def column_prefix(self) -> str:
        """The prefix of this sidecar's output columns."""
        return self.prefix if self.prefix is not None else f"so_{self.scorer}_"

    @property
    def per_frame(self) -> bool:
        """Whether rows are frames to pool."""
        return self.frame_column is not None

    def sidecar_key(self, base_key: str) -> str:
        """The sidecar column that matches base key column ``base_key``."""
        for side, base in self.key_map.items():
            if base == base_key:
                return side
        return base_key


def matrix_problem(sidecar: SidecarSpec) -> str | None:
    """What is inconsistent between a sidecar's matrix fields and its other options, if any."""
    name = sidecar.scorer
    if sidecar.align is None:
        if sidecar.path.suffix.lower() in MATRIX_SUFFIXES:
            return (
                f"sidecar {name!r}: {sidecar.path.name} is a score matrix with no key; set "
                "align: {keys_from: <table listing the keys in row order>, column: <its key>}"
            )
        if sidecar.variable is not None:
            return f"sidecar {name!r}: variable applies to a score matrix; set align as well"
        if isinstance(sidecar.columns, str):
            return (
                f"sidecar {name!r}: a columns pattern ({sidecar.columns!r}) names a score "
                "matrix's columns; list the score columns to take instead"
            )
        return None
    if sidecar.frame_column is not None:
        return f"sidecar {name!r}: a score matrix has one row per clip; drop frame_column"
    if sidecar.key_map:
        return f"sidecar {name!r}: a score matrix has no key column to map; drop key_map"
    return None


class JoinSpec(_Model):
    """A base (corpus) table, its key columns, and the sidecars to join onto it."""

    features: Path
    key: Annotated[tuple[str, ...], Field(min_length=1)]
    sidecars: tuple[SidecarSpec, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = join_spec_problems(self.key, self.sidecars)
        if problems:
            loc, message = problems[0]
            msg = f"{location(loc)}: {message}"
            raise ValueError(msg)
        return self


def join_spec_problems(
    key: Sequence[str], sidecars: Sequence[SidecarSpec]
) -> list[tuple[Loc, str]]:
    """Problems between the key and the sidecars, each with the field it belongs to."""
    problems: list[tuple[Loc, str]] = []
    if len(set(key)) != len(key):
        problems.append((("key",), f"key repeats a column: {list(key)}"))
    seen: set[str] = set()
    for index, sidecar in enumerate(sidecars):
        if sidecar.scorer in seen:
            message = (
                f"scorer {sidecar.scorer!r} appears twice; give each sidecar its own scorer name"
            )
            problems.append((("sidecars", index, "scorer"), message))
        seen.add(sidecar.scorer)
        for side, base in sidecar.key_map.items():
            if base not in key:
                message = (
                    f"sidecar {sidecar.scorer!r}: key_map maps {side!r} to {base!r}, "
                    f"which is not a key column (key: {', '.join(key)})"
                )
                problems.append((("sidecars", index, "key_map"), message))
        if sidecar.align is not None and len(key) != 1:
            message = (
                f"sidecar {sidecar.scorer!r}: a score matrix aligns to a one-column key; "
                f"the key has {len(key)} columns ({', '.join(key)})"
            )
            problems.append((("sidecars", index, "align"), message))
        if len(set(sidecar.key_map.values())) != len(sidecar.key_map):
            message = f"sidecar {sidecar.scorer!r}: key_map maps two columns to one base key"
            problems.append((("sidecars", index, "key_map"), message))
    return problems


def build_join_spec(**fields: object) -> JoinSpec:
    """Build a :class:`JoinSpec`; every problem is listed in one :class:`UsageError`."""
    return build(JoinSpec, fields, what="join spec")
