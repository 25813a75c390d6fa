"""How batch jobs end: results, the progress events displays follow, and the coverage summaries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from second_opinion.audit.progress import AuditProgress
from second_opinion.batch.manifest.jobs import AnyJob
from second_opinion.batch.planning import Plan
from second_opinion.errors import SecondOpinionError
from second_opinion.hashing import FileHash
from second_opinion.join.coverage import Coverage

Status = Literal["built", "rebuilt", "up-to-date", "failed", "planned", "skipped"]
"""How a job ended: ``built`` (new: it had no output), ``rebuilt`` (the reason says what changed),
``up-to-date``, ``failed``, ``planned`` (a dry run) or ``skipped`` (the reason says which job it
waited for)."""
READY: tuple[Status, ...] = ("built", "rebuilt", "up-to-date")
"""The statuses whose output a later job or the audit may read."""
NEW = "new"
"""The reason of a ``built`` job."""


@dataclass
class JobResult:
    """How one job ended (or would end, under ``dry_run``)."""

    name: str
    status: Status
    reason: str
    output: str
    rows: int | None = None
    coverage: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    """What a done job left out, e.g. the clips a saliency job skipped, and why."""
    warnings: list[str] = field(default_factory=list)
    """What its join warns of: coverage below 100 % (with the key diagnosis's fix), a
    per-frame file reduced to one row per key; options named as the manifest spells them."""

    @classmethod
    def for_job(
        cls,
        job: AnyJob,
        status: Status,
        *,
        reason: str,
        rows: int | None = None,
        coverage: dict[str, float] | None = None,
        seconds: float = 0.0,
        error: str | None = None,
        notes: Sequence[str] = (),
        warnings: Sequence[str] = (),
    ) -> JobResult:
        """How ``job`` ended: its name and output as the manifest gives them."""
        return cls(
            name=job.name,
            status=status,
            reason=reason,
            output=str(job.output),
            rows=rows,
            coverage=dict(coverage or {}),
            seconds=seconds,
            error=error,
            notes=list(notes),
            warnings=list(warnings),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the documented keys."""
        return asdict(self)


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended where it ran, as its worker hands it back to the scheduler (across a
    process queue or Ray's object store): the result's fields, and the hashes it took."""

    status: Literal["done", "failed"]
    seconds: float
    rows: int | None = None
    coverage: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    inputs: tuple[FileHash, ...] = ()
    """The inputs' hashes, at the size and mtime they were planned at (done jobs only)."""
    output: FileHash | None = None
    """The output's hash, as renamed into place (done jobs only)."""

    def result(self, plan: Plan) -> JobResult:
        """The :class:`JobResult` of ``plan``'s job: ``built`` when it had no output, else
        ``rebuilt`` with the plan's reason (or ``failed``)."""
        status: Status = self.status if self.status == "failed" else "rebuilt"
        reason = plan.reason
        if status == "rebuilt" and plan.new:
            status, reason = "built", NEW
        return JobResult.for_job(
            plan.job,
            status,
            reason=reason,
            rows=self.rows,
            coverage=self.coverage,
            seconds=self.seconds,
            error=self.error,
            notes=self.notes,
            warnings=self.warnings,
        )


@dataclass(frozen=True)
class BatchEvent:
    """Progress, for displays: a job was planned, started, changed phase, or finished."""

    kind: Literal["planned", "started", "phase", "progress", "finished"]
    job: str
    detail: str = ""
    result: JobResult | None = None
    progress: AuditProgress | None = None
    """With ``kind='progress'``: how far the audit's current phase is."""


EventHandler = Callable[[BatchEvent], None]


def failed_coverage(error: SecondOpinionError) -> dict[str, float]:
    """Coverage per scorer carried by a policy failure (empty for other errors)."""
    report = getattr(error, "report", None)
    if not isinstance(report, tuple):
        return {}
    return {c.scorer: c.coverage for c in report if isinstance(c, Coverage)}


def coverage_fractions(coverage: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Coverage per scorer from a provenance record's ``coverage`` list."""
    return {str(c["scorer"]): float(c["coverage"]) for c in coverage}


def from_record(plan: Plan, status: Status) -> JobResult:
    """The result of a job that did not run, from its provenance record."""
    record = plan.record or {}
    return JobResult.for_job(
        plan.job,
        status,
        reason=plan.reason,
        rows=record.get("output", {}).get("rows"),
        coverage=coverage_fractions(record.get("coverage", [])),
        warnings=[str(w) for w in record.get("warnings", [])],
    )
