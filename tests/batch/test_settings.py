"""A batch's settings (second_opinion.batch.settings): one frozen object, checked where it is
made, so a setting nothing can use is refused before any job starts or anything is written."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from second_opinion.batch.outcomes import BatchEvent
from second_opinion.batch.settings import BatchSettings
from second_opinion.errors import EXIT_INPUT, UsageError
from second_opinion.tables.formats import Engine
from tests._scaffold import JOBS, Scaffold, outcome

DUCKDB_REFUSES = r"DuckDB cannot use it \(.+\); give a size such as 4GB or 512MB$"


@pytest.fixture
def scaffold(tmp_path: Path) -> Scaffold:
    return Scaffold.copy_into(tmp_path)


def test_a_memory_limit_duckdb_cannot_read_is_refused_naming_the_keyword() -> None:
    with pytest.raises(UsageError, match=rf"^memory_limit 'foo': {DUCKDB_REFUSES}") as caught:
        BatchSettings(engine=Engine(memory_limit="foo"))
    assert caught.value.exit_code == EXIT_INPUT


def test_run_batch_refuses_the_memory_limit_before_anything_runs(scaffold: Scaffold) -> None:
    events: list[BatchEvent] = []
    with pytest.raises(UsageError, match=rf"^memory_limit 'foo': {DUCKDB_REFUSES}") as caught:
        scaffold.run(engine=Engine(memory_limit="foo"), on_event=events.append)
    assert caught.value.exit_code == EXIT_INPUT
    assert events == []
    assert not scaffold.out.exists()


def test_a_readable_memory_limit_is_kept_as_given(tmp_path: Path) -> None:
    engine = Engine(memory_limit="256MB", temp_dir=tmp_path)
    settings = BatchSettings(engine=engine, workers=2, executor="local")
    assert settings.engine is engine
    assert settings.workers == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "--jobs 0: give at least 1"),
        ({"executor": "spark"}, "--executor 'spark': give one of local, ray"),
        ({"ray_address": "head:6379"}, "--ray-address head:6379: give it with --executor ray"),
        ({"workers": "2"}, "batch settings: workers '2': input should be a valid integer"),
        ({"force": "yes"}, "batch settings: force 'yes': input should be a valid boolean"),
        ({"jobs": 2}, "batch settings: jobs 2: extra inputs are not permitted"),
    ],
)
def test_settings_that_make_no_sense_are_usage_errors(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        BatchSettings(**options)  # type: ignore[arg-type]
    assert caught.value.message == message
    assert caught.value.exit_code == EXIT_INPUT


def test_settings_are_frozen_and_cross_process_boundaries() -> None:
    settings = BatchSettings(workers=3, keep_going=False, engine=Engine(memory_limit="1GB"))
    assert pickle.loads(pickle.dumps(settings)) == settings  # noqa: S301 - our own bytes
    with pytest.raises(ValueError, match="frozen"):
        settings.workers = 4


def test_run_batch_takes_the_settings_whole(scaffold: Scaffold) -> None:
    result = scaffold.run(settings=BatchSettings(workers=1, dry_run=True))
    assert result.dry_run
    assert outcome(result) == dict.fromkeys(JOBS, ("planned", "no output"))
    assert not scaffold.out.exists()


def test_run_batch_refuses_settings_given_both_ways(scaffold: Scaffold) -> None:
    with pytest.raises(UsageError) as caught:
        scaffold.run(settings=BatchSettings(), jobs=2)
    assert caught.value.message == (
        "run_batch: give jobs, force, dry_run, keep_going, engine, executor and ray_address "
        "either in settings= or as keywords, not both"
    )
    assert not scaffold.out.exists()
