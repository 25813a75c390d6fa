"""Build the tiny ONNX saliency model of testdata/smoke-saliency-batch (fixed weights).

The model is a few hundred bytes: luma → 3×3 convolution to two channels (an edge detector and
the brightness itself) → absolute value → 3×3 box-filter mix of the two → sigmoid. The written
model has a fixed 1 × 1 × 32 × 32 input, so clips of any size are resized to it and its maps
resized back. :func:`build_model` also builds the variants the tests use: RGB input, other
fixed or symbolic (dynamic) N, H and W, and an N × H × W output. The bytes are deterministic:
IR version, opset and every weight are fixed here, so regenerating gives the committed file
(a test checks it).

    .venv/bin/python scripts/make_tiny_saliency_model.py [--out FOLDER]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parents[1] / "testdata" / "smoke-saliency-batch"
MODEL_NAME = "tiny_saliency.onnx"
IR_VERSION = 8
OPSET = 13

EDGE = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=np.float32)
CENTRE = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
BOX = np.full((3, 3), 1 / 9, dtype=np.float32)
GREY = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)  # BT.709 luma weights


def build_model(
    *,
    channels: int = 1,
    size: tuple[int, int] | None = (32, 32),
    batch: int | None = 1,
    squeeze: bool = False,
) -> onnx.ModelProto:
    """The model: ``channels`` 1 (luma) or 3 (RGB); ``size`` a fixed H × W or None for symbolic
    H and W; ``batch`` a fixed N or None for a symbolic one; ``squeeze`` drops the channel axis
    of the output (N × H × W)."""
    n: int | str = "N" if batch is None else batch
    h, w = ("H", "W") if size is None else size
    source = "luma" if channels == 1 else "rgb"
    weights = [
        numpy_helper.from_array(np.stack([EDGE, CENTRE])[:, None], "w_features"),
        numpy_helper.from_array(np.stack([BOX, 0.5 * BOX])[None], "w_mix"),
        numpy_helper.from_array(np.array([-0.5], dtype=np.float32), "b_mix"),
    ]
    nodes = []
    first = source
    if channels == 3:
        weights.append(numpy_helper.from_array(GREY.reshape(1, 3, 1, 1), "w_grey"))
        nodes.append(helper.make_node("Conv", ["rgb", "w_grey"], ["grey"], name="grey"))
        first = "grey"
    pads = [1, 1, 1, 1]
    nodes += [
        helper.make_node("Conv", [first, "w_features"], ["features"], name="features", pads=pads),
        helper.make_node("Abs", ["features"], ["magnitude"], name="magnitude"),
        helper.make_node("Conv", ["magnitude", "w_mix", "b_mix"], ["logit"], name="mix", pads=pads),
        helper.make_node("Sigmoid", ["logit"], ["map" if squeeze else "saliency"], name="sigmoid"),
    ]
    out_dims = [n, 1, h, w]
    if squeeze:
        weights.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "axis"))
        nodes.append(helper.make_node("Squeeze", ["map", "axis"], ["saliency"], name="squeeze"))
        out_dims = [n, h, w]
    graph = helper.make_graph(
        nodes,
        "tiny_saliency",
        [helper.make_tensor_value_info(source, TensorProto.FLOAT, [n, channels, h, w])],
        [helper.make_tensor_value_info("saliency", TensorProto.FLOAT, out_dims)],
        initializer=weights,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="second-opinion",
        producer_version="tests",
    )
    onnx.checker.check_model(model)
    return model


def write_model(
    path: Path,
    *,
    channels: int = 1,
    size: tuple[int, int] | None = (32, 32),
    batch: int | None = 1,
    squeeze: bool = False,
) -> Path:
    """Write :func:`build_model` to ``path``."""
    model = build_model(channels=channels, size=size, batch=batch, squeeze=squeeze)
    path.write_bytes(model.SerializeToString())
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write the model to")
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    print(write_model(folder / MODEL_NAME))


if __name__ == "__main__":
    main()
