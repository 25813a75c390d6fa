"""File hashes, and a cache that skips re-reading files whose size and mtime did not change."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from second_opinion.paths import kind_of_mode
from second_opinion.placing import write_text_in_place

CHUNK = 1 << 20
STATE_DIR = ".second-opinion"
"""The folder in a batch's output_dir that holds its lock and its hash cache (``hashes.json``)."""


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    # Opened without blocking and checked: a FIFO swapped in for an input is refused at once
    # (an OSError naming what it is), never waited on.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    kind = kind_of_mode(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise OSError(errno.EINVAL, f"is {kind}, not a regular file", str(path))
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@dataclass(frozen=True)
class FileHash:
    """A file's SHA-256 with the size and mtime it was taken at: what the hash cache keeps."""

    path: Path
    size: int
    mtime_ns: int
    sha256: str


class HashCache:
    """SHA-256 of files by (path, size, mtime_ns), kept in a JSON file between runs.

    A file whose size or modification time changed is hashed again; touching a file without
    changing its bytes costs one re-read and keeps its hash. A missing or corrupt cache file is
    treated as empty.
    """

    def __init__(self, path: Path | None, *, root: Path | None = None) -> None:
        self.path = path
        self.root = root  # the folder the cache must be written inside (see placing)
        self.entries: dict[str, dict[str, int | str]] = {}
        self.changed = False
        if path is not None and path.is_file():
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and isinstance(data.get("files"), dict):
                    self.entries = data["files"]

    def sha256(self, path: Path) -> str:
        """The file's SHA-256, from the cache when its size and mtime are unchanged."""
        stat = path.stat()
        key = str(path.absolute())
        entry = self.entries.get(key)
        if (
            entry
            and entry.get("size") == stat.st_size
            and entry.get("mtime_ns") == stat.st_mtime_ns
        ):
            return str(entry["sha256"])
        digest = sha256_file(path)
        self.record(path, size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=digest)
        return digest

    def record(self, path: Path, *, size: int, mtime_ns: int, sha256: str) -> None:
        """Remember that ``path``, at ``size`` bytes and ``mtime_ns``, hashes to ``sha256``."""
        self.entries[str(path.absolute())] = {"size": size, "mtime_ns": mtime_ns, "sha256": sha256}
        self.changed = True

    def save(self) -> None:
        """Write the cache back, atomically, if anything changed."""
        if self.path is None or not self.changed:
            return
        text = json.dumps({"version": 1, "files": self.entries}, sort_keys=True, indent=1)
        write_text_in_place(self.path, text + "\n", "the hash cache", root=self.root)
        self.changed = False
