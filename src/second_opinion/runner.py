"""Running a manifest's jobs: incrementally, in parallel worker processes, with provenance.

For each selected job the runner first decides, in this process, whether it must run (see
:func:`plan_job`: no output, provenance unreadable, output edited, input/spec/tool changed, or
``force``); jobs that must run go to worker processes, at most ``jobs`` at a time. A worker joins
(writing the output atomically), hashes the output and writes ``<output>.provenance.json``. The
run holds the output folder's lock throughout, saves the hash cache, and records a summary in
``<output_dir>/runs/<run_id>.json``. Ctrl-C or SIGTERM stops the workers; nothing partial remains.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import queue
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from second_opinion.coverage import Coverage
from second_opinion.dependencies import job_dependencies, levels, with_dependencies
from second_opinion.errors import (
    InputError,
    InterruptedRunError,
    SecondOpinionError,
    UsageError,
)
from second_opinion.hashing import HashCache, sha256_file, write_text_atomic
from second_opinion.lock import output_lock
from second_opinion.manifest import AnyJob, Manifest, SaliencyJob, load_manifest
from second_opinion.materialize import materialize, preview
from second_opinion.provenance import (
    SCHEMA,
    ProvenanceUnreadable,
    canonical_json,
    environment,
    fingerprint,
    provenance_path,
    read_record,
    record_text,
    spec_digest,
    tool_info,
    tool_series,
)
from second_opinion.tables import Engine

if TYPE_CHECKING:
    from second_opinion.audit.batch import AuditOutcome

Status = Literal["done", "up-to-date", "failed", "planned", "skipped"]
STATE_DIR = ".second-opinion"


def utc_now() -> str:
    """The current UTC time, ISO 8601 with a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@dataclass
class JobResult:
    """How one job ended (or would end, under ``dry_run``)."""

    name: str
    status: Status
    reason: str
    output: str
    rows: int | None = None
    coverage: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    """What a done job left out, e.g. the clips a saliency job skipped, and why."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the documented keys."""
        return asdict(self)


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

    @property
    def ok(self) -> bool:
        """Whether every job is done, up to date, or (dry run) planned, and no audit failed."""
        audit_failed = self.audit is not None and self.audit.status == "failed"
        return not audit_failed and all(
            j.status in ("done", "up-to-date", "planned") for j in self.jobs
        )

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
        }


@dataclass(frozen=True)
class BatchEvent:
    """Progress, for displays: a job was planned, started, changed phase, or finished."""

    kind: Literal["planned", "started", "phase", "finished"]
    job: str
    detail: str = ""
    result: JobResult | None = None


EventHandler = Callable[[BatchEvent], None]
EventQueue = Any
"""The workers' multiprocessing queue of events (untyped in the standard library)."""


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


def _failed_coverage(error: SecondOpinionError) -> dict[str, float]:
    """Coverage per scorer carried by a policy failure (empty for other errors)."""
    report = getattr(error, "report", None)
    if not isinstance(report, tuple):
        return {}
    return {c.scorer: c.coverage for c in report if isinstance(c, Coverage)}


def _coverage_fractions(coverage: Sequence[dict[str, Any]]) -> dict[str, float]:
    return {str(c["scorer"]): float(c["coverage"]) for c in coverage}


def _stat(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def plan_job(job: AnyJob, cache: HashCache, *, force: bool = False) -> Plan:
    """Decide whether ``job`` must run, comparing its fingerprint with its provenance."""
    spec_sha = spec_digest(job.digest_data())
    try:
        stats = tuple(_stat(path) for _, _, path in job.inputs)
        if not job.output.is_file():
            # Nothing to compare with: the worker hashes the inputs while it joins.
            return Plan(job, True, "no output", None, stats, spec_sha, None, None)
        inputs = tuple(cache.sha256(path) for _, _, path in job.inputs)
    except OSError as exc:
        msg = f"cannot read input {exc.filename}: {exc.strerror}"
        raise UsageError(msg) from None
    fp = fingerprint(spec_sha, list(inputs), "".join(job.output.suffixes))

    def plan(run: bool, reason: str, record: dict[str, Any] | None = None) -> Plan:
        return Plan(job, run, reason, inputs, stats, spec_sha, fp, record)

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


# --- the worker ---------------------------------------------------------------------------------


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)  # unwinds, so join_to_file's cleanup removes its temporary file


