"""Running a manifest's jobs: incrementally, in parallel, with provenance.

For each selected job the runner first decides, in this process, whether it must run (see
:func:`plan_job`: no output, provenance unreadable, output edited, input/spec/tool changed, or
``force``); jobs that must run go to an executor (:mod:`second_opinion.batch.executors`: worker
processes on this machine, or Ray tasks on a cluster), at most ``workers`` at a time (``--jobs``).
A worker joins (writing the output atomically), hashes the output and writes
``<output>.provenance.json``. The run holds the output folder's lock throughout, saves the hash
cache, and records a summary in ``<output_dir>/runs/<run_id>.json``. Ctrl-C or SIGTERM stops the
workers; nothing partial remains. The run's settings are one
:class:`~second_opinion.batch.settings.BatchSettings`, checked when made and passed whole.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from second_opinion._typing import Executor
from second_opinion.batch.dependencies import job_dependencies, levels
from second_opinion.batch.dry_run import dry_run_jobs
from second_opinion.batch.executors.run import scheduler_class
from second_opinion.batch.lock import output_lock
from second_opinion.batch.manifest.jobs import AnyJob, Manifest
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.outcomes import (
    READY,
    BatchEvent,
    EventHandler,
    JobResult,
    from_record,
)
from second_opinion.batch.planning import plan_job
from second_opinion.batch.selection import PYTHON_SPELLING, select_names
from second_opinion.batch.settings import BatchSettings
from second_opinion.batch.worker import sweep_stale
from second_opinion.errors import InputError, InterruptedRunError, UsageError
from second_opinion.hashing import STATE_DIR, HashCache
from second_opinion.placing import write_text_in_place
from second_opinion.provenance import canonical_json, new_run_id, utc_now
from second_opinion.tables.formats import Engine

if TYPE_CHECKING:
    from second_opinion.batch.audit_step import AuditOutcome


@dataclass
class BatchResult:
    """The outcome of a batch: one result per selected job, in manifest order."""

    run_id: str
    manifest: str
    output_dir: str
    started: str
    finished: str
    dry_run: bool
    jobs: list[JobResult]
    audit: AuditOutcome | None = None
    dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each selected job → the jobs whose outputs it reads (the batch report draws its graph)."""

    @property
    def ok(self) -> bool:
        """Whether every job is done, up to date, or (dry run) planned, and no audit failed."""
        audit_failed = self.audit is not None and self.audit.status == "failed"
        return not audit_failed and all(j.status in (*READY, "planned") for j in self.jobs)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "run_id": self.run_id,
            "manifest": self.manifest,
            "output_dir": self.output_dir,
            "started": self.started,
            "finished": self.finished,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "jobs": [j.to_dict() for j in self.jobs],
            "audit": self.audit.to_dict() if self.audit is not None else None,
            "dependencies": {name: list(needs) for name, needs in self.dependencies.items()},
        }


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- the entry point ----------------------------------------------------------------------------


def select_jobs(
    manifest: Manifest,
    only: Sequence[str] = (),
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    spelling: Mapping[str, str] = PYTHON_SPELLING,
) -> list[AnyJob]:
    """The selected jobs (:mod:`~second_opinion.batch.selection`), in manifest order.

    A selected job that reads the output of a job left out of the selection needs that output to
    exist already; if it does not, the selection is refused, naming the job to add.
    """
    dependencies = manifest.dependencies()
    names = select_names(
        [j.name for j in manifest.jobs],
        dependencies,
        select=select,
        exclude=exclude,
        only=only,
        manifest=str(manifest.path),
        spelling=spelling,
    )
    chosen = set(names)
    for name in names:
        for upstream in dependencies.get(name, ()):
            output = manifest.job(upstream).output
            if upstream not in chosen and not output.exists():
                msg = (
                    f"job {name!r} reads {output}, the output of job {upstream!r}, which is not "
                    f"built yet and not selected: select it too ({spelling['select']} +{name})"
                )
                raise UsageError(msg)
    return [j for j in manifest.jobs if j.name in chosen]


