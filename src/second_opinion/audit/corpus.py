"""Corpus tables as the audit sees them: MOS and numeric columns, plus what provenance says.

A corpus is one table file in any format the joiner reads. Its name is the provenance's job name
when the table was written by ``second-opinion batch``, else the file stem; ``NAME=PATH`` sets it.
Rows whose MOS is missing are dropped (and counted); every numeric column is read as float64 with
NULL as NaN. The provenance record beside the file (if any) gives the corpus's key columns and,
per scorer, its column prefix and ``higher_is_better``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from second_opinion.errors import InputError, UsageError
from second_opinion.provenance import ProvenanceUnreadable, read_record
from second_opinion.tables.diagnosis import explain_scan_error
from second_opinion.tables.files import TableFile
from second_opinion.tables.formats import connect, table_stem
from second_opinion.tables.memory import MemoryTable, TablePath, file_of
from second_opinion.tables.reading import numeric_columns, open_table, scan_sql

FloatArray = npt.NDArray[np.float64]
MIN_ROWS = 10
"""The fewest rows with a MOS an audited corpus may have."""


@dataclass(frozen=True)
class Scorer:
    """A scorer whose columns are in the table, as the provenance records it."""

    name: str
    prefix: str
    higher_is_better: bool


@dataclass(frozen=True)
class Corpus:
    """One corpus table, read for the audit.

    ``columns`` maps every numeric column but MOS to its values, in file order, over the rows
    that have a MOS; ``mos`` holds those MOS values.
    """

    name: str
    path: TablePath
    """The table's file, or the in-memory table given."""
    mos_column: str
    mos: FloatArray
    columns: dict[str, FloatArray]
    rows: int
    """Rows in the file, with or without a MOS."""
    key: tuple[str, ...] = ()
    """The key columns, from the provenance."""
    scorers: tuple[Scorer, ...] = ()
    provenance_note: str | None = None
    """Why the provenance could not be used, when a record exists but is unreadable."""
    notes: tuple[str, ...] = field(default=())
    names: tuple[str, ...] = ()
    """Every column of the file, numeric or not, in file order."""
    every_row: dict[str, FloatArray] = field(default_factory=dict)
    """Every numeric column, MOS included, over every row of the file."""

    @property
    def n(self) -> int:
        """Rows with a MOS."""
        return int(self.mos.size)

    @property
    def table_columns(self) -> tuple[str, ...]:
        """:attr:`names`; for a corpus built without a file, MOS and the numeric columns."""
        return self.names or (self.mos_column, *self.columns)

    @property
    def table_values(self) -> dict[str, FloatArray]:
        """:attr:`every_row`; for a corpus built without a file, its rows with a MOS."""
        return self.every_row or {self.mos_column: self.mos, **self.columns}


def parse_table_argument(argument: str) -> tuple[str | None, Path]:
    """``NAME=PATH`` or ``PATH`` → (name or None, path). A path containing '=' needs a name."""
    name, sep, path = argument.partition("=")
    if sep and name and "/" not in name and path:
        return name, Path(path)
    return None, Path(argument)


