"""Headerless text matrices: ``.csv``, ``.tsv`` and ``.txt``, each optionally gzip-compressed.

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
blank lines are skipped. The source shape is (lines, values per line).
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from second_opinion.errors import SchemaError, UnreadableFileError

TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
"""The delimiter of each text suffix; ``None``: commas or whitespace, from the first line."""


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


def read_text(
    path: Path, delimiter: str | None, compressed: bool
) -> tuple[npt.NDArray[Any], tuple[int, int]]:
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rt", encoding="utf-8-sig") as handle:
            lines = handle.read().splitlines()
    except UnicodeDecodeError as exc:
        msg = f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the matrix as text"
        raise UnreadableFileError(msg) from None
    except (OSError, EOFError) as exc:
        msg = f"{path}: cannot read ({exc}); the file is truncated or corrupt"
        raise UnreadableFileError(msg) from None
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        msg = f"{path}: no rows (the file holds only blank lines); write one row per clip"
        raise SchemaError(msg)
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
            raise SchemaError(msg)
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
            raise SchemaError(msg)
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
        raise SchemaError(msg)
    return np.array(rows, dtype=np.float64), (len(rows), width)


def _values(count: int) -> str:
    return f"{count} value" if count == 1 else f"{count} values"


def _not_a_number(path: Path, number: int, column: int, cell: str, *, header: bool) -> SchemaError:
    if header:
        return SchemaError(
            f"{path} line {number}, column {column}: {cell!r} is not a number; a matrix file "
            "holds numbers only, with no header row: remove the header (or add a key column "
            "and read the file as a keyed table)"
        )
    return SchemaError(
        f"{path} line {number}, column {column}: {cell!r} is not a number; write numbers only "
        "(an empty cell or nan marks a missing value)"
    )
