"""``second-opinion smoke``: prove the whole path end to end on the bundled scaffold."""

from __future__ import annotations

from typing import Annotated

import typer

from second_opinion.cli.batch import batch_table
from second_opinion.cli.render import console, print_json
from second_opinion.errors import PolicyError


def smoke_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run the smoke scaffold in a fresh temporary folder and compare with its goldens.

    Prints PASS, or FAIL with the first difference. Exit status: 0 pass; 1 fail.
    """
    from second_opinion.smoke import run_smoke  # noqa: PLC0415 - only this command

    result = run_smoke()
    if as_json:
        print_json(result.to_dict())
    else:
        console.print(batch_table(result.batch))
        console.print("PASS" if result.passed else f"FAIL: {result.difference}", markup=False)
    if not result.passed:
        msg = f"smoke scaffold failed: {result.difference}"
        raise PolicyError(msg)
