"""The report as a list of blocks (headings, paragraphs, tables, figures), before it is
rendered as Markdown or HTML (:mod:`second_opinion.audit.render`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    """A section title (level 1 is the page's)."""

    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """Running text."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table of text cells, one tuple per row."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figure:
    """A plot: ``make`` renders it to PNG bytes (only the HTML report calls it)."""

    alt: str
    make: Callable[[], bytes]


Block = Heading | Paragraph | Table | Figure


def fmt(value: float | None, digits: int = 4) -> str:
    """A number for a table cell; '—' when undefined."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}f}"
