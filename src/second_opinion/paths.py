"""What a path names, said plainly: the one place that resolves paths and tells a regular file
from a folder, a FIFO, a socket, a device or a symlink loop (issue 15, ADR 0018).

Nothing else in the package calls ``Path.resolve`` (a symlink loop makes it raise
``RuntimeError`` on Python 3.11) or opens a file without knowing it is a regular one (opening a
FIFO blocks until someone writes to it); ``tests/test_paths.py`` keeps it so.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

LOOP = "is a symlink loop (a symlink that leads, through others, back to itself)"


def resolved(path: Path) -> Path:
    """``path`` absolute, with ``..`` and symlinks resolved as far as they go; never raises (a
    symlink loop is left unresolved, and fails with a clear error where it is opened)."""
    return Path(os.path.realpath(path))


def kind_of_mode(mode: int) -> str | None:
    """What a file of ``mode`` is, as the user would call it; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISLNK, "a symlink"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a regular file (``"no such file"``, ``"is a folder, not a
    file"``, ``"is a FIFO (named pipe), not a regular file"``, a symlink loop), or None.

    Only ``stat`` is called: nothing is opened, so a FIFO never blocks."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return LOOP
        if exc.errno == errno.ENOTDIR:
            return "no such file (a part of the path is a file, not a folder)"
        return f"cannot be read ({exc.strerror or exc})"
    kind = kind_of_mode(mode)
    if kind is None:
        return None
    if kind == "a folder":
        return "is a directory, not a file"
    return f"is {kind}, not a regular file; give a regular file"


def not_a_folder(path: Path) -> str | None:
    """Why ``path`` is not a folder one can write into (``"does not exist"``, a loop, a file),
    or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return LOOP if exc.errno == errno.ELOOP else f"cannot be reached ({exc.strerror or exc})"
    kind = kind_of_mode(mode)
    return None if kind == "a folder" else f"is {kind or 'a file'}, not a folder"
