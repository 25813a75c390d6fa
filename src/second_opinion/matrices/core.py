"""What every matrix format shares: the score matrix, variables, shapes and refusals.

A file is listed as :class:`Variable` records (name, shape, type) before any data is read;
:func:`choose` picks the one to read, :func:`refusal` explains why one cannot be, and
:func:`score_matrix` turns the array read into a :class:`ScoreMatrix` (rows = clips, float64).
MATLAB cell arrays, structs, objects, function handles, char (text) and complex matrices are
refused naming the variable and its type; so are v7.3 references, groups, links, virtual
datasets and datasets whose data is stored in another file.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from second_opinion._typing import MatrixFormat
from second_opinion.errors import InputError, SchemaError, UnreadableFileError

FloatArray = npt.NDArray[np.float64]
Kind = Literal["numeric", "complex", "sparse", "other"]
"""What a variable holds, as far as reading it goes."""

MATLAB_NUMERIC = frozenset(
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
    "virtual dataset": (
        "is an HDF5 virtual dataset: its data is in other files, which are never read; "
        "save the matrix itself in the .mat file"
    ),
    "external dataset": (
        "keeps its data in another file (HDF5 external storage), which is never read; "
        "save the matrix itself in the .mat file"
    ),
}
_COMPLEX_MATLAB = "holds complex numbers; save the real part or the magnitude (real(x) or abs(x))"
_COMPLEX_NUMPY = "holds complex numbers; save the real part or the magnitude (x.real or abs(x))"


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
class Variable:
    """A variable as listed, before its data is read."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    kind: Kind
    numpy_dtype: np.dtype[Any] | None = None
    """The dtype of a ``.npz`` member; ``None`` for MATLAB variables."""
    refused: str | None = None
    """Why the variable is refused whatever its type (e.g. a sparse matrix whose parts are links),
    as the rest of a refusal message; ``None`` when its type decides."""

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


# --- reading files ------------------------------------------------------------------------------


def cannot_read(path: Path, what: str, exc: BaseException) -> UnreadableFileError:
    """The error for a file a reader failed on: unreadable, truncated or corrupt."""
    if isinstance(exc, PermissionError):
        return UnreadableFileError(
            f"{path}: cannot read ({exc.strerror}); check the file's permissions"
        )
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return UnreadableFileError(
        f"{path}: cannot read as {what} ({reason}); the file is truncated or corrupt"
    )


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of the file (fewer if it is shorter)."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror or exc})"
        raise UnreadableFileError(msg) from None


# --- choosing a variable -----------------------------------------------------------------------


def _listing(variables: list[Variable]) -> str:
    return ", ".join(v.describe() for v in variables) if variables else "none"


def _keyword(name: str) -> str:
    return f"variable={name!r}"


@dataclass(frozen=True)
class VariableOption:
    """How the caller names the option that picks a variable, for messages: its name, and a
    setting of it to a name (a Python caller's ``variable='y_pred'``; a CLI's ``--variable``
    and ``--variable brisque:y_pred``)."""

    name: str = "variable"
    setting: Callable[[str], str] = _keyword


def choose(
    path: Path,
    variables: list[Variable],
    variable: str | None,
    option: VariableOption = VariableOption(),
) -> Variable:
    """The variable to read: the one named ``variable``, or the only numeric matrix."""
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
            f"pass one of these names as {option.name}"
        )
        raise InputError(msg)
    candidates = [v for v in variables if v.candidate]
    if len(candidates) == 1:
        return candidates[0]
    if not variables:
        msg = f"{path}: the file holds no variables; save the scores as a numeric matrix"
        raise SchemaError(msg)
    if not candidates:
        msg = (
            f"{path}: no numeric matrix among the variables ({_listing(variables)}); "
            f"save the scores as a numeric matrix, or pass the name of one as {option.name}"
        )
        raise SchemaError(msg)
    msg = (
        f"{path}: {len(candidates)} variables could be the score matrix "
        f"({_listing(candidates)}); pass the name of the one to read as {option.name} "
        f"(e.g. {option.setting(candidates[-1].name)})"
    )
    raise InputError(msg)


def refusal(path: Path, v: Variable) -> SchemaError:
    """The error for a variable that is not a real numeric matrix."""
    if v.refused is not None:
        reason = v.refused
    elif v.numpy_dtype is not None:
        reason = numpy_refusal(v.numpy_dtype) or "is not a real numeric array"
    elif v.kind == "complex":
        reason = _COMPLEX_MATLAB
    else:
        reason = _MATLAB_REFUSALS.get(v.dtype) or (
            f"is a MATLAB object of class {v.dtype!r}, not a numeric matrix; "
            "save its numeric data as a plain matrix (e.g. double(x))"
        )
    return SchemaError(f"{path}: variable {v.name!r} ({v.what()}) {reason}")


def numpy_refusal(dtype: np.dtype[Any]) -> str | None:
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


def score_matrix(
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
        reason = numpy_refusal(array.dtype) or "is not a real numeric matrix"
        msg = f"{where} ({shown} {array.dtype}) {reason}"
        raise SchemaError(msg)
    if array.ndim > 2:
        msg = (
            f"{where} has {array.ndim} dimensions (shape {shown}); a score matrix is 2-D with "
            "clips as rows and scores as columns (N×M, N×1 or 1×N): save a 2-D array"
        )
        raise SchemaError(msg)
    if array.size == 0:
        empty = "rows" if array.ndim < 2 or array.shape[0] == 0 else "columns"
        msg = (
            f"{where} has no {empty} (shape {shown}); a score matrix needs one row per clip "
            "and at least one score column"
        )
        raise SchemaError(msg)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(-1, 1)
    elif array.shape[0] == 1 and array.shape[1] > 1:
        array = array.T  # a row vector: one score per clip
    values: FloatArray = np.array(array, dtype=np.float64, order="C", copy=True)
    values.flags.writeable = False
    return ScoreMatrix(values=values, variable=name, source_shape=source_shape, format=fmt)
