"""Pooling in passes under a memory limit (second_opinion.join.passes): the same numbers, in P
scans."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from second_opinion.join import load as join_load
from second_opinion.join import passes
from second_opinion.join.run import join_to_file
from second_opinion.join.spec import build_join_spec
from second_opinion.tables.formats import Engine, connect
from second_opinion.tables.reading import open_table
from tests._tables import write_table


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("4GB", 3_972_844_748), ("512MB", 511_914_803), ("1GiB", 2**30), ("100KB", 99_942)],
)
def test_the_limit_is_read_back_from_duckdb_in_bytes(limit: str, expected: int) -> None:
    # DuckDB reports '3.7 GiB' for 4GB: a rounded binary size, read back to the byte it shows.
    con = connect(Engine(memory_limit=limit))
    assert passes.limit_bytes(con) == expected


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl", "t.tsv.gz", "t.jsonl.gz"])
def test_rows_are_exact_for_parquet_and_estimated_from_the_start_of_text(
    tmp_path: Path, name: str
) -> None:
    rng = random.Random(0)
    rows = [
        {"clip_id": f"c{i}", "frame": f, "s": rng.random()} for i in range(4000) for f in range(10)
    ]
    con = duckdb.connect()
    parquet = open_table(con, write_table(tmp_path / "t.parquet", rows))
    text = open_table(con, write_table(tmp_path / name, rows))
    assert passes.estimated_rows(con, parquet) == 40_000
    assert 40_000 <= passes.estimated_rows(con, text) <= 48_000


def test_one_pass_without_a_limit_or_without_quantiles(tmp_path: Path) -> None:
    rows = [{"clip_id": "a", "frame": 0, "s": 0.5}]
    con = connect(Engine(memory_limit="16MB"))
    table = open_table(con, write_table(tmp_path / "t.parquet", rows))
    assert passes.pooling_passes(con, table, 0, limited=True) == 1
    assert passes.pooling_passes(con, table, 3, limited=False) == 1


def test_the_passes_grow_with_the_rows_and_the_quantiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"clip_id": f"c{i}", "frame": 0, "s": 0.5} for i in range(1000)]
    con = connect(Engine(memory_limit="1MB"))  # DuckDB reports 976.5 KiB
    table = open_table(con, write_table(tmp_path / "t.parquet", rows))
    monkeypatch.setattr(passes, "BYTES_PER_VALUE", 1000)
    limit = passes.limit_bytes(con) or 0
    one = passes.pooling_passes(con, table, 1, limited=True)
    assert one == -(-1000 * 1000 // int(limit * passes.MEMORY_SHARE))
    assert passes.pooling_passes(con, table, 3, limited=True) >= 3 * one - 2


def _frames(folder: Path, seed: int) -> tuple[Path, Path]:
    rng = random.Random(seed)
    clips = [f"clip{i:03d}" for i in range(40)]
    base = write_table(folder / "base.csv", [{"clip_id": c, "mos": rng.random()} for c in clips])
    frames = [
        {"clip_id": c, "frame": f, "x": rng.random(), "y": rng.choice([None, rng.random()])}
        for c in clips[:-3]  # three clips without frames
        for f in range(rng.randint(1, 30))
    ]
    rng.shuffle(frames)
    return base, write_table(folder / "frames.parquet", frames)


@pytest.mark.parametrize("seed", [0, 1])
def test_pooling_in_passes_gives_the_bytes_of_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    base, frames = _frames(tmp_path, seed)
    spec = build_join_spec(
        features=base,
        key=["clip_id"],
        sidecars=[
            {
                "scorer": "s",
                "path": frames,
                "frame_column": "frame",
                "pool": ["mean", "median", "p5", "p95", "std", "min", "max"],
            }
        ],
    )
    one = join_to_file(spec, tmp_path / "one.parquet")
    seen: list[int] = []
    real = passes.pooling_passes

    def many(*args: object, **kwargs: bool) -> int:
        count = real(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(count)
        return count

    monkeypatch.setattr(passes, "BYTES_PER_VALUE", 10**6)  # 40 clips' frames need 7 passes+
    monkeypatch.setattr(join_load, "pooling_passes", many)
    limited = join_to_file(spec, tmp_path / "many.parquet", engine=Engine(memory_limit="1GB"))

    assert seen
    assert seen[0] > 5
    assert pq.read_table(tmp_path / "many.parquet") == pq.read_table(tmp_path / "one.parquet")
    assert limited.coverage == one.coverage
