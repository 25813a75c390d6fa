"""In-memory tables (second_opinion.tables.memory): what is accepted, read once, and hashed."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from second_opinion.errors import InternalError, SchemaError, UnreadableFileError
from second_opinion.tables.formats import connect
from second_opinion.tables.memory import (
    HASH_ROWS,
    MemoryTable,
    content_sha256,
    file_of,
    is_arrow_stream,
    kind_of,
    read_arrow,
    table_path,
)
from second_opinion.tables.reading import numeric_columns, open_table, scan_sql

ROWS: dict[str, list[Any]] = {
    "clip_id": ["a", "b", None, "d", "e", "f", "g"],
    "score": [1.5, None, 3.0, 4.25, None, 6.0, 7.0],
    "n": [1, 2, 3, None, 5, 6, 7],
    "ok": [True, None, False, True, True, False, True],
}


class CapsuleOnly:
    """A producer that speaks only the Arrow PyCapsule stream protocol (as polars, pandas >= 2.2
    and DuckDB do), none of pyarrow's own types: the protocol path, without pyarrow objects."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)


def _table() -> pa.Table:
    return pa.table(ROWS)


def test_paths_stay_paths_and_streams_are_read() -> None:
    assert table_path("a/b.csv", "features") == Path("a/b.csv")
    assert table_path(Path("b.csv"), "features") == Path("b.csv")
    table = _table()
    memory = table_path(table, "features")
    assert isinstance(memory, MemoryTable)
    assert memory.table is table  # a pyarrow Table is kept as it is: no copy
    assert memory.label == "features=<in-memory pyarrow.Table>"
    assert str(memory) == memory.label
    assert table_path(memory, "other") is memory  # validated again: the same object


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda t: t, "pyarrow.Table"),
        (lambda t: pa.RecordBatchReader.from_batches(t.schema, t.to_batches(3)), None),
        (CapsuleOnly, "tests.CapsuleOnly"),
        (lambda t: duckdb.connect().sql("SELECT * FROM t"), "duckdb.DuckDBPyRelation"),
    ],
    ids=["table", "reader", "capsule", "duckdb"],
)
def test_every_arrow_stream_reads_to_the_same_table(make: Any, kind: str | None) -> None:
    t = _table()  # noqa: F841 - the DuckDB relation reads it by name
    value = make(_table())
    assert is_arrow_stream(value)
    memory = read_arrow(value, "features")
    assert memory.table.equals(_table())
    assert memory.rows == 7
    assert memory.sha256 == content_sha256(_table())
    if kind is not None:
        assert memory.kind.endswith(kind)


def _large(table: pa.Table) -> pa.Table:
    """``table`` with its strings as ``large_string`` (how pandas and polars hand them over)."""
    return table.cast(
        pa.schema(
            (pa.field(f.name, pa.large_string()) if f.type == pa.string() else f)
            for f in table.schema
        )
    )


@pytest.mark.parametrize("library", ["polars", "pandas"])
def test_polars_and_pandas_frames_read_and_hash_as_their_values(library: str) -> None:
    module = pytest.importorskip(library)  # dev dependencies: installed wherever tests run
    table = _table().drop_columns(["n", "ok"])  # pandas makes nullable ints and bools floats
    frame = module.from_arrow(table) if library == "polars" else table.to_pandas()
    memory = read_arrow(frame, "features")
    assert memory.kind == f"{library}.DataFrame"
    assert memory.rows == 7
    assert memory.table.column("score").to_pylist() == ROWS["score"]
    assert memory.table.column("clip_id").to_pylist() == ROWS["clip_id"]
    # polars hands strings over as string_view, pandas as large_string: both hash as the
    # large_string table of the same values (a view's buffers are laid out as polars chose).
    assert memory.sha256 == content_sha256(_large(table))


def test_view_columns_hash_as_the_large_type_of_their_values() -> None:
    views = pa.table(
        {
            "s": pa.array(["a", None, "a much longer string than twelve bytes"], pa.string_view()),
            "b": pa.array([b"x", b"", None], pa.binary_view()),
        }
    )
    large = pa.table(
        {
            "s": pa.array(["a", None, "a much longer string than twelve bytes"], pa.large_string()),
            "b": pa.array([b"x", b"", None], pa.large_binary()),
        }
    )
    assert content_sha256(views) == content_sha256(large)
    assert content_sha256(views.slice(1)) == content_sha256(large.slice(1))
    assert content_sha256(views) != content_sha256(large.slice(1))


def test_a_record_batch_reader_is_read_once_and_a_second_read_is_refused() -> None:
    table = _table()
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    assert read_arrow(reader, "features").table.equals(table)
    with pytest.raises(ValueError, match="was read already") as caught:
        read_arrow(reader, "features")
    assert "pyarrow.RecordBatchReader" in str(caught.value)
    assert "reader.read_all()" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "got"), [(5, "not an int"), ([1, 2], "not a list"), ({"a": [1]}, "not a dict")]
)
def test_anything_else_is_refused_saying_what_is_accepted(value: object, got: str) -> None:
    with pytest.raises(ValueError, match=got) as caught:
        table_path(value, "features")
    message = str(caught.value)
    assert message.startswith("expected a path, or an in-memory table with the Arrow stream")
    assert "__arrow_c_stream__" in message
    assert "polars DataFrame" in message


def test_an_old_pandas_frame_gets_the_fix() -> None:
    old = type("DataFrame", (), {"__module__": "pandas.core.frame"})()
    assert kind_of(old) == "pandas.DataFrame"
    with pytest.raises(ValueError, match=r"pandas before 2\.2 has no Arrow stream") as caught:
        table_path(old, "features")
    assert "pyarrow.Table.from_pandas(df, preserve_index=False)" in str(caught.value)