def run_batch(
    manifest: str | os.PathLike[str] | Manifest,
    *,
    only: Sequence[str] = (),
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    spelling: Mapping[str, str] = PYTHON_SPELLING,
    jobs: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    keep_going: bool = True,
    out_dir: str | os.PathLike[str] | None = None,
    lock_timeout: float = 0.0,
    on_event: EventHandler | None = None,
    engine: Engine | None = None,
    allow_outside_output_dir: bool = False,
    executor: Executor = "local",
    ray_address: str | None = None,
    settings: BatchSettings | None = None,
) -> BatchResult:
    """Run (or, with ``dry_run``, plan) the manifest's jobs; see the module docstring.

    Raises :class:`InputError` for an invalid manifest (before anything runs), :class:`BusyError`
    when another batch holds the output folder, :class:`InterruptedRunError` on Ctrl-C/SIGTERM.
    Failed jobs do not raise: they are in the result (``result.ok`` is false).

    ``select`` / ``exclude`` choose jobs by name, glob and graph operators (``+job``: with what
    feeds it, ``job+``: with what it feeds; :mod:`~second_opinion.batch.selection`); ``only`` is
    the first release's ``--only``, the same as ``select=["+NAME"]``. ``spelling`` maps those
    keywords to how the caller wrote them, for messages (the CLI passes its flags).

    ``executor`` runs the jobs in local worker processes (``"local"``) or as Ray tasks
    (``"ray"``, on the cluster at ``ray_address``; see :mod:`second_opinion.batch.executors.ray`).
    ``jobs`` (how many run at once), ``force``, ``dry_run``, ``keep_going``, ``engine``,
    ``executor`` and ``ray_address`` may instead come whole as ``settings``, not both ways.
    """
    given = BatchSettings(
        workers=jobs,
        force=force,
        dry_run=dry_run,
        keep_going=keep_going,
        engine=engine,
        executor=executor,
        ray_address=ray_address,
    )
    if settings is None:
        settings = given
    elif given != BatchSettings():
        msg = (
            "run_batch: give jobs, force, dry_run, keep_going, engine, executor and ray_address "
            "either in settings= or as keywords, not both"
        )
        raise UsageError(msg)
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(
            manifest, out_dir=out_dir, allow_outside_output_dir=allow_outside_output_dir
        )
    if manifest.audit is not None:
        # The audit's limits refuse the batch's --jobs before a job runs.
        manifest.audit.options_for(settings.workers)
    selected = select_jobs(manifest, only, select=select, exclude=exclude, spelling=spelling)
    dependencies = manifest.dependencies()
    emit = on_event or _ignore
    run_id, started = new_run_id(), utc_now()
    cache_path = manifest.output_dir / STATE_DIR / "hashes.json"

    def finished(jobs: list[JobResult], audit: AuditOutcome | None) -> BatchResult:
        return BatchResult(
            run_id=run_id,
            manifest=str(manifest.path),
            output_dir=str(manifest.output_dir),
            started=started,
            finished=utc_now(),
            dry_run=settings.dry_run,
            jobs=jobs,
            audit=audit,
            dependencies={job.name: dependencies.get(job.name, ()) for job in selected},
        )

    if settings.dry_run:
        planned = dry_run_jobs(selected, HashCache(cache_path), settings=settings, emit=emit)
        return finished(
            planned, _audit(manifest, planned, HashCache(cache_path), settings=settings, emit=emit)
        )
    if settings.executor == "ray":
        from second_opinion.batch.executors.ray import preflight  # noqa: PLC0415 - optional extra

        preflight(settings.ray_address)
    try:
        manifest.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{manifest.output_dir}: cannot create the output folder ({exc.strerror or exc})"
        raise InputError(msg) from None
    with _sigterm_as_interrupt():
        try:
            with output_lock(manifest.output_dir, run_id, started, lock_timeout):
                # What a killed run left (kill -9 leaves its staging files): swept under the lock,
                # by this tool's exact staging names, also beside outputs that are up to date.
                sweep_stale(manifest.output_dir, selected, cache_path)
                cache = HashCache(cache_path, root=manifest.output_dir)
                try:
                    with contextlib.ExitStack() as resources:
                        run = _Run(
                            selected=selected,
                            output_dir=manifest.output_dir,
                            cache=cache,
                            run_id=run_id,
                            settings=settings,
                            emit=emit,
                            resources=resources,
                        )
                        results = _run_jobs(run)
                    audit = _audit(manifest, results, cache, settings=settings, emit=emit)
                finally:
                    cache.save()
                batch = finished(results, audit)
                write_text_in_place(
                    manifest.output_dir / "runs" / f"{run_id}.json",
                    canonical_json(batch.to_dict()) + "\n",
                    "the run summary",
                    root=manifest.output_dir,
                )
        except KeyboardInterrupt:  # while waiting for the lock or hashing inputs
            msg = "interrupted before any job started; nothing was written"
            raise InterruptedRunError(msg) from None
    return batch


