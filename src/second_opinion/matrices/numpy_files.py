"""NumPy ``.npy`` and ``.npz`` files, read with ``allow_pickle=False``.

``.npy``/``.npz`` headers are checked before any data is read: object arrays (pickles) are refused
without being loaded, as are text, structured, datetime and complex arrays, and data shorter than
the header promises. A ``.npy`` that is really a zip (``.npz``) archive is refused with the rename
that fixes it.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from numpy.lib import format as npy_format

from second_opinion.errors import InputError, SchemaError, UnreadableFileError
from second_opinion.matrices.core import (
    Kind,
    ScoreMatrix,
    Variable,
    cannot_read,
    numpy_refusal,
    read_head,
    score_matrix,
    shape_text,
)

ZIP_SIGNATURE = b"PK\x03\x04"
NPY_SIGNATURE = b"\x93NUMPY"


def _npy_header(stream: IO[bytes], where: str) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """Shape, Fortran order, dtype and data offset from a ``.npy`` header; no data is read."""
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
    except Exception as exc:
        msg = f"{where}: not a valid .npy array ({exc}); the file is truncated or corrupt"
        raise UnreadableFileError(msg) from exc
    if version not in ((1, 0), (2, 0)):
        msg = (
            f"{where}: .npy format version {version[0]}.{version[1]} is not supported "
            "(it only holds structured arrays); save a plain numeric array with numpy.save"
        )
        raise UnreadableFileError(msg)
    return tuple(int(n) for n in shape), bool(fortran), np.dtype(dtype), stream.tell()


def _npy_refuse_or_check(
    where: str, name: str | None, shape: tuple[int, ...], dtype: np.dtype[Any], have: int
) -> None:
    """Refuse non-numeric dtypes and truncated data, before any data is read."""
    if dtype.kind not in "biuf" or dtype.hasobject:
        subject = "the array" if name is None else f"variable {name!r}"
        reason = numpy_refusal(dtype) or "is not a real numeric array"
        msg = f"{where}: {subject} ({shape_text(shape)} {dtype}) {reason}"
        raise SchemaError(msg)
    need = math.prod(shape) * dtype.itemsize
    if have < need:
        msg = (
            f"{where}: truncated: the header promises {shape_text(shape)} {dtype} "
            f"({need} bytes of data) but only {have} bytes follow; the file is truncated or corrupt"
        )
        raise UnreadableFileError(msg)


def read_npy(path: Path) -> ScoreMatrix:
    head = read_head(path, 8)
    if head.startswith(ZIP_SIGNATURE):
        msg = f"{path}: a .npz archive (zip), not a .npy array; rename it to .npz"
        raise UnreadableFileError(msg)
    size = path.stat().st_size
    try:
        with path.open("rb") as stream:
            shape, _, dtype, offset = _npy_header(stream, str(path))
            _npy_refuse_or_check(str(path), None, shape, dtype, size - offset)
            stream.seek(0)
            array = npy_format.read_array(stream, allow_pickle=False)
    except InputError:
        raise
    except Exception as exc:
        raise cannot_read(path, ".npy", exc) from exc
    return score_matrix(path, None, array, "npy", shape)


def list_npz(path: Path) -> list[Variable]:
    variables = []
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                name = info.filename.removesuffix(".npy")
                with archive.open(info) as stream:
                    shape, _, dtype, _ = _npy_header(stream, f"{path}: member {info.filename!r}")
                if dtype.kind in "biuf" and not dtype.hasobject:
                    kind: Kind = "numeric"
                elif dtype.kind == "c":
                    kind = "complex"
                else:
                    kind = "other"
                variables.append(Variable(name, shape, str(dtype), kind, dtype))
    except InputError:
        raise
    except Exception as exc:
        raise cannot_read(path, ".npz", exc) from exc
    return variables


def load_npz(path: Path, chosen: Variable) -> npt.NDArray[Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(chosen.name + ".npy")
            with archive.open(info) as stream:
                where = f"{path}: member {info.filename!r}"
                shape, _, dtype, offset = _npy_header(stream, where)
                _npy_refuse_or_check(where, chosen.name, shape, dtype, info.file_size - offset)
                stream.seek(0)
                return npy_format.read_array(stream, allow_pickle=False)
    except InputError:
        raise
    except Exception as exc:
        raise cannot_read(path, ".npz", exc) from exc
