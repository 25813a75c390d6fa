"""Saliency features of raw YUV clips: per-clip statistics of saliency maps (docs/saliency.md).

The maps come from an ONNX model run on the clips' frames, or from precomputed ``.npy`` files;
:func:`run_saliency` reads a clips table and writes one row of features per clip::

    from second_opinion.saliency import SaliencySpec, run_saliency

    spec = SaliencySpec(clips="clips.jsonl", model="saliency.onnx", frame_step=2)
    report = run_saliency(spec, "saliency.parquet")   # report.rows, report.skipped, ...

Modules: :mod:`.spec` (the job), :mod:`.clips` (the clips table), :mod:`.yuv` (reading frames,
BT.709), :mod:`.model` (onnxruntime), :mod:`.maps` (precomputed maps), :mod:`.arrays` (resizing,
normalising), :mod:`.features` (the features), :mod:`.run` (the job end to end).
"""

from __future__ import annotations

from second_opinion.saliency.features import FEATURES, saliency_features
from second_opinion.saliency.run import (
    SaliencyProgress,
    SaliencyReport,
    SkippedClip,
    run_saliency,
)
from second_opinion.saliency.spec import OnBadClip, SaliencySpec, build_saliency_spec
from second_opinion.saliency.yuv import PIX_FMTS, BadClipError, PixFmt

__all__ = [
    "FEATURES",
    "PIX_FMTS",
    "BadClipError",
    "OnBadClip",
    "PixFmt",
    "SaliencyProgress",
    "SaliencyReport",
    "SaliencySpec",
    "SkippedClip",
    "build_saliency_spec",
    "run_saliency",
    "saliency_features",
]
