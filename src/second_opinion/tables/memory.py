"""In-memory tables, given wherever a table file's path is taken (docs/adr/0023).

Anything that exposes the Arrow PyCapsule stream interface (``__arrow_c_stream__``: a pyarrow
Table or RecordBatchReader, a polars DataFrame, a pandas ≥ 2.2 DataFrame, a DuckDB relation) is
read once, when the model holding it is validated, into a :class:`MemoryTable`: a pyarrow Table
is kept as it is (no copy); any other stream is read to its end into one (a stream can be read
once, and a join scans its inputs several times). DuckDB then scans that table in place
(``register``), as it scans a Parquet file: types as stored.

Messages name such a table by the keyword it was given as (``features=<in-memory
pyarrow.Table>``); provenance records it by :attr:`MemoryTable.sha256`, a hash of its content
(:func:`content_sha256`), with ``"source": "memory"`` and no path.

pyarrow is imported when an in-memory table is met, never at start-up.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import weakref
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, runtime_checkable

from pydantic import PlainSerializer, PlainValidator, SerializationInfo, ValidationInfo
from pydantic_core import core_schema

from second_opinion.errors import InternalError, UnreadableFileError

if TYPE_CHECKING:
    import pyarrow as pa
    from pydantic import GetCoreSchemaHandler

HASH_ROWS = 65_536
"""Rows per record batch of the canonical serialisation that :func:`content_sha256` hashes."""

ACCEPTED = (
    "a path, or an in-memory table with the Arrow stream interface (__arrow_c_stream__: a "
    "pyarrow Table or RecordBatchReader, a polars DataFrame, a pandas >= 2.2 DataFrame, a "
    "DuckDB relation)"
)
"""What a table argument may be, as messages say it."""

_VIEWS = itertools.count(1)
_READ_STREAMS: weakref.WeakSet[Any] = weakref.WeakSet()
"""The pyarrow RecordBatchReaders read here: a second read would find them empty."""


@dataclass(frozen=True, eq=False)
class MemoryTable:
    """An in-memory table given where a path could be, read into Arrow.

    ``kind`` is the type it was given as (``pyarrow.Table``, ``polars.DataFrame``); ``keyword``
    how the caller spelled the argument (``features``, ``sidecar 'niqe' path``, ``tables[0]``).
    """

    table: pa.Table
    kind: str
    keyword: str

    @property
    def label(self) -> str:
        """How messages name it: ``features=<in-memory pyarrow.Table>``."""
        return f"{self.keyword}=<in-memory {self.kind}>"

    @cached_property
    def view(self) -> str:
        """The name DuckDB scans it by, once registered on a connection (:func:`register`)."""
        return f"so_memory_{next(_VIEWS)}"

    @property
    def rows(self) -> int:
        """Its number of rows."""
        return int(self.table.num_rows)

    @cached_property
    def sha256(self) -> str:
        """The SHA-256 of its content (:func:`content_sha256`), computed once."""
        return content_sha256(self.table)

    def describe(self) -> dict[str, Any]:
        """What provenance records of it: where it came from, its type, rows and content hash."""
        return {"source": "memory", "kind": self.kind, "rows": self.rows, "sha256": self.sha256}

    def schema_in(self, con: Any) -> list[tuple[str, str]]:  # noqa: ANN401 - a DuckDB connection
        """Register the table on ``con`` (:func:`register`) and return its columns' names and
        DuckDB types; a table DuckDB cannot scan is an :class:`UnreadableFileError`."""
        import duckdb  # noqa: PLC0415 - only when an in-memory table is met

        if not self.table.num_columns:
            msg = f"{self}: the table has no columns"
            raise UnreadableFileError(msg)
        try:
            view = register(con, self)
            rows = con.execute(f'DESCRIBE SELECT * FROM "{view}"').fetchall()
        except duckdb.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            msg = (
                f"{self}: DuckDB cannot scan this table ({reason}); convert the columns it "
                "names to plain types (numbers, strings)"
            )
            raise UnreadableFileError(msg) from None
        return [(str(row[0]), str(row[1])) for row in rows]

    def numbered(self, column: str) -> pa.Table:
        """The table with each row's number, from 0, in one more ``column`` (error paths)."""
        import numpy as np  # noqa: PLC0415 - error paths of in-memory tables only
        import pyarrow as pa  # noqa: PLC0415

        rows = pa.array(np.arange(self.table.num_rows, dtype=np.int64))
        return self.table.append_column(column, rows)

    def __str__(self) -> str:
        return self.label

    @classmethod
    def __get_pydantic_core_schema__(
        cls,
        source: type[Any],
        handler: GetCoreSchemaHandler,
    ) -> core_schema.CoreSchema:
        """An instance passes pydantic as it is (a model holding one is copied or rebuilt)."""
        return core_schema.is_instance_schema(cls)


