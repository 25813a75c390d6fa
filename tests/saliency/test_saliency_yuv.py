"""Reading raw YUV 4:2:0 clips frame by frame, and BT.709 YUV → RGB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from second_opinion.errors import InputError
from second_opinion.saliency.yuv import (
    KB,
    KR,
    BadClipError,
    Frame,
    PixFmt,
    YuvClip,
    YuvLayout,
    sampled_count,
    to_rgb,
)
from tests._saliency import grey_frame, write_yuv

Y8 = np.array([[16, 235, 0, 255], [70, 126, 16, 16]])
U8 = np.array([[128, 240]])
V8 = np.array([[16, 128]])


def _clip(
    path: Path,
    width: int = 4,
    height: int = 2,
    pix_fmt: PixFmt = "yuv420p",
    n_frames: int | None = None,
) -> YuvClip:
    layout = YuvLayout(width, height, pix_fmt)
    return YuvClip(path, layout, name="clip 'c'", n_frames=n_frames)


def test_layout_sizes() -> None:
    assert YuvLayout(64, 48, "yuv420p").frame_bytes == 64 * 48 * 3 // 2
    assert YuvLayout(64, 48, "yuv420p10le").frame_bytes == 64 * 48 * 3
    assert YuvLayout(64, 48, "yuv420p10le").bit_depth == 10


def test_8bit_limited_range_luma_and_chroma(tmp_path) -> None:
    path = write_yuv(tmp_path / "c.yuv", [(Y8, U8, V8)])
    (frame,) = _clip(path).frames(chroma=True)
    assert frame.y.dtype == np.float32
    assert frame.pb is not None
    assert frame.pr is not None
    expected_y = np.array([[0, 1, 0, 1], [54 / 219, 110 / 219, 0, 0]])  # 0 and 255 are clipped
    np.testing.assert_allclose(frame.y, expected_y, atol=1e-7)
    # chroma: (U - 128) / 224, each sample repeated 2 × 2
    np.testing.assert_allclose(frame.pb, [[0, 0, 0.5, 0.5]] * 2, atol=1e-7)
    np.testing.assert_allclose(frame.pr, [[-0.5, -0.5, 0, 0]] * 2, atol=1e-7)


def test_10bit_little_endian(tmp_path) -> None:
    y = np.array([[64, 940, 502, 1023], [0, 64, 64, 64]])
    path = write_yuv(tmp_path / "c.yuv", [(y, [[512, 960]], [[64, 512]])], "yuv420p10le")
    assert path.read_bytes()[:2] == bytes([64, 0])  # little-endian
    (frame,) = _clip(path, pix_fmt="yuv420p10le").frames(chroma=True)
    assert frame.pb is not None
    assert frame.pr is not None
    np.testing.assert_allclose(frame.y, np.array([[0, 1, 0.5, 1], [0, 0, 0, 0]]), atol=1e-7)
    np.testing.assert_allclose(frame.pb, [[0, 0, 0.5, 0.5]] * 2, atol=1e-7)
    np.testing.assert_allclose(frame.pr, [[-0.5, -0.5, 0, 0]] * 2, atol=1e-7)


def test_10bit_is_8bit_times_four(tmp_path) -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(16, 236, (6, 8))
    u, v = rng.integers(16, 241, (2, 3, 4))
    eight = write_yuv(tmp_path / "a.yuv", [(y, u, v)])
    ten = write_yuv(tmp_path / "b.yuv", [(4 * y, 4 * u, 4 * v)], "yuv420p10le")
    (a,) = _clip(eight, 8, 6).frames(chroma=True)
    (b,) = _clip(ten, 8, 6, "yuv420p10le").frames(chroma=True)
    for plane in ("y", "pb", "pr"):
        np.testing.assert_allclose(getattr(a, plane), getattr(b, plane), atol=1e-6)


def test_luma_only_unless_chroma_is_asked_for(tmp_path) -> None:
    path = write_yuv(tmp_path / "c.yuv", [(Y8, U8, V8)])
    (frame,) = _clip(path).frames()
    assert frame.pb is None
    assert frame.pr is None
    with pytest.raises(ValueError, match="chroma=True"):
        to_rgb(frame)


def test_frame_step_and_n_frames(tmp_path) -> None:
    frames = [grey_frame(np.full((2, 4), 16 + 10 * i)) for i in range(7)]
    path = write_yuv(tmp_path / "c.yuv", frames)
    clip = _clip(path)
    assert clip.n_frames == 7
    read = list(clip.frames(3))
    assert [f.index for f in read] == [0, 3, 6]
    np.testing.assert_allclose([f.y[0, 0] for f in read], [0, 30 / 219, 60 / 219], atol=1e-7)
    assert clip.sampled(3) == 3
    limited = _clip(path, n_frames=5)
    assert [f.index for f in limited.frames(2)] == [0, 2, 4]
    assert limited.sampled(2) == sampled_count(5, 2) == 3


def test_only_the_sampled_frames_are_read(tmp_path) -> None:
    # A 460 MB sparse file: reading it whole would be slow and would show in memory.
    path = tmp_path / "big.yuv"
    frame_bytes = YuvLayout(64, 48, "yuv420p").frame_bytes
    with path.open("wb") as handle:
        handle.truncate(frame_bytes * 100_000)
    clip = _clip(path, 64, 48)
    frames = list(clip.frames(40_000, chroma=True))
    assert [f.index for f in frames] == [0, 40_000, 80_000]


def test_bt709_grey_is_grey_and_primaries_round_trip() -> None:
    grey = Frame(
        0,
        np.full((2, 2), 0.4, np.float32),
        np.zeros((2, 2), np.float32),
        np.zeros((2, 2), np.float32),
    )
    np.testing.assert_allclose(to_rgb(grey), np.full((3, 2, 2), 0.4), atol=1e-7)
    kg = 1 - KR - KB
    for rgb in ([1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0.2, 0.5, 0.9]):
        r, g, b = rgb
        y = KR * r + kg * g + KB * b
        pb, pr = (b - y) / (2 * (1 - KB)), (r - y) / (2 * (1 - KR))
        frame = Frame(0, *(np.full((2, 2), v, np.float32) for v in (y, pb, pr)))
        np.testing.assert_allclose(to_rgb(frame)[:, 0, 0], rgb, atol=1e-6)


def test_rgb_is_clipped(tmp_path) -> None:
    # Y' = 1 with Pr = 0.5 would be R = 1.79: clipped to 1.
    path = write_yuv(tmp_path / "c.yuv", [(np.full((2, 2), 235), [[128]], [[240]])])
    (frame,) = _clip(path, 2, 2).frames(chroma=True)
    rgb = to_rgb(frame)
    assert rgb.max() == 1.0
    assert rgb.min() >= 0.0


@pytest.mark.parametrize(
    ("width", "height", "match"),
    [(5, 2, "width 5 is not a positive even number"), (4, 3, "height 3 is not")],
)
def test_odd_sizes_are_refused(tmp_path, width, height, match) -> None:
    path = write_yuv(tmp_path / "c.yuv", [(Y8, U8, V8)])
    with pytest.raises(BadClipError, match=f"^clip 'c': {match}"):
        _clip(path, width, height)


def test_size_not_a_whole_number_of_frames(tmp_path) -> None:
    path = write_yuv(tmp_path / "c.yuv", [(Y8, U8, V8)] * 3)  # 36 bytes
    with pytest.raises(
        BadClipError,
        match=r"^clip 'c': .*c\.yuv has 36 bytes, not a whole number of 8×2 yuv420p frames "
        r"\(24 bytes each: 1\.500 frames\); check width, height and pix_fmt$",
    ):
        _clip(path, 8, 2)
    with pytest.raises(BadClipError, match="4×2 yuv420p10le frames"):
        _clip(path, pix_fmt="yuv420p10le")


def test_missing_empty_and_short_files(tmp_path) -> None:
    with pytest.raises(BadClipError, match=r"^clip 'c': .*nope\.yuv: no such file; fix its path"):
        _clip(tmp_path / "nope.yuv")
    (tmp_path / "empty.yuv").write_bytes(b"")
    with pytest.raises(BadClipError, match=r"empty\.yuv is empty \(0 bytes\)"):
        _clip(tmp_path / "empty.yuv")
    with pytest.raises(BadClipError, match="is not a file"):
        _clip(tmp_path)
    path = write_yuv(tmp_path / "c.yuv", [(Y8, U8, V8)] * 2)
    with pytest.raises(
        BadClipError,
        match=r"^clip 'c': n_frames is 3 but .*c\.yuv holds 2 4×2 yuv420p frame\(s\) \(24 bytes\)",
    ):
        _clip(path, n_frames=3)


def test_10bit_values_above_1023_are_refused(tmp_path) -> None:
    path = tmp_path / "c.yuv"
    path.write_bytes(np.full(12, 100).astype(">u2").tobytes())  # read as little-endian: 25600
    with pytest.raises(
        BadClipError, match=r"frame 0 .* sample value 25600, above 1023.*big-endian"
    ):
        list(_clip(path, pix_fmt="yuv420p10le").frames())


def test_bad_clip_errors_are_input_errors() -> None:
    assert issubclass(BadClipError, InputError)
    assert BadClipError("x").exit_code == 2
