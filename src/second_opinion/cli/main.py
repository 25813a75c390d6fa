"""The ``second-opinion`` command line: the app, its commands, and the one exit-code map.

Each command parses its options, calls one library function and renders the result. Errors are
turned into a message on stderr and an exit code in :func:`main`, the one place that does so.
A run loads only the module of the command it runs (:mod:`~second_opinion.cli.commands` lists
the others' names and help for ``--help``); :data:`app`, the whole app, is built on first use.
"""

from __future__ import annotations

import gc
import importlib
import sys
import traceback
from collections.abc import Collection, Sequence
from typing import Annotated

import typer
from typer.core import TyperOption

from second_opinion._version import __version__
from second_opinion.cli.commands import COMMANDS, invoked
from second_opinion.cli.options import with_omitted_values
from second_opinion.cli.render import print_line
from second_opinion.errors import SecondOpinionError, exit_code_for

_option_type = TyperOption.display_type_rich


def _flag_type(self: TyperOption, ctx: typer.Context) -> str | None:
    """No type for a plain flag in rich help: it takes no value (typer shows ``<bool>`` there)."""
    return None if self.is_flag and not self.count else _option_type(self, ctx)


TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign, assignment]

HELP = "Join second-opinion scores onto video-quality corpora, in batches, and audit the mix."


def _version(value: bool) -> None:
    if value:
        typer.echo(f"second-opinion {__version__}")
        raise typer.Exit


def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Join second-opinion scores onto video-quality corpora, in batches, and audit the mix."""


def _not_loaded() -> None:  # pragma: no cover - main() loads the command it runs
    """A command listed by name and help only."""
    msg = "a command was run without being loaded"
    raise AssertionError(msg)


def build_app(loaded: Collection[str] | None = None) -> typer.Typer:
    """The app with the commands named in ``loaded`` (None: every command) loaded from their
    modules; the others are listed by name and help only."""
    built = typer.Typer(
        name="second-opinion",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    built.callback()(_root)
    for command in COMMANDS:
        if loaded is None or command.name in loaded:
            module = importlib.import_module(f"second_opinion.cli.{command.module}")
            built.command(command.name)(getattr(module, command.function))
        else:
            built.command(command.name, help=command.help)(_not_loaded)
    return built


def __getattr__(name: str) -> typer.Typer:
    """``app``: the whole app, every command loaded (for tests and documentation)."""
    if name == "app":
        whole = build_app()
        globals()["app"] = whole
        return whole
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def _out_of_memory(exc: Exception) -> SecondOpinionError | None:
    """DuckDB out of memory, as an error naming the limit (None for any other error; DuckDB is
    loaded here only if a command loaded it, so no other error can be one)."""
    if "duckdb" not in sys.modules:
        return None
    from second_opinion.tables.formats import out_of_memory  # noqa: PLC0415

    return out_of_memory(None, exc)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI and exit with the code the outcome maps to (see ``errors.py``).

    Usage errors are reported by typer (exit 2); every :class:`SecondOpinionError` is reported here.
    """
    try:
        args = with_omitted_values(sys.argv[1:] if argv is None else argv)
        command = invoked(args)
        run = build_app([command.name] if command is not None else [])
        run(args=args, prog_name="second-opinion")
    except SecondOpinionError as exc:
        print_line(f"error: {exc.message}", err=True)
        sys.exit(exit_code_for(exc))
    except Exception as exc:  # noqa: BLE001 - the one place that turns a crash into exit 3
        if (exhausted := _out_of_memory(exc)) is not None:  # a limit, not a bug
            print_line(f"error: {exhausted.message}", err=True)
            sys.exit(exit_code_for(exhausted))
        trace = "".join(traceback.format_exception(exc))
        print_line(trace.rstrip("\n"), err=True)
        print_line(
            f"internal error: {type(exc).__name__}: {exc}; this is a bug in second-opinion, "
            "please report it with the traceback above",
            err=True,
        )
        sys.exit(exit_code_for(exc))


def entry() -> None:
    """The ``second-opinion`` console script: :func:`main` on the process's arguments.

    When the command has ended, every object it made is frozen out of the garbage collector:
    the interpreter's last collections at exit would traverse them all (30–50 ms after a
    join, more than a tenth of a small one) only for the process to end. Exit handlers still
    run; every resource the command opened was closed by the command.
    """
    try:
        main()
    finally:
        gc.freeze()
