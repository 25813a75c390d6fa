"""Reading bare score matrices: scorer outputs with no key column, in the corpus's row order.

Many scorers (BRISQUE, NIQE and VIDEVAL feature scripts, most MATLAB and NumPy pipelines) write
their output as a bare matrix: one row per clip, in the row order of the corpus table, one column
per score or feature, and no key. :func:`read_matrix` reads such a file into a
:class:`ScoreMatrix` (float64, clips as rows); aligning it to the corpus by row position is the
caller's job (issue 5 §2: row-aligned sidecars). :func:`matrix_variables` lists what a file holds.

Formats
    The suffix picks the family; for ``.mat`` the content picks the version.

    ==============================  =========  =============================================
    suffix                          format     read with
    ==============================  =========  =============================================
    ``.mat`` (MATLAB v4)            ``mat4``   ``scipy.io.loadmat``
    ``.mat`` (MATLAB v5, v6, v7)    ``mat5``   ``scipy.io.loadmat``
    ``.mat`` (MATLAB v7.3: HDF5)    ``mat73``  h5py; found by the HDF5 signature at byte 0 or
                                               512·2^k (after MATLAB's 512-byte text header)
    ``.npy``                        ``npy``    NumPy, ``allow_pickle=False``
    ``.npz``                        ``npz``    NumPy, ``allow_pickle=False``
    ``.csv`` ``.tsv`` ``.txt``      ``csv``    headerless delimited text (below); each may
                                               be gzip-compressed (``.csv.gz``)
    ==============================  =========  =============================================

    MATLAB v7.3 stores arrays with their axes reversed (HDF5 is row-major, MATLAB column-major):
    h5py hands an N×M MATLAB matrix over as M×N, and it is transposed back. An HDF5 ``.mat`` without
    MATLAB's header (written by another tool) is read the same way. A ``.npy`` that is really a zip
    (``.npz``) archive, or the reverse, is refused with the rename that fixes it.

Shapes
    ``source_shape`` is the shape as the writer saw it: MATLAB's own shape for ``.mat`` files (v7.3
    included, i.e. after undoing the transposition), NumPy's shape for ``.npy``/``.npz``, and
    (lines, values per line) for text. The returned ``values`` are always 2-D, rows = clips:

    * N×M → N×M (N clips, M scores); N×1 → N×1;
    * 1×N with N > 1 (a row vector, as MATLAB code often saves one score per clip) → N×1. A
      one-line text file is a row vector too. A genuine one-clip, M-score matrix cannot be told
      apart from it and is read as M×1; the corpus's row count shows the difference;
    * 1-D of length N → N×1; a 0-d scalar → 1×1. A 1×1 matrix is one clip with one score;
    * more than 2 dimensions, no rows or no columns → :class:`InputError` with the shape.

Variables
    ``.mat`` and ``.npz`` files hold named variables; ``variable`` picks one. Without it, the file
    must hold exactly one *candidate*: a numeric (including complex), logical or sparse variable,
    0-, 1- or 2-D, and not empty. Several candidates (a NIQE file with ``MOS`` and ``y_pred``, both
    1×1200) or none give an error that lists every variable with its shape and type and says to
    pass ``variable``; a name that does not exist gives the list and a did-you-mean. Names that
    start and end with ``__`` (scipy's ``__header__``, ``__version__``, ``__globals__``,
    ``__function_workspace__``) and v7.3's ``#refs#``/``#subsystem#`` are not variables. Formats
    holding one array (``.npy``, text) refuse a ``variable``.

Values and safety
    Nothing is unpickled or executed. ``.npy``/``.npz`` headers are checked before any data is
    read: object arrays (pickles) are refused without being loaded, as are text, structured,
    datetime and complex arrays. MATLAB cell arrays, structs, objects, function handles, char
    (text) and complex matrices are refused naming the variable and its type; so are v7.3
    references, groups, links and virtual datasets. Logical and integer matrices become float64
    (integers beyond 2**53 round). Sparse matrices are densified: MATLAB's implicit entries are
    exact zeros, so the dense matrix is the same data; one that would exceed 2**27 cells (1 GiB)
    is refused. NaN and ±inf are kept. A truncated or corrupt file raises :class:`InputError`,
    never another exception; scipy's v5 reader crashes the process (a segfault) on some corrupt
    data type codes, so the elements of the variable to read are checked before scipy sees them.
    scipy's warnings while reading (e.g. "returned data may be corrupt") are errors.

Text files
    ``.csv`` is comma-separated, ``.tsv`` tab-separated; ``.txt`` is comma-separated when its
    first non-blank line holds a comma (MATLAB's ``writematrix``/``dlmwrite``), otherwise
    separated by runs of whitespace (``numpy.savetxt``, MATLAB's ``save -ascii``). UTF-8, an
    optional BOM, any line ending. Numbers only, every row the same width, no header and no
    comments: a non-number is an error naming its line, column and value (on the first line, as
    a probable header row). An empty cell is NaN, and so is ``nan`` in any case; ``inf`` is kept.
    In delimited text a blank line is a row with one empty cell (how pandas writes a missing value
    in a one-column file); in a wider matrix it is an error, except at the end of the file, where
    blank lines are ignored. When every line ends with the delimiter (an all-empty last column)
    the file is refused, rather than read with a column of NaN. In whitespace-separated text
    blank lines are skipped.
"""

