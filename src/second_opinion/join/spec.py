"""What to join: the validated description of a base table and its sidecars.

These pydantic models are the library's contract (the CLI and, later, the batch manifest build
them); every rule that does not need to read a file is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from second_opinion.join.options import MATRIX_SUFFIXES, FrozenModel, MatrixOptions, SidecarOptions
from second_opinion.join.spelling import PYTHON, SidecarSpelling, Spelling, cli_wording
from second_opinion.tables.memory import MemoryTable, TablePath, TableSource
from second_opinion.validation import PYTHON as PYTHON_WORDING
from second_opinion.validation import Loc, build, location

SLUG = re.compile(r"^[a-z0-9_-]+$")
_PLAIN = re.compile(r"^[a-z0-9_]+$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


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
    def _frame_and_keys(self, info: ValidationInfo) -> Self:
        say = spelling_in(info).sidecar(0, self.scorer).unlocated()
        frame = say.option("frame_column")
        if self.frame_column is not None and self.frame_column in self.key_map:
            msg = f"{frame} {self.frame_column!r} is also a key in {say.option('key_map')}"
            raise ValueError(msg)
        if isinstance(self.columns, tuple) and self.frame_column in self.columns:
            msg = f"{frame} {self.frame_column!r} cannot also be a score column"
            raise ValueError(msg)
        problem = matrix_problem(self, say) or records_problem(self, say)
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


def spelling_in(info: ValidationInfo) -> Spelling:
    """The spelling a model is validated for: ``context={"spelling": …}``, else Python's."""
    context = info.context
    found = context.get("spelling") if isinstance(context, dict) else None
    return found if isinstance(found, Spelling) else PYTHON


def records_problem(sidecar: SidecarSpec, say: SidecarSpelling) -> str | None:
    """What is inconsistent between a sidecar's records kind and its other options, if any;
    options named as ``say`` spells them."""
    name = sidecar.scorer
    records = say.setting({"records": "table"})
    wrapper = say.setting({"records": "wrapper"})
    if sidecar.records == "wrapper" and isinstance(sidecar.path, MemoryTable):
        return (
            f"sidecar {name!r}: {wrapper} reads the original's JSON/JSONL score files; "
            f"an in-memory table is read as a table: drop {say.option('records')}, or give the "
            "file's path"
        )
    if sidecar.records == "wrapper":
        for option in _TABLE_ONLY:
            if getattr(sidecar, option):
                return (
                    f"sidecar {name!r}: {say.option(option)} applies to {records}; wrapper rows "
                    "give their key, score, status and scorer (competitor) themselves; drop "
                    f"{say.option(option)}"
                )
        return None
    for option in ("key_field", "score_field"):
        if getattr(sidecar, option) is not None:
            shown = say.option(option)
            return f"sidecar {name!r}: {shown} applies to {wrapper}; drop {shown}"
    status, frame = say.option("status_column"), say.option("frame_column")
    if sidecar.status_column is not None and sidecar.frame_column is not None:
        return f"sidecar {name!r}: {status} applies to a per-clip sidecar; drop {status} or {frame}"
    if sidecar.scorer_column is not None and sidecar.scorer_column == sidecar.status_column:
        return (
            f"sidecar {name!r}: {say.option('scorer_column')} and {status} are both "
            f"{sidecar.status_column!r}"
        )
    if sidecar.on_missing == "mark" and sidecar.status_column is None:
        return (
            f"sidecar {name!r}: {say.setting({'on_missing': 'mark'})} says 'missing' in a status "
            f"column; set {say.name('status_column')} (or {wrapper}), or use "
            f"{say.setting({'on_missing': 'null'})}"
        )
    return None


