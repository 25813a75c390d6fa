"""second_opinion.decoding: other encodings' byte order marks and JSON errors, in words."""

from __future__ import annotations

import codecs
import json

import pytest

from second_opinion.decoding import character_name, json_problem, other_encoding


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-16-le", "UTF-16 text (it starts with a little-endian UTF-16"),
        ("utf-16-be", "UTF-16 text (it starts with a big-endian UTF-16"),
        ("utf-32-le", "UTF-32 text (it starts with a little-endian UTF-32"),
        ("utf-32-be", "UTF-32 text (it starts with a big-endian UTF-32"),
    ],
)
def test_a_byte_order_mark_names_its_encoding_and_the_fix(encoding: str, named: str) -> None:
    data = codecs.lookup(encoding).encode("\ufeffclip_id,mos\n")[0]
    assert other_encoding("the file", data) == (
        f"the file is {named} byte order mark), not UTF-8; save it as UTF-8"
    )


@pytest.mark.parametrize("data", [b"clip_id,mos\n", codecs.BOM_UTF8 + b"a", b"", b"\xff"])
def test_utf8_and_other_bytes_have_no_other_encoding(data: bytes) -> None:
    assert other_encoding("the file", data) is None


def _problem(text: str) -> str:
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads(text)
    return json_problem(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "x\ty"}', "a tab inside a string, column 9; {rule}: write it as \\t"),
        ('{"a": "x\x00"}', "a NUL byte inside a string, column 9; {rule}: remove it"),
        ('{"a": "x\x07"}', "control character U+0007 inside a string, column 9; {rule}: remove it"),
        (
            '{"a": "x\n"}',
            (
                "unterminated string: the line ends before its closing quote, column 9; "
                "close the string, or write a newline inside it as \\n"
            ),
        ),
        ('{"a": "x', "Unterminated string starting at column 7"),
        ('{"a": 1,}', "Expecting property name enclosed in double quotes, column 9"),
    ],
)
def test_json_errors_name_the_character_the_column_and_the_fix(text: str, expected: str) -> None:
    rule = "JSON allows no raw control characters in strings"
    assert _problem(text) == expected.format(rule=rule)


def test_a_character_without_a_name_can_be_given_one() -> None:
    assert character_name("\x00") == "a NUL byte"
    assert character_name("\x07") == "control character U+0007"
    assert character_name("\x07", "a control character") == "a control character"
