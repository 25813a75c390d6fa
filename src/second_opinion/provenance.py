"""Provenance records: ``<output>.provenance.json`` beside every output (docs/provenance.md).

A record says what produced an output — tool and environment versions, the run, the resolved job
spec, every input's size, SHA-256 and rows, the output's, and the coverage report — and carries
the job's *fingerprint*, which decides whether a later run may skip the job.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import platform
import secrets
import socket
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from second_opinion._version import __version__
from second_opinion.hashing import sha256_file, write_text_atomic
from second_opinion.paths import not_a_file, resolved

SCHEMA = "second-opinion.provenance/1"
SCHEMA_NAME, SCHEMA_VERSION = SCHEMA.rsplit("/", 1)


def provenance_path(output: Path) -> Path:
    """Where the provenance record of ``output`` lives."""
    return output.with_name(output.name + ".provenance.json")


def utc_now() -> str:
    """The current UTC time, ISO 8601 with a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def tool_series(version: str = __version__) -> str:
    """The tool's major.minor version: a new one invalidates every fingerprint."""
    return ".".join(version.split(".")[:2])


def canonical_json(data: object) -> str:
    """Sorted keys, no whitespace: the form that is hashed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_digest(spec: dict[str, Any]) -> str:
    """SHA-256 of a job spec's canonical JSON, input paths left out (inputs count by content)."""
    stripped = json.loads(json.dumps(spec))
    stripped.pop("features", None)
    for sidecar in stripped.get("sidecars", []):
        sidecar.pop("path", None)
        if isinstance(sidecar.get("align"), dict):
            sidecar["align"].pop("keys_from", None)
    return hashlib.sha256(canonical_json(stripped).encode()).hexdigest()


