"""The scheduler both executors share: start jobs while fewer than ``workers`` run, stop starting
them after a failure under ``--fail-fast``, and turn each job's outcome into a :class:`JobResult`,
so the results, the hash cache and the provenance are the same whichever executor runs the jobs.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

from second_opinion.batch.outcomes import BatchEvent, EventHandler, JobOutcome, JobResult
from second_opinion.batch.planning import Plan
from second_opinion.batch.settings import BatchSettings
from second_opinion.batch.worker import sweep_temporaries
from second_opinion.errors import InputError, InterruptedRunError
from second_opinion.hashing import HashCache
from second_opinion.placing import explain, folder_handle


class Scheduler(ABC):
    """Runs plans, at most ``workers`` at a time, until each has a result."""

    def __init__(
        self,
        plans: list[Plan],
        *,
        run_id: str,
        workers: int,
        settings: BatchSettings,
        on_event: EventHandler,
        cache: HashCache,
    ) -> None:
        self.settings = settings
        self.pending = list(plans)
        self.run_id = run_id
        self.workers = max(1, workers)
        self.on_event = on_event
        self.cache = cache
        self.running: dict[str, Plan] = {}
        self.results: dict[str, JobResult] = {}
        self.failed_first: str | None = None
        self.started: dict[str, float] = {}

    def run(self) -> dict[str, JobResult]:
        """Run every plan; results by job name. Ctrl-C stops the running jobs and raises."""
        try:
            while self.pending or self.running:
                self._start_more()
                self.wait(timeout=0.1)
        except KeyboardInterrupt:
            self.stop_all()
            for plan in self.running.values():
                sweep_temporaries(plan.job.output, plan.job.root)
            self.running.clear()
            msg = "interrupted: stopped the running jobs; no partial output was left"
            raise InterruptedRunError(msg) from None
        return self.results

    @abstractmethod
    def launch(self, plan: Plan) -> None:
        """Start running ``plan``'s job."""

    @abstractmethod
    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for jobs to report; call :meth:`finished` for each."""

    @abstractmethod
    def stop_all(self) -> None:
        """Stop every running job."""

    def _start_more(self) -> None:
        while self.pending and len(self.running) < self.workers:
            if self.failed_first and not self.settings.keep_going:
                reason = f"--fail-fast: {self.failed_first} failed"
                for plan in self.pending:
                    self._finish(plan, JobResult.for_job(plan.job, "skipped", reason=reason))
                self.pending.clear()
                return
            plan = self.pending.pop(0)
            sweep_temporaries(plan.job.output, plan.job.root)
            error: str | None = None
            try:
                with folder_handle(plan.job.output.parent, plan.job.root, create=True):
                    pass
            except InputError as exc:
                error = exc.message
            except OSError as exc:
                error = f"{plan.job.output.parent}: cannot create the folder ({explain(exc)})"
            if error is not None:
                self._finish(
                    plan, JobResult.for_job(plan.job, "failed", reason=plan.reason, error=error)
                )
                self.failed_first = self.failed_first or plan.job.name
                continue
            self.launch(plan)
            self.running[plan.job.name] = plan
            self.started[plan.job.name] = time.monotonic()
            self.on_event(BatchEvent("started", plan.job.name, plan.reason))

    def finished(self, name: str, outcome: JobOutcome) -> None:
        """Job ``name`` reported ``outcome``: record the hashes it took, and its result."""
        plan = self.running.pop(name)
        hashed = (*outcome.inputs, outcome.output) if outcome.output else outcome.inputs
        for file in hashed:
            self.cache.record(file.path, size=file.size, mtime_ns=file.mtime_ns, sha256=file.sha256)
        self._finish(plan, outcome.result(plan))

    def died(self, name: str, error: str) -> None:
        """Job ``name`` ended without an outcome (its process or node died): it failed."""
        plan = self.running.pop(name)
        sweep_temporaries(plan.job.output, plan.job.root)
        seconds = time.monotonic() - self.started.get(name, time.monotonic())
        result = JobResult.for_job(
            plan.job, "failed", reason=plan.reason, seconds=seconds, error=error
        )
        self._finish(plan, result)

    def _finish(self, plan: Plan, result: JobResult) -> None:
        if result.status == "failed":
            self.failed_first = self.failed_first or plan.job.name
        self.results[plan.job.name] = result
        self.on_event(BatchEvent("finished", plan.job.name, result.status, result))
