"""Self-contained HTML pages (``audit.html``, the batch report): one shell, one style, one script.

* :func:`page` wraps a body in the page every report shares: UTF-8, a viewport, inline style and
  script, nothing fetched (no external URL, font or script), so a page opens offline and the same
  body always gives the same bytes;
* :data:`SORT_SCRIPT` sorts any ``table.sortable`` on a click on a header: numbers by value (the
  cell's first word, so ``91.7 %`` sorts as 91.7), empty ones and ``—`` last, text
  alphabetically; a second click reverses;
* :func:`text_colour` picks black or white text for a cell colour by its relative luminance, so
  numbers on a coloured cell read on every colour.
"""

from __future__ import annotations

import html

BASE_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 80em; color: #222;
  padding: 0 1em; }
table { border-collapse: collapse; margin: 0.3em 0 1.4em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; text-align: left; cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
"""
"""The style every page starts from: body, tables, sortable headers, numeric cells."""

SORT_SCRIPT = """
(function () {
  "use strict";
  function value(text) {
    var head = text.trim().split(" ")[0];
    return head === "" || head === "\\u2014" ? NaN : Number(head);
  }
  function isNumber(text) {
    return text.trim().split(" ")[0] === "\\u2014" || !isNaN(value(text));
  }
  function sortBy(table, column, header) {
    var headers = table.tHead.rows[0].cells;
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    for (var h = 0; h < headers.length; h++) headers[h].removeAttribute("aria-sort");
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      var text = row.cells[column].textContent;
      return { row: row, index: index, text: text, value: value(text) };
    });
    var numbers = rows.every(function (r) { return isNumber(r.text); });
    rows.sort(function (a, b) {
      if (numbers && (isNaN(a.value) || isNaN(b.value))) {
        return isNaN(a.value) === isNaN(b.value) ? a.index - b.index : isNaN(a.value) ? 1 : -1;
      }
      var order = numbers ? a.value - b.value : a.text.localeCompare(b.text);
      return (ascending ? order : -order) || a.index - b.index;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (header, column) {
      header.addEventListener("click", function () { sortBy(table, column, header); });
    });
  });
})();
"""
"""Sorts every ``table.sortable`` (with a ``thead`` and one ``tbody``) on a click on a header."""

DARK_BELOW = 0.179
"""Relative luminance under which white text contrasts more than black (WCAG's crossing point)."""


def page(
    title: str, body: str, *, style: str = BASE_STYLE, script: str = SORT_SCRIPT, head: str = ""
) -> str:
    """A whole page: ``body`` (HTML, already escaped) under ``title``, with ``style`` and
    ``script`` inline and ``head`` (extra ``<head>`` elements) after the viewport."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        + head
        + f"<title>{html.escape(title)}</title>\n<style>"
        + style
        + "</style>\n</head>\n<body>\n"
        + body
        + "\n<script>"
        + script
        + "</script>\n</body>\n</html>\n"
    )


def _linear(channel: float) -> float:
    """An sRGB channel (0-1) in linear light."""
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[float, float, float]) -> float:
    """The relative luminance (WCAG 2) of an sRGB colour with channels in 0-1."""
    red, green, blue = (_linear(c) for c in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def text_colour(rgb: tuple[float, float, float]) -> str:
    """'white' on a dark cell, 'black' on a light one, by the colour's relative luminance."""
    return "white" if luminance(rgb) < DARK_BELOW else "black"


def hex_rgb(colour: str) -> tuple[float, float, float]:
    """``#rrggbb`` as channels in 0-1."""
    digits = colour.lstrip("#")
    red, green, blue = (int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return red, green, blue


def contrast_ratio(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG 2's contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
