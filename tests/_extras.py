"""Making optional extras look uninstalled: in this process (a test's monkeypatch) or in a child
Python (a ``sys.meta_path`` finder installed before second_opinion is imported)."""

from __future__ import annotations

import sys

import pytest

EXTRA_MODULES = ("h5py", "matplotlib", "onnxruntime", "ray")
"""The top-level modules of the optional extras (mat73, plots, saliency, ray)."""


def hide_modules(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make ``import NAME`` and ``import NAME.sub`` raise ImportError until the test ends, even
    when another test of this process imported them already."""
    for name in names:
        loaded = [m for m in sys.modules if m == name or m.startswith(f"{name}.")]
        for module in [name, *loaded]:
            monkeypatch.setitem(sys.modules, module, None)


BLOCKER = f"""
import sys

EXTRA_MODULES = {EXTRA_MODULES!r}

class _Uninstalled:
    '''Every import of an optional extra's module fails, as if it were not installed.'''

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in EXTRA_MODULES:
            raise ImportError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Uninstalled())
"""
"""Python source to run first in a child process: the extras' modules become unimportable (a
script that follows it may use ``EXTRA_MODULES``)."""