from __future__ import annotations

import contextlib
import difflib
import gzip
import math
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import numpy.typing as npt
from numpy.lib import format as npy_format

from second_opinion.errors import InputError

FloatArray = npt.NDArray[np.float64]
MatrixFormat = Literal["mat4", "mat5", "mat73", "npy", "npz", "csv"]

SUPPORTED_SUFFIXES = ".mat, .npy, .npz, .csv, .tsv and .txt (text optionally .gz)"
MAX_DENSE_CELLS = 2**27
"""The largest sparse matrix densified (cells): 1 GiB of float64."""

_TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_SIGNATURE = b"PK\x03\x04"
_NPY_SIGNATURE = b"\x93NUMPY"
_MATLAB_NUMERIC = frozenset(
    {"double", "single", "logical", "int8", "uint8", "int16", "uint16", "int32", "uint32"}
    | {"int64", "uint64"}
)
_MATLAB_REFUSALS = {
    "cell": "is a cell array; convert it to a numeric matrix (cell2mat) and save that",
    "struct": "is a struct; save the field that holds the scores as a variable of its own",
    "char": "is text (char), not numbers; save the scores as a numeric matrix",
    "string": "is text (string), not numbers; save the scores as a numeric matrix",
    "function_handle": "is a function handle, not data; save the scores as a numeric matrix",
    "object": "is a MATLAB object; save its numeric data as a plain matrix (e.g. double(x))",
    "link": "is a soft or external HDF5 link, which is not followed; save the matrix itself",
    "reference": "holds HDF5 object references (as v7.3 cells do); save a numeric matrix",
    "group": "is an HDF5 group, not a matrix; save the scores as a numeric matrix",
}
_COMPLEX_MATLAB = "holds complex numbers; save the real part or the magnitude (real(x) or abs(x))"
_COMPLEX_NUMPY = "holds complex numbers; save the real part or the magnitude (x.real or abs(x))"

Kind = Literal["numeric", "complex", "sparse", "other"]


@dataclass(frozen=True, eq=False)
class ScoreMatrix:
    """A score matrix read from a file: float64, one row per clip, one column per score."""

    values: FloatArray
    """2-D float64, read-only; rows are clips in the file's order."""
    variable: str | None
    """The variable read (``.mat``/``.npz``), or ``None`` for single-array formats."""
    source_shape: tuple[int, ...]
    """The shape as the writer saw it (MATLAB's shape for ``.mat``, NumPy's for ``.npy``)."""
    format: MatrixFormat

    @property
    def n_rows(self) -> int:
        """The number of rows (clips)."""
        return int(self.values.shape[0])

    @property
    def n_columns(self) -> int:
        """The number of columns (scores per clip)."""
        return int(self.values.shape[1])


