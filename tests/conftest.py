"""Shared test settings: hypothesis runs without a per-example deadline.

The suite runs in parallel (pytest-xdist) on small machines, where a busy core can make one example
of a property test take several times its usual few milliseconds; a deadline would turn that into a
failure that says nothing about the code. Speed is measured in benchmarks/, not in tests.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("second-opinion", deadline=None)
settings.load_profile("second-opinion")
