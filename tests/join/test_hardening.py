"""Join defects found by adversarial testing (issue 15): each test failed before its fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from second_opinion import JoinSpec, PolicyError, SidecarSpec, UsageError, join, join_to_file
from second_opinion.errors import InternalError, SchemaError
from second_opinion.join import load, wide
from second_opinion.join.keys import key_repr, unicode_hint
from second_opinion.join.run import check_spec
from second_opinion.tables import writing
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


# --- 5, 6. wide sidecars: no crash, cost linear in the columns ----------------------------------

WIDE_SCRIPT = """
import sys
from second_opinion import JoinSpec, SidecarSpec, join
side = SidecarSpec(scorer="x", path=sys.argv[2], frame_column="frame", pool=("p5",))
table = join(JoinSpec(features=sys.argv[1], key=("clip_id",), sidecars=(side,))).table
print(table.num_columns, table.column("so_x_f4999_p5").to_pylist()[0])
"""


def test_a_per_frame_sidecar_of_5000_columns_pools_with_p5(tmp_path: Path) -> None:
    # 200 rows x 5,000 columns pooled with p5 killed the process with SIGFPE (exit 136): one
    # GROUP BY with 5,000 quantile states per group, fed from the file scan. Run in a child, so
    # a crash fails this test rather than the test run.
    columns = ", ".join(f"(i * 5000 + {j}) / 1e6 AS f{j}" for j in range(5000))
    side = tmp_path / "wide.csv"
    duckdb.sql(
        f"COPY (SELECT 'c' || (i // 10) AS clip_id, i % 10 AS frame, {columns} "
        f"FROM range(200) t(i)) TO '{side}' (HEADER)"
    )
    base = write_table(tmp_path / "base.csv", [{"clip_id": "c0", "mos": 1.0}])
    done = subprocess.run(
        [sys.executable, "-c", WIDE_SCRIPT, str(base), str(side)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # Clip c0: frames 0..9 of column 4999 hold (i * 5000 + 4999) / 1e6; numpy's linear p5.
    values = [(i * 5000 + 4999) / 1e6 for i in range(10)]
    expected = values[0] + 0.45 * (values[1] - values[0])
    count, p5 = done.stdout.split()
    assert int(count) == 2 + 5000 + 1
    assert float(p5) == pytest.approx(expected, rel=1e-12)


def _both_ways(monkeypatch: pytest.MonkeyPatch, spec: JoinSpec, out: Path) -> tuple[bytes, bytes]:
    """The output of ``spec`` as a narrow sidecar is joined, and through the wide path."""
    narrow = join_to_file(spec, out)
    first = out.read_bytes()
    monkeypatch.setattr(load, "WIDE_COLUMNS", 0)
    monkeypatch.setattr(wide, "WIDE_COLUMNS", 0)
    wide_report = join_to_file(spec, out)
    assert wide_report.to_dict() == narrow.to_dict()
    return first, out.read_bytes()


@pytest.mark.parametrize("duplicates", ["per_frame", "first", "last", "mean"])
def test_the_wide_path_gives_the_narrow_path_s_bytes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, duplicates: str
) -> None:
    nan, inf = float("nan"), float("inf")
    rows = [
        {"clip_id": f" C{i % 7}.mp4", "frame": i, "a": (i * 0.37) % 5 + 0.1, "b": None, "c": 1.0}
        for i in range(60)
    ]
    rows[3]["a"], rows[5]["a"], rows[8]["c"], rows[9]["b"] = nan, inf, -inf, 2.5
    per_frame = duplicates == "per_frame"
    if not per_frame:  # one row per key but C0 (rows 0, 7 and 14) and C1 (1, 8)
        rows = [*rows[:9], {**rows[14], "a": 4.0}]
    side = write_table(tmp_path / "s.parquet", rows)
    base = write_table(
        tmp_path / "base.csv", [{"clip_id": f"c{i}", "mos": float(i)} for i in range(9)]
    )
    pool = ("mean", "median", "min", "max", "std", "p5", "p95", "harmonic_mean")
    options: dict[str, Any] = (
        {"frame_column": "frame", "pool": pool} if per_frame else {"on_duplicate": duplicates}
    )
    sidecar = SidecarSpec(
        scorer="x", path=side, normalize_keys=("strip", "auto", "stem", "lower"), **options
    )
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=(sidecar,))
    narrow, wide_bytes = _both_ways(monkeypatch, spec, tmp_path / "out.parquet")
    assert narrow == wide_bytes


def test_the_wide_path_refuses_a_value_below_zero_for_harmonic_mean_alike(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = [{"clip_id": f"c{i % 3}", "frame": i, "a": 1.0 + i, "b": 2.0} for i in range(9)]
    rows[4]["a"], rows[7]["a"] = -2.0, 0.0
    side = write_table(tmp_path / "s.csv", rows)
    sidecar = SidecarSpec(scorer="x", path=side, frame_column="frame", pool=("harmonic_mean",))
    spec = JoinSpec(
        features=write_table(tmp_path / "base.csv", BASE), key=("clip_id",), sidecars=(sidecar,)
    )
    messages = []
    for threshold in (64, 0):
        monkeypatch.setattr(load, "WIDE_COLUMNS", threshold)
        monkeypatch.setattr(wide, "WIDE_COLUMNS", threshold)
        with pytest.raises(SchemaError) as caught:
            join(spec)
        messages.append(caught.value.message)
    assert messages[0] == messages[1]
    assert "column 'a' has 2 value(s) <= 0 (smallest -2.0, key 'c1')" in messages[0]


# --- the closest key: containment first ---------------------------------------------------------


def test_the_closest_key_is_the_one_containing_it_where_the_nearest_neighbour_differs(
    tmp_path: Path,
) -> None:
    # Sorted, the sidecar's keys put seven others between /data/1000.mp4 and 1000: the
    # neighbour search alone offers one of those (/data/1020.mp4, without the containment
    # branch); the key that contains 1000 is the one that tells which step matches.
    keys = ["/data/1000.mp4", *(f"/data/10{n}.mp4" for n in range(14, 21))]
    side = write_table(tmp_path / "s.csv", [{"clip_id": k, "s": 1.0} for k in keys])
    base = write_table(tmp_path / "base.csv", [{"clip_id": "1000", "mos": 1.0}])
    sidecar = SidecarSpec(scorer="x", path=side, allow_no_match=True)
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=(sidecar,))
    report = join(spec).coverage[0]
    assert report.unmatched_base[0].key == ("1000",)
    assert report.unmatched_base[0].closest == ("/data/1000.mp4",)


# --- keys equal but for Unicode normalisation ---------------------------------------------------

NFC, NFD = "caf\u00e9", "cafe\u0301"  # both print as café


def test_nfc_matches_keys_that_differ_only_in_unicode_normalisation(tmp_path: Path) -> None:
    side = write_table(tmp_path / "s.csv", [{"clip_id": NFD, "s": 1.0}])
    base = write_table(tmp_path / "base.csv", [{"clip_id": NFC, "mos": 1.0}])
    plain = SidecarSpec(scorer="x", path=side, allow_no_match=True)
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=(plain,))
    report = join(spec).coverage[0]
    assert report.matched == 0
    assert report.unmatched_base[0].closest == (NFD,)
    assert [f.said() for f in report.diagnosis] == [
        'SidecarSpec(normalize_keys=["nfc"]) would match 1 of 1 (100.00 %)'
    ]
    nfc = SidecarSpec(scorer="x", path=side, normalize_keys=("nfc",))
    matched = join(spec.model_copy(update={"sidecars": (nfc,)}))
    assert matched.coverage[0].matched == 1
    assert matched.table.column("clip_id").to_pylist() == [NFC]  # the base's key as written


def test_keys_that_differ_only_in_normalisation_are_shown_apart_with_the_fix(
    tmp_path: Path,
) -> None:
    assert key_repr(NFD) == "'cafe\\u0301'"
    assert key_repr(NFC) == "'café'"
    assert unicode_hint((NFC,), (NFD,)) == (
        "they differ only in Unicode normalisation (NFC/NFD): add nfc to normalize_keys"
    )
    assert unicode_hint((NFC,), ("cafe",)) is None
    side = write_table(tmp_path / "s.csv", [{"clip_id": k, "s": 1.0} for k in (NFD, "b")])
    base = write_table(tmp_path / "base.csv", [{"clip_id": k, "mos": 1.0} for k in (NFC, "b")])
    sidecar = SidecarSpec(scorer="x", path=side, on_missing="error")
    with pytest.raises(PolicyError) as caught:
        join(JoinSpec(features=base, key=("clip_id",), sidecars=(sidecar,)))
    assert caught.value.message == (
        'join policy failed:\n  x: 1 base key(s) have no sidecar row (on_missing="error"), e.g. '
        "'café' (closest sidecar key 'cafe\\u0301': they differ only in Unicode normalisation "
        '(NFC/NFD): add nfc to normalize_keys); SidecarSpec(normalize_keys=["nfc"]) would '
        "match 2 of 2 (100.00 %)"
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_wide_json_output_turns_non_finite_values_into_null_as_a_narrow_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, suffix: str
) -> None:
    con = duckdb.connect()
    values = ", ".join(
        f"CASE WHEN i = {j % 3} THEN 'nan'::DOUBLE WHEN i = 1 AND {j} = 7 THEN 'inf'::DOUBLE "
        f"ELSE i + {j} / 8 END AS d{j}"
        for j in range(100)
    )
    query = f"SELECT 'k' || i AS k, {values}, 0.1::FLOAT AS f FROM range(3) t(i)"
    wide_out, narrow_out = tmp_path / f"wide{suffix}", tmp_path / f"narrow{suffix}"
    write_query(con, query, wide_out)
    monkeypatch.setattr(writing, "WIDE_JSON", 1000)
    write_query(con, query, narrow_out)
    assert wide_out.read_bytes() == narrow_out.read_bytes()
    assert b"NaN" not in wide_out.read_bytes()
    assert b'"d0":null' in wide_out.read_bytes()
