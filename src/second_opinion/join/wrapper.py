"""Wrapper records: JSON/JSONL score rows, as the original materializer reads them.

A scorer wrapper writes one JSON object per clip (``.jsonl``/``.ndjson``: one per line;
``.json``: a list of them, ``{"rows": [...]}``, ``{"results": [...]}`` or one object). Each row
is read here, in Python, into one :class:`WrapperRecord`; the records are split by scorer
(``competitor``) and each group is written as a per-clip table into the join's scratch folder,
which the rest of the join treats as an ordinary per-clip sidecar (as :mod:`aligned` does for
score matrices). The rules, field by field:

* key: ``key_field`` (exact name) if set, else the first of :data:`KEY_FIELDS` (any case) in the
  row, else in its ``summary`` object. ``auto`` key normalisation is decided by the name of the
  field each key came from.
* score: ``score_field`` if set and present, else the first of :data:`SCORE_FIELDS` in the row,
  else in ``summary``, else the mean of that field over the non-empty ``frames[]`` list (``frames``
  is then the frame count, else 0). A score is a finite number.
* runtime_ms: the first of :data:`RUNTIME_FIELDS` in the row, else ``summary``, else the sum over
  the frames that have one, else null.
* status: the row's ``status``: absent, null, ``""``, ``pass``, ``success``, ``ok`` -> ``ok``;
  anything else ``bad`` (case and surrounding whitespace ignored).
* scorer: the row's ``competitor`` (then ``summary.competitor``), else the sidecar's scorer
  (unless ``scorer_fallback`` is false).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from second_opinion.decoding import json_problem
from second_opinion.errors import InputError, KeyProblemError, UnreadableFileError
from second_opinion.join.keys import normalize_key, path_like
from second_opinion.join.plan import (
    Base,
    OutputColumn,
    Owners,
    Sidecar,
    claim_names,
    plan_derived,
)
from second_opinion.join.session import JoinSession
from second_opinion.join.spec import SidecarSpec, scorer_slug
from second_opinion.tables.diagnosis import _not_utf8_error
from second_opinion.tables.files import _json_object
from second_opinion.tables.formats import check_file
from second_opinion.tables.keys import bad_key_message, key_problem
from second_opinion.tables.memory import file_of
from second_opinion.tables.reading import open_table

KEY_FIELDS = (
    "clip_id",
    "video_id",
    "chug_video_id",
    "content_id",
    "file_name",
    "filename",
    "basename",
    "name",
    "distorted_path",
    "dis_path",
    "path",
)
"""Fields a row's key is looked for in, in order (any case)."""
SCORE_FIELDS = ("score", "mos", "predicted_mos", "predicted_vmaf_or_mos", "quality", "vmaf")
"""Fields a row's score is looked for in, in order (any case)."""
RUNTIME_FIELDS = ("runtime_ms", "runtime_total_ms", "elapsed_ms")
"""Fields a row's runtime (milliseconds) is looked for in, in order (any case)."""
OK_STATUSES = ("", "pass", "success", "ok")
"""Statuses (stripped, lower-cased) that mean ``ok``; any other is ``bad``."""

KEY = "key"
PATH_KEY = "__so_path_key"
"""Column of a written group: whether the row's key came from a field named like a path."""
CARRIED = ("status", "frames", "source")
"""The written columns carried to the output as they are (not scores)."""
SCORES = ("score", "runtime_ms")
"""The written columns that are numbers."""


@dataclass(frozen=True)
class WrapperRecord:
    """One wrapper row, read: where it is, its scorer, key and values."""

    place: str  # "line N" or "rows[i]"
    scorer: str
    key: str
    key_field: str
    score: float
    status: str
    runtime_ms: float | None
    frames: int


def status_of(value: object) -> str:
    """``ok`` or ``bad``: a row's status as the original reads it (absent or null: ``ok``)."""
    if value is None:
        return "ok"
    return "ok" if str(value).strip().lower() in OK_STATUSES else "bad"


def _rows(path: Path) -> Iterator[tuple[str, object]]:
    """Each row of a wrapper file with its place (``line N`` or ``rows[i]``)."""
    suffix = path.suffix.lower()
    check_file(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8_error(path, False, exc) from None
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror or exc})"
        raise UnreadableFileError(msg) from None
    if suffix in (".jsonl", ".ndjson"):
        # split on "\n" only: a JSON string may hold U+2028, which str.splitlines() breaks on
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                yield f"line {number}", _json_object(path, number, line)
        return
    if suffix != ".json":
        msg = (
            f"{path}: wrapper records are read from .jsonl, .ndjson or .json files, not "
            f"{path.suffix or '(no suffix)'!r}; convert the scores, or use records: table"
        )
        raise UnreadableFileError(msg)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: invalid JSON ({json_problem(exc)})"
        raise UnreadableFileError(msg) from None
    if isinstance(document, dict):
        for name in ("rows", "results"):
            if isinstance(document.get(name), list):
                for index, row in enumerate(document[name]):
                    yield f"{name}[{index}]", row
                return
        yield "the object", document
        return
    if isinstance(document, list):
        for index, row in enumerate(document):
            yield f"rows[{index}]", row
        return
    msg = f"{path}: expected a list of score rows or an object, got {type(document).__name__}"
    raise UnreadableFileError(msg)


