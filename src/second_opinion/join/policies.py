"""What a join's coverage means for the caller: the policies that fail it, and the warnings.

:func:`check_policies` raises one :class:`PolicyError` naming every sidecar whose policy failed:
a sidecar that matches no base key (unless ``allow_no_match``), ``on_missing='error'`` with a
missing key, coverage below ``min_coverage``. :func:`coverage_warnings` words the rest: any
coverage below 100 %, and a per-frame file reduced to one row per key. Both name options as the
caller spells them and end with the key diagnosis's best fix, when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence

from second_opinion.errors import PolicyError
from second_opinion.join.coverage import Coverage, UnmatchedKey
from second_opinion.join.frames import frame_advice
from second_opinion.join.keys import key_repr, unicode_hint
from second_opinion.join.plan import JoinPlan, Sidecar


def _shown(item: UnmatchedKey, other: str, sidecar: Sidecar) -> str:
    """An unmatched key as a message shows it; with its closest key when only Unicode
    normalisation keeps them apart."""
    shown = key_repr("|".join(item.key))
    hint = unicode_hint(item.key, item.closest, sidecar.say.named("normalize_keys"))
    if hint is None or item.closest is None:
        return shown
    return f"{shown} (closest {other} key {key_repr('|'.join(item.closest))}: {hint})"


def _fixes(report: Coverage) -> str:
    """The diagnosis's fixes, as a clause to end a message with (``""`` without one)."""
    return "".join(f"; {fix.said()}" for fix in report.diagnosis)


def _no_match(report: Coverage, sidecar: Sidecar) -> str:
    """The failure of a sidecar that matches no base key."""
    say = sidecar.say
    example = ""
    if not report.sidecar_keys:
        example = " (the sidecar has no rows)"
    elif not report.diagnosis and report.unmatched_base:
        item = report.unmatched_base[0]
        closest = key_repr("|".join(item.closest)) if item.closest else "none"
        example = f" (base key {key_repr('|'.join(item.key))}, closest sidecar key {closest})"
    return (
        f"{report.scorer}: no base key has a sidecar row (0 of {report.base_rows:,} matched)"
        f"{example}{_fixes(report)}; if no match is expected, set "
        f"{say.setting({'allow_no_match': True})}"
    )


def check_policies(plan: JoinPlan, coverage: tuple[Coverage, ...]) -> None:
    """Raise :class:`PolicyError` naming every sidecar whose policy failed."""
    problems = []
    for report, sidecar in zip(coverage, plan.sidecars, strict=True):
        if report.matched == 0 and not sidecar.spec.allow_no_match:
            problems.append(_no_match(report, sidecar))
            continue
        if sidecar.spec.on_missing == "error" and report.missing:
            shown = ", ".join(_shown(u, "sidecar", sidecar) for u in report.unmatched_base)
            policy = sidecar.say.said({"on_missing": "error"})
            problems.append(
                f"{report.scorer}: {report.missing} base key(s) have no sidecar row "
                f"({policy}), e.g. {shown}{_fixes(report)}"
            )
        minimum = sidecar.spec.min_coverage
        if report.coverage < minimum:
            problems.append(
                f"{report.scorer}: coverage {report.coverage:.4f} ({report.matched}/"
                f"{report.base_rows}) is below the minimum {minimum:g} "
                f"({sidecar.say.said({'min_coverage': minimum})}){_fixes(report)}"
            )
    if problems:
        raise PolicyError("join policy failed:\n  " + "\n  ".join(problems), coverage)


def coverage_warnings(plan: JoinPlan, coverage: Sequence[Coverage]) -> tuple[str, ...]:
    """One line per sidecar that matched fewer than every base key, and per per-frame file
    reduced to one row per key; options named as the caller spells them."""
    warnings = []
    for report, sidecar in zip(coverage, plan.sidecars, strict=True):
        if report.matched < report.base_rows:
            fix = _fixes(report) or (
                "; no key normalisation or other key column would match more"
                if report.matched
                else ""
            )
            warnings.append(
                f"{report.scorer}: {report.matched:,} of {report.base_rows:,} base keys matched "
                f"({100 * report.coverage:.2f} %){fix}"
            )
        if report.frame_column is not None and not sidecar.spec.per_frame:
            policy = sidecar.say.said({"on_duplicate": sidecar.spec.on_duplicate})
            warnings.append(
                f"{report.scorer}: keys repeat and column {report.frame_column!r} numbers the "
                f"rows: a per-frame file, reduced to one row per key by {policy}; "
                f"{frame_advice(sidecar.say, report.frame_column)}"
            )
    return tuple(warnings)