@contextlib.contextmanager
def _sigterm_held() -> Iterator[None]:
    """Defer SIGTERM (delivered on exit from the block) around a short critical section."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _check_unchanged(plan: Plan) -> None:
    """Refuse to record an output built from an input that changed after it was hashed."""
    for (role, scorer, path), before in zip(plan.job.inputs, plan.input_stats, strict=True):
        try:
            now = _stat(path)
        except OSError:
            now = None
        if now != before:
            what = "was deleted" if now is None else "changed"
            msg = (
                f"{role}{' ' + scorer if scorer else ''} {path} {what} while the job ran; "
                "nothing was written, run the batch again"
            )
            raise InputError(msg)


def _worker(plan: Plan, run_id: str, events: EventQueue, engine: Engine | None = None) -> None:
    """Run one job in a worker process and put its outcome on ``events``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    job = plan.job
    started, clock = utc_now(), time.monotonic()
    # The output is built under a staging name and renamed into place together with its
    # provenance, with SIGTERM held off, so that an interruption leaves both old or both new.
    staging = job.output.with_name(
        f".{job.output.name}.{secrets.token_hex(6)}.staging{''.join(job.output.suffixes)}"
    )
    record_staging = provenance_path(staging)
    paths = [path for _, _, path in job.inputs]
    hasher = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        # Inputs not hashed yet are hashed beside the join (hashlib and DuckDB release the GIL).
        pending = hasher.submit(lambda: plan.input_sha256 or tuple(sha256_file(p) for p in paths))
        made = materialize(
            job, staging, lambda phase: events.put(("phase", job.name, phase)), engine
        )
        try:
            input_sha256: tuple[str, ...] = pending.result()
        except OSError as exc:
            _check_unchanged(plan)  # names the input that went away, if that is what happened
            msg = f"cannot read input {exc.filename}: {exc.strerror}"
            raise InputError(msg) from None
        fp = plan.fingerprint or fingerprint(
            plan.spec_sha256, list(input_sha256), "".join(job.output.suffixes)
        )
        _check_unchanged(plan)
        events.put(("phase", job.name, "provenance"))
        output_sha = sha256_file(staging)
        coverage = made.coverage
        rows_by_scorer = {str(c["scorer"]): c["sidecar_rows"] for c in coverage}
        base_rows = made.base_rows
        owner = "clip_id" if isinstance(job, SaliencyJob) else "scorer"
        inputs: list[dict[str, Any]] = []
        for (role, scorer, path), digest in zip(job.inputs, input_sha256, strict=True):
            item: dict[str, Any] = {
                "role": role,
                "path": str(path),
                "size": plan.input_stats[len(inputs)][0],
                "sha256": digest,
            }
            base = role in ("features", "metadata")
            item["rows"] = base_rows if base else rows_by_scorer.get(scorer or "")
            if scorer:
                item[owner] = scorer
            inputs.append(item)
        finished = utc_now()
        record = {
            "schema": SCHEMA,
            "tool": tool_info(),
            "environment": environment(),
            "run": {
                "run_id": run_id,
                "started": started,
                "finished": finished,
                "seconds": round(time.monotonic() - clock, 6),
            },
            "job": job.canonical(),
            "spec_sha256": plan.spec_sha256,
            "fingerprint": fp,
            "inputs": inputs,
            "output": {
                "path": str(job.output),
                "size": staging.stat().st_size,
                "sha256": output_sha,
                "rows": made.rows,
                "columns": list(made.columns),
            },
            "coverage": coverage,
            **made.extra,
        }
        # The record is staged too, so a full disk fails here, with the old output untouched.
        try:
            write_text_atomic(record_staging, record_text(record))
        except OSError as exc:
            msg = (
                f"{provenance_path(job.output)}: cannot write the provenance record "
                f"({exc.strerror or exc}); the previous output is untouched"
            )
            raise InputError(msg) from None
        with _sigterm_held():
            staging.replace(job.output)
            record_staging.replace(provenance_path(job.output))
        stat = job.output.stat()
        events.put(("result", job.name, {
            "status": "done", "rows": made.rows, "coverage": _coverage_fractions(coverage),
            "seconds": time.monotonic() - clock,
            "output_stat": (stat.st_size, stat.st_mtime_ns, output_sha),
            "input_hashes": [
                (str(path.absolute()), size, mtime, digest)
                for path, (size, mtime), digest in zip(paths, plan.input_stats, input_sha256,
                                                       strict=True)
            ],
        }))  # fmt: skip
    except SecondOpinionError as exc:
        fractions = _failed_coverage(exc)
        events.put(
            (
                "result",
                job.name,
                {
                    "status": "failed",
                    # Name the output as the manifest does, not its hidden staging file.
                    "error": exc.message.replace(str(staging), str(job.output)),
                    "coverage": fractions,
                    "seconds": time.monotonic() - clock,
                },
            )
        )
    except Exception as exc:  # noqa: BLE001 - a worker reports every failure instead of dying
        events.put(
            (
                "result",
                job.name,
                {
                    "status": "failed",
                    "error": f"internal error: {type(exc).__name__}: {exc}",
                    "seconds": time.monotonic() - clock,
                },
            )
        )
    finally:
        hasher.shutdown(wait=True, cancel_futures=True)
        staging.unlink(missing_ok=True)
        record_staging.unlink(missing_ok=True)


