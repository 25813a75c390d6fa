"""The one-pass path of a per-clip Parquet sidecar against the general path it short-cuts:
the same joined table, coverage report and refusals."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from second_opinion import JoinSpec, SecondOpinionError, SidecarSpec, join
from second_opinion.join import clip_table
from second_opinion.join import load as join_load
from tests._tables import write_table

BASE = [{"clip_id": f"v{i}", "mos": float(i)} for i in range(12)]
CLEAN = [{"clip_id": f"v{i}", "x": i * 0.5, "y": -float(i)} for i in range(0, 14, 2)]
ODD = [
    {"clip_id": "v0", "x": math.nan, "y": 1.0},
    {"clip_id": "v1", "x": math.inf, "y": None},
    {"clip_id": "v2", "x": 2.0, "y": 3.0},
    {"clip_id": "zz", "x": 1.0, "y": 1.0},
]
REPEATED = [*CLEAN, {"clip_id": "v2", "x": 9.0, "y": 9.0}]
BLANK = [*CLEAN, {"clip_id": "  ", "x": 9.0, "y": 9.0}]
CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "clean": (CLEAN, {}),
    "non-finite and null": (ODD, {}),
    "normalised": (CLEAN, {"normalize_keys": ["lower"]}),
    "repeated, refused": (REPEATED, {}),
    "repeated, averaged": (REPEATED, {"on_duplicate": "mean"}),
    "blank key": (BLANK, {}),
}


def _outcome(spec: JoinSpec) -> tuple[str, Any]:
    try:
        result = join(spec)
    except SecondOpinionError as exc:
        return "error", exc.message
    rows = result.table.to_pylist()
    cleaned = [{k: "nan" if v != v else v for k, v in r.items()} for r in rows]  # noqa: PLR0124
    return "ok", (cleaned, [c.to_dict() for c in result.coverage], result.warnings)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_one_pass_path_gives_what_the_general_path_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    rows, options = CASES[case]
    base = write_table(tmp_path / "base.parquet", BASE)
    side = write_table(tmp_path / "side.parquet", rows)
    sidecar = SidecarSpec(scorer="s", path=side, **options)
    spec = JoinSpec(features=base, key=("clip_id",), sidecars=(sidecar,))
    tried: list[str] = []
    taken: list[bool] = []
    real = clip_table.load_clip_table

    def spy(*args: Any, **kwargs: Any) -> bool:
        tried.append(case)
        taken.append(real(*args, **kwargs))
        return taken[-1]

    monkeypatch.setattr(join_load, "load_clip_table", spy)
    fast = _outcome(spec)
    assert tried  # the one-pass path was tried
    monkeypatch.setattr(join_load, "eligible", lambda _: False)
    general = _outcome(spec)
    assert fast == general
    if case.startswith("repeated"):
        assert taken == [False]  # handed back to the general path
