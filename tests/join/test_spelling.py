"""How each surface spells a sidecar's options: CLI flags, manifest fields, Python keywords."""

from __future__ import annotations

import pytest
import typer

from second_opinion.cli.main import app
from second_opinion.join.options import OPTION_FIELDS, MatrixOptions
from second_opinion.join.spelling import (
    CLI,
    CLI_FLAGS,
    PYTHON,
    cli_location,
    manifest_spelling,
    original_spelling,
)

NORMALIZE = {"normalize_keys": ["basename", "stem"]}


@pytest.mark.parametrize(
    ("spelling", "setting", "name"),
    [
        (
            CLI,
            "--normalize-keys dover:basename,stem",
            "--key-map dover:COLUMN=clip_id",
        ),
        (
            manifest_spelling(0),
            'jobs[0].sidecars[1].normalize_keys: ["basename", "stem"]',
            "jobs[0].sidecars[1].key_map",
        ),
        (
            PYTHON,
            'SidecarSpec(normalize_keys=["basename", "stem"])',
            "key_map of 'dover'",
        ),
    ],
)
def test_each_surface_says_a_setting_and_an_option_its_own_way(
    spelling: object, setting: str, name: str
) -> None:
    say = spelling.sidecar(1, "dover")  # type: ignore[attr-defined]
    assert say.setting(NORMALIZE) == setting
    assert say.name("key_map", "COLUMN=clip_id") == name


def test_settings_of_every_kind_as_flags() -> None:
    say = CLI.sidecar(0, "dover")
    assert say.setting({"key_map": {"filename": "clip_id"}, "normalize_keys": ["stem"]}) == (
        "--key-map dover:filename=clip_id --normalize-keys dover:stem"
    )
    assert say.setting({"allow_no_match": True}) == "--allow-no-match dover"
    assert say.setting({"align": {"keys_from": "m.csv", "column": "id"}}) == (
        "--align dover:m.csv:id"
    )
    assert say.setting({"variable": "y_pred"}) == "--variable dover:y_pred"
    assert say.option("on_duplicate") == "--on-duplicate"


def test_python_keywords_alone_in_a_message_about_the_sidecar() -> None:
    say = PYTHON.sidecar(0, "dover")
    assert say.said({"on_missing": "error"}) == 'on_missing="error"'
    assert say.setting({"allow_no_match": True}) == "SidecarSpec(allow_no_match=True)"
    assert say.unlocated().setting({"records": "table"}) == 'records="table"'


def test_a_manifest_names_fields_at_their_location_or_alone_under_one() -> None:
    say = manifest_spelling(2).sidecar(0, "dover")
    assert say.said({"allow_no_match": True}) == "jobs[2].sidecars[0].allow_no_match: true"
    assert say.named("columns") == "jobs[2].sidecars[0].columns"
    assert say.unlocated().name("align") == "align"


def test_the_original_dialect_says_what_it_has_and_nothing_else() -> None:
    say = original_spelling(1).sidecar(0, "fork-nr")
    assert say.setting({"normalize_keys": ["strip", "basename", "stem"]}) == (
        'tables[1].key_normalize: "stem"'
    )
    assert say.can_set("normalize_keys", ["strip", "basename"])
    assert not say.can_set("normalize_keys", ["strip", "lower"])
    assert not say.can_set("key_map", {})
    assert say.key_steps() == (
        ("strip",),
        ("strip", "basename"),
        ("strip", "basename", "stem"),
        ("strip", "auto"),
    )


@pytest.mark.parametrize(
    ("loc", "where"),
    [
        (("sidecars", 1, "pool", 0), "--pool niqe"),
        (("sidecars", 0, "align", "keys_from"), "--align dover"),
        (("sidecars", 0, "scorer"), "--sidecar dover"),
        (("sidecars", 0), None),
        (("key",), "--key"),
        (("features",), "--features"),
    ],
)
def test_a_join_spec_problem_is_located_at_its_flag(
    loc: tuple[str | int, ...], where: str | None
) -> None:
    assert cli_location(loc, ["dover", "niqe"]) == where


def test_every_sidecar_option_has_a_flag_of_the_join_command() -> None:
    assert set(CLI_FLAGS) == {*OPTION_FIELDS, *MatrixOptions.model_fields}
    join_command = typer.main.get_command(app).commands["join"]  # type: ignore[attr-defined]
    flags = {flag for param in join_command.params for flag in param.opts}
    assert {flag for flag, _ in CLI_FLAGS.values()} <= flags
