"""Reading a manifest file: its bytes into data, or an :class:`InputError` that names the line
(an :class:`UnreadableFileError` when the file is missing, not UTF-8, or not JSON or YAML).

:func:`read_document` reads UTF-8 JSON or YAML (by the suffix), at most
:data:`MAX_MANIFEST_BYTES`, with no key twice in one mapping; a UTF-8 byte order mark is skipped,
UTF-16 and UTF-32 are named with the fix. Integers too long to convert are kept as their text
(:class:`LongNumber`), which no field accepts. For YAML the :class:`Document` keeps the node
tree, to say what a value was written as (``yes`` on line 4, read as a boolean).
"""

from __future__ import annotations

import codecs
import datetime
import errno
import json
import os
import sys
import unicodedata
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic_core import ErrorDetails

from second_opinion.decoding import character_name, json_problem, other_encoding
from second_opinion.errors import InputError, UnreadableFileError
from second_opinion.paths import LOOP, kind_of_mode
from second_opinion.validation import Loc, location, shorten_number

MAX_MANIFEST_BYTES = 16 << 20
"""The largest manifest read (16 MiB). A manifest names files and does not hold data, so a
larger file is refused by its size before it is read: it is the wrong file."""
MAX_DIGITS = sys.int_info.default_max_str_digits
"""The longest integer read as a number (4300 digits, Python's limit for converting text to an
integer); a longer one is kept as its text (:class:`LongNumber`), which no field accepts."""

_SUFFIXES = (".json", ".yaml", ".yml")
_MERGE = "tag:yaml.org,2002:merge"
_NEEDS = "a manifest needs version, output_dir and jobs"


@dataclass(frozen=True)
class LongNumber:
    """An integer of more than :data:`MAX_DIGITS` digits, kept as written."""

    text: str

    def __repr__(self) -> str:
        return shorten_number(self.text)


@dataclass(frozen=True)
class Document:
    """A manifest file's data; for YAML also the node tree, which knows what each value was
    written as and where (``yes`` on line 4, read as ``True``)."""

    data: object
    yaml_root: yaml.Node | None = None

    def yaml_scalar(self, loc: tuple[str | int, ...]) -> yaml.ScalarNode | None:
        """The YAML scalar at ``loc`` (trailing parts past a scalar are pydantic's union tags)."""
        node = self.yaml_root
        for part in loc:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                found = [
                    v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part
                ]
                node = found[-1] if found else None  # the last one wins, as in the data
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                node = node.value[part] if 0 <= part < len(node.value) else None
            else:
                break
        return node if isinstance(node, yaml.ScalarNode) else None

    def explain(self, error: ErrorDetails, loc: Loc, message: str) -> str | None:
        """Why a value is not the string its field wants, when YAML read the text as something
        else (``yes`` as a boolean): the line, and the quotes that keep it text."""
        node = self.yaml_scalar(loc)
        if error["type"] != "string_type" or node is None or node.style is not None:
            return None
        if not node.value:
            return None
        value = error.get("input")
        what = _YAML_READS.get(type(value), "something else")
        if isinstance(value, bool):
            what = f"the boolean {str(value).lower()}"
        return (
            f"{message} (got {node.value} on line {node.start_mark.line + 1}, which "
            f'YAML reads as {what}; quote it to mean the text: "{node.value}")'
        )


_YAML_READS: dict[type, str] = {
    int: "a number",
    float: "a number",
    LongNumber: "a number",
    type(None): "null",
    datetime.date: "a date",
    datetime.datetime: "a date and time",
}


def kind_of(data: object) -> str:
    """What a value is, in a manifest's terms (not Python's)."""
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, int | float | LongNumber):
        return "a number"
    kinds = {
        str: "a string",
        list: "a list",
        bytes: "binary data",
        set: "a set",
        datetime.date: "a date",
        datetime.datetime: "a date and time",
    }
    return kinds.get(type(data), "another kind of value")


