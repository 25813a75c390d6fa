"""Reading VMAF dataset files (the format of Netflix's public dataset) without running them.

A dataset file is Python source that assigns ``ref_videos`` and ``dis_videos`` (lists of dicts
with ``content_id``, ``asset_id``, ``path`` and raw opinion scores ``os`` or a ``dmos``) and a
few scalars (``dataset_name``, ``yuv_fmt``, ``width``, ``height``, ``ref_dir``, ``dis_dir``).
The file is parsed with :mod:`ast` and evaluated by the small evaluator below, never imported,
``eval``-ed or ``exec``-ed. A module may only hold ``name = value`` assignments (and strings, such
as a docstring); a value may only be a literal (string, number, ``True``/``False``/``None``,
list, tuple, dict), a name assigned above, a negated number, or strings joined with ``+`` — the
``ref_dir + '/BigBuckBunny_25fps.yuv'`` of the real files. Anything else (a call, an import,
attribute access, a comprehension, …) is refused with the line it is on.

Values are also limited in size, so that a few lines cannot build gigabytes (``s = s + s``
repeated, or lists of lists of a name): a string holds at most :data:`MAX_STRING` characters,
and the whole file at most :data:`MAX_ELEMENTS` list, tuple and dict elements and
:data:`MAX_CHARACTERS` characters of strings, a name's value counting each time the name is used.
"""

from __future__ import annotations

import ast
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from second_opinion.errors import InputError
from second_opinion.ingest.errors import DatasetFormatError, UnsafeDatasetError
from second_opinion.ingest.presets import NETFLIX_DMOS_SCALE, NETFLIX_OS_SCALE, Scale

Value = object
MAX_STRING = 1_000_000
"""The longest string a dataset file may build (characters): its strings are names and paths."""
MAX_ELEMENTS = 10_000_000
"""The most list, tuple and dict elements a dataset file may hold, a name's counting per use."""
MAX_CHARACTERS = 100_000_000
"""The most characters of strings a dataset file may hold, a name's counting per use."""
_ALLOWED = (
    "only 'name = value' assignments of literals (strings, numbers, True/False/None, lists, "
    "tuples, dicts), names assigned above, negative numbers and strings joined with '+'"
)
_NODE_NAMES: dict[type[ast.AST], str] = {
    ast.Call: "a function call",
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripting",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Lambda: "a lambda",
    ast.JoinedStr: "an f-string",
    ast.IfExp: "a conditional expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'",
    ast.NamedExpr: "an ':=' assignment",
    ast.Starred: "'*' unpacking",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Name: "a name",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield from'",
    ast.Slice: "a slice",
    ast.Import: "an import",
    ast.ImportFrom: "an import",
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.ClassDef: "a class definition",
    ast.If: "an 'if' statement",
    ast.For: "a 'for' loop",
    ast.AsyncFor: "a 'for' loop",
    ast.While: "a 'while' loop",
    ast.With: "a 'with' statement",
    ast.AsyncWith: "a 'with' statement",
    ast.Try: "a 'try' statement",
    ast.Delete: "a 'del' statement",
    ast.AugAssign: "an augmented assignment ('+=')",
    ast.Assert: "an 'assert'",
    ast.Raise: "a 'raise'",
    ast.Global: "a 'global' statement",
    ast.Nonlocal: "a 'nonlocal' statement",
}


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.BinOp):
        return f"the operator {_OPERATORS.get(type(node.op), type(node.op).__name__)!r}"
    if isinstance(node, ast.UnaryOp):
        return f"the operator {_OPERATORS.get(type(node.op), type(node.op).__name__)!r}"
    if isinstance(node, ast.Constant):
        return f"a {type(node.value).__name__} constant"
    if isinstance(node, ast.Expr):
        return f"an expression statement ({_describe(node.value)})"
    for kind, name in _NODE_NAMES.items():
        if isinstance(node, kind):
            return name
    return f"a {type(node).__name__} node"


_OPERATORS: dict[type[ast.AST], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
    ast.BitXor: "^", ast.BitAnd: "&", ast.USub: "-", ast.UAdd: "+", ast.Not: "not",
    ast.Invert: "~",
}  # fmt: skip


@dataclass(frozen=True)
class DatasetFile:
    """The module-level names of a dataset file, their values and where they are assigned."""

    path: Path
    values: dict[str, Value]
    lines: dict[str, int]
    # For each list assigned at module level: the line of each element (entries of dis_videos).
    element_lines: dict[str, tuple[int, ...]] = field(default_factory=dict)


