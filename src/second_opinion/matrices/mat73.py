"""MATLAB v7.3 ``.mat`` files (HDF5), read with h5py.

MATLAB v7.3 stores arrays with their axes reversed (HDF5 is row-major, MATLAB column-major): h5py
hands an N×M MATLAB matrix over as M×N, and it is transposed back. References (v7.3 cells and
structs), groups, soft and external links, virtual datasets and datasets kept in another file
(HDF5 external storage) are refused: nothing but the named file is read. Sparse matrices are
groups of ``data``/``ir``/``jc`` (compressed columns) and are densified; each of the three must be
a dataset stored in the file itself (a hard link, neither virtual nor external).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from second_opinion.errors import InputError, MissingExtraError
from second_opinion.matrices.core import (
    MATLAB_NUMERIC,
    FloatArray,
    Kind,
    Variable,
    cannot_read,
    refusal,
)
from second_opinion.matrices.sparse import check_dense_size, dense_from_csc

# --- lazy imports: h5py takes ~0.15 s to import ---------------------------------------------------


def _h5py() -> Any:  # noqa: ANN401 - h5py is untyped
    """The ``h5py`` module (its presence is checked first by :func:`_h5py_for`)."""
    import h5py  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

    return h5py


def _h5py_for(path: Path) -> Any:  # noqa: ANN401 - h5py is untyped
    """The ``h5py`` module to read ``path``; without the 'mat73' extra, :class:`MissingExtraError`
    naming the file (before it is opened: a missing extra is not an unreadable file)."""
    try:
        return _h5py()
    except ImportError:
        feature = f"{path}: reading a MATLAB v7.3 (HDF5) .mat file"
        raise MissingExtraError(feature, "mat73", "h5py") from None


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


_SPARSE_PARTS = ("data", "ir", "jc")
"""The members of a v7.3 sparse group: values, row indices, column pointers."""


def _elsewhere(obj: Any) -> str | None:  # noqa: ANN401 - an h5py object
    """What keeps a dataset's data outside the file (``virtual dataset``, ``external dataset``),
    or ``None`` if it is stored in the file itself (or is not a dataset)."""
    if not isinstance(obj, _h5py().Dataset):
        return None
    if obj.is_virtual:
        return "virtual dataset"
    if obj.external is not None:
        return "external dataset"
    return None


def _sparse_part_problem(group: Any, part: str) -> str | None:  # noqa: ANN401 - an h5py group
    """Why member ``part`` of a sparse group cannot be read without reading another file, or
    ``None`` if it is absent or a dataset stored in the file itself. Links are not followed."""
    h5py = _h5py()
    link = group.get(part, getlink=True)
    if link is None or isinstance(link, h5py.HardLink):
        elsewhere = _elsewhere(group.get(part)) if link is not None else None
        if elsewhere == "virtual dataset":
            return f"its {part!r} is an HDF5 virtual dataset (data in other files)"
        if elsewhere == "external dataset":
            return f"its {part!r} keeps its data in another file (HDF5 external storage)"
        return None
    if isinstance(link, h5py.ExternalLink):
        return f"its {part!r} is an external HDF5 link (to {link.filename!r})"
    return f"its {part!r} is a soft HDF5 link"


def _sparse_refusal(group: Any) -> str | None:  # noqa: ANN401 - an h5py group
    """Why a sparse group is refused (a part kept outside the file), or ``None``."""
    problems = [p for p in (_sparse_part_problem(group, part) for part in _SPARSE_PARTS) if p]
    if not problems:
        return None
    return (
        f"is a sparse matrix, but {'; '.join(problems)}, which is never followed or read; "
        "save the matrix itself in the .mat file"
    )


def _sparse_variable(name: str, group: Any) -> Variable:  # noqa: ANN401 - an h5py group
    h5py = _h5py()
    refused = _sparse_refusal(group)
    if refused is not None:
        return Variable(name, (), "sparse", "other", refused=refused)
    rows = int(np.asarray(group.attrs["MATLAB_sparse"]).reshape(-1)[0])
    jc = group.get("jc")
    columns = int(jc.shape[0]) - 1 if isinstance(jc, h5py.Dataset) and jc.ndim == 1 else 0
    data = group.get("data")
    is_complex = isinstance(data, h5py.Dataset) and data.dtype.names is not None
    return Variable(name, (rows, columns), "sparse", "complex" if is_complex else "sparse")


def _h5_variable(name: str, link: object, obj: Any) -> Variable:  # noqa: ANN401 - h5py
    h5py = _h5py()
    if not isinstance(link, h5py.HardLink):
        return Variable(name, (), "link", "other")
    cls = _attr_text(obj, "MATLAB_class")
    if isinstance(obj, h5py.Group):
        if "MATLAB_sparse" in obj.attrs:
            return _sparse_variable(name, obj)
        return Variable(name, (), cls or "group", "other")
    if not isinstance(obj, h5py.Dataset):
        return Variable(name, (), type(obj).__name__, "other")
    dtype = obj.dtype
    shape = tuple(int(n) for n in reversed(obj.shape))
    elsewhere = _elsewhere(obj)
    if elsewhere is not None:  # before MATLAB_empty, whose dimensions are read from the data
        return Variable(name, shape, elsewhere, "other")
    if obj.attrs.get("MATLAB_empty", 0):
        dims = tuple(int(n) for n in np.asarray(obj[()]).reshape(-1))
        return Variable(
            name, dims, cls or str(dtype), "numeric" if cls in MATLAB_NUMERIC else "other"
        )
    if h5py.check_dtype(ref=dtype) is not None:
        return Variable(name, shape, cls or "reference", "other")
    if dtype.names is not None and set(dtype.names) == {"real", "imag"}:
        return Variable(name, shape, cls or "complex", "complex")
    if cls is not None:
        return Variable(name, shape, cls, "numeric" if cls in MATLAB_NUMERIC else "other")
    kind: Kind = "numeric" if dtype.kind in "biuf" else "other"
    return Variable(name, shape, str(dtype), kind)


def list_mat73(path: Path) -> list[Variable]:
    h5py = _h5py_for(path)
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
    h5py = _h5py_for(path)
    with _h5_open(path) as handle:
        try:
            obj = _stored_here(path, chosen, handle)
            if isinstance(obj, h5py.Group):  # sparse: MATLAB's compressed sparse columns
                check_dense_size(path, chosen)
                return _dense_from_group(path, chosen, obj)
            if obj.attrs.get("MATLAB_empty", 0):
                return np.zeros(chosen.shape)
            array = np.asarray(obj[()])
        except InputError:
            raise
        except Exception as exc:
            raise cannot_read(path, "MATLAB v7.3 (HDF5)", exc) from exc
    return array.T  # HDF5 holds MATLAB's axes reversed


def _stored_here(path: Path, chosen: Variable, handle: Any) -> Any:  # noqa: ANN401 - h5py
    """The variable's group or dataset, refused if it is a link or its data is in another file.

    Listing refuses these already (they are never candidates); this is the backstop.
    """
    h5py = _h5py()
    if not isinstance(handle.get(chosen.name, getlink=True), h5py.HardLink):
        raise refusal(path, Variable(chosen.name, (), "link", "other"))
    obj = handle[chosen.name]
    elsewhere = _elsewhere(obj)
    if elsewhere is not None:
        raise refusal(path, Variable(chosen.name, chosen.shape, elsewhere, "other"))
    return obj


def _dense_from_group(path: Path, chosen: Variable, group: Any) -> FloatArray:  # noqa: ANN401
    """A v7.3 sparse matrix: a group of ``data``, ``ir`` and ``jc`` (compressed columns).

    Each part must be a dataset stored in the file: a link, a virtual or an external dataset
    would read another file, and is refused (listing refuses them first; this is the backstop).
    """
    refused = _sparse_refusal(group)
    if refused is not None:
        raise refusal(path, Variable(chosen.name, (), "sparse", "other", refused=refused))
    if group.get("data", getlink=True) is None or group.get("ir", getlink=True) is None:
        return np.zeros(chosen.shape)  # an all-zero sparse matrix stores no entries
    return dense_from_csc(group["data"][()], group["ir"][()], group["jc"][()], chosen.shape)
