"""Test helpers: write score matrices the way MATLAB, NumPy and text tools write them.

``write_mat73`` mimics a MATLAB v7.3 file: an HDF5 file behind a 512-byte userblock that holds
MATLAB's 128-byte text header, every array stored with its axes reversed (h5py sees the
transpose of MATLAB's shape) and tagged with a ``MATLAB_class`` attribute; logical as uint8,
char as uint16, complex as a (real, imag) compound, cells as object references into ``#refs#``,
structs as groups, sparse matrices as groups of ``data``/``ir``/``jc`` (compressed columns),
empty arrays as their dimensions with ``MATLAB_empty``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import h5py  # type: ignore[import-untyped, unused-ignore]
import numpy as np
import numpy.typing as npt
import scipy.io  # type: ignore[import-untyped, unused-ignore]
import scipy.sparse  # type: ignore[import-untyped, unused-ignore]

Format = Literal["mat4", "mat5", "mat73", "npy", "npz", "csv", "tsv", "txt", "txt_comma"]
FORMATS: tuple[Format, ...] = (
    "mat4",
    "mat5",
    "mat73",
    "npy",
    "npz",
    "csv",
    "tsv",
    "txt",
    "txt_comma",
)
SUFFIX: dict[Format, str] = {
    "mat4": ".mat",
    "mat5": ".mat",
    "mat73": ".mat",
    "npy": ".npy",
    "npz": ".npz",
    "csv": ".csv",
    "tsv": ".tsv",
    "txt": ".txt",
    "txt_comma": ".txt",
}
MATRIX_FORMAT: dict[Format, str] = {
    "mat4": "mat4",
    "mat5": "mat5",
    "mat73": "mat73",
    "npy": "npy",
    "npz": "npz",
    "csv": "csv",
    "tsv": "csv",
    "txt": "csv",
    "txt_comma": "csv",
}
HAS_VARIABLES = frozenset({"mat4", "mat5", "mat73", "npz"})

MATLAB_73_HEADER = (
    b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2026 "
    b"HDF5 schema 1.00 ."
)

_MATLAB_CLASS = {
    "f8": "double",
    "f4": "single",
    "i1": "int8",
    "u1": "uint8",
    "i2": "int16",
    "u2": "uint16",
    "i4": "int32",
    "u4": "uint32",
    "i8": "int64",
    "u8": "uint64",
}


@dataclass(frozen=True)
class Cell:
    """A MATLAB cell array (1×n) of numeric arrays."""

    items: Sequence[npt.NDArray[Any]]


@dataclass(frozen=True)
class Struct:
    """A 1×1 MATLAB struct of numeric fields."""

    fields: Mapping[str, npt.NDArray[Any]]


@dataclass(frozen=True)
class Empty:
    """An empty MATLAB array of the given shape (e.g. ``zeros(0, 3)``)."""

    shape: tuple[int, int]


def _matlab_shape(value: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """MATLAB has no 1-D arrays: a vector is a 1×n row, as ``savemat`` stores it."""
    return value.reshape(1, -1) if value.ndim < 2 else value


def _write_dataset(group: Any, name: str, value: npt.NDArray[Any]) -> Any:
    value = _matlab_shape(np.asarray(value))
    if value.dtype.kind == "b":
        ds = group.create_dataset(name, data=value.T.astype(np.uint8))
        ds.attrs["MATLAB_class"] = np.bytes_(b"logical")
        ds.attrs["MATLAB_int_decode"] = np.int32(1)
    elif value.dtype.kind in "US":
        codes = np.array([[ord(c) for c in "".join(value.ravel().tolist())]], dtype=np.uint16)
        ds = group.create_dataset(name, data=codes.T)
        ds.attrs["MATLAB_class"] = np.bytes_(b"char")
        ds.attrs["MATLAB_int_decode"] = np.int32(2)
    elif value.dtype.kind == "c":
        compound = np.dtype([("real", "<f8"), ("imag", "<f8")])
        stored = np.empty(value.T.shape, dtype=compound)
        stored["real"], stored["imag"] = value.T.real, value.T.imag
        ds = group.create_dataset(name, data=stored)
        ds.attrs["MATLAB_class"] = np.bytes_(b"double")
    else:
        ds = group.create_dataset(name, data=value.T)
        cls = _MATLAB_CLASS[value.dtype.str[1:]]
        ds.attrs["MATLAB_class"] = np.bytes_(cls.encode())
    return ds


def _write_variable(handle: Any, name: str, value: object) -> None:
    if isinstance(value, Empty):
        ds = handle.create_dataset(name, data=np.array(value.shape, dtype=np.uint64))
        ds.attrs["MATLAB_class"] = np.bytes_(b"double")
        ds.attrs["MATLAB_empty"] = np.uint8(1)
    elif isinstance(value, Cell):
        refs = handle.require_group("#refs#")
        stored = []
        for i, item in enumerate(value.items):
            stored.append(_write_dataset(refs, f"{name}_{i}", item).ref)
        ds = handle.create_dataset(
            name, data=np.array([stored], dtype=h5py.ref_dtype).T, dtype=h5py.ref_dtype
        )
        ds.attrs["MATLAB_class"] = np.bytes_(b"cell")
    elif isinstance(value, Struct):
        group = handle.create_group(name)
        group.attrs["MATLAB_class"] = np.bytes_(b"struct")
        for field, item in value.fields.items():
            _write_dataset(group, field, item)
    elif scipy.sparse.issparse(value):
        csc = scipy.sparse.csc_matrix(value)
        csc.sort_indices()
        group = handle.create_group(name)
        group.attrs["MATLAB_class"] = np.bytes_(b"double")
        group.attrs["MATLAB_sparse"] = np.uint64(csc.shape[0])
        group.create_dataset("data", data=csc.data.astype(np.float64))
        group.create_dataset("ir", data=csc.indices.astype(np.uint64))
        group.create_dataset("jc", data=csc.indptr.astype(np.uint64))
    else:
        _write_dataset(handle, name, np.asarray(value))


def write_mat73(path: Path, variables: Mapping[str, object], *, header: bool = True) -> Path:
    """Write ``variables`` (MATLAB shapes) as MATLAB v7.3 writes them; see the module docstring."""
    with h5py.File(path, "w", userblock_size=512, libver="earliest") as handle:
        for name, value in variables.items():
            _write_variable(handle, name, value)
    if header:
        block = MATLAB_73_HEADER.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
        with path.open("r+b") as raw:
            raw.write(block.ljust(512, b"\x00"))
    return path


def _text_cell(value: float, nan: str) -> str:
    return nan if np.isnan(value) else repr(float(value))


def write_text(path: Path, array: npt.NDArray[Any], delimiter: str, nan: str = "") -> Path:
    """Write a headerless matrix (1-D as one column), numbers exactly (``repr``)."""
    rows = np.asarray(array, dtype=np.float64)
    rows = rows.reshape(-1, 1) if rows.ndim == 1 else rows
    text = "".join(delimiter.join(_text_cell(v, nan) for v in row) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8")
    return path


def write_matrix(path: Path, fmt: Format, array: npt.NDArray[Any], name: str = "scores") -> Path:
    """Write ``array`` in ``fmt`` to ``path`` (suffix included), as variable ``name`` if any."""
    if fmt in ("mat4", "mat5"):
        scipy.io.savemat(path, {name: array}, format="4" if fmt == "mat4" else "5")
    elif fmt == "mat73":
        write_mat73(path, {name: array})
    elif fmt == "npy":
        np.save(path, array, allow_pickle=False)
    elif fmt == "npz":
        arrays: dict[str, Any] = {name: array}
        np.savez(path, **arrays)
    elif fmt == "csv":
        write_text(path, array, ",", nan="")
    elif fmt == "tsv":
        write_text(path, array, "\t", nan="nan")
    elif fmt == "txt":
        np.savetxt(path, array)  # whitespace-separated, '%.18e': exact for float64
    else:
        np.savetxt(path, array, delimiter=",")
    return path


def touch(marker: str) -> None:
    """Create ``marker``: what unpickling a :class:`Tripwire` does."""
    Path(marker).write_text("unpickled", encoding="utf-8")


class Tripwire:
    """An object whose unpickling creates a marker file: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return touch, (self.marker,)
