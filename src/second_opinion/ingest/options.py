"""What to ingest and how: :class:`IngestOptions`, with every rule that needs no file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from second_opinion._typing import IngestLayout, PresetName
from second_opinion.errors import UsageError
from second_opinion.ingest.original_spec import original_layout_problem
from second_opinion.ingest.presets import PRESETS, check_scale, unknown_preset_message
from second_opinion.tables.memory import MemoryTable, TableSource
from second_opinion.validation import OPTIONS, build

_COLUMN_FLAGS = {
    "id_column": "--id-column",
    "mos_column": "--mos-column",
    "mos_std_column": "--mos-std-column",
    "n_ratings_column": "--n-ratings-column",
}

ColumnName = Annotated[str, Field(min_length=1)]


class MetadataOptions(BaseModel):
    """A corpus's metadata file and how to read it; every rule that needs no file is checked here.

    Shared by :class:`IngestOptions` and the batch manifest's ``ingest`` entry, so each option is
    declared and validated in one place.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: PresetName
    metadata: TableSource
    id_column: ColumnName | None = None
    mos_column: ColumnName | None = None
    mos_std_column: ColumnName | None = None
    n_ratings_column: ColumnName | None = None
    mos_scale: tuple[float, float] | None = None
    drop_missing_mos: bool = False
    allow_out_of_scale: bool = False

    @field_validator("preset", mode="before")
    @classmethod
    def _known_preset(cls, value: object) -> object:
        if isinstance(value, str) and value not in PRESETS:
            raise ValueError(unknown_preset_message(value))
        return value

    @field_validator("mos_scale")
    @classmethod
    def _scale(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is None:
            return None
        try:
            return check_scale(value)
        except UsageError as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="after")
    def _fits_preset(self) -> Self:
        preset = PRESETS[self.preset]
        if preset.name == "generic":
            missing = [
                f"{name} ({flag})"
                for name, flag in (
                    ("id_column", "--id-column"),
                    ("mos_column", "--mos-column"),
                    ("mos_scale", "--mos-scale LOW,HIGH"),
                )
                if getattr(self, name) is None
            ]
            if missing:
                listed = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "")
                msg = (
                    f"preset 'generic' needs {listed}{missing[-1]}: it knows no column names "
                    "and no scale"
                )
                raise ValueError(msg)
        if preset.source != "table" and isinstance(self.metadata, MemoryTable):
            what = "a VMAF dataset file" if preset.source == "vmaf-dataset" else "a folder"
            msg = (
                f"preset {preset.name!r} reads {what}, not a table: give metadata as its path "
                "(an in-memory table is read by the table presets)"
            )
            raise ValueError(msg)
        if preset.source != "table":
            given = [flag for name, flag in _COLUMN_FLAGS.items() if getattr(self, name)]
            if given:
                what = (
                    "a VMAF dataset file"
                    if preset.source == "vmaf-dataset"
                    else "a folder of libvmaf JSON files"
                )
                msg = (
                    f"preset {preset.name!r} reads {what}, which has no columns to "
                    f"choose; leave out {', '.join(given)}"
                )
                raise ValueError(msg)
        chosen = [(n, getattr(self, n)) for n in _COLUMN_FLAGS if getattr(self, n)]
        for i, (name, column) in enumerate(chosen):
            for other, other_column in chosen[:i]:
                if column == other_column:
                    msg = (
                        f"{_COLUMN_FLAGS[other]} and {_COLUMN_FLAGS[name]} both name "
                        f"{column!r}; each role needs its own column"
                    )
                    raise ValueError(msg)
        return self


class IngestOptions(MetadataOptions):
    """What to ingest and how, and where the table goes, in which layout.

    ``layout="original"`` writes the original project's corpus JSONL instead of the canonical
    table (docs/corpora.md); a batch's ``ingest`` entry has no layout, as its join needs the
    canonical ``clip_id``.
    """

    output: Path
    layout: IngestLayout = "canonical"
    corpus_version: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _fits_layout(self) -> Self:
        if self.layout == "original":
            problem = original_layout_problem(self.preset, self.output)
            if problem:
                raise ValueError(problem)
            if self.preset == "bvi-dvc" and self.corpus_version is not None:
                msg = (
                    "preset 'bvi-dvc' is written as vmaf-tune corpus rows, which record no "
                    "corpus version; leave out --corpus-version"
                )
                raise ValueError(msg)
        elif self.corpus_version is not None:
            msg = (
                "--corpus-version is a field of the original layout only; "
                "add --layout original or leave it out"
            )
            raise ValueError(msg)
        return self


def build_ingest_options(**fields: object) -> IngestOptions:
    """Build :class:`IngestOptions`, turning validation errors into one :class:`UsageError`."""
    preset = fields.get("preset")
    if isinstance(preset, str) and preset not in PRESETS:
        raise UsageError(unknown_preset_message(preset))
    return build(
        IngestOptions, fields, what="ingest options", wording=OPTIONS, lone_problem_alone=True
    )
