"""Which format a matrix file is in: the suffix picks the family, the content the version.

MATLAB v7.3 files are HDF5, found by the HDF5 signature at byte 0 or 512·2^k (after MATLAB's
512-byte text header); an HDF5 ``.mat`` without MATLAB's header (written by another tool) is read
the same way. A ``.npz`` that is really a ``.npy`` array is refused with the rename that fixes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from second_opinion._typing import MatrixFormat
from second_opinion.errors import UnreadableFileError
from second_opinion.matrices.core import read_head
from second_opinion.matrices.mat5 import scipy_io
from second_opinion.matrices.numpy_files import NPY_SIGNATURE, ZIP_SIGNATURE
from second_opinion.matrices.text import TEXT_SUFFIXES

SUPPORTED_SUFFIXES = ".mat, .npy, .npz, .csv, .tsv and .txt (text optionally .gz)"

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def format_family(path: Path) -> tuple[Literal["mat", "npy", "npz", "csv"], str | None, bool]:
    """The format family from the suffix, the text delimiter, and whether it is gzipped."""
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in TEXT_SUFFIXES:
        return "csv", TEXT_SUFFIXES[last], compressed
    if not compressed and last == ".mat":
        return "mat", None, False
    if not compressed and last in (".npy", ".npz"):
        return ("npy" if last == ".npy" else "npz"), None, False
    msg = (
        f"{path}: unsupported matrix file type {''.join(path.suffixes) or '(no suffix)'!r}; "
        f"use {SUPPORTED_SUFFIXES}"
    )
    raise UnreadableFileError(msg)


def _hdf5_offset(path: Path) -> int | None:
    """Where the HDF5 superblock starts (byte 0 or 512·2^k), or ``None`` if the file is not HDF5."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            offset = 0
            while offset + len(_HDF5_SIGNATURE) <= size:
                handle.seek(offset)
                if handle.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                    return offset
                offset = 512 if offset == 0 else offset * 2
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror or exc})"
        raise UnreadableFileError(msg) from None
    return None


def container_format(path: Path, family: str) -> MatrixFormat:
    """The format of a ``.mat`` or ``.npz`` file, from its content."""
    head = read_head(path, 128)
    if family == "npz":
        if head.startswith(NPY_SIGNATURE):
            msg = f"{path}: a .npy array, not a .npz archive; rename it to .npy"
            raise UnreadableFileError(msg)
        if not head.startswith(ZIP_SIGNATURE):
            msg = f"{path}: not a .npz archive (no zip signature); the file is truncated or corrupt"
            raise UnreadableFileError(msg)
        return "npz"
    if _hdf5_offset(path) is not None:
        return "mat73"
    if head.startswith(b"MATLAB 7.3"):
        msg = (
            f"{path}: the header says MATLAB 7.3 (HDF5), but the file holds no HDF5 data; "
            "the file is truncated or corrupt"
        )
        raise UnreadableFileError(msg)
    try:
        with path.open("rb") as handle:
            major, _ = scipy_io().matlab.matfile_version(handle)
    except Exception as exc:
        msg = f"{path}: not a MATLAB .mat file (no MATLAB v4, v5 or v7.3 header)"
        raise UnreadableFileError(msg) from exc
    if major == 0:
        return "mat4"
    if major == 1:
        return "mat5"
    msg = f"{path}: not a MATLAB .mat file (header version {major}); the file is corrupt"
    raise UnreadableFileError(msg)
