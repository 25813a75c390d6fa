"""Writes that hold (ADR 0018): files staged beside their target, then put in place together.

Every file a batch writes goes through here, so three rules hold for all of them:

* **Confined at the moment of writing.** With a ``root`` (the batch's ``output_dir``), the target's
  folder is opened component by component below ``root`` without following symlinks
  (``O_NOFOLLOW``), and the staged files are renamed through that folder handle. A subfolder
  replaced by a symlink while the batch runs is refused; nothing lands outside ``root``.
* **All or nothing.** :func:`put_in_place` puts an output and its record in place together: a
  target that cannot take a file (a folder, a FIFO) is refused before anything moves, and if a
  rename fails the targets already replaced get their previous bytes back.
* **Failures are reported, not raised as tracebacks.** A full disk, a read-only folder or a
  symlink loop becomes an :class:`~second_opinion.errors.InputError` naming the file, the cause
  and the fix.

Staging names are ``.<target name>.<12 hex digits>.<kind>``; :func:`is_staging_of` recognises
exactly those (and nothing else), so a sweep after ``kill -9`` removes only the tool's own files.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from second_opinion.errors import InputError
from second_opinion.paths import kind_of_mode

_HEX12 = r"[0-9a-f]{12}"
_KINDS = r"(?:tmp|rows\.tmp|bak|staging[.\w-]*)"

NO_FOLLOW = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def staging_token() -> str:
    """The random part of a staging name: 12 hex digits."""
    return uuid.uuid4().hex[:12]


def is_staging_of(name: str, target: str) -> bool:
    """Whether ``name`` is one of this tool's staging names for a file called ``target``: a
    temporary file (``.t.<token>.tmp``), a backup (``.t.<token>.bak``), a staged output or
    record (``.t.<token>.staging…``), or the temporary file of a staged record."""
    escaped = re.escape(target)
    pattern = (
        rf"\.{escaped}\.{_HEX12}\.{_KINDS}|\.\.{escaped}\.{_HEX12}\.staging[.\w-]*\.{_HEX12}\.tmp"
    )
    return re.fullmatch(pattern, name) is not None


def sweep_staging(folder: Path, targets: Iterable[str], *, root: Path | None = None) -> list[str]:
    """Remove this tool's stale staging files for ``targets`` (file names) in ``folder`` (reached
    inside ``root``, as every write is); return the names removed. Nothing else is touched."""
    names = set(targets)
    removed: list[str] = []
    with contextlib.suppress(OSError, InputError), folder_handle(folder, root) as fd:
        for entry in os.scandir(fd):
            if entry.is_file(follow_symlinks=False) and any(
                is_staging_of(entry.name, target) for target in names
            ):
                with contextlib.suppress(OSError):
                    os.unlink(entry.name, dir_fd=fd)
                    removed.append(entry.name)
    return sorted(removed)


def explain(exc: OSError) -> str:
    """An OS error as the user reads it, with the fix for the common ones."""
    text = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return f"{text}; free some space on that disk and run again"
    if exc.errno == errno.EDQUOT:
        return f"{text}; free some space within your quota and run again"
    if exc.errno == errno.ELOOP:
        return f"{text}: a symlink loop; replace the symlink by a real folder or file"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{text}; make it writable, or write elsewhere"
    return text


def refuse(path: Path, what: str, exc: OSError) -> InputError:
    """The error for ``what`` at ``path`` failing with ``exc``."""
    return InputError(f"{path}: cannot write {what} ({explain(exc)})")


@contextlib.contextmanager
def folder_handle(folder: Path, root: Path | None, *, create: bool = False) -> Iterator[int]:
    """An open handle of ``folder``; with ``root``, reached below ``root`` one real folder at a
    time (a symlink is refused); ``create`` makes the missing folders (inside ``root``)."""
    if root is None:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    else:
        fd = _confined(folder, root, create=create)
    try:
        yield fd
    finally:
        os.close(fd)


def _confined(folder: Path, root: Path, *, create: bool) -> int:
    try:
        parts = folder.relative_to(root).parts
    except ValueError:
        parts = ("..",)
    if ".." in parts:
        msg = f"{folder}: is outside output_dir {root}; nothing was written there"
        raise InputError(msg)
    if create:
        root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    here = root
    try:
        for part in parts:
            here = here / part
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
            try:
                child = os.open(part, NO_FOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(here):
                    target = here.readlink()
                    msg = (
                        f"{here}: is a symlink (to {target}) inside output_dir {root}; a batch "
                        "writes only into real folders, so nothing lands outside output_dir: "
                        "replace the symlink by a folder, or pass --allow-outside-output-dir"
                    )
                    raise InputError(msg) from None
                raise
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_link(path: Path) -> bool:
    with contextlib.suppress(OSError):
        return stat.S_ISLNK(os.lstat(path).st_mode)
    return False


def put_in_place(staged: Sequence[tuple[Path, Path, str]], *, root: Path | None = None) -> None:
    """Rename each ``(staged file, target, what it is)`` over its target, all in one folder, as
    one step: a target that cannot take a file is refused before anything moves, and a failed
    rename puts back what the earlier ones replaced. Raises :class:`InputError`."""
    folder = staged[0][1].parent
    try:
        with folder_handle(folder, root) as fd:
            for _, target, what in staged:
                with contextlib.suppress(FileNotFoundError):
                    mode = os.stat(target.name, dir_fd=fd, follow_symlinks=False).st_mode
                    kind = None if stat.S_ISLNK(mode) else kind_of_mode(mode)
                    if kind is not None:
                        msg = (
                            f"{target}: is {kind}, where the job's {what} goes; "
                            "move it away or name another output"
                        )
                        raise InputError(msg)
            _rename_all(fd, staged)
    except OSError as exc:
        target, what = _failed(staged, exc)
        raise refuse(target, f"the {what}", exc) from None


def _failed(staged: Sequence[tuple[Path, Path, str]], exc: OSError) -> tuple[Path, str]:
    """The target (and what it is) a failed rename was about; the first when it does not say."""
    for source, target, what in staged:
        if exc.filename in (str(source), source.name, str(target), target.name):
            return target, what
    return staged[0][1], staged[0][2]


def _rename_all(fd: int, staged: Sequence[tuple[Path, Path, str]]) -> None:
    token = staging_token()
    backups: dict[str, str] = {}
    done: list[str] = []
    try:
        for _, target, _ in staged:
            backup = f".{target.name}.{token}.bak"
            try:
                os.link(target.name, backup, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            backups[target.name] = backup
        for source, target, _ in staged:
            os.replace(source.name, target.name, src_dir_fd=fd, dst_dir_fd=fd)
            done.append(target.name)
    except OSError as exc:
        for name in done:  # put back what was replaced; remove what was new
            with contextlib.suppress(OSError):
                if name in backups:
                    os.replace(backups.pop(name), name, src_dir_fd=fd, dst_dir_fd=fd)
                else:
                    os.unlink(name, dir_fd=fd)
        if len(done) < len(staged):
            exc.filename = staged[len(done)][1].name
        raise
    finally:
        for backup in backups.values():
            with contextlib.suppress(OSError):
                os.unlink(backup, dir_fd=fd)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the file descriptor ``fd`` (a full disk raises ``OSError``)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_text_in_place(path: Path, text: str, what: str, *, root: Path | None = None) -> None:
    """Write ``text`` to ``path`` (a temporary file in its folder, then a rename through the
    folder's handle, confined to ``root``); a failure is an :class:`InputError` naming ``what``."""
    name = f".{path.name}.{staging_token()}.tmp"
    try:
        with folder_handle(path.parent, root, create=True) as fd:
            try:
                handle = os.open(
                    name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=fd
                )
                try:
                    write_all(handle, text.encode("utf-8"))
                    os.fsync(handle)
                finally:
                    os.close(handle)
                os.replace(name, path.name, src_dir_fd=fd, dst_dir_fd=fd)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=fd)
    except OSError as exc:
        raise refuse(path, what, exc) from None
