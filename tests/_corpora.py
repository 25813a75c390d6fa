"""Small metadata tables in the shape each corpus publishes, generated with fixed seeds.

No real data: ids, scores and attributes are random, only the column names and value ranges
follow the published files (docs/corpora.md). :func:`canonical` is the plain-Python reference of
the canonical table the ingest must write for such a table.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Shape:
    """How a preset's fixture looks: its columns and how to read the canonical table from it."""

    preset: str
    id_column: str
    mos_column: str
    scale: tuple[float, float]
    make: Callable[[random.Random, int], Row]
    std_column: str | None = None
    dmos: bool = False
    n_column: str | None = None


def _konvid_1k(rng: random.Random, i: int) -> Row:
    return {
        "flickr_id": rng.randrange(10**9, 10**10),
        "mos": round(rng.uniform(1.2, 4.7), 10),
        "width": 960,
        "height": 540,
        "pixfmt": "yuv420p",
        "framerate": rng.choice([29.97002997003, 23.976, 25.0]),
        "nb_frames": rng.choice([192, 240]),
        "bitdepth": 8,
        "bitrate": rng.randrange(300_000, 3_000_000),
    }


def _konvid_150k_a(rng: random.Random, i: int) -> Row:
    return {"video_name": f"{rng.randrange(10**9, 10**10)}.mp4", "video_score": rng.uniform(1, 5)}


def _konvid_150k_b(rng: random.Random, i: int) -> Row:
    return {
        "video_name": f"{rng.randrange(10**9, 10**10)}.mp4",
        "mos": rng.uniform(1, 5),
        "video_score": rng.uniform(1, 5),
    }


def _live_vqc(rng: random.Random, i: int) -> Row:
    return {
        "File": f"{chr(65 + i % 26)}{i:03d}.mp4",
        "MOS": rng.uniform(6, 94),
        "width": rng.choice([1920, 1280, 404]),
        "height": rng.choice([1080, 720, 720]),
        "framerate": rng.choice([29.97, 30.0]),
    }


def _youtube_ugc(rng: random.Random, i: int) -> Row:
    category = rng.choice(["Animation", "Gaming", "Sports", "Vlog"])
    resolution = rng.choice(["360P", "480P", "720P", "1080P"])
    return {
        "vid": f"{category}_{resolution}-{rng.getrandbits(16):04x}",
        "category": category,
        "resolution": resolution,
        "MOSFull": rng.uniform(1.2, 4.8),
    }


def _lsvq(rng: random.Random, i: int) -> Row:
    return {
        "name": f"yfcc-batch{rng.randrange(1, 20)}/{rng.randrange(1, 20000)}",
        "height": rng.choice([720, 540, 360]),
        "width": rng.choice([1280, 960, 640]),
        "mos": rng.uniform(20, 92),
        "frame_number": rng.randrange(150, 300),
        "is_test": rng.choice([True, False]),
    }


def _live_vqa(rng: random.Random, i: int) -> Row:
    return {
        "filename": f"{rng.choice(['pa', 'rb', 'rh', 'tr', 'st'])}{i + 2}_25fps.yuv",
        "dmos": rng.uniform(30, 80),
        "dmos_std": rng.uniform(5, 15),
    }


def _chug(rng: random.Random, i: int) -> Row:
    ladder = rng.choice(["360p_0.2M_", "720p_2M_", "1080p_ref_"])
    content = f"Files_Nov{rng.randrange(1, 30)}_IMG_{rng.randrange(1000, 9999)}_0_10.mp4"
    return {
        "Video": hashlib.md5(f"{i}{content}".encode(), usedforsecurity=False).hexdigest(),
        "mos_j": rng.uniform(14, 80),
        "sos_j": rng.uniform(1.8, 4.0),
        "ref": int(ladder.endswith("ref_")),
        "name": f"{ladder}#{content}",
        "bitladder": ladder,
        "resolution": ladder.split("_")[0],
        "bitrate": ladder.split("_")[1],
        "orientation": rng.choice(["Landscape", "Portrait"]),
        "framerate": rng.choice([29.97, 30.0, 59.94]),
        "content_name": content,
        "height": 1080,
        "width": 1920,
    }


