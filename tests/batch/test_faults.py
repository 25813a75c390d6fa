"""Faults injected into ``run_batch``, and what each must leave behind (issue 7 §1).

Each test breaks one thing — a read-only output folder, a full disk, an input that changes or
goes away after it was planned, a damaged provenance record, an output edited by hand — and
asserts the message the user sees, that nothing partial is left in the output folder, and that
what was there before is intact byte for byte.

Workers are separate (forkserver) processes, out of reach of ``monkeypatch``. A fault that must
happen *inside* a worker is injected by replacing ``worker.process_worker`` — the target the
scheduler hands to each new process — with a ``functools.partial`` of :func:`_faulty_worker`: it
is pickled by reference, so the worker imports this module, installs the fault (in that worker
only) and then runs the real ``worker.process_worker``. Planning, scheduling, the lock, the
worker's own code and DuckDB's COPY all run unchanged.

Root ignores permissions, so ``chmod`` cannot make a folder read-only for it. Each read-only test
therefore runs twice: with a real ``chmod`` (skipped when it has no effect, i.e. as root) and
simulated, raising the error the OS or DuckDB gives a user without write permission.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import duckdb
import pytest

from second_opinion.batch import worker
from second_opinion.batch.manifest.jobs import Job
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.materialize import materialize as materialize_job
from second_opinion.batch.outcomes import BatchEvent
from second_opinion.batch.planning import Plan, plan_job
from second_opinion.batch.runner import BatchResult, run_batch
from second_opinion.batch.settings import BatchSettings
from second_opinion.errors import InputError
from second_opinion.hashing import HashCache
from second_opinion.join.run import join_to_file
from second_opinion.provenance import inspect_output, provenance_path, read_record
from second_opinion.tables import writing
from tests._scaffold import JOBS, SCAFFOLD, Scaffold, by_name, outcome

join_module: Any = sys.modules["second_opinion.join.run"]  # second_opinion.join.run is the function
ROOT = Path(__file__).resolve().parents[2]
ENOSPC = os.strerror(errno.ENOSPC)  # "No space left on device"
EACCES = os.strerror(errno.EACCES)  # "Permission denied"


# --- helpers --------------------------------------------------------------------------------------


def error_of(result: BatchResult, job: str) -> str:
    error = by_name(result)[job].error
    assert error is not None, result
    return error


def files(folder: Path) -> dict[str, bytes]:
    """Every file directly in ``folder``, by name, with its bytes ({} when absent)."""
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def strays(folder: Path) -> list[str]:
    """Temporary or staging files anywhere under ``folder``."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob(".*")
        if p.name.endswith(".tmp") or ".staging" in p.name
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def change_a_score(path: Path) -> None:
    """Change one byte of ``path`` (a digit of its second line, a score, never a key) and move
    its modification time a second on, so that the change shows in (size, mtime)."""
    data = bytearray(path.read_bytes())
    start = data.index(b"\n") + 1
    end = data.index(b"\n", start)
    index = max(i for i in range(start, end) if chr(data[i]).isdigit())
    data[index] = ord(str((int(chr(data[index])) + 1) % 10))
    stat = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


# --- fault injection ------------------------------------------------------------------------------


