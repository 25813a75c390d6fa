"""A sidecar's options: how it is joined, as the library, the manifest and the CLI give them.

:class:`SidecarOptions` is shared by :class:`~second_opinion.join.spec.SidecarSpec` and by the
batch manifest's ``defaults`` and sidecar entries, so each option is declared and validated in
one place; :class:`MatrixOptions` are a score matrix's (``variable``, ``align``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

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

_DERIVED = re.compile(r"^(zscore|rank|delta:.+)$")


class FrozenModel(BaseModel):
    """A model that refuses unknown fields and cannot be changed once made."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SidecarOptions(FrozenModel):
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
    allow_no_match: Annotated[
        bool,
        Field(
            description="A sidecar that matches no base key fails the join unless this is true "
            "(the rows are then written with its columns empty)."
        ),
    ] = False
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


class Align(FrozenModel):
    """Where the keys of a score matrix come from: a table's column, one key per matrix row."""

    keys_from: Annotated[Path, Field(description="The table listing the keys in row order.")]
    column: Annotated[str, Field(min_length=1, description="Its key column.")]


class MatrixOptions(FrozenModel):
    """A sidecar's fields for score matrices (a bare matrix aligned to keys by row order)."""

    variable: Annotated[
        str | None,
        Field(description="The matrix variable in a .mat/.npz file; default: the only one."),
    ] = None
    align: Annotated[
        Align | None, Field(description="Set for a score matrix: where its row keys come from.")
    ] = None
