"""Errors of corpus ingest. Each is an :class:`~second_opinion.errors.InputError` (exit 2), and
also one of the package's error kinds where one fits (``second_opinion.errors``)::

    InputError                  (second_opinion.errors)
    └── IngestError             base of the ingest errors; never raised directly
        ├── ColumnNotFoundError   also errors.ColumnNotFoundError: the id or MOS column is not
        │                         in the metadata table
        ├── ColumnClashError      a kept source column has the name of a canonical column
        ├── MissingMosError       also SchemaError: a row's MOS is empty or not a finite number
        ├── MissingIdError        also KeyProblemError: a row's clip id is empty
        ├── DuplicateIdError      also KeyProblemError: two rows have the same clip id
        ├── ScaleError            also SchemaError: a MOS lies outside the corpus's scale
        ├── UnsafeDatasetError    a VMAF dataset file holds code, or builds values too large
        └── DatasetFormatError    also SchemaError: a VMAF dataset file lacks dis_videos or an
                                  entry's fields

So ``except KeyProblemError`` catches a duplicate clip id from ingest as it does from a join.
Options that make no sense are a :class:`~second_opinion.errors.UsageError` (also exit 2).
Messages name the file, the line or row, the column, the value and the fix.
"""

from __future__ import annotations

from second_opinion import errors
from second_opinion.errors import InputError, KeyProblemError, SchemaError


class IngestError(InputError):
    """Base of the errors corpus ingest raises on purpose."""


class ColumnNotFoundError(IngestError, errors.ColumnNotFoundError):
    """The id or MOS column is not in the metadata table."""


class ColumnClashError(IngestError):
    """A source column kept as is has the name of a canonical column."""


class MissingMosError(IngestError, SchemaError):
    """A row's MOS is missing or not a finite number (see ``drop_missing_mos``)."""


class MissingIdError(IngestError, KeyProblemError):
    """A row's clip id is empty."""


class DuplicateIdError(IngestError, KeyProblemError):
    """Two rows have the same clip id."""


class ScaleError(IngestError, SchemaError):
    """A MOS lies outside the corpus's scale (see ``allow_out_of_scale``)."""


class UnsafeDatasetError(IngestError):
    """A VMAF dataset file holds something other than literal assignments, or its values
    exceed the size limits (a string or an expansion bomb)."""


class DatasetFormatError(IngestError, SchemaError):
    """A VMAF dataset file lacks ``dis_videos``, or an entry lacks its path or scores."""
