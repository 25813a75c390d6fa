"""The report as blocks (headings, paragraphs, tables, figures), and ``audit.md`` from them.

``audit.html`` is rendered from the same blocks (:mod:`second_opinion.audit.render_html`), so both
hold the same numbers; the HTML adds the plots, sortable tables and CSV downloads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from second_opinion._version import __version__
from second_opinion.audit import plots as draw  # matplotlib itself loads only to draw
from second_opinion.audit.analysis import CorpusResult, CrossCorpus, Gain, GainEntry, SignalResult
from second_opinion.audit.compare import CorpusComparisons
from second_opinion.audit.compare_render import comparison_blocks
from second_opinion.audit.document import (
    Block,
    Figure,
    Heading,
    Paragraph,
    Table,
    fmt,
    numeric,
    p_text,
)
from second_opinion.audit.families_render import family_blocks
from second_opinion.audit.protocol import ProtocolResult
from second_opinion.audit.run import AuditResult
from second_opinion.audit.summary import logistic_blocks, summary_blocks


def _ci(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f" [{fmt(ci[0], 3)}, {fmt(ci[1], 3)}]"


def _split(result: ProtocolResult, metric: str) -> str:
    summary = result.summary[metric]
    return f"{fmt(summary.median)} ({fmt(summary.std)})"


def _columns(columns: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(columns[:limit])
    return shown if len(columns) <= limit else f"{shown}, … ({len(columns)})"


def _direction(result: SignalResult) -> str:
    declared = result.signal.higher_is_better
    if not result.signal.training_free:
        return "regressed"
    if declared is None:
        return "unknown"
    text = "higher is better" if declared else "lower is better"
    return text if result.direction_agrees in (True, None) else f"{text} (SRCC disagrees)"


def _rank(result: SignalResult) -> tuple[float, str]:
    """Best first: by the median split SRCC's magnitude (the benchmark's headline); undefined
    last, ties by name."""
    median = result.splits.summary["srcc"].median
    return (-abs(median) if math.isfinite(median) else math.inf, result.signal.name)


def signal_table(result: CorpusResult) -> Table:
    """One row per signal, ranked by median split SRCC: full-table metrics with CIs, then the
    split medians (std)."""
    headers = (
        "signal",
        "columns",
        "n",
        "SRCC [95 % CI]",
        "KRCC",
        "PLCC [95 % CI]",
        "RMSE",
        "splits SRCC",
        "splits KRCC",
        "splits PLCC",
        "splits RMSE",
        "direction",
    )
    rows = []
    for s in sorted(result.signals, key=_rank):
        kind = "" if s.signal.training_free else f" ({s.splits.model})"
        rows.append(
            (
                s.signal.name + kind,
                _columns(s.signal.columns),
                str(s.n),
                fmt(s.full.srcc) + _ci(s.srcc_ci),
                fmt(s.full.krcc),
                fmt(s.full.plcc) + _ci(s.plcc_ci),
                fmt(s.full.rmse),
                _split(s.splits, "srcc"),
                _split(s.splits, "krcc"),
                _split(s.splits, "plcc"),
                _split(s.splits, "rmse"),
                _direction(s),
            )
        )
    return Table(headers, tuple(rows))


def redundancy_table(result: CorpusResult) -> Table:
    """The Spearman matrix, one row per signal."""
    mix = result.redundancy
    rows = tuple(
        (name, *(fmt(float(v), 3) for v in mix.rho[i])) for i, name in enumerate(mix.signals)
    )
    return Table(("ρ", *mix.signals), rows)


def _gain_row(label: str, entry: GainEntry | None, alone: ProtocolResult) -> tuple[str, ...]:
    splits = entry.splits if entry else alone
    if entry is None:
        return (label, _split(splits, "srcc"), _split(splits, "plcc"), "", "", "", "")
    d_srcc = entry.delta_summary("srcc")
    d_plcc = entry.delta_summary("plcc")
    return (
        label,
        _split(splits, "srcc"),
        _split(splits, "plcc"),
        f"{fmt(d_srcc[0])} [{fmt(d_srcc[1], 3)}, {fmt(d_srcc[2], 3)}]",
        f"{fmt(d_plcc[0])} [{fmt(d_plcc[1], 3)}, {fmt(d_plcc[2], 3)}]",
        fmt(entry.win_fraction, 2),
        p_text(entry.wilcoxon_p),
    )


def gain_table(gain: Gain) -> Table | None:
    """B alone, B + each S, B + all: split medians, deltas with intervals, wins, Wilcoxon p."""
    alone = gain.baseline_splits
    if alone is None:
        return None
    headers = (
        "set",
        "splits SRCC",
        "splits PLCC",
        "ΔSRCC [2.5–97.5 % of splits]",
        "ΔPLCC [2.5–97.5 % of splits]",
        "wins",
        "Wilcoxon p",
    )
    name = gain.baseline.name
    rows = [_gain_row(name, None, alone)]
    rows.extend(_gain_row(f"{name} + {e.name}", e, alone) for e in gain.entries)
    if gain.combined is not None:
        rows.append(_gain_row(f"{name} + all", gain.combined, alone))
    return Table(headers, tuple(rows))


def cross_table(item: CrossCorpus) -> Table:
    """Train corpus (row) × test corpus (column) SRCC."""
    rows = tuple(
        (f"train {name}", *(fmt(float(v)) for v in item.srcc[i]))
        for i, name in enumerate(item.corpora)
    )
    return Table(("", *(f"test {c}" for c in item.corpora)), rows)


def _protocol(result: AuditResult) -> str:
    o = result.options
    search = f", C/gamma by {o.search} search" if o.model == "svr" else ""
    ci = f"{o.bootstrap} bootstrap resamples" if o.bootstrap else "no bootstrap"
    return (
        f"{o.splits} random 80/20 splits (random_state = ceil(8.8·i)); multi-column signals "
        f"through {o.model.upper()}{search}, 3-fold CV on the training split; full-table "
        f"metrics of multi-column signals from {o.folds}-fold out-of-fold predictions; "
        f"95 % CIs from {ci}; seed {o.seed}. Split columns show median (std) over splits, "
        "SRCC/KRCC as magnitudes."
    )


def blocks(result: AuditResult, *, plots: bool = True) -> list[Block]:
    """The report, in order."""
    out: list[Block] = [
        Heading(1, "Signal-mix audit"),
        Paragraph(
            f"second-opinion {__version__} · {result.created} · {result.seconds:.1f} s. "
            + _protocol(result)
        ),
    ]
    families = {audit.corpus: audit for audit in result.families}
    comparisons = {found.corpus: found for found in result.comparisons}
    for index, corpus_result in enumerate(result.corpora):
        corpus = corpus_result.corpus
        out.append(Heading(2, f"Corpus {corpus.name}"))
        notes = "".join(f" {n[0].upper()}{n[1:]}." for n in corpus_result.notes)
        out.append(
            Paragraph(
                f"{corpus.path} — {corpus.n} rows with {corpus.mos_column!r} "
                f"(of {corpus.rows}).{notes}"
            )
        )
        out.append(Heading(3, "Signals"))
        out.append(signal_table(corpus_result))
        if plots:
            out.append(
                Figure(f"MOS vs signals, {corpus.name}", _bind(draw.scatter_png, corpus_result))
            )
            out.append(_distribution(corpus_result))
        out.extend(logistic_blocks(corpus_result, result.fits[index] if result.fits else ()))
        out.extend(_redundancy_blocks(corpus_result, plots))
        if corpus_result.gain is not None:
            out.extend(_gain_blocks(corpus_result, corpus_result.gain, plots))
        if corpus.name in comparisons:
            out.extend(_comparison_blocks(comparisons[corpus.name], plots))
        if corpus.name in families:
            out.extend(family_blocks(families[corpus.name]))
    if result.cross:
        out.append(Heading(2, "Cross-corpus SRCC"))
        out.append(
            Paragraph(
                "Trained on the row's corpus, tested on the column's (SRCC: MOS scales differ). "
                "The diagonal is the within-corpus median split SRCC."
            )
        )
        for item in result.cross:
            kind = " (training-free: rows repeat)" if item.training_free else ""
            out.append(Heading(3, f"{item.signal}{kind}"))
            out.append(cross_table(item))
    out.extend(summary_blocks(result.corpora))
    return out


def _comparison_blocks(found: CorpusComparisons, plots: bool) -> list[Block]:
    out = comparison_blocks(found)
    if plots and found.all_pairs and len(found.signals) > 1:
        title = f"{found.corpus}: median ΔSRCC of every pair (row − column)"
        out.append(Figure(title, _bind(draw.comparison_png, found, title), wide=False))
    return out


def _distribution(result: CorpusResult) -> Figure:
    title = f"{result.corpus.name}: per-split SRCC and PLCC"
    return Figure(title, _bind(draw.distribution_png, result, title))


def _redundancy_blocks(result: CorpusResult, plots: bool) -> list[Block]:
    mix = result.redundancy
    flagged = (
        "; ".join(f"{a} ~ {b} (ρ {fmt(r, 3)})" for a, b, r in mix.flagged)
        if mix.flagged
        else "none"
    )
    out: list[Block] = [
        Heading(3, "Redundancy"),
        Paragraph(
            "Spearman ρ between signals (multi-column signals: their out-of-fold prediction), "
            f"over the rows both have. Pairs with |ρ| > {mix.threshold}: {flagged}."
        ),
        redundancy_table(result),
    ]
    if plots and len(mix.signals) > 1:
        title = f"{result.corpus.name}: redundancy (Spearman ρ)"
        out.append(Figure(title, _bind(draw.redundancy_png, mix, title), wide=False))
    return out


def _baseline_note(gain: Gain) -> str:
    if gain.baseline_reused:
        return " The baseline alone is its own signal's run (same rows and splits), not refitted."
    return ""


def _gain_blocks(result: CorpusResult, gain: Gain, plots: bool) -> list[Block]:
    out: list[Block] = [Heading(3, f"Gain over {gain.baseline.name}")]
    if gain.note:
        out.append(Paragraph(f"Not computed: {gain.note}."))
        return out
    out.append(
        Paragraph(
            f"Regressed on the {gain.n} rows that have the baseline and every second opinion, "
            "on the same splits. Δ = (baseline + S) − baseline per split: median [2.5th, 97.5th "
            "percentile of the per-split Δ, where 95 % of splits fall, not a confidence interval "
            "of the median]; wins: share of splits where SRCC rises; p: two-sided paired "
            "Wilcoxon signed-rank test of ΔSRCC over the splits (whether Δ is centred on 0, so "
            "it can be tiny while single splits still go either way). The plot shows each "
            "split's Δ as a point, boxes over the quartiles, whiskers over that interval."
            + _baseline_note(gain)
        )
    )
    table = gain_table(gain)
    if table is not None:
        out.append(table)
    if plots and gain.entries:
        title = f"{result.corpus.name}: gain over {gain.baseline.name}"
        out.append(Figure(title, _bind(draw.gain_png, gain, title)))
    return out


def _bind(function: Callable[..., bytes], *args: object) -> Callable[[], bytes]:
    return lambda: function(*args)


def to_markdown(items: Sequence[Block]) -> str:
    """Markdown: headings, paragraphs, pipe tables (figures are left to the HTML)."""
    parts = []
    for block in items:
        if isinstance(block, Heading):
            parts.append(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Table):
            parts.append(_markdown_table(block))
    return "\n\n".join(parts) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_table(table: Table) -> str:
    right = [all(numeric(row[i]) for row in table.rows) for i in range(len(table.headers))]
    lines = [
        "| " + " | ".join(_cell(h) for h in table.headers) + " |",
        "|" + "|".join("---:" if n else "---" for n in right) + "|",
    ]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows)
    return "\n".join(lines)
