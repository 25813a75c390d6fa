"""The modes second-opinion accepts, as ``Literal`` types in one place."""

from __future__ import annotations

from typing import Literal, get_args

TableFormat = Literal["jsonl", "csv", "tsv", "parquet"]
KeyNormalization = Literal["strip", "basename", "stem", "lower"]
PoolStat = Literal["mean", "median", "min", "max", "std", "p5", "p95", "harmonic_mean"]
OnMissing = Literal["null", "drop", "error"]
OnDuplicate = Literal["error", "first", "last", "mean"]

KEY_NORMALIZATIONS: tuple[KeyNormalization, ...] = get_args(KeyNormalization)
POOL_STATS: tuple[PoolStat, ...] = get_args(PoolStat)
ON_MISSING: tuple[OnMissing, ...] = get_args(OnMissing)
ON_DUPLICATE: tuple[OnDuplicate, ...] = get_args(OnDuplicate)
Regressor = Literal["svr", "ridge"]
SearchMode = Literal["random", "grid"]
MatrixFormat = Literal["mat4", "mat5", "mat73", "npy", "npz", "csv"]
PresetName = Literal[
    "konvid-1k",
    "konvid-150k",
    "live-vqc",
    "youtube-ugc",
    "lsvq",
    "live-vqa",
    "netflix-public",
    "chug",
    "waterloo-ivc-4k",
    "bvi-dvc",
    "generic",
]
IngestLayout = Literal["canonical", "original"]
ScoreKind = Literal["mos", "dmos"]
Executor = Literal["local", "ray"]
EXECUTORS: tuple[Executor, ...] = get_args(Executor)
