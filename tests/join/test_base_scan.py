"""A Parquet base is re-read by the final query (only its keys are loaded): same table as a
loaded copy gives, in file order, whatever its column names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from second_opinion import JoinSpec, SidecarSpec, join, join_to_file
from tests._tables import read_rows, write_table

BASE = [
    {"clip_id": f"c{i:03d}", "mos": i / 7, "n": i, "tag": "t" if i % 3 else None}
    for i in range(300, 0, -1)
]
SIDE = [{"clip_id": f"c{i:03d}", "x": i * 0.25} for i in range(0, 400, 2)]


@pytest.mark.parametrize("extra", [None, "file_row_number", "__so_file_row"])
def test_a_parquet_base_joins_as_its_jsonl_twin_does(tmp_path: Path, extra: str | None) -> None:
    rows: list[dict[str, Any]] = [{**r, extra: j} if extra else dict(r) for j, r in enumerate(BASE)]
    side = write_table(tmp_path / "side.parquet", SIDE)
    tables = {}
    for fmt in ("parquet", "jsonl"):
        base = write_table(tmp_path / f"base.{fmt}", rows)
        spec = JoinSpec(
            features=base, key=("clip_id",), sidecars=(SidecarSpec(scorer="s", path=side),)
        )
        out = tmp_path / f"out-{fmt}.jsonl"
        join_to_file(spec, out)
        tables[fmt] = read_rows(out)
        assert join(spec).table.to_pylist() == tables[fmt]
    assert tables["parquet"] == tables["jsonl"]
    assert [r["clip_id"] for r in tables["parquet"]] == [r["clip_id"] for r in BASE]
    assert [r["so_s_x"] for r in tables["parquet"][:2]] == [75.0, None]
