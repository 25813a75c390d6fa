"""Running an ONNX saliency model on a clip's frames with onnxruntime (CPU).

The model has one input, NCHW float32: ``C = 1`` gets the luma Y', ``C = 3`` gets BT.709 R'G'B'
(both in [0, 1], see :mod:`~second_opinion.saliency.yuv`). An input height or width that is a
fixed number makes frames resized to it (bilinear); a symbolic one takes the frame's size. The
first output is the map: N × 1 × H × W or N × H × W, resized back to the frame's size when it
differs and min-max normalised per frame. A fixed batch size N is honoured (a short last batch
is padded with copies of its last frame); a symbolic one gets :data:`BATCH_FRAMES` frames.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from second_opinion.errors import InputError, MissingExtraError
from second_opinion.saliency.arrays import Maps, first_non_finite, normalize_map, resize_bilinear
from second_opinion.saliency.yuv import Frame, to_rgb

if TYPE_CHECKING:
    import onnxruntime as ort  # type: ignore[import-untyped]

BATCH_FRAMES = 4


def _onnxruntime(path: Path) -> Any:  # noqa: ANN401 - onnxruntime is untyped
    """The ``onnxruntime`` module (0.2 s to import: only when a model runs); without the
    'saliency' extra, :class:`MissingExtraError` naming the model."""
    try:
        import onnxruntime  # noqa: PLC0415
    except ImportError:
        feature = f"{path}: running a saliency model"
        raise MissingExtraError(feature, "saliency", "onnxruntime") from None
    return onnxruntime


def _runtime_errors() -> tuple[type[BaseException], ...]:
    from onnxruntime.capi import (  # type: ignore[import-untyped]  # noqa: PLC0415
        onnxruntime_pybind11_state as state,
    )

    names = (
        "Fail",
        "InvalidArgument",
        "InvalidGraph",
        "InvalidProtobuf",
        "NoSuchFile",
        "NotImplemented",
        "RuntimeException",
        "EPFail",
        "NoModel",
    )
    found = tuple(getattr(state, n) for n in names if isinstance(getattr(state, n, None), type))
    return (RuntimeError, ValueError, *found)


def _dim(value: object) -> int | None:
    """A fixed dimension as an int; a symbolic or unknown one as None."""
    return value if isinstance(value, int) and value > 0 else None


@dataclass(frozen=True)
class SaliencyModel:
    """A loaded model: its session, input and output names, channels and fixed sizes."""

    path: Path
    session: ort.InferenceSession
    input_name: str
    output_name: str
    channels: int
    batch: int | None  # fixed N, or None
    height: int | None  # fixed H, or None (frames go in at their size)
    width: int | None

    @classmethod
    def load(cls, path: Path, *, threads: int = 0) -> SaliencyModel:
        """Load ``path`` on the CPU; ``threads`` caps onnxruntime's threads (0: its default).

        Raises :class:`InputError` for a missing or invalid model, or one whose input is not a
        single NCHW float tensor with 1 or 3 channels; :class:`MissingExtraError` without
        onnxruntime (the 'saliency' extra).
        """
        ort = _onnxruntime(path)
        if not path.is_file():
            msg = f"{path}: no such model file; fix 'model'"
            raise InputError(msg)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: no warnings on stderr
        options.intra_op_num_threads = threads
        try:
            session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except _runtime_errors() as exc:
            msg = f"{path}: cannot load as an ONNX model ({_first_line(exc)})"
            raise InputError(msg) from None
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            msg = f"{path}: the model has {len(inputs)} inputs ({names}); it needs exactly one"
            raise InputError(msg)
        first = inputs[0]
        shape = list(first.shape)
        where = f"{path}: model input {first.name!r}"
        if first.type != "tensor(float)" or len(shape) != 4:
            msg = (
                f"{where} is {first.type} of shape {shape}; saliency models take one float32 "
                "NCHW tensor (N × C × H × W)"
            )
            raise InputError(msg)
        if shape[1] not in (1, 3):
            msg = f"{where} has {shape[1]} channels; use C = 1 (luma) or C = 3 (RGB)"
            raise InputError(msg)
        return cls(
            path=path,
            session=session,
            input_name=first.name,
            output_name=outputs[0].name,
            channels=int(shape[1]),
            batch=_dim(shape[0]),
            height=_dim(shape[2]),
            width=_dim(shape[3]),
        )

    def maps(self, frames: Iterable[Frame], *, name: str) -> Iterator[Maps]:
        """The normalised map of each frame, at the frame's size, in order.

        ``frames`` must carry chroma when the model takes RGB (:attr:`channels` 3). ``name``
        starts messages about the clip.
        """
        pending: list[Frame] = []
        size = self.batch or BATCH_FRAMES
        for frame in frames:
            pending.append(frame)
            if len(pending) == size:
                yield from self._run(pending, name)
                pending = []
        if pending:
            yield from self._run(pending, name)

    def _run(self, frames: list[Frame], name: str) -> Iterator[Maps]:
        height, width = frames[0].y.shape
        planes = [f.y[None] if self.channels == 1 else to_rgb(f) for f in frames]
        if self.batch is not None:
            planes += [planes[-1]] * (self.batch - len(planes))
        batch = resize_bilinear(np.stack(planes), self.height or height, self.width or width)
        try:
            (out,) = self.session.run([self.output_name], {self.input_name: batch})
        except _runtime_errors() as exc:
            msg = (
                f"{name}: model {self.path} failed on frames {frames[0].index}…"
                f"{frames[-1].index} (input {list(batch.shape)}): {_first_line(exc)}"
            )
            raise InputError(msg) from None
        result = np.asarray(out)
        if result.ndim == 4 and result.shape[1] == 1:
            result = result[:, 0]
        if result.ndim != 3 or result.shape[0] != batch.shape[0] or 0 in result.shape:
            msg = (
                f"{self.path}: model output {self.output_name!r} has shape {list(out.shape)} for "
                f"input {list(batch.shape)}; a saliency model returns N × 1 × H × W or N × H × W"
            )
            raise InputError(msg)
        bad = first_non_finite(result[: len(frames)])
        if bad is not None:
            msg = (
                f"{name}: model {self.path} returned {result[bad]} for frame "
                f"{frames[bad[0]].index} at (y={bad[1]}, x={bad[2]}); its maps must be finite"
            )
            raise InputError(msg)
        for values in result[: len(frames)]:
            yield normalize_map(resize_bilinear(values, height, width))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def threads_per_clip(threads: int) -> int:
    """onnxruntime's intra-op threads when ``threads`` clips run at once (0: its default)."""
    return 0 if threads == 1 else max(1, (os.cpu_count() or 1) // threads)
