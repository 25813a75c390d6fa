"""Precomputed saliency maps: one ``.npy`` array per clip, T × height × width.

A map file is opened memory-mapped (``numpy.load(..., mmap_mode='r', allow_pickle=False)``), so
only the frame being used is read. Its dtype must be a real number type (bool, integer or
float); its height and width must be the clip's. T must be one of:

* the clip's frame count F (a map for every frame): ``frame_step`` s then uses maps 0, s, 2s, …,
  the frames the model path would run on;
* the number of sampled frames ⌈F / s⌉ (maps already sampled): every map is used.

When both are the same number (s = 1, or F = 1) both readings use the same maps. Each map used
must be finite and is min-max normalised, as model outputs are.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from second_opinion.saliency.arrays import Maps, first_non_finite, normalize_map
from second_opinion.saliency.yuv import BadClipError, sampled_count


class MapFile:
    """A clip's map file, checked against the clip; :meth:`maps` yields its sampled maps.

    Raises :class:`BadClipError` (message starting with ``name``) for a missing or unreadable
    file, a non-numeric or non-3-D array, or a shape that does not fit the clip.
    """

    def __init__(
        self, path: Path, *, name: str, frames: int, step: int, height: int, width: int
    ) -> None:
        self.path, self.name = path, name
        if not path.is_file():
            msg = f"{name}: map file {path}: no such file; compute the maps or fix 'maps'"
            raise BadClipError(msg)
        self.array = _load(path, name)
        shape = self.array.shape
        sampled = sampled_count(frames, step)
        counts = f"{frames}" if sampled == frames else f"{frames} (every frame) or {sampled}"
        if len(shape) != 3 or shape[1:] != (height, width) or shape[0] not in (frames, sampled):
            msg = (
                f"{name}: map file {path} has shape {_shape(shape)}; the clip needs T × {height} "
                f"× {width} with T = {counts} (frame_step {step})"
            )
            raise BadClipError(msg)
        self.indices = range(0, frames, step) if shape[0] == frames else range(sampled)

    def maps(self) -> Iterator[Maps]:
        """The normalised maps of the sampled frames, in order."""
        for t in self.indices:
            values = np.asarray(self.array[t])
            bad = first_non_finite(values)
            if bad is not None:
                msg = (
                    f"{self.name}: map file {self.path} has {values[bad]} in map {t} at "
                    f"(y={bad[0]}, x={bad[1]}); maps must be finite"
                )
                raise BadClipError(msg)
            yield normalize_map(values)


def _shape(shape: tuple[int, ...]) -> str:
    return " × ".join(map(str, shape)) or "() (a scalar)"


def _load(path: Path, name: str) -> npt.NDArray[Any]:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"{name}: map file {path}: cannot read as .npy ({detail})"
        raise BadClipError(msg) from None
    if not isinstance(array, np.ndarray):  # an .npz archive
        array.close()
        msg = f"{name}: map file {path} is an .npz archive; save one array with numpy.save"
        raise BadClipError(msg)
    if array.dtype.kind not in "biuf":
        msg = (
            f"{name}: map file {path} holds {array.dtype} values; save the maps as a numeric "
            "(float or integer) array"
        )
        raise BadClipError(msg)
    return array
