"""Which ``second-opinion`` is benchmarked: the working tree, or ``src/`` of a pinned commit.

The editable install follows ``src/`` as it changes; ``--commit REV`` instead extracts ``src/`` of
that commit (``git archive``) into a temporary directory and runs ``python -m second_opinion``
with it first on ``PYTHONPATH``, so commits made while the benchmark runs cannot leak into it.
"""

from __future__ import annotations

import importlib.metadata
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _corpus import BENCHMARKS

ROOT = BENCHMARKS.parent


def git(*args: str) -> str:
    """The output of a git command in the repository, stripped ("" if git fails)."""
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


@dataclass(frozen=True)
class Tool:
    """How to start the tool, and what source it runs."""

    prefix: tuple[str, ...]  # the command line before the subcommand
    env: dict[str, str] | None  # the environment, if not inherited
    commit: str
    src_changes: str  # ``git status`` of uncommitted changes under src/ ("" when pinned)


def working_tree() -> Tool:
    """The installed ``second-opinion`` script (the editable install: the working tree)."""
    beside = Path(sys.executable).with_name("second-opinion")
    found = str(beside) if beside.exists() else shutil.which("second-opinion")
    if found is None:
        msg = "second-opinion is not installed; pip install -e . first"
        raise SystemExit(msg)
    changes = git("status", "--porcelain", "--", "src")
    return Tool((found,), None, git("rev-parse", "HEAD"), changes)


def pinned(rev: str, into: Path) -> Tool:
    """``src/`` of commit ``rev``, extracted under ``into``, run with ``python -m``."""
    commit = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    if not commit:
        msg = f"--commit {rev}: not a commit of {ROOT}"
        raise SystemExit(msg)
    archive = subprocess.run(
        ["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    env = dict(os.environ, PYTHONPATH=str(into / "src"))
    return Tool((sys.executable, "-m", "second_opinion"), env, commit, "")


def environment(tool: Tool) -> dict[str, Any]:
    """The machine, the versions, and the source the tool runs."""
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), "")
    mem_kib = next(int(x.split()[1]) for x in meminfo if x.startswith("MemTotal"))
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "duckdb": importlib.metadata.version("duckdb"),
        "pyarrow": importlib.metadata.version("pyarrow"),
        "commit": tool.commit,
        "src_changes": tool.src_changes,
    }
