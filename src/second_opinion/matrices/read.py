"""The entry points: :func:`read_matrix` and :func:`matrix_variables`, for every format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy.typing as npt

from second_opinion._typing import MatrixFormat
from second_opinion.errors import InputError
from second_opinion.matrices.core import (
    ScoreMatrix,
    Variable,
    VariableOption,
    choose,
    refusal,
    score_matrix,
)
from second_opinion.matrices.formats import container_format, format_family
from second_opinion.matrices.mat5 import list_mat5, load_mat5
from second_opinion.matrices.mat73 import list_mat73, load_mat73
from second_opinion.matrices.numpy_files import list_npz, load_npz, read_npy
from second_opinion.matrices.text import read_text
from second_opinion.tables.formats import check_file


def read_matrix(
    path: str | Path,
    variable: str | None = None,
    *,
    option: VariableOption = VariableOption(),  # noqa: B008 - frozen, so shared safely
) -> ScoreMatrix:
    """Read a bare score matrix (rows = clips) from a MATLAB, NumPy or headerless text file.

    ``variable`` names the variable of a ``.mat``/``.npz`` file; without it the file must hold one
    numeric matrix. See :mod:`second_opinion.matrices` for formats, shapes and what is refused.
    ``option`` says how messages name ``variable`` (as the caller spells it).
    """
    path = Path(path)
    family, delimiter, compressed = format_family(path)
    check_file(path)
    if family in ("npy", "csv") and variable is not None:
        what = "a .npy file holds one array" if family == "npy" else "a text file holds one matrix"
        msg = f"{path}: {what} and has no variables; leave out {option.name} (got {variable!r})"
        raise InputError(msg)
    if family == "csv":
        array, shape = read_text(path, delimiter, compressed)
        return score_matrix(path, None, array, "csv", shape)
    if family == "npy":
        return read_npy(path)
    fmt = container_format(path, family)
    variables = _list(path, fmt)
    chosen = choose(path, variables, variable, option)
    if chosen.kind in ("other", "complex"):
        raise refusal(path, chosen)
    array = _load(path, fmt, chosen)
    return score_matrix(path, chosen.name, array, fmt, chosen.shape)


def matrix_variables(path: str | Path) -> list[tuple[str, tuple[int, ...], str]]:
    """The variables of a ``.mat``/``.npz`` file as (name, shape, type), sorted by name.

    The shape is the writer's (MATLAB's for ``.mat``); the type is the MATLAB class (``double``,
    ``cell``, ``sparse``…) or the NumPy dtype. Nothing but headers is read. Single-array formats
    (``.npy``, text) have no variables: ``[]``.
    """
    path = Path(path)
    family, _, _ = format_family(path)
    check_file(path)
    if family in ("npy", "csv"):
        return []
    fmt = container_format(path, family)
    return [(v.name, v.shape, v.dtype) for v in _list(path, fmt)]


def _list(path: Path, fmt: MatrixFormat) -> list[Variable]:
    if fmt in ("mat4", "mat5"):
        variables = list_mat5(path, fmt)
    elif fmt == "mat73":
        variables = list_mat73(path)
    else:
        variables = list_npz(path)
    hidden = [v for v in variables if not (v.name.startswith("__") and v.name.endswith("__"))]
    return sorted(hidden, key=lambda v: v.name)


def _load(path: Path, fmt: MatrixFormat, chosen: Variable) -> npt.NDArray[Any]:
    if fmt in ("mat4", "mat5"):
        return load_mat5(path, fmt, chosen)
    if fmt == "mat73":
        return load_mat73(path, chosen)
    return load_npz(path, chosen)
