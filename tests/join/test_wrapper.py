"""Wrapper records (records: wrapper): the original materializer's score rows, rule by rule."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from second_opinion.errors import InputError, KeyProblemError, PolicyError, UsageError
from second_opinion.join.run import join
from second_opinion.join.spec import JoinSpec, SidecarSpec, build_join_spec, scorer_slug
from second_opinion.join.wrapper import read_records

Row = dict[str, Any]


def _jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _base(tmp_path: Path, keys: list[str], column: str = "clip_id") -> Path:
    lines = [f"{column},mos"] + [f"{k},{i}" for i, k in enumerate(keys)]
    path = tmp_path / "base.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _spec(base: Path, scores: Path, key: str = "clip_id", **options: Any) -> JoinSpec:
    sidecar = {"scorer": "w", "path": scores, "records": "wrapper", **options}
    return build_join_spec(features=base, key=[key], sidecars=[sidecar])


def _rows(spec: JoinSpec) -> list[Row]:
    return list(join(spec).table.to_pylist())


def test_wrapper_rows_give_five_columns_per_competitor_in_sorted_order(tmp_path: Path) -> None:
    scores = _jsonl(
        tmp_path / "s.jsonl",
        [
            {"competitor": "fork-nr", "clip_id": "a", "score": 1.5, "runtime_ms": 10},
            {"competitor": "DOVER", "summary": {"clip_id": "b", "mos": 4.5, "elapsed_ms": 7}},
            {"clip_id": "b", "frames": [{"score": 1}, {"score": 2, "runtime_ms": 3}]},
        ],
    )
    spec = _spec(_base(tmp_path, ["a", "b"]), scores, on_missing="mark", prefix="so_{scorer}_")
    result = join(spec)
    assert result.table.column_names == [
        "clip_id",
        "mos",
        *(f"so_dover_{c}" for c in ("score", "status", "runtime_ms", "frames", "source")),
        *(f"so_fork_nr_{c}" for c in ("score", "status", "runtime_ms", "frames", "source")),
        *(f"so_w_{c}" for c in ("score", "status", "runtime_ms", "frames", "source")),
    ]
    rows = result.table.to_pylist()
    assert rows[0]["so_fork_nr_score"] == 1.5
    assert rows[0]["so_fork_nr_runtime_ms"] == 10.0
    assert rows[0]["so_fork_nr_source"] == str(scores)
    assert (rows[0]["so_dover_status"], rows[0]["so_dover_frames"]) == ("missing", 0)
    assert (rows[0]["so_dover_score"], rows[0]["so_dover_source"]) == (None, "")
    assert (rows[1]["so_dover_score"], rows[1]["so_dover_runtime_ms"]) == (4.5, 7.0)
    assert (rows[1]["so_w_score"], rows[1]["so_w_frames"], rows[1]["so_w_runtime_ms"]) == (
        1.5,
        2,
        3.0,
    )
    assert [c.scorer for c in result.coverage] == ["DOVER", "fork-nr", "w"]
    assert [c.matched for c in result.coverage] == [1, 1, 1]


def test_the_dialects_prefix_names_columns_like_the_original(tmp_path: Path) -> None:
    scores = _jsonl(tmp_path / "s.jsonl", [{"competitor": "Fork NR", "clip_id": "a", "mos": 2}])
    spec = _spec(_base(tmp_path, ["a"]), scores, prefix="second_opinion_{scorer}_")
    assert "second_opinion_fork_nr_score" in join(spec).table.column_names


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, "ok"),
        ("", "ok"),
        (" PASS ", "ok"),
        ("Success", "ok"),
        ("ok", "ok"),
        ("failed", "bad"),
        ("timeout", "bad"),
        (0, "bad"),
        (False, "bad"),
    ],
)
def test_status_ok_or_bad_keeps_the_score(tmp_path: Path, status: object, expected: str) -> None:
    scores = _jsonl(tmp_path / "s.jsonl", [{"clip_id": "a", "score": 3, "status": status}])
    row = _rows(_spec(_base(tmp_path, ["a"]), scores))[0]
    assert (row["so_w_status"], row["so_w_score"]) == (expected, 3.0)


def test_missing_policies_null_mark_drop_error(tmp_path: Path) -> None:
    base = _base(tmp_path, ["a", "b"])
    scores = _jsonl(tmp_path / "s.jsonl", [{"clip_id": "a", "score": 1}])
    null = _rows(_spec(base, scores))[1]
    assert (null["so_w_status"], null["so_w_frames"], null["so_w_source"]) == (None, None, None)
    mark = _rows(_spec(base, scores, on_missing="mark"))[1]
    assert (mark["so_w_status"], mark["so_w_frames"], mark["so_w_source"]) == ("missing", 0, "")
    assert [r["clip_id"] for r in _rows(_spec(base, scores, on_missing="drop"))] == ["a"]
    with pytest.raises(PolicyError, match=r"w: 1 base key\(s\) have no sidecar row .*'b'"):
        join(_spec(base, scores, on_missing="error"))


def test_whitespace_keys_match_once_stripped(tmp_path: Path) -> None:
    scores = _jsonl(tmp_path / "s.jsonl", [{"clip_id": "  a\t", "score": 1}])
    spec = _spec(_base(tmp_path, ["a"]), scores, normalize_keys=["strip"])
    assert _rows(spec)[0]["so_w_score"] == 1.0


def test_auto_is_decided_per_side_and_per_row(tmp_path: Path) -> None:
    base = _base(tmp_path, ["/corpus/a.mp4", "/corpus/b.mp4", "c"], column="distorted_path")
    scores = _jsonl(
        tmp_path / "s.jsonl",
        [
            {"path": "/elsewhere/a.mp4", "score": 1},  # path field: basename
            {"clip_id": "b.mp4", "score": 2},  # clip_id field: as it is
            {"clip_id": "/x/c", "score": 3},  # not a path field: /x/c stays, no match
        ],
    )
    spec = _spec(base, scores, key="distorted_path", normalize_keys=["strip", "auto"])
    assert [r["so_w_score"] for r in _rows(spec)] == [1.0, 2.0, None]


def test_auto_keeps_base_keys_of_a_column_not_named_like_a_path(tmp_path: Path) -> None:
    base = _base(tmp_path, ["/corpus/a.mp4"], column="clip_id")
    scores = _jsonl(tmp_path / "s.jsonl", [{"path": "/elsewhere/a.mp4", "score": 1}])
    spec = _spec(base, scores, normalize_keys=["strip", "auto"], allow_no_match=True)
    assert _rows(spec)[0]["so_w_score"] is None


def test_key_field_and_score_field(tmp_path: Path) -> None:
    scores = _jsonl(tmp_path / "s.jsonl", [{"id": "a", "clip_id": "zz", "q": 7, "score": 1}])
    spec = _spec(_base(tmp_path, ["a"]), scores, key_field="id", score_field="q")
    assert _rows(spec)[0]["so_w_score"] == 7.0


def test_json_documents_rows_results_list_and_one_object(tmp_path: Path) -> None:
    base = _base(tmp_path, ["a"])
    for name, document in [
        ("rows.json", {"rows": [{"clip_id": "a", "score": 1}]}),
        ("results.json", {"results": [{"clip_id": "a", "score": 1}]}),
        ("list.json", [{"clip_id": "a", "score": 1}]),
        ("one.json", {"clip_id": "a", "score": 1}),
    ]:
        path = tmp_path / name
        path.write_text(json.dumps(document), encoding="utf-8")
        assert _rows(_spec(base, path))[0]["so_w_score"] == 1.0, name


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"score": 1}, r"s.jsonl line 1: no key field \(looked for clip_id, video_id"),
        ({"clip_id": "a"}, r"s.jsonl line 1: no score \(looked for score, mos, .*set score_field"),
        ({"clip_id": "a", "score": None}, r"s.jsonl line 1: field 'score' is null, not a finite"),
        ({"clip_id": "a", "score": True}, r"s.jsonl line 1: field 'score' is true, not a finite"),
        ({"clip_id": "a", "mos": "NaN"}, r"s.jsonl line 1: field 'mos' is 'NaN', not a finite"),
        ({"clip_id": "a", "score": 1e999}, r"field 'score' is Infinity, not a finite number"),
        ({"clip_id": "a", "frames": [{"score": 1}, 2]}, r"line 1: frames\[1\] is not an object"),
        ({"clip_id": "a", "frames": [{"x": 1}]}, r"line 1: frames\[0\] has no score"),
        ({"clip_id": "a", "frames": [{"score": "x"}]}, r"field 'frames\[0\].score' is 'x'"),
        ({"clip_id": " ", "score": 1}, r"line 1: the key column 'clip_id' holds only whitespace"),
        ({"clip_id": {"a": 1}, "score": 1}, r"line 1: the key column 'clip_id' holds a JSON obj"),
        ({"clip_id": "a", "score": 1, "runtime_ms": "slow"}, r"field 'runtime_ms' is 'slow'"),
    ],
)
def test_bad_rows_name_the_file_line_field_and_value(
    tmp_path: Path, row: Row, message: str
) -> None:
    scores = _jsonl(tmp_path / "s.jsonl", [row])
    with pytest.raises(InputError, match=message):
        join(_spec(_base(tmp_path, ["a"]), scores))


def test_a_missing_key_field_names_it(tmp_path: Path) -> None:
    scores = _jsonl(tmp_path / "s.jsonl", [{"clip_id": "a", "score": 1}])
    with pytest.raises(KeyProblemError, match=r"line 1: no key field 'id' \(fields: clip_id"):
        join(_spec(_base(tmp_path, ["a"]), scores, key_field="id"))


def test_duplicates_name_both_rows(tmp_path: Path) -> None:
    scores = _jsonl(
        tmp_path / "s.jsonl",
        [{"clip_id": "a", "score": 1}, {"clip_id": "b", "score": 1}, {"clip_id": " a", "score": 2}],
    )
    message = r"duplicate score for scorer 'w' and key 'a' \(line 1 and line 3\)"
    with pytest.raises(KeyProblemError, match=message):
        join(_spec(_base(tmp_path, ["a"]), scores, normalize_keys=["strip"]))


def test_without_fallback_a_row_naming_no_competitor_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps([{"competitor": "x", "clip_id": "a", "score": 1}, {"clip_id": "a"}]))
    message = r"s.json rows\[1\]: the row names no competitor; name the scorer \(LABEL=path\)"
    with pytest.raises(InputError, match=message):
        join(_spec(_base(tmp_path, ["a"]), path, scorer_fallback=False))


def test_a_competitor_without_letters_is_refused(tmp_path: Path) -> None:
    scores = _jsonl(tmp_path / "s.jsonl", [{"competitor": "--", "clip_id": "a", "score": 1}])
    with pytest.raises(InputError, match=r"line 1: competitor '--' gives no column name"):
        join(_spec(_base(tmp_path, ["a"]), scores))


def test_not_json_rows_are_refused(tmp_path: Path) -> None:
    scores = tmp_path / "s.jsonl"
    scores.write_text('{"clip_id": "a", "score": 1}\n[1]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"s.jsonl line 2: expected a JSON object per line"):
        join(_spec(_base(tmp_path, ["a"]), scores))
    csv = tmp_path / "s.csv"
    csv.write_text("clip_id,score\na,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"wrapper records are read from .jsonl, .ndjson or .json"):
        join(_spec(_base(tmp_path, ["a"]), csv))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"columns": ["score"]}, r'columns applies to records="table"'),
        ({"scorer_column": "c"}, r'scorer_column applies to records="table"'),
        ({"records": "table", "key_field": "id"}, r'key_field applies to records="wrapper"'),
        (
            {"records": "table", "on_missing": "mark"},
            (
                r"on_missing=\"mark\" says 'missing' in a status column; set status_column \(or "
                r'records="wrapper"\), or use on_missing="null"'
            ),
        ),
    ],
)
def test_options_that_do_not_fit_the_records_kind_are_refused(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        _spec(tmp_path / "b.csv", tmp_path / "s.jsonl", **options)


def test_hyphenated_scorer_names_are_slugged_in_column_names(tmp_path: Path) -> None:
    scores = _jsonl(tmp_path / "s.jsonl", [{"clip_id": "a", "score": 1}])
    spec = build_join_spec(
        features=_base(tmp_path, ["a"]),
        key=["clip_id"],
        sidecars=[{"scorer": "fork-nr", "path": scores, "records": "wrapper"}],
    )
    assert "so_fork_nr_score" in join(spec).table.column_names
    assert [scorer_slug(n) for n in ("fork-nr", "Fork  NR!", "niqe_v2", "__")] == [
        "fork_nr",
        "fork_nr",
        "niqe_v2",
        "__",
    ]


# ---- property: the extraction against a plain-Python reference -----------------------------

KEY_NAMES = ("clip_id", "Video_ID", "name", "PATH", "other")
SCORE_NAMES = ("score", "MOS", "quality", "vmaf", "nope")
RUNTIME_NAMES = ("runtime_ms", "Elapsed_MS", "nope_ms")
NUMBERS = st.one_of(
    st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
)


def _first(mapping: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any] | None:
    for wanted in names:
        for actual in reversed(list(mapping)):  # the last of two spellings, as a dict keeps it
            if actual.lower() == wanted:
                return actual, mapping[actual]
    return None


def _reference(row: dict[str, Any]) -> tuple[str, float, str, float | None, int] | str:
    """The original's rules, written out plainly: (key, score, status, runtime, frames), or
    the start of the error: ``no `` (no key or no score) or ``frames[`` (a frame without)."""
    keys = ("clip_id", "video_id", "name", "path")
    scores = ("score", "mos", "quality", "vmaf")
    runtimes = ("runtime_ms", "elapsed_ms")
    inner = row.get("summary")
    summary: dict[str, Any] = inner if isinstance(inner, dict) else {}
    key = _first(row, keys) or _first(summary, keys)
    if key is None:
        return "no "
    score = _first(row, scores) or _first(summary, scores)
    frames = 0
    if score is not None:
        value = float(score[1])
    else:
        found = [_first(f, scores) for f in row.get("frames") or []]
        if not found:
            return "no "
        if any(f is None for f in found):
            return "frames["
        values = [float(f[1]) for f in found if f is not None]
        value, frames = sum(values) / len(values), len(values)
    runtime = _first(row, runtimes) or _first(summary, runtimes)
    if runtime is not None:
        time: float | None = float(runtime[1])
    else:
        found = [_first(f, runtimes) for f in row.get("frames") or []]
        times = [float(t[1]) for t in found if t is not None]
        time = sum(times) if times else None
    status = row.get("status")
    ok = status is None or str(status).strip().lower() in ("", "pass", "success", "ok")
    text = key[1] if isinstance(key[1], str) else str(key[1])
    return text, value, "ok" if ok else "bad", time, frames


def _fields(names: tuple[str, ...], values: st.SearchStrategy[Any]) -> st.SearchStrategy[Row]:
    return st.dictionaries(st.sampled_from(names), values, max_size=2)


ROWS = st.builds(
    lambda keys, scores, runtimes, summary, frames, status: {
        **keys,
        **scores,
        **runtimes,
        **({"summary": summary} if summary is not None else {}),
        **({"frames": frames} if frames is not None else {}),
        **({"status": status} if status != "absent" else {}),
    },
    _fields(KEY_NAMES, st.sampled_from(["a", "b/c.mp4", "7"]) | st.integers(0, 9)),
    _fields(SCORE_NAMES, NUMBERS),
    _fields(RUNTIME_NAMES, NUMBERS),
    st.none() | _fields(KEY_NAMES + SCORE_NAMES + RUNTIME_NAMES, NUMBERS),
    st.none() | st.lists(_fields(("score", "runtime_ms", "Mos"), NUMBERS), max_size=3),
    st.sampled_from(["absent", None, "", "OK ", "pass", "failed", 1]),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=ROWS)
def test_extraction_equals_the_plain_python_reference(tmp_path: Path, row: Row) -> None:
    path = _jsonl(tmp_path / "p.jsonl", [row])
    spec = SidecarSpec(scorer="w", path=path, records="wrapper")
    expected = _reference(row)
    if isinstance(expected, str):
        with pytest.raises(InputError, match=re.escape(f"{path} line 1: {expected}")):
            read_records(spec)
        return
    (record,) = read_records(spec)
    key, score, status, runtime, frames = expected
    assert (record.key, record.status, record.frames) == (key, status, frames)
    assert math.isclose(record.score, score, rel_tol=1e-12, abs_tol=1e-9)
    assert (record.runtime_ms is None) == (runtime is None)
    if runtime is not None and record.runtime_ms is not None:
        assert math.isclose(record.runtime_ms, runtime, rel_tol=1e-12, abs_tol=1e-9)


def test_an_empty_or_absent_wrapper_file_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "s.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"s.jsonl: file is empty \(0 bytes\)"):
        join(_spec(_base(tmp_path, ["a"]), empty))
    with pytest.raises(InputError, match=r"nope.jsonl: no such file"):
        join(_spec(_base(tmp_path, ["a"]), tmp_path / "nope.jsonl"))
    blank = tmp_path / "b.jsonl"
    blank.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"b.jsonl: no score rows; the file holds none"):
        join(_spec(_base(tmp_path, ["a"]), blank))


def test_a_float_key_keeps_its_text_and_matches_the_same_number_in_a_jsonl_base(
    tmp_path: Path,
) -> None:
    # The original compares str(value) on both sides; DuckDB reads 1.0 in a JSONL base as '1.0'.
    base = tmp_path / "base.jsonl"
    base.write_text('{"clip_id": 1.0, "x": 1}\n{"clip_id": 2.5, "x": 2}\n', encoding="utf-8")
    scores = _jsonl(
        tmp_path / "w.jsonl", [{"clip_id": 1.0, "score": 5}, {"clip_id": 2.5, "score": 6}]
    )
    spec = JoinSpec(
        features=base,
        key=("clip_id",),
        sidecars=(SidecarSpec(scorer="w", path=scores, records="wrapper"),),
    )
    rows = join(spec).table.to_pylist()
    assert [(r["clip_id"], r["so_w_score"]) for r in rows] == [("1.0", 5.0), ("2.5", 6.0)]
