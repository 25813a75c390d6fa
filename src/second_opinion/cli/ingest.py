"""``second-opinion ingest``: turn a corpus's metadata into the canonical corpus table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from second_opinion._typing import IngestLayout
from second_opinion.cli.render import console, err_console, print_json
from second_opinion.ingest.presets import PRESET_NAMES, PRESETS, format_scale, parse_scale

if TYPE_CHECKING:
    from second_opinion.ingest.report import IngestReport


def ingest_command(
    preset: Annotated[
        str,
        typer.Argument(metavar="PRESET", help=f"The corpus: {', '.join(PRESET_NAMES)}."),
    ],
    metadata: Annotated[
        Path,
        typer.Argument(
            metavar="METADATA",
            help=(
                "The corpus's metadata table (netflix-public: its VMAF dataset .py file; "
                "bvi-dvc: the folder of libvmaf JSON logs)."
            ),
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="The table to write: .jsonl, .ndjson, .csv, .tsv (optionally .gz), .parquet.",
        ),
    ],
    id_column: Annotated[
        str | None,
        typer.Option(metavar="COLUMN", help="The clip id column (overrides the preset's)."),
    ] = None,
    mos_column: Annotated[
        str | None,
        typer.Option(metavar="COLUMN", help="The MOS column (overrides the preset's)."),
    ] = None,
    mos_std_column: Annotated[
        str | None,
        typer.Option(metavar="COLUMN", help="A column with the ratings' standard deviation."),
    ] = None,
    n_ratings_column: Annotated[
        str | None,
        typer.Option(metavar="COLUMN", help="A column with the number of ratings."),
    ] = None,
    mos_scale: Annotated[
        str | None,
        typer.Option(
            metavar="LOW,HIGH", help="The rating scale (generic: required; else overrides)."
        ),
    ] = None,
    drop_missing_mos: Annotated[
        bool,
        typer.Option(
            "--drop-missing-mos", help="Drop rows whose MOS is empty or not a number; count them."
        ),
    ] = False,
    allow_out_of_scale: Annotated[
        bool,
        typer.Option(
            "--allow-out-of-scale", help="Keep rows whose MOS lies outside the scale; count them."
        ),
    ] = False,
    layout: Annotated[
        IngestLayout,
        typer.Option(
            help="canonical: the canonical corpus table; original: the original project's "
            "corpus JSONL (*_to_corpus_jsonl.py), for the presets it converts."
        ),
    ] = "canonical",
    corpus_version: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT",
            help="With --layout original: the corpus_version to record (default: the preset's).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Write the canonical corpus table (clip_id, mos, corpus, mos_min, mos_max, mos_01, …).

    Exit status: 0 written; 2 bad usage or invalid input (a missing column, a row without a
    numeric MOS, a repeated or empty clip id, a MOS outside the scale). Nothing is written on error.
    """
    from second_opinion.ingest.ingest import ingest  # noqa: PLC0415 - DuckDB, on use

    report = ingest(
        preset,
        metadata,
        output,
        id_column=id_column,
        mos_column=mos_column,
        mos_std_column=mos_std_column,
        n_ratings_column=n_ratings_column,
        mos_scale=parse_scale(mos_scale) if mos_scale is not None else None,
        drop_missing_mos=drop_missing_mos,
        allow_out_of_scale=allow_out_of_scale,
        layout=layout,
        corpus_version=corpus_version,
    )
    if as_json:
        print_json({"ok": True} | report.to_dict())
        return
    print_report(report)


def print_report(report: IngestReport) -> None:
    """The summary of an ingest for people: what was read, how, and what was written."""
    low, high = report.mos_scale
    table = Table(title=f"ingest {report.preset}", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("corpus", f"{PRESETS[report.preset].title} ({report.preset})")
    table.add_row("metadata", str(report.metadata))
    table.add_row("clip id", f"{report.id_column} → clip_id")
    if report.score_kind == "dmos":
        how = f"{low + high:g} − DMOS"
    elif PRESETS[report.preset].source == "vmaf-dataset" and report.mos_column == "os":
        how = "mean of the ratings"
    else:
        how = "as given"
    table.add_row("MOS", f"{report.mos_column} → mos ({how})")
    table.add_row(
        "scale", f"{format_scale(report.mos_scale)}; mos_01 = (mos − {low:g}) / {high - low:g}"
    )
    table.add_row("rows", f"{report.rows} written, {report.dropped} dropped")
    console.print(table)
    if report.dropped:
        shown = "; ".join(f"{d.where}: {d.reason}" for d in report.dropped_rows)
        more = " …" if report.dropped > len(report.dropped_rows) else ""
        err_console.print(
            f"warning: dropped {report.dropped} rows without a numeric MOS "
            f"(--drop-missing-mos): {shown}{more}",
            markup=False,
        )
    if report.out_of_scale:
        err_console.print(
            f"warning: kept {report.out_of_scale} rows whose MOS lies outside "
            f"{format_scale(report.mos_scale)} (--allow-out-of-scale); their mos_01 leaves [0, 1]",
            markup=False,
        )
    console.print(
        f"wrote {report.rows} rows x {len(report.columns)} columns to {report.output}",
        markup=False,
    )
