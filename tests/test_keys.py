from __future__ import annotations

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from second_opinion.errors import UsageError
from second_opinion.keys import canonical_steps, normalize_key, normalize_sql
from second_opinion.tables import quote_literal


@pytest.mark.parametrize(
    ("key", "steps", "expected"),
    [
        ("  3339962845 ", ["strip"], "3339962845"),
        ("/data/konvid/3339962845.mp4", ["basename", "stem"], "3339962845"),
        ("C:\\clips\\A.MP4", ["basename", "stem", "lower"], "a"),
        ("/data/konvid/3339962845.mp4", ["stem"], "/data/konvid/3339962845"),
        ("a.tar.gz", ["stem"], "a.tar"),
        (".hidden", ["stem"], ".hidden"),
        ("dir.d/clip", ["stem"], "dir.d/clip"),
        ("Clip_01", ["lower"], "clip_01"),
        ("Clip_01", [], "Clip_01"),
        ("İSTANBUL ΟΔΟΣ", ["lower"], "istanbul οδοσ"),
    ],
)
def test_normalize_key_examples(key: str, steps: list[str], expected: str) -> None:
    assert normalize_key(key, steps) == expected  # type: ignore[arg-type]


def test_steps_run_in_fixed_order_whatever_order_is_given() -> None:
    assert canonical_steps(["lower", "stem", "strip", "basename", "stem"]) == (
        "strip",
        "basename",
        "stem",
        "lower",
    )
    assert normalize_key(" /x/A.mp4 ", ["stem", "basename", "strip"]) == "A"


def test_unknown_step_is_a_usage_error_listing_the_choices() -> None:
    with pytest.raises(UsageError, match=r"unknown key normalisation 'upper'; choose from strip"):
        canonical_steps(["upper"])


STEPS = st.lists(st.sampled_from(["strip", "lower", "basename", "stem"]), unique=True)
KEYS = st.text(alphabet=st.sampled_from(list("aAbZ09._-/\\ \t\nÉéßİΣẞǅﬀ")), max_size=20)


@given(key=KEYS, steps=STEPS)
def test_sql_normalisation_equals_the_python_definition(key: str, steps: list[str]) -> None:
    con = duckdb.connect()
    row = con.execute(f"SELECT {normalize_sql(quote_literal(key), steps)}").fetchone()  # type: ignore[arg-type]
    assert row is not None
    assert row[0] == normalize_key(key, steps)  # type: ignore[arg-type]
