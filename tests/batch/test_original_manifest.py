"""The original dialect's manifest: detection, its fields, paths and labels, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from second_opinion.batch.original.load import (
    ScoreSource,
    is_original,
    load_original,
    manifest_dialect,
    score_source,
)
from second_opinion.errors import InputError
from tests._paths import ROOT

SMOKE = ROOT / "testdata" / "original-smoke-second-opinion-batch"


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _table(**fields: object) -> dict[str, object]:
    return {"id": "t", "features": "f.jsonl", "scores": ["x=s.jsonl"], "out": "o.jsonl", **fields}


def test_the_dialect_is_an_object_with_tables_and_no_version() -> None:
    assert is_original({"tables": []})
    assert not is_original({"version": 1, "tables": []})
    assert not is_original({"jobs": []})
    assert not is_original([{"tables": []}])
    assert manifest_dialect(SMOKE / "batch.json") == "original"
    assert manifest_dialect(ROOT / "testdata" / "smoke-second-opinion-batch" / "batch.json") == (
        "native"
    )


def test_the_smoke_manifest_loads_with_defaults_merged_and_paths_below_the_base_dir() -> None:
    manifest = load_original(SMOKE / "batch.json", base_dir=Path())
    first, second = manifest.tables
    assert first.id == "smoke_table_a"
    assert first.features == Path(
        "testdata/original-smoke-second-opinion-batch/fixtures/features_a.jsonl"
    )
    assert first.scores == (
        ScoreSource(
            "fork-nr",
            Path("testdata/original-smoke-second-opinion-batch/fixtures/scores_fork_nr_a.jsonl"),
        ),
    )
    assert first.scores[0].text == (
        "fork-nr=testdata/original-smoke-second-opinion-batch/fixtures/scores_fork_nr_a.jsonl"
    )
    assert first.out == Path("/tmp/second-opinion-original-smoke/smoke_table_a.jsonl")
    assert second.audit_json is None
    assert first.config == {
        "key_normalize": "auto",
        "missing_policy": "mark",
        "prefix": "second_opinion",
    }


def test_relative_paths_default_to_the_manifest_folder(tmp_path: Path) -> None:
    path = _write(tmp_path, {"tables": [_table(missing_policy="drop")]})
    (table,) = load_original(path).tables
    assert table.features == tmp_path / "f.jsonl"
    assert table.out == tmp_path / "o.jsonl"
    assert table.options.missing_policy == "drop"
    assert table.options.key_normalize == "auto"


def test_a_table_overrides_the_defaults(tmp_path: Path) -> None:
    data = {"defaults": {"missing_policy": "fail", "prefix": "so2"}, "tables": [_table(prefix="p")]}
    (table,) = load_original(_write(tmp_path, data)).tables
    assert (table.options.missing_policy, table.options.prefix) == ("fail", "p")
    assert table.config == {"missing_policy": "fail", "prefix": "p"}


def test_a_label_is_split_at_the_first_equals_unless_the_whole_text_is_a_file(
    tmp_path: Path,
) -> None:
    assert score_source("a=b=c.jsonl", tmp_path) == ScoreSource("a", tmp_path / "b=c.jsonl")
    assert score_source("plain.jsonl", tmp_path) == ScoreSource(None, tmp_path / "plain.jsonl")
    assert score_source(" =x.jsonl", tmp_path) == ScoreSource(None, tmp_path / "x.jsonl")
    (tmp_path / "odd=name.jsonl").write_text("{}\n", encoding="utf-8")
    assert score_source("odd=name.jsonl", tmp_path) == ScoreSource(
        None, tmp_path / "odd=name.jsonl"
    )
    assert score_source("/abs/s.jsonl", tmp_path) == ScoreSource(None, Path("/abs/s.jsonl"))


def test_a_typo_in_missing_policy_is_refused_with_its_location_and_choices(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, {"defaults": {"missing_policy": "fial"}, "tables": [_table()]})
    with pytest.raises(InputError, match="invalid manifest") as info:
        load_original(path)
    assert "defaults.missing_policy: Input should be 'mark', 'drop' or 'fail'" in info.value.message
    assert "'fial'" in info.value.message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    data = {
        "_comment": "ignored",
        "defaults": {"key_normalise": "raw"},
        "tables": [_table(scores=[], overwrite="yes"), {"id": "b", "features": "f.jsonl"}],
    }
    with pytest.raises(InputError, match="problems") as info:
        load_original(_write(tmp_path, data))
    message = info.value.message
    assert "defaults.key_normalise: unknown field; did you mean 'key_normalize'?" in message
    assert "tables[0].scores: List should have at least 1 item" in message
    assert "tables[0].overwrite: Input should be a valid boolean" in message
    assert "tables[1].scores: required field is missing" in message
    assert "tables[1].out: required field is missing" in message


def test_an_empty_table_list_and_a_non_object_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"tables: List should have at least 1 item"):
        load_original(_write(tmp_path, {"tables": []}))
    with pytest.raises(InputError, match="a manifest is an object with tables, not a list"):
        load_original(_write(tmp_path, [1]))


def test_two_tables_writing_one_output_are_refused(tmp_path: Path) -> None:
    data = {"tables": [_table(), _table(id="u")]}
    with pytest.raises(InputError, match=r"tables\[1\]\.out: .*o\.jsonl is also the output of"):
        load_original(_write(tmp_path, data))


def test_a_prefix_with_braces_is_refused(tmp_path: Path) -> None:
    data = {"tables": [_table(prefix="so_{scorer}")]}
    with pytest.raises(InputError, match=r"tables\[0\]\.prefix: String should match pattern"):
        load_original(_write(tmp_path, data))


def test_validate_names_a_key_column_the_table_lacks_and_a_missing_file(tmp_path: Path) -> None:
    from second_opinion.batch.original.checks import validate_original  # noqa: PLC0415

    (tmp_path / "f.jsonl").write_text('{"clip": "a", "x": 1}\n', encoding="utf-8")
    (tmp_path / "s.jsonl").write_text('{"clip_id": "a", "score": 1}\n', encoding="utf-8")
    data = {"tables": [_table(key_column="clip_id"), _table(id="u", out="p.jsonl")]}
    with pytest.raises(InputError, match="2 problems") as info:
        validate_original(_write(tmp_path, data))
    assert (
        f"tables[0] (t): {tmp_path / 'f.jsonl'}: key_column 'clip_id' is not a column "
        "(columns: clip, x); fix key_column"
    ) in info.value.message
    assert (
        f"tables[1] (u): {tmp_path / 'f.jsonl'}: no key column found (tried clip_id, video_id"
    ) in info.value.message
    (tmp_path / "s.jsonl").unlink()
    with pytest.raises(InputError, match=r"tables\[0\] \(t\): scores .*s\.jsonl does not exist"):
        validate_original(_write(tmp_path, data))


def test_one_label_on_two_score_files_is_refused_with_the_fix(tmp_path: Path) -> None:
    data = {"tables": [_table(scores=["dover=a.jsonl", "x=b.jsonl", "dover=c.jsonl"])]}
    with pytest.raises(InputError, match="1 problem") as info:
        load_original(_write(tmp_path, data))
    assert (
        "tables[0].scores[2]: the label 'dover' also names scores[0]; a competitor's scores must "
        "be in one file (concatenate the files, or give each its own label)"
    ) in info.value.message
