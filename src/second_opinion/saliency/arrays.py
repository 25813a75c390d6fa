"""Array helpers shared by the model and the precomputed maps: resizing and normalising maps."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Maps = npt.NDArray[np.float32]


def resize_bilinear(array: npt.NDArray[Any], height: int, width: int) -> Maps:
    """Resize the last two axes of ``array`` to ``height`` × ``width`` by bilinear interpolation.

    Pixel centres are aligned (source position ``(i + 0.5) · in / out - 0.5``, clamped to the
    edge), as OpenCV's ``INTER_LINEAR`` and PyTorch's ``align_corners=False`` do; there is no
    anti-aliasing when shrinking. Axes already of the right size are left as they are.
    """
    out = np.asarray(array, dtype=np.float32)
    if out.shape[-2] != height:
        out = _resize_axis(out, height, out.ndim - 2)
    if out.shape[-1] != width:
        out = _resize_axis(out, width, out.ndim - 1)
    return out


def _resize_axis(array: Maps, size: int, axis: int) -> Maps:
    n = array.shape[axis]
    position = np.clip((np.arange(size) + 0.5) * (n / size) - 0.5, 0.0, n - 1)
    lo = np.floor(position).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    shape = [1] * array.ndim
    shape[axis] = size
    weight = (position - lo).astype(np.float32).reshape(shape)
    low, high = np.take(array, lo, axis=axis), np.take(array, hi, axis=axis)
    resized: Maps = low + (high - low) * weight
    return resized


def normalize_map(values: npt.NDArray[Any]) -> Maps:
    """A map scaled to [0, 1] by its own minimum and maximum; a constant map becomes all zeros.

    The caller checks that the values are finite.
    """
    data = np.asarray(values, dtype=np.float64)
    lo, hi = float(data.min()), float(data.max())
    if hi <= lo:
        return np.zeros(data.shape, dtype=np.float32)
    return ((data - lo) / (hi - lo)).astype(np.float32)


def first_non_finite(values: npt.NDArray[Any]) -> tuple[int, ...] | None:
    """The index of the first NaN or infinity in ``values``, if any."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])
