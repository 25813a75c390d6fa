"""Small pieces every part of the batch report's page uses: escaping, links, numbers, statuses.

Every string that comes from a file (job names, keys, paths, errors) goes through :func:`esc`;
keys are shown as :func:`~second_opinion.join.keys.key_repr` shows them, quotes and invisible
characters included, so two keys that differ only in them are seen to differ.
"""

from __future__ import annotations

import html
import os
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from second_opinion.html_page import hex_rgb, text_colour
from second_opinion.join.keys import key_repr

STATUS_CLASS = {
    "built": "s-built",
    "rebuilt": "s-rebuilt",
    "up-to-date": "s-up-to-date",
    "failed": "s-failed",
    "skipped": "s-skipped",
}
"""The status words ``batch`` writes, and their style; any other word (or none) is ``s-none``."""
STATUS_COLOURS = {
    "s-built": ("#e3f2e6", "#1d5a2c"),
    "s-rebuilt": ("#e4ecfb", "#1c3f88"),
    "s-up-to-date": ("#eeeeee", "#333333"),
    "s-failed": ("#fbe4e1", "#8a1c13"),
    "s-skipped": ("#fdf0d8", "#6e4200"),
    "s-none": ("#f6f6f6", "#555555"),
}
"""Background and text colour of each status style (all above 4.5:1 contrast)."""
COVERAGE_BANDS = (
    (1.0, "#1a7f37", "100 %"),
    (0.99, "#66bd63", "99 % or more"),
    (0.95, "#a6d96a", "95 % or more"),
    (0.8, "#fee08b", "80 % or more"),
    (0.5, "#fdae61", "50 % or more"),
    (1e-300, "#f46d43", "above 0 %"),
    (0.0, "#a50026", "0 %"),
)
"""A coverage cell's colour: the first band whose lower bound the coverage reaches."""
EMPTY_CELL = "#f3f3f3"


def esc(text: object) -> str:
    """``text`` as HTML text or attribute value: escaped, lone surrogates shown as ``\\udxxx``."""
    shown = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(shown, quote=True)


def key_text(key: Sequence[str]) -> str:
    """A key's parts as :func:`key_repr` shows them, joined by ``, ``; escaped."""
    return esc(", ".join(key_repr(part) for part in key))


def relative_href(target: str, at: Path) -> str:
    """A relative URL from the folder of the page at ``at`` to the file ``target``."""
    relative = os.path.relpath(Path(target).absolute(), at.absolute().parent)
    return esc(urllib.parse.quote(Path(relative).as_posix()))


def file_link(target: str | None, at: Path, text: str | None = None) -> str:
    """A link to ``target`` (shown as ``text``, else its path), or the path alone when
    ``target`` is None; both escaped."""
    if target is None:
        return esc(text or "")
    return f'<a href="{relative_href(target, at)}">{esc(text or target)}</a>'


def percent(fraction: float) -> str:
    """A fraction as a percentage with one decimal, never rounded to ``100.0`` or ``0.0`` when
    it is not exactly that (more decimals are shown instead)."""
    for digits in range(1, 7):
        text = f"{100 * fraction:.{digits}f}"
        boundary = text.rstrip("0").rstrip(".") in ("100", "0")
        if not boundary or fraction in (0.0, 1.0):
            return f"{text} %"
    return f"{100 * fraction:.6f} %"


def count(value: int | None) -> str:
    """A count with thousands separators, or ``—``."""
    return "\u2014" if value is None else f"{value:,}"


def seconds(value: float | None) -> str:
    return "\u2014" if value is None else f"{value:.2f}"


def status_badge(status: str | None) -> str:
    """A status word in its colours (``—`` when no run names the job)."""
    style = STATUS_CLASS.get(status or "", "s-none")
    return f'<span class="status {style}">{esc(status or chr(0x2014))}</span>'


def band(fraction: float) -> int:
    """The index in :data:`COVERAGE_BANDS` of a coverage fraction's colour."""
    return next(i for i, (low, _, _) in enumerate(COVERAGE_BANDS) if fraction >= low)


def colour_style() -> str:
    """The CSS of the status badges, graph nodes and coverage bands, text colours included."""
    lines = []
    for style, (background, colour) in STATUS_COLOURS.items():
        lines.append(f".status.{style} {{ background: {background}; color: {colour}; }}")
        lines.append(f"g.{style} rect {{ fill: {background}; stroke: {colour}; }}")
    for index, (_, background, _) in enumerate(COVERAGE_BANDS):
        colour = text_colour(hex_rgb(background))
        lines.append(f"td.cov{index} {{ background: {background}; color: {colour}; }}")
    lines.append(f"td.cov-none {{ background: {EMPTY_CELL}; color: #555555; }}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Cell:
    """A table cell with its own class and tooltip (both escaped already); a plain ``str`` is a
    cell too."""

    html: str
    css: str = ""
    title: str = ""


def sortable(
    headers: Sequence[str],
    rows: Sequence[Sequence[str | Cell]],
    *,
    numeric: Sequence[int] = (),
    extra_class: str = "",
) -> str:
    """A table that sorts on a click on a header (``SORT_SCRIPT``); cells are HTML (escaped
    already), ``numeric`` columns aligned right."""
    head = "".join(f'<th scope="col" title="Click to sort">{esc(h)}</th>' for h in headers)
    body = []
    for cells in rows:
        shown = []
        for i, given in enumerate(cells):
            cell = Cell(given, "n" if i in numeric else "") if isinstance(given, str) else given
            css = f' class="{cell.css}"' if cell.css else ""
            title = f' title="{cell.title}"' if cell.title else ""
            shown.append(f"<td{css}{title}>{cell.html}</td>")
        body.append("<tr>" + "".join(shown) + "</tr>")
    css = f"sortable {extra_class}".strip()
    return (
        f'<table class="{css}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody>\n</table>"
    )