TablePath = Path | MemoryTable
"""A table as the library holds it: a file, or an in-memory table."""


@runtime_checkable
class ArrowStream(Protocol):
    """Anything with the Arrow PyCapsule stream interface (pyarrow, polars, pandas >= 2.2,
    DuckDB relations, …)."""

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:  # noqa: ANN401
        ...


TableArgument = str | os.PathLike[str] | ArrowStream
"""A table as the library takes it: a path, or an in-memory table."""


def file_of(source: TablePath) -> Path:
    """The file of a table argument that can only be a file here (a score matrix, wrapper
    records, a manifest's input: the spec's checks refuse an in-memory table there first)."""
    if isinstance(source, MemoryTable):
        msg = f"{source}: an in-memory table reached a reader of files"
        raise InternalError(msg)
    return source


def is_arrow_stream(value: object) -> bool:
    """Whether ``value`` exposes the Arrow PyCapsule stream interface."""
    return callable(getattr(type(value), "__arrow_c_stream__", None))


def kind_of(value: object) -> str:
    """A type's name as users write it: ``pyarrow.Table``, ``polars.DataFrame``,
    ``duckdb.DuckDBPyRelation`` (the top-level package and the class)."""
    kind = type(value)
    package = kind.__module__.split(".")[0].lstrip("_")
    return f"{package}.{kind.__qualname__}" if package != "builtins" else kind.__qualname__


def not_a_table(value: object) -> str:
    """The message for an argument that is neither a path nor an Arrow stream."""
    kind = kind_of(value)
    hint = ""
    if kind.startswith("pandas."):
        hint = (
            "; pandas before 2.2 has no Arrow stream: upgrade pandas, or pass "
            "pyarrow.Table.from_pandas(df, preserve_index=False)"
        )
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return f"expected {ACCEPTED}, not {article} {kind}{hint}"


def read_arrow(value: object, keyword: str) -> MemoryTable:
    """Read ``value`` (an Arrow stream) into a :class:`MemoryTable` named by ``keyword``.

    A pyarrow Table is kept as it is; any other stream is read to its end. A pyarrow
    RecordBatchReader read here before is refused (it would read as empty). Raises
    :class:`ValueError` (pydantic reports it at the field) when the stream cannot be read.
    """
    import pyarrow as pa  # noqa: PLC0415 - only when an in-memory table is met

    kind = kind_of(value)
    if isinstance(value, pa.Table):
        return MemoryTable(value, kind, keyword)
    if isinstance(value, pa.RecordBatchReader):
        if value in _READ_STREAMS:
            msg = (
                f"this {kind} was read already, by an earlier call: a stream can be read once "
                "(read again, it is empty); pass reader.read_all(), a pyarrow.Table, to use "
                "the same data more than once"
            )
            raise ValueError(msg)
        _READ_STREAMS.add(value)
    try:
        table = pa.RecordBatchReader.from_stream(value).read_all()
    except (pa.ArrowException, TypeError, ValueError) as exc:
        msg = f"cannot read the Arrow stream of the {kind} ({exc}); pass a pyarrow.Table"
        raise ValueError(msg) from None
    return MemoryTable(table, kind, keyword)


def table_path(value: object, keyword: str) -> TablePath:
    """A table argument as the library holds it: a :class:`~pathlib.Path` for a ``str`` or
    path-like, a :class:`MemoryTable` for an Arrow stream (a MemoryTable given again is kept).
    Raises :class:`ValueError` for anything else, saying what is accepted."""
    if isinstance(value, MemoryTable):
        return value
    if isinstance(value, str | os.PathLike):
        return Path(value)
    if is_arrow_stream(value):
        return read_arrow(value, keyword)
    raise ValueError(not_a_table(value))


def _validate(value: object, info: ValidationInfo) -> TablePath:
    """pydantic's validator of a :data:`TableSource` field: the keyword is the field's name,
    a sidecar's (``sidecar 'niqe' path``) when the model has a scorer."""
    keyword = info.field_name or "table"
    scorer = info.data.get("scorer") if isinstance(info.data, dict) else None
    if isinstance(scorer, str):
        keyword = f"sidecar {scorer!r} {keyword}"
    return table_path(value, keyword)


