"""The key diagnosis and the policies around it, from Python: a sidecar matching no key fails,
coverage below 100 % is a warning, and both name the fix, with its coverage, as keywords."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from second_opinion import (
    InputError,
    JoinSpec,
    KeyFix,
    PolicyError,
    SidecarSpec,
    join,
)
from tests._keys import IDS, MISSING, KeyCase, key_case
from tests._tables import write_table

KEPT = len(IDS) - MISSING


@pytest.fixture
def case(tmp_path: Path) -> KeyCase:
    return key_case(tmp_path)


def _spec(base: Path, **sidecar: Any) -> JoinSpec:
    return JoinSpec(features=base, key=("flickr_id",), sidecars=(SidecarSpec(**sidecar),))


def test_a_sidecar_matching_no_key_fails_naming_the_fix_as_keywords(case: KeyCase) -> None:
    spec = _spec(case.base, scorer="dover", path=case.paths, key_map={"filename": "flickr_id"})
    with pytest.raises(PolicyError) as caught:
        join(spec)
    assert caught.value.message == (
        "join policy failed:\n  dover: no base key has a sidecar row (0 of 20 matched); "
        'SidecarSpec(normalize_keys=["basename", "stem"]) would match 17 of 20 (85.00 %); if '
        "no match is expected, set SidecarSpec(allow_no_match=True)"
    )
    reports = caught.value.report
    assert isinstance(reports, tuple)
    (report,) = reports
    assert report.diagnosis == (
        KeyFix(
            {"normalize_keys": ["basename", "stem"]},
            'SidecarSpec(normalize_keys=["basename", "stem"])',
            KEPT,
            len(IDS),
        ),
    )
    assert report.to_dict()["diagnosis"] == [
        {"text": 'SidecarSpec(normalize_keys=["basename", "stem"])', "matched": 17, "rows": 20}
    ]


def test_the_fix_does_what_it_says(case: KeyCase) -> None:
    spec = _spec(
        case.base,
        scorer="dover",
        path=case.paths,
        key_map={"filename": "flickr_id"},
        normalize_keys=["basename", "stem"],
    )
    result = join(spec)
    assert result.coverage[0].matched == KEPT
    assert result.coverage[0].diagnosis == ()  # nothing would match more
    assert result.warnings == (
        (
            "dover: 17 of 20 base keys matched (85.00 %); no key normalisation or other key column "
            "would match more"
        ),
    )


def test_allow_no_match_writes_the_rows_and_warns_with_the_fix(case: KeyCase) -> None:
    spec = _spec(
        case.base,
        scorer="dover",
        path=case.paths,
        key_map={"filename": "flickr_id"},
        allow_no_match=True,
    )
    result = join(spec)
    assert result.table.num_rows == len(IDS)
    assert result.table.column("so_dover_technical").null_count == len(IDS)
    assert result.warnings == (
        (
            'dover: 0 of 20 base keys matched (0.00 %); SidecarSpec(normalize_keys=["basename", '
            '"stem"]) would match 17 of 20 (85.00 %)'
        ),
    )


@pytest.mark.parametrize("sidecar", ["padded", "floats"])
def test_zero_padded_and_float_keys_are_told_the_number_step(case: KeyCase, sidecar: str) -> None:
    spec = _spec(case.base, scorer="s", path=getattr(case, sidecar), allow_no_match=True)
    (fix,) = join(spec).coverage[0].diagnosis
    assert fix.said() == 'SidecarSpec(normalize_keys=["number"]) would match 17 of 20 (85.00 %)'
    fixed = _spec(case.base, scorer="s", path=getattr(case, sidecar), normalize_keys=["number"])
    assert join(fixed).coverage[0].matched == KEPT


def test_a_better_key_column_is_named_with_the_normalisation_it_needs(case: KeyCase) -> None:
    spec = _spec(case.base, scorer="r", path=case.renamed, allow_no_match=True)
    (fix,) = join(spec).coverage[0].diagnosis
    assert fix.setting == {"key_map": {"filename": "flickr_id"}, "normalize_keys": ["stem"]}
    assert fix.said() == (
        'SidecarSpec(key_map={"filename": "flickr_id"}, normalize_keys=["stem"]) would match '
        "17 of 20 (85.00 %)"
    )
    assert join(_spec(case.base, scorer="r", path=case.renamed, **fix.setting)).coverage[0].matched
    assert fix.matched == KEPT


def test_a_per_frame_file_is_told_its_frame_column_never_a_duplicate_policy(
    case: KeyCase,
) -> None:
    with pytest.raises(Exception, match="frames") as caught:
        join(_spec(case.base, scorer="dover", path=case.frames))
    assert caught.value.args[0].endswith(
        "17 duplicate key(s) ('3339962845' x4, '8171831850' x4, '6076608135' x4, '8751538577' x4, "
        "'7518773518' x4), and column 'frame_idx' numbers the rows: a per-frame file; pool its "
        'frames per clip with SidecarSpec(frame_column="frame_idx") (the mean; other '
        "statistics with pool of 'dover')"
    )
    assert "on_duplicate" not in caught.value.args[0]


def test_a_per_frame_file_reduced_by_a_duplicate_policy_is_a_warning(case: KeyCase) -> None:
    result = join(_spec(case.base, scorer="dover", path=case.frames, on_duplicate="mean"))
    report = result.coverage[0]
    assert (report.per_frame, report.frame_column) == (False, "frame_idx")
    assert report.to_dict()["per_frame"] == {"column": "frame_idx"}
    assert result.warnings[1] == (
        "dover: keys repeat and column 'frame_idx' numbers the rows: a per-frame file, reduced "
        'to one row per key by on_duplicate="mean"; pool its frames per clip with '
        "SidecarSpec(frame_column=\"frame_idx\") (the mean; other statistics with pool of 'dover')"
    )
    pooled = join(_spec(case.base, scorer="dover", path=case.frames, frame_column="frame_idx"))
    assert pooled.coverage[0].to_dict()["per_frame"] == {"column": "frame_idx"}
    assert pooled.coverage[0].to_dict()["diagnosis"] == []


def test_repeated_keys_without_a_frame_column_keep_the_duplicate_advice(tmp_path: Path) -> None:
    base = write_table(tmp_path / "b.csv", [{"flickr_id": "a"}, {"flickr_id": "b"}])
    side = write_table(tmp_path / "s.csv", [{"flickr_id": "a", "s": 1.0}] * 2)
    with pytest.raises(Exception, match="duplicate") as caught:
        join(_spec(base, scorer="x", path=side))
    assert caught.value.args[0].endswith(
        "1 duplicate key(s) ('a' x2); keep one row per key with on_duplicate=\"first\" (or last, "
        "or mean), or fix the sidecar; if the rows are frames, name the column that numbers "
        "them with frame_column of 'x'"
    )


def test_a_fix_that_would_make_two_base_keys_one_is_not_named(tmp_path: Path) -> None:
    base = write_table(tmp_path / "b.csv", [{"flickr_id": k} for k in ("Ab", "ab", "c")])
    side = write_table(tmp_path / "s.csv", [{"flickr_id": k, "s": 1.0} for k in ("AB", "c")])
    result = join(_spec(base, scorer="x", path=side))
    assert result.coverage[0].matched == 1
    assert result.coverage[0].diagnosis == ()  # lower would match 'AB', and merge 'Ab' and 'ab'


def test_keys_that_nothing_fixes_get_no_fix(tmp_path: Path) -> None:
    base = write_table(tmp_path / "b.csv", [{"flickr_id": k} for k in ("a", "b")])
    side = write_table(tmp_path / "s.csv", [{"flickr_id": k, "s": 1.0} for k in ("a", "zz")])
    assert join(_spec(base, scorer="x", path=side)).coverage[0].diagnosis == ()


def test_a_key_of_two_columns_is_diagnosed_column_by_column(tmp_path: Path) -> None:
    base = write_table(
        tmp_path / "b.csv", [{"clip": c, "res": r} for c in ("a", "b") for r in ("720", "1080")]
    )
    side = write_table(
        tmp_path / "s.csv",
        [
            {"clip": f" {c.upper()}", "res": r, "s": 1.0}
            for c in ("a", "b")
            for r in ("720", "1080")
        ],
    )
    spec = JoinSpec(
        features=base,
        key=("clip", "res"),
        sidecars=(SidecarSpec(scorer="x", path=side, allow_no_match=True),),
    )
    (fix,) = join(spec).coverage[0].diagnosis
    assert (fix.setting, fix.matched) == ({"normalize_keys": ["strip", "lower"]}, 4)


def test_a_join_that_matches_every_key_runs_no_diagnosis(
    case: KeyCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    coverage = importlib.import_module("second_opinion.join.coverage")

    def refuse(*args: object, **kwargs: object) -> None:
        msg = "diagnosed a join that matched every key"
        raise AssertionError(msg)

    monkeypatch.setattr(coverage, "diagnose", refuse)
    side = write_table(case.folder / "all.csv", [{"flickr_id": k, "s": 1.0} for k in IDS])
    result = join(_spec(case.base, scorer="x", path=side))
    assert (result.coverage[0].matched, result.warnings) == (len(IDS), ())


# --- the fix named is the coverage one gets ------------------------------------------------------

_VARIANTS = st.sampled_from(["plain", "path", "upper", "padded", "float", "spaced", "other"])


def _variant(key: str, kind: str) -> str:
    return {
        "plain": key,
        "path": f"videos/{key}.mp4",
        "upper": f"C{key}".upper(),
        "padded": f"{int(key):08d}",
        "float": f"{key}.0",
        "spaced": f" {key} ",
        "other": f"x{key}",
    }[kind]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(_VARIANTS, min_size=3, max_size=12),
    base_upper=st.booleans(),
)
def test_a_fix_predicts_the_coverage_the_join_then_gets(
    tmp_path: Path, kinds: list[str], base_upper: bool
) -> None:
    keys = [str(100 + i) for i in range(len(kinds))]
    base_keys = [f"c{k}" if base_upper else k for k in keys]
    base_keys = [k if not base_upper else k.replace("c", "C") for k in base_keys]
    base = write_table(tmp_path / "b.csv", [{"flickr_id": k} for k in [*base_keys, "999"]])
    side = write_table(
        tmp_path / "s.csv",
        [{"flickr_id": _variant(k, kind), "s": 1.0} for k, kind in zip(keys, kinds, strict=True)],
    )
    report = join(_spec(base, scorer="x", path=side, allow_no_match=True)).coverage[0]
    for fix in report.diagnosis:
        assert fix.matched > report.matched
        again = join(_spec(base, scorer="x", path=side, allow_no_match=True, **fix.setting))
        assert again.coverage[0].matched == fix.matched, fix


# --- every message says options as a Python caller writes them ----------------------------------


def test_key_map_align_and_variable_are_said_as_keywords(case: KeyCase) -> None:
    with pytest.raises(InputError) as keyless:
        join(_spec(case.base, scorer="dover", path=case.paths))
    assert keyless.value.message.endswith(
        "key column 'flickr_id' not found (columns: filename, technical); map the sidecar's key "
        "column to 'flickr_id' with key_map of 'dover'"
    )
    with pytest.raises(ValidationError) as unaligned:
        _spec(case.base, scorer="niqe", path=case.folder / "niqe.mat")
    assert (
        'niqe.mat is a score matrix with no key; set align={"keys_from": <table listing the '
        'keys in row order>, "column": <its key column>}' in str(unaligned.value)
    )
    scipy.io.savemat(case.folder / "niqe.mat", {"MOS": np.ones(20), "y_pred": np.zeros(20)})
    align = {"keys_from": case.base, "column": "flickr_id"}
    with pytest.raises(InputError) as variables:
        join(_spec(case.base, scorer="niqe", path=case.folder / "niqe.mat", align=align))
    assert variables.value.message.endswith(
        "pass the name of the one to read as variable (e.g. variable='y_pred')"
    )
