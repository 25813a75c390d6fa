"""``validate``: check a manifest and its inputs' headers without running anything."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from second_opinion.batch.manifest.checks import raise_problems
from second_opinion.batch.manifest.jobs import AnyJob, SaliencyJob
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.materialize import ingested_spec
from second_opinion.errors import SecondOpinionError
from second_opinion.join.run import check_spec
from second_opinion.join.spelling import manifest_spelling
from second_opinion.paths import resolved


@dataclass(frozen=True)
class ValidationReport:
    """A valid manifest: where it writes and what each job reads."""

    manifest: str
    output_dir: str
    jobs: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "manifest": self.manifest,
            "output_dir": self.output_dir,
            "valid": True,
            "jobs": list(self.jobs),
        }


def validate_manifest(
    path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    allow_outside_output_dir: bool = False,
) -> ValidationReport:
    """Check the schema, that every input exists, and that named columns exist in each file.

    Reads headers (and DuckDB's type-sniffing sample) only — but score matrices and metadata to
    ingest are read whole; writes nothing but temporary files. Raises one
    :class:`InputError` listing every problem, each with its job and file.
    """
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
