"""Sparse matrices made dense, as MATLAB v4, v5 and v7.3 files store them.

MATLAB's implicit entries are exact zeros, so the dense matrix is the same data; one that would
exceed :data:`MAX_DENSE_CELLS` (2**27 cells, 1 GiB) is refused.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from second_opinion.errors import SchemaError
from second_opinion.matrices.core import FloatArray, Variable

MAX_DENSE_CELLS = 2**27
"""The largest sparse matrix densified (cells): 1 GiB of float64."""


def check_dense_size(path: Path, v: Variable) -> None:
    cells = math.prod(v.shape)
    if cells > MAX_DENSE_CELLS:
        msg = (
            f"{path}: variable {v.name!r} ({v.what()}) would need {cells * 8 / 2**30:.1f} GiB "
            f"as a dense matrix (more than {MAX_DENSE_CELLS} cells); save the scores as a full "
            "matrix (full(x)) of the size the corpus needs"
        )
        raise SchemaError(msg)


def dense_from_coo(
    data: object, rows: object, columns: object, shape: tuple[int, ...]
) -> FloatArray:
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


def dense_from_csc(data: object, ir: object, jc: object, shape: tuple[int, ...]) -> FloatArray:
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
    return dense_from_coo(data, ir, columns, shape)
