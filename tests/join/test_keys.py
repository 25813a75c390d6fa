from __future__ import annotations

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from second_opinion.errors import UsageError
from second_opinion.join.keys import (
    canonical_steps,
    edit_distance,
    normalize_key,
    normalize_sql,
    resolve_steps,
)
from second_opinion.tables.formats import quote_literal
from second_opinion.tables.keys import (
    WHITESPACE,
    KeyProblem,
    bad_key_message,
    bad_key_sql,
    key_problem,
    may_be_json,
)


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
        ("00123", ["number"], "123"),
        ("123.0", ["number"], "123"),
        ("123.", ["number"], "123"),
        ("007.50", ["number"], "7.5"),
        ("0.0", ["number"], "0"),
        ("000", ["number"], "0"),
        ("1000", ["number"], "1000"),
        ("-0012", ["number"], "-0012"),
        ("1e05", ["number"], "1e05"),
        (".50", ["number"], ".50"),
        ("/x/00123.MP4", ["basename", "stem", "number"], "123"),
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
    with pytest.raises(
        UsageError,
        match=r"unknown key normalisation 'upper'; choose from nfc, strip, auto, basename, stem, "
        r"lower, number$",
    ):
        canonical_steps(["upper"])


STEPS = st.lists(
    st.sampled_from(["nfc", "strip", "auto", "lower", "basename", "stem", "number"]), unique=True
)
COLUMNS = st.sampled_from(["clip_id", "path", "File_Name", "distorted_PATH", "video", "", "key"])
KEYS = st.text(
    alphabet=st.sampled_from([*"aAbZ0019._-/\\ \t\nÉéßİΣẞǅﬀ", "\u0301", "\u0327", "\u212b", "٣"]),
    max_size=20,
)


@given(key=KEYS, steps=STEPS, column=COLUMNS)
def test_sql_normalisation_equals_the_python_definition(
    key: str, steps: list[str], column: str
) -> None:
    con = duckdb.connect()
    expr = normalize_sql(quote_literal(key), steps, column=column)  # type: ignore[arg-type]
    row = con.execute(f"SELECT {expr}").fetchone()
    assert row is not None
    assert row[0] == normalize_key(key, steps, column=column)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("clip_id", ("strip",)),
        ("video", ("strip",)),
        ("path", ("strip", "basename")),
        ("Distorted_Path", ("strip", "basename")),
        ("FILENAME", ("strip", "basename")),
        ("name", ("strip", "basename")),
    ],
)
def test_auto_takes_the_basename_of_columns_named_like_paths(
    column: str, expected: tuple[str, ...]
) -> None:
    assert resolve_steps(["auto", "strip"], column=column) == expected
    assert normalize_key(" /d/a.mp4 ", ["strip", "auto"], column=column) == (
        "a.mp4" if "basename" in expected else "/d/a.mp4"
    )


# --- unusable keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "empty"),
        ("", "empty"),
        ("   ", "blank"),
        (" \t\n\r\v\f", "blank"),
        ("b\x00", "nul"),
        ({"id": "b"}, "object"),
        (["b"], "array"),
        ("\xa0", None),  # no-break space: strip keeps it, so it is a key
        (" a ", None),
        ("{b}", None),  # text that looks like JSON is text
        (3339962845, None),
        (0, None),
    ],
)
def test_key_problem(value: object, problem: str | None) -> None:
    assert key_problem(value) == problem


def test_blank_means_what_strip_removes() -> None:
    # The same whitespace as the strip step: a blank key normalises to an empty one.
    for char in WHITESPACE:
        assert key_problem(char * 2) == "blank"
        assert normalize_key(char * 2, ["strip"]) == ""


@given(key=st.text(alphabet=st.sampled_from(list(" \t\n\r\v\f\x00\xa0ab{[")), max_size=5))
def test_bad_key_sql_flags_exactly_the_key_problems_of_text(key: str) -> None:
    con = duckdb.connect()
    row = con.execute(f"SELECT {bad_key_sql('k')} FROM (SELECT ?::VARCHAR AS k)", [key]).fetchone()
    assert row is not None
    assert row[0] == (key_problem(key) is not None)
    row = con.execute(
        f"SELECT {bad_key_sql('k', json_values=True)} FROM (SELECT ?::VARCHAR AS k)", [key]
    ).fetchone()
    assert row is not None
    assert row[0] == (key_problem(key) is not None or may_be_json(key))


def test_bad_key_sql_flags_null() -> None:
    row = duckdb.connect().execute(f"SELECT {bad_key_sql('k')} FROM (SELECT NULL AS k)").fetchone()
    assert row == (True,)


@pytest.mark.parametrize(
    ("value", "problem", "message"),
    [
        (None, "empty", "f.csv line 3: the key (clip_id, v) is empty; every row needs a key"),
        (
            "  ",
            "blank",
            (
                "f.csv line 3: the key column 'v' holds only whitespace ('  '), which is "
                "an empty key; every row needs a key"
            ),
        ),
        (
            "b\x00",
            "nul",
            (
                "f.csv line 3: the key column 'v' holds a NUL character ('b\\x00'); "
                "remove the NUL from the key"
            ),
        ),
        (
            {"id": "é"},
            "object",
            (
                "f.csv line 3: the key column 'v' holds a JSON object "
                '({"id": "é"}), not a string or a number; write the key as a string'
            ),
        ),
    ],
)
def test_bad_key_message(value: object, problem: KeyProblem, message: str) -> None:
    assert bad_key_message("f.csv line 3", ["clip_id", "v"], "v", value, problem, "row") == message


def _levenshtein(a: str, b: str) -> int:
    """The textbook dynamic programme, the reference for the bit-parallel one."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


_DUCK = duckdb.connect()  # this module's own: DuckDB's default connection is shared
_NEAR_TEXT = st.text(alphabet="ab/._0é日", max_size=12)


@given(_NEAR_TEXT | st.text(max_size=80), _NEAR_TEXT | st.text(max_size=80))
def test_edit_distance_equals_the_dynamic_programme(a: str, b: str) -> None:
    assert edit_distance(a, b) == _levenshtein(a, b)
    assert edit_distance(b, a) == _levenshtein(a, b)


@given(_NEAR_TEXT, _NEAR_TEXT)
def test_edit_distance_equals_duckdbs_levenshtein(a: str, b: str) -> None:
    ((expected,),) = _DUCK.execute("SELECT levenshtein(?, ?)", [a, b]).fetchall()
    assert edit_distance(a, b) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("", "", 0),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("clip0122951", "clip0122950", 1),
        ("x" * 70, "y" * 70, 70),
        ("a" * 65 + "b", "a" * 66, 1),
    ],
)
def test_edit_distance_known_values(a: str, b: str, expected: int) -> None:
    assert edit_distance(a, b) == expected