# --- the scheduler ------------------------------------------------------------------------------


def _context() -> BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["second_opinion.runner"])
        return ctx
    return multiprocessing.get_context("spawn")


def _sweep_temporaries(output: Path) -> None:
    """Remove what a killed worker may have left beside ``output``: temporary, staging files."""
    if not output.parent.is_dir():
        return
    prefixes = (f".{output.name}.", f"..{output.name}.")
    for stray in output.parent.iterdir():
        name = stray.name
        if name.startswith(prefixes) and (name.endswith(".tmp") or ".staging" in name):
            with contextlib.suppress(OSError):
                stray.unlink()


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


class _Scheduler:
    def __init__(self, plans: list[Plan], run_id: str, workers: int, *, keep_going: bool,
                 on_event: EventHandler | None, cache: HashCache,
                 engine: Engine | None = None) -> None:  # fmt: skip
        self.engine = engine
        self.pending = list(plans)
        self.run_id = run_id
        self.workers = max(1, workers)
        self.keep_going = keep_going
        self.on_event = on_event or (lambda event: None)
        self.cache = cache
        self.ctx = _context()
        self.events: Any = self.ctx.Queue()
        self.running: dict[str, tuple[BaseProcess, Plan]] = {}
        self.results: dict[str, JobResult] = {}
        self.failed_first: str | None = None
        self.started: dict[str, float] = {}

    def run(self) -> dict[str, JobResult]:
        try:
            while self.pending or self.running:
                self._start_more()
                self._drain(timeout=0.1)
                self._reap()
        except KeyboardInterrupt:
            self._stop_all()
            msg = "interrupted: stopped the running jobs; no partial output was left"
            raise InterruptedRunError(msg) from None
        return self.results

    def _start_more(self) -> None:
        while self.pending and len(self.running) < self.workers:
            if self.failed_first and not self.keep_going:
                for plan in self.pending:
                    self._finish(plan, JobResult(
                        plan.job.name, "skipped", f"--fail-fast: {self.failed_first} failed",
                        str(plan.job.output)))  # fmt: skip
                self.pending.clear()
                return
            plan = self.pending.pop(0)
            _sweep_temporaries(plan.job.output)
            try:
                plan.job.output.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                error = (
                    f"{plan.job.output.parent}: cannot create the folder ({exc.strerror or exc})"
                )
                self._finish(plan, JobResult(plan.job.name, "failed", plan.reason,
                                             str(plan.job.output), error=error))  # fmt: skip
                self.failed_first = self.failed_first or plan.job.name
                continue
            process = self.ctx.Process(  # type: ignore[attr-defined]
                target=_worker,
                args=(plan, self.run_id, self.events, self.engine),
                name=plan.job.name,
            )
            process.start()
            self.running[plan.job.name] = (process, plan)
            self.started[plan.job.name] = time.monotonic()
            self.on_event(BatchEvent("started", plan.job.name, plan.reason))

    def _drain(self, timeout: float) -> None:
        with contextlib.suppress(queue.Empty):
            kind, name, payload = self.events.get(timeout=timeout)
            while True:
                self._handle(kind, name, payload)
                kind, name, payload = self.events.get_nowait()

    def _handle(self, kind: str, name: str, payload: Any) -> None:  # noqa: ANN401
        if kind == "phase":
            self.on_event(BatchEvent("phase", name, str(payload)))
            return
        process, plan = self.running.pop(name)
        process.join()
        for path, size, mtime_ns, sha in payload.pop("input_hashes", []):
            self.cache.entries[path] = {"size": size, "mtime_ns": mtime_ns, "sha256": sha}
            self.cache.changed = True
        size_mtime_sha = payload.pop("output_stat", None)
        if size_mtime_sha is not None:
            size, mtime_ns, sha = size_mtime_sha
            self.cache.entries[str(plan.job.output.absolute())] = {
                "size": size, "mtime_ns": mtime_ns, "sha256": sha}  # fmt: skip
            self.cache.changed = True
        result = JobResult(plan.job.name, reason=plan.reason, output=str(plan.job.output),
                           **payload)  # fmt: skip
        if result.status == "failed":
            self.failed_first = self.failed_first or name
        self._finish(plan, result)

    def _reap(self) -> None:
        for name, (process, plan) in list(self.running.items()):
            if process.is_alive() or process.exitcode is None:
                continue
            self._drain(timeout=0.5)  # its result may still be in the queue
            if name in self.running:
                del self.running[name]
                _sweep_temporaries(plan.job.output)
                self.failed_first = self.failed_first or name
                self._finish(plan, JobResult(
                    name, "failed", plan.reason, str(plan.job.output),
                    seconds=time.monotonic() - self.started.get(name, time.monotonic()),
                    error=f"the worker process died (exit code {process.exitcode}); "
                    "the previous output, if any, is unchanged"))  # fmt: skip

    def _finish(self, plan: Plan, result: JobResult) -> None:
        self.results[plan.job.name] = result
        self.on_event(BatchEvent("finished", plan.job.name, result.status, result))

    def _stop_all(self) -> None:
        for process, _ in self.running.values():
            process.terminate()
        deadline = time.monotonic() + 10
        for process, plan in self.running.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
            _sweep_temporaries(plan.job.output)
        self.running.clear()


