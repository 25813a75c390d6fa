"""``second-opinion validate`` on an original saliency manifest: translate it, run nothing."""

from __future__ import annotations

import os
from pathlib import Path

from second_opinion.batch.original_saliency.manifest import load_original_saliency_manifest
from second_opinion.batch.validated import ValidationReport


def validate_original_saliency(
    path: str | os.PathLike[str], *, base_dir: str | os.PathLike[str] | None = None
) -> ValidationReport:
    """Check an original saliency manifest (every table translates into a saliency job whose
    clips table, model and frames match); raise one :class:`InputError` listing every problem."""
    manifest = load_original_saliency_manifest(path, base_dir=base_dir)
    outputs = [os.path.normpath(table.output.parent.absolute()) for table in manifest.tables]
    jobs = tuple(
        {
            "name": table.table_id,
            "clips": str(table.input),
            "output": str(table.output),
            "kind": "saliency",
        }
        for table in manifest.tables
    )
    return ValidationReport(str(manifest.path), str(Path(os.path.commonpath(outputs))), jobs)
