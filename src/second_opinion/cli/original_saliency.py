"""``second-opinion batch`` on an original saliency runner's manifest (docs/migrating.md)."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from second_opinion.batch.settings import BatchSettings
from second_opinion.cli.render import console, err_console, print_json
from second_opinion.errors import JobsFailedError


def original_saliency_batch(
    manifest: Path,
    *,
    base_dir: Path | None,
    report_json: Path | None,
    report_md: Path | None,
    allow_row_failures: bool,
    fail_fast: bool,
    settings: BatchSettings,
    as_json: bool,
) -> None:
    """Run the manifest's tables as saliency jobs; print them and, on stderr, the original's
    summary line; exit 1 (``JobsFailedError``) when the run fails as the original judges it."""
    # Imported here: only this dialect needs them.
    from second_opinion.batch.original_saliency.report import (  # noqa: PLC0415
        write_report_json,
        write_report_markdown,
    )
    from second_opinion.batch.original_saliency.run import (  # noqa: PLC0415
        run_original_saliency_manifest,
    )

    result = run_original_saliency_manifest(
        manifest,
        base_dir=base_dir,
        allow_row_failures=allow_row_failures,
        fail_fast=fail_fast,
        settings=settings,
    )
    report = result.to_dict()
    if report_json is not None:
        write_report_json(report, report_json)
    if report_md is not None:
        write_report_markdown(report, report_md)
    if as_json:
        print_json(report)
    else:
        table = Table(title=f"tables of {manifest}", title_justify="left")
        for header in ("table", "status", "rows", "ok", "failed", "output"):
            table.add_column(
                header, justify="left" if header in ("table", "status", "output") else "right"
            )
        for entry in report["tables"]:
            summary = entry.get("summary") or {}
            table.add_row(
                str(entry["id"]),
                str(entry["status"]),
                str(summary.get("total", "-")),
                str(summary.get("ok", "-")),
                str(summary.get("failed", "-")),
                str(entry.get("output", "")),
            )
        console.print(table)
    summary = result.summary()
    err_console.print(
        f"saliency batch materialize: tables={summary['tables']} total={summary['total']} "
        f"ok={summary['ok']} skipped={summary['skipped_existing']} failed={summary['failed']}",
        markup=False,
        highlight=False,
    )
    if not result.ok:
        failed = [t.table.table_id for t in result.tables if t.status != "ok"]
        msg = f"saliency batch {result.status}: {', '.join(failed) or 'no table ran'}"
        raise JobsFailedError(msg)
