"""Without onnxruntime (the 'saliency' extra), running a model is refused naming the extra to
install; features from precomputed maps need nothing more."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from second_opinion.errors import MissingExtraError
from second_opinion.saliency.model import SaliencyModel
from second_opinion.saliency.run import run_saliency
from second_opinion.saliency.spec import SaliencySpec
from tests._extras import hide_modules
from tests._saliency import clip_row, model_file, noise_clip, write_clips
from tests._tables import read_rows


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two 16×12 clips and a model, then onnxruntime made unimportable."""
    noise_clip(tmp_path / "a.yuv", 16, 12, 3, seed=1)
    noise_clip(tmp_path / "b.yuv", 16, 12, 2, seed=2)
    write_clips(tmp_path / "clips.jsonl", [clip_row("a", "a.yuv"), clip_row("b", "b.yuv")])
    model_file(tmp_path / "model.onnx", size=(8, 8))
    hide_modules(monkeypatch, "onnxruntime")
    return tmp_path


def _message(model: Path) -> str:
    return (
        f"{model}: running a saliency model needs the optional dependency 'onnxruntime', which "
        "is not installed; install it with: pip install 'second-opinion[saliency]'"
    )


def test_loading_a_model_without_onnxruntime_names_the_extra(corpus: Path) -> None:
    with pytest.raises(MissingExtraError) as caught:
        SaliencyModel.load(corpus / "model.onnx")
    assert caught.value.message == _message(corpus / "model.onnx")
    assert (caught.value.extra, caught.value.module, caught.value.exit_code) == (
        "saliency",
        "onnxruntime",
        2,
    )


def test_run_saliency_with_a_model_names_the_extra_and_writes_nothing(corpus: Path) -> None:
    spec = SaliencySpec(clips=corpus / "clips.jsonl", model=corpus / "model.onnx")
    with pytest.raises(MissingExtraError) as caught:
        run_saliency(spec, corpus / "out.jsonl")
    assert caught.value.message == _message(corpus / "model.onnx")
    assert not (corpus / "out.jsonl").exists()


def test_precomputed_maps_need_no_onnxruntime(corpus: Path) -> None:
    spec = SaliencySpec(clips=corpus / "clips.jsonl", maps="{clip_id}.npy")
    rng = np.random.default_rng(0)
    for clip_id, frames in (("a", 3), ("b", 2)):
        np.save(spec.map_path(clip_id), rng.random((frames, 12, 16)))
    report = run_saliency(spec, corpus / "out.jsonl")
    assert [row["clip_id"] for row in read_rows(report.output)] == ["a", "b"]
    assert [row["n_frames"] for row in read_rows(report.output)] == [3, 2]
