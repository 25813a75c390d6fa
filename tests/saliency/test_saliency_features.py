"""Saliency features: hand-computed maps, and properties against plain-Python references."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from second_opinion.saliency.features import (
    FEATURES,
    block_coverage,
    center_bias,
    saliency_features,
    spatial_entropy,
    top10_area,
)

# --- hand-computed maps -------------------------------------------------------------------------


def test_mean_and_std_are_means_of_per_frame_values() -> None:
    checker = np.array([[0.0, 1.0], [1.0, 0.0]])
    flat = np.full((2, 2), 0.25)
    result = saliency_features([checker, flat])
    assert result["sal_mean"] == pytest.approx((0.5 + 0.25) / 2)
    assert result["sal_std"] == pytest.approx((0.5 + 0.0) / 2)  # not the pooled std
    assert result["n_frames"] == 2


def test_entropy() -> None:
    assert spatial_entropy(np.ones((4, 4))) == pytest.approx(4.0)  # log2 16
    assert spatial_entropy(np.eye(1, 16).reshape(4, 4)) == 0.0
    assert spatial_entropy([[0.3, 0.3], [0.0, 0.0]]) == pytest.approx(1.0)
    assert spatial_entropy([[0.5, 0.25, 0.25, 0.0]]) == pytest.approx(1.5)
    assert spatial_entropy(np.zeros((4, 4))) == pytest.approx(4.0)  # all-zero: as uniform


def test_center_bias_counts_pixels_the_rectangle_cuts_in_part() -> None:
    # A side of 4 has a centred interval of length 4/√2 = 2.83: [0.586, 3.414]; the pixel
    # weights are 0.414, 1, 1, 0.414.
    edge = 1 - (2 - 2 / math.sqrt(2))
    one_hot = np.zeros((4, 4))
    one_hot[1, 2] = 1
    assert center_bias(one_hot) == pytest.approx(1.0)
    corner = np.zeros((4, 4))
    corner[0, 0] = 1
    assert center_bias(corner) == pytest.approx(edge * edge)
    assert center_bias(np.ones((4, 4))) == pytest.approx(0.5)
    assert center_bias(np.zeros((4, 4))) == pytest.approx(0.5)
    assert center_bias(np.ones((7, 3))) == pytest.approx(0.5)  # half the area at any size


def test_top10_area() -> None:
    one_hot = np.zeros((10, 10))
    one_hot[3, 4] = 5
    assert top10_area(one_hot) == 0.01
    assert top10_area(np.ones((10, 10))) == 0.1
    assert top10_area(np.ones((1, 10))) == 0.1  # exactly 10 % counts ("at least")
    assert top10_area(np.ones((1, 11))) == 2 / 11
    # total 1.95, a tenth is 0.195: the 1 is enough
    assert top10_area(np.r_[1.0, np.full(19, 0.05)].reshape(4, 5)) == 1 / 20
    # total 3.3, a tenth is 0.33: 0.2 is not enough, 0.2 + 0.2 is
    assert top10_area(np.r_[np.full(3, 0.2), np.full(27, 0.1)].reshape(5, 6)) == 2 / 30
    # total 3.4, a tenth is 0.34: 0.5 is enough
    assert top10_area(np.r_[0.5, np.full(29, 0.1)].reshape(5, 6)) == 1 / 30
    # a flat map needs ⌈N/10⌉ pixels whatever the rounding of its sums
    for value in (0.01, 0.1, 1 / 3, 0.7):
        assert top10_area(np.full((2, 10), value)) == 0.1
        assert top10_area(np.full((7, 9), value)) == 7 / 63
    assert top10_area(np.zeros((5, 5))) == 3 / 25  # all-zero: as uniform, ⌈25/10⌉ pixels


def test_block_coverage_full_and_partial_blocks() -> None:
    m = np.zeros((4, 4))
    m[:2, :2] = 1
    assert block_coverage(m, 2) == 0.25
    assert block_coverage(m, 4) == 0.0  # one block: its mean is the map's mean
    corner = np.zeros((5, 5))
    corner[4, 4] = 1  # the 1×1 partial block at the corner: 3 × 3 = 9 blocks
    assert block_coverage(corner, 2) == pytest.approx(1 / 9)
    assert block_coverage(corner, 1) == pytest.approx(1 / 25)
    assert block_coverage(corner, 16) == 0.0  # one partial block, the whole map
    assert block_coverage(np.zeros((5, 5)), 2) == 0.0


@pytest.mark.parametrize("value", [0.1, 0.3, 1 / 3, 0.7])
def test_block_coverage_of_a_flat_map_is_zero_despite_rounding(value) -> None:
    assert block_coverage(np.full((37, 53), value), 7) == 0.0


def test_temporal_change() -> None:
    zeros, ones = np.zeros((2, 3)), np.ones((2, 3))
    half = np.full((2, 3), 0.5)
    assert saliency_features([zeros, ones])["sal_temporal_change"] == 1.0
    assert saliency_features([zeros, zeros, half])["sal_temporal_change"] == 0.25
    assert math.isnan(saliency_features([ones])["sal_temporal_change"])


def test_result_keys_are_the_features_in_order() -> None:
    result = saliency_features([np.ones((3, 3))], block=2)
    assert tuple(result) == tuple(sorted(FEATURES, key=FEATURES.index))
    assert list(result) == list(FEATURES)
    assert isinstance(result["n_frames"], int)


def test_a_generator_of_maps_is_read_once() -> None:
    maps = (np.full((2, 2), i / 3) for i in range(4))
    assert saliency_features(maps)["n_frames"] == 4


@pytest.mark.parametrize(
    ("maps", "match"),
    [
        ([], "at least one map"),
        ([np.ones((2, 2)), np.ones((3, 2))], r"map 1 has shape \(3, 2\)"),
        ([np.array([[0.5, -0.1]])], "map 0 has values that are negative or not finite"),
        ([np.array([[0.5, np.nan]])], "negative or not finite"),
        ([np.ones(4)], "2-D"),
        ([np.ones((0, 3))], "non-empty"),
    ],
)
def test_invalid_maps(maps, match) -> None:
    with pytest.raises(ValueError, match=match):
        saliency_features(maps)


def test_block_must_be_positive() -> None:
    with pytest.raises(ValueError, match="block must be at least 1"):
        block_coverage(np.ones((2, 2)), 0)


# --- properties against plain-Python references ---------------------------------------------------
# Maps hold small integers, so the references can use exact fractions: ties at "≥ 10 %" and at
# "exceeds the mean" are then decided exactly on both sides.


Grid = list[list[float]]


def ref_entropy(m: list[list[float]]) -> float:
    values = [v for row in m for v in row]
    total = sum(values)
    if total == 0:
        return math.log2(len(values))
    return -sum(v / total * math.log2(v / total) for v in values if v > 0)


def ref_overlap(n: int, i: int) -> float:
    lo, hi = n / 2 - n / (2 * math.sqrt(2)), n / 2 + n / (2 * math.sqrt(2))
    return max(0.0, min(i + 1, hi) - max(i, lo))


def ref_center_bias(m: list[list[float]]) -> float:
    h, w = len(m), len(m[0])
    total = sum(map(sum, m))
    if total == 0:
        m, total = [[1.0] * w for _ in range(h)], float(h * w)
    inside = sum(
        m[y][x] * ref_overlap(h, y) * ref_overlap(w, x) for y in range(h) for x in range(w)
    )
    return inside / total


def ref_top10(m: list[list[float]]) -> float:
    values = sorted((Fraction(v) for row in m for v in row), reverse=True)
    if sum(values) == 0:
        values = [Fraction(1)] * len(values)
    total, running = sum(values), Fraction(0)
    for k, v in enumerate(values, start=1):
        running += v
        if running * 10 >= total:
            return k / len(values)
    raise AssertionError


def ref_block_coverage(m: list[list[float]], block: int) -> float:
    h, w = len(m), len(m[0])
    mean = Fraction(sum(Fraction(v) for row in m for v in row), h * w)
    exceeding = blocks = 0
    for top in range(0, h, block):
        for left in range(0, w, block):
            cells = [
                Fraction(m[y][x])
                for y in range(top, min(top + block, h))
                for x in range(left, min(left + block, w))
            ]
            blocks += 1
            exceeding += sum(cells) / len(cells) > mean
    return exceeding / blocks


def ref_features(maps: list[list[list[float]]], block: int) -> dict[str, float]:
    n = len(maps)

    def per_frame(f: Callable[[Grid], float]) -> float:
        return sum(f(m) for m in maps) / n

    def mean(m: Grid) -> float:
        return sum(map(sum, m)) / (len(m) * len(m[0]))

    def std(m: Grid) -> float:
        mu = mean(m)
        return math.sqrt(sum((v - mu) ** 2 for row in m for v in row) / (len(m) * len(m[0])))

    changes = [
        mean(
            [[abs(a - b) for a, b in zip(ra, rb, strict=True)] for ra, rb in zip(p, q, strict=True)]
        )
        for p, q in itertools.pairwise(maps)
    ]
    return {
        "sal_mean": per_frame(mean),
        "sal_std": per_frame(std),
        "sal_entropy": per_frame(ref_entropy),
        "sal_center_bias": per_frame(ref_center_bias),
        "sal_top10_area": per_frame(ref_top10),
        "sal_temporal_change": sum(changes) / len(changes) if changes else math.nan,
        "sal_block_coverage": per_frame(lambda m: ref_block_coverage(m, block)),
        "n_frames": n,
    }


@st.composite
def map_sequences(draw):
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    values = st.integers(0, 20).map(float) | st.sampled_from([0.0, 0.0, 0.0])
    return draw(arrays(np.float64, shape, elements=values))


@settings(max_examples=150, deadline=None)
@given(maps=map_sequences(), block=st.integers(1, 5))
def test_features_match_the_reference(maps, block) -> None:
    got = saliency_features(list(maps), block=block)
    expected = ref_features(maps.tolist(), block)
    assert got["n_frames"] == expected["n_frames"]
    for name in FEATURES[:-1]:
        if math.isnan(expected[name]):
            assert math.isnan(got[name]), name
        else:
            assert got[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name


@settings(max_examples=100, deadline=None)
@given(
    m=arrays(
        np.float64,
        st.tuples(st.integers(1, 12), st.integers(1, 12)),
        elements=st.floats(0, 1, allow_subnormal=False),
    ),
    scale=st.floats(0.01, 100),
)
def test_distribution_features_are_scale_free_and_bounded(m, scale) -> None:
    n = m.size
    assert 0.0 <= spatial_entropy(m) <= math.log2(n) + 1e-9
    assert 0.0 <= center_bias(m) <= 1.0 + 1e-12
    assert 1 / n <= top10_area(m) <= math.ceil(n / 10) / n
    if m.sum() > 1e-6:
        assert spatial_entropy(m * scale) == pytest.approx(spatial_entropy(m), abs=1e-9)
        assert center_bias(m * scale) == pytest.approx(center_bias(m), abs=1e-9)
