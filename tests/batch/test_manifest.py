"""Batch manifests: loading (parse, schema, paths, defaults, meaning) and ``validate_manifest``.

Every error is an :class:`InputError` whose message is a header line
``<manifest>: invalid manifest (N problems):`` and one line per problem, each starting with its
location (``jobs[1].sidecars[0].path: no such file: …``). The tests assert on those lines.
"""

from __future__ import annotations

import codecs
import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from second_opinion.batch.manifest.document import MAX_MANIFEST_BYTES
from second_opinion.batch.manifest.jobs import Manifest
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.validate import validate_manifest
from second_opinion.errors import InputError, UnreadableFileError
from tests._tables import write_table

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "testdata" / "smoke-second-opinion-batch" / "batch.json"

# Two jobs over the tables of the ``folder`` fixture: a per-clip and a per-frame sidecar.
MANIFEST: dict[str, Any] = {
    "version": 1,
    "output_dir": "out",
    "description": "two jobs",
    "defaults": {"key": ["clip_id"]},
    "jobs": [
        {
            "name": "per-clip",
            "description": "NIQE keyed by file path",
            "features": "data/features.csv",
            "sidecars": [
                {
                    "scorer": "niqe",
                    "path": "data/niqe.jsonl",
                    "key_map": {"video": "clip_id"},
                    "normalize_keys": ["basename", "stem"],
                    "higher_is_better": False,
                }
            ],
            "output": "per-clip.csv",
        },
        {
            "name": "per-frame",
            "features": "data/features.csv",
            "sidecars": [
                {
                    "scorer": "dover",
                    "path": "data/dover.csv",
                    "frame_column": "frame",
                    "pool": ["mean", "p5"],
                }
            ],
            "output": "per-frame.parquet",
        },
    ],
}

# MANIFEST as a person would write it in YAML.
MANIFEST_YAML = """\
# two jobs
version: 1
output_dir: out
description: two jobs
defaults:
  key: [clip_id]
jobs:
  - name: per-clip
    description: NIQE keyed by file path
    features: data/features.csv
    sidecars:
      - scorer: niqe
        path: data/niqe.jsonl
        key_map: {video: clip_id}
        normalize_keys: [basename, stem]
        higher_is_better: false
    output: per-clip.csv
  - name: per-frame
    features: data/features.csv
    sidecars:
      - scorer: dover
        path: data/dover.csv
        frame_column: frame
        pool:
          - mean
          - p5
    output: per-frame.parquet
"""


def manifest_data() -> dict[str, Any]:
    """A fresh copy of MANIFEST to change."""
    return copy.deepcopy(MANIFEST)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder with ``data/``: a three-clip corpus, a per-clip and a per-frame sidecar."""
    data = tmp_path / "data"
    data.mkdir()
    write_table(
        data / "features.csv",
        [{"clip_id": c, "mos": m, "vmaf": v} for c, m, v in [("a", 3.1, 80), ("b", 4.2, 91)]],
    )
    write_table(
        data / "niqe.jsonl",
        [{"video": f"/videos/{c}.mp4", "niqe": n} for c, n in [("a", 5.5), ("b", 6.25)]],
    )
    write_table(
        data / "dover.csv",
        [{"clip_id": c, "frame": f, "technical": 0.1 * f} for c in "ab" for f in range(3)],
    )
    return tmp_path


def write_manifest(path: Path, data: object) -> Path:
    """``data`` as JSON or YAML, by ``path``'s suffix."""
    if path.suffix == ".json":
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def set_at(data: Any, where: tuple[str | int, ...], value: object) -> None:
    for part in where[:-1]:
        data = data[part]
    data[where[-1]] = value


def drop_at(data: Any, where: tuple[str | int, ...]) -> None:
    for part in where[:-1]:
        data = data[part]
    del data[where[-1]]


def problems(path: Path, **kwargs: Any) -> list[str]:
    """The problem lines of the error that loading ``path`` raises; checks the header's count."""
    with pytest.raises(InputError) as info:
        load_manifest(path, **kwargs)
    header, *lines = info.value.message.splitlines()
    count = f"{len(lines)} problem{'s' if len(lines) > 1 else ''}"
    assert header == f"{path}: invalid manifest ({count}):"
    return [line.strip() for line in lines]


def problems_of(folder: Path, data: object, name: str = "m.json", **kwargs: Any) -> list[str]:
    return problems(write_manifest(folder / name, data), **kwargs)


def load(folder: Path, data: object, name: str = "m.json", **kwargs: Any) -> Manifest:
    return load_manifest(write_manifest(folder / name, data), **kwargs)


# --- loading and resolving -------------------------------------------------------------------


def test_json_manifest_loads_resolved_jobs(folder: Path) -> None:
    manifest = load(folder, MANIFEST)
    assert manifest.path == folder / "m.json"
    assert [(j.name, j.index) for j in manifest.jobs] == [("per-clip", 0), ("per-frame", 1)]
    clip, frame = manifest.join_jobs()
    assert clip.description == "NIQE keyed by file path"
    assert frame.description is None
    assert clip.spec.key == ("clip_id",)
    (niqe,) = clip.spec.sidecars
    assert (niqe.scorer, niqe.key_map, niqe.normalize_keys) == (
        "niqe",
        {"video": "clip_id"},
        ("basename", "stem"),
    )
    assert niqe.higher_is_better is False
    (dover,) = frame.spec.sidecars
    assert (dover.frame_column, dover.pool) == ("frame", ("mean", "p5"))
    assert manifest.job("per-frame") is frame


def test_unknown_job_name_lists_the_jobs(folder: Path) -> None:
    manifest = load(folder, MANIFEST)
    with pytest.raises(InputError, match=r"no job named 'nope' \(jobs: per-clip, per-frame\)"):
        manifest.job("nope")


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_manifest_loads_the_same_jobs_as_json(folder: Path, suffix: str) -> None:
    from_json = load(folder, MANIFEST)
    path = folder / f"m{suffix}"
    path.write_text(MANIFEST_YAML, encoding="utf-8")
    from_yaml = load_manifest(path)
    assert from_yaml.jobs == from_json.join_jobs()
    assert from_yaml.output_dir == from_json.output_dir


def test_yaml_written_by_a_program_loads_the_same_jobs(folder: Path) -> None:
    assert load(folder, MANIFEST, "m.yml").jobs == load(folder, MANIFEST).join_jobs()


