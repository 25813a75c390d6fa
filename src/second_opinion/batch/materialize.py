"""Running one job of a manifest into a file: a join (its base table ingested first if the job
says so) or a saliency job. The runner's workers call :func:`materialize`; dry runs call
:func:`preview`, which reads the inputs but writes nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from second_opinion.batch.manifest.jobs import AnyJob, Job, SaliencyJob
from second_opinion.ingest.ingest import ingest_with
from second_opinion.ingest.options import build_ingest_options
from second_opinion.join.run import join_to_file, preview_join
from second_opinion.join.spec import JoinSpec, build_join_spec
from second_opinion.join.spelling import manifest_spelling
from second_opinion.saliency.clips import read_clips
from second_opinion.saliency.run import run_saliency
from second_opinion.saliency.spec import build_saliency_spec
from second_opinion.tables.formats import Engine
from second_opinion.validation import revalidated

Phase = Callable[[str], None]


@dataclass(frozen=True)
class Materialized:
    """What a job produced: rows written, coverage reports (join), and kind-specific facts."""

    rows: int
    columns: tuple[str, ...] = ()
    coverage: list[dict[str, Any]] = field(default_factory=list)
    base_rows: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What the join warns of (coverage below 100 %, a per-frame file reduced), as the
    manifest spells the options."""


def ingested_spec(job: Job, scratch: Path, phase: Phase = lambda _: None) -> JoinSpec:
    """The job's join spec; with ``ingest``, its base table ingested into ``scratch`` first."""
    if job.ingest is None:
        return job.spec
    phase("ingesting")
    canonical = scratch / "canonical.parquet"
    ingest_with(revalidated(job.ingest, build_ingest_options, output=canonical))
    return revalidated(job.spec, build_join_spec, features=canonical)


def materialize(
    job: AnyJob, output: Path, phase: Phase, engine: Engine | None = None
) -> Materialized:
    """Run ``job``, writing its table to ``output`` (atomically)."""
    if isinstance(job, SaliencyJob):
        phase("saliency")
        # Clips run in parallel threads (the output is the same for any number).
        threads = max(job.spec.jobs, os.cpu_count() or 1)
        found = run_saliency(revalidated(job.spec, build_saliency_spec, jobs=threads), output)
        skipped = [{"clip_id": s.clip_id, "reason": s.reason} for s in found.skipped]
        extra = {"saliency": {"skipped": skipped, "model_sha256": found.model_sha256}}
        notes = [f"skipped clip {s.clip_id!r}: {s.reason}" for s in found.skipped]
        return Materialized(found.rows, found.columns, extra=extra, notes=notes)
    with tempfile.TemporaryDirectory(prefix="second-opinion-job-") as scratch:
        spec = ingested_spec(job, Path(scratch), phase)
        phase("joining")
        report = join_to_file(spec, output, engine=engine, spelling=manifest_spelling(job.index))
    coverage = [c.to_dict() for c in report.coverage]
    base_rows = report.coverage[0].base_rows if report.coverage else report.rows
    return Materialized(
        report.rows, report.columns, coverage, base_rows, warnings=list(report.warnings)
    )


def preview(job: AnyJob, engine: Engine | None = None) -> Materialized:
    """What ``job`` would produce, from its inputs, without writing: coverage for a join, the
    clip count for a saliency job."""
    if isinstance(job, SaliencyJob):
        return Materialized(len(read_clips(job.spec.clips)))
    with tempfile.TemporaryDirectory(prefix="second-opinion-preview-") as scratch:
        spec = ingested_spec(job, Path(scratch))
        coverage, warnings = preview_join(
            spec, engine=engine, spelling=manifest_spelling(job.index)
        )
    rows = coverage[0].base_rows if coverage else 0
    return Materialized(rows, (), [c.to_dict() for c in coverage], rows, warnings=list(warnings))
