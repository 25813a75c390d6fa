"""Running an original saliency manifest's tables as saliency jobs, and the typed result.

The jobs run through :func:`~second_opinion.batch.runner.run_batch`: incrementally (an
unchanged table is up to date), in parallel, each output written atomically with its
``.provenance.json``; the run's state and summary go to the manifest's folder (or ``base_dir``).
Clips that cannot be read are skipped and counted as failed rows, as the original marks them; a
table whose job fails is an ``error``. Each table's ``audit_json`` (schema
``saliency-materializer-audit-v1``) is written when its job is done or up to date.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

from second_opinion.batch.original_saliency.manifest import (
    OriginalSaliencyManifest,
    OriginalTable,
    load_original_saliency_manifest,
)
from second_opinion.batch.original_saliency.report import write_table_audit
from second_opinion.batch.outcomes import READY, EventHandler, JobResult
from second_opinion.batch.runner import BatchResult, run_batch
from second_opinion.batch.settings import BatchSettings
from second_opinion.errors import UsageError
from second_opinion.hashing import sha256_file
from second_opinion.provenance import (
    ProvenanceUnreadable,
    provenance_path,
    read_record,
    tool_info,
)

REPORT_SCHEMA = "saliency-materializer-batch-v1"

TableStatus = Literal["ok", "row-failures", "error"]
BatchStatus = Literal["ok", "row-failures", "failed"]


@dataclass(frozen=True)
class TableSummary:
    """A table's row counters, as the original counts them (one row per clip)."""

    total: int
    ok: int
    skipped_existing: int
    failed: int

    def to_dict(self) -> dict[str, int]:
        """The counters, in the original's order."""
        return {
            "total": self.total,
            "ok": self.ok,
            "skipped_existing": self.skipped_existing,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class TableReport:
    """How one table ended: its status, its counters (``None`` on error), the clips skipped
    (clip id, reason), and the batch job's result."""

    table: OriginalTable
    status: TableStatus
    summary: TableSummary | None
    skipped: tuple[tuple[str, str], ...]
    error: str | None
    job: JobResult

    def to_dict(self) -> dict[str, Any]:
        """The table's entry of the batch report: the original's keys, then second-opinion's
        (the job, the provenance record, the skipped clips)."""
        t = self.table
        data: dict[str, Any] = {
            "id": t.table_id,
            "input": str(t.input),
            "output": str(t.output),
            "audit_json": str(t.audit_json) if t.audit_json is not None else None,
            "config": t.config.payload(),
            "status": self.status,
        }
        if self.summary is not None:
            data["summary"] = self.summary.to_dict()
        if self.error is not None:
            data["error"] = self.error
        data["job"] = t.job.name
        data["frame_step"] = t.job.spec.frame_step
        data["provenance"] = str(provenance_path(t.output)) if self.summary is not None else None
        data["skipped_clips"] = [{"clip_id": c, "reason": r} for c, r in self.skipped]
        return data


@dataclass(frozen=True)
class OriginalSaliencyResult:
    """The run of an original saliency manifest: per table, and the whole batch's status."""

    manifest: OriginalSaliencyManifest
    tables: tuple[TableReport, ...]
    status: BatchStatus
    allow_row_failures: bool
    batch: BatchResult

    @property
    def ok(self) -> bool:
        """Whether the run succeeded as the original judges it: every table ok, or only row
        failures and ``allow_row_failures``."""
        return self.status == "ok" or (self.status == "row-failures" and self.allow_row_failures)

    def summary(self) -> dict[str, int]:
        """The batch's counters, in the original's order."""
        sums = [t.summary for t in self.tables if t.summary is not None]
        return {
            "tables": len(self.tables),
            "failed_tables": sum(1 for t in self.tables if t.status != "ok"),
            "total": sum(s.total for s in sums),
            "ok": sum(s.ok for s in sums),
            "skipped_existing": sum(s.skipped_existing for s in sums),
            "failed": sum(s.failed for s in sums),
        }

    def to_dict(self) -> dict[str, Any]:
        """The batch report (schema ``saliency-materializer-batch-v1``): the same for the same
        inputs and outcome (no times, no run id; the batch's run summary has those)."""
        return {
            "schema": REPORT_SCHEMA,
            "status": self.status,
            "manifest": str(self.manifest.path),
            "summary": self.summary(),
            "tables": [t.to_dict() for t in self.tables],
            "run_provenance": {
                "tool": tool_info(),
                "manifest_sha256": sha256_file(self.manifest.path),
                "base_dir": str(self.manifest.base_dir),
            },
        }


def run_original_saliency_manifest(
    manifest: str | os.PathLike[str] | OriginalSaliencyManifest,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    allow_row_failures: bool = False,
    fail_fast: bool = False,
    settings: BatchSettings | None = None,
    on_event: EventHandler | None = None,
) -> OriginalSaliencyResult:
    """Run every table of an original saliency manifest as a saliency job (module doc).

    Raises :class:`InputError` for a manifest that cannot be translated (before anything
    runs). ``fail_fast`` starts no table after one that fails (the batch's ``keep_going``
    off); ``settings`` are the batch's (workers, force, executor, …), without ``dry_run``.
    """
    settings = settings or BatchSettings()
    if settings.dry_run:
        msg = (
            "run_original_saliency_manifest: dry_run is not supported; "
            "load_original_saliency_manifest checks a manifest without running it"
        )
        raise UsageError(msg)
    if fail_fast:
        settings = settings.model_copy(update={"keep_going": False})
    if not isinstance(manifest, OriginalSaliencyManifest):
        manifest = load_original_saliency_manifest(manifest, base_dir=base_dir)
    batch = run_batch(manifest.native(), settings=settings, on_event=on_event)
    results = {result.name: result for result in batch.jobs}
    reports: list[TableReport] = []
    for table in manifest.tables:
        result = results.get(table.job.name)
        if result is None or (result.status == "skipped" and fail_fast):
            continue  # not started after a failure, as the original stops
        report = _table_report(table, result)
        if report.summary is not None and table.audit_json is not None:
            write_table_audit(report.to_dict(), manifest=manifest.path, target=table.audit_json)
        reports.append(report)
    return OriginalSaliencyResult(
        manifest=manifest,
        tables=tuple(reports),
        status=_status(reports, allow_row_failures=allow_row_failures),
        allow_row_failures=allow_row_failures,
        batch=batch,
    )


def _table_report(table: OriginalTable, result: JobResult) -> TableReport:
    if result.status not in READY:
        error = result.error or f"the job was {result.status}: {result.reason}"
        return TableReport(table, "error", None, (), error, result)
    try:
        record = read_record(table.output)
    except ProvenanceUnreadable as exc:  # written by this run: only if removed meanwhile
        error = f"{provenance_path(table.output)}: {exc}"
        return TableReport(table, "error", None, (), error, result)
    saliency = record.get("saliency", {})
    skipped = tuple(
        (str(s.get("clip_id")), str(s.get("reason"))) for s in saliency.get("skipped", [])
    )
    rows = int(record["output"]["rows"])
    summary = TableSummary(total=table.clips, ok=rows, skipped_existing=0, failed=len(skipped))
    status: TableStatus = "row-failures" if skipped else "ok"
    return TableReport(table, status, summary, skipped, None, result)


def _status(reports: list[TableReport], *, allow_row_failures: bool) -> BatchStatus:
    """``ok``; ``row-failures`` when the only failures are failed rows and they are allowed;
    else ``failed`` (a table with an error always fails the batch)."""
    if all(r.status == "ok" for r in reports):
        return "ok"
    if allow_row_failures and all(r.status != "error" for r in reports):
        return "row-failures"
    return "failed"
