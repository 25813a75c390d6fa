"""Each refusal of a join raises its kind of :class:`InputError` (exit 2), message unchanged.

Keys that cannot identify clips are :class:`KeyProblemError`; scores of the wrong type or shape,
and columns named as scores that cannot be, are :class:`SchemaError`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from second_opinion.errors import EXIT_INPUT, InputError, KeyProblemError, SchemaError
from second_opinion.join.options import Align
from second_opinion.join.run import check_spec, join
from second_opinion.join.spec import JoinSpec, SidecarSpec
from tests._tables import write_table

BASE = [{"clip_id": "a", "mos": 4.0}, {"clip_id": "b", "mos": 3.0}]


def _join(base: Path, *sidecars: SidecarSpec) -> None:
    join(JoinSpec(features=base, key=("clip_id",), sidecars=sidecars))


# --- KeyProblemError --------------------------------------------------------------------------


def test_duplicate_base_keys_are_a_key_problem(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", [*BASE, {"clip_id": "b", "mos": 0.0}])
    message = f"{base}: 1 duplicate key(s) in the base table ('b' x2); each clip must appear once"
    with pytest.raises(KeyProblemError, match=f"^{re.escape(message)}$") as caught:
        _join(base)
    assert caught.value.exit_code == EXIT_INPUT


@pytest.mark.parametrize("sidecar_problem", ["a missing key column", "a bad score file"])
def test_the_base_keys_problem_is_told_before_any_sidecars(
    tmp_path: Path, sidecar_problem: str
) -> None:
    """The base's keys are checked beside the sidecars' loads, yet their error comes first,
    whether a sidecar fails when it is planned or when it is loaded."""
    base = write_table(tmp_path / "base.csv", [*BASE, {"clip_id": "b", "mos": 0.0}])
    if sidecar_problem == "a missing key column":
        side = write_table(tmp_path / "s.csv", [{"clip": "a", "s": 1.0}])
    else:
        side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": "x"}, {"clip_id": "a"}])
    sidecars = (SidecarSpec(scorer="x", path=side), SidecarSpec(scorer="y", path=side))
    with pytest.raises(SchemaError if "score" in sidecar_problem else InputError) as alone:
        _join(write_table(tmp_path / "fine.csv", BASE), *sidecars)
    assert "duplicate" not in alone.value.message
    with pytest.raises(KeyProblemError, match="duplicate key\\(s\\) in the base table"):
        _join(base, *sidecars)


def test_base_keys_clashing_after_normalisation_are_a_key_problem(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", [{"clip_id": "A", "mos": 1.0}, *BASE])
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": 1.0}])
    spec = SidecarSpec(scorer="x", path=side, normalize_keys=("lower",))
    message = (
        f"{base}: base keys 'A' and 'a' become the same key after normalising with lower for "
        "sidecar 'x'; normalise less, or fix the keys"
    )
    with pytest.raises(KeyProblemError, match=f"^{re.escape(message)}$"):
        _join(base, spec)


def test_a_blank_base_key_is_a_key_problem(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", [*BASE, {"clip_id": "  ", "mos": 1.0}])
    with pytest.raises(
        KeyProblemError,
        match=r"base.csv line 4: the key column 'clip_id' holds only whitespace \('  '\), "
        r"which is an empty key; every clip needs a key$",
    ):
        _join(base)


def test_a_nul_in_a_sidecar_key_is_a_key_problem(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", BASE)
    side = write_table(
        tmp_path / "s.jsonl", [{"clip_id": "a", "s": 1.0}, {"clip_id": "b\x00", "s": 2.0}]
    )
    with pytest.raises(
        KeyProblemError,
        match=r"s.jsonl line 2: the key column 'clip_id' holds a NUL character \('b\\x00'\); "
        r"remove the NUL from the key$",
    ):
        _join(base, SidecarSpec(scorer="x", path=side))


def test_an_empty_per_frame_key_is_a_key_problem(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", BASE)
    frames = [{"clip_id": "a", "frame": 0, "s": 1.0}, {"clip_id": "", "frame": 1, "s": 2.0}]
    side = write_table(tmp_path / "f.csv", frames)
    with pytest.raises(KeyProblemError, match=r"f.csv line 3: .*every row needs a key$"):
        _join(base, SidecarSpec(scorer="f", path=side, frame_column="frame"))


def test_duplicate_sidecar_keys_under_on_duplicate_error_are_a_key_problem(
    tmp_path: Path,
) -> None:
    base = write_table(tmp_path / "base.csv", BASE)
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": 1.0}, {"clip_id": "a", "s": 2.0}])
    message = (
        f"{side}: 1 duplicate key(s) ('a' x2); keep one row per key with on_duplicate=\"first\" "
        "(or last, or mean), or fix the sidecar; if the rows are frames, name the column that "
        "numbers them with frame_column of 'x'"
    )
    with pytest.raises(KeyProblemError, match=f"^{re.escape(message)}$"):
        _join(base, SidecarSpec(scorer="x", path=side))


def test_an_empty_key_of_a_score_matrix_is_a_key_problem(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", BASE)
    keys = write_table(tmp_path / "keys.csv", [{"clip_id": "a"}, {"clip_id": "  "}])
    np.save(tmp_path / "m.npy", np.array([[1.0], [2.0]]))
    spec = SidecarSpec(
        scorer="m", path=tmp_path / "m.npy", align=Align(keys_from=keys, column="clip_id")
    )
    message = (
        f"{keys} line 3: the key column 'clip_id' is empty; every row of a score matrix needs a "
        "key (sidecar 'm')"
    )
    with pytest.raises(KeyProblemError, match=f"^{re.escape(message)}$"):
        _join(base, spec)


# --- SchemaError ------------------------------------------------------------------------------


def test_a_sidecar_with_only_its_key_is_a_schema_error(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", BASE)
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a"}])
    message = (
        f"{side}: no numeric score columns besides the key (columns: clip_id); name the score "
        "columns in columns of 'x'"
    )
    with pytest.raises(SchemaError, match=f"^{re.escape(message)}$") as caught:
        _join(base, SidecarSpec(scorer="x", path=side))
    assert caught.value.exit_code == EXIT_INPUT


def test_a_sidecar_whose_scores_are_text_is_a_schema_error(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", BASE)
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": "good"}])
    with pytest.raises(
        SchemaError,
        match=r"s.csv: no numeric score columns besides the key: column 's' is text .*; fix the "
        r"values that are not numbers, or name the score columns in columns of 'x'$",
    ):
        _join(base, SidecarSpec(scorer="x", path=side))


def test_harmonic_mean_of_non_positive_values_is_a_schema_error(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", BASE)
    frames = [{"clip_id": "a", "frame": 0, "s": 1.0}, {"clip_id": "b", "frame": 0, "s": -2.0}]
    side = write_table(tmp_path / "f.csv", frames)
    spec = SidecarSpec(scorer="f", path=side, frame_column="frame", pool=("harmonic_mean",))
    message = (
        f"{side}: harmonic_mean needs values > 0, but column 's' has 1 value(s) <= 0 "
        "(smallest -2.0, key 'b'); pool it with another statistic"
    )
    with pytest.raises(SchemaError, match=f"^{re.escape(message)}$"):
        _join(base, spec)


def test_a_key_column_named_as_a_score_is_a_schema_error(tmp_path: Path) -> None:
    # (a frame column named as a score is refused by SidecarSpec itself)
    base = write_table(tmp_path / "base.csv", BASE)
    side = write_table(tmp_path / "s.csv", [{"video": "a", "s": 1.0}])
    spec = SidecarSpec(scorer="x", path=side, key_map={"video": "clip_id"}, columns=("video",))
    message = f"{side}: column 'video' is a key or frame column, not a score"
    with pytest.raises(SchemaError, match=f"^{re.escape(message)}$") as caught:
        _join(base, spec)
    assert caught.value.exit_code == EXIT_INPUT
    assert check_spec(JoinSpec(features=base, key=("clip_id",), sidecars=(spec,))) == [message]
