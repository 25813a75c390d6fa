"""``second-opinion migrate``: an original materializer's manifest as a native one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from second_opinion.cli.render import err_console


def migrate_command(
    manifest: Annotated[Path, typer.Argument(help="The original manifest (tables, no version).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the native manifest here (.yaml or .json)."),
    ] = None,
    base_dir: Annotated[
        Path | None,
        typer.Option(help="The folder the manifest's relative paths are below (default: its own)."),
    ] = None,
) -> None:
    """Write the native manifest (version 1) equivalent to an original one; print it without -o.

    Running either produces the same tables. What the native manifest has no field for
    (audit_json, overwrite) is said on stderr. Exit status: 0 written; 2 invalid manifest.
    """
    from second_opinion.batch.original.migrate import migrate_manifest  # noqa: PLC0415

    migration = migrate_manifest(manifest, base_dir=base_dir, target=output)
    if output is None:
        typer.echo(migration.text(), nl=False)
    else:
        migration.write(output)
        err_console.print(f"wrote {output}", markup=False, highlight=False)
    for note in migration.notes:
        err_console.print(f"note: {note}", markup=False, highlight=False)
