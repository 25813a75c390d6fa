"""What the dialect writes besides tables: ``run_provenance`` blocks, the batch's JSON report, and
Markdown reports (the dialect's, and a native batch's for ``batch --report-md``).

Every JSON document is deterministic: sorted keys, indent 2, a trailing newline. A
``run_provenance`` block (schema ``ai-run-provenance-v1``) names the entrypoint, the argv and
parsed arguments, and describes each input and output: path, whether it exists, its kind and, for
a file, its SHA-256. A document does not describe itself (it is written after the block is made):
it is named by its path only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from second_opinion._version import __version__
from second_opinion.errors import InputError
from second_opinion.hashing import sha256_file, write_text_atomic

if TYPE_CHECKING:
    from second_opinion.batch.runner import BatchResult

PROVENANCE_SCHEMA = "ai-run-provenance-v1"
REPORT_SCHEMA = "second-opinion-materializer-batch-v1"
REPORT_TITLE = "# Second-Opinion Materializer Batch Report"


@dataclass(frozen=True)
class Invocation:
    """How the batch was started, for ``run_provenance``: the argv and the parsed arguments."""

    argv: tuple[str, ...] = ()
    args: Mapping[str, object] = field(default_factory=dict)


class Itself:
    """An output that is the document being written: described by its path only."""

    def __init__(self, path: Path) -> None:
        self.path = path


def json_text(data: object) -> str:
    """A document as written: sorted keys, indent 2, trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, its folder created first; a failure is an
    :class:`InputError` naming ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, text)
    except OSError as exc:
        msg = f"{path}: cannot write ({exc.strerror or exc})"
        raise InputError(msg) from None


def write_json(path: Path, data: object) -> None:
    """Write ``data`` to ``path`` as a deterministic JSON document (:func:`write_text`)."""
    write_text(path, json_text(data))


def describe_path(path: Path) -> dict[str, object]:
    """A path: where, whether it exists, its kind, and a file's SHA-256."""
    info: dict[str, object] = {"path": str(path), "exists": path.exists()}
    if path.is_file():
        info |= {"kind": "file", "sha256": sha256_file(path)}
    else:
        info["kind"] = "directory" if path.is_dir() else "missing"
    return info


def _walk(value: object, *, describe: bool) -> object:
    """``value`` as JSON: paths as text, or (``describe``) described; :class:`Itself` by path."""
    if isinstance(value, Itself):
        return {"path": str(value.path), "kind": "this document"}
    if isinstance(value, Path):
        return describe_path(value) if describe else str(value)
    if isinstance(value, Mapping):
        return {str(k): _walk(v, describe=describe) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_walk(v, describe=describe) for v in value]
    return value


def run_provenance(
    invocation: Invocation, *, inputs: Mapping[str, object], outputs: Mapping[str, object]
) -> dict[str, object]:
    """A ``run_provenance`` block; ``Path`` values of ``inputs`` and ``outputs`` are described
    (hashed when they are files), :class:`Itself` by its path, anything else kept as is."""
    return {
        "schema": PROVENANCE_SCHEMA,
        "entrypoint": {"tool": "second-opinion", "command": "batch", "version": __version__},
        "argv": list(invocation.argv),
        "args": _walk(dict(invocation.args), describe=False),
        "inputs": _walk(inputs, describe=True),
        "outputs": _walk(outputs, describe=True),
    }


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], aligns: str, rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; ``aligns`` has one letter per column: ``l`` or ``r``."""
    marks = {"l": "---", "r": "---:"}
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(marks[a] for a in aligns) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def dialect_markdown(report: Mapping[str, Any]) -> str:
    """The dialect's Markdown report: title, status, one row per table."""
    rows = []
    for table in report["tables"]:
        summary = table.get("summary") or {}
        rows.append(
            (
                table["id"],
                table["status"],
                summary.get("input_rows", "-"),
                summary.get("output_rows", "-"),
                f"`{table['out']}`",
            )
        )
    headers = ("Table", "Status", "Input rows", "Output rows", "Output")
    body = markdown_table(headers, "llrrl", rows)
    return f"{REPORT_TITLE}\n\nStatus: **{report['status']}**\n\n{body}\n"


def batch_markdown(result: BatchResult) -> str:
    """A native batch's Markdown report: title, status, one row per job."""
    rows = [
        (
            job.name,
            job.status,
            job.reason,
            "-" if job.rows is None else job.rows,
            f"`{job.output}`" + (f" ({job.error})" if job.error else ""),
        )
        for job in result.jobs
    ]
    headers = ("Job", "Status", "Reason", "Rows", "Output")
    status = "ok" if result.ok else "failed"
    body = markdown_table(headers, "lllrl", rows)
    return (
        f"# Second-Opinion Batch Report\n\nManifest: `{result.manifest}`  \n"
        f"Run: `{result.run_id}`\n\nStatus: **{status}**\n\n{body}\n"
    )
