"""Joins of in-memory tables (Arrow streams): the same output as the same data from files, their
provenance by content hash, and messages that name the keyword."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from second_opinion import (
    ColumnNotFoundError,
    InputError,
    JoinSpec,
    KeyProblemError,
    MemoryTable,
    SidecarSpec,
    UsageError,
    inspect_output,
    join,
    join_coverage,
    join_to_file,
)
from second_opinion.join.spec import build_join_spec
from second_opinion.provenance import read_record
from second_opinion.tables.memory import content_sha256
from tests.tables.test_memory import CapsuleOnly

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "join"

BASE = pa.table(
    {
        "clip_id": ["a", "b", "c", "d", "e"],
        "mos": [4.5, 3.25, None, 2.0, 1.5],
        "vmaf": [91, 80, 62, 40, 22],
    }
)
PER_CLIP = pa.table(
    {"video": ["/x/A.mp4", "/x/c.mp4", "/x/b.mp4", "/x/z.mp4"], "niqe": [3.0, None, 5.5, 8.0]}
)
PER_FRAME = pa.table(
    {
        "clip_id": ["a", "a", "b", "b", "b", "d"],
        "frame": [0, 1, 0, 1, 2, 0],
        "technical": [0.5, 0.7, 0.25, None, 0.75, 0.1],
    }
)

Maker = Callable[[pa.Table], Any]
MAKERS: dict[str, Maker] = {
    "pyarrow.Table": lambda t: t,
    "pyarrow.RecordBatchReader": lambda t: pa.RecordBatchReader.from_batches(
        t.schema, t.to_batches(max_chunksize=2)
    ),
    "duckdb relation": lambda t: duckdb.connect().from_arrow(t),
    "__arrow_c_stream__ only": CapsuleOnly,
    "polars.DataFrame": lambda t: importlib.import_module("polars").from_arrow(t),
    "pandas.DataFrame": lambda t: t.to_pandas(),
}
"""Every kind of in-memory table: polars and pandas (>= 2.2) are dev dependencies only, never
the package's; CapsuleOnly speaks the bare protocol, as they do."""


def _sidecars(per_clip: Any, per_frame: Any) -> tuple[SidecarSpec, ...]:
    return (
        SidecarSpec(
            scorer="niqe",
            path=per_clip,
            key_map={"video": "clip_id"},
            normalize_keys=("basename", "stem", "lower"),
            higher_is_better=False,
            derived=("zscore", "delta:vmaf"),
        ),
        SidecarSpec(
            scorer="dover", path=per_frame, frame_column="frame", pool=("mean", "p5", "std")
        ),
    )


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    paths = tmp_path / "base.parquet", tmp_path / "niqe.parquet", tmp_path / "dover.parquet"
    for table, path in zip((BASE, PER_CLIP, PER_FRAME), paths, strict=True):
        pq.write_table(table, path)
    return paths


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_an_in_memory_join_writes_the_bytes_the_same_data_from_files_writes(
    tmp_path: Path, kind: str, suffix: str
) -> None:
    make = MAKERS[kind]
    base, niqe, dover = _files(tmp_path)
    from_files = JoinSpec(features=base, key=("clip_id",), sidecars=_sidecars(niqe, dover))
    in_memory = JoinSpec(
        features=make(BASE), key=("clip_id",), sidecars=_sidecars(make(PER_CLIP), make(PER_FRAME))
    )
    assert isinstance(in_memory.features, MemoryTable)
    files_out, memory_out = tmp_path / f"files{suffix}", tmp_path / f"memory{suffix}"
    files_report = join_to_file(from_files, files_out)
    memory_report = join_to_file(in_memory, memory_out)
    assert memory_out.read_bytes() == files_out.read_bytes()
    assert memory_report.columns == files_report.columns
    assert [c.matched for c in memory_report.coverage] == [3, 3]
    assert join(in_memory).table.equals(join(from_files).table)
    assert join_coverage(in_memory)[1].sidecar_rows == 6
    # The spec holds what was read: a reader's rows are still there for a second join.
    assert join(in_memory).table.num_rows == 5


