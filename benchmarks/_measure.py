"""Run one command as a child process and measure its wall time and exact peak RSS.

The child is reaped with ``os.wait4``, which returns the resource usage of that one child (and
of any descendants it waited for): ``ru_maxrss`` is the child's own high-water mark, not a polled
sample, and earlier children of the benchmark process do not leak into it.

Other work on the machine skews timings, so each run also records the CPU time the rest of the
machine used meanwhile (``/proc/stat`` busy time minus the child's own CPU time), and
:func:`wait_until_idle` holds the next run back while other processes are busy.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class CommandError(RuntimeError):
    """A measured command exited with a non-zero status."""


@dataclass(frozen=True)
class Run:
    """One measured run."""

    seconds: float
    peak_rss: int  # bytes
    cpu_seconds: float  # the child's user + system time
    foreign_cpu_seconds: float  # CPU time used by other processes during the run
    stdout: str


def run_measured(command: Sequence[str], env: Mapping[str, str] | None = None) -> Run:
    """Run ``command``, wait for it, and return its wall time, peak RSS and standard output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy_before = machine_busy_seconds()
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        busy = machine_busy_seconds() - busy_before
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        msg = f"exit status {proc.returncode}: {' '.join(command)[:300]}\n{stderr[-3000:]}"
        raise CommandError(msg)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(
        seconds=seconds,
        peak_rss=usage.ru_maxrss * 1024,  # ru_maxrss is in KiB on Linux
        cpu_seconds=cpu,
        foreign_cpu_seconds=max(0.0, busy - cpu),
        stdout=stdout,
    )


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs have spent not idle since boot (from ``/proc/stat``)."""
    with Path("/proc/stat").open() as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # without guest time (in user)


def wait_until_idle(max_busy: float = 0.1, quiet_for: int = 3, timeout: float = 300.0) -> float:
    """Wait until other processes used under ``max_busy`` of one CPU for ``quiet_for`` seconds.

    Gives up after ``timeout`` seconds. Returns the busy fraction of the last second seen.
    """
    deadline = time.monotonic() + timeout
    quiet = 0
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        quiet = quiet + 1 if busy < max_busy else 0
        if quiet >= quiet_for or time.monotonic() > deadline:
            return busy


def median_run(runs: Sequence[Run]) -> tuple[float, int]:
    """The median wall time and the median peak RSS of ``runs``."""
    return (
        statistics.median(r.seconds for r in runs),
        int(statistics.median(r.peak_rss for r in runs)),
    )


def warm_cache(paths: Sequence[Path]) -> None:
    """Read ``paths`` once so that every measured run starts with the files in the page cache."""
    for path in paths:
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass
