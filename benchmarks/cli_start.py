"""Time the CLI's start: ``--help``, a command's ``--help`` and a usage error, against the floor.

    python benchmarks/cli_start.py [--repeat 20]

Each command runs ``--repeat`` times as a fresh process (the installed ``second-opinion`` of this
interpreter's environment); the minimum and median wall times are printed next to the floor, a
bare ``python -c "import typer"`` (typer, click and rich load for any help text, and typer loads
pydantic for a command's). The target (issue 16): every line under 0.3 s on an idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _measure import wait_until_idle

SO = str(Path(sys.executable).with_name("second-opinion"))
COMMANDS = {
    'python -c "import typer, pydantic" (floor)': [sys.executable, "-c", "import typer, pydantic"],
    "second-opinion --help": [SO, "--help"],
    "second-opinion join --help": [SO, "join", "--help"],
    "second-opinion audit --help": [SO, "audit", "--help"],
    "second-opinion batch (usage error)": [SO, "batch"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    wait_until_idle()
    print(f"{'command':<48} {'min':>7} {'median':>7}")
    for label, command in COMMANDS.items():
        times = [_timed(command) for _ in range(args.repeat)]
        print(f"{label:<48} {min(times):>6.3f}s {statistics.median(times):>6.3f}s")


def _timed(command: list[str]) -> float:
    """Wall time of one run (a usage error exits 2: that is what is measured)."""
    clock = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False)
    return time.perf_counter() - clock


if __name__ == "__main__":
    main()
