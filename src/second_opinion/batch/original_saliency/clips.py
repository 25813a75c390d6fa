"""Whether a table's clips would be read the same way by the original and by a saliency job: the
same files, the same pixel format, the same frames.

The original resolves a relative clip path against ``root`` (else the working directory), reads a
``.yuv`` file as 8-bit yuv420p, decodes its first ``max_frames`` frames and samples
``frame_samples`` of them, evenly spaced from frame 0. A saliency job reads relative paths from
the clips table's folder, honours ``pix_fmt``, and uses frames 0, s, 2s, … below ``n_frames``
(``frame_step`` s). :func:`check_clips` finds the one ``frame_step`` that gives every clip the
original's frames, or says, per clip, what differs and how to make it agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from second_opinion.batch.original_saliency.config import OriginalConfig
from second_opinion.errors import SecondOpinionError
from second_opinion.paths import resolved
from second_opinion.saliency.clips import Clip, read_clips
from second_opinion.saliency.yuv import BadClipError, YuvClip
from second_opinion.tables.reading import open_table, scan_sql

EXISTING = ("saliency_mean", "saliency_var")
"""Columns whose values the original keeps unless ``overwrite`` is set."""
_SHOWN = 5


@dataclass(frozen=True)
class CheckedClips:
    """A table's clips, and the frame step that samples the original's frames from each."""

    clips: tuple[Clip, ...]
    frame_step: int


def original_frames(stored: int, *, max_frames: int, frame_samples: int) -> list[int]:
    """The frames the original samples from a clip of ``stored`` frames: it decodes the first
    ``max_frames`` and takes ``frame_samples`` of them, spaced ``decoded // samples`` apart."""
    decoded = min(stored, max(1, max_frames))
    wanted = max(1, min(frame_samples, max(1, max_frames)))
    if decoded <= 0:
        return []
    if wanted == 1 or decoded == 1:
        return [0]
    spacing = max(1, decoded // wanted)
    return list(range(0, decoded, spacing))[:wanted]


def check_clips(
    config: OriginalConfig, *, source: Path, index: int, problems: list[str]
) -> CheckedClips | None:
    """Check ``tables[index]``'s clips table ``source`` against the original's reading of it;
    ``None`` (with the problems added) when they differ or the table cannot be read."""
    at = f"tables[{index}]"
    count = len(problems)
    try:
        clips = read_clips(source)
        columns, raw_paths = _raw_paths(source)
    except SecondOpinionError as exc:
        problems.append(f"{at}.input: {exc.message}")
        return None
    overwrite = config["overwrite"]
    if not overwrite.value and all(c in columns for c in EXISTING):
        problems.append(
            f"{overwrite.described()}: {source.name} has saliency_mean and saliency_var, whose "
            "rows the original would keep instead of computing; second-opinion writes a new "
            'table and computes every clip: set "overwrite": true, or drop those columns'
        )
    _check_root(config, source=source, raw_paths=raw_paths, at=at, problems=problems)
    for clip in clips:
        if clip.layout.pix_fmt != "yuv420p":
            problems.append(
                f"{at}.input: {clip.name} is {clip.layout.pix_fmt}; the original reads every "
                ".yuv file as 8-bit yuv420p (other bytes, other frames): convert the clip to "
                "yuv420p, or run it in a native saliency job"
            )
        elif clip.path.suffix.lower() != ".yuv":
            problems.append(
                f"{at}.input: {clip.name} is {clip.path.name}; the original decodes a file "
                "without the .yuv suffix with ffmpeg as a container, second-opinion reads raw "
                "YUV: if it is raw yuv420p, name it .yuv; else decode it to raw YUV first"
            )
    if len(problems) > count:
        return None
    step = _frame_step(config, clips=clips, at=at, problems=problems)
    return None if step is None else CheckedClips(tuple(clips), step)


def _raw_paths(source: Path) -> tuple[tuple[str, ...], list[tuple[int, str]]]:
    """The clips table's columns, and each row's ``path`` as written (row index, text)."""
    con = duckdb.connect()
    try:
        table = open_table(con, source)
        rows = con.execute(scan_sql(table, text=["path"], numbers=())).fetchall()
    finally:
        con.close()
    return table.columns, [(i, str(row[0])) for i, row in enumerate(rows)]


def _check_root(
    config: OriginalConfig,
    *,
    source: Path,
    raw_paths: list[tuple[int, str]],
    at: str,
    problems: list[str],
) -> None:
    """Relative clip paths must name the same files: ``root`` (or, without one, the working
    directory) must be the clips table's folder, unless every path is absolute."""
    root = config.path("root")
    base = root if root is not None else Path.cwd()
    folder = source.parent
    if resolved(base) == resolved(folder):
        return
    relative = [(i, text) for i, text in raw_paths if not Path(text).is_absolute()]
    if not relative:
        return
    row, text = relative[0]
    setting = config["root"]
    where = setting.described() if root is not None else f"{setting.where} is not set"
    reads = f"from root {base}" if root is not None else f"from the working directory {base}"
    problems.append(
        f"{where}: the original reads the relative clip path {text!r} ({source.name}, row "
        f"{row + 1}) {reads}, second-opinion from the clips table's folder {folder}: make the "
        "clip paths absolute, or move the clips table into that folder"
    )


def _frame_step(
    config: OriginalConfig, *, clips: list[Clip], at: str, problems: list[str]
) -> int | None:
    """The frame step giving every clip the original's frames, or ``None`` with the problems."""
    max_frames, samples = config.integer("max_frames"), config.integer("frame_samples")
    for name in ("max_frames", "frame_samples"):
        if config.integer(name) < 1:
            problems.append(
                f"{config[name].described()}: the original reads it as 1; write 1 (a positive "
                "integer)"
            )
    if max_frames < 1 or samples < 1:
        return None
    wanted: list[tuple[Clip, int, list[int]]] = []
    for clip in clips:
        try:
            stored = YuvClip(clip.path, clip.layout, name=clip.name).n_frames
        except BadClipError:
            continue  # a bad file fails its row in both tools (a skipped clip here)
        used = clip.n_frames if clip.n_frames is not None else stored
        frames = original_frames(stored, max_frames=max_frames, frame_samples=samples)
        wanted.append((clip, used, frames))
    spaced = [frames[1] - frames[0] for _, _, frames in wanted if len(frames) > 1]
    step = spaced[0] if spaced else max([used for _, used, _ in wanted], default=1)
    wrong = [(c, used, f) for c, used, f in wanted if list(range(0, used, step)) != f]
    settings = f"{at}.max_frames {max_frames} and frame_samples {samples}"
    for clip, used, frames in wrong[:_SHOWN]:
        ours = list(range(0, used, step))
        fix = (
            f"set its n_frames to {frames[-1] + 1} in the clips table"
            if len(frames) < 2 or frames[1] - frames[0] == step
            else f"its frames are {frames[1] - frames[0]} apart where the others' are {step}: "
            "give the clips the same number of frames, or put it in a table of its own"
        )
        problems.append(
            f"{settings}: the original samples frames {_frames(frames)} of {clip.name}, "
            f"frame_step {step} with n_frames {used} would read {_frames(ours)}; {fix}"
        )
    if len(wrong) > _SHOWN:
        problems.append(f"{settings}: and {len(wrong) - _SHOWN} more clip(s) like these")
    return None if wrong else step


def _frames(frames: list[int]) -> str:
    shown = ", ".join(str(f) for f in frames[:8])
    return f"[{shown}{', …' if len(frames) > 8 else ''}]"