def test_inputs_resolve_against_the_manifest_folder_not_the_working_directory(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_manifest(folder / "m.json", MANIFEST)
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    manifest = load_manifest(os.path.relpath(folder / "m.json"))
    clip, frame = manifest.join_jobs()
    # Paths are absolute but not normalised: "elsewhere/../data/…" is fine.
    features, niqe, dover = (
        clip.spec.features,
        clip.spec.sidecars[0].path,
        frame.spec.sidecars[0].path,
    )
    assert isinstance(features, Path)
    assert isinstance(niqe, Path)
    assert isinstance(dover, Path)
    assert features.is_absolute()
    assert features.resolve() == folder / "data" / "features.csv"
    assert niqe.resolve() == folder / "data" / "niqe.jsonl"
    assert dover.resolve() == folder / "data" / "dover.csv"
    assert manifest.output_dir.resolve() == folder / "out"
    assert manifest.path.resolve() == folder / "m.json"


def test_output_dir_is_relative_to_the_manifest_and_outputs_to_output_dir(folder: Path) -> None:
    data = manifest_data()
    data["output_dir"] = "results/v1"
    data["jobs"][1]["output"] = "frames/per-frame.parquet"
    manifest = load(folder, data)
    assert manifest.output_dir == folder / "results" / "v1"
    assert [j.output for j in manifest.jobs] == [
        folder / "results" / "v1" / "per-clip.csv",
        folder / "results" / "v1" / "frames" / "per-frame.parquet",
    ]


def test_absolute_paths_are_kept(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other")
    data = manifest_data()
    data["output_dir"] = str(other / "out")
    data["jobs"][0]["features"] = str(folder / "data" / "features.csv")
    data["jobs"][1]["output"] = str(other / "elsewhere.csv")
    manifest = load(folder, data, allow_outside_output_dir=True)
    assert manifest.output_dir == other / "out"
    assert manifest.join_jobs()[0].spec.features == folder / "data" / "features.csv"
    assert manifest.join_jobs()[0].output == other / "out" / "per-clip.csv"
    assert manifest.join_jobs()[1].output == other / "elsewhere.csv"


@pytest.mark.parametrize("as_path", [True, False])
def test_out_dir_replaces_output_dir(folder: Path, as_path: bool) -> None:
    out = folder / "override"
    manifest = load(folder, MANIFEST, out_dir=out if as_path else str(out))
    assert manifest.output_dir == out
    assert [j.output for j in manifest.jobs] == [out / "per-clip.csv", out / "per-frame.parquet"]


def test_relative_out_dir_is_relative_to_the_working_directory(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = folder / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    manifest = load(folder, MANIFEST, out_dir="here")
    assert manifest.output_dir == cwd / "here"
    assert manifest.join_jobs()[0].output == cwd / "here" / "per-clip.csv"


def test_out_dir_makes_an_unset_variable_in_output_dir_harmless(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SO_TEST_UNSET", raising=False)
    data = manifest_data()
    data["output_dir"] = "${SO_TEST_UNSET}"
    assert load(folder, data, out_dir=folder / "o").output_dir == folder / "o"


def test_tilde_expands_to_the_home_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = folder / "home"
    (home / "corpora").mkdir(parents=True)
    (folder / "data" / "features.csv").rename(home / "corpora" / "features.csv")
    monkeypatch.setenv("HOME", str(home))
    data = manifest_data()
    data["output_dir"] = "~/results"
    for job in data["jobs"]:
        job["features"] = "~/corpora/features.csv"
    data["jobs"][0]["sidecars"][0]["path"] = str(folder / "data" / "niqe.jsonl")
    manifest = load(folder, data)
    assert manifest.output_dir == home / "results"
    assert manifest.join_jobs()[0].spec.features == home / "corpora" / "features.csv"
    assert manifest.join_jobs()[0].output == home / "results" / "per-clip.csv"


def test_tilde_in_an_output_expands_too(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(folder / "home"))
    data = manifest_data()
    data["jobs"][0]["output"] = "~/mine.csv"
    loaded = load(folder, data, allow_outside_output_dir=True)
    assert loaded.join_jobs()[0].output == folder / "home" / "mine.csv"


def test_variables_expand_in_every_path(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SO_TEST_DATA", str(folder / "data"))
    monkeypatch.setenv("SO_TEST_OUT", str(folder / "results"))
    monkeypatch.setenv("SO_TEST_STEM", "per-clip")
    data = manifest_data()
    data["output_dir"] = "${SO_TEST_OUT}"
    data["jobs"][0]["features"] = "${SO_TEST_DATA}/features.csv"
    data["jobs"][0]["sidecars"][0]["path"] = "${SO_TEST_DATA}/niqe.jsonl"
    data["jobs"][0]["output"] = "${SO_TEST_STEM}.jsonl"
    job = load(folder, data).join_jobs()[0]
    assert job.spec.features == folder / "data" / "features.csv"
    assert job.spec.sidecars[0].path == folder / "data" / "niqe.jsonl"
    assert job.output == folder / "results" / "per-clip.jsonl"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "fallback"), ("", "fallback"), ("given", "given")],
    ids=["unset", "empty", "set"],
)
def test_variable_default_is_used_when_unset_or_empty(
    folder: Path, monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str
) -> None:
    if value is None:
        monkeypatch.delenv("SO_TEST_OUT", raising=False)
    else:
        monkeypatch.setenv("SO_TEST_OUT", value)
    data = manifest_data()
    data["output_dir"] = "${SO_TEST_OUT:-fallback}"
    assert load(folder, data).output_dir == folder / expected


def test_variable_default_may_hold_a_path(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SO_TEST_DATA", raising=False)
    data = manifest_data()
    data["jobs"][0]["features"] = "${SO_TEST_DATA:-data}/features.csv"
    assert load(folder, data).join_jobs()[0].spec.features == folder / "data" / "features.csv"


def test_unset_variable_without_default_is_reported_where_it_is_used(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SO_TEST_UNSET", raising=False)
    data = manifest_data()
    data["output_dir"] = "${SO_TEST_UNSET}/out"
    data["jobs"][1]["sidecars"][0]["path"] = "${SO_TEST_UNSET}/dover.csv"
    hint = "(set it, or write ${SO_TEST_UNSET:-default})"
    assert problems_of(folder, data) == [
        f"output_dir: environment variable SO_TEST_UNSET is not set {hint}",
        f"jobs[1].sidecars[0].path: environment variable SO_TEST_UNSET is not set {hint}",
    ]


# --- parsing -------------------------------------------------------------------------------


def test_invalid_json_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{\n  "version": 1,\n  "output_dir": "out"\n  "jobs": []\n}\n', "utf-8")
    message = f"{path} line 4: invalid JSON (Expecting ',' delimiter, column 3)"
    with pytest.raises(InputError) as info:
        load_manifest(path)
    assert info.value.message == message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\noutput_dir: out\njobs:\n  - name: a\n   features: x\n", "utf-8")
    with pytest.raises(InputError, match=r"m\.yaml line 5: invalid YAML \(expected <block end>"):
        load_manifest(path)


@pytest.mark.parametrize("name", ["m.json", "m.yaml", "m.yml"])
@pytest.mark.parametrize("text", ["", "  \n\n"], ids=["empty", "blank"])
def test_empty_manifest_is_an_error(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_manifest(path)
    assert info.value.message == (
        f"{path}: the manifest is empty; a manifest needs version, output_dir and jobs"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("m.json", "[]"),
        ("m.json", '[{"version": 1}]'),
        ("m.json", '"version"'),
        ("m.json", "null"),
        ("m.yaml", "- version: 1\n"),
        ("m.yaml", "just text\n"),
        ("m.yaml", "null\n"),
        ("m.yaml", "---\n"),
    ],
)
def test_manifest_that_is_not_an_object_is_an_error(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_manifest(path)
    assert info.value.message.startswith(f"{path}: a manifest is a ")
    assert "with version, output_dir and jobs" in info.value.message


@pytest.mark.parametrize("name", ["m.toml", "m.txt", "manifest", "m.json.gz"])
def test_unsupported_suffix_is_an_error(tmp_path: Path, name: str) -> None:
    path = write_manifest(tmp_path / "m.json", MANIFEST).rename(tmp_path / name)
    with pytest.raises(InputError) as info:
        load_manifest(path)
    assert info.value.message == f"{path}: a manifest must be .json, .yaml or .yml"


def test_suffix_is_case_insensitive(folder: Path) -> None:
    path = write_manifest(folder / "m.json", MANIFEST).rename(folder / "M.JSON")
    assert len(load_manifest(path).join_jobs()) == 2


def test_missing_manifest_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_manifest(tmp_path / "nope.yaml")
    assert info.value.message == f"{tmp_path / 'nope.yaml'}: no such manifest"


# --- reading: size, encodings, repeated keys, long numbers ----------------------------------


def message_of(path: Path) -> str:
    """The message of the error that loading ``path`` raises."""
    with pytest.raises(InputError) as info:
        load_manifest(path)
    return info.value.message


@pytest.mark.parametrize("name", ["m.json", "m.yaml"])
def test_a_utf8_byte_order_mark_is_skipped(folder: Path, name: str) -> None:
    """Notepad and PowerShell write one; JSON (RFC 8259) and YAML both allow a reader to skip it."""
    plain = write_manifest(folder / name, MANIFEST)
    marked = folder / f"bom-{name}"
    marked.write_bytes(codecs.BOM_UTF8 + plain.read_bytes())
    assert load_manifest(marked).jobs == load_manifest(plain).jobs


@pytest.mark.parametrize(
    ("encoding", "found"),
    [
        (
            "utf-16",
            "the manifest is UTF-16 text (it starts with a little-endian UTF-16 byte order mark)",
        ),
        (
            "utf-32",
            "the manifest is UTF-32 text (it starts with a little-endian UTF-32 byte order mark)",
        ),
        ("utf-16-le", "the manifest looks like UTF-16 text (NUL bytes between its characters)"),
        ("utf-16-be", "the manifest looks like UTF-16 text (NUL bytes between its characters)"),
        ("utf-32-be", "the manifest looks like UTF-32 text (NUL bytes between its characters)"),
    ],
)
@pytest.mark.parametrize("name", ["m.json", "m.yaml"])
def test_utf16_and_utf32_are_named_with_the_fix(
    tmp_path: Path, name: str, encoding: str, found: str
) -> None:
    path = tmp_path / name
    path.write_bytes(json.dumps(MANIFEST).encode(encoding))
    assert message_of(path) == f"{path}: {found}, not UTF-8; save it as UTF-8"


@pytest.mark.parametrize("name", ["m.json", "m.yaml"])
def test_a_byte_that_is_not_utf8_is_named_with_its_line_and_column(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes('{\n  "version": 1,\n  "description": "Qualité",\n'.encode("latin-1"))
    assert message_of(path) == (
        f"{path} line 3: cannot read the manifest: it is not UTF-8 text (byte 0xe9 at column "
        "25 is not valid UTF-8); save it as UTF-8"
    )


def test_a_manifest_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    with path.open("wb") as handle:  # sparse: nothing is written, nothing could be read
        handle.truncate(MAX_MANIFEST_BYTES + 1)
    assert message_of(path) == (
        f"{path}: the manifest is 16 MiB (16,777,217 bytes), over the 16 MiB limit: a manifest "
        "names files, it does not hold data; is this the manifest, or a table it should name?"
    )


def test_a_manifest_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    text = json.dumps(MANIFEST)
    path.write_text(text + " " * (MAX_MANIFEST_BYTES - len(text)), encoding="utf-8")
    assert "jobs[0].features: no such file" in message_of(path)  # read and parsed


def test_a_folder_named_as_the_manifest_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "m.json").mkdir()
    assert message_of(tmp_path / "m.json") == (
        f"{tmp_path / 'm.json'}: is a folder; name the manifest file in it"
    )


def test_a_yaml_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        MANIFEST_YAML.replace("    output: per-clip.csv\n", "    output: a.csv\n    name: again\n"),
        encoding="utf-8",
    )
    assert message_of(path) == (
        f"{path} line 18: invalid YAML (duplicate key 'name', first on line 8; the second would "
        "silently win: keep one)"
    )


def test_a_yaml_merge_key_may_be_overridden(folder: Path) -> None:
    """``<<: *base`` then a key of the merged mapping: the override is what merge keys are for."""
    path = folder / "m.yaml"
    path.write_text(
        "version: 1\noutput_dir: out\njobs:\n"
        "  - &base {name: a, key: [clip_id], features: data/nope.csv, output: a.csv,\n"
        "           sidecars: [{scorer: niqe, path: data/niqe.jsonl, key_map: {video: clip_id}}]}\n"
        "  - <<: *base\n    name: b\n    features: data/features.csv\n    output: b.csv\n",
        encoding="utf-8",
    )
    assert problems(path) == [f"jobs[0].features: no such file: {folder / 'data' / 'nope.csv'}"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"version": 1, "version": 1}', "the top-level object"),
        (
            '{"jobs": [{"name": "a"}, {"sidecars": [{"path": "a", "path": "b"}]}]}',
            "jobs[1].sidecars[0]",
        ),
        ('{"jobs": [{" x": {"path": "a", "path": "b"}}]}', "jobs[0][' x']"),
    ],
)
def test_a_json_key_given_twice_is_refused_with_where_it_is(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "m.json"
    path.write_text(text, encoding="utf-8")
    key = "version" if "version" in text else "path"
    assert message_of(path) == (
        f"{path}: duplicate key {key!r} in {where}; the second would silently win: keep one"
    )


@pytest.mark.parametrize(
    ("name", "written", "shown"),
    [
        ("m.json", "1" + "0" * 399, "1000000000…0000000000, a 400-digit number"),
        ("m.json", "-" + "9" * 5000, "-9999999999…9999999999, a 5000-digit number"),
        ("m.yaml", "1" + "0" * 5000, "1000000000…0000000000, a 5001-digit number"),
        ("m.yaml", "0x" + "f" * 5000, "0xffffffff…ffffffffff, a 5002-character number"),
    ],
)
def test_a_huge_integer_is_refused_at_its_field_and_shortened(
    tmp_path: Path, name: str, written: str, shown: str
) -> None:
    """Past 4300 digits Python refuses to convert text to an integer (a ValueError, once a
    crash); such a number is kept as text, which no field accepts."""
    path = tmp_path / name
    path.write_text(
        f'{{"version": {written}, "output_dir": "o", "jobs": [{{"name": "a", "output": "o.csv", '
        f'"features": "f.csv", "key": ["k"], "sidecars": [{{"scorer": "s", "path": "s.csv", '
        f'"min_coverage": {written}}}]}}]}}',
        encoding="utf-8",
    )
    found = problems(path)
    assert found[:2] == [
        f"version: Input should be 1 (got {shown})",
        f"jobs[0].sidecars[0].min_coverage: Input should be a valid number (got {shown})",
    ]


CONTROL = "JSON allows no raw control characters in strings"


@pytest.mark.parametrize(
    ("character", "said"),
    [
        (
            "\n",
            (
                "unterminated string: the line ends before its closing quote, column 32; close "
                "the string, or write a newline inside it as \\n"
            ),
        ),
        ("\x00", f"a NUL byte inside a string, column 32; {CONTROL}: remove it"),
        ("\t", f"a tab inside a string, column 32; {CONTROL}: write it as \\t"),
        ("\x07", f"control character U+0007 inside a string, column 32; {CONTROL}: remove it"),
    ],
)
def test_a_raw_control_character_in_a_json_string_is_named(
    tmp_path: Path, character: str, said: str
) -> None:
    path = tmp_path / "m.json"
    path.write_text(f'{{"version": 1, "output_dir": "o{character}x"}}', encoding="utf-8")
    assert message_of(path) == f"{path} line 1: invalid JSON ({said})"


def test_a_json_string_cut_by_the_end_of_the_file_says_where_it_starts(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"version": 1, "output_dir": "o', encoding="utf-8")
    assert message_of(path) == (
        f"{path} line 1: invalid JSON (Unterminated string starting at column 30)"
    )


@pytest.mark.parametrize(
    ("character", "said"),
    [
        ("\x00", "#x0000, a NUL byte, column 14; YAML allows no control characters"),
        ("\x07", "#x0007, a control character, column 14; YAML allows no control characters"),
        ("\ufffe", "#xfffe, a noncharacter, column 14; YAML does not allow it"),
    ],
)
def test_a_character_yaml_refuses_is_named_with_its_line(
    tmp_path: Path, character: str, said: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f"version: 1\n\noutput_dir: o{character}x\n", encoding="utf-8")
    assert message_of(path) == (
        f"{path} line 3: invalid YAML (unacceptable character {said}: remove it)"
    )


def test_a_yaml_manifest_of_comments_only_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("# jobs to come\n\n  # more\n", encoding="utf-8")
    assert message_of(path) == (
        f"{path}: the manifest is empty (only comments); a manifest needs version, output_dir "
        "and jobs"
    )


@pytest.mark.parametrize(
    ("written", "reads"),
    [
        ("yes", "the boolean true"),
        ("off", "the boolean false"),
        ("2024-01-01", "a date"),
        ("1_000", "a number"),
        ("~", "null"),
    ],
)
def test_yaml_text_read_as_another_type_is_shown_as_written_with_the_quote_fix(
    folder: Path, written: str, reads: str
) -> None:
    path = folder / "m.yaml"
    path.write_text(MANIFEST_YAML.replace("name: per-frame", f"name: {written}"), encoding="utf-8")
    assert problems(path) == [
        (
            f"jobs[1].name: Input should be a valid string (got {written} on line 18, which "
            f'YAML reads as {reads}; quote it to mean the text: "{written}")'
        )
    ]


def test_a_quoted_yaml_value_gets_no_quote_hint(folder: Path) -> None:
    path = folder / "m.yaml"
    path.write_text(MANIFEST_YAML.replace("name: per-frame", 'name: "Per Frame"'), "utf-8")
    assert problems(path)[0].startswith("jobs[1].name: String should match pattern")


def test_a_json_boolean_gets_no_yaml_hint(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["name"] = True
    assert problems_of(folder, data) == ["jobs[1].name: Input should be a valid string (got True)"]


@pytest.mark.parametrize(
    ("field", "where"),
    [
        ("   ", "['   ']"),
        (" name", "[' name']"),
        ("a.b", "['a.b']"),
        ("x\x00", "['x\\x00']"),
        ("", "['']"),
    ],
)
def test_a_field_name_that_would_be_invisible_or_ambiguous_is_quoted(
    folder: Path, field: str, where: str
) -> None:
    data = manifest_data()
    data["jobs"][0]["sidecars"][0][field] = 1
    (found,) = problems_of(folder, data)
    assert found.startswith(f"jobs[0].sidecars[0]{where}: unknown field")


def test_a_path_with_whitespace_at_an_end_is_quoted(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["features"] = "data/features.csv "
    data["jobs"][1]["sidecars"][0]["path"] = "  "
    padded = str(folder / "data" / "features.csv ")
    assert problems_of(folder, data) == [
        f"jobs[0].features: no such file: {padded!r} (a name in it starts or ends with whitespace)",
        f"jobs[1].sidecars[0].path: no such file: {str(folder / '  ')!r} (the file name is blank)",
    ]


def test_tuple_fields_are_called_lists(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["sidecars"][0]["normalize_keys"] = "strip"
    data["jobs"][1]["sidecars"][0]["pool"] = {"mean": 1}
    assert problems_of(folder, data) == [
        "jobs[0].sidecars[0].normalize_keys: Input should be a valid list (got 'strip')",
        "jobs[1].sidecars[0].pool: Input should be a valid list",
    ]


def test_a_union_fields_branches_are_said_in_words(folder: Path) -> None:
    """pydantic tags each branch of ``columns`` (a list of names, or a pattern) with a Python type
    (``columns.tuple[str, ...][0]``); the message names the branch instead."""
    data = manifest_data()
    data["jobs"][0]["sidecars"][0]["columns"] = [1.5, "niqe"]
    data["jobs"][0]["sidecars"][0]["key_map"] = {"str": 2}  # a key named like a tag stays a key
    assert problems_of(folder, data) == [
        "jobs[0].sidecars[0].key_map.str: Input should be a valid string (got 2)",
        "jobs[0].sidecars[0].columns (as a list)[0]: Input should be a valid string (got 1.5)",
        "jobs[0].sidecars[0].columns (as a string): Input should be a valid string",
    ]


# --- schema ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (("descripton",), "descripton: unknown field; did you mean 'description'?"),
        (("job",), "job: unknown field; did you mean 'jobs'?"),
        (("defaults", "frame_colum"), "defaults.frame_colum: unknown field; did you mean "),
        (("defaults", "keys"), "defaults.keys: unknown field; did you mean 'key'?"),
        (("jobs", 1, "ouptut"), "jobs[1].ouptut: unknown field; did you mean 'output'?"),
        (("jobs", 0, "sidecar"), "jobs[0].sidecar: unknown field; did you mean 'sidecars'?"),
        (
            ("jobs", 0, "sidecars", 0, "higher_is_beter"),
            "jobs[0].sidecars[0].higher_is_beter: unknown field; did you mean 'higher_is_better'?",
        ),
        (
            ("jobs", 1, "sidecars", 0, "scorrer"),
            "jobs[1].sidecars[0].scorrer: unknown field; did you mean 'scorer'?",
        ),
    ],
)
def test_unknown_field_suggests_the_closest_field(
    folder: Path, where: tuple[str | int, ...], expected: str
) -> None:
    data = manifest_data()
    set_at(data, where, "x")
    found = problems_of(folder, data)
    assert any(line.startswith(expected) for line in found), found


def test_unknown_default_suggests_the_option(folder: Path) -> None:
    data = manifest_data()
    data["defaults"]["frame_colum"] = "frame"
    assert "defaults.frame_colum: unknown field; did you mean 'frame_column'?" in problems_of(
        folder, data
    )


def test_unknown_field_without_a_close_match_lists_the_fields(folder: Path) -> None:
    data = manifest_data()
    data["zzz"] = 1
    data["jobs"][0]["zzz"] = 1
    assert problems_of(folder, data) == [
        (
            "jobs[0].zzz: unknown field "
            "(fields: name, description, features, ingest, key, sidecars, output, kind, clips, "
            "model, maps, frame_step, block, on_bad_clip)"
        ),
        "zzz: unknown field (fields: version, output_dir, description, defaults, jobs, audit)",
    ]


def test_a_typo_in_defaults_does_not_drop_the_other_defaults(folder: Path) -> None:
    # Finding: when `defaults` fails validation the loader falls back to empty defaults, so
    # every job that relies on defaults.key also gets a spurious "no key columns" problem.
    data = manifest_data()
    data["defaults"]["frame_colum"] = "frame"
    assert problems_of(folder, data) == [
        "defaults.frame_colum: unknown field; did you mean 'frame_column'?"
    ]


def test_every_problem_is_reported_in_one_error(folder: Path) -> None:
    data = manifest_data()
    data["version"] = 2
    data["extra"] = True
    data["jobs"][0]["name"] = "Per Clip"
    data["jobs"][0]["sidecars"][0]["scorer"] = "NIQE"
    data["jobs"][1]["sidecars"][0]["pool"] = ["mean", "average"]
    del data["jobs"][1]["output"]
    found = problems_of(folder, data)
    assert len(found) == 6, found
    assert {line.split(":", 1)[0] for line in found} == {
        "version",
        "extra",
        "jobs[0].name",
        "jobs[0].sidecars[0].scorer",
        "jobs[1].sidecars[0].pool[1]",
        "jobs[1].output",
    }


def test_problems_of_valid_jobs_are_reported_alongside_schema_problems(folder: Path) -> None:
    data = manifest_data()
    data["descripton"] = "typo"
    data["jobs"][1]["sidecars"][0]["path"] = "data/missing.csv"
    assert problems_of(folder, data) == [
        "descripton: unknown field; did you mean 'description'?",
        f"jobs[1].sidecars[0].path: no such file: {folder / 'data' / 'missing.csv'}",
    ]


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        (("version",), "1", "version: Input should be 1 (got '1')"),
        (("output_dir",), 3, "output_dir: Input should be a valid string (got 3)"),
        (("jobs",), {"name": "a"}, "jobs: Input should be a valid list"),
        (("defaults",), ["clip_id"], "defaults: Input should be a valid dictionary"),
        (("defaults", "key"), "clip_id", "defaults.key: Input should be a valid list (got"),
        (("jobs", 0, "key"), "clip_id", "jobs[0].key: Input should be a valid list (got"),
        (("jobs", 0, "features"), ["a.csv"], "jobs[0].features: Input should be a valid string"),
        (("jobs", 0, "sidecars"), {}, "jobs[0].sidecars: Input should be a valid list"),
        (
            ("jobs", 0, "sidecars", 0, "min_coverage"),
            1.5,
            "jobs[0].sidecars[0].min_coverage: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            ("jobs", 0, "sidecars", 0, "higher_is_better"),
            "maybe",
            "jobs[0].sidecars[0].higher_is_better: Input should be a valid boolean",
        ),
        (
            ("jobs", 0, "sidecars", 0, "on_missing"),
            "skip",
            (
                "jobs[0].sidecars[0].on_missing: Input should be 'null', 'drop', 'error' or "
                "'mark' (got 'skip')"
            ),
        ),
        (
            ("jobs", 1, "sidecars", 0, "pool"),
            ["mean", "avg"],
            "jobs[1].sidecars[0].pool[1]: Input should be 'mean', 'median', ",
        ),
        (
            ("defaults", "on_duplicate"),
            "keep",
            (
                "defaults.on_duplicate: Input should be 'error', 'first', 'last' or 'mean' "
                "(got 'keep')"
            ),
        ),
        (
            ("jobs", 0, "sidecars", 0, "derived"),
            ["zscore", "diff"],
            "jobs[0].sidecars[0].derived: unknown derived feature 'diff'",
        ),
        (
            ("jobs", 0, "sidecars", 0, "normalize_keys"),
            ["upper"],
            "jobs[0].sidecars[0].normalize_keys[0]: Input should be ",
        ),
    ],
)
def test_wrong_type_or_value_is_reported_with_its_location(
    folder: Path, where: tuple[str | int, ...], value: object, expected: str
) -> None:
    data = manifest_data()
    set_at(data, where, value)
    found = problems_of(folder, data)
    assert any(line.startswith(expected) for line in found), found


@pytest.mark.parametrize(
    "where",
    [
        ("version",),
        ("output_dir",),
        ("jobs",),
        ("jobs", 1, "name"),
        ("jobs", 1, "sidecars"),
        ("jobs", 1, "output"),
        ("jobs", 0, "sidecars", 0, "scorer"),
        ("jobs", 0, "sidecars", 0, "path"),
    ],
)
def test_missing_required_field_is_reported(folder: Path, where: tuple[str | int, ...]) -> None:
    data = manifest_data()
    drop_at(data, where)
    expected = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")
    assert problems_of(folder, data) == [f"{expected}: required field is missing"]


def test_a_job_needs_features_or_ingest_but_not_both(folder: Path) -> None:
    data = manifest_data()
    drop_at(data, ("jobs", 1, "features"))
    assert problems_of(folder, data) == [
        "jobs[1]: give the base table as features (a table) or ingest (metadata), exactly one"
    ]
    data = manifest_data()
    data["jobs"][1]["ingest"] = {"preset": "konvid-1k", "metadata": "meta.csv"}
    assert problems_of(folder, data) == [
        "jobs[1]: give the base table as features (a table) or ingest (metadata), exactly one"
    ]


@pytest.mark.parametrize("version", [0, 2, 1.5, None])
def test_only_version_1_is_accepted(folder: Path, version: object) -> None:
    data = manifest_data()
    data["version"] = version
    assert problems_of(folder, data) == [f"version: Input should be 1 (got {version!r})"]


@pytest.mark.parametrize("name", ["Per-Clip", "per clip", "-clip", "_clip", "clip/a", "", "é"])
def test_job_name_must_be_a_slug(folder: Path, name: str) -> None:
    data = manifest_data()
    data["jobs"][1]["name"] = name
    (line,) = problems_of(folder, data)
    assert line.startswith("jobs[1].name: String should match pattern ")
    assert line.endswith(f"(got {name!r})")


@pytest.mark.parametrize("name", ["a", "corpus-a", "konvid_1k.v2", "0"])
def test_job_names_may_use_dots_and_dashes(folder: Path, name: str) -> None:
    data = manifest_data()
    data["jobs"][1]["name"] = name
    assert load(folder, data).join_jobs()[1].name == name


@pytest.mark.parametrize("scorer", ["NIQE", "dover v2", "my scorer", "--", ""])
def test_scorer_must_be_a_slug(folder: Path, scorer: str) -> None:
    data = manifest_data()
    data["jobs"][0]["sidecars"][0]["scorer"] = scorer
    (line,) = problems_of(folder, data)
    assert line.startswith(f"jobs[0].sidecars[0].scorer: scorer {scorer!r} is not a slug; ")


def test_empty_jobs_list_is_an_error(folder: Path) -> None:
    data = manifest_data()
    data["jobs"] = []
    assert problems_of(folder, data) == [
        "jobs: List should have at least 1 item after validation, not 0"
    ]


def test_job_without_sidecars_is_an_error(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["sidecars"] = []
    assert problems_of(folder, data) == [
        "jobs[1].sidecars: List should have at least 1 item after validation, not 0"
    ]


# --- defaults --------------------------------------------------------------------------------


def test_defaults_key_applies_to_jobs_without_a_key(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["key"] = ["clip_id", "mos"]
    clip, frame = load(folder, data).join_jobs()
    assert clip.spec.key == ("clip_id",)
    assert frame.spec.key == ("clip_id", "mos")


def test_key_on_the_job_alone_is_enough(folder: Path) -> None:
    data = manifest_data()
    del data["defaults"]
    for job in data["jobs"]:
        job["key"] = ["clip_id"]
    assert [j.spec.key for j in load(folder, data).join_jobs()] == [("clip_id",), ("clip_id",)]


def test_no_key_anywhere_is_an_error_at_the_job(folder: Path) -> None:
    data = manifest_data()
    del data["defaults"]
    data["jobs"][0]["key"] = ["clip_id"]
    assert problems_of(folder, data) == [
        "jobs[1].key: no key columns (set 'key' on the job or in defaults)"
    ]


def test_empty_key_is_no_key(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["key"] = []
    assert problems_of(folder, data) == [
        "jobs[0].key: no key columns (set 'key' on the job or in defaults)"
    ]


def test_a_sidecar_option_in_defaults_applies_unless_the_sidecar_sets_its_own(
    folder: Path,
) -> None:
    data = manifest_data()
    data["defaults"] |= {
        "pool": ["median"],
        "on_missing": "drop",
        "min_coverage": 0.5,
        "normalize_keys": ["lower", "strip"],
        "derived": ["zscore"],
    }
    data["jobs"][1]["sidecars"].append(
        {"scorer": "dover2", "path": "data/dover.csv", "frame_column": "frame"}
    )
    (niqe,) = load(folder, data).join_jobs()[0].spec.sidecars
    dover, dover2 = load(folder, data).join_jobs()[1].spec.sidecars
    # niqe sets its own normalize_keys; dover its own pool.
    assert niqe.normalize_keys == ("basename", "stem")
    assert dover.normalize_keys == dover2.normalize_keys == ("strip", "lower")
    assert dover.pool == ("mean", "p5")
    assert dover2.pool == ("median",)
    assert niqe.on_missing == dover.on_missing == dover2.on_missing == "drop"
    assert niqe.min_coverage == dover2.min_coverage == 0.5
    assert niqe.derived == dover2.derived == ("zscore",)


def test_a_sidecar_value_equal_to_the_builtin_default_still_wins(folder: Path) -> None:
    data = manifest_data()
    data["defaults"]["on_duplicate"] = "mean"
    data["jobs"][0]["sidecars"][0]["on_duplicate"] = "error"
    assert load(folder, data).join_jobs()[0].spec.sidecars[0].on_duplicate == "error"


def test_a_sidecar_setting_frame_column_null_overrides_a_default_frame_column(
    folder: Path,
) -> None:
    data = manifest_data()
    data["defaults"]["frame_column"] = "frame"
    del data["jobs"][1]["sidecars"][0]["frame_column"]
    data["jobs"][0]["sidecars"][0]["frame_column"] = None
    (niqe,) = load(folder, data).join_jobs()[0].spec.sidecars
    (dover,) = load(folder, data).join_jobs()[1].spec.sidecars
    assert niqe.frame_column is None
    assert not niqe.per_frame
    assert dover.frame_column == "frame"


def test_builtin_defaults_apply_when_neither_sets_an_option(folder: Path) -> None:
    (niqe,) = load(folder, MANIFEST).join_jobs()[0].spec.sidecars
    assert niqe.frame_column is None
    assert niqe.pool == ("mean",)
    assert niqe.columns is None
    assert niqe.prefix is None
    assert niqe.column_prefix == "so_niqe_"
    assert (niqe.on_missing, niqe.on_duplicate, niqe.min_coverage) == ("null", "error", 0.0)
    assert niqe.derived == ()


def test_defaults_from_yaml_merge_like_json(folder: Path) -> None:
    text = MANIFEST_YAML.replace("  key: [clip_id]\n", "  key: [clip_id]\n  pool: [max]\n")
    text = text.replace("        pool:\n          - mean\n          - p5\n", "")
    path = folder / "m.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_manifest(path).join_jobs()[1].spec.sidecars[0].pool == ("max",)


def test_merged_options_are_checked_together(folder: Path) -> None:
    data = manifest_data()
    data["defaults"]["frame_column"] = "video"
    (line,) = problems_of(folder, data)
    assert line.endswith("frame_column 'video' is also a key in key_map")
    assert line.startswith("jobs[0].sidecars[0]")


def test_merged_option_problems_name_the_sidecar_not_the_top_level(folder: Path) -> None:
    # Finding: a model-level problem of a sidecar is reported at
    # "jobs[0].sidecars[0].(top level): …".
    data = manifest_data()
    data["jobs"][0]["sidecars"][0]["frame_column"] = "video"
    (line,) = problems_of(folder, data)
    assert "(top level)" not in line
    assert line.startswith(("jobs[0].sidecars[0]: ", "jobs[0].sidecars[0].frame_column: "))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"key": ["clip_id", "clip_id"]},
            "jobs[1].key: key repeats a column: ['clip_id', 'clip_id']",
        ),
        (
            {"sidecars": [{"scorer": "dover", "path": "data/dover.csv"}] * 2},
            (
                "jobs[1].sidecars[1].scorer: scorer 'dover' appears twice; "
                "give each sidecar its own scorer name"
            ),
        ),
        (
            {"sidecars": [{"scorer": "dover", "path": "data/dover.csv", "key_map": {"c": "x"}}]},
            (
                "jobs[1].sidecars[0].key_map: sidecar 'dover': key_map maps 'c' to 'x', which is "
                "not a key column (key: clip_id)"
            ),
        ),
    ],
    ids=["repeated-key", "repeated-scorer", "key-map-target"],
)
def test_job_level_problems_name_the_field(
    folder: Path, change: dict[str, Any], expected: str
) -> None:
    # Finding: these are reported as "jobs[1]: (top level): …".
    data = manifest_data()
    data["jobs"][1] |= change
    assert problems_of(folder, data) == [expected]


def test_yaml_null_as_on_missing_means_the_null_policy(folder: Path) -> None:
    # Finding: YAML reads `on_missing: null` (the documented default policy) as None and the
    # loader rejects it with "Input should be 'null', 'drop' or 'error' (got None)".
    text = MANIFEST_YAML.replace(
        "        higher_is_better: false\n",
        "        higher_is_better: false\n        on_missing: null\n",
    )
    path = folder / "m.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_manifest(path).join_jobs()[0].spec.sidecars[0].on_missing == "null"


# --- meaning: names, outputs, inputs ---------------------------------------------------------


def test_duplicate_job_names_are_an_error(folder: Path) -> None:
    data = manifest_data()
    data["jobs"].append({**data["jobs"][0], "output": "third.csv"})
    assert problems_of(folder, data) == [
        "jobs[2].name: 'per-clip' is also the name of jobs[0]; job names must be unique"
    ]


def test_duplicate_name_of_an_invalid_job_is_still_reported(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["name"] = "per-clip"
    data["jobs"][1]["sidecars"][0]["pool"] = []
    found = problems_of(folder, data)
    assert "jobs[1].name: 'per-clip' is also the name of jobs[0]; job names must be unique" in (
        found
    )
    assert len(found) == 2


@pytest.mark.parametrize("spelling", ["per-clip.csv", "./per-clip.csv", "sub/../per-clip.csv"])
def test_two_jobs_with_one_output_are_an_error(folder: Path, spelling: str) -> None:
    data = manifest_data()
    data["jobs"][1]["output"] = spelling
    out = folder / "out" / "per-clip.csv"  # resolved paths are normalised
    assert problems_of(folder, data) == [
        f"jobs[1].output: {out} is also the output of jobs[0]; give each job its own output"
    ]


def test_an_output_equal_to_its_own_input_is_an_error(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["output"] = "../data/features.csv"
    out = folder / "data" / "features.csv"  # resolved paths are normalised
    found = problems_of(folder, data, allow_outside_output_dir=True)
    assert len(found) == 1
    assert found[0].startswith(f"jobs[0].output: {out} is also an input (features of jobs[")
    assert found[0].endswith("); write the output elsewhere")


def test_an_output_equal_to_a_sidecar_is_an_error(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["output"] = str(folder / "data" / "niqe.jsonl")
    out = folder / "data" / "niqe.jsonl"
    assert problems_of(folder, data, allow_outside_output_dir=True) == [
        f"jobs[1].output: {out} is also an input (sidecar of jobs[0]); write the output elsewhere"
    ]


def test_an_output_equal_to_another_jobs_input_is_an_error(folder: Path) -> None:
    data = manifest_data()
    data["output_dir"] = "."
    data["jobs"][0]["output"] = "data/dover.csv"
    out = folder / "data" / "dover.csv"
    assert problems_of(folder, data) == [
        f"jobs[0].output: {out} is also an input (sidecar of jobs[1]); write the output elsewhere"
    ]


def test_an_output_that_is_the_manifest_itself_is_an_error(folder: Path) -> None:
    # Finding: nothing stops a job from overwriting its own manifest.
    data = manifest_data()
    data["jobs"][0]["output"] = "../m.json"
    (line,) = problems_of(folder, data, allow_outside_output_dir=True)
    assert line.startswith(f"jobs[0].output: {folder / 'm.json'} ")
    assert "manifest" in line


def test_an_output_that_is_a_folder_is_an_error(folder: Path) -> None:
    # Finding: an output naming an existing folder passes; the batch fails after joining.
    data = manifest_data()
    data["output_dir"] = "."
    data["jobs"][0]["output"] = "data"
    (line,) = problems_of(folder, data)
    assert line.startswith(f"jobs[0].output: {folder / 'data'}")


def test_missing_inputs_are_reported_with_their_locations(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["features"] = "data/nope.csv"
    data["jobs"][1]["sidecars"].append({"scorer": "brisque", "path": "data/brisque.csv"})
    data["jobs"][1]["sidecars"].append({"scorer": "vmaf2", "path": "data/vmaf2.parquet"})
    assert problems_of(folder, data) == [
        f"jobs[0].features: no such file: {folder / 'data' / 'nope.csv'}",
        f"jobs[1].sidecars[1].path: no such file: {folder / 'data' / 'brisque.csv'}",
        f"jobs[1].sidecars[2].path: no such file: {folder / 'data' / 'vmaf2.parquet'}",
    ]


def test_an_input_that_is_a_folder_is_an_error(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["sidecars"][0]["path"] = "data"
    assert problems_of(folder, data) == [f"jobs[1].sidecars[0].path: not a file: {folder / 'data'}"]


def test_outputs_need_not_exist_and_nothing_is_created(folder: Path) -> None:
    before = sorted(folder.rglob("*"))
    load(folder, MANIFEST)
    assert sorted(folder.rglob("*")) == [*before, folder / "m.json"]


# --- validate_manifest -----------------------------------------------------------------------


def test_validate_passes_on_the_smoke_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = validate_manifest(SMOKE, out_dir=out)
    assert report.manifest == str(SMOKE)
    assert report.output_dir == str(out)
    assert [j["name"] for j in report.jobs] == ["corpus-a", "corpus-b"]
    assert report.jobs[0] == {
        "name": "corpus-a",
        "features": str(SMOKE.parent / "features_corpus_a.jsonl"),
        "sidecars": {"niqe": str(SMOKE.parent / "scores_a_niqe.jsonl")},
        "output": str(out / "corpus-a.jsonl"),
    }
    assert report.to_dict()["valid"] is True
    assert not out.exists()


def test_validate_uses_the_smoke_manifests_output_dir_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECOND_OPINION_SMOKE_DIR", str(tmp_path / "smoke"))
    report = validate_manifest(SMOKE)
    assert report.output_dir == str(tmp_path / "smoke")
    assert not (tmp_path / "smoke").exists()


def validate_problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        validate_manifest(path, out_dir=path.parent / "out")
    header, *lines = info.value.message.splitlines()
    count = f"{len(lines)} problem{'s' if len(lines) > 1 else ''}"
    assert header == f"{path}: invalid manifest ({count}):"
    return [line.strip() for line in lines]


def test_validate_passes_on_a_valid_manifest(folder: Path) -> None:
    path = write_manifest(folder / "m.yaml", MANIFEST)
    assert [j["name"] for j in validate_manifest(path).jobs] == ["per-clip", "per-frame"]


def test_validate_reports_a_missing_key_column(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["key"] = ["clip"]
    data["jobs"][1]["sidecars"][0]["key_map"] = {"clip_id": "clip"}
    (line,) = validate_problems(write_manifest(folder / "m.json", data))
    features = folder / "data" / "features.csv"
    assert line.startswith(f"jobs[1] (per-frame): {features}: key column 'clip' not found ")
    assert "(columns: clip_id, mos, vmaf)" in line


def test_validate_reports_a_sidecar_without_the_key_column(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["sidecars"][0]["key_map"] = {}
    (line,) = validate_problems(write_manifest(folder / "m.json", data))
    niqe = folder / "data" / "niqe.jsonl"
    assert line.startswith(f"jobs[0] (per-clip): {niqe}: key column 'clip_id' not found ")


def test_validate_reports_a_missing_frame_column(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["sidecars"][0]["frame_column"] = "frame_no"
    (line,) = validate_problems(write_manifest(folder / "m.json", data))
    dover = folder / "data" / "dover.csv"
    assert line.startswith(f"jobs[1] (per-frame): {dover}: frame column 'frame_no' not found ")
    assert "(columns: clip_id, frame, technical)" in line


def test_validate_reports_a_missing_score_column(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["sidecars"][0]["columns"] = ["niqe", "brisque"]
    (line,) = validate_problems(write_manifest(folder / "m.json", data))
    niqe = folder / "data" / "niqe.jsonl"
    assert line.startswith(f"jobs[0] (per-clip): {niqe}: score column 'brisque' not found ")


def test_validate_reports_problems_of_every_job_at_once(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["sidecars"][0]["columns"] = ["brisque"]
    data["jobs"][1]["sidecars"][0]["frame_column"] = "frame_no"
    data["jobs"][1]["sidecars"][0]["derived"] = ["delta:nope"]
    found = validate_problems(write_manifest(folder / "m.json", data))
    assert [line.split(":", 1)[0] for line in found] == [
        "jobs[0] (per-clip)",
        "jobs[1] (per-frame)",
    ]


def test_validate_reports_a_missing_delta_base_column(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["sidecars"][0]["derived"] = ["delta:vmaf_adm2"]
    (line,) = validate_problems(write_manifest(folder / "m.json", data))
    features = folder / "data" / "features.csv"
    assert line.startswith(
        f"jobs[0] (per-clip): {features}: base column for delta 'vmaf_adm2' not found "
    )


def test_validate_reports_load_problems_first(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["sidecars"][0]["path"] = "data/nope.csv"
    assert validate_problems(write_manifest(folder / "m.json", data)) == [
        f"jobs[1].sidecars[0].path: no such file: {folder / 'data' / 'nope.csv'}"
    ]


def test_validate_hints_name_manifest_fields_not_command_line_options(folder: Path) -> None:
    # Finding: the hints say "set --frame-column …", "fix --columns niqe:…", "--key-map …",
    # which are `join` options, not manifest fields.
    data = manifest_data()
    data["jobs"][0]["sidecars"][0]["columns"] = ["brisque"]
    data["jobs"][1]["sidecars"][0]["frame_column"] = "frame_no"
    found = validate_problems(write_manifest(folder / "m.json", data))
    assert len(found) == 2
    for line in found:
        assert " --" not in line, line


def test_validate_rejects_an_output_it_cannot_write(folder: Path) -> None:
    # Finding: an output with an unsupported suffix passes validate; batch fails after joining.
    data = manifest_data()
    data["jobs"][0]["output"] = "per-clip.txt"
    with pytest.raises(InputError, match=r"jobs\[0\][^\n]*per-clip\.txt"):
        validate_manifest(write_manifest(folder / "m.json", data), out_dir=folder / "out")


def test_validate_writes_nothing(folder: Path) -> None:
    data = manifest_data()
    data["output_dir"] = "results"
    path = write_manifest(folder / "m.json", data)
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    validate_manifest(path)
    validate_manifest(path, out_dir=folder / "elsewhere")
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before
    assert not (folder / "results").exists()
    assert not (folder / "elsewhere").exists()


def test_validate_writes_nothing_when_invalid(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][1]["sidecars"][0]["frame_column"] = "frame_no"
    path = write_manifest(folder / "m.json", data)
    before = sorted(folder.rglob("*"))
    with pytest.raises(InputError):
        validate_manifest(path)
    assert sorted(folder.rglob("*")) == before


# --- docs/manifest.md ------------------------------------------------------------------------


def doc_example(kind: str) -> str:
    """The code block after ``<!-- example:<kind> -->`` in docs/manifest.md."""
    text = (ROOT / "docs" / "manifest.md").read_text(encoding="utf-8")
    block = text.split(f"<!-- example:{kind} -->\n```{kind}\n", 1)[1]
    return block.split("\n```\n", 1)[0]


def test_the_docs_json_and_yaml_examples_are_the_same_manifest() -> None:
    assert json.loads(doc_example("json")) == yaml.safe_load(doc_example("yaml"))


@pytest.mark.parametrize(("kind", "suffix"), [("json", ".json"), ("yaml", ".yaml")])
def test_the_docs_example_validates_and_resolves_as_the_docs_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, suffix: str
) -> None:
    home, corpora, batch = tmp_path / "home", tmp_path / "data", tmp_path / "batch"
    for folder in (home / "corpora" / "konvid", corpora / "live-vqc", batch / "scores"):
        folder.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CORPORA", str(corpora))
    monkeypatch.delenv("RESULTS", raising=False)
    clips = ["a", "b"]
    write_table(
        home / "corpora" / "konvid" / "features.csv",
        [{"clip_id": c, "mos": 3.0, "vmaf": 80.0} for c in clips],
    )
    write_table(
        corpora / "live-vqc" / "features.jsonl", [{"clip_id": c, "mos": 2.0} for c in clips]
    )
    write_table(
        batch / "scores" / "konvid_niqe.jsonl",
        [{"video": f"/v/{c}.mp4", "score": 5.0, "other": 1.0} for c in clips],
    )
    frames = [
        {"clip_id": c, "frame": f, "technical": 0.5, "aesthetic": 0.4}
        for c in clips
        for f in (0, 1)
    ]
    write_table(batch / "scores" / "konvid_dover_frames.csv", frames)
    write_table(batch / "scores" / "live_vqc_dover_frames.parquet", frames)
    path = batch / f"batch{suffix}"
    path.write_text(doc_example(kind), encoding="utf-8")

    report = validate_manifest(path)
    konvid, live = load_manifest(path).join_jobs()

    results = batch / "results"
    assert report.output_dir == str(results)
    assert not results.exists()
    assert konvid.spec.features == home / "corpora" / "konvid" / "features.csv"
    assert konvid.output == results / "konvid-1k.parquet"
    assert live.spec.features == corpora / "live-vqc" / "features.jsonl"
    assert live.output == results / "live-vqc" / "joined.csv.gz"
    niqe, dover = konvid.spec.sidecars
    assert (niqe.frame_column, niqe.min_coverage, niqe.higher_is_better) == (None, 0.95, False)
    assert (dover.frame_column, dover.pool, dover.min_coverage) == ("frame", ("mean", "p5"), 0.95)
    (live_dover,) = live.spec.sidecars
    assert live_dover.frame_column == "frame"
    assert live_dover.pool == ("mean", "median", "std")
    assert live_dover.on_missing == "error"
    assert live.spec.key == konvid.spec.key == ("clip_id",)


# --- outputs stay inside output_dir ------------------------------------------------------------


@pytest.mark.parametrize(
    "output", ["../escaped.csv", "/tmp/elsewhere/x.csv"], ids=["dot-dot", "absolute"]
)
def test_an_output_outside_output_dir_is_refused(folder: Path, output: str) -> None:
    data = manifest_data()
    data["jobs"][0]["output"] = output
    out_dir = load(folder, manifest_data()).output_dir
    target = Path(os.path.normpath(out_dir / output))
    assert problems_of(folder, data) == [
        (
            f"jobs[0].output: {target} is outside output_dir {out_dir} (through '..', an "
            "absolute path or a symlink); write inside it, or pass --allow-outside-output-dir"
        )
    ]
    assert load(folder, data, allow_outside_output_dir=True).jobs[0].output == target


def test_a_symlink_out_of_output_dir_is_refused(folder: Path, tmp_path: Path) -> None:
    data = manifest_data()
    out_dir = load(folder, data).output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (out_dir / "link").symlink_to(outside, target_is_directory=True)
    data["jobs"][0]["output"] = "link/x.csv"
    (line,) = problems_of(folder, data)
    assert line.startswith(f"jobs[0].output: {out_dir / 'link' / 'x.csv'} is outside output_dir")


def test_the_audit_report_folder_stays_inside_output_dir(folder: Path) -> None:
    data = manifest_data()
    data["audit"] = {"out": "../report"}
    (line,) = problems_of(folder, data)
    assert line.startswith("audit.out: ")
    assert "is outside output_dir" in line


def test_a_manifest_that_cannot_be_read_is_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match=r"nope\.json: no such manifest$"):
        load_manifest(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1,,}', encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"broken\.json line 1: invalid JSON \("):
        load_manifest(broken)
    wide = tmp_path / "wide.json"
    wide.write_bytes('{"version": 1}'.encode("utf-16"))
    with pytest.raises(UnreadableFileError, match=r"wide\.json: .*UTF-16"):
        load_manifest(wide)


def test_the_root_folder_as_an_output_is_a_problem_not_a_crash(folder: Path) -> None:
    # Found by the CI fuzz run: output "/" has no file name, and the check for a file this tool
    # did not write asked for the provenance record beside it.
    data = manifest_data()
    set_at(data, ("jobs", 0, "output"), "/")
    found = problems_of(folder, data, allow_outside_output_dir=True)
    assert "jobs[0].output: / is a folder; name a file" in found
