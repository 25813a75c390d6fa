"""Per-clip saliency features: pure functions of a sequence of maps (docs/saliency.md).

A map is a height × width array of finite values ≥ 0 (the maps of a clip are min-max
normalised to [0, 1] before they get here). Every feature but ``sal_temporal_change`` is the
mean over the sampled frames of a per-frame statistic, each a function below:

==================  ==================================================================
feature             per frame (``m``: the map, ``N`` = height · width pixels)
==================  ==================================================================
sal_mean            mean of m
sal_std             standard deviation of m (population: divides by N)
sal_entropy         −Σ p log2 p over p > 0, with p = m / Σm (bits; at most log2 N)
sal_center_bias     share of Σm inside the centred rectangle of sides height/√2 ×
                    width/√2 (half the area; pixels it cuts count in part)
sal_top10_area      k / N, k the fewest pixels whose largest values sum to ≥ Σm / 10 ¹
sal_block_coverage  share of the block × block tiles whose mean exceeds the map's mean ¹
==================  ==================================================================

¹ Up to a relative 1e-9, so that rounding in sums cannot decide a tie: the pixels of a flat
map reach a tenth of its mass at exactly ⌈N/10⌉ pixels, and none of its tiles exceeds its mean.

``sal_temporal_change`` is the mean over consecutive sampled pairs of the mean of
``|m_t − m_{t−1}|``; it is NaN for a single frame (no pair, nothing measured). ``n_frames`` is the
number of maps. A map whose values are all 0 has no distribution: entropy, centre bias and top-10
area treat it as uniform (log2 N, 0.5, ⌈N/10⌉ / N), and none of its blocks exceeds its mean.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

FEATURES: tuple[str, ...] = (
    "sal_mean",
    "sal_std",
    "sal_entropy",
    "sal_center_bias",
    "sal_top10_area",
    "sal_temporal_change",
    "sal_block_coverage",
    "n_frames",
)
"""The output columns after ``clip_id``, in order."""

TOP_SHARE = 10  # sal_top10_area: the pixels holding 1/10 of the mass
RTOL = 1e-9  # ties in sal_top10_area and sal_block_coverage are decided up to this

Map = npt.NDArray[np.float64]


def _as_map(values: npt.ArrayLike) -> Map:
    m = np.asarray(values, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        msg = f"a saliency map is a non-empty 2-D array; got shape {m.shape}"
        raise ValueError(msg)
    return m


def _mass(m: Map) -> tuple[Map, float]:
    """The map and its total; an all-zero map is replaced by a uniform one."""
    total = float(m.sum())
    if total == 0.0:
        return np.ones_like(m), float(m.size)
    return m, total


def spatial_entropy(values: npt.ArrayLike) -> float:
    """−Σ p log2 p over the pixels with p > 0, where p = m / Σm."""
    m, total = _mass(_as_map(values))
    p = m[m > 0] / total
    return float(-(p * np.log2(p)).sum())


@functools.lru_cache(maxsize=16)
def _center_weights(height: int, width: int) -> Map:
    def overlap(n: int) -> Map:
        half = n / (2 * math.sqrt(2))
        edges = np.arange(n, dtype=np.float64)
        inside: Map = np.minimum(edges + 1, n / 2 + half) - np.maximum(edges, n / 2 - half)
        return np.clip(inside, 0.0, 1.0, out=inside)

    weights: Map = np.outer(overlap(height), overlap(width))
    weights.flags.writeable = False
    return weights


def center_bias(values: npt.ArrayLike) -> float:
    """The share of the map's mass inside the centred rectangle of half its area.

    The rectangle's sides are height/√2 and width/√2; a pixel it cuts counts by the fraction
    of the pixel inside, so a uniform map gives exactly 0.5.
    """
    m, total = _mass(_as_map(values))
    return float((m * _center_weights(*m.shape)).sum() / total)


def top10_area(values: npt.ArrayLike) -> float:
    """k / N for the fewest k pixels whose largest values sum to at least 1/10 of the total.

    "At least" is up to a relative 1e-9, so that rounding in the running sum cannot cost a pixel
    (a flat map gives ⌈N/10⌉ / N).
    """
    m, total = _mass(_as_map(values))
    flat = m.ravel()
    # The largest ⌈N/10⌉ values hold at least a tenth of the mass: sort only those.
    top = math.ceil(flat.size / TOP_SHARE)
    largest = np.sort(np.partition(flat, flat.size - top)[flat.size - top :])[::-1]
    running = np.cumsum(largest)
    k = int(np.searchsorted(TOP_SHARE * running, total * (1 - RTOL), side="left")) + 1
    return min(k, top) / flat.size


def block_coverage(values: npt.ArrayLike, block: int) -> float:
    """The share of ``block`` × ``block`` tiles whose mean exceeds the map's mean.

    Tiles start at the top-left corner; the last row and column of tiles may be partial, and a
    partial tile's mean is over the pixels it has. Every tile counts once. "Exceeds" means by
    more than a relative 1e-9, so rounding cannot lift a tile of a flat map above its mean.
    """
    m = _as_map(values)
    if block < 1:
        msg = f"block must be at least 1; got {block}"
        raise ValueError(msg)
    height, width = m.shape
    rows, cols = np.arange(0, height, block), np.arange(0, width, block)
    sums = np.add.reduceat(np.add.reduceat(m, rows, axis=0), cols, axis=1)
    sizes = np.outer(np.diff(rows, append=height), np.diff(cols, append=width))
    mean = float(m.mean())
    return float(np.mean(sums / sizes > mean * (1 + RTOL)))


def saliency_features(maps: Iterable[npt.ArrayLike], *, block: int = 16) -> dict[str, Any]:
    """The features of a clip from its sampled maps, in order (see the module docstring).

    Reads the maps one at a time, so a generator keeps only two in memory. Raises
    :class:`ValueError` for no maps, maps of different shapes, or values that are negative or
    not finite.
    """
    sums = dict.fromkeys(FEATURES[:-1], 0.0)
    previous: Map | None = None
    count = 0
    for values in maps:
        m = _as_map(values)
        if previous is not None and m.shape != previous.shape:
            msg = f"map {count} has shape {m.shape}, the maps before it {previous.shape}"
            raise ValueError(msg)
        if not np.isfinite(m).all() or float(m.min()) < 0:
            msg = f"map {count} has values that are negative or not finite"
            raise ValueError(msg)
        sums["sal_mean"] += float(m.mean())
        sums["sal_std"] += float(m.std())
        sums["sal_entropy"] += spatial_entropy(m)
        sums["sal_center_bias"] += center_bias(m)
        sums["sal_top10_area"] += top10_area(m)
        sums["sal_block_coverage"] += block_coverage(m, block)
        if previous is not None:
            sums["sal_temporal_change"] += float(np.abs(m - previous).mean())
        previous = m
        count += 1
    if not count:
        msg = "saliency features need at least one map"
        raise ValueError(msg)
    result: dict[str, Any] = {name: total / count for name, total in sums.items()}
    result["sal_temporal_change"] = (
        sums["sal_temporal_change"] / (count - 1) if count > 1 else math.nan
    )
    result["n_frames"] = count
    return result
