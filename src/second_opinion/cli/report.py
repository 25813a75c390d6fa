"""``second-opinion report``: the batch report (one HTML page) of an existing ``output_dir``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from second_opinion.cli.render import console, print_json

if TYPE_CHECKING:
    from second_opinion.batch.report.model import BatchReport

REPORT_SPELLING = {"out": "--out"}


def report_line(report: BatchReport, path: Path) -> str:
    """``batch report: PATH (3 jobs: 2 built, 1 failed)``."""
    counts = Counter(job.status or "no run summary" for job in report.jobs)
    statuses = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"batch report: {path} ({len(report.jobs)} jobs: {statuses})"


def report_command(
    output_dir: Annotated[
        Path, typer.Argument(help="A batch's output_dir (where its runs/ folder is).")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the page here (default: OUTPUT_DIR/report.html)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print what the page shows, as JSON.")
    ] = False,
) -> None:
    """Write the batch report of OUTPUT_DIR: one self-contained HTML page.

    The job graph, a corpus x scorer coverage matrix, each job's status, unmatched keys with
    their diagnosis and provenance, the audit's reports: from the run summaries, provenance
    records and hash cache a batch leaves there, without the manifest; nothing is run.

    Exit status: 0 written; 2 OUTPUT_DIR holds no batch, or the page cannot be written there.
    """
    from second_opinion.batch.report.build import build_batch_report  # noqa: PLC0415
    from second_opinion.batch.report.write import write_batch_report  # noqa: PLC0415

    report = build_batch_report(output_dir)
    written = write_batch_report(report, out, spelling=REPORT_SPELLING)
    if as_json:
        print_json({"report": str(written), **report.to_dict()})
    else:
        console.print(report_line(report, written), markup=False)