def _audit(
    manifest: Manifest,
    results: list[JobResult],
    cache: HashCache,
    *,
    settings: BatchSettings,
    emit: EventHandler,
) -> AuditOutcome | None:
    """Run the manifest's audit section (imported only then: it loads scikit-learn)."""
    if manifest.audit is None:
        return None
    from second_opinion.batch.audit_step import run_manifest_audit  # noqa: PLC0415

    if not settings.dry_run:
        emit(BatchEvent("started", "audit"))
    outcome = run_manifest_audit(
        manifest,
        results,
        cache,
        stale=lambda name: plan_job(manifest.job(name), cache).run,
        settings=settings,
        step=lambda message: emit(BatchEvent("phase", "audit", message)),
        progress=lambda event: emit(BatchEvent("progress", "audit", event.label, progress=event)),
    )
    if outcome is not None:
        emit(BatchEvent("finished", "audit", outcome.status))
    return outcome


def _ignore(event: BatchEvent) -> None:
    """The event handler when the caller gives none."""


@dataclass(kw_only=True)
class _Run:
    """One batch run's state, shared by its waves."""

    selected: list[AnyJob]
    output_dir: Path
    cache: HashCache
    run_id: str
    settings: BatchSettings
    emit: EventHandler
    resources: contextlib.ExitStack
    capacity: int | None = None

    def workers_for(self, count: int) -> int:
        """How many of ``count`` jobs run at once; the first call readies the executor (a Ray
        session and its check of every node), so a batch with nothing to run needs neither."""
        if self.capacity is None:
            if self.settings.executor == "ray":
                from second_opinion.batch.executors import ray  # noqa: PLC0415 - optional extra

                self.resources.enter_context(ray.ray_session(self.settings.ray_address))
                ray.check_cluster(self.selected, self.output_dir, self.run_id)
                self.capacity = ray.capacity()
            else:
                self.capacity = os.cpu_count() or 1
        return self.settings.workers or min(self.capacity, max(1, count))


def _run_jobs(run: _Run) -> list[JobResult]:
    """Run the jobs wave by wave (a job after the jobs whose outputs it reads); in each wave
    plan every job and run the ones that must run, in parallel. Results in ``selected`` order."""
    deps = job_dependencies(run.selected)
    by_name = {job.name: job for job in run.selected}
    results: dict[str, JobResult] = {}
    for wave in levels(list(by_name), deps):
        ready = []
        for name in wave:
            reason = _blocked(name, deps, results, keep_going=run.settings.keep_going)
            if reason is None:
                ready.append(by_name[name])
                continue
            result = JobResult.for_job(by_name[name], "skipped", reason=reason)
            results[name] = result
            run.emit(BatchEvent("finished", name, result.status, result))
        results |= _run_wave(ready, run)
    return [results[j.name] for j in run.selected]


def _blocked(
    name: str, deps: dict[str, tuple[str, ...]], results: dict[str, JobResult], *, keep_going: bool
) -> str | None:
    """Why job ``name`` cannot run after the waves so far, or None."""
    for needed in deps[name]:
        status = results[needed].status
        if status not in READY:
            return f"input from job {needed!r} is not ready ({status})"
    if not keep_going:
        failed = [r.name for r in results.values() if r.status == "failed"]
        if failed:
            return f"job {failed[0]!r} failed (--fail-fast)"
    return None


def _run_wave(wave: list[AnyJob], run: _Run) -> dict[str, JobResult]:
    """Plan every job of a wave, run the ones that must run; results by job name."""
    plans = [plan_job(job, run.cache, force=run.settings.force) for job in wave]
    for plan in plans:
        run.emit(BatchEvent("planned", plan.job.name, plan.reason if plan.run else "up-to-date"))
    results = {p.job.name: from_record(p, "up-to-date") for p in plans if not p.run}
    for name, result in results.items():
        run.emit(BatchEvent("finished", name, result.status, result))
    to_run = [p for p in plans if p.run]
    if not to_run:
        return results
    scheduler = scheduler_class(run.settings.executor)(
        to_run,
        run_id=run.run_id,
        workers=run.workers_for(len(to_run)),
        settings=run.settings,
        on_event=run.emit,
        cache=run.cache,
    )
    return results | scheduler.run()
