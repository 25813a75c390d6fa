"""What to join: the validated description of a base table and its sidecars.

These pydantic models are the library's contract (the CLI and, later, the batch manifest build
them); every rule that does not need to read a file is checked here.
"""

from __future__ import annotations

import re
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
    Records,
)
from second_opinion.join.keys import canonical_steps
from second_opinion.join.patterns import check_column_pattern
from second_opinion.tables.memory import MemoryTable, TableSource
from second_opinion.validation import Loc, build, location

SLUG = re.compile(r"^[a-z0-9_-]+$")
_PLAIN = re.compile(r"^[a-z0-9_]+$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
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
    records: Annotated[
        Records,
        Field(
            description="table: the sidecar is a table. wrapper: JSON/JSONL score rows as the "
            "original materializer reads them (key, score, status, runtime, frames per row)."
        ),
    ] = "table"
    key_field: Annotated[
        str | None,
        Field(description="Wrapper records: the field holding each row's key (exact name)."),
    ] = None
    score_field: Annotated[
        str | None,
        Field(description="Wrapper records: the field holding each row's score, if present."),
    ] = None
    scorer_column: Annotated[
        str | None,
        Field(
            description="Split the sidecar's rows by this column's values: one group of output "
            "columns per scorer, in sorted order."
        ),
    ] = None
    scorer_fallback: Annotated[
        bool,
        Field(
            description="A row naming no scorer (competitor) belongs to this sidecar's scorer; "
            "false: such a row is an error."
        ),
    ] = True
    status_column: Annotated[
        str | None,
        Field(description="A column with each row's status; output <prefix>status ok/bad."),
    ] = None
    normalize_keys: Annotated[
        tuple[KeyNormalization, ...],
        Field(
            description="Steps applied to keys on both sides before matching (strip, auto, "
            "basename, stem, lower; auto is decided per side by its key column's name)."
        ),
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
        str | None,
        Field(
            description="Replaces 'so_<scorer>_' in output column names; {scorer} stands for "
            "the scorer's slug."
        ),
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
    if not SLUG.match(value) or not scorer_slug(value):
        msg = f"scorer {value!r} is not a slug; use lower-case letters, digits, '_' and '-'"
        raise ValueError(msg)
    return value


def scorer_slug(name: str) -> str:
    """How a scorer's name appears in column names: a name of lower-case letters, digits and
    ``_`` as it is; any other lower-cased, each run of characters other than ``[a-z0-9]``
    turned into one ``_``, and ``_`` stripped from both ends (``Fork-NR`` -> ``fork_nr``).
    ``""`` when nothing is left."""
    if _PLAIN.match(name):
        return name
    return _NOT_SLUG.sub("_", name.lower()).strip("_")


class SidecarSpec(SidecarOptions, MatrixOptions):
    """One scorer's sidecar and how to join it."""

    scorer: Annotated[str, Field(description="Slug naming the scorer: [a-z0-9_-]+.")]
    path: Annotated[
        TableSource,
        Field(description="The sidecar table: a file, or an in-memory table (Arrow stream)."),
    ]

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
        problem = matrix_problem(self) or records_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def column_prefix(self) -> str:
        """The prefix of this sidecar's output columns."""
        return self.prefix_for(self.scorer)

    @property
    def grouped(self) -> bool:
        """Whether the rows are split into groups by scorer (wrapper records, scorer_column)."""
        return self.records == "wrapper" or self.scorer_column is not None

    def prefix_for(self, scorer: str) -> str:
        """The prefix of the output columns of ``scorer`` (this sidecar's, or a group's):
        ``prefix`` with ``{scorer}`` replaced by its slug, default ``so_<slug>_``."""
        prefix = self.prefix if self.prefix is not None else "so_{scorer}_"
        return prefix.replace("{scorer}", scorer_slug(scorer))

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


_TABLE_ONLY = ("scorer_column", "status_column", "frame_column", "key_map", "columns", "align")


def records_problem(sidecar: SidecarSpec) -> str | None:
    """What is inconsistent between a sidecar's records kind and its other options, if any."""
    name = sidecar.scorer
    if sidecar.records == "wrapper" and isinstance(sidecar.path, MemoryTable):
        return (
            f"sidecar {name!r}: records='wrapper' reads the original's JSON/JSONL score files; "
            "an in-memory table is read as a table: drop records, or give the file's path"
        )
    if sidecar.records == "wrapper":
        for option in _TABLE_ONLY:
            if getattr(sidecar, option):
                return (
                    f"sidecar {name!r}: {option} applies to records: table; wrapper rows give "
                    "their key, score, status and scorer (competitor) themselves; drop "
                    f"{option}"
                )
        return None
    for option in ("key_field", "score_field"):
        if getattr(sidecar, option) is not None:
            return f"sidecar {name!r}: {option} applies to records: wrapper; drop {option}"
    if sidecar.status_column is not None and sidecar.frame_column is not None:
        return (
            f"sidecar {name!r}: status_column applies to a per-clip sidecar; drop "
            "status_column or frame_column"
        )
    if sidecar.scorer_column is not None and sidecar.scorer_column == sidecar.status_column:
        return (
            f"sidecar {name!r}: scorer_column and status_column are both {sidecar.status_column!r}"
        )
    if sidecar.on_missing == "mark" and sidecar.status_column is None:
        return (
            f"sidecar {name!r}: on_missing mark says 'missing' in a status column; set "
            "status_column (or records: wrapper), or use on_missing null"
        )
    return None


def matrix_problem(sidecar: SidecarSpec) -> str | None:
    """What is inconsistent between a sidecar's matrix fields and its other options, if any."""
    name = sidecar.scorer
    memory = isinstance(sidecar.path, MemoryTable)
    if memory and sidecar.align is not None:
        return (
            f"sidecar {name!r}: align joins a score matrix file (.mat, .npy, .npz) by row order; "
            "an in-memory table has its own key column: drop align and name it with key_map"
        )
    if sidecar.align is None:
        if isinstance(sidecar.path, Path) and sidecar.path.suffix.lower() in MATRIX_SUFFIXES:
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
    """A base (corpus) table, its key columns, and the sidecars to join onto it.

    ``features`` and each sidecar's ``path`` take a file's path or an in-memory table: anything
    with the Arrow stream interface (a pyarrow Table or RecordBatchReader, a polars or pandas
    >= 2.2 DataFrame, a DuckDB relation), read once when the spec is built
    (:mod:`second_opinion.tables.memory`).
    """

    features: TableSource
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
        if sidecar.records == "wrapper" and len(key) != 1:
            message = (
                f"sidecar {sidecar.scorer!r}: wrapper records give one key per row; "
                f"the key has {len(key)} columns ({', '.join(key)})"
            )
            problems.append((("sidecars", index, "records"), message))
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
