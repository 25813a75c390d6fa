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
