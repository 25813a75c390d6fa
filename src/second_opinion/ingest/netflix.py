"""The canonical rows of a VMAF dataset file (the format of Netflix's public dataset).

:func:`dataset_rows` turns the values :func:`~second_opinion.ingest.dataset_file.read_dataset` read
into one row per distorted clip: the clip id (the stem of its path), the score (mean of the raw
opinion scores ``os``, or the ``dmos``), their spread and count, and the entries' other fields.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from second_opinion.ingest.dataset_file import DatasetFile, Value
from second_opinion.ingest.errors import DatasetFormatError
from second_opinion.ingest.presets import NETFLIX_DMOS_SCALE, NETFLIX_OS_SCALE, Scale

# --- the canonical rows -----------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetRows:
    """One row per entry of ``dis_videos``, ready for the canonical table."""

    ids: list[str]
    scores: list[float | None]  # None: no usable score (see ``problems``)
    problems: list[str | None]  # why an entry has no usable score, for messages
    mos_std: list[float | None] | None  # None when the scores are not raw opinion scores
    n_ratings: list[int | None] | None
    others: dict[str, list[object]]  # column -> values, in column order
    score_field: str  # 'os' or 'dmos'
    scale: Scale
    locations: list[str]  # 'line 12 (dis_videos[3])'

    def locate(self, index: int) -> str:
        """Where entry ``index`` is, for messages."""
        return self.locations[index]


def clip_id_of(path: str) -> str:
    """The stem of a path, with ``/`` or ``\\`` separators: ``dis/A_20_288.yuv`` → ``A_20_288``."""
    return PurePosixPath(PurePosixPath(path.replace("\\", "/")).name).stem


def dataset_rows(dataset: DatasetFile) -> DatasetRows:
    """The rows of a dataset file: clip id (the stem of the distorted path), score, the rest.

    With ``os`` (raw opinion scores, a list or a ``{subject: score}`` dict; ``None`` entries are
    skipped) the MOS is their mean, ``mos_std`` their sample standard deviation (n − 1; null
    for a single rating) and ``n_ratings`` their count. With ``dmos`` the MOS is the DMOS as
    given. Every other field of an entry, the ``content_name`` and path of its reference, and
    every scalar assigned at module level follow as columns.
    """
    path = dataset.path
    entries = dataset.values.get("dis_videos")
    if entries is None:
        names = ", ".join(dataset.values) or "none"
        msg = (
            f"{path}: no 'dis_videos' (names assigned: {names}); a VMAF dataset file assigns "
            "ref_videos and dis_videos, lists of dicts"
        )
        raise DatasetFormatError(msg)
    where = f"{path} line {dataset.lines['dis_videos']}"
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        msg = f"{where}: 'dis_videos' must be a list of dicts, one per distorted video"
        raise DatasetFormatError(msg)
    if not entries:
        msg = f"{where}: 'dis_videos' is empty; the dataset has no videos to ingest"
        raise DatasetFormatError(msg)
    lines = dataset.element_lines.get("dis_videos", ())
    locations = [
        f"line {lines[i]} (dis_videos[{i}])" if i < len(lines) else f"dis_videos[{i}]"
        for i in range(len(entries))
    ]
    dicts: list[dict[object, Value]] = [e for e in entries if isinstance(e, dict)]
    score_field = _score_field(path, dicts, locations)
    ids: list[str] = []
    scores: list[float | None] = []
    problems: list[str | None] = []
    stds: list[float | None] = []
    counts: list[int | None] = []
    for index, entry in enumerate(dicts):
        video = entry.get("path")
        if not isinstance(video, str) or not video:
            msg = (
                f"{path} {locations[index]}: entry has no 'path' string (got {video!r}); "
                "every distorted video needs its path, whose stem is the clip id"
            )
            raise DatasetFormatError(msg)
        ids.append(clip_id_of(video))
        if score_field == "os":
            ratings, problem = _ratings(entry)
            scores.append(statistics.fmean(ratings) if ratings else None)
            stds.append(statistics.stdev(ratings) if len(ratings) > 1 else None)
            counts.append(len(ratings) if ratings else None)
        else:
            value = entry.get("dmos")
            number = _number(value)
            problem = None
            if number is None:
                problem = (
                    "entry has no 'dmos'"
                    if "dmos" not in entry
                    else f"'dmos' is {value!r}, which is not a finite number"
                )
            scores.append(number)
        problems.append(problem)
    return DatasetRows(
        ids=ids,
        scores=scores,
        problems=problems,
        mos_std=stds if score_field == "os" else None,
        n_ratings=counts if score_field == "os" else None,
        others=_other_columns(dataset, dicts, score_field),
        score_field=score_field,
        scale=NETFLIX_OS_SCALE if score_field == "os" else NETFLIX_DMOS_SCALE,
        locations=locations,
    )


def _score_field(path: Path, entries: Sequence[dict[object, Value]], where: list[str]) -> str:
    """'os' when the entries hold raw opinion scores, 'dmos' when they hold DMOS; never mixed."""
    first: tuple[str, int] | None = None
    for index, entry in enumerate(entries):
        field_name = "os" if "os" in entry else "dmos" if "dmos" in entry else None
        if field_name is None:
            continue
        if first is None:
            first = (field_name, index)
        elif field_name != first[0]:
            msg = (
                f"{path} {where[index]}: entry has {field_name!r} but {where[first[1]]} has "
                f"{first[0]!r}; one dataset uses one kind of score (raw 'os' or 'dmos') "
                "throughout — split the file"
            )
            raise DatasetFormatError(msg)
    return first[0] if first is not None else "os"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _ratings(entry: dict[object, Value]) -> tuple[list[float], str | None]:
    """An entry's raw opinion scores (``None`` ratings skipped), or why it has none."""
    if "os" not in entry:
        return [], "entry has no 'os'"
    value = entry["os"]
    items = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(items, list):
        return [], f"'os' is {value!r}, not a list of ratings or a {{subject: rating}} dict"
    ratings = []
    for item in items:
        if item is None:
            continue
        number = _number(item)
        if number is None:
            return [], f"'os' holds {item!r}, which is not a finite number"
        ratings.append(number)
    if not ratings:
        return [], "'os' holds no rating"
    return ratings, None


