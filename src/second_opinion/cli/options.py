"""Parsing the CLI's per-sidecar options: ``[SCORER:]VALUE``, ``SCORER=PATH``, ``SIDE=BASE``.

A value prefixed with a declared scorer name and ``:`` applies to that sidecar only; without the
prefix it applies to every sidecar. A scoped value wins over an unscoped one, whatever the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from second_opinion.errors import UsageError

if TYPE_CHECKING:
    from second_opinion.tables.formats import Engine


def parse_sidecars(values: Sequence[str]) -> dict[str, str]:
    """``SCORER=PATH`` pairs, in order; a scorer may appear once."""
    sidecars: dict[str, str] = {}
    for value in values:
        scorer, sep, path = value.partition("=")
        if not sep or not scorer or not path:
            msg = f"--sidecar {value!r}: expected SCORER=PATH, e.g. --sidecar niqe=niqe.jsonl"
            raise UsageError(msg)
        if scorer in sidecars:
            msg = f"--sidecar: scorer {scorer!r} given twice; give each sidecar its own name"
            raise UsageError(msg)
        sidecars[scorer] = path
    return sidecars


def scoped(option: str, values: Sequence[str], scorers: Sequence[str]) -> dict[str, str]:
    """The value of ``option`` for each scorer that has one."""
    everyone: str | None = None
    per_scorer: dict[str, str] = {}
    for value in values:
        head, sep, rest = value.partition(":")
        if sep and head in scorers:
            per_scorer[head] = rest
        elif sep and head and head.isidentifier() and option in ("--columns", "--prefix"):
            msg = f"{option} {value!r}: {head!r} is not a sidecar (sidecars: {', '.join(scorers)})"
            raise UsageError(msg)
        else:
            everyone = value
    result = dict.fromkeys(scorers, everyone) if everyone is not None else {}
    result.update(per_scorer)
    return {k: v for k, v in result.items() if v is not None}


def parse_key_maps(values: Sequence[str], scorers: Sequence[str]) -> dict[str, dict[str, str]]:
    """``[SCORER:]SIDE=BASE`` mappings for each scorer."""
    maps: dict[str, dict[str, str]] = {s: {} for s in scorers}
    for value in values:
        head, sep, rest = value.partition(":")
        targets = [head] if sep and head in scorers else list(scorers)
        pair = rest if sep and head in scorers else value
        side, eq, base = pair.partition("=")
        if not eq or not side or not base:
            msg = (
                f"--key-map {value!r}: expected [SCORER:]SIDE=BASE, "
                "e.g. --key-map niqe:video=clip_id"
            )
            raise UsageError(msg)
        for scorer in targets:
            maps[scorer][side] = base
    return maps


def split_list(value: str) -> list[str]:
    """A comma-separated list, blanks removed."""
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_fraction(option: str, value: str) -> float:
    """A number in [0, 1]."""
    try:
        number = float(value)
    except ValueError:
        msg = f"{option} {value!r}: expected a number between 0 and 1"
        raise UsageError(msg) from None
    return number


def parse_align(scorer: str, value: str) -> dict[str, str]:
    """``TABLE:COLUMN`` (after the scorer) → ``{"keys_from": TABLE, "column": COLUMN}``."""
    table, sep, column = value.rpartition(":")
    if not sep or not table or not column:
        msg = (
            f"--align {scorer + ':' + value!r}: expected SCORER:TABLE:COLUMN, the table listing "
            "the matrix's row keys and its key column, e.g. brisque:meta.csv:flickr_id"
        )
        raise UsageError(msg)
    return {"keys_from": table, "column": column}


MEMORY_LIMIT_HELP = "DuckDB's memory limit, e.g. 4GB; past it, joins spill to disk."
TEMP_DIR_HELP = "Folder DuckDB spills to (default: the system's temporary folder)."


def engine_of(memory_limit: str | None, temp_dir: Path | None) -> Engine | None:
    """The engine limits the options ask for (None: DuckDB's defaults), checked before any work."""
    if memory_limit is None and temp_dir is None:
        return None
    if temp_dir is not None and not temp_dir.is_dir():
        msg = f"--temp-dir {temp_dir}: no such folder; create it first"
        raise UsageError(msg)
    from second_opinion.tables.formats import Engine, check_engine  # noqa: PLC0415 - DuckDB

    engine = Engine(memory_limit=memory_limit, temp_dir=temp_dir)
    check_engine(engine, limit_name="--memory-limit")
    return engine


ALLOW_OUTSIDE_HELP = "Let outputs lie outside output_dir (refused by default)."

OMITTABLE_VALUE = ("--report-html",)
"""Options whose value may be left out (``batch --report-html``: the report goes to its default
place). typer has no such option, so :func:`with_omitted_values` spells the bare flag as
``--report-html=`` (an empty value, read as the default) before the arguments are parsed."""


def with_omitted_values(args: Sequence[str]) -> list[str]:
    """``args`` with each :data:`OMITTABLE_VALUE` option that is last, or followed by another
    option, given an empty value (``--report-html --json`` → ``--report-html= --json``)."""
    out = list(args)
    for index, arg in enumerate(out):
        if arg == "--":
            break
        following = out[index + 1] if index + 1 < len(out) else None
        bare = following is None or (following.startswith("-") and following != "-")
        if arg in OMITTABLE_VALUE and bare:
            out[index] = f"{arg}="
    return out
