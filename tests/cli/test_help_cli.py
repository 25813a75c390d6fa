"""Every command's ``--help``: plain flags show no value type, options that take a value do."""

from __future__ import annotations

import re

import pytest

from tests.cli._run import run_cli as run

COMMANDS = (
    "join",
    "batch",
    "status",
    "validate",
    "schema",
    "inspect",
    "smoke",
    "audit",
    "ingest",
    "migrate",
)


def _row(help_text: str, flag: str) -> str:
    rows = [line for line in help_text.splitlines() if re.search(rf"\s{re.escape(flag)}\s", line)]
    assert rows, f"{flag} is not in the help:\n{help_text}"
    return rows[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_type_for_plain_flags(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout, result.stdout
    assert "<" not in _row(result.stdout, "--help").split("--help", 1)[1]


def test_help_keeps_the_type_of_options_that_take_a_value() -> None:
    result = run("audit", "--help")
    assert result.returncode == 0, result.stderr
    assert "<int>" in _row(result.stdout, "--splits")
    assert "<path>" in _row(result.stdout, "--out")
    assert "--no-plots" in _row(result.stdout, "--plots")
    json_row = _row(result.stdout, "--json")
    assert "<" not in json_row.split("--json", 1)[1], json_row


def test_root_help_shows_no_type_for_version() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout
    assert "Print the version." in _row(result.stdout, "--version")
