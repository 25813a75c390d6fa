"""The report's signal-family section of one corpus: a coverage table and the redundant pairs."""

from __future__ import annotations

from collections.abc import Sequence

from second_opinion.audit.document import Block, Heading, Paragraph, Table, fmt
from second_opinion.audit.families import FamilyAudit

SHOWN_COLUMNS = 4
"""Matched columns a coverage row lists before it only counts the rest."""


def _listed(columns: Sequence[str]) -> str:
    if not columns:
        return "—"
    shown = ", ".join(columns[:SHOWN_COLUMNS])
    return shown if len(columns) <= SHOWN_COLUMNS else f"{shown}, … ({len(columns)})"


def coverage_table(audit: FamilyAudit) -> Table:
    """One row per family: its status, healthy/numeric/matched counts and matched columns."""
    rows = tuple(
        (
            f"{c.label} ({c.key})",
            c.status,
            f"{len(c.healthy)} / {len(c.numeric)} / {len(c.matched)}",
            _listed(c.matched),
        )
        for c in audit.coverage
    )
    return Table(("family", "status", "healthy / numeric / matched", "matched columns"), rows)


def redundant_table(audit: FamilyAudit) -> Table:
    """The redundant column pairs, by decreasing |r|."""
    rows = tuple(
        (f"{p.left} × {p.right}", f"{p.left_family} × {p.right_family}", fmt(p.pearson))
        for p in audit.redundant
    )
    return Table(("pair", "primary families", "Pearson r"), rows)


def _keys(keys: Sequence[str]) -> str:
    return ", ".join(keys) if keys else "none"


def family_blocks(audit: FamilyAudit) -> list[Block]:
    """The section: what was counted, the coverage table, the redundant pairs."""
    threshold = f"|Pearson r| ≥ {audit.redundancy:g}"
    out: list[Block] = [
        Heading(3, "Signal families"),
        Paragraph(
            f"Columns grouped by name into quality dimensions, over all {audit.rows} rows of the "
            f"table; {len(audit.signal_columns)} signal columns (numeric, not {audit.target!r}, "
            "not named like a target, not bookkeeping). A family is covered when one of its "
            f"signal columns is finite in at least {audit.min_finite_ratio:g} of the rows and "
            "varies, weak when it has columns but none such, missing when no column matches. "
            f"Missing: {_keys(audit.with_status('missing'))}. "
            f"Weak: {_keys(audit.with_status('weak'))}."
        ),
        coverage_table(audit),
        Heading(3, "Redundant column pairs"),
    ]
    if not audit.redundant:
        out.append(Paragraph(f"No pair of signal columns has {threshold}."))
        return out
    out.append(
        Paragraph(
            f"Pairs of signal columns with {threshold} over the rows where both are finite "
            "(a candidate to drop one of)."
        )
    )
    out.append(redundant_table(audit))
    return out
