"""The modes second-opinion accepts, as ``Literal`` types in one place."""

from __future__ import annotations

from typing import Literal, get_args

TableFormat = Literal["jsonl", "csv", "tsv", "parquet", "json", "arrow"]
"""A table's format: a file's, or ``arrow`` for an in-memory table (tables.memory)."""
KeyNormalization = Literal["nfc", "strip", "auto", "basename", "stem", "lower", "number"]
PoolStat = Literal["mean", "median", "min", "max", "std", "p5", "p95", "harmonic_mean"]
OnMissing = Literal["null", "drop", "error", "mark"]
Records = Literal["table", "wrapper"]
OnDuplicate = Literal["error", "first", "last", "mean"]

KEY_STEPS: tuple[KeyNormalization, ...] = get_args(KeyNormalization)
"""Every key normalisation step, in the order steps run."""
KEY_NORMALIZATIONS: tuple[KeyNormalization, ...] = tuple(s for s in KEY_STEPS if s != "auto")
"""The steps that act the same whatever the key column is called (all but ``auto``)."""
POOL_STATS: tuple[PoolStat, ...] = get_args(PoolStat)
ON_MISSING: tuple[OnMissing, ...] = get_args(OnMissing)
ON_DUPLICATE: tuple[OnDuplicate, ...] = get_args(OnDuplicate)
Regressor = Literal["svr", "ridge"]
SearchMode = Literal["random", "random-exact", "grid"]
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
