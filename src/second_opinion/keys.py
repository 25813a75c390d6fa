"""Key normalisation: how clip ids are made comparable before matching.

Normalisation is applied to both sides, for matching only; the base table's key values are written
unchanged. Steps always run in this order, whatever order they are asked for in:

``strip``    remove leading and trailing whitespace
``basename`` drop directories (everything up to the last ``/`` or ``\\``)
``stem``     drop the extension (the last ``.suffix`` of the last path part, unless the
             name starts with that dot: ``.hidden`` stays)
``lower``    lower-case, character by character (Unicode's simple case mapping, as DuckDB's
             ``lower()``: ``İ`` becomes ``i``, and a final ``Σ`` becomes ``σ``)

So ``/data/konvid/3339962845.MP4`` with ``basename, stem, lower`` becomes ``3339962845``.
:func:`normalize_key` is the plain-Python definition; :func:`normalize_sql` builds the same
transformation as a DuckDB expression, and a property test holds the two equal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from second_opinion._typing import KEY_NORMALIZATIONS, KeyNormalization
from second_opinion.errors import UsageError

_DIRS = re.compile(r"^.*[/\\]", re.DOTALL)
_EXTENSION = re.compile(r"([^/\\])\.[^./\\]*$", re.DOTALL)
# Python's str.strip() and DuckDB's trim() differ in what whitespace is; we define it as this set.
WHITESPACE = " \t\n\r\v\f"


def canonical_steps(steps: Iterable[str]) -> tuple[KeyNormalization, ...]:
    """The requested steps, validated, without repeats, in their fixed order."""
    wanted = set()
    for step in steps:
        if step not in KEY_NORMALIZATIONS:
            msg = f"unknown key normalisation {step!r}; choose from {', '.join(KEY_NORMALIZATIONS)}"
            raise UsageError(msg)
        wanted.add(step)
    return tuple(s for s in KEY_NORMALIZATIONS if s in wanted)


def normalize_key(key: str, steps: Iterable[KeyNormalization]) -> str:
    """Normalise one key (the reference definition)."""
    ordered = canonical_steps(steps)
    if "strip" in ordered:
        key = key.strip(WHITESPACE)
    if "basename" in ordered:
        key = _DIRS.sub("", key)
    if "stem" in ordered:
        key = _EXTENSION.sub(r"\1", key)
    if "lower" in ordered:
        key = "".join(ch.lower()[:1] for ch in key)
    return key


def normalize_sql(expr: str, steps: Iterable[KeyNormalization]) -> str:
    """A DuckDB expression applying ``steps`` to the text expression ``expr``."""
    ordered = canonical_steps(steps)
    if "strip" in ordered:
        expr = f"trim({expr}, {_sql_string(WHITESPACE)})"
    if "basename" in ordered:
        expr = f"regexp_replace({expr}, '^.*[/\\\\]', '', 's')"
    if "stem" in ordered:
        expr = f"regexp_replace({expr}, '([^/\\\\])\\.[^./\\\\]*$', '\\1', 's')"
    if "lower" in ordered:
        expr = f"lower({expr})"
    return expr


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
        f"{expr} IS NULL OR ({expr} < '!' AND trim({expr}, {_sql_string(WHITESPACE)}) = '') "
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


def _sql_string(text: str) -> str:
    """A DuckDB string literal for text that may hold control characters."""
    return "(" + " || ".join(f"chr({ord(ch)})" for ch in text) + ")"


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), as DuckDB's levenshtein()."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
