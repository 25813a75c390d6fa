"""Two of the report's tables, in ``audit.json`` and as blocks:

* the summary across corpora (with more than one): signal × corpus, the median split SRCC and
  PLCC (magnitudes) with their std over splits — a signal missing from a corpus is '—';
* the fitted logistic per signal of a corpus: the full-table mapping
  ``β2 + (β1 − β2) / (1 + exp(−(x − β3)/|β4|))`` from prediction to MOS that PLCC and RMSE are
  computed after (or the linear fallback's slope and intercept, when the fit failed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from second_opinion.audit.analysis import CorpusResult, SignalResult
from second_opinion.audit.document import Block, Heading, Paragraph, Table, fmt, number
from second_opinion.audit.metrics import LogisticFit

SUMMARY_METRICS: tuple[str, ...] = ("srcc", "plcc")


def _by_signal(corpora: Sequence[CorpusResult]) -> dict[str, dict[str, SignalResult]]:
    """Signal name (in first-seen order) → corpus name → its result there."""
    found: dict[str, dict[str, SignalResult]] = {}
    for result in corpora:
        for signal in result.signals:
            found.setdefault(signal.signal.name, {})[result.corpus.name] = signal
    return found


def summary_json(corpora: Sequence[CorpusResult]) -> dict[str, Any] | None:
    """Signal → corpus → rows and the median (std) over splits of SRCC and PLCC; None with one
    corpus."""
    if len(corpora) < 2:
        return None
    names = [r.corpus.name for r in corpora]
    return {
        "corpora": names,
        "signals": {
            signal: {
                corpus: (
                    {
                        "n": found[corpus].n,
                        **{
                            metric: {
                                "median": number(found[corpus].splits.summary[metric].median),
                                "std": number(found[corpus].splits.summary[metric].std),
                            }
                            for metric in SUMMARY_METRICS
                        },
                    }
                    if corpus in found
                    else None
                )
                for corpus in names
            }
            for signal, found in _by_signal(corpora).items()
        },
    }


def summary_blocks(corpora: Sequence[CorpusResult]) -> list[Block]:
    """The summary across corpora: one table per metric, signal × corpus."""
    if len(corpora) < 2:
        return []
    names = [r.corpus.name for r in corpora]
    by_signal = _by_signal(corpora)
    out: list[Block] = [
        Heading(2, "Summary across corpora"),
        Paragraph(
            "Per signal and corpus: the median over the splits (std), SRCC and PLCC as "
            "magnitudes in the signal's direction; '—' where the corpus lacks the signal."
        ),
    ]
    for metric in SUMMARY_METRICS:
        rows = tuple(
            (
                signal,
                *(_cell(found[corpus], metric) if corpus in found else "—" for corpus in names),
            )
            for signal, found in by_signal.items()
        )
        out.append(Heading(3, f"{metric.upper()}: median (std) over splits"))
        out.append(Table(("signal", *names), rows))
    return out


def _cell(result: SignalResult, metric: str) -> str:
    summary = result.splits.summary[metric]
    return f"{fmt(summary.median)} ({fmt(summary.std)})"


def logistic_json(fit: LogisticFit | None) -> dict[str, Any] | None:
    """The full-table mapping: ``beta`` (β1..β4) of the logistic, or the fallback's ``linear``
    (slope, intercept); None when no mapping is defined."""
    if fit is None:
        return None
    params = [number(p) for p in fit.params]
    return {
        "fitted": fit.fitted,
        "beta": params if fit.fitted else None,
        "linear": None if fit.fitted else params,
        "flag": fit.flag,
    }


def _g(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else "—"


def logistic_table(result: CorpusResult, fits: Sequence[LogisticFit | None]) -> Table:
    """One row per signal: the mapping's kind, β1..β4 (or the line), its flag."""
    rows: list[tuple[str, ...]] = []
    for signal, fit in zip(result.signals, fits, strict=True):
        if fit is None:
            rows.append((signal.signal.name, "undefined", "—", "—", "—", "—", ""))
        elif fit.fitted:
            rows.append((signal.signal.name, "logistic", *map(_g, fit.params), fit.flag or ""))
        else:
            slope, intercept = fit.params
            line = f"linear fallback: slope {_g(slope)}, intercept {_g(intercept)}"
            rows.append((signal.signal.name, "linear", "—", "—", "—", "—", line))
    return Table(("signal", "mapping", "β1", "β2", "β3", "β4", "flag"), tuple(rows))


def logistic_blocks(result: CorpusResult, fits: Sequence[LogisticFit | None]) -> list[Block]:
    """The fitted logistics of one corpus's signals, with the formula."""
    if not fits:
        return []
    return [
        Heading(3, "Fitted logistic"),
        Paragraph(
            "The full-table mapping from each signal (a multi-column signal's out-of-fold "
            "prediction) to MOS, ŷ = β2 + (β1 − β2) / (1 + exp(−(x − β3)/|β4|)), fitted from "
            "[max(MOS), min(MOS), mean(x), 0.5] as the benchmark does; PLCC and RMSE are "
            "computed after it. 'linear': the logistic fit failed and a line was used."
        ),
        logistic_table(result, fits),
    ]
