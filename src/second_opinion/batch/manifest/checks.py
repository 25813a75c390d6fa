"""Checks of a manifest's resolved jobs, and the one error that lists every problem.

Once ``second_opinion.batch.manifest.load`` has resolved the jobs, :func:`check_jobs` checks
what no single job can: names and outputs that repeat, outputs over inputs, inputs that exist (or
that another job writes). :func:`raise_problems` raises one :class:`InputError` listing them all.
"""

from __future__ import annotations

import os
from pathlib import Path

from second_opinion.batch.manifest.jobs import AnyJob, SaliencyJob
from second_opinion.errors import InputError, SecondOpinionError
from second_opinion.paths import not_a_file, not_a_folder, resolved
from second_opinion.provenance import provenance_path
from second_opinion.tables.writing import output_format


def _path_text(path: Path) -> str:
    """A path for a message; quoted when it would hide something (whitespace at either end of a
    name, an unprintable character), with what is odd about it."""
    text = str(path)
    padded = any(part != part.strip() for part in path.parts)
    if text.isprintable() and not padded:
        return text
    if not path.name.strip():
        return f"{text!r} (the file name is blank)"
    return f"{text!r} (a name in it starts or ends with whitespace)" if padded else repr(text)


def check_jobs(
    manifest_path: Path, raw_jobs: object, jobs: list[AnyJob], problems: list[str]
) -> None:
    """Add the problems of the resolved ``jobs`` to ``problems``: job names and outputs that
    repeat, an output that is the manifest, a folder, an unwritable format or another job's
    input, and inputs that no job writes and that are missing or unreadable."""
    names: dict[str, int] = {}
    outputs: dict[Path, int] = {}
    for index, raw in enumerate(raw_jobs if isinstance(raw_jobs, list) else []):
        name = raw.get("name") if isinstance(raw, dict) else None
        if not isinstance(name, str):
            continue
        if name in names:
            problems.append(
                f"jobs[{index}].name: {name!r} is also the name of "
                f"jobs[{names[name]}]; job names must be unique"
            )
        names.setdefault(name, index)
    produced = {resolved(job.output) for job in jobs}
    all_inputs: dict[Path, tuple[AnyJob, str]] = {}
    for job in jobs:
        for role, _, path in job.inputs:
            all_inputs.setdefault(resolved(path), (job, role))
    for job in jobs:
        at = f"jobs[{job.index}]"
        real = resolved(job.output)
        if real in outputs:
            problems.append(
                f"{at}.output: {job.output} is also the output of jobs[{outputs[real]}]; "
                "give each job its own output"
            )
        outputs.setdefault(real, job.index)
        if real == resolved(manifest_path):
            problems.append(f"{at}.output: {job.output} is the manifest itself")
        elif job.output.is_dir():
            problems.append(f"{at}.output: {job.output} is a folder; name a file")
        elif (folder := not_a_folder(job.output.parent)) not in (None, "does not exist"):
            problems.append(f"{at}.output: the folder {job.output.parent} {folder}")
        elif (odd := not_a_file(job.output)) not in (None, "no such file"):
            problems.append(f"{at}.output: {job.output} {odd}")
        else:
            try:
                output_format(job.output)
            except SecondOpinionError as exc:
                problems.append(f"{at}.output: {exc.message}")
        own = {resolved(path): role for role, _, path in job.inputs}
        reader = (job, own[real]) if real in own else all_inputs.get(real)
        # Another job may read this output (it then runs after this job) unless the file is
        # someone's data already: an existing file this tool did not write is never overwritten.
        foreign = job.output.is_file() and not provenance_path(job.output).exists()
        if reader is not None and (reader[0] is job or foreign):
            other, role = reader
            problems.append(
                f"{at}.output: {job.output} is also an input ({role} of jobs[{other.index}]); "
                "write the output elsewhere"
            )
        for role, scorer, path in job.inputs:
            where = _input_location(job, role, scorer)
            if resolved(path) in produced:
                continue  # another job's output: it runs first (see job_dependencies)
            problem = not_a_file(path)
            if problem == "no such file":
                problems.append(f"{where}: no such file: {_path_text(path)}")
            elif problem == "is a directory, not a file":
                problems.append(f"{where}: not a file: {_path_text(path)}")
            elif problem is not None:
                problems.append(f"{where}: {_path_text(path)} {problem}")
            elif not os.access(path, os.R_OK):
                problems.append(f"{where}: not readable: {_path_text(path)}")


def _input_location(job: AnyJob, role: str, scorer: str | None) -> str:
    """Where an input of ``job`` is named in the manifest, e.g. ``jobs[0].sidecars[1].path``."""
    at = f"jobs[{job.index}]"
    if isinstance(job, SaliencyJob):
        where = {"clips": "clips", "model": "model", "map": "maps"}.get(role, "clips")
        return f"{at}.{where}" + (f" (clip {scorer!r})" if scorer else "")
    if role == "features":
        return f"{at}.features"
    if role == "metadata":
        return f"{at}.ingest.metadata"
    index = [s.scorer for s in job.spec.sidecars].index(scorer or "")
    return f"{at}.sidecars[{index}]." + ("align.keys_from" if role == "keys" else "path")


def raise_problems(path: Path, problems: list[str]) -> None:
    """Raise one :class:`InputError` listing every problem of the manifest at ``path``."""
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        msg = f"{path}: invalid manifest ({count}):\n  " + "\n  ".join(problems)
        raise InputError(msg)
