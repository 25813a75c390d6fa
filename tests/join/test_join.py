"""The join semantics, rule by rule (docs/join.md)."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from second_opinion import (
    InputError,
    JoinSpec,
    PolicyError,
    SidecarSpec,
    UsageError,
    join,
    join_to_file,
)
from second_opinion._typing import POOL_STATS, PoolStat
from second_opinion.join import load as join_load
from second_opinion.tables import reading
from tests._tables import assert_rows_equal, read_rows, same_value, write_table

BASE = [
    {"clip_id": "a", "mos": 4.0, "vmaf": 90.0},
    {"clip_id": "b", "mos": 3.0, "vmaf": 70.0},
    {"clip_id": "c", "mos": 2.0, "vmaf": 50.0},
    {"clip_id": "d", "mos": 1.0, "vmaf": 30.0},
]


def _base(tmp_path: Path, rows: list[dict[str, Any]] | None = None, name: str = "base.csv") -> Path:
    return write_table(tmp_path / name, rows if rows is not None else BASE)


def _run(tmp_path: Path, sidecars: list[SidecarSpec], key: tuple[str, ...] = ("clip_id",)) -> Any:
    return join(JoinSpec(features=_base(tmp_path), key=key, sidecars=tuple(sidecars)))


def _column(result: Any, name: str) -> list[Any]:
    return list(result.table.column(name).to_pylist())


# --- keys -----------------------------------------------------------------------------------


def test_integer_and_string_keys_match_as_strings(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.jsonl", [{"flickr_id": 3339962845, "mos": 4.6}])
    side = write_table(tmp_path / "s.jsonl", [{"flickr_id": "3339962845", "score": 1.5}])
    result = join(
        JoinSpec(features=base, key=("flickr_id",), sidecars=(SidecarSpec(scorer="x", path=side),))
    )
    assert result.table.to_pylist() == [{"flickr_id": "3339962845", "mos": 4.6, "so_x_score": 1.5}]
    assert result.coverage[0].matched == 1


def test_multi_column_keys_and_key_map(tmp_path: Path) -> None:
    base = write_table(
        tmp_path / "base.csv",
        [
            {"corpus": "k1", "clip": "1", "mos": 1.0},
            {"corpus": "k2", "clip": "1", "mos": 2.0},
        ],
    )
    side = write_table(
        tmp_path / "s.csv",
        [{"ds": "k2", "video": "1", "s": 20.0}, {"ds": "k1", "video": "1", "s": 10.0}],
    )
    spec = SidecarSpec(scorer="x", path=side, key_map={"ds": "corpus", "video": "clip"})
    result = join(JoinSpec(features=base, key=("corpus", "clip"), sidecars=(spec,)))
    assert _column(result, "so_x_s") == [10.0, 20.0]


def test_normalisation_matches_paths_and_keeps_base_keys(tmp_path: Path) -> None:
    side = write_table(
        tmp_path / "s.jsonl",
        [
            {"video": "/data/konvid/A.MP4", "score": 1.0},
            {"video": " /data/konvid/b.mp4 ", "score": 2.0},
        ],
    )
    spec = SidecarSpec(
        scorer="niqe",
        path=side,
        key_map={"video": "clip_id"},
        normalize_keys=("strip", "basename", "stem", "lower"),
    )
    base = _base(tmp_path, [{"clip_id": "a", "mos": 1.0}, {"clip_id": "B ", "mos": 2.0}])
    result = join(JoinSpec(features=base, key=("clip_id",), sidecars=(spec,)))
    assert _column(result, "clip_id") == ["a", "B "]
    assert _column(result, "so_niqe_score") == [1.0, 2.0]


def test_base_keys_that_collide_after_normalisation_are_an_error(tmp_path: Path) -> None:
    base = _base(tmp_path, [{"clip_id": "A", "mos": 1.0}, {"clip_id": "a", "mos": 2.0}])
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": 1.0}])
    spec = SidecarSpec(scorer="x", path=side, normalize_keys=("lower",))
    with pytest.raises(InputError, match=r"base keys 'A' and 'a' become the same key .* lower"):
        join(JoinSpec(features=base, key=("clip_id",), sidecars=(spec,)))


def test_duplicate_base_keys_are_always_an_error(tmp_path: Path) -> None:
    base = _base(tmp_path, [*BASE, {"clip_id": "b", "mos": 0.0, "vmaf": 0.0}])
    with pytest.raises(InputError, match=r"1 duplicate key\(s\) in the base table \('b' x2\)"):
        join(JoinSpec(features=base, key=("clip_id",)))


def test_empty_base_key_names_the_line(tmp_path: Path) -> None:
    base = _base(tmp_path, [{"clip_id": "a", "mos": 1.0}, {"clip_id": None, "mos": 2.0}])
    with pytest.raises(InputError, match=r"base.csv line 3: the key \(clip_id\) is empty"):
        join(JoinSpec(features=base, key=("clip_id",)))


def test_missing_key_column_lists_the_columns(tmp_path: Path) -> None:
    side = write_table(tmp_path / "s.csv", [{"video": "a", "s": 1.0}])
    with pytest.raises(
        InputError,
        match=r"s.csv: key column 'clip_id' not found \(columns: video, s\); map the sidecar's "
        r"key column to 'clip_id' with key_map of 'x'",
    ):
        _run(tmp_path, [SidecarSpec(scorer="x", path=side)])


# --- pooling --------------------------------------------------------------------------------

FRAMES = {"a": [1.0, 2.0, 4.0, 8.0], "b": [3.0], "c": [2.0, float("nan"), 6.0]}


def _frames(tmp_path: Path, frames: dict[str, list[float]] = FRAMES) -> Path:
    rows = [
        {"clip_id": clip, "frame": i, "s": value}
        for clip, values in frames.items()
        for i, value in enumerate(values)
    ]
    return write_table(tmp_path / "frames.parquet", rows)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def test_every_pooling_statistic(tmp_path: Path) -> None:
    stats: tuple[PoolStat, ...] = POOL_STATS
    spec = SidecarSpec(scorer="d", path=_frames(tmp_path), frame_column="frame", pool=stats)
    result = _run(tmp_path, [spec])
    for clip_index, clip in enumerate(("a", "b", "c")):
        finite = [v for v in FRAMES[clip] if math.isfinite(v)]
        expected = {
            "mean": statistics.fmean(finite),
            "median": statistics.median(finite),
            "min": min(finite),
            "max": max(finite),
            "std": statistics.stdev(finite) if len(finite) > 1 else None,
            "p5": _percentile(finite, 0.05),
            "p95": _percentile(finite, 0.95),
            "harmonic_mean": statistics.harmonic_mean(finite),
        }
        for stat, want in expected.items():
            got = _column(result, f"so_d_s_{stat}")[clip_index]
            assert same_value(got, want), (clip, stat, got, want)
        assert _column(result, "so_d_n_frames")[clip_index] == len(FRAMES[clip])
    assert _column(result, "so_d_s_mean")[3] is None
    assert _column(result, "so_d_n_frames")[3] is None
    assert result.coverage[0].non_finite == {"s": 1}
    assert result.coverage[0].sidecar_rows == 8


def test_pooled_columns_are_named_and_ordered_by_column_then_stat(tmp_path: Path) -> None:
    rows = [{"clip_id": "a", "frame": 0, "t": 1.0, "u": 2.0}]
    side = write_table(tmp_path / "f.jsonl", rows)
    spec = SidecarSpec(scorer="dover", path=side, frame_column="frame", pool=("p5", "mean"))
    result = _run(tmp_path, [spec])
    assert result.table.column_names[3:] == [
        "so_dover_t_p5",
        "so_dover_t_mean",
        "so_dover_u_p5",
        "so_dover_u_mean",
        "so_dover_n_frames",
    ]


def test_harmonic_mean_refuses_non_positive_values(tmp_path: Path) -> None:
    side = _frames(tmp_path, {"a": [1.0, 0.0], "b": [-2.0]})
    spec = SidecarSpec(scorer="d", path=side, frame_column="frame", pool=("harmonic_mean",))
    with pytest.raises(
        InputError, match=r"harmonic_mean needs values > 0, but column 's' has 2 value\(s\) <= 0"
    ):
        _run(tmp_path, [spec])


# --- columns and names ----------------------------------------------------------------------


def test_default_columns_are_the_numeric_non_key_columns(tmp_path: Path) -> None:
    side = write_table(
        tmp_path / "s.jsonl", [{"clip_id": "a", "label": "x", "s1": 1, "s2": 2.5, "ok": True}]
    )
    result = _run(tmp_path, [SidecarSpec(scorer="x", path=side)])
    assert result.table.column_names[3:] == ["so_x_s1", "so_x_s2"]
    assert result.table.schema.field("so_x_s1").type == "double"


def test_explicit_columns_coerce_numeric_strings(tmp_path: Path) -> None:
    side = write_table(tmp_path / "s.jsonl", [{"clip_id": "a", "s": "2.5"}])
    result = _run(tmp_path, [SidecarSpec(scorer="x", path=side, columns=("s",))])
    assert _column(result, "so_x_s")[0] == 2.5


def test_a_non_numeric_score_names_file_line_column_and_value(tmp_path: Path) -> None:
    side = write_table(
        tmp_path / "s.jsonl", [{"clip_id": "a", "s": "2.5"}, {"clip_id": "b", "s": "high"}]
    )
    with pytest.raises(InputError, match=r"s.jsonl line 2: column 's' has 'high', which is not"):
        _run(tmp_path, [SidecarSpec(scorer="x", path=side, columns=("s",))])


def test_prefix_replaces_the_default(tmp_path: Path) -> None:
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": 1.0}])
    result = _run(tmp_path, [SidecarSpec(scorer="x", path=side, prefix="vmaf2_")])
    assert result.table.column_names[-1] == "vmaf2_s"


def test_output_name_colliding_with_a_base_column_names_both(tmp_path: Path) -> None:
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "vmaf": 1.0}])
    with pytest.raises(
        UsageError,
        match=r"output column 'vmaf' of sidecar 'x' collides with column 'vmaf' of base table "
        r".*base.csv; set a different prefix for 'x'",
    ):
        _run(tmp_path, [SidecarSpec(scorer="x", path=side, prefix="")])


def test_output_names_colliding_between_sidecars_name_both(tmp_path: Path) -> None:
    one = write_table(tmp_path / "one.csv", [{"clip_id": "a", "s": 1.0}])
    two = write_table(tmp_path / "two.csv", [{"clip_id": "a", "s": 2.0}])
    with pytest.raises(
        UsageError, match=r"'p_s' of sidecar 'y' collides with column 'p_s' of side"
    ):
        _run(
            tmp_path,
            [
                SidecarSpec(scorer="x", path=one, prefix="p_"),
                SidecarSpec(scorer="y", path=two, prefix="p_"),
            ],
        )


# --- missing keys, coverage policy ----------------------------------------------------------


def _partial(tmp_path: Path) -> Path:
    return write_table(
        tmp_path / "s.csv",
        [{"clip_id": "c", "s": 3.0}, {"clip_id": "a", "s": 1.0}, {"clip_id": "zz", "s": 9.0}],
    )


def test_left_join_keeps_every_base_row_in_order(tmp_path: Path) -> None:
    result = _run(tmp_path, [SidecarSpec(scorer="x", path=_partial(tmp_path))])
    assert _column(result, "clip_id") == ["a", "b", "c", "d"]
    assert _column(result, "so_x_s") == [1.0, None, 3.0, None]
    assert _column(result, "mos") == [4.0, 3.0, 2.0, 1.0]


def test_on_missing_drop_removes_base_rows_the_sidecar_lacks(tmp_path: Path) -> None:
    spec = SidecarSpec(scorer="x", path=_partial(tmp_path), on_missing="drop")
    result = _run(tmp_path, [spec])
    assert _column(result, "clip_id") == ["a", "c"]
    assert result.coverage[0].matched == 2


def test_on_missing_error_is_a_policy_failure_with_examples(tmp_path: Path) -> None:
    spec = SidecarSpec(scorer="x", path=_partial(tmp_path), on_missing="error")
    with pytest.raises(PolicyError, match=r"x: 2 base key\(s\) have no sidecar row .* 'b', 'd'"):
        _run(tmp_path, [spec])


def test_min_coverage_failure_carries_the_full_report(tmp_path: Path) -> None:
    spec = SidecarSpec(scorer="x", path=_partial(tmp_path), min_coverage=0.75)
    with pytest.raises(
        PolicyError, match=r"x: coverage 0.5000 \(2/4\) is below the minimum 0.75"
    ) as caught:
        _run(tmp_path, [spec])
    report = caught.value.report
    assert isinstance(report, tuple)
    assert report[0].coverage == 0.5


def test_coverage_report_counts_and_examples(tmp_path: Path) -> None:
    side = write_table(
        tmp_path / "s.csv",
        [
            {"clip_id": "a.mp4", "s": 1.0},
            {"clip_id": "b", "s": float("inf")},
            {"clip_id": "c", "s": None},
            {"clip_id": "c", "s": 5.0},
        ],
    )
    result = _run(tmp_path, [SidecarSpec(scorer="x", path=side, on_duplicate="last")])
    report = result.coverage[0]
    assert (report.base_rows, report.sidecar_rows, report.sidecar_keys) == (4, 4, 3)
    assert (report.matched, report.missing, report.extra) == (2, 2, 1)
    assert report.duplicate_keys == 1
    assert report.non_finite == {"s": 1}
    assert report.nulls == {"so_x_s": 1}  # b's inf became null; c's last value is 5.0
    assert report.coverage == 0.5
    assert [(u.key, u.closest) for u in report.unmatched_base] == [
        (("a",), ("a.mp4",)),
        (("d",), ("b",)),
    ]
    assert [(u.key, u.closest) for u in report.unmatched_sidecar] == [(("a.mp4",), ("a",))]


# --- duplicates ------------------------------------------------------------------------------


def _dupes(tmp_path: Path) -> Path:
    return write_table(
        tmp_path / "s.jsonl",
        [
            {"clip_id": "b", "s": 1.0},
            {"clip_id": "a", "s": 5.0},
            {"clip_id": "b", "s": 3.0},
            {"clip_id": "b", "s": None},
        ],
    )


def test_duplicates_are_an_error_by_default_listing_keys_with_counts(tmp_path: Path) -> None:
    with pytest.raises(
        InputError,
        match=r"1 duplicate key\(s\) \('b' x3\); keep one row per key with "
        r'on_duplicate="first" \(or last, or mean\)',
    ):
        _run(tmp_path, [SidecarSpec(scorer="x", path=_dupes(tmp_path))])


@pytest.mark.parametrize(("policy", "expected"), [("first", 1.0), ("last", None), ("mean", 2.0)])
def test_duplicate_policies(tmp_path: Path, policy: str, expected: float | None) -> None:
    spec = SidecarSpec.model_validate(
        {"scorer": "x", "path": _dupes(tmp_path), "on_duplicate": policy}
    )
    result = _run(tmp_path, [spec])
    assert _column(result, "so_x_s")[:2] == [5.0, expected]


# --- derived features ------------------------------------------------------------------------


def test_zscore_rank_and_delta(tmp_path: Path) -> None:
    side = write_table(
        tmp_path / "s.csv",
        [
            {"clip_id": "a", "s": 1.0},
            {"clip_id": "b", "s": 2.0},
            {"clip_id": "c", "s": 2.0},
            {"clip_id": "d", "s": 5.0},
        ],
    )
    spec = SidecarSpec(
        scorer="x",
        path=side,
        higher_is_better=False,
        derived=("zscore", "rank", "delta:vmaf"),
    )
    result = _run(tmp_path, [spec])
    values = [1.0, 2.0, 2.0, 5.0]
    mean, std = statistics.fmean(values), statistics.pstdev(values)
    z = [(v - mean) / std for v in values]
    vmaf = [90.0, 70.0, 50.0, 30.0]
    vz = [(v - statistics.fmean(vmaf)) / statistics.pstdev(vmaf) for v in vmaf]
    assert all(map(math.isclose, _column(result, "so_x_s_zscore"), z))
    assert _column(result, "so_x_s_rank") == [0.0, 0.5, 0.5, 1.0]
    expected_delta = [-zi - vzi for zi, vzi in zip(z, vz, strict=True)]
    assert all(map(math.isclose, _column(result, "so_x_s_delta_vmaf"), expected_delta))


def test_delta_needs_a_numeric_base_column(tmp_path: Path) -> None:
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": 1.0}])
    with pytest.raises(InputError, match=r"base column for delta 'psnr' not found"):
        _run(tmp_path, [SidecarSpec(scorer="x", path=side, derived=("delta:psnr",))])


# --- reading once, writing atomically ---------------------------------------------------------


def test_each_input_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scans: Counter[str] = Counter()
    real = reading.scan_sql

    def counting(table: Any, **kwargs: Any) -> str:
        scans[table.path.name] += 1
        return str(real(table, **kwargs))

    monkeypatch.setattr(join_load, "scan_sql", counting)
    frames = _frames(tmp_path)
    partial = _partial(tmp_path)
    _run(
        tmp_path,
        [
            SidecarSpec(scorer="x", path=partial),
            SidecarSpec(scorer="d", path=frames, frame_column="frame"),
        ],
    )
    assert scans == {"base.csv": 1, "s.csv": 1, "frames.parquet": 1}


def test_join_to_file_writes_the_same_table(tmp_path: Path) -> None:
    spec = JoinSpec(
        features=_base(tmp_path),
        key=("clip_id",),
        sidecars=(SidecarSpec(scorer="x", path=_partial(tmp_path)),),
    )
    out = tmp_path / "out.jsonl"
    report = join_to_file(spec, out)
    assert report.rows == 4
    assert report.columns == ("clip_id", "mos", "vmaf", "so_x_s")
    assert_rows_equal(read_rows(out), join(spec).table.to_pylist())


def test_output_equal_to_an_input_is_refused(tmp_path: Path) -> None:
    side = _partial(tmp_path)
    before = side.read_bytes()
    spec = JoinSpec(
        features=_base(tmp_path), key=("clip_id",), sidecars=(SidecarSpec(scorer="x", path=side),)
    )
    with pytest.raises(UsageError, match=r"the output is also an input"):
        join_to_file(spec, side)
    assert side.read_bytes() == before


def test_policy_failure_writes_nothing(tmp_path: Path) -> None:
    spec = JoinSpec(
        features=_base(tmp_path),
        key=("clip_id",),
        sidecars=(SidecarSpec(scorer="x", path=_partial(tmp_path), min_coverage=1.0),),
    )
    with pytest.raises(PolicyError, match="below the minimum"):
        join_to_file(spec, tmp_path / "out.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.csv", "s.csv"]


# --- bad input: what is refused, what is read (ADR 0009) ------------------------------------

HUGE = "9" * 400  # beyond a 64-bit float's range: reads as inf


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("s.csv", f"clip_id,s\na,5.1\nb,{HUGE}\nc,-{HUGE}\n"),
        (
            "s.jsonl",
            (
                '{"clip_id": "a", "s": 5.1}\n{"clip_id": "b", "s": 1e400}\n'
                '{"clip_id": "c", "s": -1e400}\n'
            ),
        ),
    ],
)
def test_a_score_beyond_float64_is_non_finite_null_and_counted(
    tmp_path: Path, name: str, content: str
) -> None:
    side = tmp_path / name
    side.write_text(content, encoding="utf-8")
    result = _run(tmp_path, [SidecarSpec(scorer="x", path=side)])
    assert _column(result, "so_x_s") == [5.1, None, None, None]
    report = result.coverage[0]
    assert report.non_finite == {"s": 2}
    assert report.nulls == {"so_x_s": 2}
    assert report.matched == 3


def test_a_pooled_score_beyond_float64_is_left_out_and_counted(tmp_path: Path) -> None:
    side = tmp_path / "f.csv"
    side.write_text(f"clip_id,frame,s\na,0,1\na,1,{HUGE}\na,2,3\n", encoding="utf-8")
    spec = SidecarSpec(scorer="x", path=side, frame_column="frame", pool=("mean", "max"))
    result = _run(tmp_path, [spec])
    assert _column(result, "so_x_s_mean")[0] == 2.0
    assert _column(result, "so_x_s_max")[0] == 3.0
    assert result.coverage[0].non_finite == {"s": 1}


def test_a_base_number_beyond_float64_passes_through_as_inf(tmp_path: Path) -> None:
    base = tmp_path / "base.csv"
    base.write_text(f"clip_id,mos\na,1.5\nb,{HUGE}\nc,3.5\n", encoding="utf-8")
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": 1.0}])
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=(SidecarSpec(scorer="x", path=side),))
    assert join(spec).table.column("mos").to_pylist() == [1.5, math.inf, 3.5]
    report = join_to_file(spec, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text().splitlines()[2] == "b,inf,"
    assert report.rows == 3


def test_a_trailing_comma_in_a_jsonl_sidecar_is_read(tmp_path: Path) -> None:
    # DuckDB's JSON reader allows it, so the first line (checked in Python) allows it too.
    side = tmp_path / "s.jsonl"
    side.write_text(
        '{"clip_id": "a", "s": 5.1,}\n{"clip_id": "b", "s": 4.2,}\n{"clip_id": "c", "s": 3.3}\n',
        encoding="utf-8",
    )
    result = _run(tmp_path, [SidecarSpec(scorer="x", path=side)])
    assert _column(result, "so_x_s") == [5.1, 4.2, 3.3, None]


def _keyed(tmp_path: Path, name: str, keys: list[Any], frames: int = 1) -> Path:
    rows = [{"clip_id": k, "frame": f, "s": 1.0} for k in keys for f in range(frames)]
    path = tmp_path / name
    if name.endswith(".jsonl"):  # json.dumps keeps objects and NULs as they are
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path
    return write_table(path, rows)


@pytest.mark.parametrize("frames", [1, 3], ids=["per-clip", "per-frame"])
@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        ("s.csv", "  ", r"line 3: the key column 'clip_id' holds only whitespace \('  '\)"),
        ("s.jsonl", "\t", r"line 2: the key column 'clip_id' holds only whitespace \('\\t'\)"),
        ("s.jsonl", "", r"line 2: the key \(clip_id\) is empty; every row needs a key"),
        ("s.csv", "b\x00", r"line 3: the key column 'clip_id' holds a NUL character"),
        ("s.parquet", "b\x00", r"row 2: the key column 'clip_id' holds a NUL character"),
        ("s.parquet", " ", r"row 2: the key column 'clip_id' holds only whitespace"),
        ("s.jsonl", {"id": "b"}, r"line 2: the key column 'clip_id' holds a JSON object"),
        ("s.jsonl", ["b"], r"line 2: the key column 'clip_id' holds a JSON array"),
    ],
)
def test_an_unusable_sidecar_key_names_its_line(
    tmp_path: Path, name: str, bad: Any, message: str, frames: int
) -> None:
    side = _keyed(tmp_path, name, ["a", bad, "c"], frames)
    line = message.split(":", maxsplit=1)[0]
    if frames > 1 and line.startswith("line"):  # the bad key's first frame
        number = int(line.split()[1])
        first = 2 + 3 * (number - 2) if name.endswith(".csv") else 1 + 3 * (number - 1)
        message = message.replace(line, f"line {first}", 1)
    elif frames > 1:
        message = message.replace(line, "row 4", 1)
    spec = SidecarSpec(scorer="x", path=side, frame_column="frame" if frames > 1 else None)
    with pytest.raises(InputError, match=rf"{name} {message}"):
        _run(tmp_path, [spec])


@pytest.mark.parametrize("steps", [("basename",), ("stem",), ("strip", "lower")])
def test_a_nul_or_object_key_is_refused_whatever_the_normalisation(
    tmp_path: Path, steps: tuple[Any, ...]
) -> None:
    # basename and stem could cut the NUL or the { out of the key: it is tested as read.
    for bad, what in (("dir\x00/b.mp4", "a NUL character"), ({"p": "x/b.y"}, "a JSON object")):
        side = _keyed(tmp_path, "s.jsonl", ["a", bad], frames=2)
        spec = SidecarSpec(scorer="x", path=side, frame_column="frame", normalize_keys=steps)
        with pytest.raises(
            InputError, match=rf"s.jsonl line 3: the key column 'clip_id' holds {what}"
        ):
            _run(tmp_path, [spec])


@pytest.mark.parametrize("frames", [1, 2], ids=["per-clip", "per-frame"])
def test_text_that_looks_like_json_is_a_key(tmp_path: Path, frames: int) -> None:
    side = _keyed(tmp_path, "s.jsonl", ["a", "{b}", "[c]"], frames)
    spec = SidecarSpec(scorer="x", path=side, frame_column="frame" if frames > 1 else None)
    assert _run(tmp_path, [spec]).coverage[0].extra == 2


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        (
            "base.csv",
            " ",
            (
                r"base.csv line 3: the key column 'clip_id' holds only whitespace "
                r"\(' '\), which is an empty key; every clip needs a key"
            ),
        ),
        ("base.jsonl", "b\x00", r"base.jsonl line 2: the key column 'clip_id' holds a NUL"),
        (
            "base.jsonl",
            {"id": "b"},
            (
                r"base.jsonl line 2: the key column 'clip_id' holds a JSON "
                r"object \(\{\"id\": \"b\"\}\), not a string or a number; write the key as a string"
            ),
        ),
    ],
)
def test_an_unusable_base_key_names_its_line(
    tmp_path: Path, name: str, bad: Any, message: str
) -> None:
    base = _keyed(tmp_path, name, ["a", bad, "c"])
    with pytest.raises(InputError, match=message):
        join(JoinSpec(features=base, key=("clip_id",)))


def test_a_nested_parquet_key_column_is_refused_by_its_type(tmp_path: Path) -> None:
    side = write_table(tmp_path / "s.parquet", [{"clip_id": {"id": "a"}, "s": 1.0}])
    with pytest.raises(
        InputError, match=r"s.parquet: the key column 'clip_id' is stored as STRUCT\(id VARCHAR\)"
    ):
        _run(tmp_path, [SidecarSpec(scorer="x", path=side)])


def test_a_sidecar_without_numbers_says_why(tmp_path: Path) -> None:
    side = tmp_path / "s.csv"
    side.write_text("clip_id,s,note\na,1,x\nb,high,y\n", encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"s.csv: no numeric score columns besides the key: column 's' is text \(line 3 has "
        r"'high', which is not a number\); column 'note' is text \(line 2 has 'x', which is not a "
        r"number\); fix the values that are not numbers, or name the score columns in columns of "
        r"'x'$",
    ):
        _run(tmp_path, [SidecarSpec(scorer="x", path=side)])


def test_a_header_only_sidecar_says_it_has_no_rows(tmp_path: Path) -> None:
    side = tmp_path / "s.csv"
    side.write_text("clip_id,s\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"s.csv: no numeric score columns: the table has no rows"):
        _run(tmp_path, [SidecarSpec(scorer="x", path=side)])
    # Named columns: allowed, and it matches nothing (ADR 0003): a failure unless allowed.
    with pytest.raises(PolicyError, match=r"x: no base key .*\(the sidecar has no rows\)"):
        _run(tmp_path, [SidecarSpec(scorer="x", path=side, columns=("s",))])
    allowed = SidecarSpec(scorer="x", path=side, columns=("s",), allow_no_match=True)
    result = _run(tmp_path, [allowed])
    assert result.coverage[0].matched == 0
