"""MATLAB v4 and v5 (v6, v7) ``.mat`` files, read with ``scipy.io``.

scipy's warnings while reading (e.g. "returned data may be corrupt") are errors. scipy's v5
reader crashes the process (a segfault) on some corrupt data type codes, so the elements of the
variable to read are checked before scipy sees them (:func:`_guard_mat5`).
"""

from __future__ import annotations

import contextlib
import struct
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from second_opinion._typing import MatrixFormat
from second_opinion.matrices.core import (
    MATLAB_NUMERIC,
    Kind,
    Variable,
    cannot_read,
    refusal,
)
from second_opinion.matrices.sparse import check_dense_size, dense_from_coo, dense_from_csc

# --- lazy imports: scipy.io takes ~0.15 s to import -----------------------------------------------


def scipy_io() -> Any:  # noqa: ANN401 - scipy is untyped
    """The ``scipy.io`` module."""
    import scipy.io  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

    return scipy.io


def _is_sparse(value: object) -> bool:
    import scipy.sparse  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

    return bool(scipy.sparse.issparse(value))


def list_mat5(path: Path, fmt: MatrixFormat) -> list[Variable]:
    what = "MATLAB v4" if fmt == "mat4" else "MATLAB v5"
    try:
        with _warnings_as_errors():
            listed = scipy_io().whosmat(str(path), chars_as_strings=False)
    except Exception as exc:
        raise cannot_read(path, what, exc) from exc
    variables = []
    for name, shape, mclass in listed:
        cls = str(mclass)
        kind: Kind = (
            "sparse" if cls == "sparse" else "numeric" if cls in MATLAB_NUMERIC else "other"
        )
        variables.append(Variable(str(name), tuple(int(n) for n in shape), cls, kind))
    return variables


def load_mat5(path: Path, fmt: MatrixFormat, chosen: Variable) -> npt.NDArray[Any]:
    sio = scipy_io()
    what = "MATLAB v4" if fmt == "mat4" else "MATLAB v5"
    try:
        if fmt == "mat5":
            _guard_mat5(path.read_bytes(), chosen.name)
        with _warnings_as_errors():
            loaded = sio.loadmat(
                str(path),
                variable_names=[chosen.name],
                squeeze_me=False,
                chars_as_strings=False,
                struct_as_record=True,
            )
        value = loaded[chosen.name]
    except Exception as exc:
        raise cannot_read(path, what, exc) from exc
    matlab = sio.matlab
    if isinstance(value, matlab.MatlabObject | matlab.MatlabFunction | matlab.MatlabOpaque):
        kind = "function_handle" if isinstance(value, matlab.MatlabFunction) else "object"
        raise refusal(path, Variable(chosen.name, chosen.shape, kind, "other"))
    if _is_sparse(value):
        check_dense_size(path, chosen)
        if np.dtype(value.dtype).kind == "c":
            raise refusal(path, Variable(chosen.name, chosen.shape, "sparse", "complex"))
        try:
            if value.format == "coo":  # MATLAB v4
                return dense_from_coo(value.data, value.row, value.col, value.shape)
            return dense_from_csc(value.data, value.indices, value.indptr, value.shape)
        except ValueError as exc:
            raise cannot_read(path, what, exc) from exc
    array = np.asarray(value)
    if array.dtype.kind == "c":
        raise refusal(path, Variable(chosen.name, chosen.shape, chosen.dtype, "complex"))
    return array


