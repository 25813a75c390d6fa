"""The closest-key lookup against a plain-Python reference (its rules, spelled out directly)."""

from __future__ import annotations

import unicodedata

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from second_opinion._typing import KEY_NORMALIZATIONS
from second_opinion.join.closest import NEIGHBOURS, closest
from second_opinion.join.keys import edit_distance, normalize_key

PIECES = ["a", "b", "B", "\u00e9", "e\u0301", "/", ".", "1", "0", " ", "clip"]
PARTS = st.lists(st.sampled_from(PIECES), max_size=5).map("".join)


def reference(others: list[str], wanted: str) -> str | None:
    """The shortest other key holding ``wanted`` fully normalised (case and NFC folded), else
    the nearest of the NEIGHBOURS keys either side of it in sorted order."""
    target = normalize_key(wanted, KEY_NORMALIZATIONS)
    if target:
        holding = [d for d in others if target in unicodedata.normalize("NFC", d).lower()]
        if holding:
            return min(holding, key=lambda d: (len(d), d))
    ordered = sorted(others, key=lambda d: d.encode())
    above = [d for d in ordered if d.encode() >= wanted.encode()][:NEIGHBOURS]
    below = [d for d in ordered if d.encode() < wanted.encode()][-NEIGHBOURS:]
    if not above + below:
        return None

    def distance(d: str) -> tuple[int, int, str]:
        loose = normalize_key(d, KEY_NORMALIZATIONS)
        return edit_distance(loose, target), edit_distance(d, wanted), d

    return min(above + below, key=distance)


@settings(max_examples=150, deadline=None)
@given(others=st.lists(PARTS.filter(bool), max_size=40), wanted=st.lists(PARTS, max_size=8))
def test_closest_follows_its_rules(others: list[str], wanted: list[str]) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (d VARCHAR)")
    if others:
        con.executemany("INSERT INTO t VALUES (?)", [(d,) for d in others])
    found = closest(con, keys=[(w,) for w in wanted], source="t", text="t.d")
    expected = [reference(others, w) for w in wanted]
    assert [f[0] if f else None for f in found] == expected
