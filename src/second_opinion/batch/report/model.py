"""What the batch report shows, as data: jobs, their coverage, provenance and last run, the audit.

:func:`~second_opinion.batch.report.read.build_batch_report` fills these from an ``output_dir``;
:mod:`~second_opinion.batch.report.render` turns them into the page. Every field comes from a file
the batch left (a run summary, a provenance record, the hash cache) or from whether a file exists,
so the same folder always gives the same report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

FileState = Literal["unchanged", "changed", "modified", "missing", "unknown"]
"""An input or output now, against its record: ``unchanged`` (the hash cache holds its current
size and mtime with the recorded SHA-256), ``changed`` (other bytes: its size differs, or the cache
has another SHA-256 for it), ``modified`` (its size or mtime moved since it was last hashed: perhaps
only touched), ``missing``, ``unknown`` (not in the hash cache: not checked)."""


@dataclass(frozen=True)
class KeySample:
    """An unmatched key, and the closest key of the other side."""

    key: tuple[str, ...]
    closest: tuple[str, ...] | None


@dataclass(frozen=True)
class Diagnosis:
    """A fix the key diagnosis found: what to do, and how many rows it would match."""

    text: str
    matched: int
    rows: int


@dataclass(frozen=True)
class SidecarCoverage:
    """How one sidecar matched its job's base table.

    From a provenance record every count is known; from a failed run's summary only the fraction
    (``matched`` and the other counts are None).
    """

    scorer: str
    coverage: float
    path: str | None = None
    matched: int | None = None
    base_rows: int | None = None
    missing: int | None = None
    extra: int | None = None
    per_frame: bool = False
    frame_column: str | None = None
    unmatched_base: tuple[KeySample, ...] = ()
    unmatched_sidecar: tuple[KeySample, ...] = ()
    diagnosis: tuple[Diagnosis, ...] = ()


@dataclass(frozen=True)
class FileCheck:
    """A file a record names (an input, or the output), and how it stands now."""

    role: str
    path: str
    sha256: str
    state: FileState
    scorer: str | None = None
    size: int | None = None
    rows: int | None = None


@dataclass(frozen=True)
class Provenance:
    """What a job's provenance record says: the run that wrote it, versions, hashes."""

    record: str
    """The record's path."""
    run_id: str
    started: str
    finished: str
    seconds: float | None
    tool: str
    """``second-opinion 0.1.0``, with the git commit when run from a checkout."""
    environment: tuple[tuple[str, str], ...]
    fingerprint: str
    spec_sha256: str
    inputs: tuple[FileCheck, ...]
    output: FileCheck
    columns: int
    current: bool
    """Whether the record is the job's current one: false when the job's last run failed or was
    skipped, so the output and record are those of an earlier run."""


@dataclass(frozen=True)
class JobReport:
    """One job: how its last run ended, what it feeds and reads, its coverage and provenance."""

    name: str
    kind: str
    """``join`` or ``saliency`` (as the record says; ``join`` without a record)."""
    output: str
    output_exists: bool
    status: str | None
    """The job's status in the newest run summary that names it (``built``, ``rebuilt``,
    ``up-to-date``, ``failed``, ``skipped``); None when no summary names it."""
    reason: str = ""
    error: str | None = None
    notes: tuple[str, ...] = ()
    run_id: str | None = None
    seconds: float | None = None
    rows: int | None = None
    needs: tuple[str, ...] = ()
    """The jobs whose outputs it reads."""
    feeds: tuple[str, ...] = ()
    """The jobs that read its output."""
    coverage: tuple[SidecarCoverage, ...] = ()
    provenance: Provenance | None = None
    """What its record says; None when it has none (or it could not be read: see
    ``BatchReport.problems``)."""


@dataclass(frozen=True)
class RunReport:
    """One batch run, from its summary (``runs/<run_id>.json``)."""

    run_id: str
    summary: str
    """The summary's path."""
    manifest: str
    started: str
    finished: str
    ok: bool
    statuses: tuple[tuple[str, int], ...]
    """How many of its jobs ended in each status, in the order the statuses first occur."""
    audit: str | None
    """The audit's status in that run, if the manifest has an audit."""


@dataclass(frozen=True)
class AuditReport:
    """The manifest's audit, as the newest run that ran it says, and its report files."""

    status: str
    reason: str
    out: str
    run_id: str
    seconds: float
    error: str | None
    html: str | None
    """``audit.html`` in ``out``, when it exists."""
    markdown: str | None
    json: str | None


@dataclass(frozen=True)
class BatchReport:
    """Everything the batch report shows about one ``output_dir``."""

    output_dir: str
    manifest: str | None
    """The manifest of the newest run."""
    jobs: tuple[JobReport, ...]
    runs: tuple[RunReport, ...]
    """Newest first."""
    audit: AuditReport | None = None
    problems: tuple[str, ...] = ()
    """Files that were passed over, and why (an unreadable summary or record)."""

    @property
    def scorers(self) -> tuple[str, ...]:
        """Every scorer any job's coverage names, sorted."""
        return tuple(sorted({c.scorer for job in self.jobs for c in job.coverage}))

    def job(self, name: str) -> JobReport:
        """The job called ``name``."""
        return next(job for job in self.jobs if job.name == name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (``--json``)."""
        return asdict(self)
