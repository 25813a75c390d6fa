"""Rendering results for people (rich tables) and machines (JSON). All output goes through here."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from second_opinion.join.keys import key_repr, unicode_hint

if TYPE_CHECKING:
    from second_opinion.join.coverage import Coverage

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
# In a pipe or CI rich assumes 80 columns and would squeeze tables; logs read better wide.
for _console in (console, err_console):
    if not _console.is_terminal and "COLUMNS" not in os.environ:
        _console.width = 160


def print_json(data: object) -> None:
    """One JSON document on stdout, keys in a stable order."""
    console.out(json.dumps(data, indent=2, ensure_ascii=False), highlight=False)


def _fmt_key(key: Sequence[str] | None) -> str:
    return "—" if key is None else key_repr("|".join(key))


def coverage_table(reports: Sequence[Coverage]) -> Table:
    """The coverage of each sidecar as a rich table."""
    table = Table(title="coverage", title_justify="left")
    for header in (
        "scorer",
        "matched",
        "coverage",
        "missing",
        "extra",
        "duplicates",
        "non-finite",
        "nulls",
    ):
        table.add_column(header, justify="left" if header == "scorer" else "right")
    for r in reports:
        table.add_row(
            r.scorer,
            f"{r.matched}/{r.base_rows}",
            f"{100 * r.coverage:.2f} %",
            str(r.missing),
            str(r.extra),
            str(r.duplicate_keys),
            str(sum(r.non_finite.values())),
            str(sum(r.nulls.values())),
        )
    return table


def print_warnings(warnings: Sequence[str]) -> None:
    """Warnings on stderr, one a line."""
    for warning in warnings:
        err_console.print(f"warning: {warning}", markup=False, highlight=False)


def print_coverage(reports: Sequence[Coverage]) -> None:
    """The coverage table, then up to five unmatched keys per side with their closest partner,
    and the key diagnosis's fixes."""
    console.print(coverage_table(reports))
    for r in reports:
        for label, items, other in (
            ("base key without a sidecar row", r.unmatched_base, "sidecar"),
            ("sidecar key not in the base", r.unmatched_sidecar, "base"),
        ):
            for item in items:
                hint = unicode_hint(item.key, item.closest, "--normalize-keys")
                console.print(
                    f"  {r.scorer}: {label} {_fmt_key(item.key)}; "
                    f"closest {other} key {_fmt_key(item.closest)}" + (f"; {hint}" if hint else ""),
                    markup=False,
                )
        for fix in r.diagnosis:
            console.print(f"  {r.scorer}: fix: {fix.said()}", markup=False)


def print_coverage_dicts(reports: Sequence[dict[str, Any]]) -> None:
    """The coverage table from JSON-shaped reports (as stored in provenance)."""
    table = Table(title="coverage", title_justify="left")
    for header in ("scorer", "matched", "coverage", "missing", "extra"):
        table.add_column(header, justify="left" if header == "scorer" else "right")
    for r in reports:
        table.add_row(
            str(r["scorer"]),
            f"{r['matched']}/{r['base_rows']}",
            f"{100 * float(r['coverage']):.2f} %",
            str(r["missing"]),
            str(r["extra"]),
        )
    console.print(table)
