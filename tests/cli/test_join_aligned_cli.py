"""`second-opinion join` with row-aligned sidecars (--align, --variable, --columns patterns).

Every test runs ``python -m second_opinion`` in a subprocess, in the folder holding the files,
so relative paths are resolved as a user's would be.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]

from tests._tables import read_rows, write_table
from tests.cli._run import run_cli

KEYS = ["v3", "v1", "v5", "v2", "v4"]  # the matrices' row order
BASE_KEYS = ["v2", "v4", "zz", "v1", "v3"]
BRISQUE: npt.NDArray[np.float64] = np.arange(15.0).reshape(5, 3) / 8 - 0.5
BRISQUE[KEYS.index("v2"), 2] = np.nan
NIQE: npt.NDArray[np.float64] = np.array([[4.5, 3.25, 6.0, 5.5, 2.75]])  # 1×N: one per clip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_table(tmp_path / "meta.csv", [{"flickr_id": k, "mos": 3.0} for k in KEYS])
    write_table(tmp_path / "base.csv", [{"flickr_id": k, "vmaf": 50.0} for k in BASE_KEYS])
    write_table(tmp_path / "more.csv", [{"flickr_id": k} for k in [*KEYS, "v6"]])
    scipy.io.savemat(tmp_path / "feats.mat", {"feats_mat": BRISQUE, "MOS": np.ones((1, 5))})
    np.save(tmp_path / "niqe.npy", NIQE, allow_pickle=False)
    return tmp_path


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def reference(matrix: npt.NDArray[np.float64], column: int) -> list[float | None]:
    """Column ``column`` of ``matrix`` for each base key: row i belongs to KEYS[i]."""
    rows = matrix.T if matrix.shape[0] == 1 else matrix
    by_key = {k: float(rows[i, column]) for i, k in enumerate(KEYS)}
    return [None if k not in by_key or np.isnan(by_key[k]) else by_key[k] for k in BASE_KEYS]


BRISQUE_ARGS = (
    *("--sidecar", "brisque=feats.mat", "--align", "brisque:meta.csv:flickr_id"),
    *("--columns", "brisque:f{i:02d}", "--variable", "brisque:feats_mat"),
)


def test_join_a_mat_file_aligned_to_a_key_table(folder: Path) -> None:
    result = run_cli(
        "join", "-f", "base.csv", "-k", "flickr_id", *BRISQUE_ARGS, "-o", "out.csv", cwd=folder
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (  # coverage below 100 % is a warning; nothing would match more
        "warning: brisque: 4 of 5 base keys matched (80.00 %); no key normalisation or other key "
        "column would match more\n"
    )
    assert re.search(
        r"│ brisque │\s+4/5 │\s+80\.00 % │\s+1 │\s+1 │\s+0 │\s+1 │\s+1 │", result.stdout
    )
    assert "wrote 5 rows x 5 columns to out.csv" in result.stdout
    rows = read_rows(folder / "out.csv")
    assert list(rows[0]) == ["flickr_id", "vmaf", *(f"so_brisque_f0{j}" for j in (1, 2, 3))]
    assert [r["flickr_id"] for r in rows] == BASE_KEYS
    for j in range(3):
        assert [r[f"so_brisque_f0{j + 1}"] for r in rows] == reference(BRISQUE, j)


def test_json_report_for_two_matrices_with_an_unscoped_align(folder: Path) -> None:
    result = run_cli(
        "join",
        *("-f", "base.csv", "-k", "flickr_id"),
        *("--sidecar", "brisque=feats.mat", "--sidecar", "niqe=niqe.npy"),
        *("--align", "meta.csv:flickr_id", "--variable", "brisque:feats_mat"),
        *("--columns", "niqe:niqe", "--prefix", "niqe:NIQE_", "--lower-is-better", "niqe"),
        *("--json", "-o", "out.jsonl"),
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["rows"] == 5
    assert report["columns"] == [
        "flickr_id",
        "vmaf",
        "so_brisque_f1",
        "so_brisque_f2",
        "so_brisque_f3",
        "NIQE_niqe",
    ]
    brisque, niqe = report["coverage"]
    assert brisque == {
        "scorer": "brisque",
        "path": "feats.mat",
        "base_rows": 5,
        "sidecar_rows": 5,
        "sidecar_keys": 5,
        "matched": 4,
        "missing": 1,
        "extra": 1,
        "duplicate_keys": 0,
        "nulls": {"so_brisque_f1": 0, "so_brisque_f2": 0, "so_brisque_f3": 1},
        "non_finite": {"f1": 0, "f2": 0, "f3": 1},
        "coverage": 0.8,
        "unmatched_base": [{"key": ["zz"], "closest": brisque["unmatched_base"][0]["closest"]}],
        "unmatched_sidecar": [
            {"key": ["v5"], "closest": brisque["unmatched_sidecar"][0]["closest"]}
        ],
        "per_frame": None,
        "higher_is_better": True,
        "diagnosis": [],
    }
    assert (niqe["path"], niqe["matched"], niqe["higher_is_better"]) == ("niqe.npy", 4, False)
    assert niqe["non_finite"] == {"niqe": 0}
    rows = read_rows(folder / "out.jsonl")
    assert [r["NIQE_niqe"] for r in rows] == reference(NIQE, 0)
    assert [r["so_brisque_f2"] for r in rows] == reference(BRISQUE, 1)


BASE_ARGS = ("join", "-f", "base.csv", "-k", "flickr_id", "-o", "out.csv")

ERRORS: list[tuple[str, tuple[str, ...], str]] = [
    (
        "--align without a column",
        ("--sidecar", "brisque=feats.mat", "--align", "brisque:meta.csv"),
        (
            "error: --align 'brisque:meta.csv': expected SCORER:TABLE:COLUMN, the table listing "
            "the matrix's row keys and its key column, e.g. brisque:meta.csv:flickr_id\n"
        ),
    ),
    (
        "a matrix without --align",
        ("--sidecar", "niqe=niqe.npy"),
        (
            "error: invalid options:\n  sidecar 'niqe': niqe.npy is a score matrix with no key; "
            "set --align niqe:TABLE:COLUMN (the table listing the keys in row order, and its key "
            "column)\n"
        ),
    ),
    (
        "rows and keys differ",
        ("--sidecar", "niqe=niqe.npy", "--align", "niqe:more.csv:flickr_id"),
        (
            "error: niqe.npy: the matrix has 5 rows but more.csv has 6 keys in column 'flickr_id'; "
            "a score matrix needs exactly one row per key, in the same order\n"
        ),
    ),
    (
        "a --columns list of the wrong length",
        (*BRISQUE_ARGS[:4], "--variable", "brisque:feats_mat", "--columns", "brisque:a,b"),
        (
            "error: sidecar 'brisque': --columns lists 2 names but feats.mat has 3 columns; list 3 "
            "names, or give a pattern such as 'f{i:02d}'\n"
        ),
    ),
]


@pytest.mark.parametrize(
    ("args", "message"), [pytest.param(a, m, id=case) for case, a, m in ERRORS]
)
def test_bad_usage_exits_2_with_the_message_and_writes_nothing(
    folder: Path, args: tuple[str, ...], message: str
) -> None:
    before = files(folder)
    result = run_cli(*BASE_ARGS, *args, cwd=folder)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr == message
    assert files(folder) == before
