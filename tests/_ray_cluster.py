"""A real two-node Ray cluster on this machine, for the Ray executor's tests.

The head node sees everything; the worker node runs in its own mount namespace with an empty
tmpfs over one folder (``private``), so it cannot see what the driver puts there: a cluster
whose nodes do not share that storage. Starting it needs ``unshare -m`` and ``mount`` (root, or
CAP_SYS_ADMIN); :func:`can_hide_folders` says whether this machine allows that.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

RAY = Path(sys.executable).with_name("ray")
# A cluster of our own, without the token the head would otherwise demand from joining nodes.
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def can_hide_folders() -> bool:
    """Whether a process here may get a private mount namespace and mount a tmpfs in it."""
    if shutil.which("unshare") is None:
        return False
    with tempfile.TemporaryDirectory() as folder:
        probe = subprocess.run(
            ["unshare", "-m", "sh", "-c", f"mount -t tmpfs tmpfs {folder}"],
            capture_output=True,
            check=False,
        )
    return probe.returncode == 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    """The head's address, a folder every node sees and one only the head sees."""

    address: str
    shared: Path
    private: Path


def _stop(session: Path) -> None:
    """Kill every process of this cluster (found by its session folder) and their children;
    ``ray stop`` would stop every Ray on the machine."""
    roots = []
    spared = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    for proc in psutil.process_iter(["cmdline"]):
        if proc.pid in spared:
            continue
        with contextlib.suppress(psutil.Error):
            if any(str(session) in part for part in proc.info["cmdline"] or ()):
                roots.append(proc)
    tree = set(roots)
    for proc in roots:
        with contextlib.suppress(psutil.Error):
            tree.update(proc.children(recursive=True))
    for proc in tree:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(list(tree), timeout=15)


@contextlib.contextmanager
def two_node_cluster() -> Iterator[Cluster]:
    """Start the head (1 CPU) and a worker node (1 CPU) that cannot see ``private``."""
    # Short: Ray's unix sockets live under it, and their paths are limited to ~107 bytes.
    root = Path(tempfile.mkdtemp(prefix="so-ray-", dir="/tmp"))
    session, shared, private = root / "ray", root / "shared", root / "private"
    shared.mkdir()
    private.mkdir()
    address = f"127.0.0.1:{free_port()}"
    common = ["--num-cpus=1", "--disable-usage-stats"]
    try:
        subprocess.run(
            [
                str(RAY),
                "start",
                "--head",
                f"--port={address.split(':')[1]}",
                "--include-dashboard=false",
                f"--temp-dir={session}",
                *common,
            ],
            env=ENV,
            check=True,
            capture_output=True,
            timeout=120,
        )
        hidden = f"mount -t tmpfs tmpfs {private} && exec {RAY} start --address={address} "
        subprocess.run(
            ["unshare", "-m", "sh", "-c", hidden + " ".join(common)],
            env=ENV,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield Cluster(address, shared, private)
    finally:
        _stop(session)
        shutil.rmtree(root, ignore_errors=True)
