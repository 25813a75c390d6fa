"""``validate``: check a manifest and its inputs' headers without running anything."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from second_opinion.batch.manifest.checks import raise_problems
from second_opinion.batch.manifest.jobs import AnyJob, SaliencyJob
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.materialize import ingested_spec
from second_opinion.batch.original.checks import validate_original
from second_opinion.batch.original.load import manifest_dialect
from second_opinion.batch.original_saliency.checks import validate_original_saliency
from second_opinion.batch.validated import ValidationReport
from second_opinion.errors import SecondOpinionError
from second_opinion.join.run import check_spec
from second_opinion.join.spelling import manifest_spelling
from second_opinion.paths import resolved


def validate_manifest(
    path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    allow_outside_output_dir: bool = False,
    base_dir: str | os.PathLike[str] | None = None,
) -> ValidationReport:
    """Check the schema, that every input exists, and that named columns exist in each file.

    Reads headers (and DuckDB's type-sniffing sample) only — but score matrices and metadata to
    ingest are read whole; writes nothing but temporary files. Raises one
    :class:`InputError` listing every problem, each with its job and file.

    An original materializer's or saliency runner's manifest (tables, no version) is checked in
    its own terms (docs/migrating.md): ``base_dir`` is the folder its relative paths are below
    (default: its own); ``out_dir`` and ``allow_outside_output_dir`` apply to native manifests.
    """
    dialect = manifest_dialect(path)
    if dialect == "original":
        return validate_original(path, base_dir=base_dir)
    if dialect == "original-saliency":
        return validate_original_saliency(path, base_dir=base_dir)
    return _validate_native(
        path, out_dir=out_dir, allow_outside_output_dir=allow_outside_output_dir
    )


def _validate_native(
    path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None,
    allow_outside_output_dir: bool,
) -> ValidationReport:
    manifest = load_manifest(
        path, out_dir=out_dir, allow_outside_output_dir=allow_outside_output_dir
    )
    problems = []
    jobs: list[dict[str, Any]] = []
    produced = {resolved(job.output) for job in manifest.jobs}
    for job in manifest.jobs:
        for problem in _job_problems(job, produced):
            problems.append(f"jobs[{job.index}] ({job.name}): {problem}")
        if isinstance(job, SaliencyJob):
            jobs.append(
                {
                    "name": job.name,
                    "kind": "saliency",
                    "clips": str(job.spec.clips),
                    "output": str(job.output),
                }
            )
            continue
        jobs.append(
            {
                "name": job.name,
                "features": str(job.spec.features),
                "sidecars": {s.scorer: str(s.path) for s in job.spec.sidecars},
                "output": str(job.output),
            }
        )
    raise_problems(manifest.path, problems)
    return ValidationReport(str(manifest.path), str(manifest.output_dir), tuple(jobs))


def _job_problems(job: AnyJob, produced: set[Path]) -> list[str]:
    """``check_spec`` of the job; an ingested base table is ingested (to a temporary file)
    first, so its problems and the join's are both found. A saliency job's clips table was
    read when the manifest loaded. A join reading another job's output is checked when it runs.
    """
    if isinstance(job, SaliencyJob):
        return []
    if any(resolved(path) in produced for _, _, path in job.inputs):
        return []
    with tempfile.TemporaryDirectory(prefix="second-opinion-validate-") as scratch:
        try:
            spec = ingested_spec(job, Path(scratch))
        except SecondOpinionError as exc:
            return [exc.message]
        return check_spec(spec, spelling=manifest_spelling(job.index))
