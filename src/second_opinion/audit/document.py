"""The report as a list of blocks (headings, paragraphs, tables, figures), before it is
rendered as Markdown or HTML (:mod:`second_opinion.audit.render`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


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
    """A plot: ``make`` renders it to PNG bytes (only the HTML report calls it). A wide figure
    is shown at the page's full width; a narrow one (a square heatmap) at most at its own."""

    alt: str
    make: Callable[[], bytes]
    wide: bool = True


Block = Heading | Paragraph | Table | Figure


def fmt(value: float | None, digits: int = 4) -> str:
    """A number for a table cell; '—' when undefined."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}f}"


def numeric(text: str) -> bool:
    """Whether a table cell reads as a number (its first word; '—' counts as an undefined one)."""
    head = text.split(" ", 1)[0]
    try:
        float(head)
    except ValueError:
        return head == "—"
    return True


def number(value: float | np.floating[Any] | None) -> float | None:
    """A finite float, or None for NaN, ±inf and None."""
    if value is None:
        return None
    as_float = float(value)
    return as_float if math.isfinite(as_float) else None


def numbers(values: npt.ArrayLike) -> list[Any]:
    """A (nested) list of :func:`number` values."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim <= 1:
        return [number(v) for v in array.ravel()]
    return [numbers(row) for row in array]


def p_text(value: float) -> str:
    """A p-value for a table cell: two significant digits, scientific below 0.001."""
    if not math.isfinite(value):
        return "—"
    return f"{value:.2e}" if value < 1e-3 else f"{value:.3f}"
