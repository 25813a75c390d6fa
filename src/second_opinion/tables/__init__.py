"""Reading and writing corpus and score tables with DuckDB.

Formats come from the file's suffix: ``.jsonl``/``.ndjson`` (one JSON object per line), ``.csv``,
``.tsv`` (header row), each optionally ``.gz``, and ``.parquet``. A table is first *opened*
(:func:`open_table`: existence, emptiness, duplicate column names, the schema from a sample), then
*scanned* once by a query built with :func:`scan_sql`, which reads key columns as text and score
columns as float64. When a scan fails on a value, :func:`explain_scan_error` re-reads the file in
Python to name the line (JSONL, CSV) or row (Parquet), the column and the value.

The modules: ``formats`` (suffixes, connections, quoting, file paths), ``files`` (an opened
table and its records read back in Python), ``reading`` (opening and scanning), ``diagnosis``
(why a read failed, on the error path), ``writing`` (atomic output).
"""

from second_opinion.tables.diagnosis import (
    csv_structure_error,
    explain_scan_error,
    locate_bad_key,
    not_utf8,
    why_not_numbers,
)
from second_opinion.tables.files import TableFile
from second_opinion.tables.formats import (
    SUPPORTED_SUFFIXES,
    Engine,
    connect,
    file_argument,
    is_numeric_type,
    quote_ident,
    quote_literal,
    same_file,
    table_format,
)
from second_opinion.tables.reading import (
    HEADER_LIMIT,
    infer_column_type,
    open_table,
    scan_sql,
    whole_column_types,
)
from second_opinion.tables.writing import (
    copy_options,
    finite_for_json,
    output_format,
    write_query,
)

__all__ = [
    "HEADER_LIMIT",
    "SUPPORTED_SUFFIXES",
    "Engine",
    "TableFile",
    "connect",
    "copy_options",
    "csv_structure_error",
    "explain_scan_error",
    "file_argument",
    "finite_for_json",
    "infer_column_type",
    "is_numeric_type",
    "locate_bad_key",
    "not_utf8",
    "open_table",
    "output_format",
    "quote_ident",
    "quote_literal",
    "same_file",
    "scan_sql",
    "table_format",
    "whole_column_types",
    "why_not_numbers",
    "write_query",
]
