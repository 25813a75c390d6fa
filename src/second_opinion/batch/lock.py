"""One batch at a time per output folder: an advisory lock with its holder written inside."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from second_opinion.errors import BusyError
from second_opinion.placing import folder_handle, refuse, write_all

POLL_SECONDS = 0.2


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        return (
            f"run {data.get('run_id')} (pid {data.get('pid')} on {data.get('host')}, "
            f"since {data.get('started')})"
        )
    return "another process"


@contextlib.contextmanager
def output_lock(folder: Path, run_id: str, started: str, timeout: float = 0.0) -> Iterator[Path]:
    """Hold the lock of ``folder`` for the duration of the block.

    Waits up to ``timeout`` seconds for another holder to finish, then raises :class:`BusyError`
    naming that holder. The lock is released when the process ends, however it ends.
    """
    state = folder / ".second-opinion"
    path = state / "lock"
    try:
        # Opened through the real folder .second-opinion inside ``folder`` (never a symlink).
        with folder_handle(state, folder, create=True) as fd:
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            handle = os.open("lock", flags, 0o666, dir_fd=fd)
    except OSError as exc:
        raise refuse(path, "the lock", exc) from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f" after waiting {timeout:g} s" if timeout else ""
                    msg = (
                        f"{folder}: another second-opinion batch is writing here{waited}: "
                        f"{_holder(path)}; wait for it to finish, or pass --lock-timeout SECONDS"
                    )
                    raise BusyError(msg) from None
                time.sleep(POLL_SECONDS)
        holder = {
            "run_id": run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": started,
        }
        try:
            os.ftruncate(handle, 0)
            os.lseek(handle, 0, os.SEEK_SET)
            write_all(handle, json.dumps(holder).encode("utf-8"))
        except OSError as exc:
            raise refuse(path, "the lock's holder", exc) from None
        yield path
    finally:
        os.close(handle)
