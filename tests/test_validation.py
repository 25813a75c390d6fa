"""validation.py: located messages for pydantic errors, models built with every problem at once."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from second_opinion.errors import UsageError
from second_opinion.validation import (
    DOCUMENT,
    OPTIONS,
    build,
    location,
    model_at,
    revalidated,
    shorten_number,
    validation_problems,
)


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    width: Annotated[int, Field(ge=1, le=10)] = 1


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    names: tuple[str, ...] = ()
    columns: tuple[str, ...] | str | None = None
    inner: list[_Inner] = []
    limit: Annotated[int, Field(ge=1, le=1024)] = 1


def _problems(data: object, **kwargs: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate(data)
    return validation_problems(caught.value, schema=_Outer, **kwargs)  # type: ignore[arg-type]


def test_locations_quote_odd_names() -> None:
    assert location(("jobs", 1, "sidecars", 0, "path")) == "jobs[1].sidecars[0].path"
    assert location(("jobs", 0, "   ")) == "jobs[0]['   ']"
    assert location(()) == "(top level)"


def test_the_model_at_a_location_is_found_through_lists_and_optionals() -> None:
    assert model_at(_Outer, ["inner"]) is _Inner
    assert model_at(_Outer, []) is _Outer
    assert model_at(_Outer, ["names"]) is None


def test_python_wording_shows_names_and_values_as_python_does() -> None:
    assert _problems({"inner": [{"widht": 2}], "names": "a", "limit": 5000}) == [
        "names: Input should be a valid tuple (got 'a')",
        "inner[0].widht: unknown field; did you mean 'width'?",
        "limit: Input should be less than or equal to 1024 (got 5000)",
    ]


def test_document_wording_says_lists_and_union_branches_in_words() -> None:
    problems = _problems({"names": "a", "columns": [1], "limit": 10**30}, wording=DOCUMENT)
    assert problems == [
        "names: Input should be a valid list (got 'a')",
        "columns (as a list)[0]: Input should be a valid string (got 1)",
        "columns (as a string): Input should be a valid string",
        (
            "limit: Input should be less than or equal to 1024 "
            "(got 1000000000…0000000000, a 31-digit number)"
        ),
    ]
    assert shorten_number("12345") == "12345"


def test_options_wording_leaves_values_and_model_problems_bare() -> None:
    assert _problems({"limit": 0}, wording=OPTIONS) == [
        "limit: Input should be greater than or equal to 1"
    ]


def test_build_lists_every_problem_in_one_usage_error() -> None:
    with pytest.raises(UsageError) as caught:
        build(_Outer, {"limit": 0, "inner": [{"width": 11}]}, what="outer options")
    assert caught.value.message == (
        "invalid outer options:\n"
        "  inner[0].width: Input should be less than or equal to 10 (got 11)\n"
        "  limit: Input should be greater than or equal to 1 (got 0)"
    )
    with pytest.raises(UsageError) as alone:
        build(_Outer, {"limit": 0}, what="outer options", lone_problem_alone=True)
    assert alone.value.message == "limit: Input should be greater than or equal to 1 (got 0)"


def _build_outer(**fields: object) -> _Outer:
    return build(_Outer, fields, what="outer options")


def test_an_override_is_validated_like_any_field() -> None:
    outer = _build_outer(names=["a"], limit=2)
    assert outer.model_copy(update={"limit": 5000}).limit == 5000  # what revalidated prevents
    with pytest.raises(UsageError) as caught:
        revalidated(outer, _build_outer, limit=5000)
    with pytest.raises(UsageError) as direct:
        _build_outer(names=["a"], limit=5000)
    assert (
        caught.value.message
        == direct.value.message
        == (
            "invalid outer options:\n  limit: Input should be less than or equal to 1024 (got 5000)"
        )
    )
    changed = revalidated(outer, _build_outer, limit=3)
    assert (changed.names, changed.limit) == (("a",), 3)
    assert changed.model_fields_set == {"names", "limit"}
