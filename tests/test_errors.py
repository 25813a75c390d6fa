from __future__ import annotations

import pytest

from second_opinion.errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_POLICY,
    InputError,
    InternalError,
    PolicyError,
    SecondOpinionError,
    UsageError,
    exit_code_for,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InputError("bad table"), 2),
        (UsageError("bad flags"), 2),
        (PolicyError("coverage too low"), 1),
        (InternalError("bug"), 3),
        (ValueError("not ours"), 3),
    ],
)
def test_each_category_maps_to_its_exit_code(error: BaseException, code: int) -> None:
    assert exit_code_for(error) == code


def test_exit_code_constants_match_the_documented_contract() -> None:
    assert (EXIT_POLICY, EXIT_INPUT, EXIT_INTERNAL) == (1, 2, 3)


def test_every_category_derives_from_the_one_base() -> None:
    for cls in (InputError, UsageError, PolicyError, InternalError):
        assert issubclass(cls, SecondOpinionError)
        assert cls.__doc__


def test_an_error_needs_a_message() -> None:
    with pytest.raises(ValueError, match="needs a message"):
        InputError("")


def test_policy_error_carries_its_report() -> None:
    error = PolicyError("coverage 0.5 is below 0.9", report=("r",))
    assert error.report == ("r",)
    assert str(error) == "coverage 0.5 is below 0.9"
