"""Writing a dialect table where the manifest names it, atomically, in the original's formats.

``.jsonl``/``.ndjson``: one JSON object a line, keys sorted (Python's ``json.dumps(row,
sort_keys=True)``), NaN and infinities as ``null``. ``.json``: ``{"rows": [...]}``, indent 2,
keys sorted, no trailing newline (as the original writes it). Any other suffix (``.parquet``,
``.csv``, …): as the native join writes it. The folder is created if needed.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from second_opinion.batch.original.reports import write_text
from second_opinion.errors import InputError
from second_opinion.tables.formats import connect
from second_opinion.tables.writing import write_query

if TYPE_CHECKING:
    import pyarrow as pa

JSON_LINES = (".jsonl", ".ndjson")


def _cell(value: object) -> object:
    """A value as JSON holds it: NaN and infinities as null, nested values cell by cell."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cell(v) for v in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return value


def rows_of(table: pa.Table) -> list[dict[str, object]]:
    """The table's rows as JSON-ready dicts."""
    return [{k: _cell(v) for k, v in row.items()} for row in table.to_pylist()]


def table_text(table: pa.Table, suffix: str) -> str:
    """The text of a ``.jsonl``/``.ndjson`` or ``.json`` table."""
    rows = rows_of(table)
    if suffix in JSON_LINES:
        return "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    return json.dumps({"rows": rows}, indent=2, sort_keys=True)


def write_table(table: pa.Table, output: Path) -> None:
    """Write ``table`` to ``output`` atomically, in the format its suffix names."""
    suffix = output.suffix.lower()
    if suffix in (*JSON_LINES, ".json"):
        write_text(output, table_text(table, suffix))
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{output}: cannot create its folder ({exc.strerror or exc})"
        raise InputError(msg) from None
    con = connect()
    try:
        con.register("joined", table)
        write_query(con, "SELECT * FROM joined", output)
    finally:
        con.close()
