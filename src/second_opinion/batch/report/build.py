"""The batch report of an ``output_dir``, from what batches leave there, and where it is written.

:func:`build_batch_report` reads the run summaries (``runs/*.json``), the provenance record
beside every output a summary names, and the hash cache (``.second-opinion/hashes.json``); it
needs no manifest, runs nothing and writes nothing.
Each job is shown as the newest run that names it left it; its coverage, samples and diagnosis come
from its record while that record is its current one. :func:`write_batch_report` renders the page
and writes it atomically (inside ``output_dir`` through the confined writes of
:mod:`~second_opinion.placing`).
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from second_opinion.batch.report.coverage import file_check, sidecar_coverage
from second_opinion.batch.report.model import (
    AuditReport,
    BatchReport,
    JobReport,
    Provenance,
    RunReport,
    SidecarCoverage,
)
from second_opinion.batch.report.runs import (
    Record,
    Summary,
    SummaryJob,
    read_records,
    read_summaries,
)
from second_opinion.errors import InputError
from second_opinion.hashing import STATE_DIR, HashCache
from second_opinion.paths import not_a_folder, resolved
from second_opinion.provenance import provenance_path

PREVIOUS = ("failed", "skipped")
"""Statuses after which a job's output and record are those of an earlier run."""
AUDIT_FILES = ("audit.html", "audit.md", "audit.json")
"""The audit's report files (``second_opinion.audit.output``), linked when they exist."""


def build_batch_report(output_dir: str | os.PathLike[str]) -> BatchReport:
    """Everything the batch report shows about ``output_dir`` (see the module docstring).

    Raises :class:`InputError` when ``output_dir`` is not a folder or holds no run summary.
    """
    root = Path(output_dir).absolute()
    odd = not_a_folder(root)
    if odd is not None:
        msg = f"{root}: {odd}; give the output_dir of a batch (where its runs/ folder is)"
        raise InputError(msg)
    summaries, problems = read_summaries(root / "runs")
    if not summaries:
        msg = (
            f"{root}: no run summary here (runs/*.json): not the output_dir of a batch that "
            "ran; run second-opinion batch MANIFEST first, or give the folder it wrote to"
        )
        raise InputError(msg)
    records, unreadable = read_records([Path(job.output) for s in summaries for job in s.jobs])
    problems += unreadable
    cache = HashCache(root / STATE_DIR / "hashes.json").entries
    newest = _newest_entries(summaries)
    chosen = {n: _record_of(n, newest.get(n), records) for n in _job_order(summaries)}
    producers = {resolved(Path(_output_of(n, newest.get(n), r))): n for n, r in chosen.items()}
    jobs = []
    for name, record in chosen.items():
        entry = newest.get(name)
        needs = _needs(name, entry, record, producers)
        jobs.append(_job(name, entry, record, needs, cache))
    feeds = {job.name: tuple(j.name for j in jobs if job.name in j.needs) for job in jobs}
    return BatchReport(
        output_dir=str(root),
        manifest=summaries[0].manifest if summaries else None,
        jobs=tuple(dataclasses.replace(job, feeds=feeds[job.name]) for job in jobs),
        runs=tuple(_run(s) for s in summaries),
        audit=_audit(summaries),
        problems=tuple(problems),
    )


def _newest_entries(summaries: Sequence[Summary]) -> dict[str, tuple[Summary, SummaryJob]]:
    """Each job's entry in the newest summary that names it (summaries come newest first)."""
    found: dict[str, tuple[Summary, SummaryJob]] = {}
    for summary in summaries:
        for job in summary.jobs:
            found.setdefault(job.name, (summary, job))
    return found


def _job_order(summaries: Sequence[Summary]) -> list[str]:
    """Jobs in the order runs first named them (oldest run first, each in its manifest order)."""
    order: dict[str, None] = {}
    for summary in reversed(summaries):
        order.update(dict.fromkeys(job.name for job in summary.jobs))
    return list(order)


def _record_of(
    name: str, entry: tuple[Summary, SummaryJob] | None, records: Mapping[str, list[Record]]
) -> Record | None:
    """The job's record: the one beside the output its newest run names, else its newest."""
    candidates = records.get(name, [])
    if entry is not None:
        beside = provenance_path(Path(entry[1].output))
        for record in candidates:
            if record.path == beside:
                return record
    return candidates[0] if candidates else None


