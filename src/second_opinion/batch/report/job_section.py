"""One job's section of the batch report: its last run, coverage with the keys that did not match
and the diagnosis of why, and its provenance (versions, timings, every input's hash and whether
it still matches)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from second_opinion.batch.report.html_parts import (
    count,
    esc,
    file_link,
    key_text,
    percent,
    seconds,
    sortable,
    status_badge,
)
from second_opinion.batch.report.model import FileCheck, JobReport, Provenance, SidecarCoverage

STATE_WORDS = {
    "unchanged": "unchanged",
    "changed": "changed",
    "modified": "modified since hashed",
    "missing": "missing",
    "unknown": "not in the hash cache",
}
"""How a file's state (:data:`~second_opinion.batch.report.model.FileState`) reads on the page."""


def job_links(names: tuple[str, ...], anchors: Mapping[str, str]) -> str:
    """Job names as links to their sections, or ``—``."""
    if not names:
        return "\u2014"
    return ", ".join(f'<a href="#{anchors[n]}">{esc(n)}</a>' for n in names)


def job_section(job: JobReport, anchor: str, anchors: Mapping[str, str], at: Path) -> str:
    """The section of ``job`` (id ``anchor``), its links relative to the page at ``at``."""
    parts = [
        f'<section class="job" id="{anchor}">',
        f"<h3>{esc(job.name)} {status_badge(job.status)}</h3>",
    ]
    facts = [esc(job.reason) if job.reason else None]
    if job.run_id is not None:
        facts.append(f"run {esc(job.run_id)}")
    else:
        facts.append("no run summary names this job")
    if job.seconds is not None:
        facts.append(f"{seconds(job.seconds)} s")
    if job.rows is not None:
        facts.append(f"{count(job.rows)} rows")
    facts.append(esc(job.kind))
    parts.append(f'<p class="facts">{" · ".join(f for f in facts if f)}</p>')
    if job.error:
        parts.append(f'<pre class="error">{esc(job.error)}</pre>')
    parts.extend(f'<p class="note">{esc(note)}</p>' for note in job.notes)
    output = file_link(job.output if job.output_exists else None, at, job.output)
    record = job.provenance.record if job.provenance is not None else None
    parts.append(
        f"<p>reads from: {job_links(job.needs, anchors)} · feeds: "
        f"{job_links(job.feeds, anchors)}<br>output: {output}"
        + (f" · record: {file_link(record, at, Path(record).name)}" if record else "")
        + ("" if job.output_exists else " (missing)")
        + "</p>"
    )
    if job.coverage:
        parts.append(_coverage(job, anchor))
    if job.provenance is not None:
        parts.append(_provenance(job, job.provenance, at))
    parts.append("</section>")
    return "\n".join(parts)


def _coverage(job: JobReport, anchor: str) -> str:
    rows = [
        (
            f'<a href="#{anchor}-{i}">{esc(c.scorer)}</a>' if explained(c) else esc(c.scorer),
            percent(c.coverage),
            count(c.matched),
            count(c.base_rows),
            count(c.missing),
            count(c.extra),
            _frames(c),
            esc(c.path or ""),
        )
        for i, c in enumerate(job.coverage)
    ]
    headers = (
        "scorer",
        "coverage",
        "matched",
        "base rows",
        "missing",
        "extra",
        "per frame",
        "path",
    )
    parts = ["<h4>Coverage</h4>", sortable(headers, rows, numeric=(1, 2, 3, 4, 5))]
    if all(c.matched is None for c in job.coverage):
        parts.append(
            '<p class="note">From the failed run\'s summary: the fraction only (a failed job '
            "writes no record).</p>"
        )
    for i, sidecar in enumerate(job.coverage):
        if explained(sidecar):
            parts.append(_unmatched(sidecar, f"{anchor}-{i}"))
    return "\n".join(parts)


def explained(sidecar: SidecarCoverage) -> bool:
    """Whether a sidecar has unmatched key samples or a diagnosis to show (and so an anchor)."""
    return bool(sidecar.unmatched_base or sidecar.unmatched_sidecar or sidecar.diagnosis)


def _frames(sidecar: SidecarCoverage) -> str:
    if sidecar.frame_column is not None:
        return f"yes (column {esc(sidecar.frame_column)})"
    return "yes" if sidecar.per_frame else "no"


def _unmatched(sidecar: SidecarCoverage, anchor: str) -> str:
    """The diagnosis of a sidecar's keys, and the samples of keys that found no partner."""
    parts = [f'<h5 id="{anchor}">{esc(sidecar.scorer)}: keys without a partner</h5>']
    if sidecar.diagnosis:
        items = [
            f"<li>{esc(d.text)} (would match {count(d.matched)} of {count(d.rows)}"
            + (f", {percent(d.matched / d.rows)})" if d.rows else ")")
            + "</li>"
            for d in sidecar.diagnosis
        ]
        parts.append('<p>Diagnosis:</p>\n<ul class="diagnosis">' + "".join(items) + "</ul>")
    samples = [
        ("base key, no sidecar row", key_text(s.key), key_text(s.closest or ()))
        for s in sidecar.unmatched_base
    ] + [
        ("sidecar key, no base row", key_text(s.key), key_text(s.closest or ()))
        for s in sidecar.unmatched_sidecar
    ]
    if samples:
        headers = ("side", "key", "closest key on the other side")
        parts.append(sortable(headers, samples, extra_class="keys"))
    return "\n".join(parts)


def _provenance(job: JobReport, provenance: Provenance, at: Path) -> str:
    """Versions, timings and hashes, folded under a line that says whether every file still
    matches (open when one does not)."""
    files = (*provenance.inputs, provenance.output)
    odd = [f for f in files if f.state != "unchanged"]
    states = ", ".join(f"{esc(f.role)} {STATE_WORDS[f.state]}" for f in odd) or "all unchanged"
    summary = (
        f"Provenance: {esc(provenance.tool)}, run {esc(provenance.run_id)}, "
        f"{len(provenance.inputs)} inputs ({states})"
    )
    parts = [f"<details{' open' if odd else ''}><summary>{summary}</summary>"]
    if not provenance.current:
        parts.append(
            f'<p class="note">The output and record are from run {esc(provenance.run_id)}, '
            f"before this job's last run ({esc(job.status or '')}).</p>"
        )
    facts = [
        ("tool", esc(provenance.tool)),
        *((name, esc(value)) for name, value in provenance.environment),
        ("run", esc(provenance.run_id)),
        ("started", esc(provenance.started)),
        ("finished", esc(provenance.finished)),
        ("seconds", seconds(provenance.seconds)),
        ("fingerprint", f"<code>{esc(provenance.fingerprint)}</code>"),
        ("spec SHA-256", f"<code>{esc(provenance.spec_sha256)}</code>"),
        ("output columns", count(provenance.columns)),
    ]
    parts.append(
        '<table class="facts">'
        + "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v}</td></tr>' for k, v in facts)
        + "</table>"
    )
    headers = ("role", "scorer", "path", "bytes", "rows", "SHA-256", "now")
    parts.append(sortable(headers, [_file_row(item, at) for item in files], numeric=(3, 4)))
    parts.append("</details>")
    return "\n".join(parts)


def _file_row(item: FileCheck, at: Path) -> tuple[str, ...]:
    exists = item.state != "missing"
    return (
        esc(item.role),
        esc(item.scorer or ""),
        file_link(item.path if exists else None, at, item.path),
        count(item.size),
        count(item.rows),
        f'<code class="hash">{esc(item.sha256)}</code>',
        f'<span class="state {item.state}">{esc(STATE_WORDS[item.state])}</span>',
    )
