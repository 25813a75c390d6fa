"""Where the tests find the repository and the real data (``../shared/real`` beside the checkout,
or ``$SECOND_OPINION_DATA``), and the one rule for tests that need that data.

A real-data test carries :data:`needs_real_data` (a mark for one test or a module's
``pytestmark``). When the KoNViD-1k files are absent it skips with the reason; under
``SECOND_OPINION_REQUIRE_DATA=1`` (set by ``.ci/run``) it fails instead, naming the folder and the
missing files, so a check against published figures never passes by not running.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root folder."""

REAL = Path(os.environ.get("SECOND_OPINION_DATA", ROOT.parent / "shared" / "real"))
"""The real public data (docs/real-data.md)."""

KONVID = REAL / "konvid-1k"
"""KoNViD-1k's metadata and three real scorer outputs."""

KONVID_FILES: tuple[str, ...] = (
    "KONVID_1K_metadata.csv",
    "KONVID_1K_BRISQUE_feats.mat",
    "KONVID_1K_NIQE_scores.mat",
    "KONVID_1K_VIDEVAL_feats.mat",
)
"""The files of :data:`KONVID` the real-data tests read."""

REQUIRE_DATA = "SECOND_OPINION_REQUIRE_DATA"
"""The environment variable under which absent real data fails the tests instead of skipping."""


def missing_real_data(real: Path) -> str | None:
    """Why the real data under ``real`` cannot be used, or None when it is all there."""
    folder = real / "konvid-1k"
    missing = [name for name in KONVID_FILES if not (folder / name).is_file()]
    if not missing:
        return None
    return (
        f"no real data at {folder} (missing: {', '.join(missing)}); put the files there "
        "(docs/real-data.md) or point SECOND_OPINION_DATA at the folder holding konvid-1k/"
    )


def data_required(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether ``SECOND_OPINION_REQUIRE_DATA`` asks for the real data (any value but '', '0')."""
    return environ.get(REQUIRE_DATA, "") not in ("", "0")


def check_real_data(real: Path, *, required: bool) -> Path:
    """``real`` when its data is all there; else skip the test, or fail it when ``required``."""
    problem = missing_real_data(real)
    if problem is None:
        return real
    if required:
        pytest.fail(f"{problem}; {REQUIRE_DATA}=1 makes this a failure, not a skip", pytrace=False)
    pytest.skip(problem)


needs_real_data = pytest.mark.usefixtures("real_data")
"""Mark a test (or a module, through ``pytestmark``) as reading the real data: the ``real_data``
fixture (tests/conftest.py) runs :func:`check_real_data` on :data:`REAL` before it."""
