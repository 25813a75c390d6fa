"""Why bytes are not the text a reader expects, in words: another encoding's byte order mark,
and JSON's decoding errors with the character named and the fix. Shared by the manifest reader
and the table readers, so both say the same thing about the same problem."""

from __future__ import annotations

import codecs
import json

_OTHER_BOMS = (
    # UTF-32's little-endian mark starts with UTF-16's: it is tried first.
    (codecs.BOM_UTF32_LE, "UTF-32", "little-endian"),
    (codecs.BOM_UTF32_BE, "UTF-32", "big-endian"),
    (codecs.BOM_UTF16_LE, "UTF-16", "little-endian"),
    (codecs.BOM_UTF16_BE, "UTF-16", "big-endian"),
)
_CHARACTERS = {
    "\x00": ("a NUL byte", None),
    "\t": ("a tab", "\\t"),
    "\r": ("a carriage return", "\\r"),
    "\n": ("a newline", "\\n"),
}


def other_encoding(what: str, head: bytes) -> str | None:
    """If ``head`` starts with a UTF-16 or UTF-32 byte order mark, the message saying that
    ``what`` (e.g. "the manifest") is in that encoding, and the fix; else None."""
    for bom, encoding, order in _OTHER_BOMS:
        if head.startswith(bom):
            return (
                f"{what} is {encoding} text (it starts with a {order} {encoding} byte order "
                "mark), not UTF-8; save it as UTF-8"
            )
    return None


def character_name(char: str, other: str | None = None) -> str:
    """A control character as messages name it: 'a NUL byte', 'a tab'; any other is ``other``,
    or by default 'control character U+0007'."""
    return _CHARACTERS.get(char, (other or f"control character U+{ord(char):04X}", None))[0]


def json_problem(exc: json.JSONDecodeError) -> str:
    """The decoder's message, with what it leaves out: which control character, and the fix."""
    if exc.msg == "Invalid control character at" and exc.pos < len(exc.doc):
        char = exc.doc[exc.pos]
        if char in "\r\n":
            return (
                f"unterminated string: the line ends before its closing quote, column "
                f"{exc.colno}; close the string, or write a newline inside it as \\n"
            )
        escape = _CHARACTERS.get(char, ("", None))[1]
        fix = f"write it as {escape}" if escape else "remove it"
        return (
            f"{character_name(char)} inside a string, column {exc.colno}; JSON allows no raw "
            f"control characters in strings: {fix}"
        )
    if exc.msg.endswith(" at"):  # "Unterminated string starting at": the position is cut off
        return f"{exc.msg} column {exc.colno}"
    return f"{exc.msg}, column {exc.colno}"
