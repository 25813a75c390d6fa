"""Ingest from an in-memory table: the canonical table the same metadata as a file gives."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from second_opinion import InputError, UsageError, ingest
from second_opinion.tables.memory import content_sha256
from tests._corpora import SHAPES, fixture_rows
from tests._tables import write_table
from tests.tables.test_memory import CapsuleOnly


@pytest.mark.parametrize("shape_name", ["konvid-1k", "live-vqc", "youtube-ugc"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_in_memory_metadata_table_ingests_as_the_file(
    tmp_path: Path, shape_name: str, suffix: str
) -> None:
    shape = SHAPES[shape_name]
    source = write_table(tmp_path / "meta.parquet", fixture_rows(shape))
    table = pq.read_table(source)
    from_file = ingest(shape.preset, source, tmp_path / f"file{suffix}")
    in_memory = ingest(shape.preset, CapsuleOnly(table), tmp_path / f"memory{suffix}")
    assert (tmp_path / f"memory{suffix}").read_bytes() == (tmp_path / f"file{suffix}").read_bytes()
    assert in_memory.rows == from_file.rows
    assert in_memory.to_dict()["metadata"] == {
        "source": "memory",
        "kind": "tests.CapsuleOnly",
        "rows": table.num_rows,
        "sha256": content_sha256(table),
    }


def test_a_preset_that_reads_files_refuses_an_in_memory_table(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        ingest("netflix-public", pa.table({"x": [1]}), tmp_path / "out.csv")
    assert caught.value.message == (
        "preset 'netflix-public' reads a VMAF dataset file, not a table: give metadata as its "
        "path (an in-memory table is read by the table presets)"
    )
    assert list(tmp_path.iterdir()) == []


def test_metadata_that_is_neither_path_nor_table_names_the_keyword(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^metadata: expected a path, or an in-memory table"):
        ingest("konvid-1k", 42, tmp_path / "out.csv")  # type: ignore[arg-type]


def test_messages_name_the_in_memory_metadata(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^metadata=<in-memory pyarrow\.Table>: id column"):
        ingest("konvid-1k", pa.table({"x": [1]}), tmp_path / "out.csv")
