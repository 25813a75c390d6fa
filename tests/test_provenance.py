"""Provenance records: where they live, the fingerprint, reading them, and `inspect_output`."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from second_opinion import __version__, provenance
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.outcomes import coverage_fractions
from second_opinion.batch.runner import run_batch
from second_opinion.cli.inspect import inspect_command
from second_opinion.errors import PolicyError
from second_opinion.join.spec import JoinSpec, SidecarSpec
from second_opinion.provenance import (
    SCHEMA,
    ProvenanceUnreadable,
    canonical_json,
    fingerprint,
    inspect_output,
    provenance_path,
    read_record,
    spec_digest,
    tool_series,
    write_record,
)

ROOT = Path(__file__).resolve().parents[1]
SCAFFOLD = ROOT / "testdata" / "smoke-second-opinion-batch"
SPEC_SHA = "a" * 64
INPUTS = ["b" * 64, "c" * 64]


# --- where the record lives -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "record"),
    [
        ("/data/out/joined.csv", "/data/out/joined.csv.provenance.json"),
        ("/data/out/joined.csv.gz", "/data/out/joined.csv.gz.provenance.json"),
        ("relative/joined.parquet", "relative/joined.parquet.provenance.json"),
    ],
)
def test_the_record_lives_beside_its_output(output: str, record: str) -> None:
    assert provenance_path(Path(output)) == Path(record)


# --- the fingerprint --------------------------------------------------------------------------


def test_tool_series_is_major_dot_minor() -> None:
    assert tool_series("1.2.3") == "1.2"
    assert tool_series("0.10.0rc1") == "0.10"
    assert tool_series("2") == "2"
    assert tool_series() == ".".join(__version__.split(".")[:2])


def test_the_fingerprint_is_a_stable_sha256() -> None:
    first = fingerprint(SPEC_SHA, INPUTS, ".csv")
    assert first == fingerprint(SPEC_SHA, list(INPUTS), ".csv")
    assert len(first) == 64
    assert int(first, 16) >= 0


@pytest.mark.parametrize(
    ("spec", "inputs", "suffix"),
    [
        pytest.param("d" * 64, INPUTS, ".csv", id="spec-digest"),
        pytest.param(SPEC_SHA, ["b" * 64, "e" * 64], ".csv", id="an-input-digest"),
        pytest.param(SPEC_SHA, ["e" * 64, "c" * 64], ".csv", id="the-base-digest"),
        pytest.param(SPEC_SHA, INPUTS[::-1], ".csv", id="input-order"),
        pytest.param(SPEC_SHA, INPUTS[:1], ".csv", id="an-input-less"),
        pytest.param(SPEC_SHA, INPUTS, ".jsonl", id="output-suffix"),
        pytest.param(SPEC_SHA, INPUTS, ".csv.gz", id="compression"),
    ],
)
def test_the_fingerprint_changes_with_each_part(spec: str, inputs: list[str], suffix: str) -> None:
    assert fingerprint(spec, inputs, suffix) != fingerprint(SPEC_SHA, INPUTS, ".csv")


def test_the_fingerprint_changes_with_the_tool_series(monkeypatch: pytest.MonkeyPatch) -> None:
    before = fingerprint(SPEC_SHA, INPUTS, ".csv")
    monkeypatch.setattr(provenance, "tool_series", lambda version=__version__: "99.0")
    assert fingerprint(SPEC_SHA, INPUTS, ".csv") != before
    monkeypatch.undo()
    assert fingerprint(SPEC_SHA, INPUTS, ".csv") == before


def _spec(folder: str = "/data", **options: Any) -> dict[str, Any]:
    spec = JoinSpec(
        features=Path(f"{folder}/features.csv"),
        key=("clip_id",),
        sidecars=(
            SidecarSpec(scorer="niqe", path=Path(f"{folder}/niqe.jsonl"), **options),
            SidecarSpec(scorer="dover", path=Path(f"{folder}/dover.csv"), frame_column="frame"),
        ),
    )
    return spec.model_dump(mode="json")


def test_the_spec_digest_leaves_paths_out() -> None:
    assert spec_digest(_spec("/data")) == spec_digest(_spec("/elsewhere/moved"))


def test_the_spec_digest_does_not_change_the_spec_it_is_given() -> None:
    spec = _spec()
    copy = json.loads(json.dumps(spec))
    spec_digest(spec)
    assert spec == copy


@pytest.mark.parametrize(
    "options",
    [
        {"pool": ("mean", "p5")},
        {"min_coverage": 0.5},
        {"normalize_keys": ("lower",)},
        {"key_map": {"video": "clip_id"}},
        {"higher_is_better": False},
        {"derived": ("zscore",)},
        {"on_missing": "drop"},
        {"columns": ("score",)},
        {"prefix": "niqe_"},
    ],
    ids=lambda options: next(iter(options)),
)
def test_the_spec_digest_changes_with_every_option(options: dict[str, Any]) -> None:
    assert spec_digest(_spec(**options)) != spec_digest(_spec())


def test_the_spec_digest_changes_with_the_key_and_the_sidecars() -> None:
    base = _spec()
    other_key = {**base, "key": ["clip_id", "frame"]}
    fewer = {**base, "sidecars": base["sidecars"][:1]}
    renamed = json.loads(json.dumps(base))
    renamed["sidecars"][0]["scorer"] = "brisque"
    digests = {spec_digest(s) for s in (base, other_key, fewer, renamed)}
    assert len(digests) == 4


def test_canonical_json_sorts_keys_without_whitespace() -> None:
    assert canonical_json({"b": [1, {"d": 1, "c": "é"}], "a": None}) == (
        '{"a":null,"b":[1,{"c":"é","d":1}]}'
    )


def test_descriptions_do_not_reach_the_digest(tmp_path: Path) -> None:
    folder = tmp_path / "scaffold"
    shutil.copytree(SCAFFOLD, folder)
    manifest = folder / "batch.json"
    before = [spec_digest(j.spec.model_dump(mode="json")) for j in load_manifest(manifest).jobs]
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["jobs"][0]["description"] = "changed"
    data["jobs"][0]["sidecars"][0]["description"] = "changed too"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    after = [spec_digest(j.spec.model_dump(mode="json")) for j in load_manifest(manifest).jobs]
    assert after == before


# --- writing and reading records --------------------------------------------------------------


def test_write_record_writes_sorted_keys_atomically(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    record = {"schema": SCHEMA, "b": {"z": 1, "a": 2}, "a": [3]}

    path = write_record(record, output)

    assert path == tmp_path / "out.csv.provenance.json"
    text = path.read_text(encoding="utf-8")
    assert text == (
        '{\n  "a": [\n    3\n  ],\n  "b": {\n    "a": 2,\n    "z": 1\n  },\n'
        '  "schema": "second-opinion.provenance/1"\n}\n'
    )
    assert json.loads(path.read_text(encoding="utf-8")) == record
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv.provenance.json"]


def _write(tmp_path: Path, content: bytes) -> Path:
    output = tmp_path / "out.csv"
    provenance_path(output).write_bytes(content)
    return output


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b'{"schema": "second-opinion.prov', "JSONDecodeError", id="truncated"),
        pytest.param(b"", "JSONDecodeError", id="empty"),
        pytest.param(b"\xff\xfe{}", "UnicodeDecodeError", id="not-utf8"),
    ],
)
def test_a_corrupt_record_is_unreadable(tmp_path: Path, content: bytes, reason: str) -> None:
    with pytest.raises(ProvenanceUnreadable) as caught:
        read_record(_write(tmp_path, content))
    assert str(caught.value) == f"provenance unreadable ({reason})"


@pytest.mark.parametrize(
    "data",
    [[1, 2], "text", None, {}, {"schema": 1}, {"run": {}}],
    ids=["a-list", "a-string", "null", "empty-object", "schema-a-number", "no-schema"],
)
def test_a_record_without_a_schema_is_unreadable(tmp_path: Path, data: object) -> None:
    with pytest.raises(ProvenanceUnreadable) as caught:
        read_record(_write(tmp_path, json.dumps(data).encode()))
    assert str(caught.value) == "provenance unreadable (no schema)"


@pytest.mark.parametrize(
    "schema",
    [
        "second-opinion.provenance/9",
        "second-opinion.provenance/2",
        "second-opinion.provenance",
        "other-tool.provenance/1",
        "second-opinion.provenance/1/x",
    ],
)
def test_a_record_of_another_schema_is_unreadable(tmp_path: Path, schema: str) -> None:
    output = _write(tmp_path, json.dumps({"schema": schema, "run": {}}).encode())
    with pytest.raises(ProvenanceUnreadable) as caught:
        read_record(output)
    assert str(caught.value) == f"provenance schema {schema!r} is not {SCHEMA!r}"


def test_a_missing_record_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ProvenanceUnreadable) as caught:
        read_record(tmp_path / "out.csv")
    assert str(caught.value) == "no provenance"


def minimal_record() -> dict[str, object]:
    """The smallest record read_record accepts: every field it relies on, of the right type."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "second-opinion", "version": "0.1.0"},
        "environment": {},
        "run": {"run_id": "r", "started": "s", "finished": "f"},
        "job": {"name": "j"},
        "inputs": [{"role": "features", "path": "/x.csv", "sha256": "a" * 64}],
        "output": {"path": "/o.csv", "sha256": "b" * 64, "rows": 3, "columns": ["k"]},
        "coverage": [],
        "fingerprint": "f" * 64,
        "spec_sha256": "e" * 64,
    }


