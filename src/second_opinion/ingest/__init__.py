"""Corpus ingest: turn a corpus's published metadata into the canonical corpus table.

The public API::

    from second_opinion import ingest

    report = ingest("konvid-1k", "KONVID_1K_metadata.csv", "konvid-1k.parquet")
    report.rows, report.dropped, report.mos_scale, report.columns

Presets and their sources: docs/corpora.md; the table's shape: docs/adr/0005.
"""
