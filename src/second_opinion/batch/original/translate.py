"""One table of an original manifest as a native :class:`JoinSpec` (docs/migrating.md).

The base is ``features``, its key ``key_column`` or the first candidate column the table has
(case-insensitive); each ``scores`` entry is a sidecar of wrapper records named by its label (or,
without one, by its file's stem, and then every row must name its competitor). The dialect's
options map onto the sidecar's: ``key_normalize`` onto ``normalize_keys``, ``missing_policy`` onto
``on_missing``, ``prefix`` P onto ``"{P}_{scorer}_"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from second_opinion._typing import KeyNormalization, OnMissing
from second_opinion.batch.original.load import OriginalTable
from second_opinion.batch.original.models import KeyNormalize, MissingPolicy, TableConfig
from second_opinion.errors import ColumnNotFoundError
from second_opinion.join.spec import SLUG, JoinSpec, build_join_spec, scorer_slug
from second_opinion.join.wrapper import KEY_FIELDS
from second_opinion.tables.formats import connect
from second_opinion.tables.reading import open_table

NORMALIZE_STEPS: dict[KeyNormalize, tuple[KeyNormalization, ...]] = {
    "raw": ("strip",),
    "basename": ("strip", "basename"),
    "stem": ("strip", "basename", "stem"),
    "auto": ("strip", "auto"),
}
ON_MISSING: dict[MissingPolicy, OnMissing] = {"mark": "mark", "drop": "drop", "fail": "error"}
SUFFIXES = ("score", "status", "runtime_ms", "frames", "source")
"""The output columns of each competitor, after ``<prefix>_<competitor slug>_``."""


def feature_columns(features: Path) -> tuple[str, ...]:
    """The feature table's columns (from its header and DuckDB's sample)."""
    con = connect()
    try:
        return open_table(con, features).columns
    finally:
        con.close()


def key_column(features: Path, columns: Sequence[str], options: TableConfig) -> str:
    """``key_column`` if the table has it, else the first candidate it has (case-insensitive)."""
    if options.key_column is not None:
        if options.key_column not in columns:
            msg = (
                f"{features}: key_column {options.key_column!r} is not a column "
                f"(columns: {', '.join(columns)}); fix key_column"
            )
            raise ColumnNotFoundError(msg)
        return options.key_column
    by_lower = {c.lower(): c for c in reversed(columns)}
    for candidate in KEY_FIELDS:
        if candidate in by_lower:
            return by_lower[candidate]
    msg = (
        f"{features}: no key column found (tried {', '.join(KEY_FIELDS)}; "
        f"columns: {', '.join(columns)}); set key_column"
    )
    raise ColumnNotFoundError(msg)


def column_prefix(options: TableConfig) -> str:
    """The native prefix of the table's output columns: ``"{P}_{scorer}_"``."""
    return f"{options.prefix}_{{scorer}}_"


def native_scorer(label: str) -> str:
    """A label as a native scorer name: as is, lower-cased, or as its slug (``Q-Align v2`` ->
    ``q_align_v2``) — whichever is a native name first; its columns are the same either way."""
    for name in (label, label.lower()):
        if SLUG.match(name):
            return name
    return scorer_slug(label)


def sidecar_fields(
    table: OriginalTable, *, on_missing: OnMissing | None = None
) -> list[dict[str, Any]]:
    """The native sidecar fields of each ``scores`` entry; ``on_missing`` replaces the one
    ``missing_policy`` maps to."""
    options = table.options
    sidecars: list[dict[str, Any]] = []
    for source in table.scores:
        fields: dict[str, Any] = {
            "path": source.path,
            "scorer": native_scorer(source.label or source.path.stem),
            "records": "wrapper",
            "normalize_keys": NORMALIZE_STEPS[options.key_normalize],
            "on_missing": on_missing or ON_MISSING[options.missing_policy],
            "prefix": column_prefix(options),
            # The original writes every row whatever matched (mark: status 'missing').
            "allow_no_match": True,
        }
        if source.label is None:
            fields["scorer_fallback"] = False
        if options.score_key_field is not None:
            fields["key_field"] = options.score_key_field
        if options.score_field is not None:
            fields["score_field"] = options.score_field
        sidecars.append(fields)
    return sidecars


def table_spec(
    table: OriginalTable, *, on_missing: OnMissing | None = None
) -> tuple[JoinSpec, str]:
    """The table's join spec and its key column; ``on_missing`` as for :func:`sidecar_fields`."""
    columns = feature_columns(table.features)
    key = key_column(table.features, columns, table.options)
    sidecars = sidecar_fields(table, on_missing=on_missing)
    return build_join_spec(features=table.features, key=(key,), sidecars=sidecars), key
