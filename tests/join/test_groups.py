"""A table sidecar split by scorer_column, with status_column and on_missing mark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from second_opinion.errors import InputError
from second_opinion.join.run import join
from second_opinion.join.spec import JoinSpec, build_join_spec


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _spec(tmp_path: Path, sidecar: str, **options: Any) -> JoinSpec:
    base = _write(tmp_path / "base.csv", "file_name,mos\n/c/a.mp4,1\n/c/b.mp4,2\n")
    side = _write(tmp_path / "side.csv", sidecar)
    entry = {"scorer": "m", "path": side, "key_map": {"clip": "file_name"}, **options}
    return build_join_spec(features=base, key=["file_name"], sidecars=[entry])


MIXED = "clip,competitor,s,st\na.mp4,x,1,ok\nb.mp4,x,2,FAIL\na.mp4,y-z,3,\n"


def test_a_file_mixing_competitors_gives_one_group_of_columns_each(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        MIXED,
        scorer_column="competitor",
        status_column="st",
        normalize_keys=["auto"],
        on_missing="mark",
    )
    result = join(spec)
    assert result.table.to_pylist() == [
        {
            "file_name": "/c/a.mp4",
            "mos": 1,
            "so_x_s": 1.0,
            "so_x_status": "ok",
            "so_y_z_s": 3.0,
            "so_y_z_status": "ok",
        },
        {
            "file_name": "/c/b.mp4",
            "mos": 2,
            "so_x_s": 2.0,
            "so_x_status": "bad",
            "so_y_z_s": None,
            "so_y_z_status": "missing",
        },
    ]
    assert [(c.scorer, c.matched, c.missing) for c in result.coverage] == [
        ("x", 2, 0),
        ("y-z", 1, 1),
    ]


def test_drop_drops_rows_missing_in_any_group(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path, MIXED, scorer_column="competitor", normalize_keys=["auto"], on_missing="drop"
    )
    assert [r["file_name"] for r in join(spec).table.to_pylist()] == ["/c/a.mp4"]


def test_blank_scorer_values_fall_back_or_are_refused(tmp_path: Path) -> None:
    text = "clip,competitor,s\na.mp4, ,1\nb.mp4,x,2\n"
    spec = _spec(tmp_path, text, scorer_column="competitor", normalize_keys=["auto"])
    assert {c.scorer for c in join(spec).coverage} == {"m", "x"}
    strict = _spec(
        tmp_path,
        text,
        scorer_column="competitor",
        normalize_keys=["auto"],
        scorer_fallback=False,
    )
    with pytest.raises(InputError, match=r"side.csv line 2: the scorer column 'competitor' is"):
        join(strict)


def test_status_column_on_an_ordinary_table(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        "clip,s,st\na.mp4,1,success\n",
        status_column="st",
        normalize_keys=["auto"],
        on_missing="mark",
    )
    rows = join(spec).table.to_pylist()
    assert [(r["so_m_s"], r["so_m_status"]) for r in rows] == [(1.0, "ok"), (None, "missing")]


def test_a_missing_scorer_or_status_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"side.csv: scorer column 'who' not found \(columns"):
        join(_spec(tmp_path, MIXED, scorer_column="who"))
    with pytest.raises(InputError, match=r"side.csv: status column 'ok' not found \(columns"):
        join(_spec(tmp_path, MIXED, status_column="ok", scorer_column="competitor"))
