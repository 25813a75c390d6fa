"""`second-opinion validate` and `second-opinion schema` through the real entry point.

Every test runs ``python -m second_opinion`` in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from second_opinion.join.options import OPTION_FIELDS
from tests._tables import write_table
from tests.cli._run import ENV, run_cli

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "testdata" / "smoke-second-opinion-batch" / "batch.json"


run = run_cli


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """A valid one-job manifest in ``tmp_path`` (YAML), with its two tables."""
    write_table(tmp_path / "features.csv", [{"clip_id": "a", "mos": 3.0}, {"clip_id": "b"}])
    write_table(tmp_path / "niqe.jsonl", [{"clip_id": "a", "niqe": 5.0}])
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\n"
        "output_dir: results\n"
        "jobs:\n"
        "  - name: only\n"
        "    key: [clip_id]\n"
        "    features: features.csv\n"
        "    sidecars:\n"
        "      - {scorer: niqe, path: niqe.jsonl}\n"
        "    output: only.parquet\n",
        encoding="utf-8",
    )
    return path


def test_validate_accepts_the_smoke_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("validate", SMOKE, "--out-dir", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{SMOKE}: valid, 2 job(s), outputs in {out}"
    assert result.stderr == ""
    assert not out.exists()


def test_validate_uses_output_dir_from_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    result = run("validate", SMOKE, env={**ENV, "SECOND_OPINION_SMOKE_DIR": str(out)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"outputs in {out}")
    assert not out.exists()


def test_validate_accepts_a_yaml_manifest(manifest: Path) -> None:
    result = run("validate", manifest)
    assert result.returncode == 0, result.stderr
    assert "valid, 1 job(s)" in result.stdout
    assert not (manifest.parent / "results").exists()


def test_validate_json_report(manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    result = run("validate", manifest, "--json", "--out-dir", out)
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert list(report) == ["manifest", "output_dir", "valid", "jobs"]
    assert report == {
        "manifest": str(manifest),
        "output_dir": str(out),
        "valid": True,
        "jobs": [
            {
                "name": "only",
                "features": str(tmp_path / "features.csv"),
                "sidecars": {"niqe": str(tmp_path / "niqe.jsonl")},
                "output": str(out / "only.parquet"),
            }
        ],
    }


def test_validate_json_of_the_smoke_manifest_lists_both_jobs(tmp_path: Path) -> None:
    result = run("validate", "--json", SMOKE, "--out-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    jobs = json.loads(result.stdout)["jobs"]
    assert [j["name"] for j in jobs] == ["corpus-a", "corpus-b"]
    assert [list(j) for j in jobs] == [["name", "features", "sidecars", "output"]] * 2
    assert [list(j["sidecars"]) for j in jobs] == [["niqe"], ["dover"]]


def test_invalid_manifest_exits_2_with_every_problem_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "output_dir": "out",
                "jobs": [
                    {
                        "name": "a",
                        "key": ["clip_id"],
                        "features": "f.csv",
                        "output": "a.csv",
                        "sidecars": [{"scorer": "niqe", "path": "n.csv", "frame_colum": "frame"}],
                    },
                    {
                        "name": "a",
                        "key": ["clip_id"],
                        "features": "f.csv",
                        "output": "b.csv",
                        "sidecars": [{"scorer": "niqe", "path": "n.csv"}],
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    result = run("validate", path)
    assert result.returncode == 2
    assert result.stdout == ""
    # jobs[0] does not pass the schema, so its files are not looked for.
    assert result.stderr.splitlines() == [
        f"error: {path}: invalid manifest (4 problems):",
        "  jobs[0].sidecars[0].frame_colum: unknown field; did you mean 'frame_column'?",
        "  jobs[1].name: 'a' is also the name of jobs[0]; job names must be unique",
        f"  jobs[1].features: no such file: {tmp_path / 'f.csv'}",
        f"  jobs[1].sidecars[0].path: no such file: {tmp_path / 'n.csv'}",
    ]


def test_invalid_manifest_with_json_still_exits_2(manifest: Path) -> None:
    text = manifest.read_text(encoding="utf-8").replace("version: 1", "version: 2")
    manifest.write_text(text, encoding="utf-8")
    result = run("validate", "--json", manifest)
    assert result.returncode == 2
    assert "version: Input should be 1 (got 2)" in result.stderr


def test_validate_reports_a_missing_column_with_job_and_file(manifest: Path) -> None:
    text = manifest.read_text(encoding="utf-8").replace(
        "{scorer: niqe, path: niqe.jsonl}", "{scorer: niqe, path: niqe.jsonl, columns: [brisque]}"
    )
    manifest.write_text(text, encoding="utf-8")
    result = run("validate", manifest)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {manifest}: invalid manifest (1 problem):"
    assert lines[1].startswith(
        f"  jobs[0] (only): {manifest.parent / 'niqe.jsonl'}: score column 'brisque' not found "
    )
    assert not (manifest.parent / "results").exists()


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.json", '{"version": 1,\n}', "m.json line 2: invalid JSON (Expecting property name"),
        ("m.yaml", "jobs: [\n", "m.yaml line 2: invalid YAML ("),
        ("m.json", "", "m.json: the manifest is empty"),
        ("m.json", "[1, 2]", "m.json: a manifest is a mapping with version, output_dir"),
        ("m.toml", "version = 1", "m.toml: a manifest must be .json, .yaml or .yml"),
    ],
)
def test_unreadable_manifest_exits_2(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run("validate", path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {tmp_path}/")
    assert message in result.stderr


def test_missing_manifest_exits_2(tmp_path: Path) -> None:
    result = run("validate", tmp_path / "nope.json")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.json'}: no such manifest"


def test_validate_without_a_manifest_is_a_usage_error() -> None:
    result = run("validate")
    assert result.returncode == 2
    assert "missing argument 'manifest'" in result.stderr.lower()


def test_schema_prints_the_json_schema_of_manifests() -> None:
    result = run("schema")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    schema: dict[str, Any] = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == [
        "version",
        "output_dir",
        "description",
        "defaults",
        "jobs",
        "audit",
    ]
    assert schema["properties"]["version"]["const"] == 1
    assert set(schema["required"]) == {"version", "output_dir", "jobs"}

    definitions: dict[str, Any] = schema["$defs"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref: str = node["$ref"]
        assert ref.startswith("#/$defs/")
        target: dict[str, Any] = definitions[ref.removeprefix("#/$defs/")]
        return target

    jobs = schema["properties"]["jobs"]
    assert jobs["type"] == "array"
    assert jobs["minItems"] == 1
    job = resolve(jobs["items"])
    assert list(job["properties"]) == [
        "name",
        "description",
        "features",
        "ingest",
        "key",
        "sidecars",
        "output",
        "kind",
        "clips",
        "model",
        "maps",
        "frame_step",
        "block",
        "on_bad_clip",
    ]
    assert set(job["required"]) == {"name", "output"}
    assert job["additionalProperties"] is False
    sidecar = resolve(job["properties"]["sidecars"]["anyOf"][0]["items"])
    matrix = {"variable", "align"}
    assert {"scorer", "path", "description", *OPTION_FIELDS, *matrix} == set(sidecar["properties"])
    assert set(sidecar["required"]) == {"scorer", "path"}
    assert sidecar["additionalProperties"] is False
    defaults = resolve(schema["properties"]["defaults"])
    assert {"key", *OPTION_FIELDS} == set(defaults["properties"])
    # issue 13: the original materializer's options, pinned on purpose
    options = sidecar["properties"]
    assert options["records"]["enum"] == ["table", "wrapper"]
    assert options["on_missing"]["enum"] == ["null", "drop", "error", "mark"]
    assert "auto" in options["normalize_keys"]["items"]["enum"]
    assert options["scorer_fallback"]["default"] is True
    for name in ("key_field", "score_field", "scorer_column", "status_column"):
        assert options[name]["description"], name
    assert defaults["additionalProperties"] is False


def test_schema_output_is_stable() -> None:
    first, second = run("schema"), run("schema")
    assert first.stdout == second.stdout


def test_an_output_outside_output_dir_exits_2_unless_allowed(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "testdata" / "smoke-second-opinion-batch", tmp_path / "s")
    manifest = tmp_path / "s" / "batch.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["output_dir"] = "out"
    data["jobs"][0]["output"] = "../escape.jsonl"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    escaped = tmp_path / "s" / "escape.jsonl"

    refused = run("batch", manifest)
    assert refused.returncode == 2
    assert f"jobs[0].output: {escaped} is outside output_dir {tmp_path / 's' / 'out'}" in (
        refused.stderr
    )
    assert "pass --allow-outside-output-dir" in refused.stderr
    assert not escaped.exists()

    allowed = run("validate", manifest, "--allow-outside-output-dir")
    assert allowed.returncode == 0, allowed.stderr
