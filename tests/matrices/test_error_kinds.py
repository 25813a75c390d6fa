"""Score-matrix readers raise the error kind that fits: unreadable files, wrong shapes or types."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from second_opinion.errors import SchemaError, UnreadableFileError
from second_opinion.matrices.read import read_matrix
from tests._matrices import write_matrix


def test_a_missing_or_unknown_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match=r"nope\.npy: no such file$"):
        read_matrix(tmp_path / "nope.npy")
    (tmp_path / "m.xlsx").write_bytes(b"x")
    with pytest.raises(UnreadableFileError, match=r"unsupported matrix file type '\.xlsx'; use "):
        read_matrix(tmp_path / "m.xlsx")
    (tmp_path / "m.mat").write_bytes(b"not a mat file at all, just some bytes" * 4)
    with pytest.raises(UnreadableFileError, match=r"m\.mat: not a MATLAB \.mat file \(no MATLAB"):
        read_matrix(tmp_path / "m.mat")


def test_a_truncated_npy_is_unreadable(tmp_path: Path) -> None:
    path = write_matrix(tmp_path / "m.npy", "npy", np.ones((10, 3)))
    path.write_bytes(path.read_bytes()[:-16])
    with pytest.raises(UnreadableFileError, match=r"truncated: the header promises 10×3 float64"):
        read_matrix(path)


def test_a_wrong_shape_or_type_is_a_schema_error(tmp_path: Path) -> None:
    cube = tmp_path / "cube.npy"
    np.save(cube, np.ones((2, 2, 2)))
    with pytest.raises(SchemaError, match=r"cube\.npy.* has 3 dimensions \(shape 2×2×2\)"):
        read_matrix(cube)
    text = tmp_path / "labels.npy"
    np.save(text, np.array(["a", "b"]))
    with pytest.raises(SchemaError, match=r"labels\.npy: the array \(2 \(1-D\) <U1\) is text"):
        read_matrix(text)


def test_a_ragged_or_non_numeric_text_matrix_is_a_schema_error(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("1 2 3\n4 5\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"ragged\.txt line 2 has 2 values, but line 1 has 3"):
        read_matrix(ragged)
    words = tmp_path / "words.txt"
    words.write_text("1 2\n3 x\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"words\.txt line 2, column 2: 'x' is not a number"):
        read_matrix(words)
