"""A plain-Python reference of the original materializer's semantics (one table of its manifest).

Written from the behaviour documented in docs/migrating.md, the slow and obvious way, with no
DuckDB: feature rows are dicts as read from JSONL or JSON, score files are wrapper rows. It
computes what the dialect must write for a table — the rows (base columns as read, then five
columns per competitor in sorted order of the competitor) and the audit's counts — or raises
:class:`ReferenceError` with the message the original gives.

Used to write the expected outputs of ``testdata/original-smoke-second-opinion-batch/`` and to
check the dialect's outputs cell by cell in the tests.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from second_opinion.join.wrapper import KEY_FIELDS, RUNTIME_FIELDS, SCORE_FIELDS

SUFFIXES = ("score", "status", "runtime_ms", "frames", "source")


class ReferenceError(Exception):
    """What the original refuses, with its message."""


@dataclass
class Stats:
    """The audit's counts of one competitor."""

    competitor: str
    column_prefix: str
    scores_loaded: int = 0
    matched_rows: int = 0
    missing_rows: int = 0
    bad_rows: int = 0


@dataclass
class RefTable:
    """What one table of the manifest gives."""

    rows: list[dict[str, object]]
    key_column: str
    input_rows: int
    stats: dict[str, Stats] = field(default_factory=dict)


def slug(name: str) -> str:
    """Lower case, runs of anything but ``[a-z0-9]`` as one ``_``, no ``_`` at the ends."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _lookup(row: dict[str, object], names: tuple[str, ...]) -> tuple[str, object] | None:
    by_lower = {str(k).lower(): k for k in row}
    for name in names:
        if name in by_lower:
            return by_lower[name], row[by_lower[name]]
    return None


def normalise(value: object, mode: str, field_name: str) -> str:
    """A key as the original compares it: stripped text, then the mode's step."""
    text = str(value).strip()
    if not text:
        return ""
    if mode == "auto":
        lowered = field_name.lower()
        mode = "basename" if any(w in lowered for w in ("path", "file", "name")) else "raw"
    if mode == "raw":
        return text
    base = PurePosixPath(text).name
    return base if mode == "basename" else PurePosixPath(base).stem


def _number(value: object) -> float:
    if isinstance(value, bool) or value is None:
        msg = "not numeric"
        raise ReferenceError(msg)
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        msg = "not finite"
        raise ReferenceError(msg)
    return number


def _score(row: dict[str, object], score_field: str | None) -> tuple[float, int]:
    if score_field and score_field in row:
        return _number(row[score_field]), 0
    found = _lookup(row, SCORE_FIELDS)
    summary = row.get("summary")
    if found is None and isinstance(summary, dict):
        found = _lookup(summary, SCORE_FIELDS)
    if found is not None:
        return _number(found[1]), 0
    frames = row.get("frames")
    if not isinstance(frames, list) or not frames:
        msg = "no score"
        raise ReferenceError(msg)
    values = []
    for frame in frames:
        hit = _lookup(frame, SCORE_FIELDS)
        if hit is None:
            msg = "frame without a score"
            raise ReferenceError(msg)
        values.append(_number(hit[1]))
    return sum(values) / len(values), len(values)


def _runtime(row: dict[str, object]) -> float | None:
    found = _lookup(row, RUNTIME_FIELDS)
    summary = row.get("summary")
    if found is None and isinstance(summary, dict):
        found = _lookup(summary, RUNTIME_FIELDS)
    if found is not None:
        return _number(found[1])
    frames = row.get("frames")
    listed = frames if isinstance(frames, list) else []
    times = [hit[1] for f in listed if (hit := _lookup(f, RUNTIME_FIELDS)) is not None]
    return sum(_number(t) for t in times) if times else None


def _competitor(row: dict[str, object], label: str | None) -> str:
    summary = row.get("summary")
    for holder in (row, summary if isinstance(summary, dict) else {}):
        value = holder.get("competitor")
        if isinstance(value, str) and value.strip():
            return value.strip()
    if label:
        return label
    msg = "score row has no competitor"
    raise ReferenceError(msg)


