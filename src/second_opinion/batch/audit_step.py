"""The manifest's ``audit`` section, as ``second-opinion batch`` runs it after the jobs.

The audit runs when every table it names is ready: its job finished or was up to date in this
run, or (not selected with ``--only``) its output is up to date. It is skipped, with the reason,
when a job failed or an unselected job's output is stale. Like a job, it is incremental: the
fingerprint (:func:`~second_opinion.audit.run.audit_fingerprint`: options, table hashes, tool
series) is stored in ``audit.json``; an equal one means the report is up to date.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from second_opinion.audit.output import JSON_NAME, write_report
from second_opinion.audit.progress import ProgressCallback
from second_opinion.audit.run import audit_fingerprint, run_audit
from second_opinion.batch.outcomes import NEW, READY
from second_opinion.errors import SecondOpinionError
from second_opinion.placing import folder_handle, refuse

if TYPE_CHECKING:
    from second_opinion.batch.manifest.jobs import AuditPlan, Manifest
    from second_opinion.batch.outcomes import JobResult
    from second_opinion.batch.settings import BatchSettings
    from second_opinion.hashing import HashCache

AuditStatus = Literal["built", "rebuilt", "up-to-date", "planned", "skipped", "failed"]


@dataclass(frozen=True)
class AuditOutcome:
    """How the batch's audit ended (or would end, in a dry run)."""

    status: AuditStatus
    reason: str
    out: str
    seconds: float = 0.0
    error: str | None = None
    fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _stored_fingerprint(plan: AuditPlan) -> str | None:
    try:
        data = json.loads((plan.out / JSON_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("fingerprint") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _not_ready(
    plan: AuditPlan,
    results: Sequence[JobResult],
    stale: Callable[[str], bool],
    dry_run: bool,
) -> tuple[AuditStatus, str] | None:
    by_name = {r.name: r for r in results}
    for name in plan.tables:
        result = by_name.get(name)
        if result is None:
            if stale(name):
                return "skipped", f"the output of job {name!r} is missing or stale; run it first"
        elif dry_run and result.status == "planned":
            return "planned", f"job {name!r} will change its table"
        elif result.status not in READY:
            return "skipped", f"job {name!r} did not finish ({result.status})"
    return None


def run_manifest_audit(
    manifest: Manifest,
    results: Sequence[JobResult],
    cache: HashCache,
    *,
    stale: Callable[[str], bool],
    settings: BatchSettings,
    step: Callable[[str], None] | None = None,
    progress: ProgressCallback | None = None,
) -> AuditOutcome | None:
    """Run (or plan) the manifest's audit after its jobs; ``None`` when it has none.

    ``stale(name)`` says whether job ``name``'s output is missing or out of date (asked only
    for jobs this run did not select). The batch's ``settings`` say whether to force it, only
    plan it (a dry run), and how many workers it may use unless its own options say. Failures
    are returned, not raised. ``step`` and ``progress`` are passed to
    :func:`~second_opinion.audit.run.run_audit`.
    """
    force, dry_run = settings.force, settings.dry_run
    plan = manifest.audit
    if plan is None:
        return None
    out = str(plan.out)
    blocked = _not_ready(plan, results, stale, dry_run)
    if blocked is not None:
        return AuditOutcome(blocked[0], blocked[1], out)
    options = plan.options_for(settings.workers)
    tables = [(name, manifest.job(name).output) for name in plan.tables]
    try:
        hashes = {name: cache.sha256(path) for name, path in tables}
    except OSError as exc:
        return AuditOutcome("failed", "a table cannot be read", out, error=str(exc))
    fingerprint = audit_fingerprint(options, hashes)
    if not force and _stored_fingerprint(plan) == fingerprint:
        return AuditOutcome("up-to-date", "unchanged", out, fingerprint=fingerprint)
    exists = (plan.out / JSON_NAME).exists()
    reason = "forced" if force else "changed" if exists else "no report"
    if dry_run:
        return AuditOutcome("planned", reason, out, fingerprint=fingerprint)
    started = time.perf_counter()
    try:
        result = run_audit(tables, options, step=step, sha256=hashes, progress=progress)
        # The report folder is made (or checked) one real folder at a time inside output_dir.
        with folder_handle(plan.out, plan.root, create=True):
            write_report(result, plan.out, plots=options.plots)
    except OSError as exc:
        seconds = time.perf_counter() - started
        error = refuse(plan.out, "the audit report", exc).message
        return AuditOutcome("failed", reason, out, seconds, error=error)
    except SecondOpinionError as exc:
        seconds = time.perf_counter() - started
        return AuditOutcome("failed", reason, out, seconds, error=exc.message)
    seconds = time.perf_counter() - started
    if not exists:
        return AuditOutcome("built", NEW, out, seconds, fingerprint=result.fingerprint)
    return AuditOutcome("rebuilt", reason, out, seconds, fingerprint=result.fingerprint)
