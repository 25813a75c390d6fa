"""The audit's options, validated once for the CLI, the manifest and Python callers."""

from __future__ import annotations

import os
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from second_opinion._typing import Regressor, SearchMode
from second_opinion.audit.signals import SignalSpec
from second_opinion.errors import UsageError
from second_opinion.validation import CheckedCopies, build

DEFAULT_SPLITS = 100
DEFAULT_BOOTSTRAP = 1000
DEFAULT_FOLDS = 5
REDUNDANCY_THRESHOLD = 0.95
FAMILY_REDUNDANCY = 0.95
MIN_FINITE_RATIO = 0.80
MAX_JOBS = 1024


def available_cores() -> int:
    """The cores this process may run on: ``os.process_cpu_count()`` (Python 3.13+), else the
    size of its CPU affinity set, else ``os.cpu_count()``; at least 1, at most ``MAX_JOBS``."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        found = counter()
    elif hasattr(os, "sched_getaffinity"):
        found = len(os.sched_getaffinity(0))
    else:
        found = os.cpu_count()
    return max(1, min(found or 1, MAX_JOBS))


class AuditOptions(CheckedCopies):
    """How to audit: the protocol's parameters and the signals."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    copy_what: ClassVar[str] = "audit options"

    mos: Annotated[str, Field(min_length=1, description="The MOS column.")] = "mos"
    signals: Annotated[
        dict[str, str],
        Field(description="Signal name → comma-separated column globs; default: see docs."),
    ] = {}  # noqa: RUF012 - a field of a frozen pydantic model, copied per instance
    baseline: Annotated[
        str | None, Field(description="The baseline signal as NAME=GLOB[,GLOB…].")
    ] = None
    exclude: Annotated[
        tuple[str, ...] | None,
        Field(description="Column globs no default signal takes; default: DEFAULT_EXCLUDE."),
    ] = None
    splits: Annotated[int, Field(ge=1, le=10_000, description="Random 80/20 splits.")] = (
        DEFAULT_SPLITS
    )
    model: Annotated[Regressor, Field(description="Regressor for multi-column signals.")] = "svr"
    search: Annotated[SearchMode, Field(description="SVR C/gamma search.")] = "random"
    seed: Annotated[
        int, Field(ge=0, description="Seeds the search draws, folds and bootstrap.")
    ] = 0
    bootstrap: Annotated[
        int, Field(ge=0, le=100_000, description="Bootstrap resamples for the CIs (0: none).")
    ] = DEFAULT_BOOTSTRAP
    folds: Annotated[
        int, Field(ge=2, le=50, description="Folds of the out-of-fold predictions.")
    ] = DEFAULT_FOLDS
    jobs: int = Field(
        default_factory=available_cores,
        ge=1,
        le=MAX_JOBS,
        description="Worker processes (default: the cores available, available_cores()).",
    )
    plots: Annotated[bool, Field(description="Embed plots in audit.html.")] = True
    family_redundancy: Annotated[
        float,
        Field(gt=0, le=1, description="|Pearson r| from which two signal columns are redundant."),
    ] = FAMILY_REDUNDANCY
    min_finite_ratio: Annotated[
        float,
        Field(ge=0, le=1, description="Share of finite values a healthy family column needs."),
    ] = MIN_FINITE_RATIO
    compare: Annotated[
        tuple[tuple[str, str], ...],
        Field(description="Pairs of signals to compare head to head, each 'A,B' or [A, B]."),
    ] = ()
    compare_all: Annotated[
        bool, Field(description="Compare every pair of signals (a matrix per corpus).")
    ] = False

    @field_validator("signals")
    @classmethod
    def _signals(cls, value: dict[str, str]) -> dict[str, str]:
        for name, globs in value.items():
            _parse(f"{name}={globs}", "signal")
        return value

    @field_validator("baseline")
    @classmethod
    def _baseline(cls, value: str | None) -> str | None:
        if value is not None:
            _parse(value, "baseline")
        return value

    @field_validator("compare", mode="before")
    @classmethod
    def _compare_pairs(cls, value: object) -> object:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        return tuple(_pair(item) if isinstance(item, str) else item for item in items)

    @field_validator("compare")
    @classmethod
    def _compare(
        cls, value: tuple[tuple[str, str], ...], info: ValidationInfo
    ) -> tuple[tuple[str, str], ...]:
        known = list(info.data.get("signals") or {})
        base = info.data.get("baseline")
        if known and base:
            known.append(_parse(base, "baseline").name)
        for a, b in value:
            if a == b:
                msg = f"{a},{b}: compares {a!r} with itself; name two different signals"
                raise ValueError(msg)
            unknown = [name for name in (a, b) if known and name not in known]
            if unknown:
                msg = (
                    f"{a},{b}: no signal named {unknown[0]!r} (signals: {', '.join(sorted(known))})"
                )
                raise ValueError(msg)
        return value

    @property
    def signal_specs(self) -> tuple[SignalSpec, ...]:
        """The named signals, parsed."""
        return tuple(SignalSpec.parse(f"{n}={g}") for n, g in self.signals.items())

    @property
    def baseline_spec(self) -> SignalSpec | None:
        """The baseline, parsed."""
        return SignalSpec.parse(self.baseline, "--baseline") if self.baseline else None


def _parse(text: str, what: str) -> SignalSpec:
    try:
        return SignalSpec.parse(text, what)
    except UsageError as exc:
        raise ValueError(str(exc)) from None


def _pair(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(","))
    if len(names) != 2 or not all(names):
        msg = f"{text!r}: expected two signal names as A,B"
        raise ValueError(msg)
    return names


def build_options(**fields: object) -> AuditOptions:
    """Validate ``fields`` into :class:`AuditOptions`; problems raise one :class:`UsageError`."""
    return build(AuditOptions, fields, what="audit options")
