"""``second-opinion batch``: run every job of a manifest."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from second_opinion.batch.original.reports import (
    Invocation,
    batch_markdown,
    write_json,
    write_text,
)
from second_opinion.cli.options import (
    ALLOW_OUTSIDE_HELP,
    MEMORY_LIMIT_HELP,
    TEMP_DIR_HELP,
    engine_of,
)
from second_opinion.cli.render import console, err_console, print_json
from second_opinion.errors import JobsFailedError, UsageError

MANIFESTS = (".json", ".yaml", ".yml")
"""Suffixes of manifest files."""

if TYPE_CHECKING:
    from second_opinion.batch.runner import BatchResult
    from second_opinion.tables.formats import Engine


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
    manifest: Annotated[
        Path | None, typer.Argument(help="The manifest (.json, .yaml); or --manifest.")
    ] = None,
    manifest_option: Annotated[
        Path | None,
        typer.Option("--manifest", help="The manifest, as the original materializer takes it."),
    ] = None,
    base_dir: Annotated[
        Path | None,
        typer.Option(
            help="Original manifests: the folder relative paths are below "
            "(default: the manifest's folder)."
        ),
    ] = None,
    report_json: Annotated[
        Path | None, typer.Option(help="Write the batch report as JSON here.")
    ] = None,
    report_md: Annotated[
        Path | None, typer.Option(help="Write the batch report as Markdown here.")
    ] = None,
    report_html: Annotated[
        str | None,
        typer.Option(
            metavar="[PATH]",
            help="Write the batch report (one HTML page) here; alone: OUTPUT_DIR/report.html.",
        ),
    ] = None,
    allow_row_failures: Annotated[
        bool,
        typer.Option(
            help="Original saliency manifests: exit 0 when only some clips failed (row-failures)."
        ),
    ] = False,
    select: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SELECTOR",
            help="Run these jobs: names or globs; +job adds what feeds it, job+ what it feeds.",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(metavar="SELECTOR", help="Leave these jobs out (same selectors)."),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="The job with what feeds it (= --select +NAME)."),
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

    An original materializer's manifest (tables, no version) runs table by table with its
    semantics (docs/migrating.md).

    Exit status: 0 every job done or up to date; 1 a job failed; 2 invalid manifest or usage;
    130 interrupted (nothing partial is left).
    """
    path = manifest_path(manifest, manifest_option, report_html)
    from second_opinion.batch.original.load import manifest_dialect  # noqa: PLC0415

    dialect = manifest_dialect(path)
    if allow_row_failures and dialect != "original-saliency":
        kind = "native" if dialect == "native" else "an original materializer manifest"
        msg = (
            "--allow-row-failures applies to original saliency manifests (tables of "
            f"input/output); {path} is {kind}"
        )
        raise UsageError(msg)
    if dialect == "original-saliency":
        _refuse_flags(
            path,
            "an original saliency manifest (tables of input/output)",
            {
                "--only": bool(only),
                "--select": bool(select),
                "--exclude": bool(exclude),
                "--dry-run": dry_run,
                "--out-dir": out_dir is not None,
                "--lock-timeout": lock_timeout != 0.0,
                "--allow-outside-output-dir": allow_outside_output_dir,
                "--report-html": report_html is not None,
            },
        )
        from second_opinion.batch.settings import BatchSettings  # noqa: PLC0415
        from second_opinion.cli.original_saliency import original_saliency_batch  # noqa: PLC0415

        settings = BatchSettings(
            workers=jobs,
            force=force,
            keep_going=keep_going,
            engine=engine_of(memory_limit, temp_dir),
            executor=executor,  # type: ignore[arg-type]  # checked by BatchSettings
            ray_address=ray_address,
        )
        original_saliency_batch(
            path,
            base_dir=base_dir,
            report_json=report_json,
            report_md=report_md,
            allow_row_failures=allow_row_failures,
            fail_fast=not keep_going,
            settings=settings,
            as_json=as_json,
        )
        return
    if dialect == "original":
        native_only = {
            "--only": bool(only),
            "--select": bool(select),
            "--exclude": bool(exclude),
            "--jobs": jobs is not None,
            "--force": force,
            "--dry-run": dry_run,
            "--out-dir": out_dir is not None,
            "--lock-timeout": lock_timeout != 0.0,
            "--allow-outside-output-dir": allow_outside_output_dir,
            "--executor": executor != "local",
            "--ray-address": ray_address is not None,
            "--report-html": report_html is not None,
        }
        _refuse_flags(
            path,
            "an original manifest (tables, no version): its tables run in order and write "
            "where they name",
            native_only,
        )
        original_batch(
            path,
            base_dir=base_dir,
            report_json=report_json,
            report_md=report_md,
            fail_fast=not keep_going,
            engine=engine_of(memory_limit, temp_dir),
            as_json=as_json,
        )
        return
    if base_dir is not None:
        msg = f"--base-dir applies to original manifests (tables, no version); {path} is native"
        raise UsageError(msg)
    if dry_run and report_html is not None:
        msg = (
            "--report-html with --dry-run: a dry run writes nothing; run without --dry-run, or "
            "write the report of the runs so far with second-opinion report OUTPUT_DIR"
        )
        raise UsageError(msg)
    # Imported here: the runner (multiprocessing, manifests, YAML) is not needed by other commands.
    from second_opinion.batch.runner import run_batch  # noqa: PLC0415
    from second_opinion.batch.selection import CLI_SPELLING  # noqa: PLC0415
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
            path,
            settings=settings,
            only=only or (),
            select=select or (),
            exclude=exclude or (),
            spelling=CLI_SPELLING,
            out_dir=out_dir,
            lock_timeout=lock_timeout,
            on_event=display.handle,
            allow_outside_output_dir=allow_outside_output_dir,
        )
    if report_json is not None:
        write_json(report_json, result.to_dict())
    if report_md is not None:
        write_text(report_md, batch_markdown(result))
    if as_json:
        print_json(result.to_dict())
    else:
        console.print(batch_table(result))
        for job in result.jobs:
            if job.error:
                console.print(f"{job.name}: {job.error}", markup=False)
            for note in job.notes:
                console.print(f"{job.name}: {note}", markup=False)
            for warning in job.warnings:
                console.print(f"{job.name}: warning: {warning}", markup=False)
        if result.audit is not None:
            audit = result.audit
            console.print(
                f"audit: {audit.status} ({audit.reason}) → {audit.out}"
                + (f": {audit.error}" if audit.error else ""),
                markup=False,
            )
    if report_html is not None:
        from second_opinion.batch.report.build import build_batch_report  # noqa: PLC0415
        from second_opinion.batch.report.write import write_batch_report  # noqa: PLC0415
        from second_opinion.cli.report import report_line  # noqa: PLC0415

        report = build_batch_report(result.output_dir)
        written = write_batch_report(report, report_html or None, spelling={"out": "--report-html"})
        (err_console if as_json else console).print(report_line(report, written), markup=False)
    failed = [j.name for j in result.jobs if j.status in ("failed", "skipped")]
    if failed:
        msg = f"{len(failed)} of {len(result.jobs)} jobs did not finish: {', '.join(failed)}"
        raise JobsFailedError(msg)
    if result.audit is not None and result.audit.status == "failed":
        msg = f"the audit failed: {result.audit.error}"
        raise JobsFailedError(msg)


