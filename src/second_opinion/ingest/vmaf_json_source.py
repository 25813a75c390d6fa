"""Reading a folder of libvmaf JSON files (preset ``bvi-dvc``) as the ingest's source.

The original project scores each BVI-DVC clip's encode with libvmaf and caches the JSON log, one
file per clip named by its key (``DBookcaseBVITexture_480x272_120fps_10bit_420.json``). Each
file is one row: the clip id is the file's stem, the score its pooled VMAF mean
(``pooled_metrics.vmaf.mean``, else the last frame's ``metrics.vmaf``, as the original reads it).
Kept columns: ``width``, ``height`` and ``framerate`` read from the key
(``<name>_<W>x<H>_<F>fps_…``; 0 when the key does not say), ``frames``, ``duration_s``
(frames ÷ frame rate) and the mean and standard deviation of the six pooled libvmaf features
(null when the log lacks one). Files are read in name order.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb

from second_opinion.errors import InputError
from second_opinion.ingest.errors import DatasetFormatError, MissingMosError
from second_opinion.ingest.options import IngestOptions
from second_opinion.ingest.original import CANONICAL6
from second_opinion.ingest.report import EXAMPLES, DroppedRow
from second_opinion.ingest.source import Source
from second_opinion.tables.memory import file_of

_SCORE_FIELDS = "'pooled_metrics.vmaf.mean' or the last frame's 'metrics.vmaf'"


def _read_log(path: Path) -> dict[str, object]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        msg = f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise InputError(msg) from None
    except json.JSONDecodeError as exc:
        msg = (
            f"{path} line {exc.lineno}: invalid JSON ({exc.msg}, column {exc.colno}); "
            "each file must be a libvmaf JSON log (vmaf --json)"
        )
        raise InputError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror or exc})"
        raise InputError(msg) from None
    if not isinstance(payload, dict):
        msg = f"{path}: a libvmaf JSON log is an object, this file holds {type(payload).__name__}"
        raise DatasetFormatError(msg)
    return payload


def _get(value: object, *keys: str | int) -> object:
    for key in keys:
        if isinstance(key, int) and isinstance(value, list) and value:
            value = value[key]
        elif isinstance(key, str) and isinstance(value, dict):
            value = value.get(key)
        else:
            return None
    return value


def _score(path: Path, log: dict[str, object]) -> tuple[float | None, str]:
    """The pooled VMAF mean of ``log`` (or its last frame's), or why there is none."""
    pooled = _get(log, "pooled_metrics", "vmaf", "mean")
    field, raw = "pooled_metrics.vmaf.mean", pooled
    if pooled is None:
        field, raw = "frames[-1].metrics.vmaf", _get(log, "frames", -1, "metrics", "vmaf")
        if raw is None:
            msg = (
                f"{path}: no VMAF score: neither {_SCORE_FIELDS} is present; the file must be "
                "a libvmaf JSON log of the encode"
            )
            raise DatasetFormatError(msg)
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw), field
    return None, f"{field!r} has {raw!r}, which is not a finite number"


def _geometry(key: str, frames: int) -> list[object]:
    """``width``, ``height``, ``framerate``, ``frames``, ``duration_s`` from the clip key."""
    parts = key.split("_")
    width = height = 0
    rate = 0.0
    if len(parts) >= 3 and "x" in parts[1]:
        size = parts[1].split("x")
        if len(size) == 2 and size[0].isdigit() and size[1].isdigit():
            width, height = int(size[0]), int(size[1])
        if parts[2].endswith("fps"):
            try:
                rate = float(parts[2].removesuffix("fps"))
            except ValueError:
                rate = 0.0
    return [width, height, rate, frames, frames / rate if rate > 0 else 0.0]


def _feature(log: dict[str, object], name: str, stat: str) -> float | None:
    """A pooled feature's ``mean`` or ``std`` (libvmaf's ``stddev``), or ``None``."""
    value = _get(log, "pooled_metrics", name, "stddev" if stat == "std" else stat)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def load_vmaf_logs(con: duckdb.DuckDBPyConnection, options: IngestOptions) -> Source:
    """Load one row per libvmaf JSON file of the folder ``options.metadata`` into ``so_src``."""
    import pyarrow as pa  # noqa: PLC0415 - only this source and VMAF dataset files need Arrow

    folder = file_of(options.metadata)  # the options refuse an in-memory table here
    if not folder.is_dir():
        what = "is a file" if folder.is_file() else "does not exist"
        msg = (
            f"{folder}: {what}; preset 'bvi-dvc' reads a folder of libvmaf JSON logs, one "
            "per clip (the original's --cache-dir)"
        )
        raise InputError(msg)
    files = sorted(folder.glob("*.json"))
    if not files:
        msg = f"{folder}: no .json files; name the folder that holds the libvmaf JSON logs"
        raise InputError(msg)
    columns = ["width", "height", "framerate", "frames", "duration_s"]
    columns += [f"{name}_{stat}" for name in CANONICAL6 for stat in ("mean", "std")]
    values: list[list[object]] = [[] for _ in columns]
    ids, scores, kept, dropped = [], [], [], []
    for index, path in enumerate(files):
        log = _read_log(path)
        score, problem = _score(path, log)
        if score is None:
            dropped.append(DroppedRow(f"file {path.name}", problem))
            continue
        frames = _get(log, "frames")
        row = _geometry(path.stem, len(frames) if isinstance(frames, list) else 0)
        row += [_feature(log, name, stat) for name in CANONICAL6 for stat in ("mean", "std")]
        for column, value in zip(values, row, strict=True):
            column.append(value)
        ids.append(path.stem)
        scores.append(score)
        kept.append(index)
    if dropped and (not options.drop_missing_mos or not kept):
        first = dropped[0]
        fix = (
            "fix or remove the file, or pass --drop-missing-mos to drop it"
            if kept
            else "no file has a usable score; nothing to write"
        )
        msg = (
            f"{folder} {first.where}: {first.reason}; {fix} "
            f"({len(dropped)} of {len(files)} files lack one)"
        )
        raise MissingMosError(msg)
    source = Source(
        path=folder,
        id_column="file name",
        mos_column="vmaf",
        kind="mos",
        scale=options.mos_scale or (0.0, 100.0),
        locate=lambda i: f"file {files[i].name}",
        dropped=len(dropped),
        dropped_rows=tuple(dropped[:EXAMPLES]),
    )
    arrays = {
        "__i": pa.array(kept, pa.int64()),
        "__id": pa.array(ids, pa.string()),
        "__score": pa.array(scores, pa.float64()),
        "__std": pa.array([None] * len(kept), pa.float64()),
        "__n": pa.array([None] * len(kept), pa.int64()),
    }
    for index, (name, column) in enumerate(zip(columns, values, strict=True)):
        integral = name in ("width", "height", "frames")
        arrays[f"v{index}"] = pa.array(column, pa.int64() if integral else pa.float64())
        source.others.append((name, f"v{index}"))
    con.register("so_arrow", pa.table(arrays))
    con.execute("CREATE TEMP TABLE so_src AS SELECT * FROM so_arrow ORDER BY __i")
    con.unregister("so_arrow")
    return source