def load_corpus(
    path: str | Path | MemoryTable,
    mos: str,
    *,
    name: str | None = None,
    min_rows: int = MIN_ROWS,
) -> Corpus:
    """Read ``path`` for the audit: its MOS column ``mos`` and every numeric column.

    An in-memory table (:class:`MemoryTable`) has no provenance record; it needs ``name``.

    Raises :class:`InputError` when the file cannot be read, has no column ``mos`` (the message
    lists the columns and numeric ones first), a MOS value is not a number (file, line, value),
    or fewer than ``min_rows`` rows have a MOS.
    """
    path = path if isinstance(path, MemoryTable) else Path(path)
    record, note = _provenance(path) if isinstance(path, Path) else (None, None)
    with connect() as con:
        table = open_table(con, path)
        _require_mos(con, table, mos)
        numeric = [c for c in numeric_columns(con, table) if c != mos]
        wanted = [mos, *numeric]
        # true/false columns count as numbers (1/0) for the family figures only, as in pandas
        flags = [c for c in table.columns if c not in wanted and table.type_of(c) == "BOOLEAN"]
        query = scan_sql(table, text=(), numbers=wanted, others=flags)
        try:
            arrow = con.sql(query).to_arrow_table()
        except duckdb.Error as exc:
            raise explain_scan_error(table, exc, numbers=wanted) from None
    values = {column: _floats(arrow.column(column)) for column in wanted}
    flag_values = {column: _floats(arrow.column(column)) for column in flags}
    mos_values = values.pop(mos)
    keep = np.isfinite(mos_values)
    notes = []
    dropped = int(keep.size - keep.sum())
    if dropped:
        notes.append(f"{dropped} of {keep.size} rows have no finite {mos!r} and are left out")
    if int(keep.sum()) < min_rows:
        msg = (
            f"{path}: only {int(keep.sum())} rows have a {mos!r} value (of {keep.size}); "
            f"the audit needs at least {min_rows}. Pass a larger corpus table."
        )
        raise InputError(msg)
    corpus_name = name or _job_name(record) or table_stem(file_of(path))
    return Corpus(
        name=corpus_name,
        path=path,
        mos_column=mos,
        mos=mos_values[keep],
        columns={column: array[keep] for column, array in values.items()},
        rows=int(keep.size),
        key=_key(record),
        scorers=_scorers(record),
        provenance_note=note,
        notes=tuple(notes),
        names=tuple(table.columns),
        every_row={mos: mos_values, **values, **flag_values},
    )


def _floats(column: pa.ChunkedArray) -> FloatArray:
    """A column as float64, null as NaN (true/false as 1/0)."""
    as_float = pc.cast(column, pa.float64())
    return np.asarray(as_float.to_numpy(zero_copy_only=False), dtype=np.float64)


def check_names(corpora: Sequence[Corpus]) -> None:
    """Corpus names must differ: they key the report."""
    seen: dict[str, TablePath] = {}
    for corpus in corpora:
        if corpus.name in seen:
            msg = (
                f"two corpora are both named {corpus.name!r} ({seen[corpus.name]} and "
                f"{corpus.path}); name them with NAME=PATH"
            )
            raise UsageError(msg)
        seen[corpus.name] = corpus.path


_NESTED = ("STRUCT", "MAP", "UNION")


def _require_mos(con: duckdb.DuckDBPyConnection, table: TableFile, mos: str) -> None:
    if mos in table.columns:
        kind = table.type_of(mos).upper()
        if kind.startswith(_NESTED) or kind.endswith("]"):
            shown = kind if len(kind) <= 40 else kind[:39] + "…"
            msg = (
                f"{table.path}: the MOS column {mos!r} holds nested values ({shown}), not "
                "numbers; pass the MOS column with --mos"
            )
            raise InputError(msg)
        return
    lowered = [c for c in table.columns if c.lower() == mos.lower()]
    hint = f" (did you mean {lowered[0]!r}?)" if lowered else ""
    numeric = numeric_columns(con, table)
    msg = (
        f"{table.path}: no MOS column {mos!r}{hint}; numeric columns: "
        f"{', '.join(numeric) or '(none)'}. Pass the MOS column with --mos."
    )
    raise InputError(msg)


def _provenance(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return read_record(path.absolute()), None
    except ProvenanceUnreadable as exc:
        reason = str(exc)
        return None, None if reason == "no provenance" else f"{reason}; ignored"


def _job_name(record: dict[str, Any] | None) -> str | None:
    if record is None:
        return None
    name = record["job"].get("name")
    return name if isinstance(name, str) and name else None


def _key(record: dict[str, Any] | None) -> tuple[str, ...]:
    if record is None:
        return ()
    spec = record["job"].get("spec")
    key = spec.get("key") if isinstance(spec, dict) else None
    return tuple(str(k) for k in key) if isinstance(key, list) else ()


def _scorers(record: dict[str, Any] | None) -> tuple[Scorer, ...]:
    if record is None:
        return ()
    spec = record["job"].get("spec")
    sidecars = spec.get("sidecars") if isinstance(spec, dict) else None
    found = []
    with contextlib.suppress(AttributeError, TypeError, KeyError):
        for sidecar in sidecars or ():
            scorer = str(sidecar["scorer"])
            prefix = sidecar.get("prefix")
            found.append(
                Scorer(
                    name=scorer,
                    prefix=str(prefix) if prefix is not None else f"so_{scorer}_",
                    higher_is_better=bool(sidecar.get("higher_is_better", True)),
                )
            )
    return tuple(found)