def test_a_record_of_this_schema_is_read(tmp_path: Path) -> None:
    data = minimal_record()
    assert read_record(_write(tmp_path, json.dumps(data).encode())) == data


COVERED = {
    "scorer": "dover",
    "coverage": 0.5,
    "matched": 1,
    "base_rows": 2,
    "missing": 1,
    "extra": 0,
}


@pytest.mark.parametrize(
    "entry",
    [
        COVERED | {"per_frame": True},  # written before the key diagnosis
        COVERED | {"per_frame": False},
        COVERED | {"per_frame": None, "diagnosis": []},
        COVERED
        | {
            "per_frame": {"column": "frame_idx"},
            "diagnosis": [
                {"text": 'jobs[0].sidecars[0].normalize_keys: ["stem"]', "matched": 2, "rows": 2}
            ],
        },
    ],
)
def test_coverage_of_old_and_new_records_is_read(tmp_path: Path, entry: dict[str, object]) -> None:
    data = minimal_record() | {"coverage": [entry], "warnings": ["dover: 1 of 2 base keys matched"]}
    assert read_record(_write(tmp_path, json.dumps(data).encode())) == data


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            {"diagnosis": [{"text": "x", "matched": "2", "rows": 2}]},
            "coverage[0].diagnosis[0].matched",
        ),
        ({"diagnosis": [{"matched": 2, "rows": 2}]}, "coverage[0].diagnosis[0].text is missing"),
        ({"per_frame": {"col": "f"}}, "coverage[0].per_frame"),
        ({"per_frame": "frame"}, "coverage[0].per_frame"),
    ],
)
def test_a_diagnosis_or_frame_column_of_the_wrong_shape_is_refused(
    tmp_path: Path, entry: dict[str, object], problem: str
) -> None:
    data = minimal_record() | {"coverage": [COVERED | entry]}
    with pytest.raises(ProvenanceUnreadable, match=rf"malformed: {re.escape(problem)}"):
        read_record(_write(tmp_path, json.dumps(data).encode()))


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("output", None, "output is invalid"),
        ("tool", [], "tool is invalid"),
        ("inputs", ["x"], "inputs[0] is invalid"),
        ("fingerprint", 3, "fingerprint is invalid (Input should be a valid string)"),
        ("coverage", [{"scorer": "a"}], "coverage[0].coverage is missing"),
        ("warnings", [3], "warnings[0] is invalid"),
    ],
)
def test_a_record_of_the_wrong_shape_is_unreadable_with_the_field_named(
    tmp_path: Path, field: str, value: object, problem: str
) -> None:
    data = minimal_record() | {field: value}
    with pytest.raises(ProvenanceUnreadable, match=rf"malformed: {re.escape(problem)}"):
        read_record(_write(tmp_path, json.dumps(data).encode()))


