"""The head-to-head comparisons (:mod:`second_opinion.audit.compare`) in the report: their
``audit.json`` member and their blocks (a table of pairs; with ``compare_all`` a matrix too)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from second_opinion.audit.compare import COMPARED, Comparison, CorpusComparisons, Delta
from second_opinion.audit.document import (
    Block,
    Heading,
    Paragraph,
    Table,
    fmt,
    number,
    numbers,
    p_text,
)


def _delta_json(delta: Delta) -> dict[str, Any]:
    low, high = delta.interval
    return {
        "median": number(delta.median),
        "interval": [number(low), number(high)],
        "wins": number(delta.wins),
        "wilcoxon_p": number(delta.p),
    }


def comparison_json(item: Comparison) -> dict[str, Any]:
    """One pair: A, B, the rows and splits compared, and per metric the summarised Δ = A − B."""
    return {
        "a": item.a,
        "b": item.b,
        "n": item.n,
        "splits": item.splits,
        "reevaluated": list(item.reevaluated),
        "note": item.note,
        **{f"delta_{m}": _delta_json(item.deltas[m]) if item.deltas else None for m in COMPARED},
    }


def matrix(found: CorpusComparisons, metric: str, what: str) -> np.ndarray[Any, Any]:
    """Row signal − column signal: the median Δ (``what='median'``) or the Wilcoxon p."""
    k = len(found.signals)
    out = np.full((k, k), np.nan)
    for i, a in enumerate(found.signals):
        for j, b in enumerate(found.signals):
            item = found.find(a, b)
            if i == j or item is None or not item.deltas:
                continue
            delta = item.deltas[metric]
            value = delta.p if what == "p" else delta.median
            out[i, j] = value if what == "p" or item.a == a else -value
    return out


def comparisons_json(found: CorpusComparisons) -> dict[str, Any]:
    """One corpus's comparisons; with ``compare_all``, the matrices of every pair."""
    data: dict[str, Any] = {
        "all_pairs": found.all_pairs,
        "notes": list(found.notes),
        "pairs": [comparison_json(item) for item in found.pairs],
    }
    if found.all_pairs:
        data["matrix"] = {
            "signals": list(found.signals),
            **{f"delta_{m}": numbers(matrix(found, m, "median")) for m in COMPARED},
            **{f"wilcoxon_p_{m}": numbers(matrix(found, m, "p")) for m in COMPARED},
        }
    return data


def _delta_cells(delta: Delta | None) -> tuple[str, ...]:
    if delta is None:
        return ("—", "—", "—")
    low, high = delta.interval
    interval = f"{fmt(delta.median)} [{fmt(low, 3)}, {fmt(high, 3)}]"
    return (interval, fmt(delta.wins, 2), p_text(delta.p))


def pairs_table(found: CorpusComparisons) -> Table:
    """One row per pair: rows compared, then per metric the median Δ [2.5th, 97.5th percentile
    of the per-split Δ], A's share of wins and the paired Wilcoxon p."""
    headers = ("A vs B", "rows", *_metric_headers())
    rows = tuple(
        (
            f"{item.a} vs {item.b}",
            str(item.n),
            *(
                cell
                for metric in COMPARED
                for cell in _delta_cells(item.deltas[metric] if item.deltas else None)
            ),
        )
        for item in found.pairs
    )
    return Table(headers, rows)


def _metric_headers() -> tuple[str, ...]:
    return tuple(
        header
        for metric in COMPARED
        for header in (
            f"Δ{metric.upper()} [2.5–97.5 % of splits]",
            f"{metric.upper()} wins",
            f"{metric.upper()} Wilcoxon p",
        )
    )


def matrix_table(found: CorpusComparisons) -> Table:
    """Median ΔSRCC of the row's signal over the column's, with its Wilcoxon p."""
    medians, ps = matrix(found, "srcc", "median"), matrix(found, "srcc", "p")
    rows = tuple(
        (
            a,
            *(
                "—"
                if i == j or not math.isfinite(medians[i, j])
                else f"{fmt(float(medians[i, j]), 3)} (p {p_text(float(ps[i, j]))})"
                for j in range(len(found.signals))
            ),
        )
        for i, a in enumerate(found.signals)
    )
    return Table(("row − column", *found.signals), rows)


def comparison_blocks(found: CorpusComparisons) -> list[Block]:
    """The corpus's comparisons: what Δ means, the pairs, the matrix with ``compare_all``."""
    out: list[Block] = [
        Heading(3, "Comparisons"),
        Paragraph(
            "Each pair A vs B over the same rows and the same splits. Per split, each signal's "
            "SRCC and PLCC in its own direction (as the tables' magnitudes), Δ = A − B: median "
            "[2.5th, 97.5th percentile of the per-split Δ, where 95 % of splits fall, not a "
            "confidence interval of the median]; wins: share of splits where A is ahead; p: "
            "two-sided paired Wilcoxon signed-rank test over the splits (whether Δ is centred "
            "on 0, so it can be tiny while single splits still go either way)."
        ),
    ]
    again = [
        f"{item.a} vs {item.b}: {', '.join(item.reevaluated)} evaluated again on the "
        f"{item.n} rows both have"
        for item in found.pairs
        if item.reevaluated and item.deltas
    ]
    refused = [
        f"{item.a} vs {item.b} not compared: {item.note}" for item in found.pairs if item.note
    ]
    remarks = [*found.notes, *again, *refused]
    if remarks:
        out.append(Paragraph("; ".join(remarks) + "."))
    if found.pairs:
        out.append(pairs_table(found))
    if found.all_pairs and len(found.signals) > 1:
        out.append(
            Paragraph(
                "Every pair: median ΔSRCC of the row's signal over the column's (positive: the "
                "row's signal ranks MOS better), with its Wilcoxon p; the HTML's heatmap sets "
                "p < 0.05 in bold."
            )
        )
        out.append(matrix_table(found))
    return out