# --- the entry point ----------------------------------------------------------------------------


def select_jobs(manifest: Manifest, only: Sequence[str]) -> list[AnyJob]:
    """The jobs named by ``only`` and the jobs they read outputs of (all when empty), in
    manifest order."""
    if not only:
        return list(manifest.jobs)
    names = {j.name for j in manifest.jobs}
    unknown = [n for n in only if n not in names]
    if unknown:
        msg = (
            f"--only {unknown[0]!r}: no such job in {manifest.path} "
            f"(jobs: {', '.join(sorted(names))})"
        )
        raise UsageError(msg)
    needed = with_dependencies(only, manifest.dependencies())
    return [j for j in manifest.jobs if j.name in needed]


def _from_record(plan: Plan, status: Status) -> JobResult:
    record = plan.record or {}
    return JobResult(
        plan.job.name,
        status,
        plan.reason,
        str(plan.job.output),
        rows=record.get("output", {}).get("rows"),
        coverage=_coverage_fractions(record.get("coverage", [])),
    )


def _dry_run(plan: Plan, engine: Engine | None = None) -> JobResult:
    if not plan.run:
        return _from_record(plan, "up-to-date")
    clock = time.monotonic()
    try:
        made = preview(plan.job, engine)
    except SecondOpinionError as exc:
        return JobResult(plan.job.name, "failed", plan.reason, str(plan.job.output),
                         coverage=_failed_coverage(exc), seconds=time.monotonic() - clock,
                         error=exc.message)  # fmt: skip
    return JobResult(
        plan.job.name,
        "planned",
        plan.reason,
        str(plan.job.output),
        rows=made.rows,
        coverage=_coverage_fractions(made.coverage),
        seconds=time.monotonic() - clock,
    )


