"""Running out of memory is named as such (issue 15 #11): the memory limit, the spill folder and
the fix; never blamed on an input ("cannot read as csv"), never an internal error."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from second_opinion.tables.diagnosis import explain_scan_error
from second_opinion.tables.formats import Engine, connect
from second_opinion.tables.reading import open_table
from tests._scaffold import Scaffold, by_name
from tests.test_bad_inputs import _in_process

GOOD = Path(__file__).resolve().parents[1] / "bad_inputs" / "tables" / "good"
FIX = (
    "the input is not at fault: raise --memory-limit, point --temp-dir at a folder on a disk "
    "with free space, or run fewer jobs at once (--jobs)"
)


def test_a_scan_that_runs_out_of_memory_names_the_limit_the_folder_and_the_fix(
    tmp_path: Path,
) -> None:
    con = connect(Engine(memory_limit="10MB", temp_dir=tmp_path))
    table = open_table(con, GOOD / "side.csv")
    error = duckdb.OutOfMemoryException(
        "Out of Memory Error: could not allocate block of size 30.5 MiB (0 bytes/9.5 MiB used)"
        "\n\nPossible solutions: …"
    )

    found = explain_scan_error(table, error, numbers=())

    assert found.message == (
        f"{GOOD / 'side.csv'}: the table engine ran out of memory (could not allocate block of "
        "size 30.5 MiB (0 bytes/9.5 MiB used)) under the memory limit 10MB (--memory-limit), "
        f"spilling to the folder {tmp_path} (--temp-dir); {FIX}"
    )


def test_without_limits_the_message_names_duckdbs_defaults() -> None:
    con = connect()
    table = open_table(con, GOOD / "side.csv")
    error = duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data")

    message = explain_scan_error(table, error, numbers=()).message

    assert re.fullmatch(
        rf"{re.escape(str(GOOD / 'side.csv'))}: the table engine ran out of memory \(failed to "
        r"allocate data\) under the memory limit [\d.]+ [KMGT]?i?B \(DuckDB's default; set one "
        r"with --memory-limit\), spilling to the folder /\S+ \(DuckDB's default; choose one with "
        rf"--temp-dir\); {re.escape(FIX)}",
        message,
    ), message


def test_join_under_a_tiny_memory_limit_exits_2_naming_the_limit(tmp_path: Path) -> None:
    found = _in_process(
        [
            "join",
            *("--features", str(GOOD / "base.csv"), "--sidecar", f"niqe={GOOD / 'side.csv'}"),
            *("--key", "clip_id", "--output", str(tmp_path / "out.csv")),
            *("--memory-limit", "1MB", "--temp-dir", str(tmp_path)),
        ],
        tmp_path,
    )

    assert found.code == 2
    assert found.stderr.startswith("error: the table engine ran out of memory ("), found.stderr
    assert found.stderr.endswith(
        "under the memory limit 1MB (--memory-limit), spilling to the folder <DIR> "
        f"(--temp-dir); {FIX}\n"
    )
    assert "internal error" not in found.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_batch_job_out_of_memory_fails_naming_the_limit(tmp_path: Path) -> None:
    scaffold = Scaffold.copy_into(tmp_path)
    result = scaffold.run(only=["corpus-b"], engine=Engine(memory_limit="1MB"))

    error = by_name(result)["corpus-b"].error
    assert error is not None
    assert "the table engine ran out of memory (" in error, error
    assert "under the memory limit 1MB (--memory-limit)" in error
    assert error.endswith(FIX)
    assert not scaffold.output("corpus-b").exists()
