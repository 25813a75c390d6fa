"""The static command table the CLI lists in ``--help`` without loading every command."""

from __future__ import annotations

import importlib
import inspect

import pytest

from second_opinion.cli.commands import COMMANDS, Command, invoked
from second_opinion.cli.main import app


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_each_help_line_is_the_first_line_of_the_commands_docstring(command: Command) -> None:
    module = importlib.import_module(f"second_opinion.cli.{command.module}")
    doc = inspect.getdoc(getattr(module, command.function)) or ""
    assert doc.splitlines()[0] == command.help


def test_the_table_lists_every_command_of_the_app_in_order() -> None:
    names = [c.name for c in app.registered_commands]
    assert names == [c.name for c in COMMANDS]


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["join", "-f", "x"], "join"),
        (["--version"], None),
        (["--help"], None),
        ([], None),
        (["--", "batch"], "batch"),
        (["nosuch"], None),
        (["validate", "m.json"], "validate"),
    ],
)
def test_the_invoked_command_is_the_first_argument_that_is_not_an_option(
    args: list[str], name: str | None
) -> None:
    found = invoked(args)
    assert (found.name if found else None) == name