class _FaultyConnection:
    """A DuckDB connection whose ``COPY ... TO`` a file in ``folder`` fails like the OS would:
    ``eacces`` when the file cannot be created, ``enospc`` after writing part of it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, fault: str, folder: Path) -> None:
        self._con = con
        self._fault = fault
        self._folder = folder

    def execute(self, query: str, *args: Any) -> duckdb.DuckDBPyConnection:
        target = re.search(r"\) TO '((?:[^']|'')*)' ", query) if query.startswith("COPY") else None
        if target is not None:
            tmp = Path(target.group(1).replace("''", "'"))
            if tmp.parent == self._folder:
                if self._fault == "eacces":
                    msg = f'IO Error: Cannot open file "{tmp}": {EACCES}'
                    raise duckdb.IOException(msg)
                tmp.write_bytes(b'{"clip_id": "a", "vmaf"')  # what got out before the disk filled
                msg = f'IO Error: Could not write file "{tmp}": {ENOSPC}'
                raise duckdb.IOException(msg)
        return self._con.execute(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _faulty_write_query(fault: str, folder: Path) -> Callable[..., int]:
    def write_query(
        con: duckdb.DuckDBPyConnection, query: str, output: Path, **options: Any
    ) -> int:
        faulty = cast("duckdb.DuckDBPyConnection", _FaultyConnection(con, fault, folder))
        return writing.write_query(faulty, query, output, **options)

    return write_query


def _install(fault: str, folder: Path) -> None:
    """Install ``fault`` in this process (a worker: it ends with the job)."""
    if fault in ("eacces", "enospc"):
        join_module.write_query = _faulty_write_query(fault, folder)
    elif fault == "fsync-enospc":

        def fsync(fd: object) -> None:
            raise OSError(errno.ENOSPC, ENOSPC)

        os.fsync = fsync
    else:  # pragma: no cover - a typo in a test
        raise AssertionError(fault)


def _faulty_worker(fault: str, folder: str, plan: Plan, **kwargs: Any) -> None:
    """``worker.process_worker`` with ``fault`` installed first; runs in the worker process."""
    _install(fault, Path(folder))
    worker.process_worker(plan, **kwargs)


def inject(monkeypatch: pytest.MonkeyPatch, fault: str, folder: Path) -> None:
    """Make every worker started from now on fail with ``fault`` on writes into ``folder``."""
    monkeypatch.setattr(
        worker, "process_worker", functools.partial(_faulty_worker, fault, str(folder))
    )


def make_read_only(folder: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``folder`` read-only: ``chmod`` it (skip if that has no effect) or simulate it."""
    if how == "simulated":
        inject(monkeypatch, "eacces", folder)
        return
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        folder.chmod(0o755)
        pytest.skip("chmod 0o555 does not stop this user (root) writing; see the simulated case")


@pytest.fixture
def restore_modes(tmp_path: Path) -> Iterator[None]:
    """Make everything under ``tmp_path`` writable again, so that pytest can remove it."""
    yield
    for folder in [tmp_path, *tmp_path.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o755)


READ_ONLY = pytest.mark.parametrize("how", ["chmod", "simulated"])


# --- 1. a read-only output folder -----------------------------------------------------------------


