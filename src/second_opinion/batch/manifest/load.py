"""Batch manifests: many jobs in one JSON (or YAML) file, validated before anything runs.

Loading happens in three steps, and every problem of a step is reported at once, each with its
location (``jobs[1].sidecars[0].path: no such file: …``):

1. parse the file (JSON or YAML) and check it against the schema (``manifest_file``; unknown
   fields are errors with a "did you mean" suggestion);
2. expand ``~`` and ``${VAR}`` / ``${VAR:-default}`` in paths, and resolve relative paths: inputs
   against the manifest's folder, outputs against ``output_dir``;
3. check meaning: unique job names and outputs, inputs that exist (or that another job writes:
   a dependency), no output over an input that this tool did not write, no cycle of jobs.

The result is a :class:`Manifest` of jobs (``second_opinion.batch.manifest.jobs``): join jobs
holding the :class:`JoinSpec` the joiner runs, and saliency jobs holding a ``SaliencySpec``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from second_opinion.audit.options import AuditOptions
from second_opinion.batch.dependencies import find_cycle, job_dependencies
from second_opinion.batch.manifest.checks import check_jobs, raise_problems
from second_opinion.batch.manifest.document import Document, kind_of, read_document
from second_opinion.batch.manifest.jobs import AnyJob, AuditPlan, Job, Manifest, SaliencyJob
from second_opinion.batch.manifest.models import (
    AuditSection,
    Defaults,
    IngestEntry,
    JobEntry,
    ManifestFile,
    SidecarEntry,
)
from second_opinion.errors import InputError, SecondOpinionError
from second_opinion.ingest.options import IngestOptions
from second_opinion.join.options import OPTION_FIELDS
from second_opinion.join.spec import JoinSpec, SidecarSpec, join_spec_problems
from second_opinion.join.spelling import MANIFEST
from second_opinion.paths import resolved
from second_opinion.saliency.clips import read_clips
from second_opinion.saliency.spec import SaliencySpec
from second_opinion.validation import Loc, Wording, location, validation_problems

_M = TypeVar("_M", bound=BaseModel)
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _schema_problems(
    exc: ValidationError, prefix: Loc = (), document: Document | None = None
) -> list[str]:
    """The problems of ``exc`` said the way a manifest's author wrote them (at ``prefix`` in the
    manifest): odd field names quoted, long numbers shortened, lists called lists, and, in YAML,
    the text YAML read as something other than a string (``yes``)."""
    explain = document.explain if document is not None else None
    wording = Wording(document=True, explain=explain)
    return validation_problems(exc, schema=ManifestFile, prefix=prefix, wording=wording)


def _expand(text: str, where: str, problems: list[str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                problems.append(
                    f"{where}: environment variable {name} is not set "
                    f"(set it, or write ${{{name}:-default}})"
                )
                return match.group(0)
            return default
        return value

    return _ENV.sub(substitute, text)


def _resolve(
    text: str, base: Path, where: str, problems: list[str], output_dir: Path | None = None
) -> Path:
    """A path as written in the manifest: variables expanded, ``~`` at the start expanded,
    relative to ``base``; with ``output_dir``, ``${output_dir}`` is that folder, put in after the
    expansion (so nothing in the folder's own name is expanded again)."""
    if "\x00" in text:
        problems.append(f"{where}: the path holds a NUL character ({text!r}); remove it")
        text = text.replace("\x00", "")
    parts = text.split(OUTPUT_DIR_VARIABLE) if output_dir is not None else [text]
    expanded = [_expand(part, where, problems) for part in parts]
    if expanded[0].startswith("~"):
        expanded[0] = str(Path(expanded[0]).expanduser())
    path = Path(str(output_dir).join(expanded))
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


OUTPUT_DIR_VARIABLE = "${output_dir}"
"""In an input path, the manifest's output folder (after ``--out-dir``): where another job's
output is, e.g. a saliency job's output named as a join job's sidecar."""


def _input(text: str, folder: Path, output_dir: Path, where: str, problems: list[str]) -> Path:
    """An input path: resolved like any path, ``${output_dir}`` naming the output folder."""
    return _resolve(text, folder, where, problems, output_dir)


def _merge(
    defaults: Defaults, entry: SidecarEntry, path: Path, keys_from: Path | None
) -> dict[str, Any]:
    """Sidecar options: the entry's own where set, else the defaults' where set."""
    merged: dict[str, Any] = {"scorer": entry.scorer, "path": path, "variable": entry.variable}
    if entry.align is not None:
        merged["align"] = {"keys_from": keys_from, "column": entry.align.column}
    for field in OPTION_FIELDS:
        if field in entry.model_fields_set:
            merged[field] = getattr(entry, field)
        elif field in defaults.model_fields_set:
            merged[field] = getattr(defaults, field)
    return merged


def load_manifest(
    path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    allow_outside_output_dir: bool = False,
) -> Manifest:
    """Load and validate a manifest; raise one :class:`InputError` listing every problem.

    Outputs (and the audit's report folder) must lie inside ``output_dir`` — after resolving
    ``..`` and symlinks — unless ``allow_outside_output_dir``: a manifest from elsewhere cannot
    make the tool write over files outside the folder it was given.
    """
    path = Path(path).absolute()
    document = read_document(path)
    data = document.data
    if not isinstance(data, dict):
        what = kind_of(data)
        msg = f"{path}: a manifest is a mapping with version, output_dir and jobs, not {what}"
        raise InputError(msg)
    problems: list[str] = []
    try:
        manifest = ManifestFile.model_validate(data)
        defaults = manifest.defaults
        output_text: str | None = manifest.output_dir
        entries = list(enumerate(manifest.jobs))
    except ValidationError as exc:
        # Keep going with the parts that are valid, so every problem is reported in one go.
        problems.extend(_schema_problems(exc, document=document))
        defaults = _partial_defaults(data.get("defaults", {}))
        output_text = data.get("output_dir") if isinstance(data.get("output_dir"), str) else None
        raw_jobs = data.get("jobs")
        raw_jobs = raw_jobs if isinstance(raw_jobs, list) else []
        entries = [(i, e) for i, raw in enumerate(raw_jobs) if (e := _valid(JobEntry, raw))]
    folder = path.parent
    if out_dir is not None:
        output_dir = Path(os.path.normpath(Path(out_dir).expanduser().absolute()))
    else:
        output_dir = _resolve(output_text or ".", folder, "output_dir", problems)
    jobs: list[AnyJob] = []
    for index, entry in entries:
        job = _resolve_job(defaults, entry, index, folder, output_dir, problems)
        if job is not None:
            jobs.append(job)
    check_jobs(path, data.get("jobs"), jobs, problems)
    cycle = find_cycle(job_dependencies(jobs))
    if cycle:
        problems.append(
            f"jobs: the jobs form a cycle, each reading the next one's output: {' -> '.join(cycle)}"
        )
    audit = _resolve_audit(data.get("audit"), jobs, output_dir, problems)
    if not allow_outside_output_dir:
        written = [(f"jobs[{job.index}].output", job.output) for job in jobs]
        written += [("audit.out", audit.out)] if audit is not None else []
        problems.extend(
            f"{where}: {target} is outside output_dir {output_dir} (through '..', an absolute "
            "path or a symlink); write inside it, or pass --allow-outside-output-dir"
            for where, target in written
            if _outside(target, output_dir)
        )
    raise_problems(path, problems)
    if not allow_outside_output_dir:  # and so they stay when written (ADR 0018)
        jobs = [dataclasses.replace(job, root=output_dir) for job in jobs]
        audit = dataclasses.replace(audit, root=output_dir) if audit is not None else None
    return Manifest(path=path, output_dir=output_dir, jobs=tuple(jobs), audit=audit)


def _outside(target: Path, folder: Path) -> bool:
    """Whether ``target`` lies outside ``folder`` once ``..`` and symlinks are resolved."""
    root, real = resolved(folder), resolved(target)
    return real != root and root not in real.parents


def _resolve_audit(
    raw: object, jobs: list[AnyJob], output_dir: Path, problems: list[str]
) -> AuditPlan | None:
    if raw is None:
        return None
    section = _valid(AuditSection, raw)
    if section is None:  # its problems were reported with the rest of the schema
        return None
    names = [job.name for job in jobs]
    tables = section.tables if section.tables is not None else names
    for index, name in enumerate(tables):
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (jobs: {', '.join(names)})"
            problems.append(f"audit.tables[{index}]: no job named {name!r}{hint}")
    out = _resolve(section.out, output_dir, "audit.out", problems)
    for job in jobs:
        if resolved(job.output) == resolved(out):
            problems.append(f"audit.out: {out} is the output of job {job.name!r}; pick a folder")
    fields = section.model_dump(exclude={"tables", "out"}, exclude_unset=True)
    options = AuditOptions.model_validate(fields)
    return AuditPlan(tuple(tables), out, options, jobs_set="jobs" in section.model_fields_set)


def _partial_defaults(data: object) -> Defaults:
    """The defaults that are valid, leaving out the fields already reported as problems."""
    if not isinstance(data, dict):
        return Defaults()
    fields = {k: v for k, v in data.items() if k in Defaults.model_fields}
    for name in list(fields):
        if _valid(Defaults, {name: fields[name]}) is None:
            del fields[name]
    return _valid(Defaults, fields) or Defaults()


def _valid(model: type[_M], data: object) -> _M | None:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _resolve_job(
    defaults: Defaults,
    entry: JobEntry,
    index: int,
    folder: Path,
    output_dir: Path,
    problems: list[str],
) -> AnyJob | None:
    at = f"jobs[{index}]"
    count = len(problems)
    if entry.kind == "saliency":
        return _resolve_saliency(entry, index, folder, output_dir, problems)
    if entry.sidecars is None:
        problems.append(f"{at}.sidecars: required field is missing")
        return None
    ingest = None
    if entry.ingest is not None:
        features = _input(
            entry.ingest.metadata, folder, output_dir, f"{at}.ingest.metadata", problems
        )
        ingest = _ingest_options(entry.ingest, features, index, problems)
    else:
        features = _input(entry.features or "", folder, output_dir, f"{at}.features", problems)
    key = entry.key if entry.key is not None else defaults.key
    if key is None and ingest is not None:
        key = ["clip_id"]  # the canonical corpus table's key
    if not key:
        problems.append(f"{at}.key: no key columns (set 'key' on the job or in defaults)")
    sidecars = []
    for j, sidecar in enumerate(entry.sidecars):
        where = f"{at}.sidecars[{j}]"
        sidecar_path = _input(sidecar.path, folder, output_dir, f"{where}.path", problems)
        keys_from = (
            _input(
                str(sidecar.align.keys_from),
                folder,
                output_dir,
                f"{where}.align.keys_from",
                problems,
            )
            if sidecar.align is not None
            else None
        )
        merged = _merge(defaults, sidecar, sidecar_path, keys_from)
        try:
            sidecars.append(SidecarSpec.model_validate(merged, context={"spelling": MANIFEST}))
        except ValidationError as exc:
            problems.extend(_schema_problems(exc, ("jobs", index, "sidecars", j)))
    output = _resolve(entry.output, output_dir, f"{at}.output", problems)
    if len(problems) > count or not key:
        return None
    for loc, message in join_spec_problems(key, sidecars, MANIFEST):
        problems.append(f"{location(('jobs', index, *loc))}: {message}")
    if len(problems) > count:
        return None
    try:
        fields = {"features": features, "key": tuple(key), "sidecars": tuple(sidecars)}
        spec = JoinSpec.model_validate(fields, context={"spelling": MANIFEST})
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, ("jobs", index)))
        return None
    return Job(entry.name, index, spec, output, entry.description, ingest)


