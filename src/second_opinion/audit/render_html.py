"""``audit.html``: the report's blocks as one self-contained page.

* tables sort on a click on a header (:data:`~second_opinion.html_page.SORT_SCRIPT`: numbers by
  value, undefined ones last, text alphabetically; a second click reverses), and each has a
  "Download CSV" link whose ``data:`` URL holds the table's cells as shown;
* figures are embedded PNG data URIs, wide ones at the page's full width, or a note in a plot's
  place when matplotlib (the 'plots' extra) is not installed.

Nothing is fetched: no external URL, font or script, so the page opens offline and the same
blocks always give the same bytes.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
import urllib.parse
from collections.abc import Sequence

from second_opinion.audit.document import Block, Figure, Heading, Paragraph, Table, numeric
from second_opinion.errors import MissingExtraError
from second_opinion.html_page import BASE_STYLE, page

_STYLE = (
    BASE_STYLE
    + """img { display: block; max-width: 100%; height: auto; margin: 0.5em 0 1.5em; }
img.wide { width: 100%; }
p.csv { margin: 0.8em 0 0; font-size: 12px; }
p.note { color: #666; font-style: italic; }
"""
)


def to_html(items: Sequence[Block]) -> str:
    """A self-contained HTML page: sortable tables with CSV links, each figure an embedded PNG."""
    body = []
    sections = ["", ""]  # the current h2 and h3, to name each table's CSV file
    names: dict[str, int] = {}
    for block in items:
        if isinstance(block, Heading):
            if block.level == 2:
                sections[:] = [block.text, ""]
            elif block.level == 3:
                sections[1] = block.text
            body.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Table):
            body.append(_html_table(block, _csv_name(sections, names)))
        else:
            body.append(_html_figure(block))
    return page("Signal-mix audit", "\n".join(body), style=_STYLE)


def _csv_name(sections: Sequence[str], taken: dict[str, int]) -> str:
    """A file name from the table's section headings, unique within the page."""
    words = "-".join(s for s in sections if s)
    stem = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-") or "table"
    taken[stem] = taken.get(stem, 0) + 1
    return f"{stem}.csv" if taken[stem] == 1 else f"{stem}-{taken[stem]}.csv"


def table_csv(table: Table) -> str:
    """The table's header and cells as CSV text (the cells as shown, intervals included)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return buffer.getvalue()


def _html_figure(figure: Figure) -> str:
    """The plot as an embedded PNG, or a note in its place when matplotlib is not installed."""
    try:
        png = figure.make()
    except MissingExtraError as missing:
        note = (
            f"Plot not drawn ({figure.alt}): {missing.module} is not installed "
            f"(pip install 'second-opinion[{missing.extra}]')"
        )
        return f'<p class="note">{html.escape(note)}</p>'
    data = base64.b64encode(png).decode("ascii")
    kind = "wide" if figure.wide else "narrow"
    alt = html.escape(figure.alt)
    return f'<img class="{kind}" alt="{alt}" src="data:image/png;base64,{data}">'


def _html_table(table: Table, csv_name: str) -> str:
    href = "data:text/csv;charset=utf-8," + urllib.parse.quote(table_csv(table), safe="")
    link = (
        f'<p class="csv"><a download="{html.escape(csv_name)}" href="{href}">'
        f"Download CSV ({html.escape(csv_name)})</a></p>"
    )
    head = "".join(
        f'<th scope="col" title="Click to sort">{html.escape(h)}</th>' for h in table.headers
    )
    rows = []
    for row in table.rows:
        cells = "".join(
            f'<td class="n">{html.escape(c)}</td>' if numeric(c) else f"<td>{html.escape(c)}</td>"
            for c in row
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'{link}\n<table class="sortable">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
    )
