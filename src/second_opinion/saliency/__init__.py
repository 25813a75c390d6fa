"""Saliency features of raw YUV clips: per-clip statistics of saliency maps (docs/saliency.md).

The maps come from an ONNX model run on the clips' frames, or from precomputed ``.npy`` files;
:func:`run_saliency` reads a clips table and writes one row of features per clip::

    from second_opinion import SaliencySpec, run_saliency

    spec = SaliencySpec(clips="clips.jsonl", model="saliency.onnx", frame_step=2)
    report = run_saliency(spec, "saliency.parquet")   # report.rows, report.skipped, ...

Modules: :mod:`.spec` (the job), :mod:`.clips` (the clips table), :mod:`.yuv` (reading frames,
BT.709), :mod:`.model` (onnxruntime), :mod:`.maps` (precomputed maps), :mod:`.arrays` (resizing,
normalising), :mod:`.features` (the features), :mod:`.run` (the job end to end).
"""
