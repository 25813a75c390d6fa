"""The job graph as inline SVG: jobs that feed jobs, in columns by how deep they are.

A job stands one column right of the deepest job whose output it reads; within a column jobs keep
the report's order. Each arrow runs from a job to a job that reads its output; each box links to
its job's section and shows the job's status in the status colours. Jobs that neither read nor
feed another job are not drawn: the page lists them in one line instead, so a batch of a hundred
independent corpora does not draw a hundred boxes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from second_opinion.batch.report.html_parts import STATUS_CLASS, esc
from second_opinion.batch.report.model import JobReport

WIDTH, HEIGHT = 200, 40
"""A job's box, in pixels."""
GAP_X, GAP_Y, PAD = 64, 14, 10
LABEL = 26
"""Characters of a job name shown in its box (the whole name is its tooltip)."""


def columns(jobs: Sequence[JobReport]) -> list[list[str]]:
    """The drawn jobs (those with an arrow) in columns, by depth; order kept in a column."""
    drawn = [job for job in jobs if job.needs or job.feeds]
    needs = {job.name: [n for n in job.needs if n != job.name] for job in drawn}
    depth: dict[str, int] = {}

    def depth_of(name: str, seen: frozenset[str]) -> int:
        if name not in depth:
            upstream = [n for n in needs.get(name, ()) if n in needs and n not in seen]
            depth[name] = 1 + max((depth_of(n, seen | {name}) for n in upstream), default=-1)
        return depth[name]

    found: list[list[str]] = []
    for job in drawn:
        level = depth_of(job.name, frozenset())
        while len(found) <= level:
            found.append([])
        found[level].append(job.name)
    return found


def _label(name: str) -> str:
    return name if len(name) <= LABEL else name[: LABEL - 1] + "\u2026"


def graph_svg(jobs: Sequence[JobReport], anchors: Mapping[str, str]) -> str:
    """The graph of ``jobs`` as an ``<svg>`` element ('' when no job feeds another);
    ``anchors`` maps a job name to the id of its section."""
    laid = columns(jobs)
    if not laid:
        return ""
    by_name = {job.name: job for job in jobs}
    where = {
        name: (PAD + col * (WIDTH + GAP_X), PAD + row * (HEIGHT + GAP_Y))
        for col, names in enumerate(laid)
        for row, name in enumerate(names)
    }
    width = 2 * PAD + len(laid) * WIDTH + (len(laid) - 1) * GAP_X
    height = 2 * PAD + max(len(c) for c in laid) * HEIGHT + (max(len(c) for c in laid) - 1) * GAP_Y
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            'aria-label="Job graph: arrows run from a job to the jobs that read its output">'
        ),
        (
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
            "</defs>"
        ),
    ]
    for name, (x, y) in where.items():
        for upstream in by_name[name].needs:
            if upstream not in where:
                continue
            ux, uy = where[upstream]
            x1, y1, x2, y2 = ux + WIDTH, uy + HEIGHT // 2, x - 2, y + HEIGHT // 2
            bend = GAP_X // 2
            parts.append(
                f'<path class="edge" d="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}" '
                'fill="none" stroke="#555" stroke-width="1.4" marker-end="url(#arrow)"/>'
            )
    for name, (x, y) in where.items():
        job = by_name[name]
        style = STATUS_CLASS.get(job.status or "", "s-none")
        status = job.status or "no run summary"
        parts.append(
            f'<a href="#{anchors[name]}"><g class="node {style}">'
            f"<title>{esc(name)}: {esc(status)}</title>"
            f'<rect x="{x}" y="{y}" width="{WIDTH}" height="{HEIGHT}" rx="4" stroke-width="1.5"/>'
            f'<text x="{x + 8}" y="{y + 17}" class="name">{esc(_label(name))}</text>'
            f'<text x="{x + 8}" y="{y + 32}" class="state">{esc(status)}</text></g></a>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
