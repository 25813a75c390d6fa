"""``audit.html`` as a reader meets it: ranked, sortable tables with CSV downloads, full-width
plots, legible heatmap numbers, byte-identical for the same inputs, and, in a real headless
Chromium (the distribution's package, driven over the DevTools protocol on a pipe), no console
error, every image decoded and a click on a header sorting its table. The browser test keeps a
screenshot in its temp folder; it skips, saying why, where Chromium is not installed
(``tests/_chromium.py``).
"""

from __future__ import annotations

import base64
import html
import io
import re
import urllib.parse
from pathlib import Path

import pytest
from PIL import Image

from second_opinion.audit.document import Figure, Heading, Table
from second_opinion.audit.options import build_options
from second_opinion.audit.output import write_report
from second_opinion.audit.plots import DPI, FULL_WIDTH
from second_opinion.audit.render import blocks
from second_opinion.audit.render_html import table_csv, to_html
from second_opinion.audit.run import AuditResult, run_audit
from second_opinion.html_page import text_colour
from tests._audit_data import corpus_columns, write_corpus
from tests._chromium import DevTools, console_errors

OPTIONS = {
    "splits": 4,
    "bootstrap": 10,
    "model": "ridge",
    "baseline": "vmaf=vmaf",
    "compare_all": True,
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    folder = tmp_path_factory.mktemp("audit")
    table = write_corpus(folder / "a.csv", corpus_columns(60, seed=1))
    return run_audit([f"A={table}"], build_options(**OPTIONS))


@pytest.fixture(scope="module")
def page(result: AuditResult) -> str:
    return to_html(blocks(result))


# --- the page's text -----------------------------------------------------------------------------


def test_the_same_result_renders_the_same_bytes(result: AuditResult, page: str) -> None:
    assert to_html(blocks(result)) == page


def test_each_table_links_its_cells_as_csv_under_a_unique_name(page: str) -> None:
    links = re.findall(r'<a download="([^"]+)" href="data:text/csv;charset=utf-8,([^"]*)">', page)
    names = [name for name, _ in links]
    assert names == [
        "corpus-a-signals.csv",
        "corpus-a-fitted-logistic.csv",
        "corpus-a-redundancy.csv",
        "corpus-a-gain-over-vmaf.csv",
        "corpus-a-comparisons.csv",
        "corpus-a-comparisons-2.csv",  # the matrix of every pair
        "corpus-a-signal-families.csv",
    ]
    assert len(set(names)) == len(names) == page.count('<table class="sortable">')
    signals = urllib.parse.unquote(links[0][1])
    header, *rows = signals.splitlines()
    assert header.startswith("signal,columns,n,SRCC [95 % CI],KRCC,")
    assert rows[0].split(",")[0] in page


def test_table_csv_quotes_cells_with_commas() -> None:
    table = Table(("signal", "SRCC [95 % CI]"), (("vmaf", "0.9000 [0.850, 0.950]"),))
    assert table_csv(table) == 'signal,SRCC [95 % CI]\nvmaf,"0.9000 [0.850, 0.950]"\n'


def test_tables_under_one_heading_get_numbered_csv_names() -> None:
    table = Table(("a",), (("1",),))
    text = to_html([Heading(2, "Corpus Ä b"), table, table])
    assert 'download="corpus-b.csv"' in text
    assert 'download="corpus-b-2.csv"' in text


def test_wide_plots_fill_the_page_and_the_heatmap_keeps_its_size(page: str) -> None:
    classes = re.findall(r'<img class="(\w+)" alt="([^"]*)"', page)
    assert [(kind, html.unescape(alt)) for kind, alt in classes] == [
        ("wide", "MOS vs signals, A"),
        ("wide", "A: per-split SRCC and PLCC"),
        ("narrow", "A: redundancy (Spearman ρ)"),
        ("wide", "A: gain over vmaf"),
        ("narrow", "A: median ΔSRCC of every pair (row − column)"),
    ]
    assert "img.wide { width: 100%; }" in page
    for data in re.findall(r'class="wide" alt="[^"]*" src="data:image/png;base64,([^"]+)"', page):
        with Image.open(_png(data)) as image:
            assert image.size[0] == round(FULL_WIDTH * DPI)


def test_a_figure_not_marked_wide_is_narrow() -> None:
    text = to_html([Figure("x", lambda: b"\x89PNG", wide=False)])
    assert '<img class="narrow" alt="x" src="data:image/png;base64,iVBORw==">' in text


@pytest.mark.parametrize(
    ("rgb", "colour"),
    [
        ((0.0, 0.0, 0.0), "white"),
        ((1.0, 1.0, 1.0), "black"),
        ((0.4039, 0.0, 0.1216), "white"),  # RdBu_r at +1: dark red
        ((0.0196, 0.1882, 0.3804), "white"),  # RdBu_r at -1: dark blue
        ((0.9686, 0.9686, 0.9686), "black"),  # RdBu_r at 0: near white
        ((0.9569, 0.6471, 0.5098), "black"),  # RdBu_r at +0.5: light salmon
    ],
)
def test_heatmap_text_is_black_or_white_by_the_cell_luminance(
    rgb: tuple[float, float, float], colour: str
) -> None:
    assert text_colour(rgb) == colour


def _png(data: str) -> io.BytesIO:
    return io.BytesIO(base64.b64decode(data))


# --- in a real browser ---------------------------------------------------------------------------


COLUMN = """Array.from(document.querySelectorAll("table.sortable")[0].tBodies[0].rows,
  r => r.cells[{column}].textContent)"""


def test_the_report_in_headless_chromium(
    chromium: DevTools, result: AuditResult, tmp_path: Path
) -> None:
    files = write_report(result, tmp_path / "report")
    chromium.send("Page.navigate", {"url": files.html.as_uri()})
    chromium.wait_for("Page.loadEventFired")

    images = chromium.evaluate(
        """Promise.all(Array.from(document.images, i => i.decode().then(
             () => [i.alt, i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width],
             () => [i.alt, 0, 0, 0])))"""
    )
    assert [alt for alt, *_ in images] == [
        "MOS vs signals, A",
        "A: per-split SRCC and PLCC",
        "A: redundancy (Spearman ρ)",
        "A: gain over vmaf",
        "A: median ΔSRCC of every pair (row − column)",
    ]
    for alt, width, height, shown in images:
        assert width > 0, f"{alt} did not decode"
        assert height > 0, f"{alt} did not decode"
        assert shown > 0, f"{alt} is not shown"
    body_width = chromium.evaluate("document.body.clientWidth")
    page_width = body_width - 2 * chromium.evaluate(
        "parseFloat(getComputedStyle(document.body).paddingLeft)"
    )
    assert images[0][3] == pytest.approx(page_width, abs=1)  # the scatter plot: full width

    ranked = chromium.evaluate(COLUMN.format(column=7))  # "splits SRCC": median (std)
    medians = [float(cell.split(" ")[0]) for cell in ranked]
    assert medians == sorted(medians, reverse=True)  # ranked, best first
    box = chromium.evaluate(
        """(() => { const th = document.querySelectorAll("table.sortable")[0].tHead.rows[0]
             .cells[2]; th.scrollIntoView(); const r = th.getBoundingClientRect();
             return [r.x + r.width / 2, r.y + r.height / 2]; })()"""
    )
    before = chromium.evaluate(COLUMN.format(column=0))
    chromium.click(box[0], box[1])
    counts = [int(n) for n in chromium.evaluate(COLUMN.format(column=2))]
    assert counts == sorted(counts)
    assert sorted(chromium.evaluate(COLUMN.format(column=0))) == sorted(before)
    header = 'document.querySelectorAll("table.sortable")[0].tHead.rows[0].cells[2]'
    assert chromium.evaluate(f"{header}.getAttribute('aria-sort')") == "ascending"
    chromium.evaluate(f"{header}.click()")
    assert chromium.evaluate(f"{header}.getAttribute('aria-sort')") == "descending"
    counts = [int(n) for n in chromium.evaluate(COLUMN.format(column=2))]
    assert counts == sorted(counts, reverse=True)

    # the comparisons table sorts by its median Δ (cells "median [low, high]")
    pairs = """Array.from(document.querySelectorAll("table.sortable"))
      .find(t => t.tHead.rows[0].cells[0].textContent === "A vs B")"""
    chromium.evaluate(f"({pairs}).tHead.rows[0].cells[2].click()")
    deltas = chromium.evaluate(
        f"Array.from(({pairs}).tBodies[0].rows, r => r.cells[2].textContent.split(' ')[0])"
    )
    assert len(deltas) == 15  # 6 signals: every pair
    assert [float(d) for d in deltas] == sorted(float(d) for d in deltas)

    with Image.open(chromium.screenshot(tmp_path / "audit-html.png")) as image:
        assert image.size[0] >= 1000
    assert console_errors(chromium.events) == []
