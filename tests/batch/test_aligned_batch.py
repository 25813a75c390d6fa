"""Row-aligned sidecars in batch manifests: resolving ``align.keys_from``, validation, runs.

The manifest below joins a MATLAB v5 score matrix (rows in the order of ``data/meta.csv``) onto
a base table whose rows are in another order; the tests check how ``align`` is loaded, where its
problems are reported, and that ``run_batch`` fingerprints the key table as an input.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]
import yaml

from second_opinion.batch.manifest.jobs import Manifest
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.runner import BatchResult, run_batch
from second_opinion.batch.validate import validate_manifest
from second_opinion.errors import InputError
from second_opinion.provenance import provenance_path
from tests._tables import read_rows, write_table

KEYS = ["v3", "v1", "v5", "v2", "v4"]
BASE_KEYS = ["v2", "v4", "v1", "zz", "v3"]
FEATS: npt.NDArray[np.float64] = np.arange(15.0).reshape(5, 3) / 4 + 1
FEATS[KEYS.index("v4"), 1] = np.nan

MANIFEST: dict[str, Any] = {
    "version": 1,
    "output_dir": "out",
    "jobs": [
        {
            "name": "aligned",
            "features": "data/base.csv",
            "key": ["flickr_id"],
            "sidecars": [
                {
                    "scorer": "brisque",
                    "path": "data/feats.mat",
                    "variable": "feats_mat",
                    "align": {"keys_from": "data/meta.csv", "column": "flickr_id"},
                    "columns": "f{i:02d}",
                    "higher_is_better": False,
                }
            ],
            "output": "aligned.csv",
        }
    ],
}


def manifest_data() -> dict[str, Any]:
    return copy.deepcopy(MANIFEST)


def sidecar(data: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = data["jobs"][0]["sidecars"][0]
    return entry


def write_keys(path: Path, keys: list[str]) -> Path:
    return write_table(path, [{"flickr_id": k, "mos": 1.0 + i} for i, k in enumerate(keys)])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``data/`` with the key table, the matrix (and a second variable) and the base table."""
    data = tmp_path / "data"
    data.mkdir()
    write_keys(data / "meta.csv", KEYS)
    scipy.io.savemat(data / "feats.mat", {"feats_mat": FEATS, "MOS": np.ones((1, 5))})
    write_table(data / "base.csv", [{"flickr_id": k, "vmaf": 1.0} for k in BASE_KEYS])
    return tmp_path


def write_manifest(path: Path, data: object) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def load(folder: Path, data: object, name: str = "m.json") -> Manifest:
    return load_manifest(write_manifest(folder / name, data))


def problems_of(folder: Path, data: object) -> list[str]:
    """The problem lines of the error loading ``data`` raises; checks the header's count."""
    path = write_manifest(folder / "m.json", data)
    with pytest.raises(InputError) as info:
        load_manifest(path)
    header, *lines = info.value.message.splitlines()
    count = f"{len(lines)} problem{'s' if len(lines) > 1 else ''}"
    assert header == f"{path}: invalid manifest ({count}):"
    return [line.strip() for line in lines]


def expected_rows(keys: list[str]) -> list[dict[str, Any]]:
    """The output, from the reference rule: row i of FEATS belongs to keys[i]."""
    by_key = {
        k: [None if np.isnan(v) else float(v) for v in row]
        for k, row in zip(keys, FEATS.tolist(), strict=True)
    }
    rows = []
    for key in BASE_KEYS:
        values = by_key.get(key, [None, None, None])
        rows.append(
            {"flickr_id": key, "vmaf": 1.0}
            | {f"so_brisque_f{j + 1:02d}": v for j, v in enumerate(values)}
        )
    return rows


# --- loading ------------------------------------------------------------------------------------


