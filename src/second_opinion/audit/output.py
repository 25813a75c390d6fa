"""Writing the report folder: ``audit.json``, ``audit.md`` and ``audit.html``, all or nothing.

Every file is rendered in memory and written to a temporary file beside its target first; only
when all three exist are they renamed into place, so a failure (or an interrupt) while rendering
or writing leaves the folder as it was.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from second_opinion.audit.render import blocks, to_html, to_markdown
from second_opinion.audit.report import audit_json
from second_opinion.audit.run import AuditResult
from second_opinion.errors import InputError, UsageError

JSON_NAME = "audit.json"
MARKDOWN_NAME = "audit.md"
HTML_NAME = "audit.html"


@dataclass(frozen=True)
class ReportFiles:
    """Where the report went."""

    json: Path
    markdown: Path
    html: Path


def render_report(result: AuditResult, *, plots: bool = True) -> dict[str, str]:
    """The three report files' text, by file name."""
    items = blocks(result, plots=plots)
    return {
        JSON_NAME: json.dumps(audit_json(result), indent=2, allow_nan=False) + "\n",
        MARKDOWN_NAME: to_markdown(items),
        HTML_NAME: to_html(items),
    }


def write_report(result: AuditResult, out_dir: str | Path, *, plots: bool = True) -> ReportFiles:
    """Render and write the report into ``out_dir`` (created if missing; its parent must exist)."""
    folder = Path(out_dir)
    if not folder.parent.is_dir():
        msg = f"{folder}: its parent folder {folder.parent} does not exist; create it first"
        raise UsageError(msg)
    if folder.exists() and not folder.is_dir():
        msg = f"{folder}: exists and is not a folder; pass a folder for --out"
        raise UsageError(msg)
    texts = render_report(result, plots=plots)
    token = uuid.uuid4().hex[:12]
    staged: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(exist_ok=True)
        for name, text in texts.items():
            tmp = folder / f".{name}.{token}.tmp"
            tmp.write_text(text, encoding="utf-8")
            staged.append((tmp, folder / name))
        for tmp, target in staged:
            tmp.replace(target)
    except OSError as exc:
        msg = f"{folder}: cannot write the report ({exc.strerror or exc})"
        raise InputError(msg) from None
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    return ReportFiles(folder / JSON_NAME, folder / MARKDOWN_NAME, folder / HTML_NAME)
