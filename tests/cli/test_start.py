"""A fast start: the CLI's modules load none of the heavy libraries until a command runs.

``--help`` and usage errors must not wait for DuckDB, pyarrow, NumPy or scikit-learn (~0.3–1 s
of imports); each command loads what it needs when it runs. Timing lives in
benchmarks/cli_start.py; here the rule is checked by what ``sys.modules`` holds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("duckdb", "pyarrow", "numpy", "scipy", "sklearn", "matplotlib", "onnxruntime", "ray")
COMMAND_MODULES = (
    "audit", "batch", "ingest", "inspect", "join", "manifest", "migrate", "report", "smoke",
    "status",
)  # fmt: skip


def _loaded(code: str) -> list[str]:
    listing = f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    probe = f"{code}\nimport sys, json\n{listing}"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("command", COMMAND_MODULES)
def test_a_command_module_loads_no_heavy_library(command: str) -> None:
    assert _loaded(f"import second_opinion.cli.{command}") == []


def test_the_package_and_the_app_load_no_heavy_library() -> None:
    assert _loaded("import second_opinion\nfrom second_opinion.cli.main import app") == []


@pytest.mark.parametrize(
    "args", [["--help"], ["join", "--help"], ["batch", "--no-such-flag"], ["batch"]]
)
def test_help_and_usage_errors_load_no_heavy_library(args: list[str]) -> None:
    code = (
        "import sys, io, contextlib\n"
        f"sys.argv = ['second-opinion', *{args!r}]\n"
        "from second_opinion.cli.main import main\n"
        "quiet = io.StringIO()\n"
        "with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass"
    )
    assert _loaded(code) == []


def test_a_command_still_loads_what_it_needs_when_it_runs() -> None:
    assert "duckdb" in _loaded("import second_opinion\nsecond_opinion.join")


def test_the_report_command_reads_records_without_duckdb(tmp_path: Path) -> None:
    # A batch report reads JSON files: no table engine, no arrays.
    summary = {"run_id": "r1", "manifest": "m.json", "started": "2026-01-01T00:00:00Z",
               "finished": "2026-01-01T00:00:01Z", "ok": True, "jobs": []}  # fmt: skip
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "r1.json").write_text(json.dumps(summary), encoding="utf-8")
    code = (
        "from second_opinion.cli.main import main\n"
        "try:\n"
        f"    main(['report', {str(tmp_path)!r}])\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code"
    )
    assert _loaded(code) == []
    assert (tmp_path / "report.html").is_file()


@pytest.mark.parametrize(
    ("args", "loaded", "absent"),
    [
        (["join", "--help"], "second_opinion.cli.join", "second_opinion.cli.audit"),
        (["report", "--help"], "second_opinion.cli.report", "second_opinion.cli.batch"),
        (["--help"], None, "second_opinion.cli.join"),
    ],
)
def test_a_run_loads_only_the_module_of_its_command(
    args: list[str], loaded: str | None, absent: str
) -> None:
    # The other commands are listed from a static table (second_opinion.cli.commands).
    code = (
        "import sys, io, json, contextlib\n"
        "from second_opinion.cli.main import main\n"
        "quiet = io.StringIO()\n"
        "with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "names = sorted(m for m in sys.modules if m.startswith('second_opinion.cli.'))\n"
        "print(json.dumps(names))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert absent not in modules
    if loaded is not None:
        assert loaded in modules


def test_the_join_path_loads_no_pyarrow_or_numpy_until_a_matrix_or_wrapper_is_met() -> None:
    # DuckDB writes and reads files itself; pyarrow and NumPy are for score matrices, wrapper
    # records and in-memory tables only.
    code = "import second_opinion.cli.join, second_opinion.join.run, second_opinion.join.overlap"
    assert _loaded(code) == ["duckdb"]


def test_the_coverage_modules_load_beside_the_write_not_at_start() -> None:
    # join.run loads coverage, the key diagnosis and provenance when the check runs (beside
    # the write in its thread), so that the write starts sooner.
    code = (
        "import sys, json, second_opinion.join.run\n"
        "names = ('coverage', 'diagnosis', 'closest', 'policies', 'record')\n"
        "print(json.dumps([n for n in names if f'second_opinion.join.{n}' in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize(("args", "code"), [(["--version"], 0), (["join", "--bogus"], 2)])
def test_the_console_script_ends_with_exit_handlers_run_and_output_whole(
    args: list[str], code: int
) -> None:
    """``entry`` freezes the run's objects out of the last collections at exit, and nothing
    else: exit handlers still run after the command's output, and the exit code is kept."""
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran', flush=True))\n"
        f"sys.argv = ['second-opinion', *{args!r}]\n"
        "from second_opinion.cli.main import entry\n"
        "entry()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == code, done.stderr
    assert done.stdout.endswith("exit handler ran\n")
    if code == 0:
        assert done.stdout.startswith("second-opinion ")
    else:
        assert "--bogus" in done.stderr
