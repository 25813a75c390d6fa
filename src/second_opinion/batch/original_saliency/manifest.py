"""Loading the original's saliency batch manifest into native saliency jobs.

The manifest is ``{"defaults": {...}, "tables": [{"id", "input", "output", "audit_json", and any
setting}, ...]}``; paths are relative to the manifest's folder, or to ``base_dir`` when given;
other top-level keys (``_comment``) are ignored, as the original does. Each table becomes one
saliency job (:class:`~second_opinion.batch.manifest.jobs.SaliencyJob`) whose clips table is
the table's ``input`` and whose output is its ``output``; every table must translate, else one
:class:`InputError` lists every problem (field, where, what differs, the fix) and, per refused
table, the native job to write instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from second_opinion.batch.dependencies import find_cycle, job_dependencies
from second_opinion.batch.manifest.checks import check_jobs
from second_opinion.batch.manifest.document import kind_of, read_document
from second_opinion.batch.manifest.jobs import Manifest, SaliencyJob
from second_opinion.batch.manifest.models import JOB_NAME
from second_opinion.batch.original_saliency.clips import check_clips
from second_opinion.batch.original_saliency.config import (
    FIELD_DEFAULTS,
    TABLE_FIELDS,
    OriginalConfig,
    read_config,
    resolve,
    unknown_fields,
)
from second_opinion.batch.original_saliency.translate import (
    DOCS,
    native_job,
    setting_problems,
    snippet,
)
from second_opinion.errors import InputError
from second_opinion.paths import resolved
from second_opinion.saliency.spec import SaliencySpec

_NATIVE_KEYS = ("version", "jobs", "output_dir")
_OTHER_DIALECT = ("features", "scores", "out")
_JOB_AT = re.compile(r"^jobs\[(\d+)\]\.(name|clips|model|output)")
_OTHER_JOB = re.compile(r"\bjobs\[(\d+)\]")
_TABLE_FIELD = {"name": "id", "clips": "input", "model": "model_path", "output": "output"}


@dataclass(frozen=True)
class OriginalTable:
    """One table of the manifest, translated: its original fields and settings, and the job."""

    table_id: str
    index: int
    input: Path
    output: Path
    audit_json: Path | None
    config: OriginalConfig
    job: SaliencyJob

    @property
    def clips(self) -> int:
        """How many clips (rows) the clips table lists."""
        return sum(1 for role, _, _ in self.job.files if role == "clip")


@dataclass(frozen=True)
class OriginalSaliencyManifest:
    """A loaded original saliency manifest: its tables, each with its native job."""

    path: Path
    base_dir: Path
    tables: tuple[OriginalTable, ...]

    def native(self) -> Manifest:
        """The jobs as a loaded native manifest; its output folder (run state, run summaries)
        is ``base_dir``, and each output is where the original manifest names it."""
        jobs = tuple(table.job for table in self.tables)
        return Manifest(path=self.path, output_dir=self.base_dir, jobs=jobs)

    def native_manifest(self) -> dict[str, object]:
        """The native manifest that does the same, to save beside the original (its paths are
        relative to ``base_dir``; outputs outside it need ``--allow-outside-output-dir``)."""
        jobs = [
            native_job(
                name=t.table_id,
                source=t.input,
                config=t.config,
                output=t.output,
                base_dir=self.base_dir,
                frame_step=t.job.spec.frame_step,
            )
            for t in self.tables
        ]
        return {"version": 1, "output_dir": ".", "jobs": jobs}


def is_original_saliency_manifest(data: object) -> bool:
    """Whether ``data`` (a parsed manifest) is the original's saliency batch manifest: a
    ``tables`` list, no native ``version``/``jobs``, and tables (or, with none, defaults) in
    the saliency materializer's terms (``input``/``output``, not the joiner's ``features``)."""
    if not isinstance(data, dict) or any(key in data for key in _NATIVE_KEYS):
        return False
    tables, defaults = data.get("tables"), data.get("defaults")
    if not isinstance(tables, list):
        return False
    entries = [t for t in tables if isinstance(t, dict)]
    if entries:
        return all(
            ("input" in t or "output" in t) and not any(k in t for k in _OTHER_DIALECT)
            for t in entries
        )
    return isinstance(defaults, dict) and any(key in FIELD_DEFAULTS for key in defaults)


def load_original_saliency_manifest(
    path: str | os.PathLike[str], *, base_dir: str | os.PathLike[str] | None = None
) -> OriginalSaliencyManifest:
    """Load the original saliency manifest at ``path`` into saliency jobs; raise one
    :class:`InputError` listing every field that cannot be translated (see the module doc)."""
    path = Path(path).absolute()
    data = read_document(path).data
    if not is_original_saliency_manifest(data):
        what = "a native manifest" if isinstance(data, dict) else kind_of(data)
        msg = (
            f"{path}: not the original's saliency batch manifest (a mapping with a tables list "
            f"of input/output entries) but {what}; run a native manifest with "
            "second-opinion batch"
        )
        raise InputError(msg)
    assert isinstance(data, dict)  # noqa: S101 - is_original_saliency_manifest checked it
    folder = Path(os.path.normpath(Path(base_dir).absolute())) if base_dir else path.parent
    problems: list[str] = []
    defaults = data.get("defaults")
    defaults = {} if defaults is None else defaults
    if not isinstance(defaults, dict):
        problems.append(f"defaults: {kind_of(defaults)}; it must be an object")
        defaults = {}
    unknown_fields(defaults, tuple(FIELD_DEFAULTS), "defaults", problems)
    raw_tables: list[object] = data["tables"]
    if not raw_tables:
        problems.append(
            "tables: the list is empty (the original refuses it as well); list at least one "
            "table with id, input and output"
        )
    tables: list[OriginalTable] = []
    refused: list[str] = []
    for index, raw in enumerate(raw_tables):
        count = len(problems)
        table = _table(raw, defaults, index=index, folder=folder, problems=problems)
        if table is not None:
            tables.append(table)
        if len(problems) > count and isinstance(raw, dict):
            refused.append(_native_hint(raw, defaults, index=index, folder=folder))
    if not problems:
        jobs = [table.job for table in tables]
        found: list[str] = []
        check_jobs(path, [{"name": t.table_id} for t in tables], list(jobs), found)
        problems.extend(
            _OTHER_JOB.sub(r"tables[\1]", _JOB_AT.sub(_table_location, problem))
            for problem in found
        )
        problems.extend(_audit_problems(tables))
        cycle = find_cycle(job_dependencies(jobs))
        if cycle:
            problems.append(
                f"tables: each of these tables reads the next one's output: {' -> '.join(cycle)}"
                "; break the cycle"
            )
    if problems:
        problems = list(dict.fromkeys(problems))  # a default's problem, once for every table
        many = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        msg = (
            f"{path}: cannot run as second-opinion saliency jobs ({many}):\n  "
            + "\n  ".join(problems)
            + "".join(f"\n{hint}" for hint in refused)
            + f"\nWhat translates and what does not: {DOCS}"
        )
        raise InputError(msg)
    return OriginalSaliencyManifest(path=path, base_dir=folder, tables=tuple(tables))


def _table(
    raw: object,
    defaults: Mapping[str, object],
    *,
    index: int,
    folder: Path,
    problems: list[str],
) -> OriginalTable | None:
    at = f"tables[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{at}: {kind_of(raw)}; a table entry is an object (id, input, output)")
        return None
    count = len(problems)
    unknown_fields(raw, (*TABLE_FIELDS, *FIELD_DEFAULTS), at, problems)
    table_id, source, output = (_text(raw, key, at, problems) for key in ("id", "input", "output"))
    audit = raw.get("audit_json")
    if audit not in (None, "") and not isinstance(audit, str):
        problems.append(f"{at}.audit_json: {kind_of(audit)}; it must be a path (text)")
    if table_id is not None and re.fullmatch(JOB_NAME, table_id) is None:
        problems.append(
            f"{at}.id is {table_id!r}: it names the saliency job, whose name is lower-case "
            f"letters, digits, '_', '.' and '-' (starting with a letter or digit); write "
            f"{job_name(table_id)!r}"
        )
    config = read_config(defaults, raw, index=index, base_dir=folder, problems=problems)
    clips_name = Path(source).name if source is not None else "the input table"
    setting_problems(config, source_name=clips_name, problems=problems)
    if source is None or output is None or table_id is None or len(problems) > count:
        return None
    clips_path = resolve(source, folder)
    checked = check_clips(config, source=clips_path, index=index, problems=problems)
    if checked is None:
        return None
    spec = SaliencySpec(
        clips=clips_path,
        model=config.path("model_path"),
        frame_step=checked.frame_step,
        on_bad_clip="skip",
    )
    files = tuple(("clip", clip.clip_id, clip.path) for clip in checked.clips)
    output_path = resolve(output, folder)
    description = f"tables[{index}] of the original saliency manifest"
    job = SaliencyJob(table_id, index, spec, output_path, description, files)
    audit_path = resolve(audit, folder) if isinstance(audit, str) and audit else None
    return OriginalTable(table_id, index, clips_path, output_path, audit_path, config, job)


def job_name(table_id: str) -> str:
    """A job name for a table id: the id when it is one, else a slug of it."""
    if re.fullmatch(JOB_NAME, table_id):
        return table_id
    return re.sub(r"[^a-z0-9_.-]+", "-", table_id.lower()).strip("-_.") or "table"


def _text(raw: Mapping[str, object], key: str, at: str, problems: list[str]) -> str | None:
    value = raw.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip() if key == "id" else value
    shown = "missing" if key not in raw else kind_of(value)
    shown += f" ({value!r})" if isinstance(value, str) else ""
    fix = "a non-empty name" if key == "id" else "a path (text)"
    problems.append(f"{at}.{key}: {shown}; it must be {fix}")
    return None


def _table_location(match: re.Match[str]) -> str:
    return f"tables[{match.group(1)}].{_TABLE_FIELD[match.group(2)]}"


def _audit_problems(tables: list[OriginalTable]) -> list[str]:
    """An ``audit_json`` may not be a table's input or output (it would overwrite it)."""
    taken = {resolved(t.input): f"tables[{t.index}].input" for t in tables}
    taken |= {resolved(t.output): f"tables[{t.index}].output" for t in tables}
    return [
        f"tables[{t.index}].audit_json: {t.audit_json} is also {taken[resolved(t.audit_json)]}; "
        "write the audit elsewhere"
        for t in tables
        if t.audit_json is not None and resolved(t.audit_json) in taken
    ]


def _native_hint(
    raw: Mapping[str, object], defaults: Mapping[str, object], *, index: int, folder: Path
) -> str:
    """The native job to write for a refused table, from what it names."""
    config = read_config(defaults, raw, index=index, base_dir=folder, problems=[])
    source, output = raw.get("input"), raw.get("output")
    job = native_job(
        name=job_name(str(raw.get("id") or f"table-{index}").strip()),
        source=resolve(source if isinstance(source, str) else "clips.jsonl", folder),
        config=config,
        output=resolve(output if isinstance(output, str) else "saliency.jsonl", folder),
        base_dir=folder,
        frame_step=None,
    )
    return f"A native job for tables[{index}] (docs/manifest.md#saliency-jobs): {snippet(job)}"
