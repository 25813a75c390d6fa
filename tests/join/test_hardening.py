"""Join defects found by adversarial testing (issue 15): each test failed before its fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from second_opinion import JoinSpec, SidecarSpec, UsageError, join, join_to_file
from second_opinion.errors import InternalError
from second_opinion.join.run import check_spec
from second_opinion.tables.writing import write_query
from tests._tables import write_table

BASE = [{"clip_id": "a", "mos": 4.0}, {"clip_id": "b", "mos": 3.0}]


# --- 1. names DuckDB compares ignoring case --------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".jsonl.gz", ".parquet"])
def test_a_base_column_equal_to_an_output_but_for_case_is_refused(
    tmp_path: Path, suffix: str
) -> None:
    base = write_table(
        tmp_path / "base.csv", [{**r, "So_X_Score": 100.0 + i} for i, r in enumerate(BASE)]
    )
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "score": 5.0}])
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=(SidecarSpec(scorer="x", path=side),))
    with pytest.raises(
        UsageError,
        match=r"output column 'so_x_score' of sidecar 'x' collides with column 'So_X_Score' of "
        r"base table .*base.csv \(names that differ only in case are the same column\); set a "
        r"different prefix for 'x'",
    ):
        join_to_file(spec, tmp_path / f"out{suffix}")
    assert not (tmp_path / f"out{suffix}").exists()


def test_outputs_of_two_sidecars_equal_but_for_case_are_refused(tmp_path: Path) -> None:
    one = write_table(tmp_path / "one.csv", [{"clip_id": "a", "s": 1.0}])
    two = write_table(tmp_path / "two.csv", [{"clip_id": "a", "S": 2.0}])
    spec = JoinSpec(
        features=write_table(tmp_path / "base.csv", BASE),
        key=("clip_id",),
        sidecars=(
            SidecarSpec(scorer="x", path=one, prefix="p_"),
            SidecarSpec(scorer="y", path=two, prefix="p_"),
        ),
    )
    with pytest.raises(UsageError, match=r"'p_S' of sidecar 'y' collides with column 'p_s' of"):
        join(spec)


def test_a_derived_column_colliding_with_its_own_sidecar_gets_a_hint_that_resolves_it(
    tmp_path: Path,
) -> None:
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": 1.0, "s_zscore": 2.0}])
    spec = JoinSpec(
        features=write_table(tmp_path / "base.csv", BASE),
        key=("clip_id",),
        sidecars=(SidecarSpec(scorer="x", path=side, derived=("zscore",)),),
    )
    with pytest.raises(UsageError) as caught:
        join(spec)
    message = caught.value.message
    assert "output column 'so_x_s_zscore' of sidecar 'x' collides with" in message
    assert "set a different prefix" not in message  # a prefix is shared by both: it cannot help
    assert "leave column 's_zscore' out with columns of 'x'" in message
    assert "or rename it in" in message
    # The hint works: leaving the column out resolves the collision.
    only_s = SidecarSpec(scorer="x", path=side, derived=("zscore",), columns=("s",))
    fixed = spec.model_copy(update={"sidecars": (only_s,)})
    assert join(fixed).table.column_names[-1] == "so_x_s_zscore"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".jsonl.gz", ".json", ".parquet"])
def test_the_writer_refuses_a_header_other_than_the_reported_one(
    tmp_path: Path, suffix: str
) -> None:
    con = duckdb.connect()
    out = tmp_path / f"out{suffix}"
    query = "SELECT 1 AS a, 2 AS b"
    assert write_query(con, query, out, columns=("a", "b")) == 1
    with pytest.raises(InternalError, match=r"the written header \(a, b\) is not the reported one"):
        write_query(con, query, tmp_path / f"other{suffix}", columns=("a", "c"))
    assert not (tmp_path / f"other{suffix}").exists()
    # Names DuckDB would rename on writing (b, B -> b, B_1) never reach the file.
    with pytest.raises(InternalError, match=r"the written header"):
        write_query(con, "SELECT 1 AS b, 2 AS B", tmp_path / f"third{suffix}", columns=("b", "B"))


# --- 3. column types from every value, never a sample ----------------------------------------

SPARSE_ROWS = 25_000  # more than DuckDB's sniffer (20,480 rows) and our head check read


def _sparse_rows(n: int = SPARSE_ROWS + 5) -> list[dict[str, Any]]:
    return [
        {"clip_id": f"c{i}", "a": i * 0.5, "b": None if i < SPARSE_ROWS else i * 0.25}
        for i in range(n)
    ]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".jsonl.gz"])
def test_a_score_column_empty_for_its_first_rows_is_a_default_score_column(
    tmp_path: Path, suffix: str
) -> None:
    side = write_table(tmp_path / f"s{suffix}", _sparse_rows())
    base = write_table(
        tmp_path / "base.csv", [{"clip_id": "c0", "mos": 1.0}, {"clip_id": "c25003", "mos": 2.0}]
    )
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=(SidecarSpec(scorer="x", path=side),))
    assert check_spec(spec) == []
    table = join(spec).table
    assert table.column_names == ["clip_id", "mos", "so_x_a", "so_x_b"]
    assert table.column("so_x_b").to_pylist() == [None, 25003 * 0.25]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_column_with_text_after_the_sample_is_not_a_default_score_column(
    tmp_path: Path, suffix: str
) -> None:
    rows = _sparse_rows()
    rows[-1]["b"] = "high" if suffix == ".csv" else "2.5"  # in JSONL a quoted number is text
    side = write_table(tmp_path / f"s{suffix}", rows)
    base = write_table(tmp_path / "base.csv", [{"clip_id": "c0", "mos": 1.0}])
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=(SidecarSpec(scorer="x", path=side),))
    assert join(spec).table.column_names == ["clip_id", "mos", "so_x_a"]


def test_a_base_jsonl_column_empty_for_its_first_rows_keeps_its_values(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.jsonl", _sparse_rows())
    side = write_table(tmp_path / "s.csv", [{"clip_id": "c25004", "s": 1.0}])
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=(SidecarSpec(scorer="x", path=side),))
    assert join(spec).table.column("b").to_pylist()[-1] == 25004 * 0.25