@READ_ONLY
@pytest.mark.usefixtures("restore_modes")
def test_a_read_only_output_folder_fails_the_jobs_and_keeps_the_previous_outputs(
    ran: Scaffold, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = files(ran.out)
    make_read_only(ran.out, how, monkeypatch)

    result = ran.run(force=True, jobs=1)

    assert not result.ok
    assert outcome(result) == dict.fromkeys(JOBS, ("failed", "forced"))
    for job in JOBS:
        error = error_of(result, job)
        assert f"{ran.out}/" in error
        assert ": cannot write (IO Error: Cannot open file" in error
        assert EACCES in error
    assert files(ran.out) == before  # outputs and provenance byte for byte, nothing added
    assert strays(ran.out) == []
    for job in JOBS:
        assert inspect_output(ran.output(job)).matches


@READ_ONLY
@pytest.mark.usefixtures("restore_modes")
def test_a_read_only_subfolder_fails_only_its_job_under_keep_going(
    scaffold: Scaffold, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scaffold.set_output("corpus-b", "locked/corpus-b.csv")
    locked = scaffold.out / "locked"
    locked.mkdir(parents=True)
    make_read_only(locked, how, monkeypatch)

    result = scaffold.run(keep_going=True, jobs=2)

    assert outcome(result) == {
        "corpus-a": ("built", "new"),
        "corpus-b": ("failed", "no output"),
    }
    error = error_of(result, "corpus-b")
    assert f"{locked}/" in error
    assert EACCES in error
    assert list(locked.iterdir()) == []
    assert inspect_output(scaffold.output("corpus-a")).matches
    assert strays(scaffold.out) == []


def test_a_write_error_names_the_output_not_its_staging_file(
    ran: Scaffold, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_read_only(ran.out, "simulated", monkeypatch)

    result = ran.run(force=True, only=["corpus-a"])

    error = error_of(result, "corpus-a")
    assert error.startswith(f"{ran.output('corpus-a')}: cannot write"), error
    assert ".staging" not in error


def _refuse_mkdir(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Simulate a read-only parent: creating ``folder`` fails as it would for a non-root user."""
    real = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        if self == folder:
            raise PermissionError(errno.EACCES, EACCES, str(self))
        real(self, *args, **kwargs)

    real_os = os.mkdir

    def os_mkdir(path: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        # Folders inside output_dir are made one at a time through their parent's handle.
        if dir_fd is not None and str(path) == folder.name:
            raise PermissionError(errno.EACCES, EACCES, str(folder))
        real_os(path, mode, dir_fd=dir_fd)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(os, "mkdir", os_mkdir)


@READ_ONLY
@pytest.mark.usefixtures("restore_modes")
def test_an_output_folder_that_cannot_be_created_is_an_input_error_naming_it(
    scaffold: Scaffold, tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    out = parent / "out"
    if how == "simulated":
        _refuse_mkdir(monkeypatch, out)
    else:
        make_read_only(parent, how, monkeypatch)

    with pytest.raises(InputError, match=re.escape(str(out))) as caught:
        run_batch(scaffold.manifest, out_dir=out)

    assert EACCES in caught.value.message
    assert list(parent.iterdir()) == []


@READ_ONLY
@pytest.mark.usefixtures("restore_modes")
def test_an_output_subfolder_that_cannot_be_created_fails_only_its_job(
    scaffold: Scaffold, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scaffold.set_output("corpus-b", "locked/new/corpus-b.csv")
    locked = scaffold.out / "locked"
    locked.mkdir(parents=True)
    if how == "simulated":
        _refuse_mkdir(monkeypatch, locked / "new")
    else:
        make_read_only(locked, how, monkeypatch)

    result = scaffold.run(keep_going=True, jobs=1)

    assert outcome(result) == {
        "corpus-a": ("built", "new"),
        "corpus-b": ("failed", "no output"),
    }
    assert str(locked / "new") in error_of(result, "corpus-b")
    assert list(locked.iterdir()) == []


# --- 2. a full disk -------------------------------------------------------------------------------


def test_a_full_disk_during_copy_fails_the_join_and_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process, through ``join_to_file``: DuckDB's COPY fails half way with ENOSPC."""
    spec = load_manifest(SCAFFOLD / "batch.json", out_dir=tmp_path).job("corpus-a")
    assert isinstance(spec, Job)
    output = tmp_path / "joined.jsonl"
    join_to_file(spec.spec, output)
    before = files(tmp_path)
    monkeypatch.setattr(join_module, "write_query", _faulty_write_query("enospc", tmp_path))

    with pytest.raises(InputError) as caught:
        join_to_file(spec.spec, output)

    message = caught.value.message
    assert message.startswith(f"{output}: cannot write (IO Error: Could not write file "), message
    assert message.endswith(f"{ENOSPC})")
    assert files(tmp_path) == before
    assert strays(tmp_path) == []


def test_a_full_disk_at_the_rename_fails_the_join_and_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process, through ``join_to_file``: the temporary file is complete, its rename fails."""
    spec = load_manifest(SCAFFOLD / "batch.json", out_dir=tmp_path).job("corpus-b")
    assert isinstance(spec, Job)
    output = tmp_path / "joined.csv"
    join_to_file(spec.spec, output)
    before = files(tmp_path)
    real = Path.replace

    def replace(self: Path, target: str | os.PathLike[str]) -> Path:
        if self.name.endswith(".tmp"):
            raise OSError(errno.ENOSPC, ENOSPC, str(self))
        return real(self, target)

    monkeypatch.setattr(Path, "replace", replace)

    with pytest.raises(InputError) as caught:
        join_to_file(spec.spec, output)

    assert caught.value.message == f"{output}: cannot write ({ENOSPC})"
    assert files(tmp_path) == before
    assert strays(tmp_path) == []


def test_a_full_disk_in_a_worker_fails_its_job_and_keeps_the_previous_output(
    ran: Scaffold, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = files(ran.out)
    inject(monkeypatch, "enospc", ran.out)

    result = ran.run(force=True, only=["corpus-b"])

    assert outcome(result) == {"corpus-b": ("failed", "forced")}
    error = error_of(result, "corpus-b")
    assert error.startswith(f"{ran.output('corpus-b')}: cannot write (IO Error: Could not write")
    assert ".staging" not in error
    assert error.endswith(f"{ENOSPC})")
    assert files(ran.out) == before
    assert strays(ran.out) == []
    assert inspect_output(ran.output("corpus-b")).matches
    # the disk has room again: nothing is stale, and the job runs when asked
    monkeypatch.undo()
    assert outcome(ran.run()) == dict.fromkeys(JOBS, ("up-to-date", "unchanged"))
    assert outcome(ran.run(force=True, only=["corpus-b"])) == {"corpus-b": ("rebuilt", "forced")}


def test_a_full_disk_writing_the_provenance_fails_the_job_cleanly(
    ran: Scaffold, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_a_score(ran.input("features_corpus_b.csv"))  # so that the new output differs
    before = files(ran.out)
    inject(monkeypatch, "fsync-enospc", ran.out)

    result = ran.run(only=["corpus-b"])

    assert outcome(result) == {"corpus-b": ("failed", "input changed (features)")}
    assert files(ran.out) == before
    error = error_of(result, "corpus-b")
    assert str(provenance_path(ran.output("corpus-b"))) in error
    assert ENOSPC in error
    assert not error.startswith("internal error")
    assert strays(ran.out) == []


# --- 3. an input that changes or goes away after it was planned -----------------------------------


def _on_planned(job: str, action: Callable[[], None]) -> Callable[[BatchEvent], None]:
    """An event handler doing ``action`` once ``job`` is planned (its inputs' stats taken) and
    before its worker starts."""

    def handle(event: BatchEvent) -> None:
        if event.kind == "planned" and event.job == job:
            action()

    return handle


def test_an_input_changed_after_planning_fails_the_job_naming_it(scaffold: Scaffold) -> None:
    manifest = load_manifest(scaffold.manifest, out_dir=scaffold.out)
    sidecar = scaffold.input("scores_a_niqe.jsonl")

    result = run_batch(
        manifest, jobs=1, on_event=_on_planned("corpus-a", lambda: change_a_score(sidecar))
    )

    assert outcome(result) == {
        "corpus-a": ("failed", "no output"),
        "corpus-b": ("built", "new"),
    }
    assert error_of(result, "corpus-a") == (
        f"sidecar niqe {sidecar} changed while the job ran; nothing was written, "
        "run the batch again"
    )
    assert not scaffold.output("corpus-a").exists()
    assert not provenance_path(scaffold.output("corpus-a")).exists()
    assert strays(scaffold.out) == []
    # the next run takes the input as it is now
    assert outcome(run_batch(manifest)) == {
        "corpus-a": ("built", "new"),
        "corpus-b": ("up-to-date", "unchanged"),
    }


def test_an_input_changed_after_planning_keeps_the_previous_output(ran: Scaffold) -> None:
    before = files(ran.out)
    features = ran.input("features_corpus_b.csv")

    result = ran.run(
        force=True,
        only=["corpus-b"],
        on_event=_on_planned("corpus-b", lambda: change_a_score(features)),
    )

    assert outcome(result) == {"corpus-b": ("failed", "forced")}
    assert error_of(result, "corpus-b") == (
        f"features {features} changed while the job ran; nothing was written, run the batch again"
    )
    assert files(ran.out) == before
    assert strays(ran.out) == []


def test_an_input_deleted_after_planning_fails_the_job_naming_it(ran: Scaffold) -> None:
    before = files(ran.out)
    sidecar = ran.input("scores_b_dover_frames.csv")

    result = ran.run(
        force=True, only=["corpus-b"], on_event=_on_planned("corpus-b", sidecar.unlink)
    )

    assert outcome(result) == {"corpus-b": ("failed", "forced")}
    assert error_of(result, "corpus-b") == f"{sidecar}: no such file"
    assert files(ran.out) == before
    assert strays(ran.out) == []


def test_an_input_deleted_while_the_job_runs_fails_it_naming_the_input(
    scaffold: Scaffold, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: the worker function itself, the sidecar deleted right after the join."""
    manifest = load_manifest(scaffold.manifest, out_dir=scaffold.out)
    job = manifest.job("corpus-a")
    plan = plan_job(job, HashCache(None))
    sidecar = scaffold.input("scores_a_niqe.jsonl")
    real = materialize_job

    def materialize(*args: Any) -> Any:
        made = real(*args)
        sidecar.unlink()
        return made

    monkeypatch.setattr(worker, "materialize", materialize)
    scaffold.out.mkdir()

    outcome = worker.run_job(plan, run_id="run", settings=BatchSettings(), phase=lambda phase: None)

    assert outcome.status == "failed"
    assert outcome.inputs == ()
    assert outcome.output is None
    assert outcome.error == (
        f"sidecar niqe {sidecar} was deleted while the job ran; nothing was written, "
        "run the batch again"
    )
    assert files(scaffold.out) == {}
    assert strays(scaffold.out) == []


# --- 4. a damaged provenance record ---------------------------------------------------------------


def _garbage(data: bytes) -> bytes:
    return b"\x00\xff\xfe garbage \x80" * 8


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _newer_schema(data: bytes) -> bytes:
    record = json.loads(data)
    record["schema"] = "second-opinion.provenance/99"
    return json.dumps(record).encode()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        pytest.param(_garbage, "provenance unreadable (UnicodeDecodeError)", id="garbage"),
        pytest.param(_truncated, "provenance unreadable (JSONDecodeError)", id="truncated"),
        pytest.param(
            _newer_schema,
            "provenance schema 'second-opinion.provenance/99' is not 'second-opinion.provenance/1'",
            id="newer-schema",
        ),
    ],
)
def test_a_damaged_provenance_is_stale_and_rebuilt(
    ran: Scaffold, damage: Callable[[bytes], bytes], reason: str
) -> None:
    output = ran.output("corpus-b")
    record = provenance_path(output)
    data = output.read_bytes()
    record.write_bytes(damage(record.read_bytes()))

    inspection = inspect_output(output)
    assert not inspection.matches
    assert inspection.problems == (reason,)
    assert inspection.record is None
    assert outcome(ran.run(dry_run=True))["corpus-b"] == ("planned", reason)

    result = ran.run()

    assert outcome(result) == {
        "corpus-a": ("up-to-date", "unchanged"),
        "corpus-b": ("rebuilt", reason),
    }
    assert output.read_bytes() == data
    assert read_record(output)["run"]["run_id"] == result.run_id
    assert inspect_output(output).matches
    assert strays(ran.out) == []


# --- 5. an output edited by hand ------------------------------------------------------------------


def test_an_output_edited_by_hand_no_longer_matches_and_is_rebuilt(ran: Scaffold) -> None:
    output = ran.output("corpus-a")
    original = output.read_bytes()
    output.write_bytes(original.replace(b"}", b', "note": "edited"}', 1))

    inspection = inspect_output(output)
    assert not inspection.matches
    assert inspection.problems == (
        "the output no longer matches its provenance (its SHA-256 changed)",
    )
    assert inspection.changed_inputs == ()
    assert outcome(ran.run(dry_run=True))["corpus-a"] == (
        "planned",
        "output changed since its run",
    )

    result = ran.run()

    assert outcome(result) == {
        "corpus-a": ("rebuilt", "output changed since its run"),
        "corpus-b": ("up-to-date", "unchanged"),
    }
    assert output.read_bytes() == original
    assert read_record(output)["output"]["sha256"] == sha256(output)
    assert inspect_output(output).matches