def test_the_example_read_by_duckdb_joins_as_the_example_files(tmp_path: Path) -> None:
    con = duckdb.connect()
    features = con.read_csv(str(EXAMPLE / "features.csv"))
    niqe = con.read_json(str(EXAMPLE / "niqe.jsonl"))
    dover = con.read_csv(str(EXAMPLE / "dover_frames.csv"))

    def spec(base: Any, clip: Any, frames: Any) -> JoinSpec:
        return JoinSpec(
            features=base,
            key=("clip_id",),
            sidecars=(
                SidecarSpec(
                    scorer="niqe",
                    path=clip,
                    key_map={"video": "clip_id"},
                    normalize_keys=("basename", "stem"),
                    higher_is_better=False,
                ),
                SidecarSpec(scorer="dover", path=frames, frame_column="frame", pool=("mean", "p5")),
            ),
        )

    for suffix in (".csv", ".jsonl"):
        memory_out, files_out = tmp_path / f"memory{suffix}", tmp_path / f"files{suffix}"
        join_to_file(spec(features, niqe, dover), memory_out)
        join_to_file(
            spec(EXAMPLE / "features.csv", EXAMPLE / "niqe.jsonl", EXAMPLE / "dover_frames.csv"),
            files_out,
        )
        assert memory_out.read_bytes() == files_out.read_bytes()


# --- provenance -------------------------------------------------------------------------------


def test_a_polars_frame_is_joined_and_recorded_by_its_content_hash(tmp_path: Path) -> None:
    polars = importlib.import_module("polars")
    base, _, dover = _files(tmp_path)
    frame = polars.from_arrow(PER_CLIP)  # strings as string_view
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=_sidecars(frame, dover))
    output = tmp_path / "joined.parquet"
    report = join_to_file(spec, output, provenance=True)
    niqe = read_record(output)["inputs"][1]
    assert (niqe["kind"], niqe["rows"], niqe["source"]) == ("polars.DataFrame", 4, "memory")
    assert niqe["sha256"] == content_sha256(
        PER_CLIP.cast(pa.schema([("video", pa.large_string()), ("niqe", pa.float64())]))
    )
    assert report.coverage[0].matched == 3
    assert pq.read_table(output).column("so_niqe_niqe").to_pylist() == [3.0, 5.5, None, None, None]


def test_join_to_file_records_an_in_memory_input_by_its_content_hash(tmp_path: Path) -> None:
    base, _, dover = _files(tmp_path)
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=_sidecars(PER_CLIP, dover))
    output = tmp_path / "out" / "joined.csv"
    output.parent.mkdir()
    report = join_to_file(spec, output, provenance=True)
    record = read_record(output)  # validated against the strict RecordSchema
    features, niqe, frames = record["inputs"]
    assert features["role"] == "features"
    assert features["path"] == str(base)
    assert "source" not in features  # a file, as batch records say it
    assert niqe == {
        "role": "sidecar",
        "scorer": "niqe",
        "source": "memory",
        "kind": "pyarrow.Table",
        "rows": 4,
        "sha256": content_sha256(PER_CLIP),
    }
    assert frames["rows"] == 6
    assert record["job"]["name"] == "joined"
    assert record["job"]["spec"]["sidecars"][0]["path"] == {
        "source": "memory",
        "kind": "pyarrow.Table",
        "rows": 4,
        "sha256": content_sha256(PER_CLIP),
    }
    assert record["output"]["rows"] == report.rows == 5
    assert [c["scorer"] for c in record["coverage"]] == ["niqe", "dover"]
    assert sorted(p.name for p in output.parent.iterdir()) == [
        "joined.csv",
        "joined.csv.provenance.json",
    ]
    found = inspect_output(output)
    assert found.matches
    assert found.changed_inputs == ()
    (note,) = found.unchecked_inputs
    assert note.startswith("sidecar niqe came from memory (an in-memory pyarrow.Table, SHA-256 ")
    assert note.endswith("it cannot be checked again")


def test_the_fingerprint_is_stable_for_the_same_data_and_changes_with_it(tmp_path: Path) -> None:
    def fingerprint(per_clip: pa.Table, name: str) -> str:
        spec = JoinSpec(features=BASE, key=("clip_id",), sidecars=_sidecars(per_clip, PER_FRAME))
        output = tmp_path / f"{name}.parquet"
        join_to_file(spec, output, provenance=True)
        return str(read_record(output)["fingerprint"])

    first = fingerprint(PER_CLIP, "first")
    again = fingerprint(pa.Table.from_batches(PER_CLIP.to_batches(max_chunksize=1)), "again")
    changed = fingerprint(PER_CLIP.set_column(1, "niqe", pa.array([3.0, None, 5.5, 8.5])), "b")
    assert first == again
    assert changed != first


