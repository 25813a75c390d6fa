"""Reading raw planar YUV 4:2:0 clips one frame at a time, and BT.709 YUV → RGB.

A raw clip is frames back to back, each the Y plane (width × height samples) then the U and V
planes (width/2 × height/2 each); no header. ``yuv420p`` stores a sample in one byte,
``yuv420p10le`` in two little-endian bytes holding 0…1023. Only the sampled frames are read
(a seek per frame), and only the planes asked for, so memory holds one frame, never the clip.

Sample values are *limited range* (studio swing), as in nearly all video: for bit depth ``b`` and
``s = 2**(b - 8)`` (1 for 8-bit, 4 for 10-bit)::

    Y' = clip((Y - 16 s) / (219 s), 0, 1)          luma, 0 = black, 1 = white
    Pb = clip((U - 128 s) / (224 s), -0.5, 0.5)    blue-difference chroma
    Pr = clip((V - 128 s) / (224 s), -0.5, 0.5)    red-difference chroma

and BT.709 (Kr = 0.2126, Kb = 0.0722, Kg = 1 - Kr - Kb = 0.7152) gives, each clipped to [0, 1]::

    R = Y' + 2 (1 - Kr) Pr                                   = Y' + 1.5748 Pr
    G = Y' - 2 Kb (1 - Kb) / Kg Pb - 2 Kr (1 - Kr) / Kg Pr   = Y' - 0.1873 Pb - 0.4681 Pr
    B = Y' + 2 (1 - Kb) Pb                                   = Y' + 1.8556 Pb

Chroma is upsampled to full size by repeating each sample 2 × 2 (nearest neighbour).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, get_args

import numpy as np
import numpy.typing as npt

from second_opinion.errors import InputError

PixFmt = Literal["yuv420p", "yuv420p10le"]
PIX_FMTS: tuple[PixFmt, ...] = get_args(PixFmt)

KR, KB = 0.2126, 0.0722
KG = 1.0 - KR - KB

Plane = npt.NDArray[np.float32]


class BadClipError(InputError):
    """One clip cannot be used (its file is missing or mis-sized, its map has the wrong shape);
    ``on_bad_clip='skip'`` leaves such a clip out instead of failing the job."""


@dataclass(frozen=True)
class YuvLayout:
    """The byte layout of one frame of a raw YUV 4:2:0 clip."""

    width: int
    height: int
    pix_fmt: PixFmt

    @property
    def bit_depth(self) -> int:
        """Bits per sample: 8 or 10."""
        return 10 if self.pix_fmt == "yuv420p10le" else 8

    @property
    def sample_bytes(self) -> int:
        """Bytes per sample: 1 or 2."""
        return 2 if self.bit_depth > 8 else 1

    @property
    def luma_bytes(self) -> int:
        """Bytes of the Y plane."""
        return self.width * self.height * self.sample_bytes

    @property
    def chroma_bytes(self) -> int:
        """Bytes of the U and V planes together."""
        return 2 * (self.width // 2) * (self.height // 2) * self.sample_bytes

    @property
    def frame_bytes(self) -> int:
        """Bytes of one frame."""
        return self.luma_bytes + self.chroma_bytes

    def describe(self) -> str:
        """``64×48 yuv420p``, for messages."""
        return f"{self.width}×{self.height} {self.pix_fmt}"


@dataclass(frozen=True)
class Frame:
    """One decoded frame: ``y`` is Y' in [0, 1]; ``pb``/``pr`` (full size, in [-0.5, 0.5]) only
    when chroma was asked for."""

    index: int  # 0-based frame number in the clip
    y: Plane
    pb: Plane | None = None
    pr: Plane | None = None


def sampled_count(frames: int, step: int) -> int:
    """How many of ``frames`` frames ``frame_step=step`` samples: frames 0, step, 2·step, …"""
    return math.ceil(frames / step)


class YuvClip:
    """A raw YUV clip whose file was checked against its layout; :meth:`frames` reads it.

    ``name`` starts every message (e.g. ``clip 'a001' (clips.jsonl)``). Raises
    :class:`BadClipError` if the width or height is odd, the file is missing or empty, its size
    is not a whole number of frames, or it holds fewer than ``n_frames`` frames. ``n_frames``
    (when given) limits the clip to its first ``n_frames`` frames.
    """

    def __init__(
        self, path: Path, layout: YuvLayout, *, name: str, n_frames: int | None = None
    ) -> None:
        self.path, self.layout, self.name = path, layout, name
        for side, value in (("width", layout.width), ("height", layout.height)):
            if value <= 0 or value % 2:
                msg = (
                    f"{name}: {side} {value} is not a positive even number; "
                    f"{layout.pix_fmt} halves both sides for chroma, fix the clips table"
                )
                raise BadClipError(msg)
        try:
            size = path.stat().st_size
        except OSError as exc:
            what = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror
            msg = f"{name}: {path}: {what}; fix its path in the clips table"
            raise BadClipError(msg) from None
        if not path.is_file():
            msg = f"{name}: {path} is not a file; fix its path in the clips table"
            raise BadClipError(msg)
        frame = layout.frame_bytes
        if size == 0:
            msg = f"{name}: {path} is empty (0 bytes)"
            raise BadClipError(msg)
        if size % frame:
            msg = (
                f"{name}: {path} has {size} bytes, not a whole number of {layout.describe()} "
                f"frames ({frame} bytes each: {size / frame:.3f} frames); check width, height "
                "and pix_fmt"
            )
            raise BadClipError(msg)
        stored = size // frame
        if n_frames is not None and n_frames > stored:
            msg = (
                f"{name}: n_frames is {n_frames} but {path} holds {stored} "
                f"{layout.describe()} frame(s) ({size} bytes); the file is short, or fix n_frames"
            )
            raise BadClipError(msg)
        self.n_frames = n_frames if n_frames is not None else stored

    def sampled(self, step: int) -> int:
        """How many frames :meth:`frames` yields for ``step``."""
        return sampled_count(self.n_frames, step)

    def frames(self, step: int = 1, *, chroma: bool = False) -> Iterator[Frame]:
        """Frames 0, step, 2·step, … (below ``n_frames``), read one at a time."""
        with self.path.open("rb") as handle:
            for index in range(0, self.n_frames, step):
                yield self._read(handle, index, chroma)

    def _read(self, handle: BinaryIO, index: int, chroma: bool) -> Frame:
        layout = self.layout
        wanted = layout.frame_bytes if chroma else layout.luma_bytes
        handle.seek(index * layout.frame_bytes)
        data = handle.read(wanted)
        if len(data) < wanted:
            msg = f"{self.name}: {self.path} ended inside frame {index}; was it changed meanwhile?"
            raise BadClipError(msg)
        dtype = np.dtype("<u2") if layout.sample_bytes == 2 else np.dtype(np.uint8)
        samples = np.frombuffer(data, dtype=dtype)
        if layout.bit_depth == 10 and samples.size and int(samples.max()) > 1023:
            msg = (
                f"{self.name}: frame {index} of {self.path} has sample value "
                f"{int(samples.max())}, above 1023; yuv420p10le holds 10-bit values in "
                "little-endian 16-bit words: is the file 16-bit or big-endian?"
            )
            raise BadClipError(msg)
        h, w = layout.height, layout.width
        scale = float(1 << (layout.bit_depth - 8))
        y = _expand(samples[: h * w].reshape(h, w), 16 * scale, 219 * scale, 0.0, 1.0)
        if not chroma:
            return Frame(index, y)
        planes = samples[h * w :].reshape(2, h // 2, w // 2)
        pb, pr = (_upsample(_expand(p, 128 * scale, 224 * scale, -0.5, 0.5)) for p in planes)
        return Frame(index, y, pb, pr)


def _expand(samples: npt.NDArray[Any], offset: float, span: float, lo: float, hi: float) -> Plane:
    values = (samples.astype(np.float32) - np.float32(offset)) / np.float32(span)
    return np.clip(values, lo, hi, out=values)


def _upsample(plane: Plane) -> Plane:
    return np.repeat(np.repeat(plane, 2, axis=0), 2, axis=1)


def to_rgb(frame: Frame) -> Plane:
    """The frame as BT.709 R'G'B' in [0, 1], channels first: 3 × height × width float32."""
    if frame.pb is None or frame.pr is None:
        msg = "to_rgb needs chroma: read the frames with chroma=True"
        raise ValueError(msg)
    y, pb, pr = frame.y, frame.pb, frame.pr
    rgb = np.stack(
        [
            y + np.float32(2 * (1 - KR)) * pr,
            y - np.float32(2 * KB * (1 - KB) / KG) * pb - np.float32(2 * KR * (1 - KR) / KG) * pr,
            y + np.float32(2 * (1 - KB)) * pb,
        ]
    )
    return np.clip(rgb, 0.0, 1.0, out=rgb)
