"""``validate`` for an original manifest: its schema, its files, and each table's join, without
running anything (reads headers and DuckDB's sample; score files are read whole)."""

from __future__ import annotations

import os
from pathlib import Path

from second_opinion.batch.manifest.checks import raise_problems
from second_opinion.batch.original.load import OriginalTable, load_original
from second_opinion.batch.original.translate import table_spec
from second_opinion.batch.validated import ValidationReport
from second_opinion.errors import SecondOpinionError
from second_opinion.join.run import check_spec
from second_opinion.join.spelling import original_spelling


def table_problems(table: OriginalTable) -> list[str]:
    """What running ``table`` would meet that its files already show."""
    missing = [
        f"{what} {path} does not exist"
        for what, path in [
            ("features", table.features),
            *(("scores", s.path) for s in table.scores),
        ]
        if not path.is_file()
    ]
    if missing:
        return missing
    try:
        spec, _ = table_spec(table)
    except SecondOpinionError as exc:
        return [exc.message]
    return check_spec(spec, spelling=original_spelling(table.index))


def validate_original(
    path: str | os.PathLike[str], *, base_dir: str | os.PathLike[str] | None = None
) -> ValidationReport:
    """Check an original manifest; raise one :class:`InputError` listing every problem, each
    with its table (``tables[1] (smoke_table_b): features … does not exist``)."""
    manifest = load_original(path, base_dir=base_dir)
    problems = [
        f"tables[{table.index}] ({table.id}): {problem}"
        for table in manifest.tables
        for problem in table_problems(table)
    ]
    raise_problems(manifest.path, problems)
    outputs = [os.path.normpath(table.out.parent.absolute()) for table in manifest.tables]
    jobs = tuple(
        {
            "name": table.id,
            "features": str(table.features),
            "sidecars": {(s.label or s.path.stem): str(s.path) for s in table.scores},
            "output": str(table.out),
        }
        for table in manifest.tables
    )
    return ValidationReport(str(manifest.path), str(Path(os.path.commonpath(outputs))), jobs)
