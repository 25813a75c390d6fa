"""Key normalisation: how clip ids are made comparable before matching.

Normalisation is applied to both sides, for matching only; the base table's key values are written
unchanged. Steps always run in this order, whatever order they are asked for in:

``nfc``      Unicode normalisation form C (composed): ``e`` + combining acute (NFD, as macOS
             file names are often written) becomes ``é``, so keys that print alike compare alike
``strip``    remove leading and trailing whitespace
``auto``     ``basename`` when the key's column is named like a path (its name holds ``path``,
             ``file`` or ``name``, in any case), else nothing: decided per side, by that side's
             key column (:func:`resolve_steps`)
``basename`` drop directories (everything up to the last ``/`` or ``\\``)
``stem``     drop the extension (the last ``.suffix`` of the last path part, unless the
             name starts with that dot: ``.hidden`` stays)
``lower``    lower-case, character by character (Unicode's simple case mapping, as DuckDB's
             ``lower()``: ``İ`` becomes ``i``, and a final ``Σ`` becomes ``σ``)
``number``   a key that is a decimal number in ASCII digits (``[0-9]+``, optionally ``.`` and
             more digits) is written in its plain form: leading zeros dropped (one kept before
             the point), trailing zeros of the fraction dropped, and the point with them when
             nothing is left: ``00123``, ``123.0`` and ``123.`` become ``123``, ``007.50``
             becomes ``7.5``; any other key (a sign, an exponent, a letter) is left as it is

So ``/data/konvid/3339962845.MP4`` with ``basename, stem, lower`` becomes ``3339962845``, and
``0042`` with ``number`` matches ``42.0``.
:func:`normalize_key` is the plain-Python definition; :func:`normalize_sql` builds the same
transformation as a DuckDB expression, and a property test holds the two equal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from second_opinion._typing import KEY_STEPS, KeyNormalization
from second_opinion.errors import UsageError
from second_opinion.tables.keys import WHITESPACE, sql_string

_DIRS = re.compile(r"^.*[/\\]", re.DOTALL)
_EXTENSION = re.compile(r"([^/\\])\.[^./\\]*$", re.DOTALL)
_NUMBER = re.compile(r"([0-9]+)(?:\.([0-9]*))?")
NUMBER_SQL = "[0-9]+(\\.[0-9]*)?"
"""The keys ``number`` rewrites, as a DuckDB (RE2) pattern matched against the whole key."""
PATH_LIKE = ("path", "file", "name")
"""Parts of a key column's name that make ``auto`` take the basename."""


def canonical_steps(steps: Iterable[str]) -> tuple[KeyNormalization, ...]:
    """The requested steps, validated, without repeats, in their fixed order."""
    wanted = set()
    for step in steps:
        if step not in KEY_STEPS:
            msg = f"unknown key normalisation {step!r}; choose from {', '.join(KEY_STEPS)}"
            raise UsageError(msg)
        wanted.add(step)
    return tuple(s for s in KEY_STEPS if s in wanted)


def path_like(column: str) -> bool:
    """Whether ``auto`` takes the basename of keys read from a column (or field) so named."""
    lowered = column.lower()
    return any(part in lowered for part in PATH_LIKE)


def resolve_steps(
    steps: Iterable[KeyNormalization], *, column: str
) -> tuple[KeyNormalization, ...]:
    """The steps for keys read from ``column``: ``auto`` becomes ``basename`` when the column is
    named like a path (:func:`path_like`), and is dropped otherwise."""
    return with_auto(steps, basename=path_like(column))


def with_auto(steps: Iterable[KeyNormalization], *, basename: bool) -> tuple[KeyNormalization, ...]:
    """The steps with ``auto`` replaced by ``basename`` (``basename`` true) or dropped."""
    ordered = canonical_steps(steps)
    if "auto" not in ordered:
        return ordered
    wanted: set[KeyNormalization] = {s for s in ordered if s != "auto"}
    if basename:
        wanted.add("basename")
    return canonical_steps(wanted)


