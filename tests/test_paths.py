"""Paths that are not regular files (issue 15 #9, #13): symlink loops and FIFOs as inputs,
outputs, output folders and manifests get a clear error at once, in ``join``, ``validate`` and
``batch``; and nothing in the package resolves a path but ``second_opinion.paths``."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.planning import plan_job
from second_opinion.errors import UsageError
from second_opinion.hashing import HashCache
from second_opinion.paths import not_a_file, not_a_folder, resolved
from tests.cli._run import ENV
from tests.test_bad_inputs import _in_process

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "tests" / "bad_inputs" / "tables" / "good"
LOOP = "is a symlink loop (a symlink that leads, through others, back to itself)"
FIFO = "is a FIFO (named pipe), not a regular file"


def test_only_the_paths_module_resolves_paths() -> None:
    """``Path.resolve`` raises RuntimeError on a symlink loop (Python 3.11): one place resolves."""
    package = ROOT / "src" / "second_opinion"
    callers = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "paths.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.resolve\(", line)
    ]
    assert callers == []


def _loop(folder: Path, name: str) -> Path:
    """``name`` in ``folder``: a symlink to a symlink back to it."""
    (folder / f"{name}.other").symlink_to(folder / name)
    (folder / name).symlink_to(folder / f"{name}.other")
    return folder / name


def test_what_a_path_names_is_said_plainly(tmp_path: Path) -> None:
    loop = _loop(tmp_path, "loop.csv")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "s.sock"))
        assert (
            not_a_file(tmp_path / "s.sock")
            == "is a socket, not a regular file; give a regular file"
        )
    assert not_a_file(loop) == LOOP
    assert not_a_file(fifo) == f"{FIFO}; give a regular file"
    assert not_a_file(Path("/dev/null")) == (
        "is a character device, not a regular file; give a regular file"
    )
    assert not_a_file(tmp_path) == "is a directory, not a file"
    assert not_a_file(tmp_path / "none") == "no such file"
    assert not_a_folder(loop) == LOOP
    assert not_a_folder(fifo) == "is a FIFO (named pipe), not a folder"
    assert resolved(loop).name in ("loop.csv", "loop.csv.other")  # left as is, no exception


def _join(tmp_path: Path, features: Path, sidecar: Path, output: Path) -> tuple[int, str]:
    arguments = ["join", "--features", str(features), "--sidecar", f"niqe={sidecar}"]
    found = _in_process([*arguments, "--key", "clip_id", "--output", str(output)], tmp_path)
    assert found.stdout == ""
    return found.code, found.stderr.replace("<DIR>", str(tmp_path))


@pytest.mark.parametrize("role", ["features", "sidecar", "output", "output folder"])
@pytest.mark.parametrize("kind", ["loop", "fifo"])
def test_join_refuses_a_loop_or_a_fifo_at_once(tmp_path: Path, role: str, kind: str) -> None:
    paths: dict[str, Path] = {
        "features": Path(shutil.copy(GOOD / "base.csv", tmp_path / "base.csv")),
        "sidecar": Path(shutil.copy(GOOD / "side.csv", tmp_path / "side.csv")),
        "output": tmp_path / "out.csv",
    }
    odd = tmp_path / ("odd" if role == "output folder" else "odd.csv")
    if kind == "loop":
        _loop(tmp_path, odd.name)
    else:
        os.mkfifo(odd)
    if role == "output folder":
        paths["output"] = odd / "out.csv"
    else:
        paths[role] = odd

    code, stderr = _join(tmp_path, paths["features"], paths["sidecar"], paths["output"])

    what = LOOP if kind == "loop" else FIFO
    expected = {
        "features": f"{odd}: {what}" + ("" if kind == "loop" else "; give a regular file"),
        "sidecar": f"{odd}: {what}" + ("" if kind == "loop" else "; give a regular file"),
        "output": f"{odd}: {what}; name another output",
        "output folder": f"{odd / 'out.csv'}: the folder {odd} "
        + (LOOP if kind == "loop" else "is a FIFO (named pipe), not a folder")
        + "; name another folder",
    }[role]
    assert (code, stderr) == (2, f"error: {expected}\n")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _manifest(tmp_path: Path, sidecar: str, output: str = "out.csv") -> Path:
    shutil.copy(GOOD / "base.csv", tmp_path / "base.csv")
    manifest = tmp_path / "batch.json"
    job = {
        "name": "j",
        "features": "base.csv",
        "key": ["clip_id"],
        "sidecars": [{"scorer": "niqe", "path": sidecar}],
        "output": output,
    }
    data = {"version": 1, "output_dir": "out", "jobs": [job]}
    manifest.write_text(json.dumps(data), encoding="utf-8")
    return manifest


def test_validate_names_a_looping_or_fifo_sidecar_and_output(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    _loop(tmp_path, "side.csv")
    os.mkfifo(tmp_path / "out" / "out.csv")
    manifest = _manifest(tmp_path, "side.csv")

    found = _in_process(["validate", str(manifest)], tmp_path)

    assert found.code == 2
    assert found.stderr.splitlines()[1:] == [
        f"  jobs[0].output: <DIR>/out/out.csv {FIFO}; give a regular file",
        f"  jobs[0].sidecars[0].path: <DIR>/side.csv {LOOP}",
    ]


def test_batch_refuses_an_output_folder_that_loops(tmp_path: Path) -> None:
    shutil.copy(GOOD / "side.csv", tmp_path / "side.csv")
    _loop(tmp_path, "out")
    manifest = _manifest(tmp_path, "side.csv")

    found = _in_process(["batch", str(manifest)], tmp_path)

    assert (found.code, found.stderr) == (
        2,
        (
            "error: <DIR>/batch.json: invalid manifest (1 problem):\n"
            f"  jobs[0].output: the folder <DIR>/out {LOOP}\n"
        ),
    )


@pytest.mark.parametrize("command", ["validate", "batch"])
def test_a_fifo_as_manifest_is_refused_at_once(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "batch.json"
    os.mkfifo(fifo)

    found = subprocess.run(
        [sys.executable, "-m", "second_opinion", command, str(fifo)],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
        timeout=30,
    )

    assert (found.returncode, found.stderr) == (
        2,
        f"error: {fifo}: is a FIFO (named pipe), not a regular file; name the manifest file\n",
    )


def test_an_input_swapped_for_a_fifo_after_loading_is_refused_when_hashed(tmp_path: Path) -> None:
    shutil.copy(GOOD / "side.csv", tmp_path / "side.csv")
    manifest = load_manifest(_manifest(tmp_path, "side.csv"))
    (tmp_path / "out").mkdir()
    shutil.copy(GOOD / "base.csv", tmp_path / "out" / "out.csv")  # an output: inputs get hashed
    (tmp_path / "side.csv").unlink()
    os.mkfifo(tmp_path / "side.csv")

    with pytest.raises(UsageError) as caught:
        plan_job(manifest.jobs[0], HashCache(None))

    assert caught.value.message == (
        f"cannot read input {tmp_path / 'side.csv'}: is a FIFO (named pipe), not a regular file"
    )
