"""JSON tables (a list of rows, or {"rows": [...]}) in and out, and .pq as Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from second_opinion.errors import InputError
from second_opinion.join.run import join, join_to_file
from second_opinion.join.spec import build_join_spec


def test_json_tables_read_as_lists_or_rows_objects_and_write_rows_objects(tmp_path: Path) -> None:
    listed = tmp_path / "base.json"
    listed.write_text(json.dumps([{"clip": "a", "mos": 1}, {"clip": "b", "mos": 2.5}]))
    wrapped = tmp_path / "side.json"
    wrapped.write_text(json.dumps({"rows": [{"clip": "b", "s": 3}, {"clip": "a", "s": 4}]}))
    spec = build_join_spec(
        features=listed, key=["clip"], sidecars=[{"scorer": "x", "path": wrapped}]
    )
    first, second = tmp_path / "out.json", tmp_path / "again.json"
    join_to_file(spec, first)
    join_to_file(spec, second)
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text()) == {
        "rows": [
            {"clip": "a", "mos": 1.0, "so_x_s": 4.0},
            {"clip": "b", "mos": 2.5, "so_x_s": 3.0},
        ]
    }
    pq_out = tmp_path / "out.pq"
    join_to_file(spec, pq_out)
    assert pq_out.read_bytes()[:4] == b"PAR1"
    again = build_join_spec(
        features=pq_out, key=["clip"], sidecars=[{"scorer": "y", "path": first}]
    )
    assert join_to_file(again, tmp_path / "third.json").rows == 2


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            '{"clips": []}',
            r"a JSON table is a list of rows or an object \{\"rows\": \[...\]\}, not",
        ),
        ("[1]", r"base.json rows\[0\]: expected a JSON object, got int"),
        ("[]", r"base.json: the JSON table has no rows"),
        ("[{", r"base.json: invalid JSON"),
    ],
)
def test_bad_json_tables_are_named(tmp_path: Path, document: str, message: str) -> None:
    base = tmp_path / "base.json"
    base.write_text(document)
    side = tmp_path / "s.csv"
    side.write_text("clip,s\na,1\n")
    spec = build_join_spec(features=base, key=["clip"], sidecars=[{"scorer": "x", "path": side}])
    with pytest.raises(InputError, match=message):
        join(spec)
