"""The layout of the synthetic benchmark corpora, shared by generate.py and run_join.py.

A corpus directory (``<out>/scale-<scale>/``) holds one base table and, per workload, three
sidecars, each in every generated format:

- ``base.<fmt>``: ``clip_id`` (text), ``mos`` (double), ``f01`` … ``f60`` (float).
- W1, per clip: ``w1_<scorer>.<fmt>`` with ``clip_id``, ``x``, ``y`` (double).
- W2, per frame: ``w2_<scorer>.<fmt>`` with ``clip_id``, ``frame``, ``x``, ``y`` (double),
  pooled with :data:`POOL`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
DEFAULT_DATA = BENCHMARKS / "data"

SEED = 20_240_601
BASE_CLIPS = 150_000  # at scale 1
FEATURES = 60
FRAMES = 150  # per clip, in W2
MISSING_PER_MILLE = 20  # ~2 % of base keys are missing from each sidecar
EXTRA_FRACTION = 0.005  # ~0.5 % of sidecar keys are not in the base
SCORERS = ("a", "b", "c")
SCORES = ("x", "y")
POOL = ("mean", "p5", "std")
KEY = "clip_id"
FRAME = "frame"

WORKLOADS = ("W1", "W2")
FORMATS = ("parquet", "jsonl")


def scale_name(scale: float) -> str:
    """``1`` for 1.0, ``0.1`` for 0.1: the scale as it appears in directory names."""
    return f"{scale:g}"


def base_clips(scale: float) -> int:
    """The number of base clips at ``scale``."""
    return max(1, round(BASE_CLIPS * scale))


@dataclass(frozen=True)
class Corpus:
    """The files of one corpus directory."""

    root: Path

    @classmethod
    def at(cls, data: Path, scale: float) -> Corpus:
        """The corpus of ``scale`` under the data directory ``data``."""
        return cls(data / f"scale-{scale_name(scale)}")

    def base(self, fmt: str) -> Path:
        """The base table in format ``fmt``."""
        return self.root / f"base.{fmt}"

    def sidecar(self, workload: str, scorer: str, fmt: str) -> Path:
        """The sidecar of ``scorer`` for ``workload`` in format ``fmt``."""
        return self.root / f"{workload.lower()}_{scorer}.{fmt}"

    def sidecars(self, workload: str, fmt: str) -> dict[str, Path]:
        """Scorer -> sidecar path, for every scorer of ``workload``."""
        return {s: self.sidecar(workload, s, fmt) for s in SCORERS}

    def inputs(self, workload: str, fmt: str) -> list[Path]:
        """Every input file of one workload in one format."""
        return [self.base(fmt), *self.sidecars(workload, fmt).values()]


def check_workloads(names: list[str]) -> list[str]:
    """Validate a ``--workloads`` list."""
    for name in names:
        if name not in WORKLOADS:
            msg = f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}"
            raise SystemExit(msg)
    return names


def check_formats(names: list[str]) -> list[str]:
    """Validate a ``--formats`` list."""
    for name in names:
        if name not in FORMATS:
            msg = f"unknown format {name!r}; choose from {', '.join(FORMATS)}"
            raise SystemExit(msg)
    return names


def split_list(text: str) -> list[str]:
    """``"a, b"`` -> ``["a", "b"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]