def _waterloo_ivc_4k(rng: random.Random, i: int) -> Row:
    encoder = rng.choice(["AV1", "HEVC", "H264", "VP9"])
    return {
        "name": f"{encoder}_{i + 1}_{rng.choice([540, 1080, 2160])}_{rng.randrange(1, 6)}",
        "mos": rng.uniform(5, 95),
        "sd": rng.uniform(5, 20),
        "n": rng.randrange(20, 40),
    }


def _generic(rng: random.Random, i: int) -> Row:
    return {"video": f"clip_{i:04d}", "fps": 30, "score": rng.uniform(0, 10)}


SHAPES: dict[str, Shape] = {
    "konvid-1k": Shape("konvid-1k", "flickr_id", "mos", (1.0, 5.0), _konvid_1k),
    "konvid-150k": Shape("konvid-150k", "video_name", "video_score", (1.0, 5.0), _konvid_150k_a),
    "konvid-150k-b": Shape("konvid-150k", "video_name", "mos", (1.0, 5.0), _konvid_150k_b),
    "live-vqc": Shape("live-vqc", "File", "MOS", (0.0, 100.0), _live_vqc),
    "youtube-ugc": Shape("youtube-ugc", "vid", "MOSFull", (1.0, 5.0), _youtube_ugc),
    "lsvq": Shape("lsvq", "name", "mos", (0.0, 100.0), _lsvq),
    "live-vqa": Shape(
        "live-vqa", "filename", "dmos", (0.0, 100.0), _live_vqa, std_column="dmos_std", dmos=True
    ),
    "chug": Shape("chug", "Video", "mos_j", (0.0, 100.0), _chug, std_column="sos_j"),
    "waterloo-ivc-4k": Shape(
        "waterloo-ivc-4k",
        "name",
        "mos",
        (0.0, 100.0),
        _waterloo_ivc_4k,
        std_column="sd",
        n_column="n",
    ),
    "generic": Shape("generic", "video", "score", (0.0, 10.0), _generic),
}


def fixture_rows(shape: Shape, n: int = 12, seed: int = 5) -> list[Row]:
    """``n`` rows in the shape of ``shape``'s corpus; unique ids; the same for the same seed."""
    rng = random.Random(f"{shape.preset}-{seed}")
    rows: list[Row] = []
    seen: set[str] = set()
    while len(rows) < n:
        row = shape.make(rng, len(rows))
        if str(row[shape.id_column]) not in seen:
            seen.add(str(row[shape.id_column]))
            rows.append(row)
    return rows


def canonical(
    rows: Sequence[Row],
    *,
    preset: str,
    id_column: str,
    mos_column: str,
    scale: tuple[float, float],
    std_column: str | None = None,
    n_column: str | None = None,
    dmos: bool = False,
) -> list[Row]:
    """The canonical table for ``rows``, computed in plain Python (the reference)."""
    low, high = scale
    consumed = {id_column, std_column, n_column} | (set() if dmos else {mos_column})
    out = []
    for row in rows:
        score = float(row[mos_column])
        mos = (low + high) - score if dmos else score
        record: Row = {"clip_id": str(row[id_column]), "mos": mos}
        if std_column is not None:
            record["mos_std"] = float(row[std_column])
        if n_column is not None:
            record["n_ratings"] = int(row[n_column])
        record |= {
            "corpus": preset,
            "mos_min": low,
            "mos_max": high,
            "mos_01": (mos - low) / (high - low),
        }
        for column, value in row.items():
            if column not in consumed:
                record[column] = float(value) if column == mos_column else value
        out.append(record)
    return out


def expected_for(shape: Shape, rows: Sequence[Row]) -> list[Row]:
    """:func:`canonical` with the columns of ``shape``."""
    return canonical(
        rows,
        preset=shape.preset,
        id_column=shape.id_column,
        mos_column=shape.mos_column,
        scale=shape.scale,
        std_column=shape.std_column,
        n_column=shape.n_column,
        dmos=shape.dmos,
    )


