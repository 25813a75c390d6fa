"""The local executor: each job in a worker process of this machine (forkserver, else spawn)."""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import time
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from second_opinion.batch import worker
from second_opinion.batch.executors.scheduler import Scheduler
from second_opinion.batch.outcomes import BatchEvent
from second_opinion.batch.planning import Plan


def _context() -> BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["second_opinion.batch.worker"])
        return ctx
    return multiprocessing.get_context("spawn")


class ProcessScheduler(Scheduler):
    """Worker processes reporting phases and outcomes on one queue."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        super().__init__(*args, **kwargs)
        self.ctx = _context()
        self.events: Any = self.ctx.Queue()
        self.processes: dict[str, BaseProcess] = {}

    def launch(self, plan: Plan) -> None:
        process = self.ctx.Process(  # type: ignore[attr-defined]
            # Looked up at each launch, so tests can replace the worker (in the module).
            target=worker.process_worker,
            args=(plan,),
            kwargs={"run_id": self.run_id, "settings": self.settings, "events": self.events},
            name=plan.job.name,
        )
        process.start()
        self.processes[plan.job.name] = process

    def wait(self, timeout: float) -> None:
        self._drain(timeout)
        self._reap()

    def _drain(self, timeout: float) -> None:
        with contextlib.suppress(queue.Empty):
            kind, name, sent = self.events.get(timeout=timeout)
            while True:
                if kind == "phase":
                    self.on_event(BatchEvent("phase", name, str(sent)))
                else:
                    self.processes.pop(name).join()
                    self.finished(name, sent)
                kind, name, sent = self.events.get_nowait()

    def _reap(self) -> None:
        for name, process in list(self.processes.items()):
            if process.is_alive() or process.exitcode is None:
                continue
            self._drain(timeout=0.5)  # its result may still be in the queue
            if name in self.processes:
                del self.processes[name]
                self.died(
                    name,
                    f"the worker process died (exit code {process.exitcode}); "
                    "the previous output, if any, is unchanged",
                )

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.terminate()
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        self.processes.clear()