@dataclass(frozen=True)
class _Variable:
    """A variable as listed, before its data is read."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    kind: Kind
    numpy_dtype: np.dtype[Any] | None = None
    """The dtype of a ``.npz`` member; ``None`` for MATLAB variables."""

    @property
    def candidate(self) -> bool:
        return self.kind != "other" and len(self.shape) <= 2 and 0 not in self.shape

    def what(self) -> str:
        """Shape and type, as messages show them: ``1×1200 double``."""
        if not self.shape and self.kind == "other":
            return self.dtype
        return f"{shape_text(self.shape)} {self.dtype}"

    def describe(self) -> str:
        """Name, shape and type, as listings show them: ``y_pred (1×1200 double)``."""
        return f"{self.name} ({self.what()})"


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as messages show it: ``1200×36``, ``1200 (1-D)``, ``scalar``."""
    if not shape:
        return "scalar"
    if len(shape) == 1:
        return f"{shape[0]} (1-D)"
    return "×".join(str(n) for n in shape)


# --- public API --------------------------------------------------------------------------------


def read_matrix(path: str | Path, variable: str | None = None) -> ScoreMatrix:
    """Read a bare score matrix (rows = clips) from a MATLAB, NumPy or headerless text file.

    ``variable`` names the variable of a ``.mat``/``.npz`` file; without it the file must hold one
    numeric matrix. See the module docstring for formats, shapes and what is refused.
    """
    path = Path(path)
    family, delimiter, compressed = _family(path)
    _check_file(path)
    if family in ("npy", "csv") and variable is not None:
        what = "a .npy file holds one array" if family == "npy" else "a text file holds one matrix"
        msg = f"{path}: {what} and has no variables; leave out variable (got {variable!r})"
        raise InputError(msg)
    if family == "csv":
        array, shape = _read_text(path, delimiter, compressed)
        return _score_matrix(path, None, array, "csv", shape)
    if family == "npy":
        return _read_npy_file(path)
    fmt = _container_format(path, family)
    variables = _list(path, fmt)
    chosen = _choose(path, variables, variable)
    if chosen.kind in ("other", "complex"):
        raise _refusal(path, chosen)
    array = _load(path, fmt, chosen)
    return _score_matrix(path, chosen.name, array, fmt, chosen.shape)


def matrix_variables(path: str | Path) -> list[tuple[str, tuple[int, ...], str]]:
    """The variables of a ``.mat``/``.npz`` file as (name, shape, type), sorted by name.

    The shape is the writer's (MATLAB's for ``.mat``); the type is the MATLAB class (``double``,
    ``cell``, ``sparse``…) or the NumPy dtype. Nothing but headers is read. Single-array formats
    (``.npy``, text) have no variables: ``[]``.
    """
    path = Path(path)
    family, _, _ = _family(path)
    _check_file(path)
    if family in ("npy", "csv"):
        return []
    fmt = _container_format(path, family)
    return [(v.name, v.shape, v.dtype) for v in _list(path, fmt)]


# --- lazy imports: scipy.io and h5py take ~0.15 s to import ---------------------------------------


def _scipy_io() -> Any:  # noqa: ANN401 - scipy is untyped
    """The ``scipy.io`` module."""
    import scipy.io  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

    return scipy.io


def _is_sparse(value: object) -> bool:
    import scipy.sparse  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

    return bool(scipy.sparse.issparse(value))


def _h5py() -> Any:  # noqa: ANN401 - h5py is untyped
    """The ``h5py`` module."""
    import h5py  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

    return h5py


# --- files and formats -------------------------------------------------------------------------