def netflix_dataset(
    n_contents: int = 3, per_content: int = 3, seed: int = 7, *, dmos: bool = False
) -> tuple[str, list[Row]]:
    """A VMAF dataset file in the shape of NFLX_dataset_public_raw.py, and its entries.

    Paths are written ``ref_dir + '/….yuv'`` as in the real file; each entry's raw opinion scores
    ``os`` are ACR ratings 1–5 (one entry as a ``{subject: rating}`` dict with a None), or, with
    ``dmos``, a DMOS anchored at 100 for the reference.
    """
    rng = random.Random(seed)
    lines = [
        '"""A generated dataset in the VMAF format."""',
        "dataset_name = 'NFLX_test'",
        "yuv_fmt = 'yuv420p'",
        "width = 1920",
        "height = 1080",
        "",
        "ref_dir = '/data/ref'",
        "dis_dir = '/data/dis'",
        "",
        "ref_videos = [",
    ]
    names = [f"Content{c}_{rng.choice([24, 25, 30])}fps" for c in range(n_contents)]
    for c, name in enumerate(names):
        lines += [
            f" {{'content_id': {c},",
            f"  'content_name': '{name.split('_')[0]}',",
            f"  'path': ref_dir + '/{name}.yuv'}},",
        ]
    lines += ["]", "", "dis_videos = ["]
    entries: list[Row] = []
    asset = 0
    for c, name in enumerate(names):
        for k in range(per_content):
            height = rng.choice([288, 480, 1080])
            stem = f"{name.split('_')[0]}_{10 * (k + 1)}_{height}_{375 * (k + 1)}"
            entry: Row = {"asset_id": asset, "content_id": c, "path": f"/data/dis/{stem}.yuv"}
            lines += [f" {{'asset_id': {asset},", f"  'content_id': {c},"]
            if dmos:
                entry["dmos"] = round(rng.uniform(15, 100), 6)
                lines.append(f"  'dmos': {entry['dmos']!r},")
            elif asset == 1:
                ratings = {f"s{j}": float(rng.randint(1, 5)) for j in range(5)}
                ratings["s5"] = None  # type: ignore[assignment]
                entry["os"] = ratings
                lines.append(f"  'os': {ratings!r},")
            else:
                entry["os"] = [float(rng.randint(1, 5)) for _ in range(rng.randint(4, 8))]
                lines.append("  'os': [")
                lines += [f"         {r!r}," for r in entry["os"]]
                lines.append("  ],")
            lines.append(f"  'path': dis_dir + '/{stem}.yuv'}},")
            entries.append(entry)
            asset += 1
    lines += ["]", ""]
    return "\n".join(lines), entries


BVI_DVC_FEATURES = ("adm2", "vif_scale0", "vif_scale1", "vif_scale2", "vif_scale3", "motion2")


def bvi_dvc_logs(n: int = 4, seed: int = 3) -> dict[str, dict[str, Any]]:
    """libvmaf JSON logs in the shape of the original's BVI-DVC cache, by file name.

    Keys follow BVI-DVC's ``<name>_<W>x<H>_<F>fps_10bit_420``; each log has ``frames`` with a
    per-frame ``vmaf`` and ``pooled_metrics`` with the VMAF and the six features.
    """
    rng = random.Random(seed)
    logs: dict[str, dict[str, Any]] = {}
    sizes = [
        ("A", 3840, 2160, 60),
        ("B", 1920, 1080, 50),
        ("C", 960, 544, 30),
        ("D", 480, 272, 120),
    ]
    for i in range(n):
        cls, width, height, fps = sizes[i % len(sizes)]
        key = f"{cls}Clip{i:02d}BVITexture_{width}x{height}_{fps}fps_10bit_420"
        frames = [{"frameNum": f, "metrics": {"vmaf": rng.uniform(30, 99)}} for f in range(8)]
        pooled: dict[str, Any] = {"vmaf": {"mean": rng.uniform(30, 99), "min": 10.0, "max": 100.0}}
        for name in BVI_DVC_FEATURES:
            pooled[name] = {"mean": rng.uniform(0, 1), "stddev": rng.uniform(0, 0.1)}
        logs[f"{key}.json"] = {"version": "3.0.0", "frames": frames, "pooled_metrics": pooled}
    return logs
