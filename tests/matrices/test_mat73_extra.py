"""Without h5py (the 'mat73' extra), a MATLAB v7.3 file is refused naming the extra to install;
every other matrix format reads as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from second_opinion.errors import MissingExtraError
from second_opinion.matrices.read import matrix_variables, read_matrix
from tests._extras import hide_modules
from tests._matrices import Format, write_mat73, write_matrix


def test_reading_mat73_without_h5py_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_mat73(tmp_path / "v73.mat", {"scores": np.arange(6.0).reshape(2, 3)})
    hide_modules(monkeypatch, "h5py")
    message = (
        f"{path}: reading a MATLAB v7.3 (HDF5) .mat file needs the optional dependency 'h5py', "
        "which is not installed; install it with: pip install 'second-opinion[mat73]'"
    )
    with pytest.raises(MissingExtraError) as read:
        read_matrix(path, "scores")
    assert read.value.message == message
    assert (read.value.extra, read.value.module, read.value.exit_code) == ("mat73", "h5py", 2)
    with pytest.raises(MissingExtraError) as listed:
        matrix_variables(path)
    assert listed.value.message == message


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("mat5", "mat"), ("npy", "npy"), ("npz", "npz"), ("csv", "csv")]
)
def test_other_formats_need_no_h5py(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: Format, suffix: str
) -> None:
    hide_modules(monkeypatch, "h5py")
    values = np.arange(6.0).reshape(3, 2)
    path = write_matrix(tmp_path / f"scores.{suffix}", fmt, values)
    np.testing.assert_array_equal(read_matrix(path).values, values)
