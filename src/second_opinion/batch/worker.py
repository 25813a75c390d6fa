"""Running one planned batch job where it is scheduled: a local worker process or a Ray task.

:func:`run_job` builds the output under a hidden staging name, hashes it, stages its provenance
record, and renames both into place; it reports how the job ended as a
:class:`~second_opinion.batch.outcomes.JobOutcome` that executors hand back to the scheduler. It
never raises: every failure is in the outcome, and nothing staged is left behind.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import FrameType
from typing import Any

from second_opinion.batch.manifest.jobs import AnyJob, SaliencyJob
from second_opinion.batch.materialize import materialize
from second_opinion.batch.outcomes import JobOutcome, coverage_fractions, failed_coverage
from second_opinion.batch.planning import Plan, file_stat
from second_opinion.batch.settings import BatchSettings
from second_opinion.errors import InputError, SecondOpinionError
from second_opinion.hashing import FileHash, sha256_file
from second_opinion.placing import put_in_place, sweep_staging, write_text_in_place
from second_opinion.provenance import (
    SCHEMA,
    environment,
    fingerprint,
    provenance_path,
    record_text,
    tool_info,
    utc_now,
)
from second_opinion.tables.formats import out_of_memory

EventQueue = Any
"""The local workers' multiprocessing queue of events (untyped in the standard library)."""


def check_unchanged(plan: Plan) -> None:
    """Refuse to record an output built from an input that changed after it was hashed."""
    for (role, scorer, path), before in zip(plan.job.inputs, plan.input_stats, strict=True):
        try:
            now = file_stat(path)
        except OSError:
            now = None
        if now != before:
            what = "was deleted" if now is None else "changed"
            msg = (
                f"{role}{' ' + scorer if scorer else ''} {path} {what} while the job ran; "
                "nothing was written, run the batch again"
            )
            raise InputError(msg)


def sweep_temporaries(output: Path, root: Path | None = None) -> None:
    """Remove what a killed worker may have left beside ``output``: this tool's temporary and
    staging files for it and its record, recognised by their exact names (nothing else)."""
    sweep_staging(output.parent, (output.name, provenance_path(output).name), root=root)


RUN_SUMMARY = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}\.json")
"""The name of a run summary in ``runs/``: ``<run_id>.json``."""


def sweep_stale(output_dir: Path, selected: Sequence[AnyJob], cache_path: Path) -> None:
    """Remove what a killed run left (``kill -9`` leaves its staging files), by this tool's exact
    staging names: beside every selected job's output (up to date or not), the hash cache and
    the run summaries. Called under the lock."""
    for job in selected:
        sweep_temporaries(job.output, job.root)
    sweep_temporaries(cache_path, output_dir)
    runs = output_dir / "runs"
    with contextlib.suppress(OSError):
        names = [p.name for p in runs.iterdir() if ".json." in p.name]
        summaries = {name.split(".json.")[0][1:] + ".json" for name in names}
        targets = [name for name in summaries if RUN_SUMMARY.fullmatch(name)]
        sweep_staging(runs, targets, root=output_dir)