def test_tool_and_environment_describe_this_process() -> None:
    tool = provenance.tool_info()
    assert tool["name"] == "second-opinion"
    assert tool["version"] == __version__
    assert set(tool) == {"name", "version", "git_commit"}
    assert set(provenance.environment()) == {"python", "duckdb", "platform", "host", "executable"}


# --- inspect_output ---------------------------------------------------------------------------


@pytest.fixture
def joined(tmp_path: Path) -> Path:
    """The scaffold's corpus-a, joined by a batch run; returns its output."""
    folder = tmp_path / "scaffold"
    shutil.copytree(SCAFFOLD, folder)
    result = run_batch(folder / "batch.json", only=["corpus-a"], out_dir=tmp_path / "out")
    assert [(j.status, j.error) for j in result.jobs] == [("built", None)]
    return Path(result.jobs[0].output)


def test_an_untouched_output_matches_its_record(joined: Path) -> None:
    found = inspect_output(joined)

    assert found.matches
    assert found.problems == ()
    assert found.changed_inputs == ()
    assert found.output == joined
    assert found.record is not None
    assert found.record["job"]["name"] == "corpus-a"
    assert found.to_dict() == {
        "output": str(joined),
        "matches": True,
        "problems": [],
        "changed_inputs": [],
        "unchecked_inputs": [],
        "provenance": read_record(joined),
    }


