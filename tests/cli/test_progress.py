"""The CLI's rendering of audit progress: throttled log lines with counts and an ETA in a pipe,
live bars on a terminal (cli/progress.py)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from rich.console import Console

from second_opinion.audit.progress import AuditProgress
from second_opinion.cli.progress import ProgressBars, ProgressLog, describe, progress_bars
from tests.batch.test_audit_batch import FAST, _manifest
from tests.cli._run import run_cli


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _lines(out: io.StringIO) -> list[str]:
    return [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in out.getvalue().splitlines()]


def test_progress_log_prints_start_throttled_counts_with_eta_and_the_end_once() -> None:
    out = io.StringIO()
    clock = Clock()
    log = ProgressLog(Console(file=out, width=200), every=5.0, clock=clock)
    log(AuditProgress("signals", "A", 0, 100))
    log(AuditProgress("signals", "A", 0, 100, "vmaf (3 columns)"))  # same phase, too soon
    clock.now += 2.0
    log(AuditProgress("signals", "A", 10, 100, "vmaf (3 columns)"))  # too soon
    clock.now += 3.0
    log(AuditProgress("signals", "A", 25, 100, "vmaf (3 columns)"))  # 5 s: 25 done, 15 s left
    clock.now += 1.0
    log(AuditProgress("gain", "A", 0, 0))  # nothing to do: nothing shown
    log(AuditProgress("signals", "A", 100, 100))  # the end, always
    log(AuditProgress("signals", "A", 100, 100))  # once
    assert _lines(out) == [
        "A: signals 0/100 splits",
        "A: signals 25/100 splits (vmaf (3 columns)), ETA 0:00:15",
        "A: signals 100/100 splits, done in 0:00:06",
    ]


def test_describe_names_the_unit_and_what_runs() -> None:
    assert describe(AuditProgress("cross-corpus", None, 1, 4, "brisque"), 30.0) == (
        "1/4 fits (brisque), ETA 0:01:30"
    )
    assert describe(AuditProgress("bootstrap", "A", 0, 4), 0.0) == "0/4 intervals"


def test_progress_bars_add_a_task_per_phase_and_remove_it_at_the_end() -> None:
    out = io.StringIO()
    clock = Clock()
    bars = progress_bars(Console(file=out, width=200, force_terminal=True))
    show = ProgressBars(bars, clock=clock)
    show(AuditProgress("signals", "A", 0, 10))
    clock.now += 4.0
    show(AuditProgress("signals", "A", 4, 10, "niqe (1 column)"))
    (task,) = bars.tasks
    assert (task.description, task.completed, task.total) == ("A: signals", 4, 10)
    assert task.fields["phase"] == "4/10 splits (niqe (1 column)), ETA 0:00:06"
    show(AuditProgress("signals", "A", 10, 10))
    assert bars.tasks == []


def test_batch_audit_in_a_pipe_logs_phase_counts_on_stderr_and_json_on_stdout(
    tmp_path: Path,
) -> None:
    path = _manifest(tmp_path, dict(FAST))
    result = run_cli("batch", path, "--json")
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # stdout is the JSON document and nothing else
    counted = re.findall(
        r"^\d\d:\d\d:\d\d corpus-a: (signals|bootstrap) (\d+)/(\d+) (splits|intervals)",
        result.stderr,
        flags=re.MULTILINE,
    )
    phases = [phase for phase, *_ in counted]
    assert phases[0] == "signals"
    assert "bootstrap" in phases
    first, last = counted[0], [c for c in counted if c[0] == "signals"][-1]
    assert (first[1], last[1]) == ("0", last[2])  # from the start to the end of the phase
