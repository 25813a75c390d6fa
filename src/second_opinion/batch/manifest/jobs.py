"""Resolved jobs: what a loaded manifest holds and the runner runs.

A :class:`Job` joins sidecars onto a base table (a :class:`JoinSpec`, the base table possibly
ingested first); a :class:`SaliencyJob` computes saliency features (a :class:`SaliencySpec`).
Both name their inputs (role, scorer or clip, path) for fingerprints and provenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from second_opinion.audit.options import AuditOptions, build_options
from second_opinion.batch.dependencies import job_dependencies
from second_opinion.errors import InputError
from second_opinion.ingest.options import IngestOptions
from second_opinion.join.spec import JoinSpec, spec_inputs
from second_opinion.saliency.spec import SaliencySpec
from second_opinion.tables.memory import file_of
from second_opinion.validation import revalidated


@dataclass(frozen=True)
class Job:
    """A resolved job: absolute paths and the join spec to run."""

    name: str
    index: int
    spec: JoinSpec
    output: Path
    description: str | None = None
    ingest: IngestOptions | None = None
    """Set when the base table is ingested from metadata (``spec.features`` is that file)."""
    root: Path | None = None
    """The folder the output must lie in when it is written (``output_dir``; None when outputs
    may lie outside it): see :mod:`second_opinion.placing`."""

    @property
    def inputs(self) -> list[tuple[str, str | None, Path]]:
        """(role, scorer, path) of each input, base first; a score matrix's key table follows
        its matrix (role ``keys``)."""
        base = "metadata" if self.ingest is not None else "features"
        return [
            (base if role == "features" else role, scorer, file_of(path))
            for role, scorer, path in spec_inputs(self.spec)
        ]

    def canonical(self) -> dict[str, Any]:
        """The job as JSON-ready data, without cosmetic fields (descriptions)."""
        spec = self.spec.model_dump(mode="json")
        data = {"name": self.name, "output": str(self.output), "spec": spec}
        if self.ingest is not None:
            data["ingest"] = self.ingest.model_dump(mode="json", exclude={"output"})
        return data

    def digest_data(self) -> dict[str, Any]:
        """What the job's spec digest covers: the join spec, and the ingest options if any."""
        data = self.spec.model_dump(mode="json")
        if self.ingest is not None:
            data["ingest"] = self.ingest.model_dump(mode="json", exclude={"output", "metadata"})
        return data


@dataclass(frozen=True)
class SaliencyJob:
    """A resolved saliency job: its spec and the files it reads (known when the manifest loads:
    the clips table lists the YUV files, and the maps pattern names the map files)."""

    name: str
    index: int
    spec: SaliencySpec
    output: Path
    description: str | None = None
    files: tuple[tuple[str, str | None, Path], ...] = ()
    root: Path | None = None
    """The folder the output must lie in when it is written, as :attr:`Job.root`."""

    @property
    def inputs(self) -> list[tuple[str, str | None, Path]]:
        """(role, clip id or None, path): the clips table, the model, then each clip's files."""
        found: list[tuple[str, str | None, Path]] = [("clips", None, self.spec.clips)]
        if self.spec.model is not None:
            found.append(("model", None, self.spec.model))
        return found + list(self.files)

    def canonical(self) -> dict[str, Any]:
        """The job as JSON-ready data, without cosmetic fields (descriptions)."""
        spec = self.spec.model_dump(mode="json")
        return {"name": self.name, "kind": "saliency", "output": str(self.output), "spec": spec}

    def digest_data(self) -> dict[str, Any]:
        """What the spec digest covers: the options, not the paths (inputs count by content)."""
        data = self.spec.model_dump(mode="json", exclude={"clips", "model", "jobs"})
        return {"kind": "saliency", **data}


AnyJob = Job | SaliencyJob


@dataclass(frozen=True)
class AuditPlan:
    """A resolved ``audit`` section: which jobs' outputs, the report folder, the options.

    ``jobs_set`` says whether the section set ``jobs`` (else the batch's ``--jobs`` applies).
    """

    tables: tuple[str, ...]
    out: Path
    options: AuditOptions
    jobs_set: bool = False
    root: Path | None = None
    """The folder the report must lie in when it is written, as :attr:`Job.root`."""

    def options_for(self, jobs: int | None) -> AuditOptions:
        """The options, with the batch's ``--jobs`` unless the section set ``jobs``; validated
        again, so a ``--jobs`` over the audit's limit is refused as ``audit.jobs`` would be."""
        if self.jobs_set or jobs is None:
            return self.options
        return revalidated(self.options, build_options, jobs=jobs)


@dataclass(frozen=True)
class Manifest:
    """A loaded, validated manifest."""

    path: Path
    output_dir: Path
    jobs: tuple[AnyJob, ...]
    audit: AuditPlan | None = None

    def join_jobs(self) -> tuple[Job, ...]:
        """The join jobs, in manifest order (saliency jobs left out)."""
        return tuple(job for job in self.jobs if isinstance(job, Job))

    def dependencies(self) -> dict[str, tuple[str, ...]]:
        """Job name → the jobs whose outputs it reads, in manifest order."""
        return job_dependencies(self.jobs)

    def job(self, name: str) -> AnyJob:
        """The job called ``name``."""
        for job in self.jobs:
            if job.name == name:
                return job
        msg = f"{self.path}: no job named {name!r} (jobs: {', '.join(j.name for j in self.jobs)})"
        raise InputError(msg)
