"""``migrate``: an original manifest as the equivalent native one (version 1).

Each table becomes a job (its ``id`` as the name), each ``scores`` entry a sidecar of wrapper
records with the options :mod:`~second_opinion.batch.original.translate` gives it, the key column
inferred now and written out. ``output_dir`` is the common folder of the outputs, each output
relative to it; inputs are relative to the new manifest's folder. What the native manifest has no
field for (``audit_json``, ``overwrite``) is said in the notes.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from second_opinion.batch.original.load import OriginalTable, load_original
from second_opinion.batch.original.translate import (
    feature_columns,
    key_column,
    sidecar_fields,
)
from second_opinion.placing import write_text_in_place


@dataclass(frozen=True)
class Migration:
    """The native manifest's data, and what it could not carry over."""

    manifest: dict[str, Any]
    notes: tuple[str, ...]

    def text(self, suffix: str = ".yaml") -> str:
        """The manifest as written: JSON for ``.json``, else YAML."""
        if suffix.lower() == ".json":
            return json.dumps(self.manifest, indent=2) + "\n"
        return yaml.safe_dump(self.manifest, sort_keys=False, allow_unicode=True)

    def write(self, output: str | os.PathLike[str]) -> Path:
        """Write the manifest to ``output`` atomically (JSON for ``.json``, else YAML); where."""
        target = Path(output)
        write_text_in_place(target, self.text(target.suffix), "the migrated manifest")
        return target


def _relative(path: Path, folder: Path) -> str:
    absolute = Path(os.path.normpath(path.absolute()))
    try:
        return Path(os.path.relpath(absolute, folder)).as_posix()
    except ValueError:  # another drive (Windows)
        return str(absolute)


def _job_name(table_id: str, taken: set[str]) -> str:
    """A native job name from a table id: lower case, other characters as ``-``, unique."""
    base = re.sub(r"[^a-z0-9_.-]+", "-", table_id.lower()).strip("-._") or "table"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _job(table: OriginalTable, name: str, folder: Path, output_dir: Path) -> dict[str, Any]:
    key = key_column(table.features, feature_columns(table.features), table.options)
    sidecars = []
    for fields in sidecar_fields(table):
        entry = {"scorer": fields.pop("scorer"), "path": _relative(fields.pop("path"), folder)}
        entry |= {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
        sidecars.append(entry)
    return {
        "name": name,
        "description": f"migrated from table {table.id!r}",
        "features": _relative(table.features, folder),
        "key": [key],
        "sidecars": sidecars,
        "output": _relative(table.out, output_dir),
    }


def migrate_manifest(
    path: str | os.PathLike[str],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    target: str | os.PathLike[str] | None = None,
) -> Migration:
    """The native manifest (version 1) equivalent to the original one at ``path``, to be
    written at ``target`` (inputs are relative to its folder; default the current folder):
    :meth:`Migration.write` writes it, :meth:`Migration.text` gives its text. Running either
    manifest produces the same tables; what the native one has no field for is in the notes.
    ``base_dir``: the folder the original's relative paths are below (default: its own)."""
    manifest = load_original(path, base_dir=base_dir)
    folder = Path(os.path.normpath((Path(target).parent if target else Path()).absolute()))
    outs = [Path(os.path.normpath(table.out.absolute())) for table in manifest.tables]
    output_dir = Path(os.path.commonpath([out.parent for out in outs]))
    taken: set[str] = set()
    jobs, notes = [], []
    for table in manifest.tables:
        name = _job_name(table.id, taken)
        jobs.append(_job(table, name, folder, output_dir))
        if table.audit_json is not None:
            notes.append(
                f"tables[{table.index}] ({table.id}): audit_json {table.audit_json} is not "
                f"written by a native batch; its provenance record is "
                f"{table.out.name}.provenance.json beside the output"
            )
        if table.options.overwrite:
            notes.append(
                f"tables[{table.index}] ({table.id}): overwrite has no native field; a native "
                "join refuses output columns the feature table already has"
            )
    document = {
        "version": 1,
        "description": f"migrated from the original manifest {Path(path).name}",
        "output_dir": str(output_dir),
        "jobs": jobs,
    }
    return Migration(document, tuple(notes))