def test_a_relative_output_path_is_made_absolute(
    joined: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(joined.parent)
    found = inspect_output(joined.name)
    assert found.output == joined
    assert found.matches


def test_an_edited_output_does_not_match(joined: Path) -> None:
    joined.write_text(joined.read_text(encoding="utf-8").replace("a001", "a999"), "utf-8")

    found = inspect_output(joined)

    assert not found.matches
    assert found.problems == ("the output no longer matches its provenance (its SHA-256 changed)",)
    assert found.record is not None


def test_a_deleted_output_does_not_match(joined: Path) -> None:
    joined.unlink()

    found = inspect_output(joined)

    assert not found.matches
    assert found.problems == (f"the output {joined} does not exist",)


def test_changed_and_missing_inputs_are_named(joined: Path) -> None:
    folder = joined.parent.parent / "scaffold"
    niqe = folder / "scores_a_niqe.jsonl"
    niqe.write_text(niqe.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    features = folder / "features_corpus_a.jsonl"
    features.unlink()

    found = inspect_output(joined)

    assert found.changed_inputs == (
        f"features {features} no longer exists",
        f"sidecar niqe {niqe} changed since the run",
    )
    assert found.matches  # the output itself still is what the record says
    assert found.problems == ()


def test_an_output_without_a_record_does_not_match(joined: Path) -> None:
    provenance_path(joined).unlink()

    found = inspect_output(joined)

    assert not found.matches
    assert found.record is None
    assert found.problems == ("no provenance",)


def test_an_output_with_a_corrupt_record_does_not_match(joined: Path) -> None:
    record = provenance_path(joined)
    record.write_text(record.read_text(encoding="utf-8")[:100], encoding="utf-8")

    found = inspect_output(joined)

    assert not found.matches
    assert found.record is None
    assert found.problems == ("provenance unreadable (JSONDecodeError)",)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"output": None}, id="output-null"),
        pytest.param({"output": "x"}, id="output-a-string"),
        pytest.param({"inputs": ["a"]}, id="inputs-not-objects"),
        pytest.param({"inputs": [{"path": None, "role": None}]}, id="input-fields-null"),
    ],
)
def test_a_malformed_record_does_not_match_and_does_not_crash(
    joined: Path, fields: dict[str, Any]
) -> None:
    record = provenance_path(joined)
    record.write_text(json.dumps({**read_record(joined), **fields}), encoding="utf-8")

    found = inspect_output(joined)

    assert not found.matches
    assert found.problems
    assert any("provenance" in problem for problem in found.problems), found.problems


# --- records of any shape (issue 15 #8) ---------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _full_record() -> dict[str, Any]:
    coverage = {
        "scorer": "niqe",
        "coverage": 1.0,
        "matched": 3,
        "base_rows": 3,
        "missing": 0,
        "extra": 0,
    }
    return dict(minimal_record(), coverage=[coverage])


def _paths(data: object, here: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path to a value inside ``data``, itself first."""
    found = [here]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*here, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*here, index))
    return found


def _replaced(data: Any, path: tuple[str | int, ...], value: object) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(data))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def _readers_take(output: Path) -> None:
    """Every reader of a record: the planner's, inspect's (library and command)."""
    reason = None
    try:
        record = read_record(output)
    except ProvenanceUnreadable as exc:
        reason, record = str(exc), None
    assert reason is None or reason.startswith(("provenance unreadable (", "provenance schema "))
    if record is not None:
        assert set(coverage_fractions(record["coverage"])) <= {"niqe"} | {
            str(c["scorer"]) for c in record["coverage"]
        }
    found = inspect_output(output)
    assert found.matches is False  # the output itself does not exist
    with pytest.raises(PolicyError, match=re.escape(str(output.absolute()))):
        inspect_command(output, as_json=False)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), value=_JSON)
def test_a_record_with_any_part_replaced_by_any_json_is_read_or_refused(
    tmp_path: Path, data: st.DataObject, value: object
) -> None:
    record = _full_record()
    path = data.draw(st.sampled_from(_paths(record)))
    output = _write(tmp_path, json.dumps(_replaced(record, path, value)).encode())
    _readers_take(output)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_JSON)
def test_a_record_of_any_json_shape_is_refused(tmp_path: Path, value: object) -> None:
    output = _write(tmp_path, json.dumps(value).encode())
    with pytest.raises(ProvenanceUnreadable):
        read_record(output)
    _readers_take(output)


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_record_that_is_not_a_file_is_unreadable_at_once(tmp_path: Path, kind: str) -> None:
    output = tmp_path / "out.csv"
    record = provenance_path(output)
    if kind == "fifo":
        os.mkfifo(record)  # reading it would block until someone writes
    else:
        record.mkdir()
    what = (
        "is a FIFO (named pipe), not a regular file; give a regular file"
        if kind == "fifo"
        else "is a directory, not a file"
    )

    with pytest.raises(ProvenanceUnreadable, match=re.escape(f"(out.csv.provenance.json {what})")):
        read_record(output)
    assert inspect_output(output).problems == (
        f"provenance unreadable (out.csv.provenance.json {what})",
    )