def read_dataset(path: str | Path) -> DatasetFile:
    """Parse a VMAF dataset file and evaluate its assignments, refusing anything but literals.

    Raises :class:`UnsafeDatasetError` naming the line of the first refused construct, and
    :class:`InputError` for a file that cannot be read or is not valid Python.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "no such file"
        msg = f"{path}: {what}"
        raise InputError(msg)
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise InputError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror or exc})"
        raise InputError(msg) from None
    try:
        module = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        msg = f"{path} line {exc.lineno}: not valid Python ({exc.msg}); fix the file"
        raise InputError(msg) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        msg = f"{path}: cannot parse ({type(exc).__name__}: {exc})"
        raise InputError(msg) from None
    evaluator = _Evaluator(path)
    try:
        for statement in module.body:
            evaluator.statement(statement)
    except RecursionError:
        msg = f"{path}: values are nested too deeply to read"
        raise InputError(msg) from None
    return DatasetFile(path, evaluator.values, evaluator.lines, evaluator.element_lines)


@dataclass(frozen=True)
class _Sized:
    """A value and how much it holds once every name in it is spelled out."""

    value: Value
    elements: int = 0
    """List, tuple and dict elements, nested ones included."""
    characters: int = 0
    """Characters of the strings in it (dict keys included)."""


class _Evaluator:
    """Evaluates the allowed subset of Python: literals, names assigned above, ``str + str``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[str, Value] = {}
        self.sizes: dict[str, _Sized] = {}
        self.lines: dict[str, int] = {}
        self.element_lines: dict[str, tuple[int, ...]] = {}
        self.target = ""
        self.elements = 0  # held by the assignments evaluated so far
        self.characters = 0

    def refuse(self, node: ast.AST, what: str | None = None) -> UnsafeDatasetError:
        line = getattr(node, "lineno", "?")
        where = f" (in the value of {self.target!r})" if self.target else ""
        msg = (
            f"{self.path} line {line}: {what or _describe(node)} is not allowed{where}; "
            f"the dataset file is read, never run, so it may hold {_ALLOWED}; "
            "rewrite the value as a literal"
        )
        return UnsafeDatasetError(msg)

    def too_large(self, node: ast.AST, what: str, limit: str, fix: str) -> UnsafeDatasetError:
        """``<file> line <n>: <what> (in the value of <name>)<limit>; <fix>``."""
        where = f" (in the value of {self.target!r})" if self.target else ""
        line = getattr(node, "lineno", "?")
        return UnsafeDatasetError(f"{self.path} line {line}: {what}{where}{limit}; {fix}")

    def statement(self, node: ast.stmt) -> None:
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return  # a docstring or a string used as a comment
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            self.target = ""
            raise self.refuse(node)
        for target in targets:
            if not isinstance(target, ast.Name):
                self.target = ""
                raise self.refuse(target, "an assignment to something other than a plain name")
        self.target = ", ".join(t.id for t in targets if isinstance(t, ast.Name))
        result = self.value(value)
        self.elements += result.elements
        self.characters += result.characters
        for target in targets:
            if isinstance(target, ast.Name):
                self.values[target.id] = result.value
                self.sizes[target.id] = result
                self.lines[target.id] = node.lineno
                if isinstance(value, ast.List | ast.Tuple):
                    self.element_lines[target.id] = tuple(e.lineno for e in value.elts)
        self.target = ""

    def value(self, node: ast.expr) -> _Sized:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return self.checked(node, _Sized(node.value, 0, self.string(node, node.value)))
            if node.value is None or isinstance(node.value, bool | int | float):
                return _Sized(node.value)
            raise self.refuse(node)
        if isinstance(node, ast.List | ast.Tuple):
            items = [self.value(e) for e in node.elts]
            return self.checked(
                node,
                _Sized(
                    [i.value for i in items],
                    len(items) + sum(i.elements for i in items),
                    sum(i.characters for i in items),
                ),
            )
        if isinstance(node, ast.Dict):
            return self.checked(node, self.dict_value(node))
        if isinstance(node, ast.Name):
            if node.id not in self.values:
                msg = (
                    f"{self.path} line {node.lineno}: name {node.id!r} is not assigned above "
                    f"(in the value of {self.target!r}); assign it earlier in the file, "
                    "or write the value itself"
                )
                raise UnsafeDatasetError(msg)
            return self.checked(node, self.sizes[node.id])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.value(node.operand).value
            if isinstance(operand, int | float) and not isinstance(operand, bool):
                return _Sized(-operand if isinstance(node.op, ast.USub) else operand)
            raise self.refuse(node, f"{_describe(node)} on a non-number")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.value(node.left).value, self.value(node.right).value
            if isinstance(left, str) and isinstance(right, str):
                self.string(node, left, right)  # before joining: the join is what is too long
                joined = left + right
                return self.checked(node, _Sized(joined, 0, len(joined)))
            raise self.refuse(node, "'+' between non-strings (it joins strings only)")
        raise self.refuse(node)

    def dict_value(self, node: ast.Dict) -> _Sized:
        result: dict[object, Value] = {}
        elements = characters = 0
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                raise self.refuse(value_node, "'**' unpacking")
            key = self.value(key_node)
            if not isinstance(key.value, str | int | float | bool) and key.value is not None:
                raise self.refuse(key_node, "a dict key that is not a string or a number")
            item = self.value(value_node)
            result[key.value] = item.value
            elements += 1 + key.elements + item.elements
            characters += key.characters + item.characters
        return _Sized(result, elements, characters)

    def string(self, node: ast.AST, *parts: str) -> int:
        """The length of the string ``parts`` join into, refused beyond :data:`MAX_STRING`."""
        length = sum(len(part) for part in parts)
        if length > MAX_STRING:
            raise self.too_large(
                node,
                f"a string of {length} characters",
                f" is longer than the {MAX_STRING} a dataset file may hold",
                "a dataset's strings are names and paths: check what the '+' joins",
            )
        return length

    def checked(self, node: ast.AST, sized: _Sized) -> _Sized:
        """``sized``, refused if it and the values before it hold more than the file may."""
        if self.elements + sized.elements > MAX_ELEMENTS:
            raise self.too_large(
                node,
                f"the values up to here hold more than {MAX_ELEMENTS} list, tuple and dict "
                "elements",
                ", the most a dataset file may hold, counting a name's value each time the name "
                "is used",
                "check for lists that repeat a name, or split the dataset",
            )
        if self.characters + sized.characters > MAX_CHARACTERS:
            raise self.too_large(
                node,
                f"the values up to here hold more than {MAX_CHARACTERS} characters of strings",
                ", the most a dataset file may hold, counting a name's value each time the name "
                "is used",
                "check for lists that repeat a name, or split the dataset",
            )
        return sized


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
