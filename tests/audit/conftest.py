"""Fixtures of the audit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._audit_data import run_tiny_batch


@pytest.fixture(scope="module")
def batch_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A table written by a real batch run, with its provenance record beside it."""
    return run_tiny_batch(tmp_path_factory.mktemp("batch"))
