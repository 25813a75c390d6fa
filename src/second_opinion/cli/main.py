"""The ``second-opinion`` command line: the app, its commands, and the one exit-code map.

Each command parses its options, calls one library function and renders the result. Errors are
turned into a message on stderr and an exit code in :func:`main`, the one place that does so.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from typing import Annotated

import typer
from typer.core import TyperOption

from second_opinion._version import __version__
from second_opinion.cli.audit import audit_command
from second_opinion.cli.batch import batch_command
from second_opinion.cli.ingest import ingest_command
from second_opinion.cli.inspect import inspect_command
from second_opinion.cli.join import join_command
from second_opinion.cli.manifest import schema_command, validate_command
from second_opinion.cli.migrate import migrate_command
from second_opinion.cli.options import with_omitted_values
from second_opinion.cli.render import err_console
from second_opinion.cli.report import report_command
from second_opinion.cli.smoke import smoke_command
from second_opinion.cli.status import status_command
from second_opinion.errors import SecondOpinionError, exit_code_for

_option_type = TyperOption.display_type_rich


def _flag_type(self: TyperOption, ctx: typer.Context) -> str | None:
    """No type for a plain flag in rich help: it takes no value (typer shows ``<bool>`` there)."""
    return None if self.is_flag and not self.count else _option_type(self, ctx)


TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign, assignment]

app = typer.Typer(
    name="second-opinion",
    help="Join second-opinion scores onto video-quality corpora, in batches, and audit the mix.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"second-opinion {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Join second-opinion scores onto video-quality corpora, in batches, and audit the mix."""


app.command("join")(join_command)
app.command("batch")(batch_command)
app.command("status")(status_command)
app.command("validate")(validate_command)
app.command("schema")(schema_command)
app.command("inspect")(inspect_command)
app.command("smoke")(smoke_command)
app.command("audit")(audit_command)
app.command("ingest")(ingest_command)
app.command("migrate")(migrate_command)
app.command("report")(report_command)


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
        app(args=args, prog_name="second-opinion")
    except SecondOpinionError as exc:
        err_console.print(f"error: {exc.message}", markup=False, highlight=False)
        sys.exit(exit_code_for(exc))
    except Exception as exc:  # noqa: BLE001 - the one place that turns a crash into exit 3
        if (exhausted := _out_of_memory(exc)) is not None:  # a limit, not a bug
            err_console.print(f"error: {exhausted.message}", markup=False, highlight=False)
            sys.exit(exit_code_for(exhausted))
        trace = "".join(traceback.format_exception(exc))
        err_console.print(trace, markup=False, highlight=False)
        err_console.print(
            f"internal error: {type(exc).__name__}: {exc}; this is a bug in second-opinion, "
            "please report it with the traceback above",
            markup=False,
            highlight=False,
        )
        sys.exit(exit_code_for(exc))
