"""The fields of an original batch manifest, as pydantic models (checked all at once).

A manifest is ``{"defaults": {...}, "tables": [{...}, ...]}``; other top-level keys (``_comment``)
are ignored, unknown keys in ``defaults`` or a table are refused. Unlike the original, a value
outside a field's choices (``missing_policy: "fial"``) is an error, not a silent default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

KeyNormalize = Literal["auto", "raw", "basename", "stem"]
MissingPolicy = Literal["mark", "drop", "fail"]
CONFIG_FIELDS = (
    "key_column",
    "score_key_field",
    "score_field",
    "key_normalize",
    "missing_policy",
    "prefix",
    "overwrite",
)


class TableConfig(BaseModel):
    """The join options a table takes from ``defaults`` or sets itself."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    key_column: Annotated[
        str | None,
        Field(min_length=1, description="The feature table's key column; default: inferred."),
    ] = None
    score_key_field: Annotated[
        str | None, Field(min_length=1, description="The score rows' key field; default: inferred.")
    ] = None
    score_field: Annotated[
        str | None, Field(min_length=1, description="The score rows' score field, if present.")
    ] = None
    key_normalize: Annotated[
        KeyNormalize, Field(description="How keys are compared: auto, raw, basename or stem.")
    ] = "auto"
    missing_policy: Annotated[
        MissingPolicy, Field(description="A feature row with no score: mark, drop or fail.")
    ] = "mark"
    prefix: Annotated[
        str,
        Field(
            min_length=1,
            pattern=r"^[^{}]+$",
            description="Output columns are <prefix>_<competitor slug>_<field>.",
        ),
    ] = "second_opinion"
    overwrite: Annotated[
        bool, Field(description="Replace output columns the feature table already has.")
    ] = False


class TableEntry(TableConfig):
    """One table: its features, score files, output, and optional audit JSON."""

    id: Annotated[str, Field(min_length=1, pattern=r"\S", description="The table's name.")]
    features: Annotated[str, Field(min_length=1, description="The feature table.")]
    scores: Annotated[
        list[Annotated[str, Field(min_length=1)]],
        Field(min_length=1, description="Score files, each '[LABEL=]path'."),
    ]
    out: Annotated[str, Field(min_length=1, description="The output table, written as named.")]
    audit_json: Annotated[
        str | None, Field(description="Where to write the table's audit JSON.")
    ] = None


class OriginalManifestFile(BaseModel):
    """The whole manifest."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    defaults: TableConfig | None = None
    tables: Annotated[list[TableEntry], Field(min_length=1)]
