"""The manifest as written: the pydantic models of its schema (version 1).

``second_opinion.batch.manifest.document`` reads the file into data;
``second_opinion.batch.manifest.load`` checks that data against these models and resolves it
into jobs (``second_opinion.batch.manifest.jobs``); ``second-opinion schema`` prints
:func:`manifest_schema`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from second_opinion.audit.options import AuditOptions
from second_opinion.ingest.options import MetadataOptions
from second_opinion.join.options import MatrixOptions, SidecarOptions
from second_opinion.join.spec import check_scorer

MANIFEST_VERSION = 1
JOB_NAME = r"^[a-z0-9][a-z0-9_.-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SidecarEntry(SidecarOptions, MatrixOptions):
    """A sidecar of a job: a scorer, its table, and any option that overrides the defaults.

    ``path`` and ``align.keys_from`` are relative to the manifest.
    """

    scorer: Annotated[str, Field(description="Slug naming the scorer: [a-z0-9_]+.")]
    path: Annotated[str, Field(description="The sidecar table; relative to the manifest.")]
    description: Annotated[
        str | None, Field(description="Free text; not part of the fingerprint.")
    ] = None

    @field_validator("scorer")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_scorer(value)


class Defaults(SidecarOptions):
    """Options every job and sidecar inherits unless it sets its own."""

    key: Annotated[list[str] | None, Field(description="Key columns of the base tables.")] = None


_PresetText = Annotated[str, Field(description="The ingest preset, e.g. konvid-1k.")]
_MetadataText = Annotated[str, Field(description="The metadata file; relative to the manifest.")]


class IngestEntry(MetadataOptions):
    """A corpus's published metadata, ingested as the job's base table (see ``ingest``)."""

    # As the manifest writes them: the preset's name as text (an unknown one is refused with the
    # list of presets, not as a schema enum), and the metadata file's path relative to the
    # manifest (resolved into IngestOptions.metadata when the job is resolved).
    preset: _PresetText  # type: ignore[assignment]
    metadata: _MetadataText  # type: ignore[assignment]


class JobEntry(_Strict):
    """One join job: a corpus table, its sidecars, and where the result goes."""

    name: Annotated[str, Field(pattern=JOB_NAME, description="Unique slug naming the job.")]
    description: Annotated[str | None, Field(description="Free text; not fingerprinted.")] = None
    features: Annotated[
        str | None,
        Field(description="The base (corpus) table; relative to the manifest. Or: ingest."),
    ] = None
    ingest: Annotated[
        IngestEntry | None,
        Field(description="Ingest the corpus's metadata as the base table (key clip_id)."),
    ] = None
    key: Annotated[list[str] | None, Field(description="Key columns; default from defaults.")] = (
        None
    )
    sidecars: Annotated[list[SidecarEntry] | None, Field(min_length=1)] = None
    output: Annotated[
        str, Field(description="Output table, relative to output_dir; its suffix picks the format.")
    ]
    kind: Annotated[
        Literal["join", "saliency"], Field(description="join (default) or saliency.")
    ] = "join"
    clips: Annotated[
        str | None, Field(description="Saliency: the clips table; relative to the manifest.")
    ] = None
    model: Annotated[
        str | None, Field(description="Saliency: an ONNX model; relative to the manifest.")
    ] = None
    maps: Annotated[
        str | None,
        Field(description="Saliency: precomputed maps, a pattern with {clip_id} (.npy)."),
    ] = None
    frame_step: Annotated[int | None, Field(ge=1, description="Saliency: every n-th frame.")] = None
    block: Annotated[int | None, Field(ge=1, description="Saliency: block side in pixels.")] = None
    on_bad_clip: Annotated[
        Literal["error", "skip"] | None, Field(description="Saliency: fail the job or skip.")
    ] = None

    @model_validator(mode="after")
    def _kind_fields(self) -> Self:
        join_only = {
            "features": self.features,
            "ingest": self.ingest,
            "key": self.key,
            "sidecars": self.sidecars,
        }
        saliency_only = {
            "clips": self.clips,
            "model": self.model,
            "maps": self.maps,
            "frame_step": self.frame_step,
            "block": self.block,
            "on_bad_clip": self.on_bad_clip,
        }
        if self.kind == "saliency":
            wrong = [name for name, value in join_only.items() if value is not None]
            if wrong:
                msg = f"{', '.join(wrong)} belong to join jobs; a saliency job has clips instead"
                raise ValueError(msg)
            if self.clips is None:
                msg = "a saliency job needs clips (the clips table)"
                raise ValueError(msg)
            if (self.model is None) == (self.maps is None):
                msg = "a saliency job needs model (an ONNX file) or maps (a pattern), exactly one"
                raise ValueError(msg)
            return self
        wrong = [name for name, value in saliency_only.items() if value is not None]
        if wrong:
            msg = f'{", ".join(wrong)} belong to saliency jobs; set "kind": "saliency"'
            raise ValueError(msg)
        if (self.features is None) == (self.ingest is None):
            msg = "give the base table as features (a table) or ingest (metadata), exactly one"
            raise ValueError(msg)
        return self


class AuditSection(AuditOptions):
    """The audit ``second-opinion batch`` runs after its jobs (options as ``audit``'s)."""

    tables: Annotated[
        list[str] | None,
        Field(min_length=1, description="Names of the jobs whose outputs to audit; default all."),
    ] = None
    out: Annotated[
        str, Field(min_length=1, description="Report folder, relative to output_dir.")
    ] = "audit"


class ManifestFile(_Strict):
    """The manifest as written (schema version 1)."""

    version: Literal[1]
    output_dir: Annotated[str, Field(description="Folder for outputs; relative to the manifest.")]
    description: str | None = None
    defaults: Defaults = Defaults()
    jobs: Annotated[list[JobEntry], Field(min_length=1)]
    audit: Annotated[
        AuditSection | None, Field(description="Audit the outputs after the jobs run.")
    ] = None


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of native batch manifests, version 1: every field with
    its type, default and description, as ``second-opinion schema`` prints it."""
    schema = ManifestFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "second-opinion batch manifest, version 1"
    return schema
