"""``second-opinion status``: which jobs of a manifest are up to date, stale or failed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from second_opinion.cli.options import ALLOW_OUTSIDE_HELP
from second_opinion.cli.render import console, print_json

if TYPE_CHECKING:
    from second_opinion.batch.status import BatchStatus

_STYLE = {"up-to-date": "green", "stale": "yellow", "failed": "red", "error": "red"}


def status_table(status: BatchStatus) -> Table:
    """One row per job: its state and why."""
    table = Table(title=f"status of {status.manifest}", title_justify="left")
    for header in ("job", "state", "reason", "output"):
        table.add_column(header)
    for job in status.jobs:
        table.add_row(job.name, f"[{_STYLE[job.state]}]{job.state}[/]", job.reason, job.output)
    return table


def status_command(
    manifest: Annotated[Path, typer.Argument(help="The manifest (.json, .yaml).")],
    select: Annotated[
        list[str] | None,
        typer.Option(metavar="SELECTOR", help="These jobs: names, globs, +job, job+."),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(metavar="SELECTOR", help="Leave these jobs out.")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="The job with what feeds it (= --select +NAME)."),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option(help="The outputs are here instead of output_dir.")
    ] = None,
    allow_outside_output_dir: Annotated[bool, typer.Option(help=ALLOW_OUTSIDE_HELP)] = False,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when a job is not up to date.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Say which jobs are up to date, stale (and why) or failed, from fingerprints alone.

    Runs nothing and writes nothing; an unchanged batch reads no input (the hash cache has them).
    Exit status: 0 (with --exit-code: 0 every job up to date, 1 otherwise); 2 invalid manifest.
    """
    from second_opinion.batch.selection import CLI_SPELLING  # noqa: PLC0415
    from second_opinion.batch.status import batch_status  # noqa: PLC0415

    status = batch_status(
        manifest,
        select=select or (),
        exclude=exclude or (),
        only=only or (),
        out_dir=out_dir,
        allow_outside_output_dir=allow_outside_output_dir,
        spelling=CLI_SPELLING,
    )
    if as_json:
        print_json(status.to_dict())
    else:
        console.print(status_table(status))
    if exit_code and not status.up_to_date:
        raise typer.Exit(1)
