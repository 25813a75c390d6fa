"""The clips table: which raw YUV clips to compute saliency features for.

Columns: ``clip_id`` (unique, non-empty), ``path`` (the raw YUV file; relative paths are read
from the clips table's folder), ``width`` and ``height`` (positive integers), ``pix_fmt``
(``yuv420p`` or ``yuv420p10le``) and, optionally, ``n_frames`` (a positive integer: use the first
``n_frames`` frames; empty means all). Any format :mod:`second_opinion.tables` reads. A row that
breaks these rules fails the whole table with an :class:`InputError` naming the line and value;
problems with the clip's file come later, one clip at a time.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import duckdb

from second_opinion.errors import InputError
from second_opinion.saliency.yuv import PIX_FMTS, PixFmt, YuvLayout
from second_opinion.tables.diagnosis import explain_scan_error
from second_opinion.tables.files import TableFile
from second_opinion.tables.reading import open_table, scan_sql

REQUIRED = ("clip_id", "path", "width", "height", "pix_fmt")
OPTIONAL = ("n_frames",)


@dataclass(frozen=True)
class Clip:
    """One row of the clips table, checked; ``path`` is resolved against the table's folder."""

    clip_id: str
    path: Path
    layout: YuvLayout
    n_frames: int | None
    table: Path

    @property
    def name(self) -> str:
        """How messages name the clip: ``clip 'a001' (clips.jsonl)``."""
        return f"clip {self.clip_id!r} ({self.table.name})"


def read_clips(path: Path) -> list[Clip]:
    """Read and check the clips table at ``path``; clips in table order."""
    con = duckdb.connect()
    try:
        table = open_table(con, path)
        table.require(
            REQUIRED,
            "column",
            "the clips table needs clip_id, path, width, height and pix_fmt (docs/saliency.md)",
        )
        wanted = [c for c in (*REQUIRED, *OPTIONAL) if c in table.columns]
        try:
            cursor = con.execute(scan_sql(table, text=wanted, numbers=()))
            names = [str(d[0]) for d in cursor.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except duckdb.Error as exc:
            raise explain_scan_error(table, exc, numbers=()) from None
    finally:
        con.close()
    if not rows:
        msg = f"{path}: the clips table has no rows; list at least one clip"
        raise InputError(msg)
    clips: list[Clip] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        clip = _clip(table, index, row)
        if clip.clip_id in seen:
            msg = (
                f"{path} {table.location(index)}: clip_id {clip.clip_id!r} repeats "
                f"{table.location(seen[clip.clip_id])}; give each clip its own clip_id"
            )
            raise InputError(msg)
        seen[clip.clip_id] = index
        clips.append(clip)
    return clips


def _clip(table: TableFile, index: int, row: dict[str, str | None]) -> Clip:
    problem = _row_problem(row)
    if problem is not None:
        column, fix = problem
        value = row.get(column)
        shown = "empty" if value is None or not value.strip() else f"{value!r}"
        msg = f"{table.path} {table.location(index)}: {column} is {shown}; {fix}"
        raise InputError(msg)
    clip_id, file, pix_fmt = str(row["clip_id"]), str(row["path"]), row["pix_fmt"]
    width, height = (_positive_int(row[c]) or 0 for c in ("width", "height"))
    resolved = Path(file)
    if not resolved.is_absolute():
        resolved = table.file.parent / resolved
    layout = YuvLayout(width, height, cast("PixFmt", pix_fmt))
    return Clip(clip_id, resolved, layout, _positive_int(row.get("n_frames")), table.file)


def _row_problem(row: dict[str, str | None]) -> tuple[str, str] | None:
    """The first column of ``row`` that breaks the rules, and the fix."""
    for column, fix in (("clip_id", "give every clip an id"), ("path", "give its raw YUV file")):
        value = row[column]
        if value is None or not value.strip():
            return column, fix
    pix_fmt = row["pix_fmt"]
    if pix_fmt not in PIX_FMTS:
        close = difflib.get_close_matches(pix_fmt or "", PIX_FMTS, n=1)
        return "pix_fmt", f"did you mean {close[0]!r}?" if close else f"use one of {PIX_FMTS}"
    for column in ("width", "height", "n_frames"):
        text = row.get(column)
        optional = column == "n_frames" and (text is None or not text.strip())
        if not optional and _positive_int(text) is None:
            return column, "it must be a positive integer"
    return None


def _positive_int(text: str | None) -> int | None:
    """The positive integer ``text`` holds (``64``, ``64.0``), else None."""
    if text is None or "_" in text:
        return None
    try:
        number = float(text.strip())
    except ValueError:
        return None
    if not math.isfinite(number) or not number.is_integer() or number < 1:
        return None
    return int(number)
