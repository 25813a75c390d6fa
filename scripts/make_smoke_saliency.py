"""Write testdata/smoke-saliency-batch: tiny raw YUV clips, clips.jsonl, the model, and maps.

Three synthetic clips (fixed seeds): a bright disc moving over a gradient, with a little noise
and varying chroma. ``maps/<clip_id>.npy`` holds every frame's map (T = the clip's frames,
float32) as second-opinion's model path computes it with ``tiny_saliency.onnx``, so a job on the
maps and a job on the model give the same features. The YUV files, clips.jsonl and the model are
byte-for-byte reproducible; the maps are to float32 rounding (onnxruntime's kernels may differ
by CPU).

    .venv/bin/python scripts/make_smoke_saliency.py [--out FOLDER]
"""

from __future__ import annotations

import argparse
import json
import runpy
from pathlib import Path

import numpy as np
import numpy.typing as npt

from second_opinion.saliency.model import SaliencyModel
from second_opinion.saliency.yuv import PixFmt, YuvClip, YuvLayout

SCRIPTS = Path(__file__).resolve().parent
HERE = SCRIPTS.parent / "testdata" / "smoke-saliency-batch"

# clip_id, width, height, pix_fmt, frames, n_frames column (None: left out), seed
CLIPS: list[tuple[str, int, int, PixFmt, int, int | None, int]] = [
    ("clip_8bit", 64, 48, "yuv420p", 6, None, 1),
    ("clip_10bit", 64, 48, "yuv420p10le", 6, 6, 2),
    ("clip_small", 32, 24, "yuv420p", 3, None, 3),
]


def synthetic_frame(
    width: int, height: int, t: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], ...]:
    """Y' in [0, 1] and Pb, Pr in [-0.5, 0.5] of frame ``t``: a disc moving over a gradient."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    cx, cy = width * (0.25 + 0.1 * t), height * (0.4 + 0.05 * t)
    disc = ((xx - cx) ** 2 + (yy - cy) ** 2 < (min(width, height) / 6) ** 2).astype(np.float64)
    luma = 0.2 + 0.3 * xx / width + 0.45 * disc + rng.normal(0.0, 0.02, (height, width))
    half = (slice(None, None, 2), slice(None, None, 2))
    pb = (0.1 * np.sin(xx / 7 + t) - 0.2 * disc)[half]
    pr = (0.1 * np.cos(yy / 5 - t) + 0.25 * disc)[half]
    return np.clip(luma, 0, 1), np.clip(pb, -0.5, 0.5), np.clip(pr, -0.5, 0.5)


def encode(planes: tuple[npt.NDArray[np.float64], ...], pix_fmt: PixFmt) -> bytes:
    """Limited-range samples of Y', Pb, Pr, as raw bytes in ``pix_fmt``."""
    scale = 4 if pix_fmt == "yuv420p10le" else 1
    luma, pb, pr = planes
    codes = [16 * scale + 219 * scale * luma, *(128 * scale + 224 * scale * c for c in (pb, pr))]
    dtype = np.dtype("<u2") if scale == 4 else np.dtype(np.uint8)
    return b"".join(np.rint(c).astype(dtype).tobytes() for c in codes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into")
    folder: Path = parser.parse_args().out
    (folder / "maps").mkdir(parents=True, exist_ok=True)
    model_script = runpy.run_path(str(SCRIPTS / "make_tiny_saliency_model.py"))
    model_path = model_script["write_model"](folder / model_script["MODEL_NAME"])
    model = SaliencyModel.load(model_path)
    rows = []
    for clip_id, width, height, pix_fmt, frames, n_frames, seed in CLIPS:
        rng = np.random.default_rng(seed)
        path = folder / f"{clip_id}.yuv"
        path.write_bytes(
            b"".join(encode(synthetic_frame(width, height, t, rng), pix_fmt) for t in range(frames))
        )
        row: dict[str, object] = {
            "clip_id": clip_id,
            "path": path.name,
            "width": width,
            "height": height,
            "pix_fmt": pix_fmt,
        }
        if n_frames is not None:
            row["n_frames"] = n_frames
        rows.append(row)
        clip = YuvClip(path, YuvLayout(width, height, pix_fmt), name=clip_id)
        maps = list(model.maps(clip.frames(chroma=model.channels == 3), name=clip_id))
        np.save(folder / "maps" / f"{clip_id}.npy", np.stack(maps).astype(np.float32))
    with (folder / "clips.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    print(folder)


if __name__ == "__main__":
    main()
