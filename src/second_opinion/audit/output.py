"""Writing the report folder: ``audit.json``, ``audit.md`` and ``audit.html``, all or nothing.

Every file is rendered in memory and written to a temporary file beside its target first; only
when all three exist are they renamed into place, the previous report set aside meanwhile and put
back if a rename fails, so a failure while rendering or writing leaves the folder as it was.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from second_opinion.audit.render import blocks, to_markdown
from second_opinion.audit.render_html import to_html
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
    staged = [(folder / f".{name}.{token}.tmp", folder / name) for name in texts]
    backups: list[tuple[Path, Path]] = []
    installed: list[Path] = []
    try:
        folder.mkdir(exist_ok=True)
        for (tmp, _), text in zip(staged, texts.values(), strict=True):
            tmp.write_text(text, encoding="utf-8")
        for _, target in staged:  # set the previous report aside, to restore it on failure
            if target.exists():
                backup = target.with_name(f".{target.name}.{token}.bak")
                target.replace(backup)
                backups.append((backup, target))
        for tmp, target in staged:
            tmp.replace(target)
            installed.append(target)
    except OSError as exc:
        _roll_back(installed, backups)
        msg = f"{folder}: cannot write the report ({exc.strerror or exc})"
        raise InputError(msg) from None
    finally:
        for leftover in [tmp for tmp, _ in staged] + [backup for backup, _ in backups]:
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return ReportFiles(folder / JSON_NAME, folder / MARKDOWN_NAME, folder / HTML_NAME)


def _roll_back(installed: list[Path], backups: list[tuple[Path, Path]]) -> None:
    """Undo a partly written report: new files removed, the previous ones put back."""
    restored = {target for _, target in backups}
    for target in installed:
        if target not in restored:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
    for backup, target in backups:
        with contextlib.suppress(OSError):
            backup.replace(target)
