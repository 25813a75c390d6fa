"""A dry run of a batch: what each job would do and why, with coverage; nothing is written.

A job that must run is previewed (joined in memory, nothing written); a job reading the output
of a job that would run is planned after it, without a preview.
"""

from __future__ import annotations

import time

from second_opinion.batch.dependencies import job_dependencies
from second_opinion.batch.manifest.jobs import AnyJob
from second_opinion.batch.materialize import preview
from second_opinion.batch.outcomes import (
    BatchEvent,
    EventHandler,
    JobResult,
    coverage_fractions,
    failed_coverage,
    from_record,
)
from second_opinion.batch.planning import Plan, plan_job
from second_opinion.batch.settings import BatchSettings
from second_opinion.errors import SecondOpinionError
from second_opinion.hashing import HashCache
from second_opinion.tables.formats import Engine


def _dry_run_one(plan: Plan, engine: Engine | None) -> JobResult:
    if not plan.run:
        return from_record(plan, "up-to-date")
    clock = time.monotonic()
    try:
        made = preview(plan.job, engine)
    except SecondOpinionError as exc:
        return JobResult.for_job(
            plan.job,
            "failed",
            reason=plan.reason,
            coverage=failed_coverage(exc),
            seconds=time.monotonic() - clock,
            error=exc.message,
        )
    return JobResult.for_job(
        plan.job,
        "planned",
        reason=plan.reason,
        rows=made.rows,
        coverage=coverage_fractions(made.coverage),
        seconds=time.monotonic() - clock,
        warnings=made.warnings,
    )


def dry_run_jobs(
    selected: list[AnyJob], cache: HashCache, *, settings: BatchSettings, emit: EventHandler
) -> list[JobResult]:
    """Plan each job; a job reading the output of a job that would run is planned after it."""
    deps = job_dependencies(selected)
    results: dict[str, JobResult] = {}
    for job in sorted(selected, key=lambda j: _depth(j.name, deps)):
        changing = [d for d in deps[job.name] if results[d].status in ("planned", "failed")]
        if changing:
            reason = f"after job {changing[0]!r}, whose output it reads"
            result = JobResult.for_job(job, "planned", reason=reason)
        else:
            result = _dry_run_one(plan_job(job, cache, force=settings.force), settings.engine)
        results[job.name] = result
        emit(BatchEvent("finished", job.name, result.status, result))
    return [results[j.name] for j in selected]


def _depth(name: str, deps: dict[str, tuple[str, ...]]) -> int:
    """How many jobs deep ``name`` is in the dependency graph (0: reads no job's output)."""
    return 1 + max((_depth(d, deps) for d in deps[name]), default=-1)
