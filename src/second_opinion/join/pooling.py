"""Pooling per-frame scores to one value per clip.

Each statistic is defined over the clip's finite frame values (NaN and infinities were turned into
null first and are skipped); a clip with no finite value pools to null.

==============  =============================================================================
``mean``        arithmetic mean
``median``      middle value; the mean of the two middle values for an even count
``min``/``max`` smallest / largest value
``std``         sample standard deviation (n - 1 in the denominator); null for a single frame
``p5``/``p95``  5th / 95th percentile, linear interpolation between closest ranks (NumPy's
                default ``linear`` method)
``harmonic_mean`` n / sum(1 / x); every value must be > 0 (an error names the first that is not)
==============  =============================================================================
"""

from __future__ import annotations

from second_opinion._typing import PoolStat


def pool_sql(stat: PoolStat, expr: str) -> str:
    """A DuckDB aggregate computing ``stat`` over the DOUBLE expression ``expr``."""
    if stat == "mean":
        return f"avg({expr})"
    if stat == "median":
        return f"quantile_cont({expr}, 0.5)"
    if stat == "min":
        return f"min({expr})"
    if stat == "max":
        return f"max({expr})"
    if stat == "std":
        return f"stddev_samp({expr})"
    if stat == "p5":
        return f"quantile_cont({expr}, 0.05)"
    if stat == "p95":
        return f"quantile_cont({expr}, 0.95)"
    return f"count({expr}) / sum(1.0 / {expr})"
