"""``second-opinion batch``: run every job of a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from second_opinion.cli.options import (
    ALLOW_OUTSIDE_HELP,
    MEMORY_LIMIT_HELP,
    TEMP_DIR_HELP,
    engine_of,
)
from second_opinion.cli.render import console, print_json
from second_opinion.errors import JobsFailedError

if TYPE_CHECKING:
    from second_opinion.batch.runner import BatchResult


def batch_table(result: BatchResult) -> Table:
    """One row per job: status, rows, coverage per scorer, seconds, output."""
    title = f"run {result.run_id}" + (" (dry run)" if result.dry_run else "")
    table = Table(title=title, title_justify="left")
    for header in ("job", "status", "reason", "rows", "coverage", "seconds", "output"):
        table.add_column(header, justify="right" if header in ("rows", "seconds") else "left")
    for job in result.jobs:
        coverage = ", ".join(f"{k} {100 * v:.1f} %" for k, v in job.coverage.items())
        table.add_row(
            job.name,
            job.status,
            job.reason,
            "" if job.rows is None else str(job.rows),
            coverage,
            f"{job.seconds:.2f}",
            job.output,
        )
    return table


def batch_command(
    manifest: Annotated[Path, typer.Argument(help="The manifest (.json, .yaml).")],
    only: Annotated[
        list[str] | None, typer.Option(metavar="NAME", help="Run only this job; repeat.")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="Parallel workers (default: min(cores, jobs))."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Rerun jobs that are up to date.")] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Say what would run and why, with coverage; write nothing.")
    ] = False,
    keep_going: Annotated[
        bool,
        typer.Option("--keep-going/--fail-fast", help="After a failed job, run the rest or stop."),
    ] = True,
    out_dir: Annotated[
        Path | None, typer.Option(help="Write outputs here instead of output_dir.")
    ] = None,
    lock_timeout: Annotated[
        float,
        typer.Option(help="Seconds to wait for another batch on the same folder (0: refuse)."),
    ] = 0.0,
    allow_outside_output_dir: Annotated[bool, typer.Option(help=ALLOW_OUTSIDE_HELP)] = False,
    memory_limit: Annotated[str | None, typer.Option(help=MEMORY_LIMIT_HELP)] = None,
    temp_dir: Annotated[Path | None, typer.Option(help=TEMP_DIR_HELP)] = None,
    executor: Annotated[
        str,
        typer.Option(
            metavar="local|ray",
            help="Run jobs in worker processes here (local) or as Ray tasks (ray).",
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="With --executor ray: the cluster (host:port, 'auto'); "
            "default: RAY_ADDRESS, else a new local Ray instance.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Run a manifest's jobs in parallel, skipping up-to-date ones; write provenance.

    Exit status: 0 every job done or up to date; 1 a job failed; 2 invalid manifest or usage;
    130 interrupted (nothing partial is left).
    """
    # Imported here: the runner (multiprocessing, manifests, YAML) is not needed by other commands.
    from second_opinion.batch.runner import run_batch  # noqa: PLC0415
    from second_opinion.batch.settings import BatchSettings  # noqa: PLC0415
    from second_opinion.cli.progress import BatchDisplay  # noqa: PLC0415

    # Checked here, before the manifest is read, any worker starts or anything is written.
    settings = BatchSettings(
        workers=jobs,
        force=force,
        dry_run=dry_run,
        keep_going=keep_going,
        engine=engine_of(memory_limit, temp_dir),
        executor=executor,  # type: ignore[arg-type]  # checked by BatchSettings
        ray_address=ray_address,
    )
    with BatchDisplay(live=console.is_terminal and not as_json) as display:
        result = run_batch(
            manifest,
            settings=settings,
            only=only or (),
            out_dir=out_dir,
            lock_timeout=lock_timeout,
            on_event=display.handle,
            allow_outside_output_dir=allow_outside_output_dir,
        )
    if as_json:
        print_json(result.to_dict())
    else:
        console.print(batch_table(result))
        for job in result.jobs:
            if job.error:
                console.print(f"{job.name}: {job.error}", markup=False)
            for note in job.notes:
                console.print(f"{job.name}: {note}", markup=False)
        if result.audit is not None:
            audit = result.audit
            console.print(
                f"audit: {audit.status} ({audit.reason}) → {audit.out}"
                + (f": {audit.error}" if audit.error else ""),
                markup=False,
            )
    failed = [j.name for j in result.jobs if j.status in ("failed", "skipped")]
    if failed:
        msg = f"{len(failed)} of {len(result.jobs)} jobs did not finish: {', '.join(failed)}"
        raise JobsFailedError(msg)
    if result.audit is not None and result.audit.status == "failed":
        msg = f"the audit failed: {result.audit.error}"
        raise JobsFailedError(msg)