def _family(path: Path) -> tuple[Literal["mat", "npy", "npz", "csv"], str | None, bool]:
    """The format family from the suffix, the text delimiter, and whether it is gzipped."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in _TEXT_SUFFIXES:
        return "csv", _TEXT_SUFFIXES[last], compressed
    if not compressed and last == ".mat":
        return "mat", None, False
    if not compressed and last in (".npy", ".npz"):
        return ("npy" if last == ".npy" else "npz"), None, False
    msg = (
        f"{path}: unsupported matrix file type {''.join(path.suffixes) or '(no suffix)'!r}; "
        f"use {SUPPORTED_SUFFIXES}"
    )
    raise InputError(msg)


def _check_file(path: Path) -> None:
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "no such file"
        msg = f"{path}: {what}"
        raise InputError(msg)
    if path.stat().st_size == 0:
        msg = f"{path}: file is empty (0 bytes)"
        raise InputError(msg)


def _cannot_read(path: Path, what: str, exc: BaseException) -> InputError:
    if isinstance(exc, PermissionError):
        return InputError(f"{path}: cannot read ({exc.strerror}); check the file's permissions")
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return InputError(f"{path}: cannot read as {what} ({reason}); the file is truncated or corrupt")


def _head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror or exc})"
        raise InputError(msg) from None


def _hdf5_offset(path: Path) -> int | None:
    """Where the HDF5 superblock starts (byte 0 or 512·2^k), or ``None`` if the file is not HDF5."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            offset = 0
            while offset + len(_HDF5_SIGNATURE) <= size:
                handle.seek(offset)
                if handle.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                    return offset
                offset = 512 if offset == 0 else offset * 2
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror or exc})"
        raise InputError(msg) from None
    return None


def _container_format(path: Path, family: str) -> MatrixFormat:
    """The format of a ``.mat`` or ``.npz`` file, from its content."""
    head = _head(path, 128)
    if family == "npz":
        if head.startswith(_NPY_SIGNATURE):
            msg = f"{path}: a .npy array, not a .npz archive; rename it to .npy"
            raise InputError(msg)
        if not head.startswith(_ZIP_SIGNATURE):
            msg = f"{path}: not a .npz archive (no zip signature); the file is truncated or corrupt"
            raise InputError(msg)
        return "npz"
    if _hdf5_offset(path) is not None:
        return "mat73"
    if head.startswith(b"MATLAB 7.3"):
        msg = (
            f"{path}: the header says MATLAB 7.3 (HDF5), but the file holds no HDF5 data; "
            "the file is truncated or corrupt"
        )
        raise InputError(msg)
    try:
        with path.open("rb") as handle:
            major, _ = _scipy_io().matlab.matfile_version(handle)
    except Exception as exc:
        msg = f"{path}: not a MATLAB .mat file (no MATLAB v4, v5 or v7.3 header)"
        raise InputError(msg) from exc
    if major == 0:
        return "mat4"
    if major == 1:
        return "mat5"
    msg = f"{path}: not a MATLAB .mat file (header version {major}); the file is corrupt"
    raise InputError(msg)


def _list(path: Path, fmt: MatrixFormat) -> list[_Variable]:
    if fmt in ("mat4", "mat5"):
        variables = _list_mat5(path, fmt)
    elif fmt == "mat73":
        variables = _list_mat73(path)
    else:
        variables = _list_npz(path)
    hidden = [v for v in variables if not (v.name.startswith("__") and v.name.endswith("__"))]
    return sorted(hidden, key=lambda v: v.name)


def _load(path: Path, fmt: MatrixFormat, chosen: _Variable) -> npt.NDArray[Any]:
    if fmt in ("mat4", "mat5"):
        return _load_mat5(path, fmt, chosen)
    if fmt == "mat73":
        return _load_mat73(path, chosen)
    return _load_npz(path, chosen)


# --- choosing a variable -----------------------------------------------------------------------


def _listing(variables: list[_Variable]) -> str:
    return ", ".join(v.describe() for v in variables) if variables else "none"


