"""Writing the batch report: atomically, confined to ``output_dir`` when it goes there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from second_opinion.batch.report.model import BatchReport
from second_opinion.batch.report.render import report_html
from second_opinion.errors import InputError
from second_opinion.paths import not_a_folder, resolved
from second_opinion.placing import write_text_in_place
from second_opinion.provenance import provenance_path

REPORT_NAME = "report.html"
"""The report's file in ``output_dir`` unless another path is given."""
PYTHON_SPELLING: Mapping[str, str] = {"out": "out="}
"""How each keyword of :func:`write_batch_report` is named in messages (the CLI passes its flag)."""


def write_batch_report(
    report: BatchReport,
    out: str | os.PathLike[str] | None = None,
    *,
    spelling: Mapping[str, str] = PYTHON_SPELLING,
) -> Path:
    """Write ``report``'s page to ``out`` (default ``<output_dir>/report.html``) and return the
    path written.

    The page is written to a temporary file beside ``out`` and renamed into place; inside
    ``output_dir`` through folder handles that follow no symlink (:mod:`second_opinion.placing`).
    A path that is a job's output or record, or a folder, is refused
    (:class:`~second_opinion.errors.InputError`, naming ``spelling['out']``), as is a failed write.
    """
    root = Path(report.output_dir)
    target = root / REPORT_NAME if out is None else Path(os.path.normpath(Path(out).absolute()))
    taken = {resolved(Path(job.output)): job.name for job in report.jobs}
    taken |= {resolved(provenance_path(Path(job.output))): job.name for job in report.jobs}
    if resolved(target) in taken:
        msg = (
            f"{target}: is the output (or its record) of job {taken[resolved(target)]!r}; "
            f"write the report elsewhere ({spelling['out']} PATH)"
        )
        raise InputError(msg)
    if not_a_folder(target) is None:
        msg = f"{target}: is a folder; name the report's file ({spelling['out']} PATH)"
        raise InputError(msg)
    inside = target.parent.is_relative_to(root)
    text = report_html(report, target)
    write_text_in_place(target, text, "the batch report", root=root if inside else None)
    return target
