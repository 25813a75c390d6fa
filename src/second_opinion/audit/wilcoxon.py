"""The Wilcoxon signed-rank p-value of paired per-split differences, as SciPy gives it.

``scipy.stats.wilcoxon`` (``method="auto"``) answers a sample of at most 13 differences that
holds zeros or ties with an exact permutation test over every sign pattern, computed by
:func:`scipy.stats.permutation_test` one pattern at a time in Python: ~0.75 s for 12 splits,
paid for every pair and metric of ``--compare-all``. :func:`wilcoxon_p` computes that same test
at once (all sign patterns as one matrix product of their bits with the ranks), the p-value
SciPy's rules give: the count of patterns at most (at least) as extreme, within SciPy's relative
tolerance, over their number, twice the smaller, at most 1. Every other sample goes to SciPy.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

FloatArray = npt.NDArray[np.float64]

PERMUTED = 13
"""SciPy's largest sample answered by the exact permutation test when it has zeros or ties."""


def wilcoxon_p(deltas: FloatArray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (1.0 if all are zero; NaN
    if none is finite), zeros dropped (``zero_method="wilcox"``), as ``scipy.stats.wilcoxon``
    gives it."""
    finite = np.asarray(deltas, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return math.nan
    if np.all(finite == 0):
        return 1.0
    kept = finite[finite != 0]
    magnitudes = np.abs(kept)
    tied = np.unique(magnitudes).size < magnitudes.size
    if finite.size <= PERMUTED and (tied or kept.size < finite.size):
        return _permuted_p(kept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.wilcoxon(finite, zero_method="wilcox", alternative="two-sided")
    return float(result.pvalue)


def _permuted_p(kept: FloatArray) -> float:
    """The exact two-sided permutation p-value of the rank sum of the positive differences
    among ``kept`` (the non-zero ones), over all ``2 ** kept.size`` sign patterns."""
    ranks = stats.rankdata(np.abs(kept), method="average")
    observed = float(np.sum(ranks[kept > 0]))
    bits = (np.arange(2**kept.size)[:, None] >> np.arange(kept.size)) & 1
    null = bits @ ranks
    gamma = abs(np.finfo(np.float64).eps * 100 * observed)
    less = np.count_nonzero(null <= observed + gamma) / null.size
    greater = np.count_nonzero(null >= observed - gamma) / null.size
    return float(min(max(min(less, greater) * 2, 0.0), 1.0))
