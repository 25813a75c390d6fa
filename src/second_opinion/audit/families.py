"""Signal-family coverage and redundancy of one corpus table (docs/audit.md, "Signal families").

The figures are those of the original project's signal-mix audit, on the same table:

* every column of the file (numeric or not) is matched against each family's name patterns
  (:mod:`second_opinion.audit.family_patterns`);
* the *signal columns* are the numeric ones that are not the MOS column, not named like a
  quality target and not bookkeeping;
* per signal column, over every row of the file (with or without a MOS): the share of finite
  values and, over those, the mean, population standard deviation, minimum and maximum;
* a family is ``missing`` when no column matches it, ``weak`` when none of its matching signal
  columns is *healthy* (finite ratio ≥ ``min_finite_ratio`` and standard deviation > 1e-12),
  ``covered`` otherwise;
* every pair of signal columns (in file order) gets the Pearson r over the rows where both are
  finite (undefined with fewer than 3 such rows or a side whose standard deviation is ≤ 1e-12);
  pairs with |r| ≥ ``redundancy`` are redundant, listed by decreasing |r| (ties in pair order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from second_opinion.audit.corpus import Corpus, FloatArray
from second_opinion.audit.family_patterns import FAMILIES, is_signal_name, primary_family

FLAT = 1e-12
"""A standard deviation at or below this is no variation at all."""
MIN_PAIRS = 3
"""The fewest rows with both values finite a Pearson r needs."""


@dataclass(frozen=True)
class ColumnStats:
    """One signal column over every row of the table (NaN when it has no finite value)."""

    finite_ratio: float
    mean: float
    std: float
    minimum: float
    maximum: float

    def healthy(self, min_finite_ratio: float) -> bool:
        """Finite often enough and not constant."""
        return self.finite_ratio >= min_finite_ratio and self.std > FLAT


@dataclass(frozen=True)
class FamilyCoverage:
    """How well one family is represented: ``missing``, ``weak`` or ``covered``."""

    key: str
    label: str
    status: str
    matched: tuple[str, ...]
    """Every column whose name matches, numeric or not, in file order."""
    numeric: tuple[str, ...]
    """The matched columns that are signal columns."""
    healthy: tuple[str, ...]
    """The numeric ones that are healthy."""


@dataclass(frozen=True)
class RedundantPair:
    """Two signal columns whose Pearson r reaches the redundancy threshold in magnitude."""

    left: str
    right: str
    left_family: str
    right_family: str
    pearson: float


@dataclass(frozen=True)
class FamilyAudit:
    """One corpus's family figures."""

    corpus: str
    rows: int
    """Every row of the table, with or without a MOS."""
    target: str
    signal_columns: tuple[str, ...]
    stats: dict[str, ColumnStats]
    coverage: tuple[FamilyCoverage, ...]
    redundant: tuple[RedundantPair, ...]
    redundancy: float
    min_finite_ratio: float

    def with_status(self, status: str) -> tuple[str, ...]:
        """The keys of the families with ``status``, in family order."""
        return tuple(c.key for c in self.coverage if c.status == status)


def column_stats(values: FloatArray) -> ColumnStats:
    """Finite share and moments of ``values`` (population standard deviation)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        nan = math.nan
        return ColumnStats(0.0, nan, nan, nan, nan)
    return ColumnStats(
        finite_ratio=finite.size / max(values.size, 1),
        mean=float(np.mean(finite)),
        std=float(np.std(finite)),
        minimum=float(np.min(finite)),
        maximum=float(np.max(finite)),
    )


def pearson(x: FloatArray, y: FloatArray) -> float:
    """Pearson r over the rows where both are finite; NaN when undefined (see the module doc)."""
    both = np.isfinite(x) & np.isfinite(y)
    if int(both.sum()) < MIN_PAIRS:
        return math.nan
    a, b = x[both], y[both]
    if float(np.std(a)) <= FLAT or float(np.std(b)) <= FLAT:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def audit_families(
    corpus: Corpus, *, redundancy: float = 0.95, min_finite_ratio: float = 0.80
) -> FamilyAudit:
    """The family coverage and redundant column pairs of ``corpus``'s table."""
    names = corpus.table_columns
    values = corpus.table_values
    target = corpus.mos_column
    signals = tuple(c for c in names if c in values and is_signal_name(c, target))
    stats = {c: column_stats(values[c]) for c in signals}
    coverage = []
    for family in FAMILIES:
        matched = tuple(c for c in names if family.matches(c))
        numeric = tuple(c for c in matched if c in stats)
        healthy = tuple(c for c in numeric if stats[c].healthy(min_finite_ratio))
        status = "missing" if not matched else "weak" if not healthy else "covered"
        coverage.append(FamilyCoverage(family.key, family.label, status, matched, numeric, healthy))
    return FamilyAudit(
        corpus=corpus.name,
        rows=corpus.rows,
        target=target,
        signal_columns=signals,
        stats=stats,
        coverage=tuple(coverage),
        redundant=_redundant(signals, values, redundancy),
        redundancy=redundancy,
        min_finite_ratio=min_finite_ratio,
    )


def _redundant(
    signals: tuple[str, ...], values: dict[str, FloatArray], threshold: float
) -> tuple[RedundantPair, ...]:
    found = []
    for i, left in enumerate(signals):
        for right in signals[i + 1 :]:
            r = pearson(values[left], values[right])
            if not math.isnan(r) and abs(r) >= threshold:
                found.append(
                    RedundantPair(left, right, primary_family(left), primary_family(right), r)
                )
    found.sort(key=lambda pair: -abs(pair.pearson))  # stable: ties keep the pair order
    return tuple(found)