def manifest_path(
    argument: Path | None, option: Path | None, report_html: str | None = None
) -> Path:
    """The manifest, given as the argument or as ``--manifest`` (not both)."""
    if argument is not None and option is not None:
        msg = f"give the manifest once: as the argument ({argument}) or --manifest ({option})"
        raise UsageError(msg)
    if argument is None and option is None and Path(report_html or "").suffix in MANIFESTS:
        msg = (
            f"--report-html took {report_html} as the report's path, and no manifest is left: "
            f"name the manifest first (second-opinion batch {report_html} --report-html), or "
            "give the path as --report-html=PATH"
        )
        raise UsageError(msg)
    if argument is None and option is None:
        msg = "name the manifest: second-opinion batch MANIFEST (or --manifest MANIFEST)"
        raise UsageError(msg)
    return argument or option  # type: ignore[return-value]  # one of them is set


def _refuse_flags(path: Path, what: str, flags: dict[str, bool]) -> None:
    """Refuse the native-only ``flags`` that were given, for a manifest of another dialect."""
    given = [flag for flag, set_ in flags.items() if set_]
    if given:
        msg = f"{', '.join(given)}: for native manifests only; {path} is {what}"
        raise UsageError(msg)


def original_batch(
    manifest: Path,
    *,
    base_dir: Path | None,
    report_json: Path | None,
    report_md: Path | None,
    fail_fast: bool,
    engine: Engine | None,
    as_json: bool,
) -> None:
    """Run an original manifest; print its tables and, on stderr, the original's summary line."""
    from second_opinion.batch.original.run import run_original_batch  # noqa: PLC0415

    args = {
        "manifest": manifest,
        "base_dir": base_dir,
        "report_json": report_json,
        "report_md": report_md,
        "fail_fast": fail_fast,
    }
    result = run_original_batch(
        manifest,
        base_dir=base_dir,
        report_json=report_json,
        report_md=report_md,
        fail_fast=fail_fast,
        invocation=Invocation(argv=tuple(sys.argv[1:]), args=args),
        engine=engine,
    )
    if as_json:
        print_json(result.report)
    else:
        table = Table(title=f"tables of {manifest}", title_justify="left")
        for header in ("table", "status", "input rows", "output rows", "output"):
            table.add_column(header, justify="right" if "rows" in header else "left")
        for entry in result.report["tables"]:
            summary = entry.get("summary") or {}
            table.add_row(
                entry["id"],
                entry["status"],
                str(summary.get("input_rows", "-")),
                str(summary.get("output_rows", "-")),
                entry["out"],
            )
        console.print(table)
        for entry in result.report["tables"]:
            if entry["status"] != "ok":
                console.print(f"{entry['id']}: {entry['error']}", markup=False)
            for warning in entry.get("warnings", []):
                console.print(f"{entry['id']}: warning: {warning}", markup=False)
    err_console.print(result.summary_line, markup=False, highlight=False)
    if not result.ok:
        failed = [e["id"] for e in result.report["tables"] if e["status"] != "ok"]
        msg = f"{len(failed)} table(s) failed: {', '.join(failed)}"
        raise JobsFailedError(msg)