def _find(mapping: Mapping[str, object], names: tuple[str, ...]) -> tuple[str, object] | None:
    """The first of ``names`` present in ``mapping`` (any case): (its name there, its value)."""
    lowered = {str(k).lower(): str(k) for k in mapping}
    for name in names:
        actual = lowered.get(name)
        if actual is not None:
            return actual, mapping[actual]
    return None


def _find_in_row(row: Mapping[str, object], names: tuple[str, ...]) -> tuple[str, object] | None:
    """:func:`_find` in the row, then in its ``summary`` object (named ``summary.<field>``)."""
    found = _find(row, names)
    if found is not None:
        return found
    summary = row.get("summary")
    if isinstance(summary, dict):
        inner = _find(summary, names)
        if inner is not None:
            return f"summary.{inner[0]}", inner[1]
    return None


class _Row:
    """One row being read, for messages naming its file, place and field."""

    def __init__(self, path: Path, place: str, row: Mapping[str, object]) -> None:
        self.path, self.place, self.row = path, place, row

    def fail(self, problem: str, error: type[InputError] = InputError) -> InputError:
        return error(f"{self.path} {self.place}: {problem}")

    def number(self, field: str, value: object) -> float:
        """``value`` of ``field`` as a finite number, or an error naming it."""
        number: float | None = None
        if not isinstance(value, bool) and isinstance(value, int | float | str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            shown = json.dumps(value) if not isinstance(value, str) else repr(value)
            fix = "write a finite number, or drop the row"
            problem = f"field {field!r} is {shown}, not a finite number; {fix}"
            raise self.fail(problem)
        return number


def _key(reader: _Row, key_field: str | None) -> tuple[str, str]:
    """The row's key as text, and the field it came from."""
    row = reader.row
    if key_field is not None:
        if key_field not in row:
            fields = ", ".join(map(str, row)) or "none"
            problem = f"no key field {key_field!r} (fields: {fields}); fix key_field, or the row"
            raise reader.fail(problem, KeyProblemError)
        found: tuple[str, object] | None = (key_field, row[key_field])
    else:
        found = _find_in_row(row, KEY_FIELDS)
    if found is None:
        fields = ", ".join(map(str, row)) or "none"
        problem = (
            f"no key field (looked for {', '.join(KEY_FIELDS)} in the row and its summary; "
            f"fields: {fields}); set key_field"
        )
        raise reader.fail(problem, KeyProblemError)
    field, value = found
    if isinstance(value, bool):
        problem = f"key field {field!r} is {json.dumps(value)}, not a string or a number"
        raise reader.fail(problem)
    problem_kind = key_problem(value)
    if problem_kind is not None:
        msg = bad_key_message(
            where=f"{reader.path} {reader.place}",
            key=[field],
            column=field,
            value=value,
            problem=problem_kind,
            every="row",
        )
        raise KeyProblemError(msg)
    # A number's text is Python's, as the original's str(value): 1.0 stays "1.0", as DuckDB
    # reads the same number in a JSONL base table.
    return str(value), field


def _score(reader: _Row, score_field: str | None) -> tuple[float, int]:
    """The row's score and its frame count (0 for a score given as one value)."""
    row = reader.row
    if score_field is not None and score_field in row:
        return reader.number(score_field, row[score_field]), 0
    found = _find_in_row(row, SCORE_FIELDS)
    if found is not None:
        return reader.number(*found), 0
    frames = row.get("frames")
    if not isinstance(frames, list) or not frames:
        problem = (
            f"no score (looked for {', '.join(SCORE_FIELDS)} in the row and its summary, and "
            "a non-empty frames[] list); set score_field"
        )
        raise reader.fail(problem)
    values = []
    for index, frame in enumerate(frames):
        if not isinstance(frame, dict):
            problem = f"frames[{index}] is not an object"
            raise reader.fail(problem)
        inner = _find(frame, SCORE_FIELDS)
        if inner is None:
            problem = f"frames[{index}] has no score ({', '.join(SCORE_FIELDS)})"
            raise reader.fail(problem)
        values.append(reader.number(f"frames[{index}].{inner[0]}", inner[1]))
    return sum(values) / len(values), len(values)


def _runtime(reader: _Row) -> float | None:
    """The row's runtime in milliseconds, or None."""
    row = reader.row
    found = _find_in_row(row, RUNTIME_FIELDS)
    if found is not None and found[1] is not None:
        return reader.number(*found)
    frames = row.get("frames")
    total, seen = 0.0, False
    for index, frame in enumerate(frames if isinstance(frames, list) else []):
        inner = _find(frame, RUNTIME_FIELDS) if isinstance(frame, dict) else None
        if inner is not None and inner[1] is not None:
            total += reader.number(f"frames[{index}].{inner[0]}", inner[1])
            seen = True
    return total if seen else None


def _scorer(reader: _Row, spec: SidecarSpec) -> str:
    """The row's scorer: its competitor, else the sidecar's scorer (``scorer_fallback``)."""
    for holder in (reader.row, reader.row.get("summary")):
        if isinstance(holder, dict):
            value = holder.get("competitor")
            if isinstance(value, str) and value.strip():
                name = value.strip()
                if not scorer_slug(name):
                    problem = (
                        f"competitor {name!r} gives no column name (it needs a letter or a "
                        "digit); fix the competitor"
                    )
                    raise reader.fail(problem)
                return name
    if spec.scorer_fallback:
        return spec.scorer
    problem = (
        "the row names no competitor; name the scorer (LABEL=path), or give the row a "
        "competitor field"
    )
    raise reader.fail(problem)


def read_records(spec: SidecarSpec) -> list[WrapperRecord]:
    """Every row of ``spec.path`` read as a record, in file order; duplicates refused."""
    records: list[WrapperRecord] = []
    path = file_of(spec.path)
    for place, row in _rows(path):
        if not isinstance(row, dict):
            msg = (
                f"{spec.path} {place}: a score row must be a JSON object, got {type(row).__name__}"
            )
            raise InputError(msg)
        reader = _Row(path, place, row)
        scorer = _scorer(reader, spec)
        key, field = _key(reader, spec.key_field)
        score, frames = _score(reader, spec.score_field)
        status = status_of(row.get("status"))
        runtime = _runtime(reader)
        records.append(WrapperRecord(place, scorer, key, field, score, status, runtime, frames))
    if not records:
        msg = f"{spec.path}: no score rows; the file holds none"
        raise InputError(msg)
    _refuse_duplicates(spec, records)
    return records


def _refuse_duplicates(spec: SidecarSpec, records: list[WrapperRecord]) -> None:
    """Refuse two rows with one scorer and one key (once normalised)."""
    seen: dict[tuple[str, str], WrapperRecord] = {}
    for record in records:
        normal = normalize_key(record.key, spec.normalize_keys, column=record.key_field)
        first = seen.setdefault((record.scorer, normal), record)
        if first is not record:
            msg = (
                f"{spec.path}: duplicate score for scorer {record.scorer!r} and key "
                f"{normal!r} ({first.place} and {record.place}); keep one row per clip and "
                "scorer"
            )
            raise KeyProblemError(msg)


def write_groups(spec: SidecarSpec, folder: Path, index: int) -> list[tuple[str, Path]]:
    """Write each scorer's records as a per-clip Parquet table in ``folder``; return
    (scorer, path) pairs in sorted order of the scorer."""
    import pyarrow as pa  # noqa: PLC0415 - only when wrapper records are met
    import pyarrow.parquet as pq  # noqa: PLC0415

    records = read_records(spec)
    groups: dict[str, list[WrapperRecord]] = {}
    for record in records:
        groups.setdefault(record.scorer, []).append(record)
    written = []
    for number, scorer in enumerate(sorted(groups)):
        rows = groups[scorer]
        table = pa.table(
            {
                KEY: pa.array([r.key for r in rows], type=pa.string()),
                PATH_KEY: pa.array([path_like(r.key_field) for r in rows], type=pa.bool_()),
                "score": pa.array([r.score for r in rows], type=pa.float64()),
                "status": pa.array([r.status for r in rows], type=pa.string()),
                "runtime_ms": pa.array([r.runtime_ms for r in rows], type=pa.float64()),
                "frames": pa.array([r.frames for r in rows], type=pa.int64()),
                "source": pa.array([str(spec.path)] * len(rows), type=pa.string()),
            }
        )
        target = folder / f"wrapper-{index}-{number}.parquet"
        pq.write_table(table, target)
        written.append((scorer, target))
    return written


def plan_wrapper(
    session: JoinSession, *, spec: SidecarSpec, index: int, base: Base, owners: Owners
) -> tuple[Sidecar, ...]:
    """Read wrapper sidecar number ``index`` and plan one per-clip sidecar per scorer, with
    the columns ``score``, ``status``, ``runtime_ms``, ``frames``, ``source`` (in that order)."""
    planned = []
    say = session.spelling.sidecar(index, spec.scorer)
    for number, (scorer, path) in enumerate(write_groups(spec, session.scratch(), index)):
        prefix = spec.prefix_for(scorer)
        outputs = (
            OutputColumn(f"{prefix}score", "score", None, 0),
            OutputColumn(f"{prefix}status", "status", None, 0, True, "'missing'"),
            OutputColumn(f"{prefix}runtime_ms", "runtime_ms", None, 1),
            OutputColumn(f"{prefix}frames", "frames", None, 1, True, "0"),
            OutputColumn(f"{prefix}source", "source", None, 2, True, "''"),
        )
        sidecar = Sidecar(
            spec=spec,
            table=open_table(session.con, path),
            keys=(KEY,),
            columns=SCORES,
            outputs=outputs,
            derived=plan_derived(spec, [o for o in outputs if not o.carried], base.table, say),
            name=f"so_sidecar_{index}_{number}",
            say=say,
            group=scorer,
            carried=CARRIED,
            path_flag=PATH_KEY,
        )
        claim_names(sidecar, owners)
        planned.append(sidecar)
    return tuple(planned)
