"""The scripts that build the saliency smoke set reproduce the committed files."""

from __future__ import annotations

import json
import sys

import numpy as np
import onnx

from tests._saliency import SMOKE, load_script


def test_the_tiny_model_is_rebuilt_byte_for_byte(tmp_path, monkeypatch) -> None:
    script = load_script("make_tiny_saliency_model")
    monkeypatch.setattr(sys, "argv", ["make_tiny_saliency_model.py", "--out", str(tmp_path)])
    script.main()
    committed = (SMOKE / "tiny_saliency.onnx").read_bytes()
    assert (tmp_path / "tiny_saliency.onnx").read_bytes() == committed
    assert len(committed) < 4096
    model = onnx.load_from_string(committed)
    onnx.checker.check_model(model)
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 1, 32, 32]  # fixed: clips are resized to it


def test_the_smoke_clips_and_maps_are_rebuilt(tmp_path, monkeypatch) -> None:
    script = load_script("make_smoke_saliency")
    monkeypatch.setattr(sys, "argv", ["make_smoke_saliency.py", "--out", str(tmp_path)])
    script.main()
    rows = [json.loads(line) for line in (SMOKE / "clips.jsonl").read_text().splitlines()]
    assert {r["pix_fmt"] for r in rows} == {"yuv420p", "yuv420p10le"}
    names = ["clips.jsonl", "tiny_saliency.onnx", *(r["path"] for r in rows)]
    for name in names:
        assert (tmp_path / name).read_bytes() == (SMOKE / name).read_bytes(), name
    for row in rows:
        name = f"maps/{row['clip_id']}.npy"
        rebuilt, committed = np.load(tmp_path / name), np.load(SMOKE / name)
        assert committed.dtype == np.float32
        assert committed.shape[1:] == (row["height"], row["width"])
        np.testing.assert_allclose(rebuilt, committed, atol=1e-6)
