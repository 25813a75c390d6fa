"""Where the tests find the repository and the real data (``../shared/real`` beside the checkout,
or ``$SECOND_OPINION_DATA``); tests that need the real data skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root folder."""

REAL = Path(os.environ.get("SECOND_OPINION_DATA", ROOT.parent / "shared" / "real"))
"""The real public data (docs/real-data.md)."""

KONVID = REAL / "konvid-1k"
"""KoNViD-1k's metadata and three real scorer outputs."""
