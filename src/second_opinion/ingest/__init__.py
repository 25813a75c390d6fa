"""Corpus ingest: turn a corpus's published metadata into the canonical corpus table.

The public API::

    from second_opinion.ingest import ingest

    report = ingest("konvid-1k", "KONVID_1K_metadata.csv", "konvid-1k.parquet")
    report.rows, report.dropped, report.mos_scale, report.columns

Presets and their sources: docs/corpora.md; the table's shape: docs/adr/0005.
"""

from __future__ import annotations

from second_opinion._typing import PresetName
from second_opinion.ingest.canonical import CANONICAL_COLUMNS
from second_opinion.ingest.errors import (
    ColumnClashError,
    ColumnNotFoundError,
    DatasetFormatError,
    DuplicateIdError,
    IngestError,
    MissingIdError,
    MissingMosError,
    ScaleError,
    UnsafeDatasetError,
)
from second_opinion.ingest.ingest import ingest, ingest_with
from second_opinion.ingest.netflix import DatasetFile, dataset_rows, read_dataset
from second_opinion.ingest.options import IngestOptions, build_ingest_options
from second_opinion.ingest.presets import PRESET_NAMES, PRESETS, Preset, get_preset, parse_scale
from second_opinion.ingest.report import DroppedRow, IngestReport

__all__ = [
    "CANONICAL_COLUMNS",
    "PRESETS",
    "PRESET_NAMES",
    "ColumnClashError",
    "ColumnNotFoundError",
    "DatasetFile",
    "DatasetFormatError",
    "DroppedRow",
    "DuplicateIdError",
    "IngestError",
    "IngestOptions",
    "IngestReport",
    "MissingIdError",
    "MissingMosError",
    "Preset",
    "PresetName",
    "ScaleError",
    "UnsafeDatasetError",
    "build_ingest_options",
    "dataset_rows",
    "get_preset",
    "ingest",
    "ingest_with",
    "parse_scale",
    "read_dataset",
]
