"""Duplicate keys, and per-frame files recognised: repeated keys and a column that numbers the
frames.

A scorer that writes one row per frame repeats each clip's key. Read as a per-clip sidecar, its
rows are duplicates: refused (``on_duplicate: error``), or reduced to one (``first``, ``last``,
``mean``), which discards or averages the frames away silently. When the repeated keys come with a
column named like a frame index (:data:`FRAME_NAMES`, any case, ``_`` and ``-`` ignored) whose
values differ within a key, the file is per-frame, and the advice is that column as
``frame_column`` (pooling the frames per clip), never a duplicate policy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb

from second_opinion.errors import KeyProblemError
from second_opinion.join.keys import key_text
from second_opinion.join.plan import EXAMPLES, Sidecar
from second_opinion.join.session import first_row
from second_opinion.join.spelling import SidecarSpelling

FRAME_NAMES = (
    "frame",
    "frame_idx",
    "frame_index",
    "frame_num",
    "frame_number",
    "frame_no",
    "frame_id",
    "frame_time",
    "n",
    "t",
    "time",
    "timestamp",
    "ts",
    "pts",
)
"""Column names that say a row is a frame (compared in lower case, without ``_`` or ``-``)."""

_SEPARATORS = re.compile(r"[_\-\s]+")
_FOLDED = frozenset(_SEPARATORS.sub("", name) for name in FRAME_NAMES)


def frame_like(columns: Sequence[str], taken: Sequence[str] = ()) -> list[str]:
    """The columns named like a frame index, in file order, but for those in ``taken`` (the
    key columns, a status)."""
    return [
        c for c in columns if c not in taken and _SEPARATORS.sub("", c.strip().lower()) in _FOLDED
    ]


def frame_column(
    con: duckdb.DuckDBPyConnection, sidecar: Sidecar, *, relation: str, keys: str
) -> str | None:
    """The column that numbers the frames of a per-clip ``sidecar`` whose keys repeat, if it has
    one: the first column named like a frame index whose values differ within a key, when it
    was loaded as a score column of ``relation`` (``c<i>``; ``keys``: select-list items giving
    its normalised keys ``nk<i>``), else the first so named. Called only when keys repeat."""
    named = frame_like(sidecar.table.columns, (*sidecar.keys, *sidecar.carried))
    for column in named:
        if column not in sidecar.columns:
            return column
        values = f"c{sidecar.columns.index(column)}"
        group = ", ".join(f"nk{i}" for i in range(len(sidecar.keys)))
        varies = first_row(
            con,
            f"SELECT 1 FROM (SELECT {keys}, {values} AS f FROM {relation}) "
            f"GROUP BY {group} HAVING count(DISTINCT f) > 1 LIMIT 1",
        )
        if varies is not None:
            return column
    return None


def frame_advice(say: SidecarSpelling, column: str) -> str:
    """The fix for a per-frame file read as per-clip: its frame column, as the caller sets it."""
    return (
        f"pool its frames per clip with {say.setting({'frame_column': column})} (the mean; "
        f"other statistics with {say.name('pool')})"
    )


def refuse_duplicates(
    con: duckdb.DuckDBPyConnection,
    *,
    sidecar: Sidecar,
    raw: str,
    norm: str,
    total: int,
    frames: str | None,
) -> None:
    """Refuse a sidecar's duplicate keys (``on_duplicate='error'``), the first few shown; a
    per-frame file (``frames``: its frame column) is told to pool them, never to drop them."""
    n = len(sidecar.keys)
    ks = ", ".join(f"k{i}" for i in range(n))
    nks = ", ".join(f"nk{i}" for i in range(n))
    originals = ", ".join(f"first(k{i} ORDER BY rowid)" for i in range(n))
    grouped = (
        f"SELECT {originals}, count(*) AS n, min(rowid) AS first_row "
        f"FROM (SELECT rowid, {ks}, {norm} FROM {raw}) "
        f"GROUP BY {nks} HAVING n > 1"
    )
    dupes = con.execute(f"{grouped} ORDER BY first_row LIMIT {EXAMPLES}").fetchall()
    if dupes:
        shown = ", ".join(f"{'|'.join(key_text(d[:n]))!r} x{d[n]}" for d in dupes)
        say = sidecar.say
        if frames is not None:
            msg = (
                f"{sidecar.key_source}: {total} duplicate key(s) ({shown}), and column "
                f"{frames!r} numbers the rows: a per-frame file; {frame_advice(say, frames)}"
            )
        else:
            first = say.said({"on_duplicate": "first"})
            msg = (
                f"{sidecar.key_source}: {total} duplicate key(s) ({shown}); keep one row per key "
                f"with {first} (or last, or mean), or fix the sidecar"
            )
            if sidecar.spec.align is None and sidecar.spec.records == "table":
                msg += (
                    "; if the rows are frames, name the column that numbers them with "
                    f"{say.name('frame_column')}"
                )
        raise KeyProblemError(msg)
