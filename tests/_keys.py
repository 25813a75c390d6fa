"""Real-shaped key mismatches for the key diagnosis's tests: a KoNViD-1k-like corpus keyed by
``flickr_id``, and sidecars whose keys differ from it the ways scorers' outputs do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests._tables import write_table

IDS = [
    "3339962845",
    "8171831850",
    "6076608135",
    "8751538577",
    "7518773518",
    "4495254692",
    "5308461349",
    "7527880462",
    "6021393458",
    "9571377943",
    "2999049224",
    "3240926995",
    "4012542735",
    "5049479813",
    "6527377845",
    "7211289138",
    "8094536711",
    "9038527458",
    "10008004183",
    "10244479353",
]
"""Twenty KoNViD-1k ``flickr_id`` values (the metadata's first column)."""
MISSING = 3
"""The sidecars below lack the last three clips."""


@dataclass(frozen=True)
class KeyCase:
    """A corpus (``base``, key ``flickr_id``) and sidecars that miss it in one way each."""

    folder: Path
    base: Path
    paths: Path  # per clip, keyed 'KoNViD_1k_videos/<id>.mp4': basename, stem
    padded: Path  # per clip, keyed by the id zero-padded to 12 digits: number
    floats: Path  # per clip, keyed '<id>.0' (a float column written as text): number
    renamed: Path  # per clip, keyed by a row number 'v<n>'; the id is in 'filename': key_map
    frames: Path  # per frame, keyed by the id, four rows per clip, numbered in 'frame_idx'


def key_case(folder: Path) -> KeyCase:
    """Write the corpus and its sidecars into ``folder``."""
    kept = IDS[:-MISSING]
    base = write_table(
        folder / "metadata.csv", [{"flickr_id": k, "mos": 3.0 + i / 10} for i, k in enumerate(IDS)]
    )
    paths = write_table(
        folder / "dover.csv",
        [{"filename": f"KoNViD_1k_videos/{k}.mp4", "technical": 0.5} for k in kept],
    )
    padded = write_table(
        folder / "padded.csv", [{"flickr_id": f"{int(k):012d}", "s": 1.0} for k in kept]
    )
    floats = write_table(folder / "floats.csv", [{"flickr_id": f"{k}.0", "s": 1.0} for k in kept])
    renamed = write_table(
        folder / "renamed.csv",
        [{"flickr_id": f"v{i}", "filename": f"{k}.MP4", "s": 1.0} for i, k in enumerate(kept)],
    )
    frames = write_table(
        folder / "frames.csv",
        [{"flickr_id": k, "frame_idx": f, "score": f / 4} for k in kept for f in range(4)],
    )
    return KeyCase(folder, base, paths, padded, floats, renamed, frames)
