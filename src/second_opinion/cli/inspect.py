"""``second-opinion inspect``: show an output's provenance and whether it still matches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from second_opinion.cli.render import console, print_coverage_dicts, print_json
from second_opinion.errors import PolicyError


def inspect_command(
    output: Annotated[
        Path, typer.Argument(help="An output written by batch, or by join --provenance.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Show an output's provenance record and check the output against it.

    Exit status: 0 the output matches its provenance; 1 it does not (edited, missing, or no
    readable provenance).
    """
    from second_opinion.provenance import inspect_output  # noqa: PLC0415 - DuckDB, on use

    found = inspect_output(output)
    if as_json:
        print_json(found.to_dict())
    elif found.record is not None:
        record = found.record
        run, job, out = record["run"], record["job"], record["output"]
        console.print(f"output      {out['path']}", markup=False)
        console.print(f"rows        {out['rows']} x {len(out['columns'])} columns", markup=False)
        console.print(f"job         {job['name']} (run {run['run_id']})", markup=False)
        console.print(f"ran         {run['started']} -> {run['finished']}", markup=False)
        tool = record["tool"]
        console.print(
            f"tool        {tool['name']} {tool['version']} {tool.get('git_commit') or ''}".rstrip(),
            markup=False,
        )
        for item in record["inputs"]:
            label = item["role"] + (f" {item['scorer']}" if item.get("scorer") else "")
            where = item.get("path") or f"<in-memory {item.get('kind', 'table')}>"
            console.print(f"input       {label}: {where} ({item['sha256'][:12]})", markup=False)
        print_coverage_dicts(record.get("coverage", []))
        for line in (*found.changed_inputs, *found.unchecked_inputs):
            console.print(f"note: {line}", markup=False)
        status = "matches its provenance" if found.matches else "does NOT match its provenance"
        console.print(f"the output {status}", markup=False)
    if not found.matches:
        msg = f"{found.output}: " + "; ".join(found.problems)
        raise PolicyError(msg)