def _dry_run_jobs(
    selected: list[AnyJob],
    cache: HashCache,
    *,
    force: bool,
    emit: EventHandler,
    engine: Engine | None = None,
) -> list[JobResult]:
    """Plan each job; a job reading the output of a job that would run is planned after it."""
    deps = job_dependencies(selected)
    results: dict[str, JobResult] = {}
    for job in sorted(selected, key=lambda j: _depth(j.name, deps)):
        changing = [d for d in deps[job.name] if results[d].status in ("planned", "failed")]
        if changing:
            reason = f"after job {changing[0]!r}, whose output it reads"
            result = JobResult(job.name, "planned", reason, str(job.output))
        else:
            result = _dry_run(plan_job(job, cache, force=force), engine)
        results[job.name] = result
        emit(BatchEvent("finished", job.name, result.status, result))
    return [results[j.name] for j in selected]


def _depth(name: str, deps: dict[str, tuple[str, ...]]) -> int:
    """How many jobs deep ``name`` is in the dependency graph (0: reads no job's output)."""
    return 1 + max((_depth(d, deps) for d in deps[name]), default=-1)


def run_batch(
    manifest: str | os.PathLike[str] | Manifest,
    *,
    only: Sequence[str] = (),
    jobs: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    keep_going: bool = True,
    out_dir: str | os.PathLike[str] | None = None,
    lock_timeout: float = 0.0,
    on_event: EventHandler | None = None,
    engine: Engine | None = None,
    allow_outside_output_dir: bool = False,
) -> BatchResult:
    """Run (or, with ``dry_run``, plan) the manifest's jobs; see the module docstring.

    Raises :class:`InputError` for an invalid manifest (before anything runs), :class:`BusyError`
    when another batch holds the output folder, :class:`InterruptedRunError` on Ctrl-C/SIGTERM.
    Failed jobs do not raise: they are in the result (``result.ok`` is false).
    """
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(
            manifest, out_dir=out_dir, allow_outside_output_dir=allow_outside_output_dir
        )
    if jobs is not None and jobs < 1:
        msg = f"--jobs {jobs}: give at least 1"
        raise UsageError(msg)
    selected = select_jobs(manifest, only)
    emit = on_event or _ignore
    run_id, started = new_run_id(), utc_now()
    cache_path = manifest.output_dir / STATE_DIR / "hashes.json"
    if dry_run:
        planned = _dry_run_jobs(selected, HashCache(cache_path), force=force, emit=emit,
                                engine=engine)  # fmt: skip
        audit = _audit(manifest, planned, HashCache(cache_path), jobs, force, True, emit)
        return BatchResult(run_id, str(manifest.path), str(manifest.output_dir), started,
                           utc_now(), True, planned, audit)  # fmt: skip
    try:
        manifest.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{manifest.output_dir}: cannot create the output folder ({exc.strerror or exc})"
        raise InputError(msg) from None
    with _sigterm_as_interrupt():
        try:
            with output_lock(manifest.output_dir, run_id, started, lock_timeout):
                cache = HashCache(cache_path)
                try:
                    results = _run_jobs(selected, cache, run_id, jobs, force=force, engine=engine,
                                        keep_going=keep_going, emit=emit)  # fmt: skip
                    audit = _audit(manifest, results, cache, jobs, force, False, emit)
                finally:
                    cache.save()
                batch = BatchResult(run_id, str(manifest.path), str(manifest.output_dir),
                                    started, utc_now(), False, results, audit)  # fmt: skip
                runs = manifest.output_dir / "runs"
                runs.mkdir(exist_ok=True)
                write_text_atomic(runs / f"{run_id}.json", canonical_json(batch.to_dict()) + "\n")
        except KeyboardInterrupt:  # while waiting for the lock or hashing inputs
            msg = "interrupted before any job started; nothing was written"
            raise InterruptedRunError(msg) from None
    return batch