def _other_columns(
    dataset: DatasetFile, entries: Sequence[dict[object, Value]], score_field: str
) -> dict[str, list[object]]:
    """Entry fields (but the score), the reference's name and path, then module scalars."""
    names: dict[str, None] = {}
    for entry in entries:
        for key in entry:
            if str(key) != score_field:
                names.setdefault(str(key), None)
    columns: dict[str, list[object]] = {
        name: [_entry_value(entry, name) for entry in entries] for name in names
    }
    references = _references(dataset)
    if references:
        content_ids = columns.get("content_id", [None] * len(entries))
        found = [references.get(_hashable(c)) for c in content_ids]
        if "content_name" not in columns:
            columns["content_name"] = [r.get("content_name") if r else None for r in found]
        columns.setdefault("ref_path", [r.get("path") if r else None for r in found])
    for name, value in dataset.values.items():
        if name in ("ref_videos", "dis_videos") or name in columns:
            continue
        if value is None or isinstance(value, str | int | float | bool):
            columns[name] = [value] * len(entries)
    return columns


def _entry_value(entry: dict[object, Value], name: str) -> object:
    for key, value in entry.items():
        if str(key) == name:
            return value
    return None


def _hashable(value: object) -> object:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def _references(dataset: DatasetFile) -> dict[object, dict[object, Value]]:
    refs = dataset.values.get("ref_videos")
    if not isinstance(refs, list):
        return {}
    return {_hashable(r.get("content_id")): r for r in refs if isinstance(r, dict)}


def column_values(values: Sequence[object]) -> tuple[str, list[object]]:
    """A column's Arrow type name and its values, so that a column has one type.

    Booleans, integers and strings stay as they are; integers mixed with floats become floats;
    anything else (lists, dicts, mixed types) becomes JSON text, strings staying as they are.
    """
    present = [v for v in values if v is not None]
    kinds = {_kind(v) for v in present}
    if not present or kinds == {"str"}:
        return "string", list(values)
    if kinds == {"bool"}:
        return "bool", list(values)
    if kinds == {"int"} and all(isinstance(v, int) and -(2**63) <= v < 2**63 for v in present):
        return "int64", list(values)
    if kinds <= {"int", "float"}:
        return "float64", [float(v) if isinstance(v, int | float) else None for v in values]
    return "string", [None if v is None else _text(v) for v in values]


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "other"


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
