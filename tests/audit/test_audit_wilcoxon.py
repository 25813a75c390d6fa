"""The Wilcoxon p-value against SciPy's own, on the small tied samples it answers with an exact
permutation test (computed here at once), and on every other sample (passed to SciPy)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from second_opinion.audit.wilcoxon import PERMUTED, wilcoxon_p


def _scipy(deltas: list[float]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.wilcoxon(deltas, zero_method="wilcox").pvalue)


# Few distinct values, zeros among them: ties and zeros in most samples.
TIED = st.lists(st.sampled_from([0.0, 0.01, -0.01, 0.02, -0.02, 0.035, -0.05, 0.1]), min_size=1)


@settings(max_examples=120, deadline=None)
@given(TIED.filter(lambda d: len(d) <= 9 and any(d)))  # SciPy's own test costs 2**n here
def test_small_tied_samples_get_scipys_p_value(deltas: list[float]) -> None:
    assert wilcoxon_p(np.array(deltas)) == pytest.approx(_scipy(deltas), rel=1e-12, abs=1e-15)


FLOATS = st.floats(-1, 1, allow_subnormal=False)
# Past the permuted sizes, anything; within them, no zero and no tie (SciPy's exact test).
OTHERS = st.lists(FLOATS, min_size=PERMUTED + 1, max_size=60) | st.lists(
    FLOATS, min_size=1, max_size=PERMUTED
).filter(lambda d: all(d) and len({abs(x) for x in d}) == len(d))


@settings(max_examples=100, deadline=None)
@given(OTHERS)
def test_any_other_sample_gets_scipys_p_value(deltas: list[float]) -> None:
    if not any(deltas):
        assert wilcoxon_p(np.array(deltas)) == 1.0
        return
    assert wilcoxon_p(np.array(deltas)) == pytest.approx(_scipy(deltas), rel=1e-12, abs=1e-15)


def test_no_finite_difference_has_no_p_value_and_nans_are_dropped() -> None:
    assert math.isnan(wilcoxon_p(np.array([np.nan, np.inf])))
    tied = [0.0, 0.01, 0.01, -0.02, 0.03, 0.03, 0.04]
    assert wilcoxon_p(np.array([*tied, np.nan])) == pytest.approx(_scipy(tied), rel=1e-12)


@pytest.mark.parametrize("size", [PERMUTED - 1, PERMUTED, PERMUTED + 1])
def test_the_largest_permuted_samples_and_the_first_past_them(size: int) -> None:
    """Twelve and thirteen tied splits: SciPy enumerates 4,096 and 8,192 sign patterns in
    Python (~0.75 s and ~1.5 s); fourteen: SciPy's normal approximation, passed through."""
    base = [0.01, 0.02, 0.02, -0.01, 0.03, 0.0, 0.04, 0.01, -0.02, 0.05, 0.02, 0.03, -0.03, 0.06]
    deltas = base[:size]
    assert wilcoxon_p(np.array(deltas)) == pytest.approx(_scipy(deltas), rel=1e-12)
