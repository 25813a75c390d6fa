"""The same per-frame join gives byte-identical output whatever DuckDB's thread count and memory
limit (issue 15, "Reproducible outputs"; ADR 0019): pooled sums add in one fixed order."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from second_opinion import Engine, JoinSpec, SidecarSpec, join_to_file
from second_opinion.join import session
from second_opinion.tables import formats

CLIPS = 500
FRAMES = 600  # 300,000 frame rows: several of DuckDB's row groups, so threads share each clip


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("reproducible")
    rng = np.random.default_rng(15)
    keys = [f"clip{i:04d}" for i in range(CLIPS)]
    base = folder / "base.parquet"
    pq.write_table(pa.table({"key": keys, "mos": rng.uniform(1, 5, CLIPS)}), base)
    order = rng.permutation(CLIPS * FRAMES)  # frames of a clip scattered across the file
    clip = np.repeat(np.arange(CLIPS), FRAMES)[order]
    frames = folder / "frames.parquet"
    values = rng.lognormal(3.0, 1.5, CLIPS * FRAMES)[order]
    pq.write_table(
        pa.table(
            {
                "key": np.asarray(keys, dtype=object)[clip].tolist(),
                "frame": np.tile(np.arange(FRAMES), CLIPS)[order],
                "score": values,
            }
        ),
        frames,
        row_group_size=20_000,
    )
    duplicates = folder / "duplicates.parquet"
    pq.write_table(
        pa.table({"key": np.asarray(keys, dtype=object)[clip].tolist(), "score": values}),
        duplicates,
        row_group_size=20_000,
    )
    return base, frames, duplicates


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Set DuckDB's thread count of every join session to ``threads[0]``."""
    chosen = [1]
    original = formats.connect

    def connect(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        con = original(*args, **kwargs)
        con.execute(f"SET threads = {chosen[0]}")
        return con

    monkeypatch.setattr(session, "connect", connect)
    return chosen


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["per-frame", "duplicates"])
def test_pooled_output_is_byte_identical_across_threads_and_limits(
    tables: tuple[Path, Path, Path], threads: list[int], tmp_path: Path, kind: str
) -> None:
    base, frames, duplicates = tables
    if kind == "per-frame":
        sidecar = SidecarSpec(
            scorer="s", path=frames, frame_column="frame", pool=("mean", "std", "harmonic_mean")
        )
    else:
        sidecar = SidecarSpec(scorer="s", path=duplicates, on_duplicate="mean")
    digests = set()
    for count in (1, 2, 4):
        threads[0] = count
        for limit in (None, "200MB"):
            for run in range(10 if count == 4 else 2):
                out = tmp_path / f"out-{count}-{limit}-{run}.csv"
                spec = JoinSpec(features=base, key=("key",), sidecars=(sidecar,))
                join_to_file(spec, out, engine=Engine(memory_limit=limit))
                digests.add(_digest(out))
    assert len(digests) == 1, f"{len(digests)} different outputs over thread counts and limits"
