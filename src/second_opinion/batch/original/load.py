"""Detecting the original dialect, and reading its manifest into resolved tables.

Relative paths are resolved against the base folder (``--base-dir``, default the manifest's
folder) and kept as written below it, as the original does: ``--base-dir .`` and
``fixtures/a.jsonl`` give ``fixtures/a.jsonl`` in reports and ``source`` columns. Outputs are
written exactly where named; they are not confined to an output folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from second_opinion.batch.manifest.checks import raise_problems
from second_opinion.batch.manifest.document import kind_of, read_document
from second_opinion.batch.original.models import (
    CONFIG_FIELDS,
    OriginalManifestFile,
    TableConfig,
    TableEntry,
)
from second_opinion.batch.original_saliency.manifest import is_original_saliency_manifest
from second_opinion.errors import InputError
from second_opinion.validation import DOCUMENT, validation_problems

Dialect = Literal["native", "original", "original-saliency"]


@dataclass(frozen=True)
class ScoreSource:
    """One ``scores`` entry: its label (if any) and its file."""

    label: str | None
    path: Path

    @property
    def text(self) -> str:
        """The entry with its path resolved: ``fork-nr=fixtures/scores.jsonl``."""
        return f"{self.label}={self.path}" if self.label is not None else str(self.path)


@dataclass(frozen=True)
class OriginalTable:
    """One table of the manifest, its paths resolved and its options merged with defaults."""

    index: int
    id: str
    features: Path
    scores: tuple[ScoreSource, ...]
    out: Path
    audit_json: Path | None
    options: TableConfig
    config: dict[str, Any]
    """The options set in ``defaults`` or the table (as the report shows them)."""


@dataclass(frozen=True)
class OriginalManifest:
    """A loaded manifest: where it is, its base folder, its tables."""

    path: Path
    base_dir: Path
    tables: tuple[OriginalTable, ...]


def is_original(data: object) -> bool:
    """Whether a manifest's data is the original dialect: an object with ``tables`` and no
    ``version``."""
    return isinstance(data, dict) and "tables" in data and "version" not in data


def manifest_dialect(path: str | os.PathLike[str]) -> Dialect:
    """The dialect of the manifest at ``path``: native, the original materializer's
    (``tables`` of ``features``/``scores``), or the original saliency runner's (``tables`` of
    ``input``/``output``); a file that cannot be read as a manifest is left to the native loader's
    messages."""
    data = read_document(Path(path).absolute()).data
    if is_original_saliency_manifest(data):
        return "original-saliency"
    return "original" if is_original(data) else "native"


def resolve(text: str, base_dir: Path) -> Path:
    """A manifest path: absolute as is, else below ``base_dir``."""
    path = Path(text)
    return path if path.is_absolute() else base_dir / path


def score_source(text: str, base_dir: Path) -> ScoreSource:
    """``[LABEL=]path``: the label is split off at the first ``=`` unless the whole text names
    an existing file; an empty label is no label."""
    whole = resolve(text, base_dir)
    if "=" not in text or whole.exists():
        return ScoreSource(None, whole)
    label, _, raw = text.partition("=")
    return ScoreSource(label.strip() or None, resolve(raw, base_dir))


def load_original(
    path: str | os.PathLike[str], *, base_dir: str | os.PathLike[str] | None = None
) -> OriginalManifest:
    """Read and validate an original manifest; raise one :class:`InputError` listing every
    problem, each with its location (``tables[1].missing_policy: …``)."""
    path = Path(path)
    data = read_document(path.absolute()).data
    if not isinstance(data, dict):
        msg = f"{path}: a manifest is an object with tables, not {kind_of(data)}"
        raise InputError(msg)
    try:
        manifest = OriginalManifestFile.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, schema=OriginalManifestFile, wording=DOCUMENT)
        raise_problems(path, problems)
        raise  # pragma: no cover - raise_problems raised
    root = Path(base_dir) if base_dir is not None else path.parent
    defaults = manifest.defaults or TableConfig()
    tables = tuple(
        _table(index, entry, defaults, root) for index, entry in enumerate(manifest.tables)
    )
    problems = []
    seen: dict[Path, int] = {}
    for table in tables:
        target = Path(os.path.normpath(table.out.absolute()))
        if target in seen:
            problems.append(
                f"tables[{table.index}].out: {table.out} is also the output of "
                f"tables[{seen[target]}]; give each table its own output"
            )
        seen.setdefault(target, table.index)
        problems.extend(_repeated_labels(table))
    raise_problems(path, problems)
    return OriginalManifest(path=path, base_dir=root, tables=tables)


def _repeated_labels(table: OriginalTable) -> list[str]:
    """One competitor's scores split over two files of a table: the original merges them; a
    native join takes one file per scorer, so they are refused with the fix."""
    first: dict[str, int] = {}
    problems = []
    for index, source in enumerate(table.scores):
        if source.label is None:
            continue
        if source.label in first:
            problems.append(
                f"tables[{table.index}].scores[{index}]: the label {source.label!r} also names "
                f"scores[{first[source.label]}]; a competitor's scores must be in one file "
                "(concatenate the files, or give each its own label)"
            )
        first.setdefault(source.label, index)
    return problems


def _table(index: int, entry: TableEntry, defaults: TableConfig, root: Path) -> OriginalTable:
    config = {f: getattr(defaults, f) for f in CONFIG_FIELDS if f in defaults.model_fields_set}
    config |= {f: getattr(entry, f) for f in CONFIG_FIELDS if f in entry.model_fields_set}
    return OriginalTable(
        index=index,
        id=entry.id.strip(),
        features=resolve(entry.features, root),
        scores=tuple(score_source(text, root) for text in entry.scores),
        out=resolve(entry.out, root),
        audit_json=resolve(entry.audit_json, root) if entry.audit_json else None,
        options=TableConfig.model_validate(config),
        config=config,
    )
