"""Reading what batches leave: run summaries in ``output_dir/runs``, and provenance records.

Both are read leniently: a file that cannot be read, or does not have the fields the report
needs, is passed over with a line saying why (``BatchReport.problems``), never a reason to fail.
FIFOs and other odd files are never opened (:func:`~second_opinion.paths.not_a_file`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from second_opinion.paths import not_a_file
from second_opinion.provenance import ProvenanceUnreadable, provenance_path, read_record


class _Lenient(BaseModel):
    """A part of a run summary: the fields the report reads; others ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class SummaryJob(_Lenient):
    """A job's entry in a run summary."""

    name: str
    status: str
    output: str
    reason: str = ""
    rows: int | None = None
    coverage: dict[str, float] = Field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = Field(default_factory=list)


class SummaryAudit(_Lenient):
    """The audit's entry in a run summary."""

    status: str
    out: str
    reason: str = ""
    seconds: float = 0.0
    error: str | None = None


class Summary(_Lenient):
    """A run summary, ``runs/<run_id>.json``."""

    run_id: str
    manifest: str
    started: str
    finished: str
    ok: bool
    jobs: list[SummaryJob]
    dry_run: bool = False
    audit: SummaryAudit | None = None
    dependencies: dict[str, list[str]] | None = None
    """Job name → the jobs whose outputs it reads (summaries written before this field lack it)."""

    path: str = ""
    """Where the summary was read from (set by :func:`read_summaries`)."""


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def read_summaries(folder: Path) -> tuple[list[Summary], list[str]]:
    """The run summaries in ``folder`` (dry runs left out), newest first by the time each run
    started (then run id); and a line per file passed over."""
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if entry.name.endswith(".json"))
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"{folder}: cannot be listed ({exc.strerror or exc})"]
    summaries, problems = [], []
    for name in names:
        path = folder / name
        odd = not_a_file(path)
        if odd is not None:
            problems.append(f"{path}: {odd}; passed over")
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            summary = Summary.model_validate({**data, "path": str(path)})
        except (OSError, UnicodeDecodeError, ValueError, RecursionError, TypeError) as exc:
            why = _first_error(exc) if isinstance(exc, ValidationError) else type(exc).__name__
            problems.append(f"{path}: not a run summary ({why}); passed over")
            continue
        if not summary.dry_run:
            summaries.append(summary)
    summaries.sort(key=lambda s: (s.started, s.run_id), reverse=True)
    return summaries, problems


@dataclass(frozen=True)
class Record:
    """A provenance record read whole, and where it lies."""

    path: Path
    data: dict[str, Any]

    @property
    def job(self) -> str:
        return str(self.data["job"]["name"])

    @property
    def output(self) -> str:
        return str(self.data["output"]["path"])

    @property
    def started(self) -> str:
        return str(self.data["run"]["started"])


def read_records(outputs: list[Path]) -> tuple[dict[str, list[Record]], list[str]]:
    """The provenance records beside ``outputs``, by job name, newest run first; and a line per
    record that could not be read (a missing one is no problem: a failed job writes none)."""
    by_job: dict[str, list[Record]] = {}
    problems = []
    for output in dict.fromkeys(outputs):
        try:
            data = read_record(output)
        except ProvenanceUnreadable as exc:
            if str(exc) != "no provenance":
                problems.append(f"{provenance_path(output)}: {exc}; passed over")
            continue
        record = Record(provenance_path(output), data)
        by_job.setdefault(record.job, []).append(record)
    for records in by_job.values():
        records.sort(key=lambda r: (r.started, str(r.path)), reverse=True)
    return by_job, problems