def test_a_join_without_provenance_writes_no_record(tmp_path: Path) -> None:
    output = tmp_path / "joined.csv"
    join_to_file(JoinSpec(features=BASE, key=("clip_id",)), output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["joined.csv"]


# --- messages ---------------------------------------------------------------------------------


def test_an_object_that_is_neither_path_nor_table_is_refused_naming_the_keyword() -> None:
    with pytest.raises(ValidationError, match="features") as caught:
        JoinSpec(features=[{"clip_id": "a"}], key=("clip_id",))  # type: ignore[arg-type]
    assert "expected a path, or an in-memory table with the Arrow stream interface" in str(
        caught.value
    )
    assert "not a list" in str(caught.value)
    with pytest.raises(
        UsageError,
        match=r"^invalid join spec:\n  sidecars\[0\]\.path: expected a path, or an in-memory",
    ):
        build_join_spec(features=BASE, key=("clip_id",), sidecars=[{"scorer": "niqe", "path": 3.5}])


def test_a_reader_given_twice_is_refused_with_the_fix() -> None:
    reader = pa.RecordBatchReader.from_batches(BASE.schema, BASE.to_batches())
    JoinSpec(features=reader, key=("clip_id",))
    with pytest.raises(UsageError, match=r"features: this pyarrow\.RecordBatchReader was read"):
        build_join_spec(features=reader, key=("clip_id",))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"records": "wrapper"},
            (
                "sidecar 'niqe': records=\"wrapper\" reads the original's JSON/JSONL score "
                "files; an in-memory table is read as a table: drop records, or give the file's "
                "path"
            ),
        ),
        (
            {"align": {"keys_from": "keys.csv", "column": "clip_id"}},
            (
                "sidecar 'niqe': align joins a score matrix file (.mat, .npy, .npz) by row order; "
                "an in-memory table has its own key column: drop align and name it with key_map"
            ),
        ),
    ],
)
def test_file_only_options_are_refused_for_an_in_memory_sidecar(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        SidecarSpec(scorer="niqe", path=PER_CLIP, **fields)
    assert message in str(caught.value)


def test_messages_name_an_in_memory_table_by_its_keyword() -> None:
    with pytest.raises(ColumnNotFoundError) as caught:
        join(JoinSpec(features=BASE, key=("clip",)))
    assert caught.value.message == (
        "features=<in-memory pyarrow.Table>: key column 'clip' not found (columns: clip_id, mos, "
        "vmaf); fix key"
    )
    with pytest.raises(ColumnNotFoundError) as caught:
        join(
            JoinSpec(
                features=BASE,
                key=("clip_id",),
                sidecars=(SidecarSpec(scorer="niqe", path=PER_CLIP),),
            )
        )
    assert caught.value.message.startswith(
        "sidecar 'niqe' path=<in-memory pyarrow.Table>: key column 'clip_id' not found "
        "(columns: video, niqe)"
    )
    with pytest.raises(InputError) as empty:
        join(JoinSpec(features=BASE.slice(0, 0), key=("clip_id",)))
    assert empty.value.message == "features=<in-memory pyarrow.Table>: the table has no rows"


def _niqe_only(table: pa.Table, **options: Any) -> JoinSpec:
    niqe = SidecarSpec(
        scorer="niqe",
        path=table,
        key_map={"video": "clip_id"},
        normalize_keys=("basename", "stem"),
        **options,
    )
    return JoinSpec(features=BASE, key=("clip_id",), sidecars=(niqe,))


def test_a_bad_value_in_an_in_memory_table_is_named_by_its_row() -> None:
    no_key = PER_CLIP.set_column(0, "video", pa.array(["/x/a.mp4", None, "/x/b.mp4", "/x/c.mp4"]))
    with pytest.raises(KeyProblemError) as caught:
        join(_niqe_only(no_key))
    assert caught.value.message == (
        "sidecar 'niqe' path=<in-memory pyarrow.Table> row 2: the key (video) is empty; every row "
        "needs a key"
    )
    text = PER_CLIP.set_column(1, "niqe", pa.array(["3.0", "n/a", "5", "8"]))
    with pytest.raises(InputError) as not_numbers:
        join(_niqe_only(text, columns=("niqe",)))
    assert not_numbers.value.message.startswith(
        "sidecar 'niqe' path=<in-memory pyarrow.Table> row 2: column 'niqe' has 'n/a', which is "
        "not a number"
    )


def test_an_in_memory_input_cannot_be_the_output_and_a_file_still_cannot(tmp_path: Path) -> None:
    base = tmp_path / "base.parquet"
    pq.write_table(BASE, base)
    with pytest.raises(UsageError, match="the output is also an input"):
        join_to_file(JoinSpec(features=base, key=("clip_id",)), base)
    join_to_file(JoinSpec(features=BASE, key=("clip_id",)), tmp_path / "out.jsonl")
    assert json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])["clip_id"] == "a"