def _resolve_saliency(
    entry: JobEntry, index: int, folder: Path, output_dir: Path, problems: list[str]
) -> SaliencyJob | None:
    at = f"jobs[{index}]"
    count = len(problems)
    clips = _input(entry.clips or "", folder, output_dir, f"{at}.clips", problems)
    model = _resolve(entry.model, folder, f"{at}.model", problems) if entry.model else None
    maps = None
    if entry.maps is not None:
        text = _expand(entry.maps, f"{at}.maps", problems)
        maps = str(Path(text) if Path(text).is_absolute() else folder / text)
    output = _resolve(entry.output, output_dir, f"{at}.output", problems)
    fields = {
        "clips": clips,
        "model": model,
        "maps": maps,
        "frame_step": entry.frame_step,
        "block": entry.block,
        "on_bad_clip": entry.on_bad_clip,
    }
    try:
        spec = SaliencySpec.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, ("jobs", index)))
        return None
    if len(problems) > count:
        return None
    files: list[tuple[str, str | None, Path]] = []
    if clips.is_file():
        try:
            for clip in read_clips(clips):
                files.append(("clip", clip.clip_id, clip.path))
                if spec.maps is not None:
                    files.append(("map", clip.clip_id, spec.map_path(clip.clip_id)))
        except SecondOpinionError as exc:
            problems.append(f"{at}.clips: {exc.message}")
            return None
    return SaliencyJob(entry.name, index, spec, output, entry.description, tuple(files))


def _ingest_options(
    entry: IngestEntry, metadata: Path, index: int, problems: list[str]
) -> IngestOptions | None:
    fields = entry.model_dump(exclude={"metadata"}, exclude_unset=True)
    # ``output`` is where the worker writes the canonical table; a placeholder until then.
    fields |= {"metadata": metadata, "output": metadata.with_name("canonical.parquet")}
    try:
        return IngestOptions.model_validate(fields)
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, ("jobs", index, "ingest")))
        return None
