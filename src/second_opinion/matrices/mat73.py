"""MATLAB v7.3 ``.mat`` files (HDF5), read with h5py.

MATLAB v7.3 stores arrays with their axes reversed (HDF5 is row-major, MATLAB column-major): h5py
hands an N×M MATLAB matrix over as M×N, and it is transposed back. References (v7.3 cells and
structs), groups, soft and external links and virtual datasets are refused; sparse matrices are
groups of ``data``/``ir``/``jc`` (compressed columns) and are densified.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from second_opinion.errors import InputError
from second_opinion.matrices.core import MATLAB_NUMERIC, FloatArray, Kind, Variable, cannot_read
from second_opinion.matrices.sparse import check_dense_size, dense_from_csc

# --- lazy imports: h5py takes ~0.15 s to import ---------------------------------------------------


def _h5py() -> Any:  # noqa: ANN401 - h5py is untyped
    """The ``h5py`` module."""
    import h5py  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

    return h5py


@contextlib.contextmanager
def _h5_open(path: Path) -> Iterator[Any]:
    try:
        handle = _h5py().File(path, "r")
    except Exception as exc:
        raise cannot_read(path, "MATLAB v7.3 (HDF5)", exc) from exc
    try:
        yield handle
    finally:
        handle.close()


def _attr_text(obj: Any, name: str) -> str | None:  # noqa: ANN401 - an h5py object
    value = obj.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _h5_variable(name: str, link: object, obj: Any) -> Variable:  # noqa: ANN401 - h5py
    h5py = _h5py()
    if not isinstance(link, h5py.HardLink):
        return Variable(name, (), "link", "other")
    cls = _attr_text(obj, "MATLAB_class")
    if isinstance(obj, h5py.Group):
        if "MATLAB_sparse" in obj.attrs:
            rows = int(np.asarray(obj.attrs["MATLAB_sparse"]).reshape(-1)[0])
            jc = obj.get("jc")
            columns = int(jc.shape[0]) - 1 if isinstance(jc, h5py.Dataset) and jc.ndim == 1 else 0
            data = obj.get("data")
            is_complex = isinstance(data, h5py.Dataset) and data.dtype.names is not None
            return Variable(name, (rows, columns), "sparse", "complex" if is_complex else "sparse")
        return Variable(name, (), cls or "group", "other")
    if not isinstance(obj, h5py.Dataset):
        return Variable(name, (), type(obj).__name__, "other")
    dtype = obj.dtype
    if obj.attrs.get("MATLAB_empty", 0):
        dims = tuple(int(n) for n in np.asarray(obj[()]).reshape(-1))
        return Variable(
            name, dims, cls or str(dtype), "numeric" if cls in MATLAB_NUMERIC else "other"
        )
    shape = tuple(int(n) for n in reversed(obj.shape))
    if obj.is_virtual or h5py.check_dtype(ref=dtype) is not None:
        return Variable(name, shape, cls or "reference", "other")
    if dtype.names is not None and set(dtype.names) == {"real", "imag"}:
        return Variable(name, shape, cls or "complex", "complex")
    if cls is not None:
        return Variable(name, shape, cls, "numeric" if cls in MATLAB_NUMERIC else "other")
    kind: Kind = "numeric" if dtype.kind in "biuf" else "other"
    return Variable(name, shape, str(dtype), kind)


def list_mat73(path: Path) -> list[Variable]:
    h5py = _h5py()
    with _h5_open(path) as handle:
        try:
            variables = []
            for name in handle:
                if name.startswith("#"):
                    continue  # '#refs#' (what cells and structs point to), '#subsystem#'
                link = handle.get(name, getlink=True)
                obj = handle.get(name) if isinstance(link, h5py.HardLink) else None
                variables.append(_h5_variable(str(name), link, obj))
        except Exception as exc:
            raise cannot_read(path, "MATLAB v7.3 (HDF5)", exc) from exc
    return variables


def load_mat73(path: Path, chosen: Variable) -> npt.NDArray[Any]:
    h5py = _h5py()
    with _h5_open(path) as handle:
        try:
            obj = handle[chosen.name]
            if isinstance(obj, h5py.Group):  # sparse: MATLAB's compressed sparse columns
                check_dense_size(path, chosen)
                return _dense_from_group(obj, chosen.shape)
            if obj.attrs.get("MATLAB_empty", 0):
                return np.zeros(chosen.shape)
            array = np.asarray(obj[()])
        except InputError:
            raise
        except Exception as exc:
            raise cannot_read(path, "MATLAB v7.3 (HDF5)", exc) from exc
    return array.T  # HDF5 holds MATLAB's axes reversed


def _dense_from_group(group: Any, shape: tuple[int, ...]) -> FloatArray:  # noqa: ANN401
    """A v7.3 sparse matrix: a group of ``data``, ``ir`` and ``jc`` (compressed columns)."""
    if "data" not in group or "ir" not in group:
        return np.zeros(shape)  # an all-zero sparse matrix stores no entries
    return dense_from_csc(group["data"][()], group["ir"][()], group["jc"][()], shape)
