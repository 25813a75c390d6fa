"""Cross-corpus: each signal trained on one corpus and tested on another (SRCC).

The grid's row is the training corpus, its column the test corpus; the diagonal is the
within-corpus median SRCC over the splits. A training-free signal ignores the training corpus,
so its grid repeats one number per column; :func:`~second_opinion.audit.run.run_audit` leaves
those grids out of the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from second_opinion.audit.analysis import CorpusResult, CrossCorpus, FloatArray, SignalResult
from second_opinion.audit.crossfit import fit_predict
from second_opinion.audit.metrics import srcc
from second_opinion.audit.options import AuditOptions
from second_opinion.audit.progress import Counter, ProgressCallback
from second_opinion.errors import InputError


def _matrix(result: CorpusResult, columns: Sequence[str], rows: np.ndarray) -> FloatArray:
    return np.column_stack([result.corpus.columns[c][rows] for c in columns])


def cross_corpus(
    results: Sequence[CorpusResult],
    options: AuditOptions,
    progress: ProgressCallback | None = None,
) -> tuple[CrossCorpus, ...]:
    """Train on each corpus, test on each other, for every signal all corpora share;
    ``progress`` hears the count of trained fits (``cross-corpus``)."""
    if len(results) < 2:
        return ()
    names = [r.corpus.name for r in results]
    shared = []
    for first in results[0].signals:
        found = [_find(r, first.signal.name) for r in results]
        if all(f is not None and f.signal.columns == first.signal.columns for f in found):
            shared.append([f for f in found if f is not None])
    k = len(results)
    trained = sum(1 for per_corpus in shared if not per_corpus[0].signal.training_free)
    counter = Counter(progress, "cross-corpus", None, trained * k * (k - 1))
    out = []
    for per_corpus in shared:
        signal = per_corpus[0].signal
        if not signal.training_free:
            counter.describe(signal.name)
        matrix = np.full((k, k), np.nan)
        for i, train in enumerate(per_corpus):
            matrix[i, i] = float(np.nanmedian(train.splits.srcc))
            x_train = _matrix(results[i], signal.columns, train.rows)
            for j, test in enumerate(per_corpus):
                if i == j:
                    continue
                x_test = _matrix(results[j], signal.columns, test.rows)
                if signal.training_free:
                    predicted = x_test[:, 0]
                else:
                    predicted = fit_predict(
                        x_train,
                        train.mos,
                        x_test,
                        model=options.model,
                        search=options.search,
                        seed=options.seed,
                    )
                    counter.advance()
                matrix[i, j] = _safe_srcc(predicted, test.mos)
        out.append(
            CrossCorpus(signal.name, signal.columns, signal.training_free, tuple(names), matrix)
        )
    return tuple(out)


def _safe_srcc(predicted: FloatArray, mos: FloatArray) -> float:
    try:
        return srcc(predicted, mos)
    except InputError:
        return math.nan


def _find(result: CorpusResult, name: str) -> SignalResult | None:
    return next((s for s in result.signals if s.signal.name == name), None)
