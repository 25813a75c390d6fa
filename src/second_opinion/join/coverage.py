"""The coverage report: what matched, what did not, and why (data, not rendering)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class UnmatchedKey:
    """A key with no partner on the other side, and the closest key that side has."""

    key: tuple[str, ...]
    closest: tuple[str, ...] | None


@dataclass(frozen=True)
class Coverage:
    """How one sidecar matched the base table.

    ``matched + missing == base_rows``; ``coverage == matched / base_rows``. Counts are of keys
    after normalisation; ``sidecar_rows`` counts rows as read (frames, for per-frame sidecars).
    """

    scorer: str
    path: str
    base_rows: int
    sidecar_rows: int
    sidecar_keys: int
    matched: int
    missing: int
    extra: int
    duplicate_keys: int
    nulls: dict[str, int]
    non_finite: dict[str, int]
    coverage: float
    unmatched_base: tuple[UnmatchedKey, ...] = field(default=())
    unmatched_sidecar: tuple[UnmatchedKey, ...] = field(default=())
    per_frame: bool = False
    higher_is_better: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with a fixed key order."""
        data = asdict(self)
        for side in ("unmatched_base", "unmatched_sidecar"):
            data[side] = [
                {"key": list(item.key), "closest": list(item.closest) if item.closest else None}
                for item in getattr(self, side)
            ]
        return data


def coverage_failures(reports: tuple[Coverage, ...], minimums: dict[str, float]) -> list[str]:
    """One line per sidecar whose coverage is below its minimum."""
    return [
        f"{r.scorer}: coverage {r.coverage:.4f} ({r.matched}/{r.base_rows}) is below the "
        f"minimum {minimums[r.scorer]:g}"
        for r in reports
        if r.coverage < minimums.get(r.scorer, 0.0)
    ]
