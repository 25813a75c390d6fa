"""The ``second-opinion`` command line: one module per command, each thin over the library.

:mod:`~second_opinion.cli.main` holds the typer app and :func:`~second_opinion.cli.main.main`,
the one place that turns errors into a message and an exit code.
"""
