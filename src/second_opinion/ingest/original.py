"""Writing the loaded source in the original project's corpus-JSONL layout (``layout="original"``).

The rows are built from ``so_src`` after every check has passed, in the source's order, and
written as the original writes them: one ``json.dumps(row, sort_keys=True)`` per line (keys
sorted, ``", "``/``": "`` separators, ASCII escapes, ``NaN`` for a missing pooled feature), to a
temporary file renamed over the output. What each preset's rows hold: :mod:`.original_spec` and
docs/corpora.md.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from second_opinion._typing import PresetName
from second_opinion.errors import InputError, UsageError
from second_opinion.hashing import write_text_atomic
from second_opinion.ingest.original_spec import ORIGINAL, UNPROBED, OriginalSpec
from second_opinion.ingest.source import Source
from second_opinion.tables.formats import quote_ident

Row = dict[str, object]

# vmaf-tune's row contract as the BVI-DVC converter fills it (its defaults: libx264, preset
# 'fast', CRF 35, 10-bit 4:2:0, the fork's default VMAF model, schema version 3).
CANONICAL6 = ("adm2", "vif_scale0", "vif_scale1", "vif_scale2", "vif_scale3", "motion2")
_VMAF_TUNE_FIXED: Row = {
    "schema_version": 3,
    "run_id": "",
    "timestamp": "",
    "pix_fmt": "yuv420p10le",
    "encoder": "libx264",
    "encoder_version": "",
    "preset": "fast",
    "crf": 35,
    "extra_params": "",
    "encode_path": "",
    "encode_size_bytes": 0,
    "bitrate_kbps": 0.0,
    "encode_time_ms": 0,
    "vmaf_model": "vmaf_v1.0.16_3d0h",
    "score_time_ms": 0,
    "ffmpeg_version": "",
    "vmaf_binary_version": "",
    "exit_status": 0,
    "clip_mode": "full",
    "hdr_transfer": "",
    "hdr_primaries": "",
    "hdr_forced": False,
    "shot_count": 0,
    "shot_avg_duration_sec": 0.0,
    "shot_duration_std_sec": 0.0,
} | {
    f"enc_internal_{name}": 0.0
    for name in (
        "qp_mean",
        "qp_std",
        "bits_mean",
        "bits_std",
        "mv_mean",
        "mv_std",
        "itex_mean",
        "ptex_mean",
        "intra_ratio",
        "skip_ratio",
    )
}

# CHUG's manifest fields, as the converter keeps them: (field, accepted columns, type).
_CHUG_FIELDS: tuple[tuple[str, tuple[str, ...], type], ...] = (
    ("chug_ref", ("ref", "reference"), int),
    ("chug_name", ("name", "filename", "file_name"), str),
    ("chug_bitladder", ("bitladder", "bitrate_ladder"), str),
    ("chug_resolution", ("resolution",), str),
    ("chug_bitrate_label", ("bitrate",), str),
    ("chug_orientation", ("orientation",), str),
    ("chug_framerate_manifest", ("framerate", "fps"), float),
    ("chug_content_name", ("content_name", "content"), str),
    ("chug_height_manifest", ("height",), int),
    ("chug_width_manifest", ("width",), int),
)


def src_name(clip_id: str, suffix: str) -> str:
    """The original's ``src``: the id's file name, with ``suffix`` if it has no extension."""
    name = clip_id if "." in clip_id else clip_id + suffix
    return name.rsplit("/", 1)[-1]


def _pick(extra: Mapping[str, object], names: tuple[str, ...]) -> object:
    """The first non-empty value among the columns ``names``, compared without case."""
    by_lower = {k.lower(): k for k in extra}
    for name in names:
        column = by_lower.get(name.lower())
        value = None if column is None else extra[column]
        if value is not None and str(value).strip():
            return value
    return None


def _as(kind: type, value: object) -> object:
    """``value`` as the converter types it: text stripped, numbers or their default 0."""
    if kind is str:
        return "" if value is None else str(value).strip()
    try:
        number = float(str(value).strip())
    except ValueError:
        return kind()
    if not math.isfinite(number):
        return kind()
    return int(number) if kind is int else number


def _chug_row(clip: str, mos: float, extra: Mapping[str, object]) -> Row:
    row: Row = {
        "src": f"{clip}.mp4",
        "mos": 1.0 + 4.0 * max(0.0, min(100.0, mos)) / 100.0,
        "mos_raw_0_100": mos,
        "chug_video_id": clip,
    }
    for field, names, kind in _CHUG_FIELDS:
        row[field] = _as(kind, _pick(extra, names))
    return row


@dataclass(frozen=True)
class _Record:
    """One loaded row: its clip id, score, std and count, and its kept columns by name."""

    clip: str
    score: float
    std: float | None
    n: int | None
    extra: Row


def _mos_row(spec: OriginalSpec, version: str, record: _Record) -> Row:
    row: Row = UNPROBED | {
        "src": src_name(record.clip, spec.clip_suffix),
        "mos": record.score,
        "mos_std_dev": 0.0 if record.std is None else record.std,
        "n_ratings": 0 if record.n is None else record.n,
        "corpus": spec.corpus,
        "corpus_version": version,
    }
    if spec.corpus == "chug":
        row |= _chug_row(record.clip, record.score, record.extra)
    return row


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


def _vmaf_tune_row(spec: OriginalSpec, version: str, record: _Record) -> Row:
    del version  # vmaf-tune rows carry no corpus version
    clip, score, extra = record.clip, record.score, record.extra
    features = {
        f"{name}_{stat}": _number(extra.get(f"{name}_{stat}"), math.nan)
        for name in CANONICAL6
        for stat in ("mean", "std")
    }
    return (
        _VMAF_TUNE_FIXED
        | {
            "src": f"{spec.corpus}:{clip}",
            "src_sha256": hashlib.sha256(clip.encode("utf-8")).hexdigest(),
            "width": int(_number(extra.get("width"), 0)),
            "height": int(_number(extra.get("height"), 0)),
            "framerate": _number(extra.get("framerate"), 0.0),
            "duration_s": _number(extra.get("duration_s"), 0.0),
            "vmaf_score": score,
        }
        | features
    )


_BUILDERS: dict[str, Callable[[OriginalSpec, str, _Record], Row]] = {
    "mos-corpus": _mos_row,
    "vmaf-tune": _vmaf_tune_row,
}


def write_original(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    *,
    preset: PresetName,
    output: Path,
    corpus_version: str | None,
) -> tuple[int, tuple[str, ...]]:
    """Write ``so_src`` to ``output`` in the original layout; the row count and the fields."""
    spec = ORIGINAL[preset]
    version = spec.corpus_version if corpus_version is None else corpus_version
    build = _BUILDERS[spec.shape]
    names = [name for name, _ in source.others]
    select = ["__id", "__score", "__std", "__n", *(quote_ident(a) for _, a in source.others)]
    lines: list[str] = []
    fields: tuple[str, ...] = ()
    for clip, score, std, n, *rest in con.execute(
        f"SELECT {', '.join(select)} FROM so_src ORDER BY __i"
    ).fetchall():
        extra = dict(zip(names, rest, strict=True))
        row = build(spec, version, _Record(str(clip), float(score), std, n, extra))
        fields = fields or tuple(sorted(row))
        lines.append(json.dumps(row, sort_keys=True) + "\n")
    folder = output.parent if str(output.parent) else Path()
    if not folder.is_dir():
        msg = f"{output}: the folder {folder} does not exist; create it first"
        raise UsageError(msg)
    try:
        write_text_atomic(output, "".join(lines))
    except OSError as exc:
        msg = f"{output}: cannot write ({exc.strerror or exc})"
        raise InputError(msg) from None
    return len(lines), fields
