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

The statistics that add (``mean``, ``std``, ``harmonic_mean``) add a clip's values in ascending
order: they are computed from the clip's values gathered and sorted (``list_sort(list(x))``), so a
pooled value is the same bit for bit whatever order the frames arrive in, however many threads
DuckDB runs and whether or not a memory limit splits the pooling into passes. (A plain ``avg``
adds in the order its threads happen to meet the rows and differs in the last bit between runs;
an ordered aggregate, ``avg(x ORDER BY x)``, is as exact but sorts once per statistic, 5× slower
on W2.) The other statistics sort or compare, which no order changes. Like the quantiles, these
statistics hold a clip's values in memory until it is done (``passes.HOLISTIC_STATS``). ADR 0019.
"""

from __future__ import annotations

import duckdb

from second_opinion._typing import PoolStat
from second_opinion.errors import SchemaError
from second_opinion.join.plan import Sidecar
from second_opinion.join.session import first_row


def pool_sql(stat: PoolStat, expr: str) -> str:
    """A DuckDB aggregate computing ``stat`` over the DOUBLE expression ``expr``."""
    if stat == "mean":
        return f"list_avg({_sorted(expr)})"
    if stat == "median":
        return f"quantile_cont({expr}, 0.5)"
    if stat == "min":
        return f"min({expr})"
    if stat == "max":
        return f"max({expr})"
    if stat == "std":
        return f"list_aggregate({_sorted(expr)}, 'stddev_samp')"
    if stat == "p5":
        return f"quantile_cont({expr}, 0.05)"
    if stat == "p95":
        return f"quantile_cont({expr}, 0.95)"
    return f"count({expr}) / list_sum({_sorted(f'1.0 / {expr}')})"


def _sorted(expr: str) -> str:
    """The group's non-null values of ``expr`` in ascending order (null for none)."""
    return f"list_sort(list({expr}) FILTER (WHERE {expr} IS NOT NULL))"


def check_positive(con: duckdb.DuckDBPyConnection, sidecar: Sidecar) -> None:
    """Refuse values <= 0 in a column pooled with ``harmonic_mean`` (the first such column,
    found with one plain sum per column, then described)."""
    sums = ", ".join(f"coalesce(sum(nonpos{i}), 0)" for i in range(len(sidecar.columns)))
    found = first_row(con, f"SELECT {sums} FROM {sidecar.name}") or ()
    for i, column in enumerate(sidecar.columns):
        if not found[i]:
            continue
        row = first_row(
            con,
            f"SELECT sum(nonpos{i}), min(min{i}), arg_min(nonpos_key{i}, min{i}) "
            f"FROM {sidecar.name} WHERE nonpos{i} > 0",
        )
        if row and row[0]:
            msg = (
                f"{sidecar.score_source}: harmonic_mean needs values > 0, but column "
                f"{column!r} has {int(row[0])} value(s) <= 0 (smallest {row[1]!r}, key "
                f"{row[2]!r}); pool it with another statistic"
            )
            raise SchemaError(msg)
