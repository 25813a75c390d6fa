"""The batch report as one self-contained page (``report.html``).

In order: the statuses at a glance, the job graph (inline SVG), the corpus × scorer coverage
matrix (each cell coloured by its band, its text black or white by the colour's luminance, linked
to the keys that did not match), the jobs table, one section per job
(:mod:`~second_opinion.batch.report.job_section`), the audit with links to its reports, the runs,
and the files passed over. Every table sorts on a click on a header. Nothing is fetched (a
Content-Security-Policy forbids it); links to files are relative to the page, and made only to
files that exist. The same report and location give the same bytes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from second_opinion.batch.report.graph import graph_svg
from second_opinion.batch.report.html_parts import (
    COVERAGE_BANDS,
    Cell,
    band,
    colour_style,
    count,
    esc,
    file_link,
    percent,
    seconds,
    sortable,
    status_badge,
)
from second_opinion.batch.report.job_section import explained, job_links, job_section
from second_opinion.batch.report.model import BatchReport, JobReport
from second_opinion.html_page import BASE_STYLE, page

POLICY = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
)
"""Nothing outside the page may load: no script, style, font or image from anywhere else."""
STYLE = (
    BASE_STYLE
    + """h1 { margin-bottom: 0.2em; }
p.meta { color: #555; margin-top: 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
code.hash { font-size: 11px; word-break: break-all; }
.status { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 13px;
  font-weight: 600; white-space: nowrap; }
h3 .status { vertical-align: middle; }
div.graph { overflow-x: auto; }
svg.graph text { fill: #222; font: 13px system-ui, sans-serif; }
svg.graph text.state { font-size: 11px; fill: #444; }
td.cov { text-align: right; font-variant-numeric: tabular-nums; }
td.cov a { color: inherit; }
table.legend td { padding: 2px 10px; }
table.facts th { cursor: default; }
section.job { border-top: 1px solid #ddd; margin-top: 1.5em; }
pre.error { background: #fbe4e1; color: #5c120c; padding: 0.6em; white-space: pre-wrap; }
p.note { color: #555; font-style: italic; }
details { margin: 0.6em 0 1em; }
summary { cursor: pointer; font-weight: 600; }
span.state.changed, span.state.missing { color: #8a1c13; font-weight: 600; }
span.state.modified { color: #6e4200; }
"""
)


def report_html(report: BatchReport, at: Path) -> str:
    """The page of ``report``, to be written at ``at`` (its links are relative to it)."""
    anchors = {job.name: f"job-{i + 1}" for i, job in enumerate(report.jobs)}
    body = [
        "<h1>Batch report</h1>",
        f'<p class="meta">output_dir <code>{esc(report.output_dir)}</code>'
        + (f" · manifest <code>{esc(report.manifest)}</code>" if report.manifest else "")
        + f" · {count(len(report.jobs))} jobs · {count(len(report.runs))} runs</p>",
        _glance(report),
        _graph(report, anchors),
        _matrix(report, anchors),
        _jobs_table(report, anchors, at),
        '<h2 id="job-sections">Each job</h2>',
        *(job_section(job, anchors[job.name], anchors, at) for job in report.jobs),
        _audit(report, at),
        _runs(report, at),
        _problems(report),
    ]
    title = f"Batch report: {Path(report.output_dir).name or report.output_dir}"
    return page(title, "\n".join(b for b in body if b), style=STYLE + colour_style(), head=POLICY)


def _glance(report: BatchReport) -> str:
    counts = Counter(job.status for job in report.jobs)
    shown = [f"{n} {status_badge(status)}" for status, n in counts.items()]
    return f'<p class="glance">Last run of each job: {" · ".join(shown)}</p>'


def _graph(report: BatchReport, anchors: dict[str, str]) -> str:
    svg = graph_svg(report.jobs, anchors)
    alone = [job.name for job in report.jobs if not job.needs and not job.feeds]
    parts = ['<h2 id="graph">Job graph</h2>']
    if svg:
        parts.append(
            "<p>An arrow runs from a job to each job that reads its output; a box links to the "
            "job's section.</p>"
        )
        parts.append(f'<div class="graph">{svg}</div>')
    if alone:
        lead = "Jobs that neither read nor feed another" if svg else "No job reads another's output"
        parts.append(f"<p>{lead}: {job_links(tuple(alone), anchors)}.</p>")
    return "\n".join(parts)


def _matrix(report: BatchReport, anchors: dict[str, str]) -> str:
    scorers = report.scorers
    parts = ['<h2 id="coverage">Coverage: corpus × scorer</h2>']
    joined = [job for job in report.jobs if job.coverage or job.kind == "join"]
    if not scorers or not joined:
        parts.append("<p>No job joins a sidecar.</p>")
        return "\n".join(parts)
    parts.append(
        "<p>Each cell: the share of the job's base rows the scorer's sidecar matched, in its "
        "last run; a cell links to the keys that did not match and the diagnosis. A job that "
        "did not reach the join (skipped, or failed before it) shows \u2014 in every cell.</p>"
    )
    rows: list[list[str | Cell]] = []
    for job in joined:
        cells: list[str | Cell] = [f'<a href="#{anchors[job.name]}">{esc(job.name)}</a>']
        by_scorer = {c.scorer: (i, c) for i, c in enumerate(job.coverage)}
        for scorer in scorers:
            if scorer not in by_scorer:
                cells.append(Cell("\u2014", "cov cov-none"))
                continue
            index, cov = by_scorer[scorer]
            shown = percent(cov.coverage)
            if cov.matched is not None and cov.base_rows is not None:
                title = f"{scorer} on {job.name}: {cov.matched:,} of {cov.base_rows:,} base rows"
            else:
                title = f"{scorer} on {job.name}: from the failed run's summary"
            linked = explained(cov)
            text = f'<a href="#{anchors[job.name]}-{index}">{shown}</a>' if linked else shown
            cells.append(Cell(text, f"cov cov{band(cov.coverage)}", esc(title)))
        rows.append(cells)
    parts.append(sortable(("job", *scorers), rows))
    legend = "".join(
        f'<td class="cov cov{i}">{esc(label)}</td>'
        for i, (_, _, label) in enumerate(COVERAGE_BANDS)
    )
    parts.append(f'<table class="legend"><tr>{legend}</tr></table>')
    return "\n".join(parts)


def _jobs_table(report: BatchReport, anchors: dict[str, str], at: Path) -> str:
    rows = [
        (
            f'<a href="#{anchors[job.name]}">{esc(job.name)}</a>',
            status_badge(job.status),
            esc(job.reason),
            esc(job.kind),
            count(job.rows),
            seconds(job.seconds),
            _lowest(job),
            job_links(job.needs, anchors),
            job_links(job.feeds, anchors),
            file_link(job.output if job.output_exists else None, at, Path(job.output).name),
            esc(job.run_id or "\u2014"),
        )
        for job in report.jobs
    ]
    headers = (
        "job", "status", "reason", "kind", "rows", "seconds", "lowest coverage", "reads from",
        "feeds", "output", "run",
    )  # fmt: skip
    return '<h2 id="jobs">Jobs</h2>\n' + sortable(headers, rows, numeric=(4, 5, 6))


def _lowest(job: JobReport) -> str:
    if not job.coverage:
        return "\u2014"
    lowest = min(job.coverage, key=lambda c: c.coverage)
    return f"{percent(lowest.coverage)} ({esc(lowest.scorer)})"


def _audit(report: BatchReport, at: Path) -> str:
    audit = report.audit
    if audit is None:
        return ""
    files = ((audit.html, "audit.html"), (audit.markdown, "audit.md"), (audit.json, "audit.json"))
    links = [file_link(path, at, name) for path, name in files if path is not None]
    parts = [
        '<h2 id="audit">Audit</h2>',
        (
            f"<p>{status_badge(audit.status)} {esc(audit.reason)} · run {esc(audit.run_id)} · "
            f"{seconds(audit.seconds)} s · <code>{esc(audit.out)}</code></p>"
        ),
    ]
    if audit.error:
        parts.append(f'<pre class="error">{esc(audit.error)}</pre>')
    parts.append(
        f"<p>Reports: {' · '.join(links)}</p>" if links else '<p class="note">No report yet.</p>'
    )
    return "\n".join(parts)


def _runs(report: BatchReport, at: Path) -> str:
    if not report.runs:
        return ""
    rows = [
        (
            file_link(run.summary, at, run.run_id),
            esc(run.started),
            esc(run.finished),
            "yes" if run.ok else "no",
            ", ".join(f"{n} {esc(status)}" for status, n in run.statuses),
            esc(run.audit or "\u2014"),
            esc(run.manifest),
        )
        for run in report.runs
    ]
    headers = ("run", "started", "finished", "ok", "jobs", "audit", "manifest")
    return '<h2 id="runs">Runs</h2>\n' + sortable(headers, rows)


def _problems(report: BatchReport) -> str:
    if not report.problems:
        return ""
    items = "".join(f"<li>{esc(p)}</li>" for p in report.problems)
    return f'<h2 id="passed-over">Passed over</h2>\n<ul class="problems">{items}</ul>'
