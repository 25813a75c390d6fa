"""``report.html`` as a reader meets it: legible colours, relative links that resolve, nothing
fetched, the graph laid out by depth, and, in a real headless Chromium (tests/_chromium.py), no
console error, every local link and anchor resolving, the audit's page opening from its link, and
a click on a header sorting a table. The browser test keeps a screenshot in its temp folder."""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

import pytest
from PIL import Image

from second_opinion import BatchReport, build_batch_report, run_batch, write_batch_report
from second_opinion.batch.report.graph import columns, graph_svg
from second_opinion.batch.report.html_parts import (
    COVERAGE_BANDS,
    STATUS_COLOURS,
    band,
    esc,
    percent,
)
from second_opinion.batch.report.model import JobReport
from second_opinion.batch.report.render import report_html
from second_opinion.html_page import contrast_ratio, hex_rgb, text_colour
from tests._chromium import DevTools, console_errors
from tests._report_batch import SECOND_RUN, run_twice

AA = 4.5
"""WCAG AA's minimum contrast for normal text."""


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two runs of tests/_report_batch.py, with the audit of corpus-a."""
    return run_twice(tmp_path_factory.mktemp("report-html"), run_batch, audit=True)


@pytest.fixture(scope="module")
def report(out: Path) -> BatchReport:
    return build_batch_report(out)


# --- numbers and colours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [
        (1.0, "100.0 %"),
        (0.0, "0.0 %"),
        (11 / 12, "91.7 %"),
        (0.9999, "99.99 %"),
        (0.99996, "99.996 %"),
        (0.0004, "0.04 %"),
        (0.5, "50.0 %"),
    ],
)
def test_a_percentage_is_never_rounded_to_all_or_nothing(fraction: float, shown: str) -> None:
    assert percent(fraction) == shown


@pytest.mark.parametrize(
    ("fraction", "label"),
    [(1.0, "100 %"), (0.995, "99 % or more"), (0.9, "80 % or more"), (1e-9, "above 0 %"),
     (0.0, "0 %")],
)  # fmt: skip
def test_each_coverage_falls_in_its_band(fraction: float, label: str) -> None:
    assert COVERAGE_BANDS[band(fraction)][2] == label


def test_every_cell_and_badge_colour_has_legible_text() -> None:
    for _, background, label in COVERAGE_BANDS:
        colour = (1.0, 1.0, 1.0) if text_colour(hex_rgb(background)) == "white" else (0, 0, 0)
        ratio = contrast_ratio(hex_rgb(background), colour)
        assert ratio >= AA, f"{label}: {ratio:.2f}"
    for style, (background, text) in STATUS_COLOURS.items():
        ratio = contrast_ratio(hex_rgb(background), hex_rgb(text))
        assert ratio >= AA, f"{style}: {ratio:.2f}"


def test_escaping_shows_markup_and_lone_surrogates_as_text() -> None:
    assert esc('<a href="x">\'&\ud800') == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;\\ud800"


# --- the graph -----------------------------------------------------------------------------------


def _job(name: str, needs: tuple[str, ...] = (), feeds: tuple[str, ...] = ()) -> JobReport:
    return JobReport(name, "join", f"/o/{name}", output_exists=False, status=None, needs=needs,
                     feeds=feeds)  # fmt: skip


def test_jobs_stand_one_column_right_of_the_deepest_job_they_read() -> None:
    jobs = [
        _job("a", feeds=("b", "d")),
        _job("b", needs=("a",), feeds=("d",)),
        _job("alone"),
        _job("c", feeds=("d",)),
        _job("d", needs=("b", "c", "a")),
    ]
    assert columns(jobs) == [["a", "c"], ["b"], ["d"]]
    svg = graph_svg(jobs, {j.name: f"job-{i}" for i, j in enumerate(jobs)})
    assert svg.count('<path class="edge"') == 4
    assert svg.count('<g class="node') == 4  # "alone" is listed, not drawn
    assert graph_svg([_job("x"), _job("y")], {"x": "job-0", "y": "job-1"}) == ""


def test_a_long_job_name_is_cut_in_its_box_and_whole_in_its_tooltip() -> None:
    name = "a-very-long-job-name-for-a-corpus-<b>"
    jobs = [_job(name, feeds=("z",)), _job("z", needs=(name,))]
    svg = graph_svg(jobs, {name: "job-1", "z": "job-2"})
    assert "<title>a-very-long-job-name-for-a-corpus-&lt;b&gt;: no run summary</title>" in svg
    assert ">a-very-long-job-name-for-\u2026</text>" in svg


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_every_part(report: BatchReport, out: Path) -> None:
    page = report_html(report, out / "report.html")
    for heading in ("Job graph", "Coverage: corpus × scorer", "Jobs", "Each job", "Audit", "Runs"):
        assert re.search(rf"<h2 id=\"[a-z-]+\">{re.escape(heading)}</h2>", page), heading
    for status in set(SECOND_RUN.values()):
        assert f'class="status s-{status}">{status}</span>' in page
    assert 'title="niqe on corpus-a: 11 of 12 base rows"><a href="#job-1-0">91.7 %</a>' in page
    assert (
        '<td class="cov cov6" title="niqe on broken: from the failed run&#x27;s summary">' in page
    )
    assert "Jobs that neither read nor feed another: " in page
    assert '<a href="audit/audit.html">audit.html</a>' in page


def _hrefs(page: str) -> list[str]:
    return [urllib.parse.unquote(h) for h in re.findall(r'href="([^"]*)"', page)]


@pytest.mark.parametrize("where", ["out/report.html", "elsewhere/r.html"])
def test_links_are_relative_and_resolve_and_nothing_is_fetched(
    report: BatchReport, out: Path, where: str
) -> None:
    at = out.parent / where
    page = report_html(report, at)
    files = [h for h in _hrefs(page) if not h.startswith("#")]
    assert files
    assert ("../out/corpus-a.jsonl" in files) == (where == "elsewhere/r.html")
    for href in files:
        assert not Path(href).is_absolute(), href
        assert Path(os.path.normpath(at.parent / href)).is_file(), href  # as a URL resolves
    ids = set(re.findall(r' id="([^"]+)"', page))
    for href in _hrefs(page):
        if href.startswith("#"):
            assert href[1:] in ids, href
    assert not re.search(r'\bsrc="(?!data:)', page)
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"]
    assert "default-src 'none'" in page


# --- in a real browser ---------------------------------------------------------------------------

JOB_COLUMN = """Array.from(document.querySelector("#jobs + table").tBodies[0].rows,
  r => r.cells[{column}].textContent)"""


def test_the_report_in_headless_chromium(
    chromium: DevTools, report: BatchReport, out: Path, tmp_path: Path
) -> None:
    page = write_batch_report(report)
    chromium.send("Page.navigate", {"url": page.as_uri()})
    chromium.wait_for("Page.loadEventFired")

    assert chromium.evaluate("document.title") == "Batch report: out"
    graph = chromium.evaluate(
        """(() => { const r = document.querySelector("svg.graph").getBoundingClientRect();
             const nodes = document.querySelectorAll("svg.graph g.node");
             return [r.width, r.height, nodes.length]; })()"""
    )
    assert graph[0] > 400
    assert graph[1] > 50
    assert graph[2] == 4

    # every link to a file resolves, every anchor names an element
    links = chromium.evaluate("Array.from(document.links, a => a.href)")
    local = [link for link in links if link.startswith("file://") and "#" not in link]
    assert len(local) >= 10
    for link in local:
        assert Path(urllib.parse.unquote(urllib.parse.urlparse(link).path)).is_file(), link
    missing = chromium.evaluate(
        """Array.from(document.querySelectorAll('a[href^="#"]'))
             .map(a => a.getAttribute("href").slice(1))
             .filter(id => document.getElementById(id) === null)"""
    )
    assert missing == []

    # every coverage cell's text reads on its colour, as the browser paints it
    cells = chromium.evaluate(
        """Array.from(document.querySelectorAll("td.cov"), td => {
             const s = getComputedStyle(td), a = td.querySelector("a");
             return [td.textContent, s.backgroundColor, getComputedStyle(a || td).color]; })"""
    )
    assert len(cells) > 10
    for text, background, colour in cells:
        ratio = contrast_ratio(_css_rgb(background), _css_rgb(colour))
        assert ratio >= AA, f"{text}: {background} / {colour}: {ratio:.2f}"

    # a click on the header "rows" sorts the jobs table by it
    box = chromium.evaluate(
        """(() => { const th = document.querySelector("#jobs + table").tHead.rows[0].cells[4];
             th.scrollIntoView(); const r = th.getBoundingClientRect();
             return [r.x + r.width / 2, r.y + r.height / 2]; })()"""
    )
    assert chromium.evaluate(JOB_COLUMN.format(column=0)) == list(SECOND_RUN)
    chromium.click(box[0], box[1])
    rows = chromium.evaluate(JOB_COLUMN.format(column=4))
    assert rows == ["11", "11", "12", "12", "\u2014", "\u2014"]
    assert chromium.evaluate(JOB_COLUMN.format(column=0))[-2:] == ["broken", "after-broken"]

    with Image.open(chromium.screenshot(tmp_path / "report-html.png")) as image:
        assert image.size[0] >= 1000
    assert console_errors(chromium.events) == []

    # the audit's page opens from its link
    audit = chromium.evaluate('document.querySelector("#audit ~ p a").href')
    chromium.send("Page.navigate", {"url": audit})
    chromium.wait_for("Page.loadEventFired")
    assert chromium.evaluate("document.title") == "Signal-mix audit"
    assert console_errors(chromium.events) == []


def _css_rgb(value: str) -> tuple[float, float, float]:
    red, green, blue = (int(n) / 255 for n in re.findall(r"\d+", value)[:3])
    return red, green, blue
