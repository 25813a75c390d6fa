"""Line endings of a CSV/TSV file: a file that mixes CRLF and LF cannot be sniffed by DuckDB,
whose message ("Error when sniffing file") names neither the line nor the cause. Error paths
only: the file is read again only after DuckDB refused it."""

from __future__ import annotations

from pathlib import Path

from second_opinion.errors import UnreadableFileError
from second_opinion.tables.files import _open_binary

_NAMES = {b"\r\n": r"CRLF (\r\n)", b"\n": r"LF (\n)"}


def mixed_line_endings(path: Path, compressed: bool) -> UnreadableFileError | None:
    """The first line whose ending differs from line 1's, as an error naming both; or None."""
    first: bytes | None = None
    with _open_binary(path, compressed) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                break  # the last line, with no ending
            ending = b"\r\n" if line.endswith(b"\r\n") else b"\n"
            if first is None:
                first = ending
            elif ending != first:
                return UnreadableFileError(
                    f"{path} line {number}: ends with {_NAMES[ending]} where line 1 ends with "
                    f"{_NAMES[first]}: the file mixes line endings, which the CSV reader "
                    "cannot read; convert it to one line ending (dos2unix or unix2dos, or save "
                    "it again from your editor)"
                )
    return None
