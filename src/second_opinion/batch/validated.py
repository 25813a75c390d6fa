"""What ``validate`` reports of a valid manifest, in any dialect: :class:`ValidationReport`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ValidationReport:
    """A valid manifest: where it writes and what each job reads."""

    manifest: str
    output_dir: str
    jobs: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "manifest": self.manifest,
            "output_dir": self.output_dir,
            "valid": True,
            "jobs": list(self.jobs),
        }
