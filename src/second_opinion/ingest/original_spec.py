"""What the original project's ``ai/scripts/*_to_corpus_jsonl.py`` converters write, per preset.

Two row shapes exist there. The MOS corpora (KoNViD-1k, KoNViD-150k, LIVE-VQC, LSVQ, YouTube UGC,
Waterloo IVC 4K, CHUG) share one: ``src`` (the clip's file name), ``mos`` as the metadata gives it
(CHUG alone maps its 0–100 MOS onto 1–5, keeping the raw value as ``mos_raw_0_100``),
``mos_std_dev`` and ``n_ratings`` (0 when absent), ``corpus``, ``corpus_version``, and fields the
converter probes from the clip file itself. BVI-DVC is written as a vmaf-tune corpus row: one per
encode, its pooled VMAF as ``vmaf_score``. Which fields cannot be known from metadata, and what is
written for them, is in docs/corpora.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from second_opinion._typing import PresetName

RowShape = Literal["mos-corpus", "vmaf-tune"]


@dataclass(frozen=True)
class OriginalSpec:
    """How the original labels one preset's rows."""

    corpus: str  # the ``corpus`` field (MOS corpora) or the ``src`` prefix (BVI-DVC)
    corpus_version: str  # the converter's default ``--corpus-version``
    clip_suffix: str = ".mp4"  # appended to an id without an extension to make ``src``
    shape: RowShape = "mos-corpus"


ORIGINAL: dict[PresetName, OriginalSpec] = {
    "konvid-1k": OriginalSpec("konvid-1k", "konvid-1k-2017"),
    "konvid-150k": OriginalSpec("konvid-150k", "konvid-150k-2019"),
    "live-vqc": OriginalSpec("live-vqc", "live-vqc-2019"),
    "lsvq": OriginalSpec("lsvq", "lsvq-2021"),
    "youtube-ugc": OriginalSpec("youtube-ugc", "ugc-2019-orig"),
    "waterloo-ivc-4k": OriginalSpec("waterloo-ivc-4k", "waterloo-ivc-4k-201908", ".yuv"),
    "chug": OriginalSpec("chug", "chug-icip-2025"),
    "bvi-dvc": OriginalSpec("bvi-dvc", "", shape="vmaf-tune"),
}
ORIGINAL_SUFFIXES = (".jsonl", ".ndjson")

# Fields the MOS-corpus converters probe from the clip file (ffprobe, SHA-256, size) or take from
# the clock: metadata cannot give them, so they are written with the converters' own
# "unavailable" values, keeping every row's key set the original's.
UNPROBED: dict[str, object] = {
    "src_sha256": "",
    "src_size_bytes": 0,
    "width": 0,
    "height": 0,
    "framerate": 0.0,
    "duration_s": 0.0,
    "pix_fmt": "",
    "encoder_upstream": "",
    "ingested_at_utc": "",
}


def original_layout_problem(preset: PresetName, output: Path) -> str | None:
    """Why ``preset`` cannot be written to ``output`` in the original layout, or ``None``."""
    if preset not in ORIGINAL:
        known = ", ".join(ORIGINAL)
        return (
            f"the original project has no converter for preset {preset!r}, so there is no "
            f"original layout to write (presets with one: {known}); leave out --layout original"
        )
    if output.suffix.lower() not in ORIGINAL_SUFFIXES:
        return (
            f"{output}: the original layout is JSON lines; name the output *.jsonl "
            f"(or *.ndjson), or leave out --layout original"
        )
    return None