@contextlib.contextmanager
def _warnings_as_errors() -> Iterator[None]:
    """scipy warns, rather than fails, on some corrupt files ('returned data may be corrupt')."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# Type codes of MATLAB v5 data elements that scipy has a dtype for: integers, single, double,
# UTF-8/16/32. scipy's Cython reader looks a code up in a fixed table without checking it and
# crashes the process (a segfault, not an exception) on any other, as corrupt files can hold.
_MI_DTYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 16, 17, 18})
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_MX_SPARSE, _MX_OPAQUE = 5, 17


def _element(content: bytes, pos: int, order: str) -> tuple[int, bytes, int]:
    """The v5 data element at ``pos``: its type code, its data, and where the next one starts."""
    if pos + 8 > len(content):
        msg = f"a data element is cut short at byte {pos}"
        raise ValueError(msg)
    word, size = struct.unpack_from(order + "II", content, pos)
    if word >> 16:  # a small data element: type and size share 4 bytes, the data the other 4
        if word >> 16 > 4:
            msg = f"a small data element at byte {pos} claims {word >> 16} bytes"
            raise ValueError(msg)
        return word & 0xFFFF, content[pos + 4 : pos + 4 + (word >> 16)], pos + 8
    if pos + 8 + size > len(content):
        msg = f"a data element at byte {pos} claims {size} bytes; fewer remain"
        raise ValueError(msg)
    return word, content[pos + 8 : pos + 8 + size], pos + 8 + (size + 7) // 8 * 8


def _guard_mat5(data: bytes, name: str) -> None:
    """Check the data elements scipy will read for variable ``name`` of a v5 file.

    Mirrors scipy's reader: find the variable's element (inflating a compressed one), skip its
    array flags, dimensions and name, then check the type codes of the 1-4 numeric elements a
    numeric or sparse matrix is made of. Raises ``ValueError`` on anything scipy would crash on.
    """
    order = ">" if data[126:128] == b"MI" else "<"
    pos = 128
    while pos + 8 <= len(data):
        mdtype, size = struct.unpack_from(order + "II", data, pos)
        content = data[pos + 8 : pos + 8 + size]
        pos += 8 + size
        inflate = None
        if mdtype == _MI_COMPRESSED:
            inflate = zlib.decompressobj()
            content = inflate.decompress(content, 4096)  # enough for the header
            if len(content) < 8 or struct.unpack_from(order + "I", content)[0] != _MI_MATRIX:
                msg = "a compressed element does not hold a matrix"
                raise ValueError(msg)
        elif mdtype == _MI_MATRIX:
            content = bytes(8) + content  # as if it had the inner tag a compressed one has
        else:
            msg = f"unknown top-level element type {mdtype}"
            raise ValueError(msg)
        try:
            stored_name, at = _mat5_name(content, order)
        except ValueError:
            if inflate is None or inflate.eof:
                raise
            content += _inflate_rest(inflate)
            inflate = None
            stored_name, at = _mat5_name(content, order)
        if stored_name != name:
            continue
        if inflate is not None:
            content += _inflate_rest(inflate)
        flags = struct.unpack_from(order + "I", content, 16)[0]
        mclass, is_complex = flags & 0xFF, bool(flags >> 11 & 1)
        count = (3 if mclass == _MX_SPARSE else 1) + (1 if is_complex else 0)
        for _ in range(count):
            code, _, at = _element(content, at, order)
            if code not in _MI_DTYPES:
                msg = f"variable {name!r} holds data of unknown type {code}"
                raise ValueError(msg)
        return


def _inflate_rest(inflate: Any) -> bytes:  # noqa: ANN401 - zlib's Decompress type is private
    return bytes(inflate.decompress(inflate.unconsumed_tail) + inflate.flush())


def _mat5_name(content: bytes, order: str) -> tuple[str, int]:
    """The name of a v5 matrix (``content`` from its inner tag on) and where its data starts."""
    if len(content) < 24:
        msg = "a matrix element is cut short"
        raise ValueError(msg)
    mclass = struct.unpack_from(order + "I", content, 16)[0] & 0xFF
    at = 24  # inner tag, array flags (tag and 8 bytes)
    if mclass != _MX_OPAQUE:
        _, _, at = _element(content, at, order)  # dimensions
    _, stored, at = _element(content, at, order)
    return stored.decode("latin-1"), at
