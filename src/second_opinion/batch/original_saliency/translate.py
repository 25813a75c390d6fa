"""Which of the original's settings a saliency job can honour, and the native job to write.

A setting translates when, for the table's inputs, a saliency job does what the original does:
the clips table's columns (``path``, ``width``, ``height``), the model (``model_path`` →
``model``), the frames (``max_frames`` and ``frame_samples`` → ``frame_step``, see
``original_saliency.clips``). Settings that only name things a saliency job does not make — the
tool binaries, the output's metadata columns, ``model_id``, the geometry fallbacks (every clips
row has its own) — are recorded in the report and change nothing. The rest are refused here,
each with where it is written, what differs and the fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from second_opinion.batch.original_saliency.config import OriginalConfig

DOCS = "docs/migrating.md#saliency-batch-manifests"
_COLUMNS = (("path_column", "path"), ("width_column", "width"), ("height_column", "height"))


def setting_problems(config: OriginalConfig, *, source_name: str, problems: list[str]) -> None:
    """Add a problem for each setting of ``config`` a saliency job cannot honour."""
    for name, ours in _COLUMNS:
        setting = config[name]
        if setting.value != ours:
            problems.append(
                f"{setting.described()}: a saliency job reads the clip's {ours} from the column "
                f"{ours!r} of its clips table (with clip_id and pix_fmt); name that column "
                f'{ours!r} in {source_name} and set "{name}": "{ours}"'
            )
    model = config["model_path"]
    if model.value is None:
        problems.append(
            f"{model.described()}: without it the original runs its bundled "
            "saliency_student_v1 model, and second-opinion bundles none; set model_path to the "
            'ONNX file (a native job\'s "model")'
        )
    aggregator = config["temporal_aggregator"]
    if aggregator.value != "mean":
        problems.append(
            f"{aggregator.described()}: a saliency job has no temporal reducer ('ema', 'max', "
            "'motion-weighted'); its features average each sampled map's statistics, as "
            "'mean' does (sal_temporal_change measures how the maps move): set "
            '"temporal_aggregator": "mean", or keep the original for this table'
        )
    alpha = config.value("ema_alpha")
    if isinstance(alpha, int | float) and not 0 < alpha <= 1:
        problems.append(
            f"{config['ema_alpha'].described()}: the original fails every row with it (it "
            "must be in (0, 1]); write a value in that range (it is not used with 'mean')"
        )


def native_job(
    *,
    name: str,
    source: Path,
    config: OriginalConfig,
    output: Path,
    base_dir: Path,
    frame_step: int | None,
) -> dict[str, object]:
    """The native manifest's job for a table (paths relative to ``base_dir``, the manifest's
    folder and the native manifest's ``output_dir``)."""
    model = config.path("model_path")
    return {
        "name": name,
        "kind": "saliency",
        "clips": _relative(source, base_dir),
        "model": _relative(model, base_dir) if model is not None else "<an ONNX model>",
        "frame_step": frame_step if frame_step is not None else 1,
        "on_bad_clip": "skip",
        "output": _relative(output, base_dir),
    }


def snippet(job: dict[str, object]) -> str:
    """A native job as one line of JSON, for a message."""
    return json.dumps(job, ensure_ascii=False)


def _relative(path: Path, base_dir: Path) -> str:
    return Path(os.path.relpath(path, base_dir)).as_posix()
