"""Fixtures of the batch tests: the smoke scaffold, copied fresh, and after one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._scaffold import JOBS, Scaffold, outcome


@pytest.fixture
def scaffold(tmp_path: Path) -> Scaffold:
    return Scaffold.copy_into(tmp_path)


@pytest.fixture
def ran(scaffold: Scaffold) -> Scaffold:
    """The scaffold after one successful run of both jobs."""
    result = scaffold.run()
    assert outcome(result) == dict.fromkeys(JOBS, ("built", "new")), result
    return scaffold