def _audit(
    manifest: Manifest,
    results: list[JobResult],
    cache: HashCache,
    jobs: int | None,
    force: bool,
    dry_run: bool,
    emit: EventHandler,
) -> AuditOutcome | None:
    """Run the manifest's audit section (imported only then: it loads scikit-learn)."""
    if manifest.audit is None:
        return None
    from second_opinion.audit.batch import run_manifest_audit  # noqa: PLC0415

    if not dry_run:
        emit(BatchEvent("started", "audit"))
    outcome = run_manifest_audit(
        manifest, results, cache,
        stale=lambda name: plan_job(manifest.job(name), cache).run,
        jobs=jobs, force=force, dry_run=dry_run,
        step=lambda message: emit(BatchEvent("phase", "audit", message)),
    )  # fmt: skip
    if outcome is not None:
        emit(BatchEvent("finished", "audit", outcome.status))
    return outcome


def _ignore(event: BatchEvent) -> None:
    """The event handler when the caller gives none."""


def _run_jobs(
    selected: list[AnyJob],
    cache: HashCache,
    run_id: str,
    jobs: int | None,
    *,
    force: bool,
    keep_going: bool,
    emit: EventHandler,
    engine: Engine | None = None,
) -> list[JobResult]:
    """Run the jobs wave by wave (a job after the jobs whose outputs it reads); in each wave
    plan every job and run the ones that must run, in parallel. Results in ``selected`` order."""
    deps = job_dependencies(selected)
    by_name = {job.name: job for job in selected}
    results: dict[str, JobResult] = {}
    for wave in levels(list(by_name), deps):
        ready = []
        for name in wave:
            reason = _blocked(name, deps, results, keep_going)
            if reason is None:
                ready.append(by_name[name])
                continue
            result = JobResult(name, "skipped", reason, str(by_name[name].output))
            results[name] = result
            emit(BatchEvent("finished", name, result.status, result))
        results |= _run_wave(ready, cache, run_id, jobs, force=force, keep_going=keep_going,
                             emit=emit, engine=engine)  # fmt: skip
    return [results[j.name] for j in selected]


def _blocked(
    name: str, deps: dict[str, tuple[str, ...]], results: dict[str, JobResult], keep_going: bool
) -> str | None:
    """Why job ``name`` cannot run after the waves so far, or None."""
    for needed in deps[name]:
        status = results[needed].status
        if status not in ("done", "up-to-date"):
            return f"input from job {needed!r} is not ready ({status})"
    if not keep_going:
        failed = [r.name for r in results.values() if r.status == "failed"]
        if failed:
            return f"job {failed[0]!r} failed (--fail-fast)"
    return None


def _run_wave(
    selected: list[AnyJob],
    cache: HashCache,
    run_id: str,
    jobs: int | None,
    *,
    force: bool,
    keep_going: bool,
    emit: EventHandler,
    engine: Engine | None = None,
) -> dict[str, JobResult]:
    """Plan every job of a wave, run the ones that must run; results by job name."""
    plans = [plan_job(job, cache, force=force) for job in selected]
    for plan in plans:
        emit(BatchEvent("planned", plan.job.name, plan.reason if plan.run else "up-to-date"))
    results = {p.job.name: _from_record(p, "up-to-date") for p in plans if not p.run}
    for name, result in results.items():
        emit(BatchEvent("finished", name, result.status, result))
    to_run = [p for p in plans if p.run]
    if not to_run:
        return results
    workers = jobs or min(os.cpu_count() or 1, max(1, len(to_run)))
    scheduler = _Scheduler(to_run, run_id, workers, keep_going=keep_going, on_event=emit,
                           cache=cache, engine=engine)  # fmt: skip
    return results | scheduler.run()
