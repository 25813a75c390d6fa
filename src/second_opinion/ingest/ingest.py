"""Corpus ingest: a corpus's published metadata in, the canonical corpus table out.

The canonical table (:mod:`~second_opinion.ingest.canonical`) has, in this order: ``clip_id``,
``mos`` (higher is better), ``mos_std`` and ``n_ratings`` when the source has them, ``corpus``,
``mos_min``, ``mos_max``, ``mos_01``, then every other source column in source order (see
docs/adr/0005-canonical-corpus-table.md).

Everything is read once into one private in-memory DuckDB connection, checked (MOS, ids,
duplicates, scale), and only then written, atomically: on any error nothing is left at the output.
The steps are modules of their own: the options (:mod:`~second_opinion.ingest.options`), loading
a metadata table (:mod:`~second_opinion.ingest.table_source`) or a VMAF dataset file
(:mod:`~second_opinion.ingest.dataset_source`), the checks (:mod:`~second_opinion.ingest.checks`),
the canonical query (:mod:`~second_opinion.ingest.canonical`) and the report
(:mod:`~second_opinion.ingest.report`).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

from second_opinion._typing import IngestLayout
from second_opinion.errors import UsageError
from second_opinion.ingest.canonical import canonical_query
from second_opinion.ingest.checks import check_clashes, check_ids, check_scale
from second_opinion.ingest.dataset_source import load_dataset
from second_opinion.ingest.options import IngestOptions, build_ingest_options
from second_opinion.ingest.original import write_original
from second_opinion.ingest.presets import PRESETS, Preset
from second_opinion.ingest.report import IngestReport
from second_opinion.ingest.table_source import load_table
from second_opinion.ingest.vmaf_json_source import load_vmaf_logs
from second_opinion.tables.formats import connect, same_file
from second_opinion.tables.memory import TableArgument
from second_opinion.tables.writing import output_format, write_query


def ingest(
    preset: str,
    metadata: TableArgument,
    output: str | Path,
    *,
    id_column: str | None = None,
    mos_column: str | None = None,
    mos_std_column: str | None = None,
    n_ratings_column: str | None = None,
    mos_scale: tuple[float, float] | None = None,
    drop_missing_mos: bool = False,
    allow_out_of_scale: bool = False,
    layout: IngestLayout = "canonical",
    corpus_version: str | None = None,
) -> IngestReport:
    """Read a corpus's metadata with ``preset`` and write the canonical corpus table to ``output``.

    ``metadata`` is the metadata file's path, or for a preset that reads a table, an in-memory
    table (anything with the Arrow stream interface: a pyarrow Table, a polars or pandas >= 2.2
    DataFrame, a DuckDB relation; docs/corpora.md).

    ``id_column``/``mos_column`` override the preset's column names (``generic`` needs both and
    ``mos_scale``); ``mos_std_column``/``n_ratings_column`` name optional columns with the
    ratings' standard deviation and count. ``mos_scale`` overrides the preset's scale.
    ``drop_missing_mos`` drops rows whose MOS is empty or not a finite number instead of
    refusing them; ``allow_out_of_scale`` keeps rows whose MOS lies outside the scale.
    ``layout="original"`` writes the original project's corpus JSONL instead of the canonical
    table (``corpus_version`` then overrides the version it records; docs/corpora.md).

    Raises :class:`UsageError` for options that do not fit, and an ``InputError`` subclass (see
    ``second_opinion.ingest.errors``) for input that is invalid. Nothing is written on error.
    """
    options = build_ingest_options(
        preset=preset,
        metadata=metadata,
        output=output,
        id_column=id_column,
        mos_column=mos_column,
        mos_std_column=mos_std_column,
        n_ratings_column=n_ratings_column,
        mos_scale=mos_scale,
        drop_missing_mos=drop_missing_mos,
        allow_out_of_scale=allow_out_of_scale,
        layout=layout,
        corpus_version=corpus_version,
    )
    return ingest_with(options)


def ingest_with(options: IngestOptions) -> IngestReport:
    """:func:`ingest` with options already validated."""
    output_format(options.output)  # an unwritable suffix fails before anything is read
    if isinstance(options.metadata, Path) and same_file(options.metadata, options.output):
        msg = f"{options.output}: the output is the metadata file itself; write to another file"
        raise UsageError(msg)
    with _Ingester(options) as ingester:
        return ingester.run()


class _Ingester:
    """One ingest, in one private in-memory DuckDB connection."""

    def __init__(self, options: IngestOptions) -> None:
        self.options = options
        self.preset: Preset = PRESETS[options.preset]
        self.con = connect()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.con.close()

    def run(self) -> IngestReport:
        options, preset = self.options, self.preset
        if preset.source == "vmaf-dataset":
            source = load_dataset(self.con, options)
        elif preset.source == "vmaf-json-dir":
            source = load_vmaf_logs(self.con, options)
        else:
            source = load_table(self.con, options, preset)
        check_clashes(source)
        check_ids(self.con, source)
        out_of_scale = check_scale(self.con, source, preset.name, allow=options.allow_out_of_scale)
        if options.layout == "original":
            rows, columns = write_original(
                self.con,
                source,
                preset=preset.name,
                output=options.output,
                corpus_version=options.corpus_version,
            )
        else:
            query = canonical_query(source, preset.name)
            described = self.con.execute(f"DESCRIBE {query}").fetchall()
            columns = tuple(str(r[0]) for r in described)
            rows = write_query(self.con, query, options.output)
        return IngestReport(
            preset=preset.name,
            metadata=options.metadata,
            output=options.output,
            rows=rows,
            dropped=source.dropped,
            dropped_rows=source.dropped_rows,
            out_of_scale=out_of_scale,
            mos_scale=source.scale,
            score_kind=source.kind,
            id_column=source.id_column,
            mos_column=source.mos_column,
            columns=columns,
        )
