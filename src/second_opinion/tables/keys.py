"""Which key values are usable: the rule every table reader applies to its key columns.

A key is unusable when it is missing, null or empty, only whitespace (the characters in
:data:`WHITESPACE`), holds a NUL character, or is a JSON object or array rather than text.
:func:`key_problem` is the plain-Python definition, :func:`bad_key_sql` its DuckDB pre-filter, and
:func:`bad_key_message` the one wording of the error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

# Python's str.strip() and DuckDB's trim() differ in what whitespace is; we define it as this set.
WHITESPACE = " \t\n\r\v\f"


KeyProblem = Literal["empty", "blank", "nul", "object", "array"]


def key_problem(value: object) -> KeyProblem | None:
    """What makes a key value, as read, unusable; None if nothing does.

    ``empty``: missing, null or ``""``; ``blank``: only whitespace (the characters ``strip``
    removes, so the rule is the same with or without that step); ``nul``: holds a NUL character;
    ``object`` / ``array``: a JSON object or array, which is not text.
    """
    if value is None or value == "":
        return "empty"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        if not value.strip(WHITESPACE):
            return "blank"
        if "\x00" in value:
            return "nul"
    return None


def may_be_json(value: object) -> bool:
    """Whether a key read as text could have been a JSON object or array (DuckDB's JSON reader
    turns them into their JSON text)."""
    return isinstance(value, str) and value[:1] in ("{", "[")


def bad_key_sql(expr: str, *, json_values: bool = False) -> str:
    """A DuckDB condition true where the text key ``expr`` may be unusable (see
    :func:`key_problem`): null, empty or only whitespace, holding a NUL; with ``json_values``,
    also text that starts like a JSON object or array (to be checked against the file)."""
    # Every whitespace character sorts before '!', so a blank key does too: the cheap comparison
    # spares trim() nearly every row (trim on every key costs ~10x the whole test).
    test = (
        f"{expr} IS NULL OR ({expr} < '!' AND trim({expr}, {sql_string(WHITESPACE)}) = '') "
        f"OR contains({expr}, chr(0))"
    )
    if json_values:
        test += f" OR starts_with({expr}, '{{') OR starts_with({expr}, '[')"
    return f"({test})"


def bad_key_message(
    where: str, key: Sequence[str], column: str, value: object, problem: KeyProblem, every: str
) -> str:
    """The error for an unusable key: ``where`` is ``<file> line N``; ``every`` says whose key it
    is (``clip``, ``row``)."""
    if problem == "empty":
        return f"{where}: the key ({', '.join(key)}) is empty; every {every} needs a key"
    if problem == "blank":
        return (
            f"{where}: the key column {column!r} holds only whitespace ({value!r}), which is an "
            f"empty key; every {every} needs a key"
        )
    if problem == "nul":
        return (
            f"{where}: the key column {column!r} holds a NUL character ({value!r}); remove the "
            "NUL from the key"
        )
    shown = json.dumps(value, ensure_ascii=False)
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    return (
        f"{where}: the key column {column!r} holds a JSON {problem} ({shown}), not a string or "
        "a number; write the key as a string"
    )


def sql_string(text: str) -> str:
    """A DuckDB string literal for text that may hold control characters."""
    return "(" + " || ".join(f"chr({ord(ch)})" for ch in text) + ")"
