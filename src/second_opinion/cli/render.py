"""Rendering results for people (rich tables) and machines (JSON). All output goes through here."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from second_opinion.join.keys import key_repr, unicode_hint

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from second_opinion.join.coverage import Coverage


class _LazyConsole:
    """A rich ``Console`` made on first use: importing rich takes ~25 ms, which a run that only
    prints JSON, warnings or an error (plain lines, :func:`print_line`) does not pay."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._made: Console | None = None

    def __getattr__(self, name: str) -> object:
        if self._made is None:
            from rich.console import Console  # noqa: PLC0415 - on first use

            made = Console(stderr=self._stderr, highlight=False, soft_wrap=True, emoji=False)
            # In a pipe or CI rich assumes 80 columns and would squeeze tables; logs read
            # better wide.
            if not made.is_terminal and "COLUMNS" not in os.environ:
                made.width = 160
            self._made = made
        return getattr(self._made, name)


console = cast("Console", _LazyConsole(stderr=False))
err_console = cast("Console", _LazyConsole(stderr=True))


def print_line(text: str, *, err: bool = False) -> None:
    """One line of plain text on stdout (or stderr), exactly as given: no markup, no emoji
    codes, no wrapping."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def print_json(data: object) -> None:
    """One JSON document on stdout, keys in a stable order."""
    print_line(json.dumps(data, indent=2, ensure_ascii=False))


def _fmt_key(key: Sequence[str] | None) -> str:
    return "—" if key is None else key_repr("|".join(key))


def coverage_table(reports: Sequence[Coverage]) -> Table:
    """The coverage of each sidecar as a rich table."""
    from rich.table import Table  # noqa: PLC0415 - rich on use

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
        print_line(f"warning: {warning}", err=True)


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
    from rich.table import Table  # noqa: PLC0415 - rich on use

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
