"""``validate``: check a manifest and its inputs' headers without running anything."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from second_opinion.join import check_spec
from second_opinion.manifest import load_manifest, raise_problems


@dataclass(frozen=True)
class ValidationReport:
    """A valid manifest: where it writes and what each job reads."""

    manifest: str
    output_dir: str
    jobs: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"manifest": self.manifest, "output_dir": self.output_dir, "valid": True,
                "jobs": list(self.jobs)}  # fmt: skip


def validate_manifest(
    path: str | os.PathLike[str], *, out_dir: str | os.PathLike[str] | None = None
) -> ValidationReport:
    """Check the schema, that every input exists, and that named columns exist in each file.

    Reads headers (and DuckDB's type-sniffing sample) only; writes nothing. Raises one
    :class:`InputError` listing every problem, each with its job and file.
    """
    manifest = load_manifest(path, out_dir=out_dir)
    problems = []
    jobs = []
    for job in manifest.jobs:
        for problem in check_spec(job.spec):
            problems.append(f"jobs[{job.index}] ({job.name}): {problem}")
        jobs.append({
            "name": job.name,
            "features": str(job.spec.features),
            "sidecars": {s.scorer: str(s.path) for s in job.spec.sidecars},
            "output": str(job.output),
        })  # fmt: skip
    raise_problems(manifest.path, problems)
    return ValidationReport(str(manifest.path), str(manifest.output_dir), tuple(jobs))
