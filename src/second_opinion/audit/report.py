"""``audit.json``: the audit's machine-readable report (shape: docs/audit.md).

Non-finite numbers (an undefined correlation) are written as ``null``; every list follows the
order of the corpora and signals in the audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from second_opinion.audit.analysis import CorpusResult, CrossCorpus, Gain, GainEntry, SignalResult
from second_opinion.audit.compare_render import comparisons_json
from second_opinion.audit.document import number, numbers
from second_opinion.audit.families import ColumnStats, FamilyAudit
from second_opinion.audit.metrics import LogisticFit
from second_opinion.audit.options import REDUNDANCY_THRESHOLD
from second_opinion.audit.protocol import METRICS, RIDGE_ALPHAS, TEST_SIZE, ProtocolResult
from second_opinion.audit.run import AuditResult, version
from second_opinion.audit.summary import logistic_json, summary_json
from second_opinion.audit.svr_search import (
    CV_FOLDS,
    CV_MAX_ITER,
    SEARCH_DRAWS,
    SVR_C_GRID,
    SVR_GAMMA_GRID,
)
from second_opinion.tables.memory import MemoryTable

SCHEMA = "second-opinion.audit/1"


def _interval(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [number(ci[0]), number(ci[1])]


def split_summary(result: ProtocolResult) -> dict[str, dict[str, float | None]]:
    """Median and population std over splits, per metric (SRCC/KRCC as magnitudes)."""
    return {
        metric: {
            "median": number(result.summary[metric].median),
            "std": number(result.summary[metric].std),
        }
        for metric in METRICS
    }


def signal_json(result: SignalResult, fit: LogisticFit | None = None) -> dict[str, Any]:
    """One signal of one corpus (``fit``: its full-table logistic, from ``AuditResult.fits``)."""
    full = result.full
    return {
        "n": result.n,
        "columns": list(result.signal.columns),
        "training_free": result.signal.training_free,
        "model": result.splits.model,
        "scorer": result.signal.scorer,
        "higher_is_better": result.signal.higher_is_better,
        "direction_agrees": result.direction_agrees,
        "full": {
            "srcc": number(full.srcc),
            "krcc": number(full.krcc),
            "plcc": number(full.plcc),
            "plcc_raw": number(full.plcc_raw),
            "rmse": number(full.rmse),
            "srcc_ci": _interval(result.srcc_ci),
            "plcc_ci": _interval(result.plcc_ci),
            "logistic_fitted": full.logistic_fitted,
            "logistic": logistic_json(fit),
            "note": full.note,
        },
        "splits": split_summary(result.splits),
    }


def _entry_json(entry: GainEntry) -> dict[str, Any]:
    return {
        "columns": list(entry.columns),
        "splits": split_summary(entry.splits),
        "delta_srcc": _delta(entry, "srcc"),
        "delta_plcc": _delta(entry, "plcc"),
        "win_fraction": number(entry.win_fraction),
        "wilcoxon_p": number(entry.wilcoxon_p),
    }


def _delta(entry: GainEntry, metric: str) -> dict[str, Any]:
    median, low, high = entry.delta_summary(metric)
    return {"median": number(median), "ci": [number(low), number(high)]}


def _baseline_run(gain: Gain) -> str | None:
    """Where B alone came from: ``'reused'`` (the baseline signal's own run), ``'refitted'``."""
    if gain.baseline_reused is None:
        return None
    return "reused" if gain.baseline_reused else "refitted"


def gain_json(gain: Gain) -> dict[str, Any]:
    """B alone, B + each second opinion, B + all."""
    return {
        "baseline": gain.baseline.name,
        "columns": list(gain.baseline.columns),
        "n": gain.n,
        "splits": split_summary(gain.baseline_splits) if gain.baseline_splits else None,
        "second_opinions": {entry.name: _entry_json(entry) for entry in gain.entries},
        "all": _entry_json(gain.combined) if gain.combined else None,
        "note": gain.note,
        "baseline_run": _baseline_run(gain),
    }


def corpus_json(
    result: CorpusResult, sha256: str | None, fits: Sequence[LogisticFit | None] = ()
) -> dict[str, Any]:
    """One corpus: where it came from and its signals (``fits``: their logistics, in order)."""
    corpus = result.corpus
    memory = isinstance(corpus.path, MemoryTable)
    return {
        "path": None if memory else str(corpus.path),
        "source": "memory" if memory else "file",
        "sha256": sha256,
        "rows": corpus.rows,
        "n": corpus.n,
        "mos_column": corpus.mos_column,
        "key": list(corpus.key),
        "provenance": bool(corpus.scorers) or bool(corpus.key),
        "notes": [
            *result.notes,
            *([f"provenance: {corpus.provenance_note}"] if corpus.provenance_note else []),
        ],
        "seconds": round(result.seconds, 3),
        "signals": {
            s.signal.name: signal_json(s, fits[i] if fits else None)
            for i, s in enumerate(result.signals)
        },
    }


def redundancy_json(result: CorpusResult) -> dict[str, Any]:
    """The Spearman matrix between one corpus's signals, and the flagged pairs."""
    mix = result.redundancy
    return {
        "signals": list(mix.signals),
        "rho": numbers(mix.rho),
        "pairs": mix.pairs.tolist(),
        "threshold": mix.threshold,
        "flagged": [{"a": a, "b": b, "rho": number(rho)} for a, b, rho in mix.flagged],
    }


def cross_json(cross: Sequence[CrossCorpus]) -> dict[str, Any]:
    """Signal → train-corpus × test-corpus SRCC matrix."""
    return {
        item.signal: {
            "columns": list(item.columns),
            "training_free": item.training_free,
            "corpora": list(item.corpora),
            "srcc": numbers(item.srcc),
        }
        for item in cross
    }


def _stats_json(stats: ColumnStats) -> dict[str, float | None]:
    return {
        "finite_ratio": number(stats.finite_ratio),
        "mean": number(stats.mean),
        "std": number(stats.std),
        "min": number(stats.minimum),
        "max": number(stats.maximum),
    }


def families_json(audit: FamilyAudit) -> dict[str, Any]:
    """One corpus's signal-family coverage and redundant column pairs (docs/audit.md)."""
    return {
        "rows": audit.rows,
        "target": audit.target,
        "redundancy_threshold": audit.redundancy,
        "min_finite_ratio": audit.min_finite_ratio,
        "signal_columns": list(audit.signal_columns),
        "coverage": {
            c.key: {
                "label": c.label,
                "status": c.status,
                "matched_columns": list(c.matched),
                "numeric_columns": list(c.numeric),
                "healthy_columns": list(c.healthy),
            }
            for c in audit.coverage
        },
        "missing": list(audit.with_status("missing")),
        "weak": list(audit.with_status("weak")),
        "column_stats": {name: _stats_json(stats) for name, stats in audit.stats.items()},
        "redundant_pairs": [
            {
                "left": pair.left,
                "right": pair.right,
                "left_family": pair.left_family,
                "right_family": pair.right_family,
                "pearson": number(pair.pearson),
            }
            for pair in audit.redundant
        ],
    }


def protocol_json(result: AuditResult) -> dict[str, Any]:
    """The protocol's parameters, so the numbers can be reproduced."""
    options = result.options
    return {
        "mos": options.mos,
        "splits": options.splits,
        "test_size": TEST_SIZE,
        "split_seeds": "ceil(8.8 * i), i = 1..splits",
        "model": options.model,
        "search": options.search,
        "search_draws": SEARCH_DRAWS,
        "cv_folds": CV_FOLDS,
        # The solver iterations a cross-validation fit may take; None: solved to convergence.
        "cv_max_iter": CV_MAX_ITER if options.search == "random" else None,
        "svr_c": list(SVR_C_GRID),
        "svr_gamma": list(SVR_GAMMA_GRID),
        "ridge_alphas": [float(a) for a in RIDGE_ALPHAS],
        "seed": options.seed,
        "bootstrap": options.bootstrap,
        "ci_level": 0.95,
        "folds": options.folds,
        "redundancy_threshold": REDUNDANCY_THRESHOLD,
        "signals": dict(options.signals),
        "baseline": options.baseline,
        "exclude": list(options.exclude) if options.exclude is not None else None,
        "compare": [list(pair) for pair in options.compare],
        "compare_all": options.compare_all,
    }


def audit_json(result: AuditResult) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    return {
        "schema": SCHEMA,
        "tool": version(),
        "created": result.created,
        "seconds": round(result.seconds, 3),
        "fingerprint": result.fingerprint,
        "protocol": protocol_json(result),
        "corpora": {
            r.corpus.name: corpus_json(
                r, result.sha256.get(r.corpus.name), result.fits[i] if result.fits else ()
            )
            for i, r in enumerate(result.corpora)
        },
        "redundancy": {r.corpus.name: redundancy_json(r) for r in result.corpora},
        "gain": {r.corpus.name: gain_json(r.gain) for r in result.corpora if r.gain is not None},
        "cross_corpus": cross_json(result.cross),
        "families": {audit.corpus: families_json(audit) for audit in result.families},
        "comparisons": {found.corpus: comparisons_json(found) for found in result.comparisons},
        "summary": summary_json(result.corpora),
    }
