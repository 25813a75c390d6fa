"""Writes that hold (issue 15, ADR 0018): a failed job leaves the previous output and record as
they were; every write stays inside output_dir at the moment it is made; a full disk, a symlink
loop or a stray staging file is reported or cleaned, never a traceback."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from second_opinion.batch import worker
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.materialize import materialize as materialize_job
from second_opinion.batch.planning import plan_job
from second_opinion.batch.runner import run_batch
from second_opinion.batch.settings import BatchSettings
from second_opinion.errors import InputError
from second_opinion.hashing import HashCache
from second_opinion.provenance import inspect_output, provenance_path
from tests._scaffold import Scaffold, by_name, outcome
from tests.batch.test_faults import _on_planned, change_a_score
from tests.cli._run import run_cli


def _outputs(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the run summaries and the batch's state, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] not in ("runs", ".second-opinion")
    }


# --- 4. a record that cannot be put in place --------------------------------------------------


def test_a_directory_at_the_record_path_fails_the_job_and_keeps_the_previous_output(
    ran: Scaffold,
) -> None:
    output = ran.output("corpus-b")
    record = provenance_path(output)
    previous = output.read_bytes()
    record.unlink()
    record.mkdir()
    (record / "note.txt").write_text("kept", encoding="utf-8")
    change_a_score(ran.input("features_corpus_b.csv"))  # so that the new output differs
    before = _outputs(ran.out)

    result = ran.run(only=["corpus-b"])

    reason = "provenance unreadable (corpus-b.csv.provenance.json is a directory, not a file)"
    assert outcome(result) == {"corpus-b": ("failed", reason)}
    assert by_name(result)["corpus-b"].error == (
        f"{record}: is a folder, where the job's provenance record goes; "
        "move it away or name another output"
    )
    assert output.read_bytes() == previous
    assert _outputs(ran.out) == before
    shutil.rmtree(record)
    assert outcome(ran.run(only=["corpus-b"])) == {"corpus-b": ("rebuilt", "no provenance")}


# --- 2. confinement at the moment of writing ---------------------------------------------------


def _symlink_folder(folder: Path, target: Path) -> None:
    """Replace ``folder`` (made if missing) by a symlink to ``target``."""
    target.mkdir(exist_ok=True)
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.symlink_to(target, target_is_directory=True)


def test_a_subfolder_replaced_by_a_symlink_while_the_batch_runs_is_refused(
    scaffold: Scaffold,
) -> None:
    scaffold.set_output("corpus-b", "sub/corpus-b.csv")
    (scaffold.out / "sub").mkdir(parents=True)
    elsewhere = scaffold.folder.parent / "elsewhere"
    (elsewhere).mkdir()
    (elsewhere / "corpus-b.csv").write_text("not the tool's\n", encoding="utf-8")
    manifest = load_manifest(scaffold.manifest, out_dir=scaffold.out)
    swap = lambda: _symlink_folder(scaffold.out / "sub", elsewhere)  # noqa: E731

    result = run_batch(manifest, jobs=1, on_event=_on_planned("corpus-b", swap))

    assert outcome(result) == {
        "corpus-a": ("built", "new"),
        "corpus-b": ("failed", "no output"),
    }
    assert by_name(result)["corpus-b"].error == (
        f"{scaffold.out / 'sub'}: is a symlink (to {elsewhere}) inside output_dir {scaffold.out}; "
        "a batch writes only into real folders, so nothing lands outside output_dir: replace "
        "the symlink by a folder, or pass --allow-outside-output-dir"
    )
    assert sorted(p.name for p in elsewhere.iterdir()) == ["corpus-b.csv"]
    assert (elsewhere / "corpus-b.csv").read_text(encoding="utf-8") == "not the tool's\n"


def test_the_worker_refuses_a_folder_swapped_after_the_join(
    scaffold: Scaffold, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: the subfolder becomes a symlink between the join and the rename."""
    scaffold.set_output("corpus-b", "sub/corpus-b.csv")
    (scaffold.out / "sub").mkdir(parents=True)
    elsewhere = scaffold.folder.parent / "elsewhere"
    job = load_manifest(scaffold.manifest, out_dir=scaffold.out).job("corpus-b")
    real = materialize_job

    def materialize(*args: Any) -> Any:
        made = real(*args)
        staged = list((scaffold.out / "sub").iterdir())
        _symlink_folder(scaffold.out / "sub", elsewhere)
        for path in staged:  # the staged files now lie where the symlink points
            (elsewhere / path.name).write_bytes(b"staged")
        return made

    monkeypatch.setattr(worker, "materialize", materialize)

    done = worker.run_job(
        plan_job(job, HashCache(None)), run_id="r", settings=BatchSettings(), phase=print
    )

    assert done.status == "failed"
    assert done.error is not None
    assert done.error.startswith(f"{scaffold.out / 'sub'}: is a symlink (to {elsewhere})")
    assert [p.name for p in elsewhere.iterdir()] == []