def matrix_problem(sidecar: SidecarSpec, say: SidecarSpelling) -> str | None:
    """What is inconsistent between a sidecar's matrix fields and its other options, if any;
    options named as ``say`` spells them."""
    name = sidecar.scorer
    memory = isinstance(sidecar.path, MemoryTable)
    if memory and sidecar.align is not None:
        return (
            f"sidecar {name!r}: align joins a score matrix file (.mat, .npy, .npz) by row order; "
            "an in-memory table has its own key column: drop align and name it with key_map"
        )
    if sidecar.align is None:
        if isinstance(sidecar.path, Path) and sidecar.path.suffix.lower() in MATRIX_SUFFIXES:
            fix = say.choose(
                python='align={"keys_from": <table listing the keys in row order>, '
                '"column": <its key column>}',
                cli=f"--align {name}:TABLE:COLUMN (the table listing the keys in row order, "
                "and its key column)",
                manifest="align: {keys_from: <table listing the keys in row order>, "
                "column: <its key>}",
            )
            return f"sidecar {name!r}: {sidecar.path.name} is a score matrix with no key; set {fix}"
        if sidecar.variable is not None:
            return (
                f"sidecar {name!r}: {say.option('variable')} applies to a score matrix; set "
                f"{say.name('align')} as well"
            )
        if isinstance(sidecar.columns, str):
            return (
                f"sidecar {name!r}: a {say.option('columns')} pattern ({sidecar.columns!r}) names "
                "a score matrix's columns; list the score columns to take instead"
            )
        return None
    if sidecar.frame_column is not None:
        return (
            f"sidecar {name!r}: a score matrix has one row per clip; drop "
            f"{say.option('frame_column')}"
        )
    if sidecar.key_map:
        return (
            f"sidecar {name!r}: a score matrix has no key column to map; drop "
            f"{say.option('key_map')}"
        )
    return None


class JoinSpec(FrozenModel):
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
    def _consistent(self, info: ValidationInfo) -> Self:
        spelling = spelling_in(info)
        problems = join_spec_problems(self.key, self.sidecars, spelling)
        if problems:
            loc, message = problems[0]
            if spelling.surface != "cli":
                message = f"{location(loc)}: {message}"
            elif loc[0] == "key":  # a sidecar's problem names its sidecar
                message = f"{spelling.key_option()}: {message}"
            raise ValueError(message)
        return self


def join_spec_problems(
    key: Sequence[str], sidecars: Sequence[SidecarSpec], spelling: Spelling = PYTHON
) -> list[tuple[Loc, str]]:
    """Problems between the key and the sidecars, each with the field it belongs to; options
    named as ``spelling`` spells them."""
    problems: list[tuple[Loc, str]] = []
    keys = spelling.key_option()
    if len(set(key)) != len(key):
        problems.append((("key",), f"{keys} repeats a column: {list(key)}"))
    seen: set[str] = set()
    for index, sidecar in enumerate(sidecars):
        key_map = spelling.sidecar(index, sidecar.scorer).unlocated().option("key_map")
        if sidecar.scorer in seen:
            message = (
                f"scorer {sidecar.scorer!r} appears twice; give each sidecar its own scorer name"
            )
            problems.append((("sidecars", index, "scorer"), message))
        seen.add(sidecar.scorer)
        for side, base in sidecar.key_map.items():
            if base not in key:
                message = (
                    f"sidecar {sidecar.scorer!r}: {key_map} maps {side!r} to {base!r}, "
                    f"which is not a key column ({keys}: {', '.join(key)})"
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
            message = f"sidecar {sidecar.scorer!r}: {key_map} maps two columns to one base key"
            problems.append((("sidecars", index, "key_map"), message))
    return problems


def build_join_spec(*, spelling: Spelling = PYTHON, **fields: object) -> JoinSpec:
    """Build a :class:`JoinSpec`; every problem is listed in one :class:`UsageError`, said as
    ``spelling`` spells the options (the CLI's flags: ``--pool dover: …``)."""
    if spelling.surface == "cli":
        sidecars = fields.get("sidecars")
        listed = sidecars if isinstance(sidecars, list | tuple) else ()
        scorers = [str(s.get("scorer", "")) if isinstance(s, dict) else "" for s in listed]
        wording = cli_wording(scorers)
        return build(
            JoinSpec, fields, what="options", wording=wording, context={"spelling": spelling}
        )
    return build(
        JoinSpec, fields, what="join spec", wording=PYTHON_WORDING, context={"spelling": spelling}
    )


def spec_inputs(spec: JoinSpec) -> list[tuple[str, str | None, TablePath]]:
    """(role, scorer, table) of each input of ``spec``, base first; a score matrix's key table
    follows its matrix (role ``keys``)."""
    found: list[tuple[str, str | None, TablePath]] = [("features", None, spec.features)]
    for sidecar in spec.sidecars:
        found.append(("sidecar", sidecar.scorer, sidecar.path))
        if sidecar.align is not None:
            found.append(("keys", sidecar.scorer, sidecar.align.keys_from))
    return found