def read_document(path: Path) -> Document:
    """Read the manifest at ``path`` as JSON or YAML (by its suffix).

    The file must be UTF-8 (a UTF-8 byte order mark is skipped, as editors on Windows write one);
    UTF-16 and UTF-32 are recognised and refused with the fix. Every error names the line.
    """
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        msg = f"{path}: a manifest must be .json, .yaml or .yml"
        raise InputError(msg)
    text = _text(path, _bytes(path))
    if not text.strip():
        msg = f"{path}: the manifest is empty; {_NEEDS}"
        raise InputError(msg)
    if suffix == ".json":
        return Document(_parse_json(path, text))
    return _parse_yaml(path, text)


def _bytes(path: Path) -> bytes:
    """The file's bytes; a file over :data:`MAX_MANIFEST_BYTES` is refused before it is read."""
    try:
        # Opened without blocking and checked before reading: a FIFO, a socket or a device is
        # refused at once, never waited on.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        stat = os.fstat(fd)
        kind = kind_of_mode(stat.st_mode)
        if kind is not None:
            os.close(fd)
            if kind == "a folder":
                msg = f"{path}: is a folder; name the manifest file in it"
            else:
                msg = f"{path}: is {kind}, not a regular file; name the manifest file"
            raise UnreadableFileError(msg)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            size = stat.st_size
            data = handle.read(MAX_MANIFEST_BYTES + 1) if size <= MAX_MANIFEST_BYTES else b""
    except FileNotFoundError:
        msg = f"{path}: no such manifest"
        raise UnreadableFileError(msg) from None
    except OSError as exc:
        problem = (
            LOOP
            if exc.errno == errno.ELOOP
            else f"cannot read the manifest ({exc.strerror or exc})"
        )
        msg = f"{path}: {problem}"
        raise UnreadableFileError(msg) from None
    if size > MAX_MANIFEST_BYTES or len(data) > MAX_MANIFEST_BYTES:
        shown = f"{_size(size)}, over" if size > MAX_MANIFEST_BYTES else "over"
        msg = (
            f"{path}: the manifest is {shown} the {MAX_MANIFEST_BYTES >> 20} MiB limit: a "
            "manifest names files, it does not hold data; is this the manifest, or a table it "
            "should name?"
        )
        raise InputError(msg)
    return data


def _size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit} ({size:,} bytes)"
    return f"{size} bytes"


def _text(path: Path, data: bytes) -> str:
    """The file's text: UTF-8, a leading byte order mark skipped."""
    wide = other_encoding("the manifest", data)
    if wide is not None:
        msg = f"{path}: {wide}"
        raise UnreadableFileError(msg)
    data = data.removeprefix(codecs.BOM_UTF8)
    bomless = _bomless_encoding(data[:64])
    if bomless is not None:
        msg = (
            f"{path}: the manifest looks like {bomless} text (NUL bytes between its "
            "characters), not UTF-8; save it as UTF-8"
        )
        raise UnreadableFileError(msg)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = line_and_column(data, exc.start)
        msg = (
            f"{path} line {line}: cannot read the manifest: it is not UTF-8 text (byte "
            f"0x{data[exc.start]:02x} at column {column} is not valid UTF-8); save it as UTF-8"
        )
        raise UnreadableFileError(msg) from None


def _bomless_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte order mark, told by where its NUL bytes are: mostly ASCII
    text has one NUL in each 2-byte unit (UTF-16), or three in each 4-byte unit (UTF-32)."""
    for width, encoding in ((4, "UTF-32"), (2, "UTF-16")):
        units = [head[i : i + width] for i in range(0, len(head) - width + 1, width)]
        ascii_like = sum(unit.count(0) == width - 1 for unit in units)
        if len(units) >= 2 and ascii_like >= 0.9 * len(units):
            return encoding
    return None


def line_and_column(data: str | bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` in ``data``: a character offset in text, a byte
    offset in bytes (whose column counts the characters before it on its line)."""
    if isinstance(data, bytes):
        start = data.rfind(b"\n", 0, offset) + 1
        before = data[start:offset].decode("utf-8", errors="replace")
        return data.count(b"\n", 0, offset) + 1, len(before) + 1
    start = data.rfind("\n", 0, offset) + 1
    return data.count("\n", 0, offset) + 1, offset - start + 1


