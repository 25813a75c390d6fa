"""Column-name patterns of a score matrix: ``f{i:02d}``, parsed, never handed to ``str.format``."""

from __future__ import annotations

import re
import string

MAX_PATTERN_LENGTH = 200
"""The longest columns pattern (characters): every column's name is built from it."""
MAX_PATTERN_WIDTH = 9
"""The largest width (and precision) in the number format of a pattern's ``{i}``."""
_NUMBER_FORMAT = re.compile(
    rf"(?:[^{{}}]?[<>=^])?[+\- ]?#?0?[0-{MAX_PATTERN_WIDTH}]?[,_]?(?:\.[0-{MAX_PATTERN_WIDTH}])?"
    r"[bdeEfFgGnoxX%]?"
)
"""A format spec for ``{i}``: Python's for an integer, with a one-digit width and precision."""
_PATTERN_HINT = "use {i} for the 1-based column number, e.g. 'f{i:02d}'"

PatternParts = tuple[tuple[str, str | None], ...]
"""A parsed columns pattern: (literal text, format spec of the ``{i}`` after it or ``None``)."""


def _allowed_field(name: str, conversion: str | None, spec: str) -> bool:
    """Whether a replacement field of a columns pattern is ``{i}`` with a short number format."""
    return name == "i" and conversion is None and _NUMBER_FORMAT.fullmatch(spec) is not None


def parse_column_pattern(pattern: str) -> PatternParts:
    """The literal text and ``{i}`` fields of a columns pattern, or :class:`ValueError`.

    The pattern is parsed, never handed to ``str.format``: the only field is ``{i}``, with no
    attribute or index lookup and no conversion, and its format is a short integer format
    (``{i}``, ``{i:03d}``, ``{i:x}``; width and precision at most :data:`MAX_PATTERN_WIDTH`).
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        msg = (
            f"columns pattern {pattern!r} is {len(pattern)} characters long; a pattern "
            f"has at most {MAX_PATTERN_LENGTH} characters"
        )
        raise ValueError(msg)
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        msg = f"columns pattern {pattern!r} does not format with i=1 ({exc}); {_PATTERN_HINT}"
        raise ValueError(msg) from None
    parts: list[tuple[str, str | None]] = []
    for literal, name, format_spec, conversion in parsed:
        if name is None:  # trailing text: no field after it
            parts.append((literal, None))
            continue
        spec = format_spec or ""
        if not _allowed_field(name, conversion, spec):
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            msg = (
                f"columns pattern {pattern!r}: the field {shown} is not allowed; the only field "
                "is {i} (the 1-based column number), with no attribute, index or conversion and "
                "at most a short integer format such as {i:02d} or {i:>4} (width and precision "
                f"at most {MAX_PATTERN_WIDTH})"
            )
            raise ValueError(msg)
        parts.append((literal, spec))
    if all(spec is None for _, spec in parts):
        msg = f"columns pattern {pattern!r} has no {{i}}: every column would get one name"
        raise ValueError(msg)
    return tuple(parts)


def format_column_pattern(parts: PatternParts, i: int) -> str:
    """Column ``i``'s name from a parsed pattern (:func:`parse_column_pattern`)."""
    return "".join(literal + ("" if spec is None else format(i, spec)) for literal, spec in parts)


def check_column_pattern(pattern: str) -> str:
    """A column-name pattern must hold ``{i}`` and nothing else (``f{i:02d}``); see
    :func:`parse_column_pattern`."""
    parse_column_pattern(pattern)
    return pattern