def _key(row: dict[str, object], key_field: str | None, mode: str) -> str:
    if key_field:
        if key_field not in row:
            msg = f"no key field {key_field!r}"
            raise ReferenceError(msg)
        return normalise(row[key_field], mode, key_field)
    summary = row.get("summary")
    for holder in (row, summary if isinstance(summary, dict) else {}):
        found = _lookup(holder, KEY_FIELDS)
        if found is not None:
            return normalise(found[1], mode, found[0])
    msg = "score row has no key field"
    raise ReferenceError(msg)


def _status(row: dict[str, object]) -> str:
    value = row.get("status")
    text = "ok" if value is None else str(value).strip().lower()
    return "ok" if text in ("", "pass", "success", "ok") else "bad"


def read_rows(path: Path) -> list[dict[str, object]]:
    """Rows of a JSONL file, a JSON list, ``{"rows": [...]}``, ``{"results": [...]}``, or one
    wrapper object."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".jsonl", ".ndjson"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    if isinstance(data, dict):
        rows = data.get("rows") or data.get("results")
        return rows if isinstance(rows, list) else [data]
    return list(data)


def reference_table(
    features: list[dict[str, object]],
    scores: list[tuple[str | None, Path, str]],
    *,
    key_column: str | None = None,
    score_key_field: str | None = None,
    score_field: str | None = None,
    key_normalize: str = "auto",
    missing_policy: str = "mark",
    prefix: str = "second_opinion",
) -> RefTable:
    """One table: ``scores`` are (label, file, source text written in the ``source`` column)."""
    columns = list(features[0]) if features else []
    if key_column is None:
        by_lower = {c.lower(): c for c in columns}
        key_column = next(by_lower[k] for k in KEY_FIELDS if k in by_lower)
    records: dict[str, dict[str, tuple[float, str, float | None, int, str]]] = {}
    for label, path, source in scores:
        for row in read_rows(path):
            name = _competitor(row, label)
            key = _key(row, score_key_field, key_normalize)
            if not key:
                msg = "empty score key"
                raise ReferenceError(msg)
            value, frames = _score(row, score_field)
            by_key = records.setdefault(name, {})
            if key in by_key:
                msg = f"duplicate score for {name!r} {key!r}"
                raise ReferenceError(msg)
            by_key[key] = (value, _status(row), _runtime(row), frames, source)
    keys = [normalise(row[key_column], key_normalize, key_column) for row in features]
    out = [dict(row) for row in features]
    keep = [True] * len(out)
    stats: dict[str, Stats] = {}
    for name in sorted(records):
        base = f"{prefix}_{slug(name)}"
        stat = stats[name] = Stats(name, base, scores_loaded=len(records[name]))
        for index, key in enumerate(keys):
            found = records[name].get(key)
            cells: tuple[object, ...]
            if found is None:
                stat.missing_rows += 1
                keep[index] = keep[index] and missing_policy != "drop"
                cells = (None, "missing", None, 0, "")
            else:
                stat.matched_rows += found[1] == "ok"
                stat.bad_rows += found[1] != "ok"
                cells = found
            out[index].update(zip((f"{base}_{s}" for s in SUFFIXES), cells, strict=True))
    missing = [f"{s.competitor}={s.missing_rows}" for s in stats.values() if s.missing_rows]
    if missing_policy == "fail" and missing:
        raise ReferenceError("missing second-opinion scores: " + ", ".join(missing))
    kept = [row for row, k in zip(out, keep, strict=True) if k]
    return RefTable(rows=kept, key_column=key_column, input_rows=len(features), stats=stats)


def jsonl_text(rows: list[dict[str, object]]) -> str:
    """Rows as the original writes a ``.jsonl`` table: one sorted-keys object a line."""
    return "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
