"""The write that runs beside the coverage check: put in place only after the check passed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from second_opinion.errors import PolicyError, UsageError
from second_opinion.join.overlap import side_by_side, write_while


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("CREATE TABLE t AS SELECT range AS i, range * 0.5 AS x FROM range(50000)")
    return connection


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_the_rows_are_placed_once_the_check_returned(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out.parquet"
    seen: list[bool] = []

    def check() -> str:
        seen.append(out.exists())
        con.execute("CREATE TEMP TABLE scratch AS SELECT count(*) FROM t")  # the check's own work
        return "checked"

    rows, result = write_while(
        con, "SELECT * FROM t ORDER BY i", out, columns=["i", "x"], check=check
    )
    assert (rows, result, seen) == (50000, "checked", [False])
    assert con.execute(f"SELECT count(*), sum(i) FROM '{out}'").fetchall() == [(50000, 1249975000)]
    assert _files(tmp_path) == ["out.parquet"]


def test_a_failing_check_leaves_nothing_and_its_error_wins(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    (tmp_path / "out.parquet").write_text("before", encoding="utf-8")

    def check() -> None:
        msg = "coverage 0.5 below min_coverage 0.9"
        raise PolicyError(msg)

    with pytest.raises(PolicyError, match="below min_coverage"):
        write_while(
            con, "SELECT * FROM t", tmp_path / "out.parquet", columns=["i", "x"], check=check
        )
    assert _files(tmp_path) == ["out.parquet"]
    assert (tmp_path / "out.parquet").read_text(encoding="utf-8") == "before"


def test_the_writes_error_is_raised_after_a_passing_check(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    checked: list[bool] = []
    with pytest.raises(UsageError, match="does not exist"):
        write_while(
            con,
            "SELECT * FROM t",
            tmp_path / "missing" / "out.parquet",
            columns=["i", "x"],
            check=lambda: checked.append(True),
        )
    assert checked == [True]


def test_side_by_side_returns_in_order_and_raises_the_first_tasks_error(
    con: duckdb.DuckDBPyConnection,
) -> None:
    def make(i: int) -> Any:
        def task(cursor: duckdb.DuckDBPyConnection) -> int:
            cursor.execute(f"CREATE TABLE t{i} AS SELECT {i} AS v")
            return int(cursor.execute(f"SELECT v FROM t{i}").fetchall()[0][0])

        return task

    assert side_by_side(con, [make(i) for i in range(4)]) == [0, 1, 2, 3]
    assert con.execute("SELECT count(*) FROM t3").fetchall() == [(1,)]  # seen by all cursors

    def fails(message: str) -> Any:
        def task(cursor: duckdb.DuckDBPyConnection) -> int:
            raise UsageError(message)

        return task

    with pytest.raises(UsageError, match="first"):
        side_by_side(con, [make(10), fails("first"), fails("second")])