def _choose(path: Path, variables: list[_Variable], variable: str | None) -> _Variable:
    if variable is not None:
        for v in variables:
            if v.name == variable:
                return v
        names = [v.name for v in variables]
        folded = [n for n in names if n.casefold() == variable.casefold()]
        close = folded or difflib.get_close_matches(variable, names, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        msg = (
            f"{path}: no variable {variable!r}{hint} (variables: {_listing(variables)}); "
            "pass one of these names as variable"
        )
        raise InputError(msg)
    candidates = [v for v in variables if v.candidate]
    if len(candidates) == 1:
        return candidates[0]
    if not variables:
        msg = f"{path}: the file holds no variables; save the scores as a numeric matrix"
        raise InputError(msg)
    if not candidates:
        msg = (
            f"{path}: no numeric matrix among the variables ({_listing(variables)}); "
            "save the scores as a numeric matrix, or pass the name of one as variable"
        )
        raise InputError(msg)
    msg = (
        f"{path}: {len(candidates)} variables could be the score matrix "
        f"({_listing(candidates)}); pass the name of the one to read as variable "
        f"(e.g. variable={candidates[-1].name!r})"
    )
    raise InputError(msg)


def _refusal(path: Path, v: _Variable) -> InputError:
    """The error for a variable that is not a real numeric matrix."""
    if v.numpy_dtype is not None:
        reason = _numpy_refusal(v.numpy_dtype) or "is not a real numeric array"
    elif v.kind == "complex":
        reason = _COMPLEX_MATLAB
    else:
        reason = _MATLAB_REFUSALS.get(v.dtype) or (
            f"is a MATLAB object of class {v.dtype!r}, not a numeric matrix; "
            "save its numeric data as a plain matrix (e.g. double(x))"
        )
    return InputError(f"{path}: variable {v.name!r} ({v.what()}) {reason}")


def _numpy_refusal(dtype: np.dtype[Any]) -> str | None:
    """Why a NumPy dtype is refused, or ``None`` if it is a real number type."""
    if dtype.hasobject:
        return (
            "is an object array, which only unpickling can load (never done here: it can run "
            "code); save the scores as a numeric array"
        )
    if dtype.kind in "US":
        return "is text, not numbers; save the scores as a numeric array"
    if dtype.kind == "c":
        return _COMPLEX_NUMPY
    if dtype.kind == "V":
        return "is a structured array; save the field holding the scores as a plain numeric array"
    if dtype.kind in "Mm":
        return "holds dates or times, not scores; save the scores as a numeric array"
    return None


# --- shapes and values -------------------------------------------------------------------------


def _where(path: Path, name: str | None) -> str:
    return f"{path}" if name is None else f"{path}: variable {name!r}"


def _score_matrix(
    path: Path,
    name: str | None,
    array: npt.NDArray[Any],
    fmt: MatrixFormat,
    source_shape: tuple[int, ...],
) -> ScoreMatrix:
    """Check the shape, orient rows as clips, convert to float64."""
    where = _where(path, name)
    shown = shape_text(source_shape)
    if array.dtype.kind not in "biuf":
        reason = _numpy_refusal(array.dtype) or "is not a real numeric matrix"
        msg = f"{where} ({shown} {array.dtype}) {reason}"
        raise InputError(msg)
    if array.ndim > 2:
        msg = (
            f"{where} has {array.ndim} dimensions (shape {shown}); a score matrix is 2-D with "
            "clips as rows and scores as columns (N×M, N×1 or 1×N): save a 2-D array"
        )
        raise InputError(msg)
    if array.size == 0:
        empty = "rows" if array.ndim < 2 or array.shape[0] == 0 else "columns"
        msg = (
            f"{where} has no {empty} (shape {shown}); a score matrix needs one row per clip "
            "and at least one score column"
        )
        raise InputError(msg)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(-1, 1)
    elif array.shape[0] == 1 and array.shape[1] > 1:
        array = array.T  # a row vector: one score per clip
    values: FloatArray = np.array(array, dtype=np.float64, order="C", copy=True)
    values.flags.writeable = False
    return ScoreMatrix(values=values, variable=name, source_shape=source_shape, format=fmt)


# --- MATLAB v4 and v5 (scipy) ------------------------------------------------------------------


def _list_mat5(path: Path, fmt: MatrixFormat) -> list[_Variable]:
    what = "MATLAB v4" if fmt == "mat4" else "MATLAB v5"
    try:
        with _warnings_as_errors():
            listed = _scipy_io().whosmat(str(path), chars_as_strings=False)
    except Exception as exc:
        raise _cannot_read(path, what, exc) from exc
    variables = []
    for name, shape, mclass in listed:
        cls = str(mclass)
        kind: Kind = (
            "sparse" if cls == "sparse" else "numeric" if cls in _MATLAB_NUMERIC else "other"
        )
        variables.append(_Variable(str(name), tuple(int(n) for n in shape), cls, kind))
    return variables


def _load_mat5(path: Path, fmt: MatrixFormat, chosen: _Variable) -> npt.NDArray[Any]:
    sio = _scipy_io()
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
        raise _cannot_read(path, what, exc) from exc
    matlab = sio.matlab
    if isinstance(value, matlab.MatlabObject | matlab.MatlabFunction | matlab.MatlabOpaque):
        kind = "function_handle" if isinstance(value, matlab.MatlabFunction) else "object"
        raise _refusal(path, _Variable(chosen.name, chosen.shape, kind, "other"))
    if _is_sparse(value):
        _check_dense_size(path, chosen)
        if np.dtype(value.dtype).kind == "c":
            raise _refusal(path, _Variable(chosen.name, chosen.shape, "sparse", "complex"))
        try:
            if value.format == "coo":  # MATLAB v4
                return _dense(value.data, value.row, value.col, value.shape)
            return _dense_from_csc(value.data, value.indices, value.indptr, value.shape)
        except ValueError as exc:
            raise _cannot_read(path, what, exc) from exc
    array = np.asarray(value)
    if array.dtype.kind == "c":
        raise _refusal(path, _Variable(chosen.name, chosen.shape, chosen.dtype, "complex"))
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


def _check_dense_size(path: Path, v: _Variable) -> None:
    cells = math.prod(v.shape)
    if cells > MAX_DENSE_CELLS:
        msg = (
            f"{path}: variable {v.name!r} ({v.what()}) would need {cells * 8 / 2**30:.1f} GiB "
            f"as a dense matrix (more than {MAX_DENSE_CELLS} cells); save the scores as a full "
            "matrix (full(x)) of the size the corpus needs"
        )
        raise InputError(msg)


def _dense(data: object, rows: object, columns: object, shape: tuple[int, ...]) -> FloatArray:
    """A dense matrix from (value, row, column) triplets; duplicates add up, as in scipy.

    Indices are checked here: scipy does not check those of a sparse matrix read from a file,
    and its C++ densifier writes out of bounds on bad ones.
    """
    n_rows, n_columns = (int(n) for n in shape)
    values = np.asarray(data).reshape(-1)
    row = np.asarray(rows).reshape(-1).astype(np.int64)
    column = np.asarray(columns).reshape(-1).astype(np.int64)
    if not (len(values) == len(row) == len(column)):
        msg = "sparse data and index arrays differ in length"
        raise ValueError(msg)
    if len(row) and (row.min() < 0 or row.max() >= n_rows):
        msg = f"a sparse row index is outside 0..{n_rows - 1}"
        raise ValueError(msg)
    if len(column) and (column.min() < 0 or column.max() >= n_columns):
        msg = f"a sparse column index is outside 0..{n_columns - 1}"
        raise ValueError(msg)
    dense = np.zeros((n_rows, n_columns), dtype=np.float64)
    np.add.at(dense, (row, column), values.astype(np.float64))
    return dense


def _dense_from_csc(data: object, ir: object, jc: object, shape: tuple[int, ...]) -> FloatArray:
    """A dense matrix from MATLAB's compressed sparse columns (``ir`` rows, ``jc`` pointers)."""
    pointers = np.asarray(jc).reshape(-1).astype(np.int64)
    n_values = np.asarray(data).reshape(-1).shape[0]
    if (
        len(pointers) != int(shape[1]) + 1
        or pointers[0] != 0
        or pointers[-1] != n_values
        or np.any(np.diff(pointers) < 0)
    ):
        msg = "inconsistent sparse column pointers (jc)"
        raise ValueError(msg)
    columns = np.repeat(np.arange(int(shape[1])), np.diff(pointers))
    return _dense(data, ir, columns, shape)


# --- MATLAB v7.3 (HDF5, h5py) ------------------------------------------------------------------


@contextlib.contextmanager
def _h5_open(path: Path) -> Iterator[Any]:
    try:
        handle = _h5py().File(path, "r")
    except Exception as exc:
        raise _cannot_read(path, "MATLAB v7.3 (HDF5)", exc) from exc
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


def _h5_variable(name: str, link: object, obj: Any) -> _Variable:  # noqa: ANN401 - h5py
    h5py = _h5py()
    if not isinstance(link, h5py.HardLink):
        return _Variable(name, (), "link", "other")
    cls = _attr_text(obj, "MATLAB_class")
    if isinstance(obj, h5py.Group):
        if "MATLAB_sparse" in obj.attrs:
            rows = int(np.asarray(obj.attrs["MATLAB_sparse"]).reshape(-1)[0])
            jc = obj.get("jc")
            columns = int(jc.shape[0]) - 1 if isinstance(jc, h5py.Dataset) and jc.ndim == 1 else 0
            data = obj.get("data")
            is_complex = isinstance(data, h5py.Dataset) and data.dtype.names is not None
            return _Variable(name, (rows, columns), "sparse", "complex" if is_complex else "sparse")
        return _Variable(name, (), cls or "group", "other")
    if not isinstance(obj, h5py.Dataset):
        return _Variable(name, (), type(obj).__name__, "other")
    dtype = obj.dtype
    if obj.attrs.get("MATLAB_empty", 0):
        dims = tuple(int(n) for n in np.asarray(obj[()]).reshape(-1))
        return _Variable(
            name, dims, cls or str(dtype), "numeric" if cls in _MATLAB_NUMERIC else "other"
        )
    shape = tuple(int(n) for n in reversed(obj.shape))
    if obj.is_virtual or h5py.check_dtype(ref=dtype) is not None:
        return _Variable(name, shape, cls or "reference", "other")
    if dtype.names is not None and set(dtype.names) == {"real", "imag"}:
        return _Variable(name, shape, cls or "complex", "complex")
    if cls is not None:
        return _Variable(name, shape, cls, "numeric" if cls in _MATLAB_NUMERIC else "other")
    kind: Kind = "numeric" if dtype.kind in "biuf" else "other"
    return _Variable(name, shape, str(dtype), kind)


def _list_mat73(path: Path) -> list[_Variable]:
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
            raise _cannot_read(path, "MATLAB v7.3 (HDF5)", exc) from exc
    return variables


def _load_mat73(path: Path, chosen: _Variable) -> npt.NDArray[Any]:
    h5py = _h5py()
    with _h5_open(path) as handle:
        try:
            obj = handle[chosen.name]
            if isinstance(obj, h5py.Group):  # sparse: MATLAB's compressed sparse columns
                _check_dense_size(path, chosen)
                return _dense_from_group(obj, chosen.shape)
            if obj.attrs.get("MATLAB_empty", 0):
                return np.zeros(chosen.shape)
            array = np.asarray(obj[()])
        except InputError:
            raise
        except Exception as exc:
            raise _cannot_read(path, "MATLAB v7.3 (HDF5)", exc) from exc
    return array.T  # HDF5 holds MATLAB's axes reversed


def _dense_from_group(group: Any, shape: tuple[int, ...]) -> FloatArray:  # noqa: ANN401
    """A v7.3 sparse matrix: a group of ``data``, ``ir`` and ``jc`` (compressed columns)."""
    if "data" not in group or "ir" not in group:
        return np.zeros(shape)  # an all-zero sparse matrix stores no entries
    return _dense_from_csc(group["data"][()], group["ir"][()], group["jc"][()], shape)


# --- NumPy .npy and .npz -----------------------------------------------------------------------


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
        raise InputError(msg) from exc
    if version not in ((1, 0), (2, 0)):
        msg = (
            f"{where}: .npy format version {version[0]}.{version[1]} is not supported "
            "(it only holds structured arrays); save a plain numeric array with numpy.save"
        )
        raise InputError(msg)
    return tuple(int(n) for n in shape), bool(fortran), np.dtype(dtype), stream.tell()


def _npy_refuse_or_check(
    where: str, name: str | None, shape: tuple[int, ...], dtype: np.dtype[Any], have: int
) -> None:
    """Refuse non-numeric dtypes and truncated data, before any data is read."""
    if dtype.kind not in "biuf" or dtype.hasobject:
        subject = "the array" if name is None else f"variable {name!r}"
        reason = _numpy_refusal(dtype) or "is not a real numeric array"
        msg = f"{where}: {subject} ({shape_text(shape)} {dtype}) {reason}"
        raise InputError(msg)
    need = math.prod(shape) * dtype.itemsize
    if have < need:
        msg = (
            f"{where}: truncated: the header promises {shape_text(shape)} {dtype} "
            f"({need} bytes of data) but only {have} bytes follow; the file is truncated or corrupt"
        )
        raise InputError(msg)


def _read_npy_file(path: Path) -> ScoreMatrix:
    head = _head(path, 8)
    if head.startswith(_ZIP_SIGNATURE):
        msg = f"{path}: a .npz archive (zip), not a .npy array; rename it to .npz"
        raise InputError(msg)
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
        raise _cannot_read(path, ".npy", exc) from exc
    return _score_matrix(path, None, array, "npy", shape)


def _list_npz(path: Path) -> list[_Variable]:
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
                variables.append(_Variable(name, shape, str(dtype), kind, dtype))
    except InputError:
        raise
    except Exception as exc:
        raise _cannot_read(path, ".npz", exc) from exc
    return variables


def _load_npz(path: Path, chosen: _Variable) -> npt.NDArray[Any]:
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
        raise _cannot_read(path, ".npz", exc) from exc


# --- headerless text ---------------------------------------------------------------------------


def _parse_number(cell: str) -> float | None:
    """A cell as a float (empty → NaN), or ``None`` if it is not a plain number."""
    text = cell.strip()
    if not text:
        return math.nan
    if "_" in text or not text.isascii():
        return None  # float() also takes '1_000' and non-ASCII digits
    try:
        return float(text)
    except ValueError:
        return None


def _read_text(
    path: Path, delimiter: str | None, compressed: bool
) -> tuple[npt.NDArray[Any], tuple[int, int]]:
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rt", encoding="utf-8-sig") as handle:
            lines = handle.read().splitlines()
    except UnicodeDecodeError as exc:
        msg = f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the matrix as text"
        raise InputError(msg) from None
    except (OSError, EOFError) as exc:
        msg = f"{path}: cannot read ({exc}); the file is truncated or corrupt"
        raise InputError(msg) from None
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        msg = f"{path}: no rows (the file holds only blank lines); write one row per clip"
        raise InputError(msg)
    if delimiter is None and "," in lines[first]:
        delimiter = ","  # .txt as MATLAB's writematrix and dlmwrite write it
    width = len(lines[first].split(delimiter))
    if delimiter is not None and width > 1:
        while not lines[-1].strip():
            lines.pop()  # blank lines at the end cannot be rows of a wider matrix
    rows: list[list[float]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() and (delimiter is None or width > 1):
            if delimiter is None:
                continue  # whitespace-separated text has no empty cells
            msg = (
                f"{path} line {number} is empty, but line {first + 1} has {width} values; remove "
                "the blank line, or write a row of empty cells for a clip with no scores"
            )
            raise InputError(msg)
        cells = line.split(delimiter)
        row = []
        for column, cell in enumerate(cells, start=1):
            value = _parse_number(cell)
            if value is None:
                raise _not_a_number(path, number, column, cell, header=not rows)
            row.append(value)
        if len(row) != width:
            msg = (
                f"{path} line {number} has {_values(len(row))}, but line {first + 1} has {width}; "
                "every row needs the same number of values (an empty cell or nan marks a "
                "missing value)"
            )
            raise InputError(msg)
        rows.append(row)
    if (
        delimiter is not None
        and width > 1
        and all(not line.split(delimiter)[-1].strip() for line in lines)
    ):
        shown = "a tab" if delimiter == "\t" else repr(delimiter)
        msg = (
            f"{path}: every line ends with {shown} (an empty last column); remove the trailing "
            "delimiters, or write nan for missing values"
        )
        raise InputError(msg)
    return np.array(rows, dtype=np.float64), (len(rows), width)


def _values(count: int) -> str:
    return f"{count} value" if count == 1 else f"{count} values"


def _not_a_number(path: Path, number: int, column: int, cell: str, *, header: bool) -> InputError:
    if header:
        return InputError(
            f"{path} line {number}, column {column}: {cell!r} is not a number; a matrix file "
            "holds numbers only, with no header row: remove the header (or add a key column "
            "and read the file as a keyed table)"
        )
    return InputError(
        f"{path} line {number}, column {column}: {cell!r} is not a number; write numbers only "
        "(an empty cell or nan marks a missing value)"
    )