def _serialize(value: TablePath, info: SerializationInfo) -> Any:  # noqa: ANN401 - by mode
    """A path as text in JSON (as pydantic writes a Path); an in-memory table as what provenance
    records of it (:meth:`MemoryTable.describe`). In Python mode, the object itself."""
    if info.mode != "json":
        return value
    return value.describe() if isinstance(value, MemoryTable) else str(value)


TableSource = Annotated[
    TablePath,
    PlainValidator(_validate, json_schema_input_type=str),
    PlainSerializer(_serialize),
]
"""A model field taking a table: a path, or an in-memory table (the JSON Schema says a path)."""


def register(con: Any, memory: MemoryTable) -> str:  # noqa: ANN401 - a DuckDB connection
    """Let ``con`` scan ``memory`` in place (DuckDB's Arrow scan, no copy); its view name."""
    con.register(memory.view, memory.table)
    return memory.view


class _HashSink:
    """A file-like sink for Arrow's IPC writer that hashes what it is given."""

    closed = False

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, data: Any) -> int:  # noqa: ANN401 - a buffer
        view = memoryview(data)
        self.digest.update(view)
        return view.nbytes

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        """Nothing to release."""


def content_sha256(table: pa.Table) -> str:
    """SHA-256 of ``table``'s canonical serialisation: the same for the same column names,
    types and values, however the table is chunked or sliced and whoever produced it, in any run.

    The serialisation is Arrow's IPC stream format of :func:`canonical_table`, in record batches
    of :data:`HASH_ROWS` rows, each freshly concatenated so that no slice offset or spare buffer
    capacity reaches the bytes. Types count: the same values as ``large_string`` and as
    ``string`` hash differently (a different hash makes a job stale, never a changed table look
    unchanged).
    """
    import pyarrow as pa  # noqa: PLC0415 - only when an in-memory table is met

    plain = canonical_table(table)
    empty = plain.schema.empty_table()
    sink = _HashSink()
    with pa.ipc.new_stream(sink, plain.schema) as writer:
        for start in range(0, plain.num_rows, HASH_ROWS):
            part = pa.concat_tables([plain.slice(start, HASH_ROWS), empty]).combine_chunks()
            for batch in part.to_batches():
                writer.write_batch(batch)
    return sink.digest.hexdigest()


def canonical_table(table: pa.Table) -> pa.Table:
    """``table`` as :func:`content_sha256` serialises it: schema and field metadata left out
    (pandas' index notes, polars' flags: nothing a join reads), dictionary columns decoded, and
    each column of a plain type that holds nulls split in two: its values with every null
    filled (with 0, "" or false) and, after it, whether each value is valid (a column named
    ""). So the bytes under a null and the padding bits of a validity bitmap, which producers
    leave as they like (DuckDB sets them), never reach the hash; nested columns keep their
    nulls as they are. View columns (polars' strings) hash as the large type of the same values:
    a view's buffers lay the values out as its producer chose."""
    import pyarrow as pa  # noqa: PLC0415 - only when an in-memory table is met
    import pyarrow.compute as pc  # noqa: PLC0415

    fields: list[pa.Field] = []
    columns: list[pa.ChunkedArray] = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_dictionary(field.type):
            column = column.cast(field.type.value_type)  # noqa: PLW2901 - decoded in place
        if pa.types.is_string_view(column.type) or pa.types.is_binary_view(column.type):
            column = column.cast(_VIEW_AS[str(column.type)])  # noqa: PLW2901 - as values
        zero = _zero(column.type)
        if column.null_count and zero is not None:
            fields += [pa.field(field.name, column.type, False), pa.field("", pa.bool_(), False)]
            columns += [pc.fill_null(column, zero), pc.is_valid(column)]
        else:
            fields.append(pa.field(field.name, column.type, field.nullable))
            columns.append(column)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


_VIEW_AS = {"string_view": "large_string", "binary_view": "large_binary"}
"""The type a view column is hashed as (:func:`canonical_table`)."""


def _zero(kind: pa.DataType) -> pa.Scalar | None:
    """The value a null of a plain type is filled with in :func:`canonical_table` (None for a
    type without one: nested and temporal types keep their nulls)."""
    import pyarrow as pa  # noqa: PLC0415 - only when an in-memory table is met

    types = pa.types
    if types.is_boolean(kind):
        return pa.scalar(False, kind)
    if types.is_string(kind) or types.is_large_string(kind) or types.is_string_view(kind):
        return pa.scalar("", kind)
    if types.is_binary(kind) or types.is_large_binary(kind) or types.is_binary_view(kind):
        return pa.scalar(b"", kind)
    if types.is_integer(kind) or types.is_floating(kind) or types.is_decimal(kind):
        return pa.scalar(0, kind)
    return None
