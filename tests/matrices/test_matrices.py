"""Reading bare score matrices (second_opinion.matrices): formats, shapes, variables, refusals."""

from __future__ import annotations

import dataclasses
import gzip
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

import h5py  # type: ignore[import-untyped, unused-ignore]
import numpy as np
import numpy.typing as npt
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]
import scipy.sparse  # type: ignore[import-untyped, unused-ignore]
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from second_opinion.errors import InputError
from second_opinion.matrices.core import ScoreMatrix, shape_text
from second_opinion.matrices.read import matrix_variables, read_matrix
from tests._matrices import (
    FORMATS,
    HAS_VARIABLES,
    MATRIX_FORMAT,
    SUFFIX,
    Cell,
    Empty,
    Format,
    Struct,
    Tripwire,
    write_mat73,
    write_matrix,
)
from tests._paths import KONVID, needs_real_data

ROOT = Path(__file__).resolve().parents[2]

SHAPES: dict[str, tuple[int, ...]] = {"NxM": (7, 3), "Nx1": (7, 1), "1xN": (1, 7), "1-D": (7,)}


def _source_shape(fmt: Format, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape as stored: MATLAB has no 1-D arrays (a vector is saved as a row), text no 1-D."""
    if len(shape) == 1:
        if fmt.startswith("mat"):
            return (1, shape[0])
        if fmt not in ("npy", "npz"):
            return (shape[0], 1)
    return shape


# --- formats and shapes ------------------------------------------------------------------------


@pytest.mark.parametrize("shape_name", list(SHAPES))
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_and_shape(tmp_path: Path, fmt: Format, shape_name: str) -> None:
    shape = SHAPES[shape_name]
    array = np.random.default_rng(5).normal(size=shape)
    array.flat[2] = np.nan
    path = write_matrix(tmp_path / f"scores{SUFFIX[fmt]}", fmt, array)

    matrix = read_matrix(path)

    expected = array.reshape(-1, 1) if array.ndim == 1 or shape[0] == 1 else array
    np.testing.assert_array_equal(matrix.values, expected)
    assert matrix.values.dtype == np.float64
    assert matrix.values.flags.c_contiguous
    assert matrix.format == MATRIX_FORMAT[fmt]
    assert matrix.variable == ("scores" if fmt in HAS_VARIABLES else None)
    assert matrix.source_shape == _source_shape(fmt, shape)
    assert (matrix.n_rows, matrix.n_columns) == expected.shape


def test_score_matrix_is_frozen_and_read_only(tmp_path: Path) -> None:
    matrix = read_matrix(write_matrix(tmp_path / "m.npy", "npy", np.ones((3, 2))))
    with pytest.raises(ValueError, match="read-only"):
        matrix.values[0, 0] = 2.0
    with pytest.raises(dataclasses.FrozenInstanceError, match="variable"):
        matrix.variable = "x"  # type: ignore[misc]


def test_a_one_by_one_matrix_is_one_clip(tmp_path: Path) -> None:
    matrix = read_matrix(write_matrix(tmp_path / "one.mat", "mat5", np.array([[4.5]])))
    assert matrix.values.tolist() == [[4.5]]
    assert matrix.source_shape == (1, 1)


def test_a_numpy_scalar_is_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "scalar.npy"
    np.save(path, np.float64(2.5))
    matrix = read_matrix(path)
    assert matrix.values.tolist() == [[2.5]]
    assert matrix.source_shape == ()


@pytest.mark.parametrize(
    "array",
    [
        np.array([[1, 0], [0, 1]], dtype=bool),
        np.arange(6, dtype=np.int16).reshape(3, 2),
        np.arange(6, dtype=np.uint64).reshape(3, 2),
        np.arange(6, dtype=np.float32).reshape(3, 2) / 4,
        np.arange(6, dtype=">f8").reshape(3, 2),
        np.asfortranarray(np.arange(6.0).reshape(3, 2)),
    ],
    ids=["bool", "int16", "uint64", "float32", "big-endian", "fortran-order"],
)
@pytest.mark.parametrize("fmt", ["npy", "npz", "mat5", "mat73"])
def test_logical_integer_and_single_become_float64(
    tmp_path: Path, fmt: Format, array: npt.NDArray[Any]
) -> None:
    path = write_matrix(tmp_path / f"m{SUFFIX[fmt]}", fmt, array)
    matrix = read_matrix(path)
    assert matrix.values.dtype == np.float64
    np.testing.assert_array_equal(matrix.values, array.astype(np.float64))


BAD_SHAPES = [
    ((2, 3, 4), r"has 3 dimensions \(shape 2×3×4\); a score matrix is 2-D"),
    ((0, 3), r"has no rows \(shape 0×3\)"),
    ((4, 0), r"has no columns \(shape 4×0\)"),
    ((0,), r"has no rows \(shape 0 \(1-D\)\)"),
]


@pytest.mark.parametrize(
    ("fmt", "shape", "message"),
    [
        (fmt, shape, message)
        for fmt in ("npy", "npz", "mat5")
        for shape, message in BAD_SHAPES
        if not (fmt == "mat5" and len(shape) == 1)  # MATLAB has no 1-D arrays
    ],
)
def test_shapes_that_are_not_score_matrices(
    tmp_path: Path, fmt: Format, shape: tuple[int, ...], message: str
) -> None:
    path = write_matrix(tmp_path / f"bad{SUFFIX[fmt]}", fmt, np.zeros(shape))
    where = "bad.npy" if fmt == "npy" else "variable 'scores'"
    with pytest.raises(InputError, match=rf"{where}.* {message}"):
        read_matrix(path, "scores" if fmt in HAS_VARIABLES else None)


def test_shape_text() -> None:
    assert shape_text((1200, 36)) == "1200×36"
    assert shape_text((1200,)) == "1200 (1-D)"
    assert shape_text(()) == "scalar"


# --- MATLAB v7.3 -------------------------------------------------------------------------------


def test_mat73_is_stored_transposed_and_read_in_matlab_orientation(tmp_path: Path) -> None:
    tall = np.arange(12.0).reshape(4, 3)  # MATLAB's 4×3
    square = np.arange(9.0).reshape(3, 3)  # a transposition cannot be guessed from the shape
    path = write_mat73(tmp_path / "v73.mat", {"tall": tall, "square": square})

    raw = path.read_bytes()
    assert raw.startswith(b"MATLAB 7.3 MAT-file")
    assert raw[512:520] == b"\x89HDF\r\n\x1a\n"
    with path.open("rb") as handle:
        assert scipy.io.matlab.matfile_version(handle) == (2, 0)
    with pytest.raises(NotImplementedError, match="HDF reader"):
        scipy.io.loadmat(path)
    with h5py.File(path, "r") as handle:
        assert handle["tall"].shape == (3, 4)

    for name, expected in (("tall", tall), ("square", square)):
        matrix = read_matrix(path, name)
        assert matrix.format == "mat73"
        assert matrix.source_shape == expected.shape
        np.testing.assert_array_equal(matrix.values, expected)
    assert matrix_variables(path) == [("square", (3, 3), "double"), ("tall", (4, 3), "double")]


def test_mat73_row_vector_is_one_score_per_clip(tmp_path: Path) -> None:
    path = write_mat73(tmp_path / "niqe.mat", {"y_pred": np.arange(5.0).reshape(1, 5)})
    with h5py.File(path, "r") as handle:
        assert handle["y_pred"].shape == (5, 1)
    matrix = read_matrix(path)
    assert matrix.source_shape == (1, 5)
    assert matrix.values.tolist() == [[0.0], [1.0], [2.0], [3.0], [4.0]]


def test_hdf5_mat_without_matlab_header_is_read_as_mat73(tmp_path: Path) -> None:
    path = write_mat73(tmp_path / "plain.mat", {"x": np.arange(6.0).reshape(2, 3)}, header=False)
    assert not path.read_bytes().startswith(b"MATLAB")
    matrix = read_matrix(path)
    assert matrix.format == "mat73"
    np.testing.assert_array_equal(matrix.values, np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Cell([np.ones(3), np.zeros(2)]), r"'bad' \(1×2 cell\) is a cell array; .*cell2mat"),
        (Struct({"f": np.ones(3)}), r"'bad' \(struct\) is a struct; save the field"),
        (np.array(["hello"]), r"'bad' \(1×5 char\) is text \(char\)"),
        (np.array([[1 + 2j, 3]]), r"'bad' \(1×2 double\) holds complex numbers; .*real\(x\)"),
        (Empty((0, 3)), r"'bad' has no rows \(shape 0×3\)"),
    ],
    ids=["cell", "struct", "char", "complex", "empty"],
)
def test_mat73_refusals_name_the_variable_and_type(
    tmp_path: Path, value: object, message: str
) -> None:
    path = write_mat73(tmp_path / "v73.mat", {"bad": value, "scores": np.ones((4, 1))})
    with pytest.raises(InputError, match=rf"v73\.mat: variable {message}"):
        read_matrix(path, "bad")
    if not isinstance(value, np.ndarray) or value.dtype.kind != "c":
        assert read_matrix(path).variable == "scores"  # no candidate (complex is, as in v5)


def test_mat73_links_are_not_followed(tmp_path: Path) -> None:
    path = write_mat73(tmp_path / "v73.mat", {"scores": np.ones((4, 2))})
    with h5py.File(path, "r+") as handle:
        handle["alias"] = h5py.SoftLink("/scores")
        handle["elsewhere"] = h5py.ExternalLink("other.h5", "/x")
    assert read_matrix(path).variable == "scores"
    with pytest.raises(InputError, match=r"variable 'elsewhere' \(link\) is a soft or external"):
        read_matrix(path, "elsewhere")
    assert ("alias", (), "link") in matrix_variables(path)


def _outside(folder: Path) -> tuple[Path, Path]:
    """An HDF5 file and a raw file outside the .mat, both holding -999 values."""
    other, raw = folder / "other.h5", folder / "raw.bin"
    with h5py.File(other, "w") as handle:
        handle["x"] = np.full(2, -999.0)
    raw.write_bytes(np.full(2, -999.0).tobytes())
    return other, raw


@pytest.mark.parametrize(
    ("part", "how", "message"),
    [
        ("data", "soft", r"its 'data' is a soft HDF5 link"),
        ("ir", "external-link", r"its 'ir' is an external HDF5 link \(to '.*other\.h5'\)"),
        ("jc", "virtual", r"its 'jc' is an HDF5 virtual dataset \(data in other files\)"),
        ("data", "external-storage", r"its 'data' keeps its data in another file \(HDF5 external"),
    ],
)
def test_mat73_sparse_parts_outside_the_file_are_refused(
    tmp_path: Path, part: str, how: str, message: str
) -> None:
    other, raw = _outside(tmp_path)
    path = write_mat73(tmp_path / "sp.mat", {"ok": np.ones((2, 1))})
    with h5py.File(path, "r+") as handle:
        group = handle.create_group("sp")
        group.attrs["MATLAB_class"] = np.bytes_(b"double")
        group.attrs["MATLAB_sparse"] = np.uint64(2)
        parts = {"data": np.array([1.0, 2.0]), "ir": np.array([0, 1], dtype=np.uint64)}
        parts["jc"] = np.array([0, 2], dtype=np.uint64)
        for name, value in parts.items():
            if name != part:
                group[name] = value
        if how == "soft":
            handle["#refs#/real"] = parts[part]  # '#refs#' holds no variables
            group[part] = h5py.SoftLink("/#refs#/real")
        elif how == "external-link":
            group[part] = h5py.ExternalLink(str(other), "/x")
        elif how == "virtual":
            layout = h5py.VirtualLayout(shape=(2,), dtype="f8")
            layout[:] = h5py.VirtualSource(str(other), "x", shape=(2,))
            group.create_virtual_dataset(part, layout)
        else:
            group.create_dataset(part, shape=(2,), dtype="<f8", external=[(str(raw), 0, 16)])
    refused = rf"sp\.mat: variable 'sp' \(sparse\) is a sparse matrix, but {message}.*"
    with pytest.raises(InputError, match=rf"{refused}; save the matrix itself in the \.mat file"):
        read_matrix(path, "sp")
    assert ("sp", (), "sparse") in matrix_variables(path)
    assert read_matrix(path).variable == "ok"  # not a candidate


def test_mat73_datasets_kept_in_other_files_are_refused_unread(tmp_path: Path) -> None:
    """Virtual and externally stored datasets (an empty one too: its dimensions are data) are
    listed by their storage and refused; the other files are never read."""
    other, raw = _outside(tmp_path)
    path = write_mat73(tmp_path / "v73.mat", {"ok": np.ones((2, 1))})
    with h5py.File(path, "r+") as handle:
        layout = h5py.VirtualLayout(shape=(2,), dtype="f8")
        layout[:] = h5py.VirtualSource(str(other), "x", shape=(2,))
        virtual = handle.create_virtual_dataset("virtual", layout)
        virtual.attrs["MATLAB_class"] = np.bytes_(b"double")
        for name in ("external", "empty"):
            stored = handle.create_dataset(
                name, shape=(2,), dtype="<f8", external=[(str(raw), 0, 16)]
            )
            stored.attrs["MATLAB_class"] = np.bytes_(b"double")
        handle["empty"].attrs["MATLAB_empty"] = np.uint8(1)
    assert matrix_variables(path) == [
        ("empty", (2,), "external dataset"),
        ("external", (2,), "external dataset"),
        ("ok", (2, 1), "double"),
        ("virtual", (2,), "virtual dataset"),
    ]
    assert read_matrix(path).variable == "ok"
    with pytest.raises(InputError) as caught:
        read_matrix(path, "virtual")
    assert caught.value.message == (
        f"{path}: variable 'virtual' (2 (1-D) virtual dataset) is an HDF5 virtual dataset: its "
        "data is in other files, which are never read; save the matrix itself in the .mat file"
    )
    for name in ("external", "empty"):
        with pytest.raises(InputError) as caught:
            read_matrix(path, name)
        assert caught.value.message == (
            f"{path}: variable {name!r} (2 (1-D) external dataset) keeps its data in another "
            "file (HDF5 external storage), which is never read; save the matrix itself in the "
            ".mat file"
        )


def test_mat73_sparse_is_densified(tmp_path: Path) -> None:
    dense = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 3.0, 4.0]])
    path = write_mat73(tmp_path / "sp.mat", {"sp": scipy.sparse.csc_matrix(dense)})
    matrix = read_matrix(path)
    assert matrix_variables(path) == [("sp", (4, 3), "sparse")]
    np.testing.assert_array_equal(matrix.values, dense)


# --- MATLAB v4 and v5 --------------------------------------------------------------------------


def test_several_candidates_are_listed_with_shapes(tmp_path: Path) -> None:
    path = tmp_path / "niqe.mat"
    mos, pred = np.linspace(1, 5, 5), np.linspace(2, 3, 5)
    scipy.io.savemat(path, {"MOS": mos, "y_pred": pred, "names": "abc"})
    with pytest.raises(
        InputError,
        match=r"niqe\.mat: 2 variables could be the score matrix \(MOS \(1×5 double\), "
        r"y_pred \(1×5 double\)\); pass the name of the one to read as variable",
    ):
        read_matrix(path)
    matrix = read_matrix(path, variable="y_pred")
    assert matrix.variable == "y_pred"
    assert matrix.source_shape == (1, 5)
    np.testing.assert_array_equal(matrix.values, pred.reshape(-1, 1))
    assert matrix_variables(path) == [
        ("MOS", (1, 5), "double"),
        ("names", (1, 3), "char"),
        ("y_pred", (1, 5), "double"),
    ]


@pytest.mark.parametrize(
    ("asked", "hint"),
    [("y_PRED", "; did you mean 'y_pred'?"), ("ypred", "; did you mean 'y_pred'?"), ("zzz", "")],
)
def test_unknown_variable_lists_those_that_exist(tmp_path: Path, asked: str, hint: str) -> None:
    path = tmp_path / "niqe.mat"
    scipy.io.savemat(path, {"MOS": np.ones(3), "y_pred": np.ones(3)})
    expected = (
        f"niqe.mat: no variable {asked!r}{hint} (variables: MOS (1×3 double), "
        "y_pred (1×3 double)); pass one of these names as variable"
    )
    with pytest.raises(InputError) as caught:
        read_matrix(path, asked)
    assert str(caught.value).endswith(expected)


def test_metadata_entries_are_not_variables(tmp_path: Path) -> None:
    path = tmp_path / "brisque.mat"
    scipy.io.savemat(path, {"feats_mat": np.ones((5, 36))})
    assert "__header__" in scipy.io.loadmat(path)
    assert matrix_variables(path) == [("feats_mat", (5, 36), "double")]
    assert read_matrix(path).variable == "feats_mat"


def test_no_numeric_variable(tmp_path: Path) -> None:
    path = tmp_path / "text.mat"
    scipy.io.savemat(path, {"names": "abc", "empty": np.zeros((0, 0))})
    with pytest.raises(
        InputError,
        match=r"text\.mat: no numeric matrix among the variables \(empty \(0×0 double\), "
        r"names \(1×3 char\)\); save the scores as a numeric matrix",
    ):
        read_matrix(path)


def test_empty_variables_are_no_candidates(tmp_path: Path) -> None:
    path = tmp_path / "m.mat"
    scipy.io.savemat(path, {"scores": np.ones((3, 2)), "unused": np.zeros((0, 0))})
    assert read_matrix(path).variable == "scores"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.array([1.0, "x"], dtype=object), r"'bad' \(1×2 cell\) is a cell array"),
        ({"f": 1.0}, r"'bad' \(1×1 struct\) is a struct"),
        ("hello", r"'bad' \(1×5 char\) is text \(char\)"),
        (np.array([[1 + 2j]]), r"'bad' \(1×1 double\) holds complex numbers"),
        (
            scipy.io.matlab.MatlabObject(
                np.array([[(np.array([[1.0]]),)]], dtype=[("x", object)]), classname="Scorer"
            ),
            r"'bad' \(1×1 object\) is a MATLAB object; save its numeric data",
        ),
        (
            scipy.sparse.csc_matrix(np.array([[1j, 0], [0, 2]])),
            r"'bad' \(2×2 sparse\) holds complex numbers",
        ),
    ],
    ids=["cell", "struct", "char", "complex", "object", "complex-sparse"],
)
def test_mat5_refusals_name_the_variable_and_type(
    tmp_path: Path, value: object, message: str
) -> None:
    path = tmp_path / "v5.mat"
    scipy.io.savemat(path, {"bad": value})
    with pytest.raises(InputError, match=rf"v5\.mat: variable {message}"):
        read_matrix(path, "bad")


@pytest.mark.parametrize("fmt", ["4", "5"])
def test_mat_sparse_is_densified(tmp_path: Path, fmt: str) -> None:
    dense = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 3.0, 4.0]])
    path = tmp_path / "sp.mat"
    scipy.io.savemat(path, {"sp": scipy.sparse.csc_matrix(dense)}, format=fmt)
    matrix = read_matrix(path)
    assert matrix.format == f"mat{fmt}"
    np.testing.assert_array_equal(matrix.values, dense)


def test_sparse_too_large_to_densify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("second_opinion.matrices.sparse.MAX_DENSE_CELLS", 10)
    path = tmp_path / "sp.mat"
    scipy.io.savemat(path, {"sp": scipy.sparse.eye(4, format="csc")})
    with pytest.raises(InputError, match=r"variable 'sp' \(4×4 sparse\) would need .* GiB"):
        read_matrix(path)


def _corrupt_type_code(path: Path, name: str, code: int) -> None:
    """Give the numeric data element after variable ``name`` an unknown type code."""
    data = path.read_bytes()
    tag, size = struct.unpack_from("<II", data, 128)
    body = data[136 : 136 + size]
    inner = zlib.decompress(body) if tag == 15 else body
    at = inner.index(name.encode() + b"\x00" * (-len(name) % 8)) + len(name) + (-len(name) % 8)
    inner = inner[:at] + struct.pack("<I", code) + inner[at + 4 :]
    body = zlib.compress(inner) if tag == 15 else inner
    path.write_bytes(data[:128] + struct.pack("<II", tag, len(body)) + body)


def test_corrupt_type_code_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """scipy's v5 reader segfaults on an unknown data type code; the guard refuses it first.

    Run in a child process, so a regression shows as a failed test rather than a dead run.
    """
    paths = []
    for compressed in (False, True):
        path = tmp_path / f"corrupt_{compressed}.mat"
        scipy.io.savemat(path, {"scores": np.ones((3, 2))}, do_compression=compressed)
        _corrupt_type_code(path, "scores", 50441)
        paths.append(str(path))
    script = (
        "import sys\n"
        "from second_opinion.errors import InputError\n"
        "from second_opinion.matrices.read import read_matrix\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        read_matrix(path)\n"
        "    except InputError as exc:\n"
        "        print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *paths], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "variable 'scores' holds data of unknown type 50441" in line
        assert line.endswith("the file is truncated or corrupt")


# --- NumPy -------------------------------------------------------------------------------------


def test_npz_variables(tmp_path: Path) -> None:
    path = tmp_path / "scores.npz"
    np.savez(path, a=np.ones((3, 2)), b=np.zeros(3), labels=np.array(["x", "y", "z"]))
    with pytest.raises(
        InputError, match=r"2 variables could be the score matrix \(a \(3×2 float64\), b \(3"
    ):
        read_matrix(path)
    assert read_matrix(path, "b").values.shape == (3, 1)
    with pytest.raises(InputError, match=r"variable 'labels' \(3 \(1-D\) <U1\) is text"):
        read_matrix(path, "labels")
    assert matrix_variables(path) == [
        ("a", (3, 2), "float64"),
        ("b", (3,), "float64"),
        ("labels", (3,), "<U1"),
    ]
    unnamed = tmp_path / "unnamed.npz"
    np.savez(unnamed, np.arange(4.0))
    assert read_matrix(unnamed).variable == "arr_0"


def test_pickled_object_arrays_are_refused_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled.txt"
    objects = np.array([Tripwire(marker), 1.0], dtype=object)
    npy, npz = tmp_path / "evil.npy", tmp_path / "evil.npz"
    np.save(npy, objects, allow_pickle=True)
    np.savez(npz, scores=objects)
    np.load(npy, allow_pickle=True)  # the tripwire is armed: unpickling creates the marker
    assert marker.exists()
    marker.unlink()

    with pytest.raises(
        InputError, match=r"evil\.npy: the array \(2 \(1-D\) object\) is an object array"
    ):
        read_matrix(npy)
    with pytest.raises(InputError, match=r"variable 'scores' \(2 \(1-D\) object\) is an object"):
        read_matrix(npz, "scores")
    with pytest.raises(InputError, match="no numeric matrix among the variables"):
        read_matrix(npz)
    assert matrix_variables(npz) == [("scores", (2,), "object")]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.array([1 + 1j, 2]), "holds complex numbers; save the real part"),
        (np.array(["a", "b"]), "is text, not numbers"),
        (np.zeros(2, dtype=[("a", "f8"), ("b", "f8")]), "is a structured array"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "holds dates or times"),
    ],
    ids=["complex", "text", "structured", "datetime"],
)
def test_npy_non_numeric_arrays_are_refused(
    tmp_path: Path, array: npt.NDArray[Any], message: str
) -> None:
    path = tmp_path / "x.npy"
    np.save(path, array, allow_pickle=False)
    with pytest.raises(InputError, match=rf"x\.npy: the array \(.*\) {message}"):
        read_matrix(path)


@pytest.mark.parametrize("fmt", ["npy", "csv", "tsv", "txt"])
def test_variable_for_a_single_array_format_is_an_error(tmp_path: Path, fmt: Format) -> None:
    path = write_matrix(tmp_path / f"m{SUFFIX[fmt]}", fmt, np.ones((3, 2)))
    with pytest.raises(InputError, match=r"has no variables; leave out variable \(got 'scores'\)"):
        read_matrix(path, "scores")
    assert matrix_variables(path) == []


def test_npy_and_npz_swapped(tmp_path: Path) -> None:
    zipped = tmp_path / "scores.npy"
    np.savez(tmp_path / "real.npz", x=np.ones(3))
    zipped.write_bytes((tmp_path / "real.npz").read_bytes())
    with pytest.raises(InputError, match=r"a \.npz archive \(zip\), not a \.npy array; rename"):
        read_matrix(zipped)
    single = tmp_path / "scores.npz"
    np.save(tmp_path / "real.npy", np.ones(3))
    single.write_bytes((tmp_path / "real.npy").read_bytes())
    with pytest.raises(InputError, match=r"a \.npy array, not a \.npz archive; rename it to \.npy"):
        read_matrix(single)


def test_truncated_npy_says_how_much_is_missing(tmp_path: Path) -> None:
    path = write_matrix(tmp_path / "m.npy", "npy", np.ones((10, 3)))
    path.write_bytes(path.read_bytes()[:-16])
    with pytest.raises(
        InputError, match=r"truncated: the header promises 10×3 float64 \(240 bytes of data\) but"
    ):
        read_matrix(path)


# --- missing, empty and corrupt files ----------------------------------------------------------

SUFFIXES = (".mat", ".npy", ".npz", ".csv", ".tsv", ".txt", ".csv.gz")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_missing_and_empty_files(tmp_path: Path, suffix: str) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_matrix(tmp_path / f"missing{suffix}")
    with pytest.raises(InputError, match="no such file"):
        matrix_variables(tmp_path / f"missing{suffix}")
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_matrix(folder)
    (tmp_path / f"empty{suffix}").write_bytes(b"")
    with pytest.raises(InputError, match=r"file is empty \(0 bytes\)"):
        read_matrix(tmp_path / f"empty{suffix}")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_random_bytes_are_an_input_error(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(1)
    path = tmp_path / f"noise{suffix}"
    for size in (3, 100, 5000):
        path.write_bytes(rng.bytes(size))
        with pytest.raises(InputError, match="noise"):
            read_matrix(path)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "scores.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(InputError, match=r"unsupported matrix file type '\.xlsx'; use \.mat"):
        read_matrix(path)
    with pytest.raises(InputError, match=r"unsupported matrix file type '\.mat\.gz'"):
        read_matrix(tmp_path / "scores.mat.gz")


def test_text_named_mat_is_not_a_mat_file(tmp_path: Path) -> None:
    path = tmp_path / "scores.mat"
    path.write_text("1,2,3\n4,5,6\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"not a MATLAB \.mat file \(no MATLAB v4, v5 or v7\.3"):
        read_matrix(path)
    header_only = tmp_path / "v73.mat"
    header_only.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(600, b" "))
    with pytest.raises(InputError, match=r"says MATLAB 7\.3 .* holds no HDF5 data"):
        read_matrix(header_only)


def _binary_samples(folder: Path) -> list[tuple[Path, str | None]]:
    matrix = np.random.default_rng(2).normal(size=(12, 3))
    samples = []
    for fmt in ("mat4", "mat5", "mat73", "npy", "npz"):
        path = write_matrix(folder / f"{fmt}{SUFFIX[fmt]}", fmt, matrix)
        samples.append((path, "scores" if fmt in HAS_VARIABLES else None))
    zipped = folder / "compressed.mat"
    scipy.io.savemat(zipped, {"scores": matrix, "other": np.ones(3)}, do_compression=True)
    samples.append((zipped, "scores"))
    packed = folder / "compressed.npz"
    np.savez_compressed(packed, scores=matrix)
    samples.append((packed, "scores"))
    return samples


def _read_or_error(path: Path, variable: str | None) -> ScoreMatrix | InputError:
    try:
        return read_matrix(path, variable)
    except InputError as exc:
        return exc


def test_truncated_and_damaged_files_are_input_errors(tmp_path: Path) -> None:
    """A cut or a few changed bytes give an InputError, never another exception or a crash.

    A cut that spares the variable (the last of several in a file) must read it unchanged.
    """
    rng = np.random.default_rng(3)
    original = np.random.default_rng(2).normal(size=(12, 3))
    for path, variable in _binary_samples(tmp_path):
        data = path.read_bytes()
        damaged = tmp_path / f"damaged{path.suffix}"
        cuts = sorted({*rng.integers(0, len(data), 20).tolist(), 1, 8, 127, 128, len(data) - 1})
        for cut in cuts:  # a cut may spare the variable read: then it must read unchanged
            damaged.write_bytes(data[:cut])
            result = _read_or_error(damaged, variable)
            if isinstance(result, InputError):
                assert "damaged" in result.message
            else:
                np.testing.assert_array_equal(result.values, original)
        for _ in range(30):  # changed bytes may be data: then only the shape is sure
            changed = bytearray(data)
            for at in rng.integers(0, len(data), 3):
                changed[at] = int(rng.integers(0, 256))
            damaged.write_bytes(bytes(changed))
            result = _read_or_error(damaged, variable)
            if not isinstance(result, InputError):
                assert result.values.shape == (12, 3)


# --- headerless text ---------------------------------------------------------------------------


def _text(tmp_path: Path, content: str, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    return path


def test_text_header_row_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = _text(tmp_path, "score_a,score_b\n1,2\n")
    with pytest.raises(
        InputError,
        match=r"m\.csv line 1, column 1: 'score_a' is not a number; .* no header row: remove",
    ):
        read_matrix(path)


def test_text_non_numeric_cell_names_line_column_and_value(tmp_path: Path) -> None:
    path = _text(tmp_path, "1,2\n3,4\n5,abc\n")
    with pytest.raises(
        InputError, match=r"m\.csv line 3, column 2: 'abc' is not a number; write numbers only"
    ):
        read_matrix(path)


@pytest.mark.parametrize("cell", ["1_000", "١٢", "NA", "0x10", "'1'"])
def test_text_refuses_what_is_not_a_plain_number(tmp_path: Path, cell: str) -> None:
    path = _text(tmp_path, f"1,2\n{cell},4\n")
    with pytest.raises(InputError, match=rf"line 2, column 1: {cell!r} is not a number"):
        read_matrix(path)


def test_text_ragged_rows_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(
        InputError,
        match=r"m\.csv line 2 has 1 value, but line 1 has 2; every row needs the same number",
    ):
        read_matrix(_text(tmp_path, "1,2\n3\n4,5\n"))
    with pytest.raises(InputError, match=r"line 3 has 3 values, but line 1 has 2"):
        read_matrix(_text(tmp_path, "1\t2\n3\t4\n5\t6\t7\n", "m.tsv"))


def test_text_missing_values_are_nan(tmp_path: Path) -> None:
    matrix = read_matrix(_text(tmp_path, "1,,3\nnan,NaN, 5 \ninf,-inf,-0.5e1\n"))
    expected = [[1, np.nan, 3], [np.nan, np.nan, 5], [np.inf, -np.inf, -5]]
    np.testing.assert_array_equal(matrix.values, np.array(expected))
    assert matrix.source_shape == (3, 3)


def test_text_blank_lines(tmp_path: Path) -> None:
    # one column: a blank line is an empty cell (pandas writes a missing value so), even last
    column = read_matrix(_text(tmp_path, "1.0\n\n3.0\n\n"))
    np.testing.assert_array_equal(column.values, [[1.0], [np.nan], [3.0], [np.nan]])
    # wider: a blank line inside is an error, blank lines at the end are ignored
    with pytest.raises(InputError, match=r"m\.csv line 2 is empty, but line 1 has 2 values"):
        read_matrix(_text(tmp_path, "1,2\n\n3,4\n"))
    assert read_matrix(_text(tmp_path, "1,2\n3,4\n\n\n")).values.shape == (2, 2)
    with pytest.raises(InputError, match=r"no rows \(the file holds only blank lines\)"):
        read_matrix(_text(tmp_path, "\n \n"))


def test_text_trailing_delimiters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"every line ends with ',' \(an empty last column\)"):
        read_matrix(_text(tmp_path, "1,2,\n3,4,\n"))
    partly = read_matrix(_text(tmp_path, "1,2,\n3,4,5\n"))
    np.testing.assert_array_equal(partly.values, [[1, 2, np.nan], [3, 4, 5]])


def test_text_bom_crlf_and_gzip(tmp_path: Path) -> None:
    assert read_matrix(_text(tmp_path, "\ufeff1,2\r\n3,4\r\n")).values.tolist() == [
        [1, 2],
        [3, 4],
    ]
    packed = tmp_path / "m.tsv.gz"
    packed.write_bytes(gzip.compress(b"1\t2\n3\t4\n"))
    assert read_matrix(packed).values.tolist() == [[1, 2], [3, 4]]
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(b"1,2\n" * 100)[:-6])
    with pytest.raises(InputError, match=r"broken\.csv\.gz: cannot read"):
        read_matrix(broken)


def test_text_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"1,2\n\xff\xfe,3\n")
    with pytest.raises(InputError, match=r"m\.csv: not UTF-8 text"):
        read_matrix(path)


def test_txt_is_whitespace_or_comma_separated(tmp_path: Path) -> None:
    spaced = read_matrix(_text(tmp_path, "   1.0e+00   2.5\n\n 3\t4\n", "m.txt"))
    assert spaced.values.tolist() == [[1, 2.5], [3, 4]]
    commas = read_matrix(_text(tmp_path, "1,2.5\n3,\n", "c.txt"))
    np.testing.assert_array_equal(commas.values, [[1, 2.5], [3, np.nan]])


def test_text_one_line_is_a_row_vector(tmp_path: Path) -> None:
    matrix = read_matrix(_text(tmp_path, "1,2,3\n"))
    assert matrix.source_shape == (1, 3)
    assert matrix.values.tolist() == [[1], [2], [3]]


# --- round trips -------------------------------------------------------------------------------

MATRICES = hnp.arrays(
    np.float64,
    st.tuples(st.integers(2, 12), st.integers(1, 5)),
    elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=25, deadline=None)
@given(matrix=MATRICES)
def test_round_trip(fmt: Format, matrix: npt.NDArray[np.float64]) -> None:
    # The CSV writer leaves NaN cells empty: a last column of NaN only would be written as
    # trailing delimiters (or blank lines), which the reader refuses as ambiguous.
    assume(fmt != "csv" or not np.isnan(matrix[:, -1]).all())
    with tempfile.TemporaryDirectory() as folder:
        path = write_matrix(Path(folder) / f"m{SUFFIX[fmt]}", fmt, matrix)
        read = read_matrix(path)
    np.testing.assert_array_equal(read.values, matrix)
    assert read.source_shape == matrix.shape


# --- real data ---------------------------------------------------------------------------------


@needs_real_data
def test_konvid_feature_and_score_files() -> None:
    brisque = read_matrix(KONVID / "KONVID_1K_BRISQUE_feats.mat")
    assert (brisque.values.shape, brisque.variable, brisque.format) == (
        (1200, 36),
        "feats_mat",
        "mat5",
    )
    assert not np.isnan(brisque.values).any()
    videval = read_matrix(KONVID / "KONVID_1K_VIDEVAL_feats.mat")
    assert videval.values.shape == (1200, 60)
    assert int(np.isnan(videval.values).sum()) == 2
    niqe = KONVID / "KONVID_1K_NIQE_scores.mat"
    with pytest.raises(
        InputError, match=r"\(MOS \(1×1200 double\), y_pred \(1×1200 double\)\); pass the name"
    ):
        read_matrix(niqe)
    scores = read_matrix(niqe, variable="y_pred")
    assert scores.values.shape == (1200, 1)
    assert scores.source_shape == (1, 1200)
    expected = np.ravel(scipy.io.loadmat(niqe)["y_pred"])
    np.testing.assert_array_equal(scores.values[:, 0], expected)