def fingerprint(spec_sha256: str, input_sha256: list[str], output_suffix: str) -> str:
    """The job fingerprint: spec digest + input digests + output format + tool major.minor."""
    payload = {
        "spec": spec_sha256,
        "inputs": input_sha256,
        "output_format": output_suffix,
        "tool": tool_series(),
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


@functools.cache
def git_commit() -> str | None:
    """The commit of the checkout second-opinion runs from, if it runs from one."""
    source = resolved(Path(__file__)).parent
    for folder in (source, *source.parents):
        if (folder / ".git").exists():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                result = subprocess.run(  # noqa: S603 - fixed arguments, no user input
                    ["git", "-C", str(folder), "rev-parse", "HEAD"],  # noqa: S607
                    capture_output=True,
                    text=True,
                    timeout=5,
                    check=False,
                )
                if result.returncode == 0:
                    return result.stdout.strip() or None
            return None
    return None


def tool_info() -> dict[str, Any]:
    """Name, version and (from a checkout) git commit of the tool."""
    return {"name": "second-opinion", "version": __version__, "git_commit": git_commit()}


def environment() -> dict[str, Any]:
    """Python, DuckDB and platform versions, and the host."""
    import duckdb  # noqa: PLC0415 - only a run records it; reading records needs no DuckDB

    return {
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "executable": sys.executable,
    }


def record_text(record: dict[str, Any]) -> str:
    """A record as written: JSON with a deterministic key order."""
    return json.dumps(record, sort_keys=True, indent=2) + "\n"


def write_record(record: dict[str, Any], output: Path) -> Path:
    """Write ``record`` beside ``output``, atomically, with a deterministic key order."""
    target = provenance_path(output)
    write_text_atomic(target, record_text(record))
    return target


class ProvenanceUnreadable(Exception):  # noqa: N818 - a reason, not an error the user sees
    """The record is missing, corrupt, or from a newer schema: the output is treated as stale."""


def read_record(output: Path) -> dict[str, Any]:
    """The provenance record of ``output``; :class:`ProvenanceUnreadable` says why not."""
    path = provenance_path(output)
    odd = not_a_file(path)  # a FIFO would block the read forever
    if odd not in (None, "no such file"):
        msg = f"provenance unreadable ({path.name} {odd})"
        raise ProvenanceUnreadable(msg)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = "no provenance"
        raise ProvenanceUnreadable(msg) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        msg = f"provenance unreadable ({type(exc).__name__})"
        raise ProvenanceUnreadable(msg) from None
    if not isinstance(data, dict) or not isinstance(data.get("schema"), str):
        msg = "provenance unreadable (no schema)"
        raise ProvenanceUnreadable(msg)
    name, _, version = data["schema"].rpartition("/")
    if name != SCHEMA_NAME or version != SCHEMA_VERSION:
        msg = f"provenance schema {data['schema']!r} is not {SCHEMA!r}"
        raise ProvenanceUnreadable(msg)
    problem = _shape_problem(data)
    if problem:
        msg = f"provenance unreadable (malformed: {problem})"
        raise ProvenanceUnreadable(msg)
    return data


class _Part(BaseModel):
    """A part of a record: the fields the tool reads, strictly typed; other fields kept."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class _Tool(_Part):
    name: str
    version: str


class _Run(_Part):
    run_id: str
    started: str
    finished: str


class _Job(_Part):
    name: str


class _Output(_Part):
    path: str
    sha256: str
    rows: int
    columns: list[str]


class _Input(_Part):
    """An input: a file (its path) or an in-memory table (``source`` memory, no path); both
    by SHA-256 (a memory table's of its content, see second_opinion.tables.memory)."""

    role: str
    source: Literal["file", "memory"] = "file"
    path: str | None = None
    sha256: str
    scorer: str | None = None

    @model_validator(mode="after")
    def _where(self) -> Self:
        if self.source == "file" and self.path is None:
            msg = "an input read from a file needs its path"
            raise ValueError(msg)
        if self.source == "memory" and self.path is not None:
            msg = "an input from memory has no path"
            raise ValueError(msg)
        return self


class _Fix(_Part):
    text: str
    matched: int
    rows: int


class _Frames(_Part):
    column: str


class _Coverage(_Part):
    scorer: str
    coverage: float
    matched: int
    base_rows: int
    missing: int
    extra: int
    diagnosis: list[_Fix] = []
    per_frame: _Frames | bool | None = None  # a bool in records written before diagnoses


class RecordSchema(_Part):
    """What a record must hold for the tool to read it (``docs/provenance.md``): validated whole
    on every read, so no reader meets a field of the wrong shape."""

    schema_: str = Field(alias="schema")
    tool: _Tool
    environment: dict[str, Any]
    run: _Run
    job: _Job
    spec_sha256: str
    fingerprint: str
    inputs: list[_Input]
    output: _Output
    coverage: list[_Coverage]
    warnings: list[str] = []


def _shape_problem(data: dict[str, Any]) -> str | None:
    """The first field of a record that is missing or of the wrong type, and why; or None."""
    try:
        RecordSchema.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        why = "is missing" if error["type"] == "missing" else f"is invalid ({error['msg']})"
        return f"{where.lstrip('.')} {why}"
    return None


@dataclass(frozen=True)
class Inspection:
    """What ``inspect`` found: the record, and whether the output still matches it."""

    output: Path
    record: dict[str, Any] | None
    matches: bool
    problems: tuple[str, ...]
    changed_inputs: tuple[str, ...] = ()
    unchecked_inputs: tuple[str, ...] = ()
    """Inputs that came from memory: recorded by content hash, gone when the run ended."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "output": str(self.output),
            "matches": self.matches,
            "problems": list(self.problems),
            "changed_inputs": list(self.changed_inputs),
            "unchecked_inputs": list(self.unchecked_inputs),
            "provenance": self.record,
        }


def inspect_output(output: str | Path) -> Inspection:
    """Read an output's provenance and check the output and its inputs against it."""
    output = Path(output).absolute()
    try:
        record = read_record(output)
    except ProvenanceUnreadable as exc:
        return Inspection(output, None, matches=False, problems=(f"{exc}",))
    problems = []
    expected = record.get("output", {})
    if not output.is_file():
        problems.append(f"the output {output} does not exist")
    elif sha256_file(output) != expected.get("sha256"):
        problems.append("the output no longer matches its provenance (its SHA-256 changed)")
    changed, unchecked = [], []
    for item in record.get("inputs", []):
        label = item.get("role", "input") + (f" {item['scorer']}" if item.get("scorer") else "")
        if item.get("source") == "memory":
            unchecked.append(
                f"{label} came from memory (an in-memory {item.get('kind', 'table')}, SHA-256 "
                f"{item['sha256'][:12]}…): it cannot be checked again"
            )
            continue
        path = Path(item.get("path", ""))
        if not path.is_file():
            changed.append(f"{label} {path} no longer exists")
        elif sha256_file(path) != item.get("sha256"):
            changed.append(f"{label} {path} changed since the run")
    return Inspection(
        output, record, not problems, tuple(problems), tuple(changed), tuple(unchecked)
    )