def normalize_key(key: str, steps: Iterable[KeyNormalization], *, column: str = "") -> str:
    """Normalise one key read from ``column`` (the reference definition)."""
    ordered = resolve_steps(steps, column=column)
    if "nfc" in ordered:
        key = unicodedata.normalize("NFC", key)
    if "strip" in ordered:
        key = key.strip(WHITESPACE)
    if "basename" in ordered:
        key = _DIRS.sub("", key)
    if "stem" in ordered:
        key = _EXTENSION.sub(r"\1", key)
    if "lower" in ordered:
        key = "".join(ch.lower()[:1] for ch in key)
    if "number" in ordered and (found := _NUMBER.fullmatch(key)):
        whole = found.group(1).lstrip("0") or "0"
        fraction = (found.group(2) or "").rstrip("0")
        key = f"{whole}.{fraction}" if fraction else whole
    return key


def normalize_sql(expr: str, steps: Iterable[KeyNormalization], *, column: str = "") -> str:
    """A DuckDB expression applying ``steps`` to the text expression ``expr``, a key read from
    ``column``."""
    ordered = resolve_steps(steps, column=column)
    if "nfc" in ordered:
        expr = f"nfc_normalize({expr})"
    if "strip" in ordered:
        expr = f"trim({expr}, {sql_string(WHITESPACE)})"
    if "basename" in ordered:
        expr = f"regexp_replace({expr}, '^.*[/\\\\]', '', 's')"
    if "stem" in ordered:
        expr = f"regexp_replace({expr}, '([^/\\\\])\\.[^./\\\\]*$', '\\1', 's')"
    if "lower" in ordered:
        expr = f"lower({expr})"
    if "number" in ordered:
        expr = number_sql(expr)
    return expr


def number_sql(expr: str) -> str:
    """The ``number`` step as a DuckDB expression over the text expression ``expr``."""
    plain = f"regexp_replace({expr}, '^0+([0-9])', '\\1')"
    plain = f"regexp_replace({plain}, '\\.0*$', '')"
    plain = f"regexp_replace({plain}, '(\\.[0-9]*[1-9])0+$', '\\1')"
    return f"CASE WHEN regexp_full_match({expr}, '{NUMBER_SQL}') THEN {plain} ELSE {expr} END"


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), as DuckDB's levenshtein().

    Bit-parallel (Myers 1999, in Hyyrö's formulation for edit distance): one column of the
    distance matrix is two bit vectors over the shorter string, updated in a few integer
    operations per character of the longer one.
    """
    if len(a) < len(b):
        a, b = b, a
    if a == b or not b:
        return len(a) - len(b)
    m = len(b)
    mask, high = (1 << m) - 1, 1 << (m - 1)
    matches: dict[str, int] = {}
    for i, ch in enumerate(b):
        matches[ch] = matches.get(ch, 0) | (1 << i)
    plus, minus, score = mask, 0, m  # vertical deltas of the current column: +1 and -1
    for ch in a:
        eq = matches.get(ch, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        hp = (minus | ~(xh | plus)) & mask
        hm = plus & xh
        if hp & high:
            score += 1
        elif hm & high:
            score -= 1
        hp = ((hp << 1) | 1) & mask
        hm = (hm << 1) & mask
        plus = (hm | ~(xv | hp)) & mask
        minus = hp & xv
    return score


def key_text(values: Sequence[object]) -> tuple[str, ...]:
    """A key as DuckDB returned it (one value per key column), as text; a null is ``''``."""
    return tuple("" if v is None else str(v) for v in values)


def key_repr(key: str) -> str:
    """``repr(key)``, with the characters that print as nothing or merge with their neighbour
    escaped (combining marks, format and other invisible characters: ``'cafe\\u0301'``), so two
    keys that differ only in them are seen to differ."""
    shown = repr(key)
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _INVISIBLE else ch for ch in shown
    )


_INVISIBLE = frozenset({"Mn", "Me", "Mc", "Cf", "Co", "Cn", "Zl", "Zp"})
"""Unicode categories :func:`key_repr` escapes: marks, format, private and unassigned."""


def unicode_hint(
    key: Sequence[str], other: Sequence[str] | None, option: str = "normalize_keys"
) -> str | None:
    """The fix when ``key`` and ``other`` (its closest key on the other side) differ only in
    Unicode normalisation (``option``: the normalisation option as the caller spells it); None
    otherwise."""
    if other is None or tuple(key) == tuple(other):
        return None
    if [unicodedata.normalize("NFC", k) for k in key] != [
        unicodedata.normalize("NFC", k) for k in other
    ]:
        return None
    return f"they differ only in Unicode normalisation (NFC/NFD): add nfc to {option}"
