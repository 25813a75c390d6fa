"""What a saliency job computes: the validated :class:`SaliencySpec` (docs/saliency.md).

Every rule that needs no file is checked here; the clips table, the clips and the maps are
checked when :func:`~second_opinion.saliency.run.run_saliency` reads them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from second_opinion.saliency.yuv import BadClipError
from second_opinion.validation import build

OnBadClip = Literal["error", "skip"]
"""What a bad clip (missing or mis-sized file, wrong map shape) does: fail the job, or skip it."""

CLIP_ID_FIELD = "{clip_id}"
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


class SaliencySpec(BaseModel):
    """A clips table, where the saliency maps come from (a model or precomputed maps), and how
    the per-clip features are computed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clips: Annotated[
        Path, Field(description="The clips table: clip_id, path, width, height, pix_fmt.")
    ]
    model: Annotated[
        Path | None, Field(description="An ONNX saliency model run on every sampled frame.")
    ] = None
    maps: Annotated[
        str | None,
        Field(
            description="Precomputed maps: a .npy path pattern with {clip_id}, relative to the "
            "clips table's folder unless absolute, e.g. 'maps/{clip_id}.npy'."
        ),
    ] = None
    frame_step: Annotated[
        int, Field(ge=1, strict=True, description="Use frames 0, s, 2s, … of each clip.")
    ] = 1
    block: Annotated[
        int, Field(ge=1, strict=True, description="Block side in pixels for sal_block_coverage.")
    ] = 16
    on_bad_clip: OnBadClip = "error"
    jobs: Annotated[
        int, Field(ge=1, strict=True, description="Clips computed at once (threads).")
    ] = 1

    @field_validator("maps")
    @classmethod
    def _maps_pattern(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if CLIP_ID_FIELD not in value:
            msg = f"maps pattern {value!r} has no {CLIP_ID_FIELD}; e.g. 'maps/{CLIP_ID_FIELD}.npy'"
            raise ValueError(msg)
        others = sorted(set(_PLACEHOLDER.findall(value)) - {CLIP_ID_FIELD})
        if others:
            msg = (
                f"maps pattern {value!r} has {', '.join(others)}; only {CLIP_ID_FIELD} is filled in"
            )
            raise ValueError(msg)
        if not value.lower().endswith(".npy"):
            msg = f"maps pattern {value!r} does not end in .npy; maps are NumPy .npy arrays"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.model is None) == (self.maps is None):
            given = "both" if self.model is not None else "neither"
            msg = f"give exactly one of model and maps ({given} given)"
            raise ValueError(msg)
        return self

    def map_path(self, clip_id: str) -> Path:
        """The precomputed map file of ``clip_id``: the pattern filled in, relative paths read
        from the clips table's folder.

        Raises :class:`BadClipError` for a clip id that would take the path out of the
        pattern's folder (a ``..`` part, or an absolute path where the pattern is relative).
        """
        if self.maps is None:
            msg = "this spec computes maps with a model; it has no map files"
            raise ValueError(msg)
        path = Path(self.maps.replace(CLIP_ID_FIELD, clip_id))
        escape = _escape(clip_id, path, Path(self.maps.replace(CLIP_ID_FIELD, "x")))
        if escape is not None:
            msg = (
                f"clip {clip_id!r}: its map file would be {path}, outside the folder of the maps "
                f"pattern {self.maps!r}, as the clip id {escape}; a clip id in a map path may "
                "name subfolders ('a/1') but hold no '..' part and not start with '/': "
                "rename the clip"
            )
            raise BadClipError(msg)
        return path if path.is_absolute() else self.clips.parent / path


def _escape(clip_id: str, path: Path, neutral: Path) -> str | None:
    """How ``clip_id`` takes its map ``path`` out of the pattern's folder, or ``None``.

    ``neutral`` is the pattern filled in with a plain id: a relative pattern must stay relative.
    """
    if ".." in re.split(r"[/\\]", clip_id):
        return "has a '..' part"
    if path.is_absolute() != neutral.is_absolute():
        return "is an absolute path"
    return None


def build_saliency_spec(**fields: object) -> SaliencySpec:
    """Build a :class:`SaliencySpec`; every problem is listed in one :class:`UsageError`."""
    return build(SaliencySpec, fields, what="saliency spec")
