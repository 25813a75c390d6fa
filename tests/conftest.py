"""Shared test settings: hypothesis runs without a per-example deadline.

The suite runs in parallel (pytest-xdist) on small machines, where a busy core can make one example
of a property test take several times its usual few milliseconds; a deadline would turn that into a
failure that says nothing about the code. Speed is measured in benchmarks/, not in tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests._chromium import DevTools, browser_page
from tests._paths import REAL, check_real_data, data_required

settings.register_profile("second-opinion", deadline=None)
settings.load_profile("second-opinion")


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real data folder, or a skip (a failure under SECOND_OPINION_REQUIRE_DATA=1) without it;
    tests ask for it through ``tests._paths.needs_real_data``. Session-wide, so it is checked before
    any module's fixture reads the data."""
    return check_real_data(REAL, required=data_required())


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[DevTools]:
    """A headless Chromium page (``tests/_chromium.py``); a skip where Chromium is missing."""
    with browser_page(tmp_path / "profile") as browser:
        yield browser
