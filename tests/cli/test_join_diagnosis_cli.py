"""``second-opinion join``: a sidecar matching no key fails (exit 1), coverage below 100 % is a
warning on stderr, and every message names options as flags (the key diagnosis's fix, the key
map, align, variable, duplicates, per-frame files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]

from tests._keys import key_case
from tests._tables import read_rows, write_table
from tests.cli._run import run_cli

BASE = ("join", "-f", "metadata.csv", "-k", "flickr_id", "-o", "out.csv")
PATHS = ("-s", "dover=dover.csv", "--key-map", "dover:filename=flickr_id")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    key_case(tmp_path)
    return tmp_path


def test_a_sidecar_matching_no_key_exits_1_naming_the_flag_that_fixes_it(folder: Path) -> None:
    result = run_cli(*BASE, *PATHS, cwd=folder)
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        "error: join policy failed:\n  dover: no base key has a sidecar row (0 of 20 matched); "
        "--normalize-keys dover:basename,stem would match 17 of 20 (85.00 %); if no match is "
        "expected, set --allow-no-match dover\n"
    )
    assert (
        "  dover: fix: --normalize-keys dover:basename,stem would match 17 of 20" in result.stdout
    )
    assert not (folder / "out.csv").exists()


def test_the_fix_matches_what_it_said_and_the_rest_is_a_warning(folder: Path) -> None:
    result = run_cli(*BASE, *PATHS, "--normalize-keys", "dover:basename,stem", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "warning: dover: 17 of 20 base keys matched (85.00 %); no key normalisation or other key "
        "column would match more\n"
    )
    assert sum(r["so_dover_technical"] is not None for r in read_rows(folder / "out.csv")) == 17


def test_allow_no_match_writes_the_rows_warns_and_reports_the_diagnosis_as_json(
    folder: Path,
) -> None:
    result = run_cli(*BASE, *PATHS, "--allow-no-match", "dover", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    fix = "--normalize-keys dover:basename,stem"
    warning = f"dover: 0 of 20 base keys matched (0.00 %); {fix} would match 17 of 20 (85.00 %)"
    assert result.stderr == f"warning: {warning}\n"
    report = json.loads(result.stdout)
    assert report["warnings"] == [warning]
    (coverage,) = report["coverage"]
    assert coverage["diagnosis"] == [{"text": fix, "matched": 17, "rows": 20}]
    assert coverage["per_frame"] is None
    assert len(read_rows(folder / "out.csv")) == 20


def test_zero_padded_keys_are_told_the_number_step(folder: Path) -> None:
    result = run_cli(*BASE, "-s", "p=padded.csv", cwd=folder)
    assert result.returncode == 1
    assert "--normalize-keys p:number would match 17 of 20 (85.00 %)" in result.stderr


def test_a_better_key_column_is_named_as_key_map_and_normalize_keys_flags(folder: Path) -> None:
    result = run_cli(*BASE, "-s", "r=renamed.csv", "--allow-no-match", "r", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "warning: r: 0 of 20 base keys matched (0.00 %); --key-map r:filename=flickr_id "
        "--normalize-keys r:stem would match 17 of 20 (85.00 %)\n"
    )


def test_a_per_frame_file_is_told_frame_column_not_on_duplicate(folder: Path) -> None:
    result = run_cli(*BASE, "-s", "dover=frames.csv", cwd=folder)
    assert result.returncode == 2
    assert result.stderr.endswith(
        ", and column 'frame_idx' numbers the rows: a per-frame file; pool its frames per clip "
        "with --frame-column dover:frame_idx (the mean; other statistics with --pool "
        "dover:STATS)\n"
    )
    assert "on-duplicate" not in result.stderr
    assert "on_duplicate" not in result.stderr
    reduced = run_cli(*BASE, "-s", "dover=frames.csv", "--on-duplicate", "dover:last", cwd=folder)
    assert reduced.returncode == 0, reduced.stderr
    assert (
        "warning: dover: keys repeat and column 'frame_idx' numbers the rows: a per-frame file, "
        "reduced to one row per key by --on-duplicate dover:last; pool its frames per clip with "
        "--frame-column dover:frame_idx" in reduced.stderr
    )


def test_variable_and_a_key_map_base_that_is_not_a_key_are_said_as_flags(folder: Path) -> None:
    variable = run_cli(*BASE, "-s", "dover=dover.csv", "--variable", "dover:y_pred", cwd=folder)
    assert variable.returncode == 2
    assert variable.stderr == (
        "error: invalid options:\n  sidecar 'dover': --variable applies to a score matrix; set "
        "--align dover:TABLE:COLUMN as well\n"
    )
    key_map = run_cli(*BASE, *PATHS[:2], "--key-map", "dover:filename=clip", cwd=folder)
    assert key_map.returncode == 2
    assert key_map.stderr == (
        "error: invalid options:\n  sidecar 'dover': --key-map maps 'filename' to 'clip', which "
        "is not a key column (--key: flickr_id)\n"
    )


def test_a_matrix_of_several_variables_is_told_the_variable_flag(folder: Path) -> None:
    scipy.io.savemat(folder / "niqe.mat", {"MOS": np.ones(20), "y_pred": np.zeros(20)})
    write_table(folder / "order.csv", [{"flickr_id": k} for k in range(20)])
    result = run_cli(
        *BASE, "-s", "niqe=niqe.mat", "--align", "niqe:order.csv:flickr_id", cwd=folder
    )
    assert result.returncode == 2
    assert result.stderr.endswith(
        "pass the name of the one to read as --variable niqe:NAME (e.g. --variable niqe:y_pred)\n"
    )
