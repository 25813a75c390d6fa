"""Planning a batch job: must it run, and why? Its fingerprint against its provenance record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from second_opinion.batch.manifest.jobs import AnyJob
from second_opinion.errors import UsageError
from second_opinion.hashing import HashCache
from second_opinion.provenance import (
    ProvenanceUnreadable,
    fingerprint,
    read_record,
    spec_digest,
    tool_series,
)

NO_OUTPUT = "no output"


@dataclass(frozen=True)
class Plan:
    """Whether a job must run, why, and the digests that make up its fingerprint."""

    job: AnyJob
    run: bool
    reason: str
    input_sha256: tuple[str, ...] | None  # None: not needed to decide; the worker hashes
    input_stats: tuple[tuple[int, int], ...]  # (size, mtime_ns) when planned
    spec_sha256: str
    fingerprint: str | None
    record: dict[str, Any] | None

    @property
    def new(self) -> bool:
        """Whether the job had no output when planned (its first build)."""
        return self.reason == NO_OUTPUT


def file_stat(path: Path) -> tuple[int, int]:
    """``(size, mtime_ns)`` of ``path``: what tells a file changed without reading it."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def plan_job(job: AnyJob, cache: HashCache, *, force: bool = False) -> Plan:
    """Decide whether ``job`` must run, comparing its fingerprint with its provenance."""
    spec_sha = spec_digest(job.digest_data())
    try:
        stats = tuple(file_stat(path) for _, _, path in job.inputs)
        if not job.output.is_file():
            # Nothing to compare with: the worker hashes the inputs while it joins.
            return Plan(
                job=job,
                run=True,
                reason=NO_OUTPUT,
                input_sha256=None,
                input_stats=stats,
                spec_sha256=spec_sha,
                fingerprint=None,
                record=None,
            )
        inputs = tuple(cache.sha256(path) for _, _, path in job.inputs)
    except OSError as exc:
        msg = f"cannot read input {exc.filename}: {exc.strerror}"
        raise UsageError(msg) from None
    fp = fingerprint(spec_sha, list(inputs), "".join(job.output.suffixes))

    def plan(run: bool, reason: str, record: dict[str, Any] | None = None) -> Plan:
        return Plan(
            job=job,
            run=run,
            reason=reason,
            input_sha256=inputs,
            input_stats=stats,
            spec_sha256=spec_sha,
            fingerprint=fp,
            record=record,
        )

    try:
        record = read_record(job.output)
    except ProvenanceUnreadable as exc:
        return plan(True, str(exc))
    if force:
        return plan(True, "forced", record)
    if cache.sha256(job.output) != record.get("output", {}).get("sha256"):
        return plan(True, "output changed since its run", record)
    if record.get("fingerprint") == fp:
        return plan(False, "unchanged", record)
    recorded_tool = tool_series(str(record.get("tool", {}).get("version", "")))
    if recorded_tool != tool_series():
        return plan(True, f"tool version changed ({recorded_tool} -> {tool_series()})", record)
    if record.get("spec_sha256") != spec_sha:
        return plan(True, "spec changed", record)
    old = [i.get("sha256") for i in record.get("inputs", [])]
    for (role, scorer, _), new, before in zip(job.inputs, inputs, old, strict=False):
        if new != before:
            return plan(True, f"input changed ({scorer or role})", record)
    return plan(True, "fingerprint changed", record)
