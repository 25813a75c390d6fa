"""One join's private DuckDB connection and scratch folder, closed together.

Every join runs in its own in-memory connection (:func:`second_opinion.tables.formats.connect`),
spilling to a shared folder under the system's temporary directory; a score matrix is written as
a table into a private scratch folder, created on first use and removed with the session.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb

from second_opinion.join.spelling import PYTHON, Spelling
from second_opinion.tables.formats import Engine, connect

SPILL_FOLDER = "second-opinion-spill"
"""The folder, under the system's temporary directory, DuckDB spills to."""


class JoinSession:
    """One join's DuckDB connection (``con``) and scratch folder, and how its caller spells
    the options (``spelling``, for messages); a context manager."""

    def __init__(self, engine: Engine | None = None, spelling: Spelling = PYTHON) -> None:
        self.spelling = spelling
        spill = Path(tempfile.gettempdir()) / SPILL_FOLDER
        self.con = connect(engine, temp_directory=str(spill))
        # Under a memory limit, quantile pooling runs in passes (see second_opinion.join.passes).
        self.limited = engine is not None and engine.memory_limit is not None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def scratch(self) -> Path:
        """A private folder for intermediate files, removed with the session."""
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="second-opinion-")
        return Path(self._scratch.name)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.con.close()
        if self._scratch is not None:
            self._scratch.cleanup()


def first_row(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[object] = ()
) -> tuple[Any, ...] | None:
    """The first row of ``query``, reading the result to its end (DuckDB needs that)."""
    rows = con.execute(query, list(params)).fetchall()
    return tuple(rows[0]) if rows else None


def scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    """The first value of ``query`` as an integer; 0 for no row or a null."""
    row = first_row(con, query)
    return int(row[0]) if row and row[0] is not None else 0
