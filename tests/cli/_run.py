"""Running the CLI through its real entry point, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

PYTHON_M = (sys.executable, "-m", "second_opinion")
# rich wraps at 80 columns when stdout is not a terminal; wide output keeps table rows on a line.
ENV = {**os.environ, "COLUMNS": "200"}


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    program: Sequence[str] = PYTHON_M,
) -> subprocess.CompletedProcess[str]:
    """``second-opinion ARGS`` as a subprocess; never raises on a non-zero exit."""
    return subprocess.run(
        [*program, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=dict(env or ENV),
        timeout=120,
    )
