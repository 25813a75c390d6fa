"""``second-opinion smoke``: prove the whole path end to end on the bundled scaffold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from second_opinion.cli.batch import batch_table
from second_opinion.cli.render import console, print_json
from second_opinion.errors import PolicyError


def smoke_command(
    only: Annotated[
        list[str] | None,
        typer.Option(metavar="SCAFFOLD", help="Run only this scaffold (join, saliency); repeat."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run the smoke scaffolds (join; saliency) in fresh temporary folders, compare with goldens.

    Prints PASS, or FAIL with the first difference, per scaffold. Exit status: 0 pass; 1 fail.
    """
    from second_opinion.batch.smoke import run_smokes  # noqa: PLC0415 - only this command

    results = run_smokes(only or ())
    if as_json:
        print_json(
            {"passed": all(r.passed for r in results), "scaffolds": [r.to_dict() for r in results]}
        )
    else:
        for result in results:
            console.print(batch_table(result.batch))
            verdict = "PASS" if result.passed else f"FAIL: {result.difference}"
            console.print(f"{Path(result.scaffold).name}: {verdict}", markup=False)
    failed = [r for r in results if not r.passed]
    if failed:
        msg = f"smoke scaffold failed: {failed[0].difference}"
        raise PolicyError(msg)