@pytest.mark.parametrize("folder", ["runs", ".second-opinion"])
def test_the_run_summary_and_the_lock_stay_inside_output_dir(ran: Scaffold, folder: str) -> None:
    elsewhere = ran.folder.parent / "elsewhere"
    _symlink_folder(ran.out / folder, elsewhere)

    with pytest.raises(InputError) as caught:
        ran.run()

    assert caught.value.message == (
        f"{ran.out / folder}: is a symlink (to {elsewhere}) inside output_dir {ran.out}; "
        "a batch writes only into real folders, so nothing lands outside output_dir: replace "
        "the symlink by a folder, or pass --allow-outside-output-dir"
    )
    assert list(elsewhere.iterdir()) == []


# --- 8. a record of any shape ----------------------------------------------------------------


def _coverage_without_coverage(record: dict[str, Any]) -> None:
    del record["coverage"][0]["coverage"]


def _coverage_not_a_number(record: dict[str, Any]) -> None:
    record["coverage"][0]["coverage"] = "most"


def _deeply_nested(record: dict[str, Any]) -> None:
    record["coverage"] = "@"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        pytest.param(
            _coverage_without_coverage,
            "provenance unreadable (malformed: coverage[0].coverage is missing)",
            id="no-coverage",
        ),
        pytest.param(
            _coverage_not_a_number,
            "provenance unreadable (malformed: coverage[0].coverage is invalid "
            "(Input should be a valid number))",
            id="not-a-number",
        ),
        pytest.param(_deeply_nested, "provenance unreadable (RecursionError)", id="deeply-nested"),
    ],
)
def test_a_record_of_any_shape_is_rebuilt_and_inspect_names_the_problem(
    ran: Scaffold, damage: Callable[[dict[str, Any]], None], reason: str
) -> None:
    output = ran.output("corpus-a")
    record = provenance_path(output)
    data = json.loads(record.read_text(encoding="utf-8"))
    damage(data)
    text = json.dumps(data).replace('"@"', "[" * 100_000 + "]" * 100_000)
    record.write_text(text, encoding="utf-8")

    found = inspect_output(output)
    assert (found.matches, found.problems) == (False, (reason,))
    inspected = run_cli("inspect", output, cwd=ran.folder)
    assert (inspected.returncode, inspected.stderr) == (1, f"error: {output}: {reason}\n")
    result = ran.run(only=["corpus-a"])
    assert outcome(result) == {"corpus-a": ("rebuilt", reason)}
    assert inspect_output(output).matches


# --- 7. a full disk on every write path of the run itself ---------------------------------------

NO_SPACE = f"{os.strerror(errno.ENOSPC)}; free some space on that disk and run again"


def _disk_full_for(monkeypatch: pytest.MonkeyPatch, pattern: str) -> None:
    """Writing a file whose path matches ``pattern`` fails, the disk full: through ``os.write``,
    or opening it for writing with ``Path.open``."""
    real_write, real_open = os.write, Path.open

    def write(fd: int, data: Any) -> int:
        if re.search(pattern, str(Path(f"/proc/self/fd/{fd}").readlink())):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    def path_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode != "r" and re.search(pattern, str(self.absolute())):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(Path, "open", path_open)


