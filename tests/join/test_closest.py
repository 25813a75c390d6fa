"""The closest-key lookup against a plain-Python reference (its rules, spelled out directly)."""

from __future__ import annotations

import unicodedata
from unittest import mock

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from second_opinion._typing import KEY_NORMALIZATIONS
from second_opinion.join import closest as closest_module
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


@settings(max_examples=100, deadline=None)
@given(
    present=st.sets(st.integers(0, 60), max_size=40),
    wanted=st.lists(st.integers(0, 80), max_size=12),
    span=st.integers(1, 50),
)
def test_closest_reads_a_span_or_scans_per_key(
    present: set[int], wanted: list[int], span: int
) -> None:
    """Numbered clips, the wanted ones mostly absent, often past the end of the other side;
    the span read between the first and the last wanted key cut short at ``span`` rows, so
    that some keys' neighbours come from it and the others' from scans of their own."""
    others = [f"clip{n:04d}" for n in sorted(present)]
    keys = [f"clip{n:04d}.mp4" if n % 7 == 0 else f"clip{n:04d}" for n in wanted]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (d VARCHAR)")
    if others:
        con.executemany("INSERT INTO t VALUES (?)", [(d,) for d in others])
    with mock.patch.object(closest_module, "SPAN", span):
        found = closest(con, keys=[(w,) for w in keys], source="t", text="t.d")
    assert [f[0] if f else None for f in found] == [reference(others, w) for w in keys]


def test_closest_finds_a_key_equal_but_for_case_without_the_pattern() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('CLIP_01'), ('clip_02x')) v(d)")
    found = closest(con, keys=[("clip_01",), ("Clip_02",)], source="t", text="t.d")
    assert found == [("CLIP_01",), ("clip_02x",)]