# JSON --------------------------------------------------------------------------------------


def _parse_json(path: Path, text: str) -> object:
    repeated: list[tuple[str, dict[str, Any]]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, value in items:
            if key in data and not repeated:
                repeated.append((key, data))
            data[key] = value
        return data

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        msg = f"{path} line {exc.lineno}: invalid JSON ({json_problem(exc)})"
        raise UnreadableFileError(msg) from None
    except RecursionError:
        msg = f"{path}: JSON nested too deeply"
        raise InputError(msg) from None
    if repeated:
        key, holder = repeated[0]
        where = _location_of(data, holder)
        msg = f"{path}: duplicate key {key!r} in {where}; the second would silently win: keep one"
        raise InputError(msg)
    return data


def _json_int(text: str) -> int | LongNumber:
    if len(text.lstrip("-")) > MAX_DIGITS:
        return LongNumber(text)
    try:
        return int(text)
    except ValueError:  # a lower limit set with PYTHONINTMAXSTRDIGITS
        return LongNumber(text)


def _location_of(root: object, target: object) -> str:
    """Where ``target`` (an object of ``root``) is: ``jobs[0].sidecars[0]``, or the top level."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if node is target:
            return location(loc) if loc else "the top-level object"
        if isinstance(node, dict):
            stack.extend((v, (*loc, k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, (*loc, i)) for i, v in reversed(list(enumerate(node))))
    return "an object"


# YAML --------------------------------------------------------------------------------------


class _YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with a key repeated in one mapping refused (not a silent
    overwrite) and an integer too long to convert kept as a :class:`LongNumber`."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[object, yaml.Node] = {}
        for key_node, _ in node.value if isinstance(node, yaml.MappingNode) else []:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE:
                continue  # merged keys (<<) may be overridden; that is what they are for
            key = self.construct_object(key_node)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # unhashable: PyYAML refuses it below
                continue
            if first is not key_node:
                problem = (
                    f"duplicate key {key!r}, first on line {first.start_mark.line + 1}; "
                    "the second would silently win: keep one"
                )
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_long_int(self, node: yaml.ScalarNode) -> int | LongNumber:
        try:
            value = self.construct_yaml_int(node)
            str(value)  # Python refuses to spell out an integer of more than MAX_DIGITS digits
        except ValueError:
            return LongNumber(str(node.value))
        return value


_YamlLoader.add_constructor("tag:yaml.org,2002:int", _YamlLoader.construct_long_int)


def _parse_yaml(path: Path, text: str) -> Document:
    try:
        loader = _YamlLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except RecursionError:
        msg = f"{path}: YAML nested too deeply"
        raise InputError(msg) from None
    except yaml.reader.ReaderError as exc:
        line, column = line_and_column(text, exc.position)
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)[:1]
        control = unicodedata.category(char) == "Cc"
        name = character_name(char, "a control character") if control else "a noncharacter"
        why = "YAML allows no control characters" if control else "YAML does not allow it"
        msg = (
            f"{path} line {line}: invalid YAML (unacceptable character #x{ord(char):04x}, "
            f"{name}, column {column}; {why}: remove it)"
        )
        raise UnreadableFileError(msg) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        msg = f"{path}{where}: invalid YAML ({problem})"
        raise UnreadableFileError(msg) from None
    lines = [line.strip() for line in text.splitlines()]
    if data is None and all(not line or line.startswith("#") for line in lines):
        msg = f"{path}: the manifest is empty (only comments); {_NEEDS}"
        raise InputError(msg)
    return Document(data, root)
