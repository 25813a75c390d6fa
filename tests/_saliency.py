"""Test helpers for saliency: raw YUV clips from sample codes, clips tables, tiny models."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper

from tests._tables import write_table

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "testdata" / "smoke-saliency-batch"
SCRIPTS = ROOT / "scripts"

Codes = npt.ArrayLike


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` as a module."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def yuv_bytes(frames: Sequence[tuple[Codes, Codes, Codes]], pix_fmt: str = "yuv420p") -> bytes:
    """Raw bytes of frames given as (Y, U, V) sample codes (U, V at half size)."""
    dtype = np.dtype("<u2") if pix_fmt == "yuv420p10le" else np.dtype(np.uint8)
    return b"".join(np.asarray(p).astype(dtype).tobytes() for frame in frames for p in frame)


def grey_frame(y: Codes, bits: int = 8) -> tuple[Codes, Codes, Codes]:
    """A frame with luma codes ``y`` and neutral chroma."""
    y = np.asarray(y)
    neutral = np.full((y.shape[0] // 2, y.shape[1] // 2), 128 << (bits - 8))
    return y, neutral, neutral


def write_yuv(
    path: Path, frames: Sequence[tuple[Codes, Codes, Codes]], pix_fmt: str = "yuv420p"
) -> Path:
    path.write_bytes(yuv_bytes(frames, pix_fmt))
    return path


def noise_clip(
    path: Path, width: int, height: int, frames: int, *, seed: int = 0, pix_fmt: str = "yuv420p"
) -> Path:
    """A clip of random samples (in the legal range)."""
    rng = np.random.default_rng(seed)
    scale = 4 if pix_fmt == "yuv420p10le" else 1
    planes = [
        (
            rng.integers(16 * scale, 235 * scale + 1, (height, width)),
            rng.integers(16 * scale, 240 * scale + 1, (height // 2, width // 2)),
            rng.integers(16 * scale, 240 * scale + 1, (height // 2, width // 2)),
        )
        for _ in range(frames)
    ]
    return write_yuv(path, planes, pix_fmt)


def clip_row(
    clip_id: str, path: str, width: int = 16, height: int = 12, pix_fmt: str = "yuv420p", **extra
) -> dict[str, Any]:
    return {
        "clip_id": clip_id,
        "path": path,
        "width": width,
        "height": height,
        "pix_fmt": pix_fmt,
        **extra,
    }


def write_clips(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    return write_table(path, rows)


def model_file(path: Path, **options: Any) -> Path:
    """The tiny saliency model of scripts/make_tiny_saliency_model.py, with ``options``."""
    written: Path = load_script("make_tiny_saliency_model").write_model(path, **options)
    return written


def graph_model(
    path: Path,
    nodes: list[onnx.NodeProto],
    inputs: list[tuple[str, int, list[int | str]]],
    output: tuple[str, list[int | str]],
) -> Path:
    """Write a one-graph model: ``inputs`` as (name, element type, shape), one float output."""
    graph = helper.make_graph(
        nodes,
        "test",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(output[0], TensorProto.FLOAT, output[1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    path.write_bytes(model.SerializeToString())
    return path


def identity_model(path: Path, shape: list[int | str]) -> Path:
    """A model whose map is its input: NCHW (C = 1) in, the same out."""
    node = helper.make_node("Identity", ["x"], ["y"])
    return graph_model(path, [node], [("x", TensorProto.FLOAT, shape)], ("y", shape))
