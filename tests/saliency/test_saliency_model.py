"""The ONNX model path: loading, channels, fixed and dynamic sizes, batching, resizing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from onnx import TensorProto, helper

from second_opinion.errors import InputError
from second_opinion.saliency.arrays import normalize_map, resize_bilinear
from second_opinion.saliency.model import BATCH_FRAMES, SaliencyModel
from second_opinion.saliency.yuv import Frame
from tests._saliency import graph_model, identity_model, model_file


def _frames(count: int, height: int = 12, width: int = 16, seed: int = 0) -> list[Frame]:
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        y = rng.random((height, width), dtype=np.float32)
        pb, pr = (rng.random((height, width), dtype=np.float32) - 0.5 for _ in range(2))
        frames.append(Frame(i, y, pb, pr))
    return frames


def _grey(frames: list[Frame]) -> list[Frame]:
    zeros = np.zeros_like(frames[0].y)
    return [Frame(f.index, f.y, zeros, zeros) for f in frames]


# --- resizing and normalising -------------------------------------------------------------------


def test_bilinear_upsampling_aligns_pixel_centres() -> None:
    out = resize_bilinear(np.array([[0.0, 1.0], [2.0, 3.0]]), 4, 4)
    # source positions (i + 0.5) / 2 - 0.5 = -0.25 → 0, 0.25, 0.75, 1.25 → 1
    row = [0.0, 0.25, 0.75, 1.0]
    np.testing.assert_allclose(out, [[2 * a + b for b in row] for a in row], atol=1e-7)


def test_bilinear_halving_averages_pairs_and_identity_is_untouched() -> None:
    m = np.arange(16, dtype=np.float32).reshape(4, 4)
    np.testing.assert_allclose(resize_bilinear(m, 2, 2), [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(resize_bilinear(m, 4, 4), m)
    assert resize_bilinear(m[None, None], 2, 8).shape == (1, 1, 2, 8)  # last two axes


def ref_resize(m: list[list[float]], h: int, w: int) -> list[list[float]]:
    def source(i: int, n_in: int, n_out: int) -> tuple[int, int, float]:
        p = min(max((i + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1)
        lo = int(p)
        return lo, min(lo + 1, n_in - 1), p - lo

    out = []
    for y in range(h):
        y0, y1, fy = source(y, len(m), h)
        row = []
        for x in range(w):
            x0, x1, fx = source(x, len(m[0]), w)
            top = m[y0][x0] * (1 - fx) + m[y0][x1] * fx
            bottom = m[y1][x0] * (1 - fx) + m[y1][x1] * fx
            row.append(top * (1 - fy) + bottom * fy)
        out.append(row)
    return out


@settings(max_examples=60, deadline=None)
@given(
    m=arrays(
        np.float32,
        st.tuples(st.integers(1, 7), st.integers(1, 7)),
        elements=st.floats(0, 1, width=32),
    ),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
)
def test_bilinear_matches_the_reference(m, h, w) -> None:
    np.testing.assert_allclose(resize_bilinear(m, h, w), ref_resize(m.tolist(), h, w), atol=1e-6)


def test_normalize_map() -> None:
    np.testing.assert_allclose(
        normalize_map(np.array([[1.0, 3.0], [2.0, 5.0]])), [[0, 0.5], [0.25, 1]]
    )
    assert normalize_map(np.full((2, 3), 7.0)).tolist() == [[0.0] * 3] * 2
    assert normalize_map(np.array([[3, 1]], dtype=np.uint8)).dtype == np.float32


# --- loading ------------------------------------------------------------------------------------


def test_fixed_luma_model(tmp_path) -> None:
    model = SaliencyModel.load(model_file(tmp_path / "m.onnx"))
    assert (model.channels, model.batch, model.height, model.width) == (1, 1, 32, 32)
    assert (model.input_name, model.output_name) == ("luma", "saliency")


def test_dynamic_rgb_model(tmp_path) -> None:
    path = model_file(tmp_path / "m.onnx", channels=3, size=None, batch=None)
    model = SaliencyModel.load(path)
    assert (model.channels, model.batch, model.height, model.width) == (3, None, None, None)


def test_missing_and_corrupt_models(tmp_path) -> None:
    with pytest.raises(InputError, match=r"nope\.onnx: no such model file; fix 'model'"):
        SaliencyModel.load(tmp_path / "nope.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(InputError, match=r"junk\.onnx: cannot load as an ONNX model \("):
        SaliencyModel.load(tmp_path / "junk.onnx")


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        ([("x", TensorProto.FLOAT, [1, 2, 8, 8])], "has 2 channels; use C = 1 .luma. or C = 3"),
        ([("x", TensorProto.UINT8, [1, 1, 8, 8])], r"is tensor\(uint8\) of shape"),
        ([("x", TensorProto.FLOAT, [1, 8, 8])], r"of shape \[1, 8, 8\]; .* NCHW"),
        (
            [("x", TensorProto.FLOAT, [1, 1, 8, 8]), ("z", TensorProto.FLOAT, [1, 1, 8, 8])],
            r"has 2 inputs \(x, z\); it needs exactly one",
        ),
    ],
)
def test_unusable_model_inputs(tmp_path, inputs, match) -> None:
    if len(inputs) == 2:
        nodes = [helper.make_node("Add", ["x", "z"], ["y"])]
    elif inputs[0][1] == TensorProto.UINT8:
        nodes = [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)]
    else:
        nodes = [helper.make_node("Identity", ["x"], ["y"])]
    path = graph_model(tmp_path / "m.onnx", nodes, inputs, ("y", inputs[0][2]))
    with pytest.raises(InputError, match=match):
        SaliencyModel.load(path)


# --- running ------------------------------------------------------------------------------------


def test_dynamic_identity_gives_the_normalised_luma(tmp_path) -> None:
    model = SaliencyModel.load(identity_model(tmp_path / "id.onnx", ["N", 1, "H", "W"]))
    frames = _frames(6)
    maps = list(model.maps(frames, name="clip"))
    assert len(maps) == 6
    for frame, m in zip(frames, maps, strict=True):
        np.testing.assert_allclose(m, normalize_map(frame.y), atol=1e-6)


def test_fixed_size_model_resizes_frames_and_maps(tmp_path) -> None:
    model = SaliencyModel.load(identity_model(tmp_path / "id.onnx", [1, 1, 4, 6]))
    frames = _frames(3, height=12, width=16)
    for frame, m in zip(frames, model.maps(frames, name="clip"), strict=True):
        assert m.shape == (12, 16)
        expected = normalize_map(resize_bilinear(resize_bilinear(frame.y, 4, 6), 12, 16))
        np.testing.assert_allclose(m, expected, atol=1e-6)


def test_a_fixed_batch_is_filled_and_the_padding_dropped(tmp_path) -> None:
    model = SaliencyModel.load(identity_model(tmp_path / "id.onnx", [4, 1, "H", "W"]))
    frames = _frames(5)
    maps = list(model.maps(frames, name="clip"))
    assert len(maps) == 5
    np.testing.assert_allclose(maps[4], normalize_map(frames[4].y), atol=1e-6)


def test_batches_give_what_single_frames_give(tmp_path) -> None:
    model = SaliencyModel.load(model_file(tmp_path / "m.onnx", size=None, batch=None))
    frames = _frames(BATCH_FRAMES + 2)
    together = list(model.maps(frames, name="clip"))
    one_by_one = [next(model.maps([f], name="clip")) for f in frames]
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)


def test_rgb_model_on_grey_frames_equals_the_luma_model(tmp_path) -> None:
    # The RGB model starts with BT.709 luma weights, which sum to 1: on grey it sees Y'.
    luma = SaliencyModel.load(model_file(tmp_path / "l.onnx", size=None, batch=None))
    rgb = SaliencyModel.load(model_file(tmp_path / "c.onnx", channels=3, size=None, batch=None))
    frames = _grey(_frames(3))
    for a, b in zip(luma.maps(frames, name="c"), rgb.maps(frames, name="c"), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_rgb_model_sees_colour(tmp_path) -> None:
    rgb = SaliencyModel.load(model_file(tmp_path / "c.onnx", channels=3, size=None, batch=None))
    frames = _frames(1)
    coloured = next(rgb.maps(frames, name="c"))
    grey = next(rgb.maps(_grey(frames), name="c"))
    assert np.abs(coloured - grey).max() > 0.01


def test_n_h_w_output_equals_n_1_h_w_output(tmp_path) -> None:
    four = SaliencyModel.load(model_file(tmp_path / "a.onnx"))
    three = SaliencyModel.load(model_file(tmp_path / "b.onnx", squeeze=True))
    frames = _frames(2, 20, 30)
    for a, b in zip(four.maps(frames, name="c"), three.maps(frames, name="c"), strict=True):
        np.testing.assert_array_equal(a, b)


def test_outputs_of_another_shape_are_refused(tmp_path) -> None:
    nodes = [helper.make_node("Concat", ["x", "x"], ["y"], axis=1)]
    path = graph_model(
        tmp_path / "two.onnx",
        nodes,
        [("x", TensorProto.FLOAT, ["N", 1, 4, 4])],
        ("y", ["N", 2, 4, 4]),
    )
    model = SaliencyModel.load(path)
    with pytest.raises(InputError, match=r"two\.onnx: model output 'y' has shape \[1, 2, 4, 4\]"):
        list(model.maps(_frames(1), name="clip"))


def test_non_finite_outputs_are_refused(tmp_path) -> None:
    nodes = [helper.make_node("Neg", ["x"], ["n"]), helper.make_node("Sqrt", ["n"], ["y"])]
    path = graph_model(
        tmp_path / "nan.onnx", nodes, [("x", TensorProto.FLOAT, [1, 1, 4, 4])], ("y", [1, 1, 4, 4])
    )
    model = SaliencyModel.load(path)
    frames = [Frame(7, np.full((4, 4), 0.5, np.float32))]
    with pytest.raises(InputError, match=r"^clip 'a': model .*nan\.onnx returned nan for frame 7"):
        list(model.maps(frames, name="clip 'a'"))


def test_a_failing_run_names_the_clip_and_frames(tmp_path) -> None:
    # Reshape to a fixed 16 values fails on any other frame size.
    shape = helper.make_tensor("shape", TensorProto.INT64, [4], [1, 1, 4, 4])
    nodes = [
        helper.make_node("Constant", [], ["s"], value=shape),
        helper.make_node("Reshape", ["x", "s"], ["y"]),
    ]
    path = graph_model(
        tmp_path / "r.onnx",
        nodes,
        [("x", TensorProto.FLOAT, [1, 1, "H", "W"])],
        ("y", [1, 1, 4, 4]),
    )
    model = SaliencyModel.load(path)
    with pytest.raises(InputError, match=r"^clip 'a': model .*r\.onnx failed on frames 0…0"):
        list(model.maps(_frames(1), name="clip 'a'"))