def _output_of(name: str, entry: tuple[Summary, SummaryJob] | None, record: Record | None) -> str:
    if entry is not None:
        return entry[1].output
    return record.output if record is not None else name


def _needs(
    name: str,
    entry: tuple[Summary, SummaryJob] | None,
    record: Record | None,
    producers: Mapping[Path, str],
) -> tuple[str, ...]:
    """The jobs whose outputs ``name`` reads: as its newest run's summary says, else from the
    inputs its record names."""
    known = set(producers.values())
    if entry is not None and entry[0].dependencies is not None:
        listed = entry[0].dependencies.get(name, [])
        return tuple(dict.fromkeys(n for n in listed if n in known and n != name))
    if record is None:
        return ()
    paths = [resolved(Path(str(item["path"]))) for item in record.data["inputs"] if "path" in item]
    found = (producers.get(path) for path in paths)
    return tuple(dict.fromkeys(n for n in found if n is not None and n != name))


def _job(
    name: str,
    entry: tuple[Summary, SummaryJob] | None,
    record: Record | None,
    needs: tuple[str, ...],
    cache: Mapping[str, Any],
) -> JobReport:
    ran = entry[1] if entry is not None else None
    status = ran.status if ran is not None else None
    current = status not in PREVIOUS
    provenance = _provenance(record, cache, current=current) if record is not None else None
    coverage: tuple[SidecarCoverage, ...] = ()
    if record is not None and current:
        coverage = tuple(sidecar_coverage(c) for c in record.data["coverage"])
    elif ran is not None:
        coverage = tuple(SidecarCoverage(s, f) for s, f in ran.coverage.items())
    output = _output_of(name, entry, record)
    kind = record.data["job"].get("kind") if record is not None else None
    rows = ran.rows if ran is not None else record.data["output"]["rows"] if record else None
    return JobReport(
        name=name,
        kind=kind if isinstance(kind, str) else "join",
        output=output,
        output_exists=Path(output).is_file(),
        status=status,
        reason=ran.reason if ran is not None else "",
        error=ran.error if ran is not None else None,
        notes=tuple(ran.notes) if ran is not None else (),
        run_id=entry[0].run_id if entry is not None else None,
        seconds=ran.seconds if ran is not None else None,
        rows=rows,
        needs=needs,
        coverage=coverage,
        provenance=provenance,
    )


def _provenance(record: Record, cache: Mapping[str, Any], *, current: bool) -> Provenance:
    data = record.data
    tool = f"{data['tool']['name']} {data['tool']['version']}"
    commit = data["tool"].get("git_commit")
    if isinstance(commit, str) and commit:
        tool += f" (git {commit[:12]})"
    seconds = data["run"].get("seconds")
    environment = tuple(
        (key, str(value))
        for key, value in sorted(data["environment"].items())
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    )
    return Provenance(
        record=str(record.path),
        run_id=data["run"]["run_id"],
        started=data["run"]["started"],
        finished=data["run"]["finished"],
        seconds=float(seconds) if isinstance(seconds, int | float) else None,
        tool=tool,
        environment=environment,
        fingerprint=data["fingerprint"],
        spec_sha256=data["spec_sha256"],
        inputs=tuple(file_check(item, str(item["role"]), cache) for item in data["inputs"]),
        output=file_check(data["output"], "output", cache),
        columns=len(data["output"]["columns"]),
        current=current,
    )


def _run(summary: Summary) -> RunReport:
    counts = Counter(job.status for job in summary.jobs)
    return RunReport(
        run_id=summary.run_id,
        summary=summary.path,
        manifest=summary.manifest,
        started=summary.started,
        finished=summary.finished,
        ok=summary.ok,
        statuses=tuple(counts.items()),
        audit=summary.audit.status if summary.audit is not None else None,
    )


def _audit(summaries: Sequence[Summary]) -> AuditReport | None:
    """The audit as the newest run that has one left it, with its report files."""
    for summary in summaries:
        audit = summary.audit
        if audit is None:
            continue
        html, markdown, json = (
            str(path) if path.is_file() else None
            for path in (Path(audit.out) / name for name in AUDIT_FILES)
        )
        return AuditReport(
            status=audit.status,
            reason=audit.reason,
            out=audit.out,
            run_id=summary.run_id,
            seconds=audit.seconds,
            error=audit.error,
            html=html,
            markdown=markdown,
            json=json,
        )
    return None