def test_a_full_disk_writing_the_run_summary_is_an_input_error(
    ran: Scaffold, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every job is up to date: the summary is the only thing written."""
    _disk_full_for(monkeypatch, r"/runs/\.[^/]+\.tmp$")

    with pytest.raises(InputError) as caught:
        ran.run()

    runs = re.escape(str(ran.out / "runs"))
    assert re.fullmatch(
        rf"{runs}/\d{{8}}T\d{{6}}Z-[0-9a-f]{{6}}\.json: cannot write the run summary "
        rf"\({re.escape(NO_SPACE)}\)",
        caught.value.message,
    ), caught.value.message
    assert [p.name for p in (ran.out / "runs").iterdir() if p.name.startswith(".")] == []


def test_a_full_disk_writing_the_lock_holder_is_an_input_error(
    scaffold: Scaffold, monkeypatch: pytest.MonkeyPatch
) -> None:
    _disk_full_for(monkeypatch, r"/\.second-opinion/lock$")

    with pytest.raises(InputError) as caught:
        scaffold.run()

    lock = scaffold.out / ".second-opinion" / "lock"
    assert caught.value.message == f"{lock}: cannot write the lock's holder ({NO_SPACE})"
    assert not scaffold.output("corpus-a").exists()


def test_a_full_disk_writing_the_hash_cache_is_an_input_error(
    ran: Scaffold, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_a_score(ran.input("features_corpus_b.csv"))  # so that the cache changes
    _disk_full_for(monkeypatch, r"/\.second-opinion/\.hashes\.json\.[0-9a-f]{12}\.tmp$")

    with pytest.raises(InputError) as caught:
        ran.run()

    cache = ran.out / ".second-opinion" / "hashes.json"
    assert caught.value.message == f"{cache}: cannot write the hash cache ({NO_SPACE})"


# --- 10. stale staging files after kill -9 -------------------------------------------------------

OURS = (
    ".corpus-a.jsonl.0123456789ab.staging.jsonl",
    ".corpus-a.jsonl.0123456789ab.staging.jsonl.provenance.json",
    "..corpus-a.jsonl.0123456789ab.staging.jsonl.provenance.json.abcdefabcdef.tmp",
    "..corpus-a.jsonl.0123456789ab.staging.jsonl.abcdefabcdef.tmp",
    ".corpus-b.csv.0123456789ab.tmp",
    ".corpus-b.csv.0123456789ab.bak",
    ".corpus-b.csv.provenance.json.0123456789ab.tmp",
    ".second-opinion/.hashes.json.0123456789ab.tmp",
    "runs/.20260101T000000Z-abcdef.json.0123456789ab.tmp",
)
NOT_OURS = (
    ".corpus-a.jsonl.notes.tmp",  # not a 12-hex token
    ".corpus-a.jsonl.0123456789AB.tmp",  # upper case: not a token this tool makes
    ".corpus-a.jsonl.0123456789ab.tmp.keep",  # more after the kind
    ".other.csv.0123456789ab.tmp",  # beside a file that is no output of the batch
    "corpus-b.csv.0123456789ab.tmp",  # no leading dot
    ".corpus-b.csv.0123456789ab.staging",  # a folder, not a file
    "runs/.notes.json.0123456789ab.tmp",  # not a run summary's name
)


def test_a_run_sweeps_its_own_stale_staging_files_and_nothing_else(ran: Scaffold) -> None:
    for name in OURS + NOT_OURS:
        path = ran.out / name
        if name.endswith(".staging"):
            path.mkdir()
        else:
            path.write_bytes(b"left by a killed run")

    result = ran.run()

    assert {j.status for j in result.jobs} == {"up-to-date"}
    assert [name for name in OURS if (ran.out / name).exists()] == []
    assert [name for name in NOT_OURS if not (ran.out / name).exists()] == []
