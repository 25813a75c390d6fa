"""Reading VMAF dataset files (the format of Netflix's public dataset) without running them.

:func:`read_dataset` gives the file's names and values; :mod:`~second_opinion.ingest.netflix`
turns them into the canonical rows.

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
from dataclasses import dataclass, field
from pathlib import Path

from second_opinion.errors import InputError
from second_opinion.ingest.errors import UnsafeDatasetError
from second_opinion.paths import not_a_file

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
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Not: "not",
    ast.Invert: "~",
}


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
    problem = not_a_file(path)
    if problem is not None:
        msg = f"{path}: {problem}"
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