def run_job(
    plan: Plan,
    *,
    run_id: str,
    settings: BatchSettings,
    phase: Callable[[str], None],
    critical: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> JobOutcome:
    """Run ``plan``'s job here; ``phase`` hears its phases, ``critical`` guards the renames."""
    job = plan.job
    started, clock = utc_now(), time.monotonic()
    # The output is built under a staging name and renamed into place together with its
    # provenance, inside ``critical``, so that an interruption leaves both old or both new.
    staging = job.output.with_name(
        f".{job.output.name}.{secrets.token_hex(6)}.staging{''.join(job.output.suffixes)}"
    )
    record_staging = provenance_path(staging)
    paths = [path for _, _, path in job.inputs]
    hasher = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        # Inputs not hashed yet are hashed beside the join (hashlib and DuckDB release the GIL).
        pending = hasher.submit(lambda: plan.input_sha256 or tuple(sha256_file(p) for p in paths))
        made = materialize(job, staging, phase, settings.engine)
        try:
            input_sha256: tuple[str, ...] = pending.result()
        except OSError as exc:
            check_unchanged(plan)  # names the input that went away, if that is what happened
            msg = f"cannot read input {exc.filename}: {exc.strerror}"
            raise InputError(msg) from None
        fp = plan.fingerprint or fingerprint(
            plan.spec_sha256, list(input_sha256), "".join(job.output.suffixes)
        )
        check_unchanged(plan)
        phase("provenance")
        output_sha = sha256_file(staging)
        coverage = made.coverage
        rows_by_scorer = {str(c["scorer"]): c["sidecar_rows"] for c in coverage}
        # A sidecar split into scorer groups (wrapper records, scorer_column) reports one
        # coverage per group: its file's rows are theirs together.
        rows_by_path: dict[str, int] = {}
        for c in coverage:
            rows_by_path[str(c["path"])] = rows_by_path.get(str(c["path"]), 0) + c["sidecar_rows"]
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
            if base:
                item["rows"] = made.base_rows
            elif (scorer or "") in rows_by_scorer:
                item["rows"] = rows_by_scorer[scorer or ""]
            else:
                item["rows"] = rows_by_path.get(str(path))
            if scorer:
                item[owner] = scorer
            inputs.append(item)
        record = {
            "schema": SCHEMA,
            "tool": tool_info(),
            "environment": environment(),
            "run": {
                "run_id": run_id,
                "started": started,
                "finished": utc_now(),
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
            "warnings": list(made.warnings),
            **made.extra,
        }
        # The record is staged too (inside the output's confined folder), so a full disk fails
        # here, with the old output untouched.
        write_text_in_place(
            record_staging, record_text(record), "the provenance record", root=job.root
        )
        with critical():
            put_in_place(
                [
                    (staging, job.output, "output"),
                    (record_staging, provenance_path(job.output), "provenance record"),
                ],
                root=job.root,
            )
        stat = job.output.stat()
        return JobOutcome(
            status="done",
            seconds=time.monotonic() - clock,
            rows=made.rows,
            coverage=coverage_fractions(coverage),
            notes=tuple(made.notes),
            warnings=tuple(made.warnings),
            inputs=tuple(
                FileHash(path=path, size=size, mtime_ns=mtime_ns, sha256=digest)
                for path, (size, mtime_ns), digest in zip(
                    paths, plan.input_stats, input_sha256, strict=True
                )
            ),
            output=FileHash(
                path=job.output, size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=output_sha
            ),
        )
    except SecondOpinionError as exc:
        return JobOutcome(
            status="failed",
            seconds=time.monotonic() - clock,
            coverage=failed_coverage(exc),
            # Name the output as the manifest does, not its hidden staging file.
            error=exc.message.replace(str(staging), str(job.output)),
        )
    except Exception as exc:  # noqa: BLE001 - a worker reports every failure instead of dying
        exhausted = out_of_memory(None, exc)  # a limit, not a bug
        return JobOutcome(
            status="failed",
            seconds=time.monotonic() - clock,
            error=exhausted.message
            if exhausted is not None
            else f"internal error: {type(exc).__name__}: {exc}",
        )
    finally:
        hasher.shutdown(wait=True, cancel_futures=True)
        staging.unlink(missing_ok=True)
        record_staging.unlink(missing_ok=True)


# --- the local worker process -------------------------------------------------------------------


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)  # unwinds, so join_to_file's cleanup removes its temporary file


@contextlib.contextmanager
def sigterm_held() -> Iterator[None]:
    """Defer SIGTERM (delivered on exit from the block) around a short critical section."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def process_worker(plan: Plan, *, run_id: str, settings: BatchSettings, events: EventQueue) -> None:
    """Run one job in a local worker process; put its phases and its outcome on ``events``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    name = plan.job.name
    outcome = run_job(
        plan,
        run_id=run_id,
        settings=settings,
        phase=lambda phase: events.put(("phase", name, phase)),
        critical=sigterm_held,
    )
    events.put(("result", name, outcome))
