"""The closest key: for an unmatched key, the key of the other side to show beside it.

First choice: the shortest other key that contains this key once it is normalised with every
step, compared in lower case and Unicode normalisation form C (``3339962845`` finds
``/data/3339962845.mp4``, which tells the user which normalisation would match them).
Otherwise: among the :data:`NEIGHBOURS` keys on each side of it in sorted order, the nearest by
edit distance after normalisation, then by raw edit distance, then alphabetically (so a typo in
a later character is found). Never an all-pairs distance.

All the keys asked about are looked up in one statement: one regular expression (the
alternation of every normalised key) picks the few rows that may contain one, and each key's
neighbours are two ``ORDER BY … LIMIT`` scans (a top-N, not a sort of the other side).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from second_opinion._typing import KEY_NORMALIZATIONS
from second_opinion.join.keys import edit_distance, normalize_key

NEIGHBOURS = 6
"""Keys on each side, in sorted order, considered as a closest key."""


def closest(
    con: duckdb.DuckDBPyConnection, *, keys: Sequence[tuple[str, ...]], source: str, text: str
) -> list[tuple[str, ...] | None]:
    """For each key, a key of the other side (``text`` over ``source``) to show beside it as its
    likely partner (see the module's docstring)."""
    if not keys:
        return []
    texts = ["|".join(k) for k in keys]
    loose = [normalize_key(t, KEY_NORMALIZATIONS) for t in texts]
    other = f"(SELECT {text} AS d FROM {source})"
    parts: list[str] = []
    params: list[object] = []
    for i, wanted in enumerate(texts):
        parts.append(
            f"(SELECT {i} AS i, 1 AS side, d FROM {other} WHERE d >= ? "
            f"ORDER BY d LIMIT {NEIGHBOURS})"
        )
        parts.append(
            f"(SELECT {i} AS i, 2 AS side, d FROM {other} WHERE d < ? "
            f"ORDER BY d DESC LIMIT {NEIGHBOURS})"
        )
        params.extend([wanted, wanted])
    targets = [(i, t) for i, t in enumerate(loose) if t]
    if targets:
        # The rows whose folded key holds any target (one pass of one regular expression),
        # then, per key, the shortest of those that holds it.
        pattern = "|".join(_literal(t) for _, t in targets)
        folded = (
            f"(SELECT d, ld FROM (SELECT d, lower(nfc_normalize(d)) AS ld FROM {other}) "
            "WHERE regexp_matches(ld, ?))"
        )
        wanted_list = "(SELECT unnest(?::BIGINT[]) AS i, unnest(?::VARCHAR[]) AS t)"
        parts.append(
            f"(SELECT w.i, 0 AS side, arg_min(c.d, (length(c.d), c.d)) AS d FROM {folded} c "
            f"JOIN {wanted_list} w ON contains(c.ld, w.t) GROUP BY w.i)"
        )
        params.extend([pattern, [i for i, _ in targets], [t for _, t in targets]])
    rows = con.execute(" UNION ALL ".join(parts), params).fetchall()
    containing: dict[int, str] = {}
    neighbours: dict[int, list[str]] = {}
    for i, side, d in rows:
        if d is None:
            continue
        if side == 0:
            containing[int(i)] = str(d)
        else:
            neighbours.setdefault(int(i), []).append(str(d))
    found: list[tuple[str, ...] | None] = []
    for i, (wanted, target) in enumerate(zip(texts, loose, strict=True)):
        if i in containing:
            found.append(tuple(containing[i].split("|")))
        elif i in neighbours:
            found.append(tuple(_nearest(neighbours[i], wanted=wanted, target=target).split("|")))
        else:
            found.append(None)
    return found


def _literal(text: str) -> str:
    """``text`` as a regular expression (RE2) matching exactly it: every character as its
    code point."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in text)


def _nearest(candidates: Sequence[str], *, wanted: str, target: str) -> str:
    """The candidate nearest ``target`` (``wanted`` normalised) after normalisation, then
    nearest ``wanted`` as written, then the first alphabetically."""

    def distance(candidate: str) -> tuple[int, int, str]:
        loose = normalize_key(candidate, KEY_NORMALIZATIONS)
        return edit_distance(loose, target), edit_distance(candidate, wanted), candidate

    return min(candidates, key=distance)