def test_keys_from_resolves_against_the_manifest_folder(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    (job,) = load(folder, MANIFEST).join_jobs()
    (spec,) = job.spec.sidecars
    assert spec.align is not None
    assert spec.align.keys_from == folder / "data" / "meta.csv"
    assert spec.align.column == "flickr_id"
    assert (spec.variable, spec.columns, spec.higher_is_better) == ("feats_mat", "f{i:02d}", False)
    assert job.inputs == [
        ("features", None, folder / "data" / "base.csv"),
        ("sidecar", "brisque", folder / "data" / "feats.mat"),
        ("keys", "brisque", folder / "data" / "meta.csv"),
    ]


def test_yaml_loads_the_same_aligned_job(folder: Path) -> None:
    assert load(folder, MANIFEST, "m.yaml").jobs == load(folder, MANIFEST).join_jobs()


def test_keys_from_expands_variables_with_defaults(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = manifest_data()
    sidecar(data)["align"]["keys_from"] = "${SO_TEST_KEYS_DIR:-data}/meta.csv"
    monkeypatch.delenv("SO_TEST_KEYS_DIR", raising=False)
    (job,) = load(folder, data).join_jobs()
    assert job.inputs[2] == ("keys", "brisque", folder / "data" / "meta.csv")

    other = tmp_path_factory.mktemp("keys")
    write_keys(other / "meta.csv", KEYS)
    monkeypatch.setenv("SO_TEST_KEYS_DIR", str(other))
    (job,) = load(folder, data).join_jobs()
    assert job.inputs[2] == ("keys", "brisque", other / "meta.csv")


def test_an_unset_variable_in_keys_from_is_reported_there(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = manifest_data()
    sidecar(data)["align"]["keys_from"] = "${SO_TEST_UNSET}/meta.csv"
    monkeypatch.delenv("SO_TEST_UNSET", raising=False)
    assert problems_of(folder, data) == [
        (
            "jobs[0].sidecars[0].align.keys_from: environment variable SO_TEST_UNSET is not set "
            "(set it, or write ${SO_TEST_UNSET:-default})"
        )
    ]


def test_a_missing_key_table_is_reported_at_align_keys_from(folder: Path) -> None:
    data = manifest_data()
    sidecar(data)["align"]["keys_from"] = "data/missing.csv"
    assert problems_of(folder, data) == [
        f"jobs[0].sidecars[0].align.keys_from: no such file: {folder / 'data' / 'missing.csv'}"
    ]


def test_a_missing_matrix_and_key_table_are_both_reported(folder: Path) -> None:
    data = manifest_data()
    sidecar(data)["path"] = "data/nope.mat"
    sidecar(data)["align"]["keys_from"] = "data"
    assert problems_of(folder, data) == [
        f"jobs[0].sidecars[0].path: no such file: {folder / 'data' / 'nope.mat'}",
        f"jobs[0].sidecars[0].align.keys_from: not a file: {folder / 'data'}",
    ]


def test_an_unknown_field_in_align_suggests_the_closest(folder: Path) -> None:
    data = manifest_data()
    sidecar(data)["align"] = {"keys_frm": "data/meta.csv", "column": "flickr_id"}
    assert sorted(problems_of(folder, data)) == [
        "jobs[0].sidecars[0].align.keys_frm: unknown field; did you mean 'keys_from'?",
        "jobs[0].sidecars[0].align.keys_from: required field is missing",
    ]


def test_a_typo_for_align_or_variable_suggests_the_field(folder: Path) -> None:
    data = manifest_data()
    entry = sidecar(data)
    entry["alignment"] = entry.pop("align")
    entry["variabel"] = entry.pop("variable")
    assert sorted(problems_of(folder, data)) == [
        "jobs[0].sidecars[0].alignment: unknown field; did you mean 'align'?",
        "jobs[0].sidecars[0].variabel: unknown field; did you mean 'variable'?",
    ]


def test_a_matrix_without_align_says_to_set_align(folder: Path) -> None:
    data = manifest_data()
    del sidecar(data)["align"]
    del sidecar(data)["variable"]
    del sidecar(data)["columns"]
    assert problems_of(folder, data) == [
        (
            "jobs[0].sidecars[0]: sidecar 'brisque': feats.mat is a score matrix with no key; set "
            "align: {keys_from: <table listing the keys in row order>, column: <its key>}"
        )
    ]


def test_align_with_a_two_column_key_is_reported_at_align(folder: Path) -> None:
    data = manifest_data()
    data["jobs"][0]["key"] = ["flickr_id", "vmaf"]
    assert problems_of(folder, data) == [
        (
            "jobs[0].sidecars[0].align: sidecar 'brisque': a score matrix aligns to a one-column "
            "key; the key has 2 columns (flickr_id, vmaf)"
        )
    ]


def test_frame_column_from_defaults_is_refused_for_an_aligned_sidecar(folder: Path) -> None:
    data = manifest_data()
    data["defaults"] = {"frame_column": "frame"}
    assert problems_of(folder, data) == [
        (
            "jobs[0].sidecars[0]: sidecar 'brisque': a score matrix has one row per clip; "
            "drop frame_column"
        )
    ]


def test_an_output_onto_the_key_table_is_refused(folder: Path) -> None:
    data = manifest_data()
    data["output_dir"] = "data"
    data["jobs"][0]["output"] = "meta.csv"
    meta = folder / "data" / "meta.csv"
    assert problems_of(folder, data) == [
        f"jobs[0].output: {meta} is also an input (keys of jobs[0]); write the output elsewhere"
    ]


def test_validate_passes_and_reports_a_row_count_mismatch(folder: Path) -> None:
    path = write_manifest(folder / "m.json", MANIFEST)
    assert validate_manifest(path).to_dict()["valid"] is True
    write_keys(folder / "data" / "meta.csv", [*KEYS, "v6"])
    with pytest.raises(InputError) as info:
        validate_manifest(path)
    header, line = info.value.message.splitlines()
    assert header == f"{path}: invalid manifest (1 problem):"
    assert line.strip() == (
        f"jobs[0] (aligned): {folder / 'data' / 'feats.mat'}: variable 'feats_mat' of the "
        f"matrix has 5 rows but {folder / 'data' / 'meta.csv'} has 6 keys in column "
        "'flickr_id'; a score matrix needs exactly one row per key, in the same order"
    )


# --- running ------------------------------------------------------------------------------------


def outcome(result: BatchResult) -> list[tuple[str, str, str]]:
    return [(j.name, j.status, j.reason) for j in result.jobs]


def test_batch_runs_records_the_key_table_and_reruns_when_it_changes(folder: Path) -> None:
    manifest = write_manifest(folder / "m.json", MANIFEST)
    out = folder / "out" / "aligned.csv"
    meta = folder / "data" / "meta.csv"

    first = run_batch(manifest, jobs=1)
    assert outcome(first) == [("aligned", "built", "new")]
    assert first.jobs[0].rows == 5
    assert first.jobs[0].coverage == {"brisque": 0.8}
    assert read_rows(out) == expected_rows(KEYS)

    record = json.loads(provenance_path(out).read_text(encoding="utf-8"))
    inputs = record["inputs"]
    assert [(i["role"], i.get("scorer"), i["path"]) for i in inputs] == [
        ("features", None, str(folder / "data" / "base.csv")),
        ("sidecar", "brisque", str(folder / "data" / "feats.mat")),
        ("keys", "brisque", str(meta)),
    ]
    assert inputs[2]["size"] == meta.stat().st_size
    assert inputs[2]["rows"] == 5
    assert record["job"]["spec"]["sidecars"][0]["align"] == {
        "keys_from": str(meta),
        "column": "flickr_id",
    }
    assert record["coverage"][0]["non_finite"] == {"f01": 0, "f02": 1, "f03": 0}

    assert outcome(run_batch(manifest, jobs=1)) == [("aligned", "up-to-date", "unchanged")]

    # Reordering the key table changes which row belongs to which clip: the job must rerun.
    reordered = list(reversed(KEYS))
    write_keys(meta, reordered)
    assert outcome(run_batch(manifest, jobs=1)) == [
        ("aligned", "rebuilt", "input changed (brisque)")
    ]
    assert read_rows(out) == expected_rows(reordered)
    assert read_rows(out) != expected_rows(KEYS)
    record = json.loads(provenance_path(out).read_text(encoding="utf-8"))
    assert record["inputs"][2]["size"] == meta.stat().st_size

    assert outcome(run_batch(manifest, jobs=1)) == [("aligned", "up-to-date", "unchanged")]


def test_moving_the_key_table_is_not_a_change(folder: Path) -> None:
    manifest = write_manifest(folder / "m.json", MANIFEST)
    assert outcome(run_batch(manifest, jobs=1)) == [("aligned", "built", "new")]
    moved = folder / "data" / "moved" / "meta.csv"
    moved.parent.mkdir()
    shutil.copy2(folder / "data" / "meta.csv", moved)
    data = manifest_data()
    sidecar(data)["align"]["keys_from"] = "data/moved/meta.csv"
    write_manifest(manifest, data)
    assert outcome(run_batch(manifest, jobs=1)) == [("aligned", "up-to-date", "unchanged")]
