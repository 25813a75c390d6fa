"""Running an original manifest: every table in order, the batch report, the summary line.

A table that fails (an unreadable file, a missing score under ``missing_policy: fail``, a column it
would overwrite) is reported with its error and the others still run, unless ``fail_fast``; a
manifest that is invalid fails before any table runs (:class:`InputError`, exit 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from second_opinion.batch.original.load import OriginalManifest, OriginalTable, load_original
from second_opinion.batch.original.reports import (
    REPORT_SCHEMA,
    Invocation,
    Itself,
    dialect_markdown,
    run_provenance,
    write_json,
    write_text,
)
from second_opinion.batch.original.table import materialize_table
from second_opinion.errors import SecondOpinionError
from second_opinion.tables.formats import Engine


@dataclass(frozen=True)
class OriginalBatchResult:
    """The batch report (the ``--report-json`` document) and where the reports went."""

    report: dict[str, Any]

    @property
    def ok(self) -> bool:
        """Whether every table was written."""
        return bool(self.report["status"] == "ok")

    @property
    def summary_line(self) -> str:
        """The line the original prints on stderr."""
        s = self.report["summary"]
        return (
            f"second-opinion batch materialize: tables={s['tables']} input_rows={s['input_rows']} "
            f"output_rows={s['output_rows']} failed_tables={s['failed_tables']}"
        )


def _table_entry(table: OriginalTable) -> dict[str, Any]:
    return {
        "id": table.id,
        "features": str(table.features),
        "scores": [source.text for source in table.scores],
        "out": str(table.out),
        "audit_json": str(table.audit_json) if table.audit_json is not None else None,
        "config": dict(table.config),
    }


def _message(exc: SecondOpinionError | OSError) -> str:
    """What went wrong, for the report: our message, or the file and the system's reason."""
    if isinstance(exc, SecondOpinionError):
        return exc.message
    return f"{exc.filename}: cannot write ({exc.strerror or exc})"


def run_tables(
    manifest: OriginalManifest,
    *,
    invocation: Invocation,
    fail_fast: bool = False,
    engine: Engine | None = None,
) -> list[dict[str, Any]]:
    """Run the manifest's tables in order; one report entry per table run."""
    entries: list[dict[str, Any]] = []
    for table in manifest.tables:
        entry = _table_entry(table)
        try:
            audit, warnings = materialize_table(
                table, manifest=manifest.path, invocation=invocation, engine=engine
            )
        except (SecondOpinionError, OSError) as exc:
            entries.append({**entry, "status": "error", "error": _message(exc)})
            if fail_fast:
                break
            continue
        summary = {k: audit[k] for k in ("input_rows", "output_rows", "competitors")}
        done = {**entry, "status": "ok", "summary": summary}
        if warnings:  # an addition to the original's report, only where there is something
            done["warnings"] = list(warnings)
        entries.append(done)
    return entries


def run_original_batch(
    manifest_path: str | os.PathLike[str],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    report_json: Path | None = None,
    report_md: Path | None = None,
    fail_fast: bool = False,
    invocation: Invocation | None = None,
    engine: Engine | None = None,
) -> OriginalBatchResult:
    """Load an original manifest, run its tables, write the reports asked for.

    Raises :class:`InputError` for an invalid manifest (nothing runs); a failed table is in the
    report (``status: failed``), not raised.
    """
    invocation = invocation or Invocation()
    manifest = load_original(manifest_path, base_dir=base_dir)
    entries = run_tables(manifest, invocation=invocation, fail_fast=fail_fast, engine=engine)
    failed = sum(1 for e in entries if e["status"] != "ok")
    summaries = [e["summary"] for e in entries if e["status"] == "ok"]
    report: dict[str, Any] = {
        "schema": REPORT_SCHEMA,
        "status": "failed" if failed else "ok",
        "manifest": str(manifest.path),
        "summary": {
            "tables": len(entries),
            "failed_tables": failed,
            "input_rows": sum(s["input_rows"] for s in summaries),
            "output_rows": sum(s["output_rows"] for s in summaries),
        },
        "tables": entries,
    }
    if report_md is not None:
        write_text(report_md, dialect_markdown(report))
    outputs: dict[str, object] = {
        "report_json": Itself(report_json) if report_json is not None else None,
        "report_md": report_md,
        "tables": [{"id": e["id"], "out": Path(e["out"])} for e in entries if e["status"] == "ok"],
    }
    report["run_provenance"] = run_provenance(
        invocation, inputs={"manifest": manifest.path}, outputs=outputs
    )
    if report_json is not None:
        write_json(report_json, report)
    return OriginalBatchResult(report)