def test_a_stream_that_cannot_be_read_is_a_value_error_naming_its_type() -> None:
    class Broken:
        def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
            return "not a capsule"

    with pytest.raises(ValueError, match=r"cannot read the Arrow stream of the .*Broken"):
        read_arrow(Broken(), "features")


def test_file_of_refuses_an_in_memory_table_as_a_bug() -> None:
    memory = read_arrow(_table(), "features")
    assert file_of(Path("x.csv")) == Path("x.csv")
    with pytest.raises(InternalError, match="reached a reader of files"):
        file_of(memory)


# --- the content hash ---------------------------------------------------------------------------


def test_the_hash_does_not_depend_on_chunks_slices_or_metadata() -> None:
    table = _table()
    digest = content_sha256(table)
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=2))
    assert rechunked.column("score").num_chunks == 4
    padded = pa.table({k: [v[0], *v] for k, v in ROWS.items()}).slice(1)  # offset 1
    concatenated = pa.concat_tables([table.slice(0, 3), table.slice(3, 1), table.slice(4)])
    with_metadata = table.replace_schema_metadata({"pandas": '{"index_columns": []}'})
    field_metadata = table.cast(pa.schema([f.with_metadata({"polars": "x"}) for f in table.schema]))
    for same in (rechunked, padded, concatenated, with_metadata, field_metadata):
        assert same.equals(table)
        assert content_sha256(same) == digest


def test_bytes_under_nulls_and_bitmap_padding_do_not_count() -> None:
    # DuckDB sets the validity bits past the end and leaves what it likes under a null.
    clean = pa.array([1.5, None, 3.0])
    values = pa.py_buffer(struct.pack("<3d", 1.5, 99.0, 3.0))
    dirty = pa.Array.from_buffers(pa.float64(), 3, [pa.py_buffer(b"\xfd"), values], null_count=1)
    assert dirty.equals(clean)
    assert content_sha256(pa.table({"x": dirty})) == content_sha256(pa.table({"x": clean}))
    assert content_sha256(pa.table({"x": clean})) != content_sha256(
        pa.table({"x": [1.5, 0.0, 3.0]})
    )


def test_dictionary_columns_hash_as_their_values() -> None:
    table = _table()
    encoded = table.set_column(
        0,
        "clip_id",
        pa.chunked_array([table.column("clip_id").combine_chunks().dictionary_encode()]),
    )
    assert pa.types.is_dictionary(encoded.schema.field("clip_id").type)
    assert content_sha256(encoded) == content_sha256(table)


def test_the_hash_differs_for_other_values_names_types_and_order() -> None:
    table = _table()
    digest = content_sha256(table)
    changed_value = table.set_column(1, "score", pa.array([1.5, None, 3.0, 4.25, None, 6.0, 7.5]))
    renamed = table.rename_columns(["clip_id", "score", "count", "ok"])
    other_type = table.set_column(2, "n", table.column("n").cast(pa.int32()))
    reordered = table.select(["score", "clip_id", "n", "ok"])
    null_moved = table.set_column(1, "score", pa.array([1.5, 2.0, 3.0, 4.25, None, 6.0, 7.0]))
    fewer_rows = table.slice(0, 6)
    digests = {
        content_sha256(t)
        for t in (changed_value, renamed, other_type, reordered, null_moved, fewer_rows)
    }
    assert digest not in digests
    assert len(digests) == 6


def test_the_hash_spans_batches_and_empty_tables() -> None:
    big = pa.table({"x": list(range(HASH_ROWS + 10))})
    assert content_sha256(big) != content_sha256(big.slice(0, HASH_ROWS))
    assert content_sha256(pa.Table.from_batches(big.to_batches(1000))) == content_sha256(big)
    empty = _table().slice(0, 0)
    assert content_sha256(empty) == content_sha256(_table().schema.empty_table())


def test_the_hash_is_the_same_in_another_process() -> None:
    code = (
        "import json, pyarrow as pa\n"
        "from second_opinion.tables.memory import content_sha256\n"
        f"print(content_sha256(pa.table(json.loads({json.dumps(json.dumps(ROWS))}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == content_sha256(_table())


# --- opening an in-memory table -----------------------------------------------------------------


def test_an_in_memory_table_opens_with_its_stored_types_and_scans_in_place() -> None:
    memory = read_arrow(_table(), "features")
    with connect() as con:
        table = open_table(con, memory)
        assert table.format == "arrow"
        assert table.columns == ("clip_id", "score", "n", "ok")
        assert table.types == ("VARCHAR", "DOUBLE", "BIGINT", "BOOLEAN")
        assert table.name == "features=<in-memory pyarrow.Table>"
        assert table.location(2) == "row 3"
        assert numeric_columns(con, table) == ("score", "n")
        query = scan_sql(table, text=["clip_id", "n"], numbers=["score"])
        rows = con.sql(query).fetchall()
    assert rows[0] == ("a", 1.5, "1")
    assert rows[3] == ("d", 4.25, None)


def test_repeated_or_blank_column_names_are_refused_naming_the_keyword() -> None:
    twice = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", "X"])
    blank = pa.Table.from_arrays([pa.array([1])], names=["  "])
    with connect() as con:
        with pytest.raises(SchemaError, match=r"features=<in-memory pyarrow\.Table>: duplicate"):
            open_table(con, read_arrow(twice, "features"))
        with pytest.raises(SchemaError, match=r"features=<in-memory .*>: column 1 has a blank"):
            open_table(con, read_arrow(blank, "features"))
        with pytest.raises(UnreadableFileError, match="the table has no columns"):
            open_table(con, read_arrow(pa.table({}), "features"))
