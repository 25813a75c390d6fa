"""The original's report files: the batch report as JSON and as Markdown, and per-table audits.

Each is written atomically with a fixed key order, so the same run gives the same bytes. The
JSON report is :meth:`OriginalSaliencyResult.to_dict` (schema ``saliency-materializer-batch-v1``);
a table's audit (schema ``saliency-materializer-audit-v1``) holds its id, paths, settings and
counters; the Markdown report is the original's table of counters per table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from second_opinion.errors import InputError
from second_opinion.hashing import write_text_atomic

AUDIT_SCHEMA = "saliency-materializer-audit-v1"


def _write(target: Path, text: str) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, text)
    except OSError as exc:
        msg = f"{target}: cannot write the report ({exc.strerror or exc}); pick another path"
        raise InputError(msg) from None
    return target


def json_text(data: Mapping[str, Any]) -> str:
    """A report as written: sorted keys, two-space indent, a final newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_report_json(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the batch report (``OriginalSaliencyResult.to_dict()``) to ``path``."""
    return _write(Path(path), json_text(report))


def write_report_markdown(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the batch report as the original's Markdown table (one row per table)."""
    lines = [
        "# Saliency Materializer Batch Report",
        "",
        f"Status: **{report['status']}**",
        "",
        "| Table | Status | Total | OK | Skipped | Failed | Output |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for table in report["tables"]:
        summary = table.get("summary") or {}
        counts = [summary.get(k, "-") for k in ("total", "ok", "skipped_existing", "failed")]
        cells = [table["id"], table["status"], *map(str, counts), f"`{table['output']}`"]
        lines.append("| " + " | ".join(cells) + " |")
    return _write(Path(path), "\n".join(lines) + "\n")


def write_table_audit(table: Mapping[str, Any], *, manifest: Path, target: Path) -> Path:
    """Write one table's audit (its entry of the batch report, in the original's fields)."""
    audit = {
        "schema": AUDIT_SCHEMA,
        "batch_manifest": str(manifest),
        "table_id": table["id"],
        "input": table["input"],
        "output": table["output"],
        "config": table["config"],
        "summary": table["summary"],
        "provenance": table["provenance"],
    }
    return _write(target, json_text(audit))
