"""The audit of in-memory tables: the same report as the same data from a file, recorded as
coming from memory by its content hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from second_opinion import InputError, UsageError, run_audit
from second_opinion.audit.options import build_options
from second_opinion.audit.report import audit_json
from second_opinion.tables.memory import content_sha256
from tests._audit_data import corpus_columns, write_corpus

OPTIONS = {"splits": 3, "bootstrap": 10, "model": "ridge", "baseline": "vmaf=vmaf", "jobs": 1}
VOLATILE = ("created", "seconds", "fingerprint")


def _without(report: dict[str, Any], *corpus_keys: str) -> dict[str, Any]:
    out = {k: v for k, v in report.items() if k not in VOLATILE}
    out["corpora"] = {
        name: {k: v for k, v in corpus.items() if k not in ("seconds", *corpus_keys)}
        for name, corpus in report["corpora"].items()
    }
    return out


def test_an_in_memory_corpus_audits_as_its_file_and_is_recorded_from_memory(
    tmp_path: Path,
) -> None:
    path = write_corpus(tmp_path / "a.parquet", corpus_columns(30, seed=4))
    table = pq.read_table(path)
    options = build_options(**OPTIONS)
    from_file = audit_json(run_audit([("a", path)], options))
    relation = duckdb.connect().read_parquet(str(path))
    in_memory = audit_json(run_audit([("a", relation)], options))
    assert _without(in_memory, "path", "source", "sha256") == _without(
        from_file, "path", "source", "sha256"
    )
    corpus = in_memory["corpora"]["a"]
    assert corpus["path"] is None
    assert corpus["source"] == "memory"
    assert corpus["sha256"] == content_sha256(table)
    assert from_file["corpora"]["a"]["source"] == "file"
    assert from_file["corpora"]["a"]["path"] == str(path)
    # The fingerprint follows the content: the same table again, the same fingerprint.
    again = run_audit([("a", table)], options)
    assert again.fingerprint == run_audit([("a", table)], options).fingerprint
    assert again.sha256 == {"a": content_sha256(table)}


def test_a_polars_corpus_audits_as_its_file(tmp_path: Path) -> None:
    # polars hands strings over as string_view; pandas frames are read in the join and table
    # tests (tests/join/test_memory_join.py, tests/tables/test_memory.py).
    polars = pytest.importorskip("polars")  # a dev dependency: installed wherever tests run
    path = write_corpus(tmp_path / "a.parquet", corpus_columns(30, seed=4))
    table = pq.read_table(path)
    frame = polars.from_arrow(table)
    options = build_options(**OPTIONS)
    from_file = audit_json(run_audit([("a", path)], options))
    in_memory = audit_json(run_audit([("a", frame)], options))
    assert _without(in_memory, "path", "source", "sha256") == _without(
        from_file, "path", "source", "sha256"
    )
    assert in_memory["corpora"]["a"]["source"] == "memory"


def test_an_unnamed_in_memory_corpus_is_named_by_its_position(tmp_path: Path) -> None:
    path = write_corpus(tmp_path / "a.parquet", corpus_columns(30, seed=4))
    result = run_audit([path, pq.read_table(path)], build_options(**OPTIONS))
    assert [c.corpus.name for c in result.corpora] == ["a", "memory-2"]
    assert str(result.corpora[1].corpus.path) == "tables[1]=<in-memory pyarrow.Table>"


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (
            [3.5],
            (
                "tables[0]: expected a path, or an in-memory table with the Arrow stream "
                "interface (__arrow_c_stream__: a pyarrow Table or RecordBatchReader, a polars "
                "DataFrame, a pandas >= 2.2 DataFrame, a DuckDB relation), not a float"
            ),
        ),
        (
            [("a", "b", "c")],
            "tables[0]: a named table is a pair (name, table); got ('a', 'b', 'c')",
        ),
        ([(1, "b")], "tables[0]: a named table is a pair (name, table); got (1, 'b')"),
    ],
)
def test_a_table_argument_that_is_no_table_is_refused_naming_it(
    tables: list[Any], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        run_audit(tables, build_options(**OPTIONS))
    assert caught.value.message == message


def test_messages_name_an_in_memory_corpus_by_its_keyword(tmp_path: Path) -> None:
    table = pq.read_table(write_corpus(tmp_path / "a.parquet", corpus_columns(30, seed=4)))
    with pytest.raises(InputError) as caught:
        run_audit([table.drop_columns(["mos"])], build_options(**OPTIONS))
    assert caught.value.message.startswith(
        "tables[0]=<in-memory pyarrow.Table>: no MOS column 'mos'; numeric columns: "
    )
