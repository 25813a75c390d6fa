"""What is out of date in a batch, without running anything: ``second-opinion status``.

Each selected job is planned as ``batch`` would plan it (:func:`~second_opinion.batch.planning.
plan_job`: its fingerprint against its provenance record, input hashes from the hash cache, so an
unchanged batch reads no input), and given one state:

* ``up-to-date``: the output and its record match the job's inputs, options and tool version;
* ``stale``: the job would run, with the reason (``no output``, ``input changed (niqe)``,
  ``spec changed``, ``tool version changed (…)``, ``after job 'x', whose output it reads``);
* ``failed``: the job would run and its last recorded run (``OUTPUT_DIR/runs/*.json``) failed,
  with that error;
* ``error``: the job cannot be planned (an input is missing or unreadable), with the reason.

Nothing is written: not the hash cache, not a lock, not a run summary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from second_opinion.batch.manifest.jobs import Manifest
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.planning import plan_job
from second_opinion.batch.runner import select_jobs
from second_opinion.batch.selection import PYTHON_SPELLING
from second_opinion.errors import SecondOpinionError
from second_opinion.hashing import STATE_DIR, HashCache

State = Literal["up-to-date", "stale", "failed", "error"]
RUNS_READ = 50
"""How many of the newest run summaries are searched for a job's last run."""


@dataclass(frozen=True)
class JobStatus:
    """One job's state, why, and how its last recorded run ended."""

    name: str
    state: State
    reason: str
    output: str
    last_run: str | None = None
    """The status of the job in the newest run summary that has it (``done``, ``failed``, …)."""
    last_run_id: str | None = None


@dataclass(frozen=True)
class BatchStatus:
    """The state of every selected job of a manifest."""

    manifest: str
    output_dir: str
    jobs: tuple[JobStatus, ...]

    @property
    def up_to_date(self) -> bool:
        """Whether every selected job is up to date."""
        return all(job.state == "up-to-date" for job in self.jobs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``manifest``, ``output_dir``, ``up_to_date`` and ``jobs``."""
        return {
            "manifest": self.manifest,
            "output_dir": self.output_dir,
            "up_to_date": self.up_to_date,
            "jobs": [asdict(job) for job in self.jobs],
        }


def batch_status(
    manifest: str | os.PathLike[str] | Manifest,
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    only: Sequence[str] = (),
    out_dir: str | os.PathLike[str] | None = None,
    allow_outside_output_dir: bool = False,
    spelling: Mapping[str, str] = PYTHON_SPELLING,
) -> BatchStatus:
    """The state of each selected job (see the module docstring); runs and writes nothing.

    Selection is ``run_batch``'s (``select``, ``exclude``, ``only``). An invalid manifest raises
    :class:`~second_opinion.errors.InputError`, as ``batch`` would.
    """
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(
            manifest, out_dir=out_dir, allow_outside_output_dir=allow_outside_output_dir
        )
    selected = select_jobs(manifest, only, select=select, exclude=exclude, spelling=spelling)
    cache = HashCache(manifest.output_dir / STATE_DIR / "hashes.json")
    dependencies = manifest.dependencies()
    last = _last_runs(manifest.output_dir / "runs", [job.name for job in selected])
    states: dict[str, JobStatus] = {}
    for job in selected:
        changing = [
            d for d in dependencies.get(job.name, ()) if states.get(d, _FINE).state != "up-to-date"
        ]
        previous = last.get(job.name, {})
        run_status, run_id = previous.get("status"), previous.get("run_id")
        if changing:
            state: State = "stale"
            reason = f"after job {changing[0]!r}, whose output it reads"
        else:
            try:
                plan = plan_job(job, cache)
            except SecondOpinionError as exc:
                state, reason = "error", exc.message
            else:
                state, reason = ("stale", plan.reason) if plan.run else ("up-to-date", plan.reason)
        if state == "stale" and run_status == "failed":
            state = "failed"
            reason = f"its last run ({run_id}) failed: {previous.get('error') or reason}"
        states[job.name] = JobStatus(
            name=job.name,
            state=state,
            reason=reason,
            output=str(job.output),
            last_run=run_status,
            last_run_id=run_id,
        )
    return BatchStatus(
        manifest=str(manifest.path),
        output_dir=str(manifest.output_dir),
        jobs=tuple(states[job.name] for job in selected),
    )


_FINE = JobStatus(name="", state="up-to-date", reason="", output="")


def _last_runs(folder: Path, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per job, its entry in the newest run summary that has it (with ``run_id``).

    Unreadable summaries are passed over: they are a record, never a reason to fail.
    """
    try:  # newest first: run ids order by the second they started, the mtime finer
        summaries = sorted(
            ((p.stat().st_mtime_ns, p.name, p) for p in folder.iterdir() if p.suffix == ".json"),
            reverse=True,
        )
    except OSError:
        return {}
    wanted, found = set(names), {}
    for _, _, path in summaries[:RUNS_READ]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            jobs = data["jobs"] if not data.get("dry_run") else []
            entries = [(str(j["name"]), j) for j in jobs if isinstance(j, dict)]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        for name, entry in entries:
            if name in wanted and name not in found and isinstance(entry.get("status"), str):
                error = entry.get("error")
                found[name] = {
                    "status": entry["status"],
                    "error": error if isinstance(error, str) else None,
                    "run_id": path.stem,
                }
        if len(found) == len(wanted):
            break
    return found
