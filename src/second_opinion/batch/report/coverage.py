"""A provenance record's coverage entries and file lists, as the report's data.

Records are validated on read for the fields the tool relies on (scorer, coverage and the counts,
every input's role, path and SHA-256); the rest — unmatched key samples, the key diagnosis,
whether a sidecar is per frame — is read here shape by shape, so a record written before a field
existed, or by a newer tool, still shows what it has.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from second_opinion.batch.report.model import (
    Diagnosis,
    FileCheck,
    FileState,
    KeySample,
    SidecarCoverage,
)


def _texts(value: object) -> tuple[str, ...] | None:
    """A key as the record stores it (a list of strings), or None for anything else."""
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return tuple(value)
    return None


def _samples(value: object) -> tuple[KeySample, ...]:
    """The unmatched key samples of one side; entries of another shape are left out."""
    if not isinstance(value, list):
        return ()
    samples = []
    for item in value:
        key = _texts(item.get("key")) if isinstance(item, dict) else None
        if key is not None:
            samples.append(KeySample(key, _texts(item.get("closest"))))
    return tuple(samples)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _diagnosis(value: object) -> tuple[Diagnosis, ...]:
    """The key diagnosis's fixes (``[{"text", "matched", "rows"}]``); other shapes left out."""
    if not isinstance(value, list):
        return ()
    found = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        matched, rows = _count(item.get("matched")), _count(item.get("rows"))
        if matched is not None and rows is not None:
            found.append(Diagnosis(item["text"], matched, rows))
    return tuple(found)


def _per_frame(value: object) -> tuple[bool, str | None]:
    """Whether a sidecar is per frame, and by which column: records say ``true``/``false``, or
    (with the key diagnosis) ``{"column": NAME}``/``null``."""
    if isinstance(value, dict):
        column = value.get("column")
        return True, column if isinstance(column, str) else None
    return value is True, None


def sidecar_coverage(entry: Mapping[str, Any]) -> SidecarCoverage:
    """One coverage entry of a record (its validated fields, and whatever else it holds)."""
    per_frame, column = _per_frame(entry.get("per_frame"))
    path = entry.get("path")
    return SidecarCoverage(
        scorer=str(entry["scorer"]),
        coverage=float(entry["coverage"]),
        path=path if isinstance(path, str) else None,
        matched=int(entry["matched"]),
        base_rows=int(entry["base_rows"]),
        missing=int(entry["missing"]),
        extra=int(entry["extra"]),
        per_frame=per_frame,
        frame_column=column,
        unmatched_base=_samples(entry.get("unmatched_base")),
        unmatched_sidecar=_samples(entry.get("unmatched_sidecar")),
        diagnosis=_diagnosis(entry.get("diagnosis")),
    )


def file_state(path: str, sha256: str, size: int | None, cache: Mapping[str, Any]) -> FileState:
    """How the file a record names stands now (see :data:`FileState`), from ``stat`` and the
    hash cache's entries alone: nothing is read or hashed."""
    try:
        now = Path(path).stat()
    except OSError:
        return "missing"
    if size is not None and now.st_size != size:
        return "changed"
    entry = cache.get(str(Path(path).absolute()))
    if not isinstance(entry, dict):
        return "unknown"
    if entry.get("size") == now.st_size and entry.get("mtime_ns") == now.st_mtime_ns:
        return "unchanged" if entry.get("sha256") == sha256 else "changed"
    return "modified"


def file_check(item: Mapping[str, Any], role: str, cache: Mapping[str, Any]) -> FileCheck:
    """An input or output entry of a record, with its state now (an input that came from memory,
    ADR 0023, has no file: ``unknown``)."""
    scorer = item.get("scorer")
    path = item.get("path")
    memory = item.get("source") == "memory" or path is None
    return FileCheck(
        role=role,
        path=f"<in-memory {item.get('kind', 'table')}>" if memory else str(path),
        sha256=str(item["sha256"]),
        state="unknown"
        if memory
        else file_state(str(path), str(item["sha256"]), _count(item.get("size")), cache),
        scorer=scorer if isinstance(scorer, str) else None,
        size=_count(item.get("size")),
        rows=_count(item.get("rows")),
    )
