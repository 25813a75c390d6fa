"""``second-opinion validate`` and ``second-opinion schema``: manifests without running them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from second_opinion.cli.options import ALLOW_OUTSIDE_HELP
from second_opinion.cli.render import console, print_json
from second_opinion.errors import InputError


def validate_command(
    manifest: Annotated[Path, typer.Argument(help="The manifest (.json, .yaml).")],
    out_dir: Annotated[
        Path | None, typer.Option(help="Check as if outputs went here instead of output_dir.")
    ] = None,
    allow_outside_output_dir: Annotated[bool, typer.Option(help=ALLOW_OUTSIDE_HELP)] = False,
    base_dir: Annotated[
        Path | None,
        typer.Option(help="Original manifests: the folder relative paths are below."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check a manifest: schema, inputs exist, key/frame/score columns exist. Runs nothing.

    An original materializer's or saliency runner's manifest (tables, no version) is checked in
    its own terms (docs/migrating.md).

    Exit status: 0 valid; 2 invalid (every problem is listed with its location).
    """
    from second_opinion.batch.validate import validate_manifest  # noqa: PLC0415 - on use

    try:
        report = validate_manifest(
            manifest,
            out_dir=out_dir,
            allow_outside_output_dir=allow_outside_output_dir,
            base_dir=base_dir,
        )
    except InputError as exc:
        if as_json:
            print_json({"manifest": str(manifest), "valid": False, "error": exc.message})
        raise
    if as_json:
        print_json(report.to_dict())
        return
    console.print(
        f"{report.manifest}: valid, {len(report.jobs)} job(s), outputs in {report.output_dir}",
        markup=False,
    )


def schema_command() -> None:
    """Print the JSON Schema of batch manifests (version 1)."""
    from second_opinion.batch.manifest.models import manifest_schema  # noqa: PLC0415 - only this command

    print_json(manifest_schema())
