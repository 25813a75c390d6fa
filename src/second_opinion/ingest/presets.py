"""The corpus presets: which columns hold the clip id and the MOS, and on what scale.

Each preset names the columns a corpus's published metadata uses (the first of several accepted
names that the file has wins; ``--id-column``/``--mos-column`` override), the scale its ratings
were collected on, and whether the score is a MOS (higher is better) or a DMOS (higher is worse).
Sources and assumptions for every preset are in docs/corpora.md.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Literal, get_args

from second_opinion._typing import PresetName as PresetName  # noqa: PLC0414 - re-exported
from second_opinion._typing import ScoreKind as ScoreKind  # noqa: PLC0414 - re-exported
from second_opinion.errors import UsageError

PRESET_NAMES: tuple[PresetName, ...] = get_args(PresetName)
SourceFormat = Literal["table", "vmaf-dataset", "vmaf-json-dir"]
Scale = tuple[float, float]


@dataclass(frozen=True)
class Preset:
    """How one corpus's metadata is read."""

    name: PresetName
    title: str
    scale: Scale | None  # None: the user gives it (generic)
    id_columns: tuple[str, ...] = ()  # accepted names, first found wins
    mos_columns: tuple[str, ...] = ()
    mos_std_columns: tuple[str, ...] = ()
    n_ratings_columns: tuple[str, ...] = ()
    kind: ScoreKind = "mos"
    source: SourceFormat = "table"

    def describe_scale(self) -> str:
        """The scale as shown in messages: ``1–5``."""
        return "given by --mos-scale" if self.scale is None else format_scale(self.scale)


PRESETS: dict[PresetName, Preset] = {
    p.name: p
    for p in (
        Preset("konvid-1k", "KoNViD-1k", (1.0, 5.0), ("flickr_id",), ("mos", "MOS")),
        Preset("konvid-150k", "KoNViD-150k", (1.0, 5.0), ("video_name",), ("mos", "video_score")),
        Preset("live-vqc", "LIVE-VQC", (0.0, 100.0), ("File",), ("MOS",)),
        Preset("youtube-ugc", "YouTube-UGC", (1.0, 5.0), ("vid",), ("MOSFull",)),
        Preset("lsvq", "LSVQ", (0.0, 100.0), ("name",), ("mos",)),
        Preset(
            "live-vqa",
            "LIVE VQA",
            (0.0, 100.0),
            ("filename",),
            ("dmos", "DMOS"),
            mos_std_columns=("dmos_std", "DMOS_std"),
            kind="dmos",
        ),
        Preset("netflix-public", "Netflix public", None, source="vmaf-dataset"),
        Preset("chug", "CHUG", (0.0, 100.0), ("Video",), ("mos_j",), mos_std_columns=("sos_j",)),
        Preset(
            "waterloo-ivc-4k",
            "Waterloo IVC 4K-VQA",
            (0.0, 100.0),
            ("name", "video_name", "filename", "file_name"),
            ("mos", "MOS", "mos_score"),
            mos_std_columns=("sd", "SD", "mos_std", "mos_std_dev", "SD_MOS"),
            n_ratings_columns=("n", "ratings", "num_ratings", "n_ratings"),
        ),
        # BVI-DVC has no subjective scores: the score is each encode's pooled VMAF (0-100).
        Preset("bvi-dvc", "BVI-DVC (VMAF of encodes)", (0.0, 100.0), source="vmaf-json-dir"),
        Preset("generic", "generic table", None),
    )
}
# The scale of a VMAF dataset depends on its scores: raw opinion scores 'os' are ACR ratings,
# a 'dmos' is anchored at 100 for the reference.
NETFLIX_OS_SCALE: Scale = (1.0, 5.0)
NETFLIX_DMOS_SCALE: Scale = (0.0, 100.0)


def get_preset(name: str) -> Preset:
    """The preset called ``name``, or a :class:`UsageError` listing the presets."""
    if name in PRESETS:
        return PRESETS[name]
    raise UsageError(unknown_preset_message(name))


def unknown_preset_message(name: str) -> str:
    """The message for an unknown preset name, with the closest known one."""
    close = difflib.get_close_matches(name.lower(), PRESET_NAMES, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown preset {name!r} (presets: {', '.join(PRESET_NAMES)}){hint}"


def format_scale(scale: Scale) -> str:
    """``(1.0, 5.0)`` as ``1–5``; non-integral bounds keep their decimals."""
    return "–".join(f"{v:g}" for v in scale)


def parse_scale(text: str, option: str = "--mos-scale") -> Scale:
    """``"1,5"`` as ``(1.0, 5.0)``: two finite numbers, low before high."""
    parts = [p.strip() for p in text.split(",")]
    msg = f"{option} {text!r}: expected LOW,HIGH, e.g. {option} 1,5"
    if len(parts) != 2:
        raise UsageError(msg)
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise UsageError(msg) from None
    return check_scale((low, high), option)


def check_scale(scale: Scale, option: str = "--mos-scale") -> Scale:
    """``scale`` if both bounds are finite and low < high, else a :class:`UsageError`."""
    low, high = scale
    if not (math.isfinite(low) and math.isfinite(high)):
        msg = f"{option} {low:g},{high:g}: both bounds must be finite numbers"
        raise UsageError(msg)
    if not low < high:
        msg = f"{option} {low:g},{high:g}: LOW must be below HIGH, e.g. {option} 1,5"
        raise UsageError(msg)
    return (float(low), float(high))
