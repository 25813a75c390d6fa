from __future__ import annotations

import re

import pytest

from second_opinion.errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_POLICY,
    ColumnNotFoundError,
    InputError,
    InternalError,
    KeyProblemError,
    PolicyError,
    SchemaError,
    SecondOpinionError,
    UnreadableFileError,
    UsageError,
    exit_code_for,
)
from second_opinion.ingest import errors as ingest_errors


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


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ingest_errors.ColumnNotFoundError("m.csv: MOS column 'x' not found"), ColumnNotFoundError),
        (ingest_errors.DuplicateIdError("m.csv: clip id '1' is on two rows"), KeyProblemError),
        (ingest_errors.MissingIdError("m.csv line 3: the clip id is empty"), KeyProblemError),
        (ingest_errors.MissingMosError("m.csv line 3: MOS is empty"), SchemaError),
        (ingest_errors.ScaleError("m.csv line 3: MOS 9 is outside the scale"), SchemaError),
        (ingest_errors.DatasetFormatError("d.py: no dis_videos"), SchemaError),
    ],
)
def test_ingest_errors_are_caught_by_their_kind(error: InputError, kind: type[InputError]) -> None:
    message = error.message
    with pytest.raises(kind, match=f"^{re.escape(message)}$"):
        raise error
    with pytest.raises(ingest_errors.IngestError, match=f"^{re.escape(message)}$"):
        raise error
    assert exit_code_for(error) == EXIT_INPUT


@pytest.mark.parametrize(
    "kind", [UnreadableFileError, ColumnNotFoundError, KeyProblemError, SchemaError]
)
def test_each_kind_is_an_input_error_with_exit_2(kind: type[InputError]) -> None:
    error = kind("t.csv: the problem")
    with pytest.raises(InputError, match=r"^t\.csv: the problem$"):
        raise error
    assert exit_code_for(error) == EXIT_INPUT
    assert kind.__doc__
