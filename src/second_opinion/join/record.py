"""The provenance record of a library join: :func:`~second_opinion.join.run.join_to_file` with
``provenance=True`` writes ``<output>.provenance.json`` as a batch job does (docs/provenance.md).

Its inputs are files (path, size, SHA-256 of the bytes) or in-memory tables (``"source":
"memory"``, no path, SHA-256 of the content: :mod:`second_opinion.tables.memory`). The job is
named after the output (its stem), so an audit of the output names the corpus so, and reads the
key and each scorer's direction from the record, as it does for a batch output.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from second_opinion.hashing import sha256_file
from second_opinion.join.spec import spec_inputs
from second_opinion.placing import put_in_place, staging_token, write_text_in_place
from second_opinion.provenance import (
    SCHEMA,
    environment,
    fingerprint,
    new_run_id,
    provenance_path,
    record_text,
    spec_digest,
    tool_info,
    utc_now,
)
from second_opinion.tables.formats import table_stem
from second_opinion.tables.memory import MemoryTable, TablePath

if TYPE_CHECKING:
    from second_opinion.join.coverage import Coverage
    from second_opinion.join.spec import JoinSpec


def staging_of(output: Path) -> Path:
    """Where the output is built before it is put in place with its record."""
    return output.with_name(f".{output.name}.{staging_token()}.staging{''.join(output.suffixes)}")


class FileHashes:
    """The SHA-256 of a join's files, every file input computed in a thread from its start:
    hashlib and DuckDB release the GIL, so the hashing runs beside the join (as a batch job
    hashes its inputs) instead of after it. The staged output is hashed there too, once
    written (:meth:`add`), while the join's database closes."""

    def __init__(self, spec: JoinSpec) -> None:
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="second-opinion-hash")
        self._hashes: dict[Path, Future[str]] = {}
        for _, _, path in spec_inputs(spec):
            if not isinstance(path, MemoryTable):
                self.add(path)

    def add(self, path: Path) -> None:
        """Hash ``path`` after the files before it."""
        if path not in self._hashes:
            self._hashes[path] = self._pool.submit(self._hash, path)

    def _hash(self, path: Path) -> str:
        if self._stop.is_set():  # the join failed: nobody will ask
            return ""
        return sha256_file(path)

    def of(self, path: Path) -> str:
        """The SHA-256 of ``path`` (an ``OSError`` if it could not be read)."""
        self.add(path)
        return self._hashes[path].result()

    def close(self) -> None:
        """Stop after the file being hashed, and wait for the thread."""
        self._stop.set()
        self._pool.shutdown(wait=True)


def _input(
    role: str,
    scorer: str | None,
    source: TablePath,
    coverage: tuple[Coverage, ...],
    base: int,
    hashes: FileHashes,
) -> dict[str, Any]:
    if isinstance(source, MemoryTable):
        item: dict[str, Any] = {"role": role, **source.describe()}
    else:
        item = {
            "role": role,
            "path": str(source),
            "size": source.stat().st_size,
            "sha256": hashes.of(source),
        }
        # Rows as read: a sidecar split into scorer groups reports one coverage per group.
        read = [c.sidecar_rows for c in coverage if c.path == str(source)]
        item["rows"] = base if role == "features" else (sum(read) if read else None)
    if scorer:
        item["scorer"] = scorer
    return item


def place_with_record(
    spec: JoinSpec,
    *,
    staged: Path,
    output: Path,
    rows: int,
    columns: tuple[str, ...],
    coverage: tuple[Coverage, ...],
    started: str,
    clock: float,
    hashes: FileHashes,
) -> None:
    """Write the record, with the inputs' and the staged output's SHA-256 from ``hashes``, and
    put output and record in place together (:func:`~second_opinion.placing.put_in_place`:
    both old or both new)."""
    base = coverage[0].base_rows if coverage else rows
    inputs = [_input(*entry, coverage, base, hashes) for entry in spec_inputs(spec)]
    data = spec.model_dump(mode="json")
    spec_sha = spec_digest(data)
    suffix = "".join(output.suffixes)
    record = {
        "schema": SCHEMA,
        "tool": tool_info(),
        "environment": environment(),
        "run": {
            "run_id": new_run_id(),
            "started": started,
            "finished": utc_now(),
            "seconds": round(time.monotonic() - clock, 6),
        },
        "job": {"name": table_stem(output), "output": str(output), "spec": data},
        "spec_sha256": spec_sha,
        "fingerprint": fingerprint(spec_sha, [i["sha256"] for i in inputs], suffix),
        "inputs": inputs,
        "output": {
            "path": str(output),
            "size": staged.stat().st_size,
            "sha256": hashes.of(staged),
            "rows": rows,
            "columns": list(columns),
        },
        "coverage": [c.to_dict() for c in coverage],
    }
    record_staging = provenance_path(staged)
    try:
        write_text_in_place(record_staging, record_text(record), "the provenance record")
        put_in_place(
            [(staged, output, "output"), (record_staging, provenance_path(output), "record")]
        )
    finally:
        record_staging.unlink(missing_ok=True)
