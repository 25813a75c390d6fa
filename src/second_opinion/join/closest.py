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

import bisect
from collections.abc import Sequence

import duckdb

from second_opinion._typing import KEY_NORMALIZATIONS
from second_opinion.join.keys import edit_distance, normalize_key

NEIGHBOURS = 6
"""Keys on each side, in sorted order, considered as a closest key."""

SPAN = 2048
"""Keys between the first and the last key asked about read at once (past it, a key's
neighbours are scanned for on their own)."""


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
    containing, neighbours = _first_pass(con, other, texts, loose)
    found: list[tuple[str, ...] | None] = []
    for i, (wanted, target) in enumerate(zip(texts, loose, strict=True)):
        if i in containing:
            found.append(tuple(containing[i].split("|")))
        elif candidates := neighbours[wanted]:
            found.append(tuple(_nearest(candidates, wanted=wanted, target=target).split("|")))
        else:
            found.append(None)
    return found


def _first_pass(
    con: duckdb.DuckDBPyConnection, other: str, texts: Sequence[str], loose: Sequence[str]
) -> tuple[dict[int, str], dict[str, list[str]]]:
    """The shortest key holding each normalised key (by position), and the neighbours of each
    key as written (by text).

    The keys asked about are usually few and close together (the first unmatched ones, keys
    appended past the end of the other side), so one statement reads the other side's keys
    between the first and the last of them, sorted, up to :data:`SPAN` rows, with the
    :data:`NEIGHBOURS` keys before the first and after the last, and the containment lookup.
    A key whose neighbours that span does not hold takes two top-N scans of its own.
    """
    ordered = sorted(set(texts), key=_order)
    first, last = ordered[0], ordered[-1]
    parts = [
        _top(other, "d < ?", i=0, side=1, descending=True, limit=NEIGHBOURS),
        _top(other, "d >= ? AND d < ?", i=0, side=2, descending=False, limit=SPAN),
        _top(other, "d >= ?", i=0, side=3, descending=False, limit=NEIGHBOURS),
    ]
    params: list[object] = [first, first, last, last]
    targets = [(i, t) for i, t in enumerate(loose) if t]
    if targets:
        # The rows whose folded key holds any target (one pass of one regular expression),
        # then, per key, the shortest of those that holds it. An ASCII key is its own fold in
        # lower case: one no longer than every target holds one only by being equal to it, a
        # cheap test that spares most rows the pattern.
        shortest = min(len(t) for _, t in targets)
        maybe = (
            f"strlen(d) <> length(d) OR length(d) > {shortest} "
            "OR list_contains(?::VARCHAR[], lower(d))"
        )
        folded = (
            f"(SELECT d, ld FROM (SELECT d, lower(nfc_normalize(d)) AS ld FROM {other} "
            f"WHERE {maybe}) WHERE regexp_matches(ld, ?))"
        )
        wanted_list = "(SELECT unnest(?::BIGINT[]) AS i, unnest(?::VARCHAR[]) AS t)"
        parts.append(
            f"(SELECT w.i, 0 AS side, arg_min(c.d, (length(c.d), c.d)) AS d FROM {folded} c "
            f"JOIN {wanted_list} w ON contains(c.ld, w.t) GROUP BY w.i)"
        )
        wanted = [t for _, t in targets]
        pattern = "|".join(_literal(t) for t in wanted)
        params.extend([wanted, pattern, [i for i, _ in targets], wanted])
    containing: dict[int, str] = {}
    read: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for i, side, d in con.execute(" UNION ALL ".join(parts), params).fetchall():
        if d is not None:
            if side == 0:
                containing[int(i)] = str(d)
            else:
                read[int(side)].append(str(d))
    before, span, after = read[1][::-1], sorted(read[2], key=_order), read[3]
    whole = len(span) < SPAN  # every key between the first and the last one asked about
    reach = _order(span[-1]) if span else b""
    neighbours: dict[str, list[str]] = {}
    for key in ordered:
        at = bisect.bisect_left(span, _order(key), key=_order)
        # Complete below when the span holds every key from the first one asked about up to
        # this one; above when it holds them all, or six past it, or this is the last one.
        if whole or reach >= _order(key):
            below = (before + span[:at])[-NEIGHBOURS:]
            if whole or len(span) - at >= NEIGHBOURS or key == last:
                neighbours[key] = below + (span[at:] + after)[:NEIGHBOURS]
    missing = [key for key in ordered if key not in neighbours]
    if missing:
        neighbours |= _scanned(con, other, missing)
    return containing, neighbours


def _scanned(
    con: duckdb.DuckDBPyConnection, other: str, keys: Sequence[str]
) -> dict[str, list[str]]:
    """The :data:`NEIGHBOURS` keys of the other side before and after each key: two top-N
    scans per key, in one statement."""
    parts = [
        _top(other, where, i=j, side=side, descending=side == 1, limit=NEIGHBOURS)
        for j in range(len(keys))
        for side, where in ((1, "d < ?"), (3, "d >= ?"))
    ]
    found: dict[str, list[str]] = {key: [] for key in keys}
    params = [key for key in keys for _ in range(2)]
    for j, _, d in con.execute(" UNION ALL ".join(parts), params).fetchall():
        if d is not None:
            found[keys[int(j)]].append(str(d))
    return found


def _top(other: str, where: str, *, i: int, side: int, descending: bool, limit: int) -> str:
    """The first ``limit`` keys of ``other`` (in sorted order, or from the end) that meet
    ``where``, as rows ``(i, side, d)``: a top-N scan, not a sort of the other side."""
    order = "DESC" if descending else "ASC"
    return (
        f"(SELECT {i} AS i, {side} AS side, d FROM {other} WHERE {where} "
        f"ORDER BY d {order} LIMIT {limit})"
    )


def _order(text: str) -> bytes:
    """``text`` as DuckDB orders text: by its UTF-8 bytes."""
    return text.encode("utf-8", "surrogatepass")


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
