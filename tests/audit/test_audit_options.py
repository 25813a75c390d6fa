"""AuditOptions: one model for the CLI, the manifest and Python callers; its limits hold however a
value reaches it, including an override through ``model_copy(update=…)``."""

from __future__ import annotations

import os

import pytest

from second_opinion.audit import options as options_module
from second_opinion.audit.options import AuditOptions, available_cores, build_options
from second_opinion.errors import UsageError

TOO_MANY = "invalid audit options:\n  jobs: Input should be less than or equal to 1024 (got 5000)"


def test_a_limit_refuses_a_value_given_directly() -> None:
    with pytest.raises(UsageError) as direct:
        build_options(jobs=5000)
    assert direct.value.message == TOO_MANY


def test_model_copy_with_an_update_checks_it_like_the_model_does() -> None:
    options = AuditOptions(splits=7)
    with pytest.raises(UsageError) as copied:
        options.model_copy(update={"jobs": 5000})
    assert copied.value.message == TOO_MANY
    with pytest.raises(UsageError, match=r"splits: Input should be greater than or equal to 1"):
        options.model_copy(update={"splits": 0})
    with pytest.raises(UsageError, match=r"no_such_option: unknown field \(fields: mos, signals, "):
        options.model_copy(update={"no_such_option": 1})


def test_model_copy_keeps_the_fields_it_does_not_update() -> None:
    options = AuditOptions(splits=7, mos="score", signals={"niqe": "so_niqe_*"})
    copied = options.model_copy(update={"jobs": 3})
    assert (copied.jobs, copied.splits, copied.mos, copied.signals) == (
        3,
        7,
        "score",
        {"niqe": "so_niqe_*"},
    )
    assert options.jobs != 3  # the original is unchanged (frozen)
    assert options.model_copy() == options
    assert options.model_copy(deep=True) == options


def test_jobs_default_to_the_cores_available() -> None:
    assert AuditOptions().jobs == available_cores()
    assert build_options(jobs=1).jobs == 1


def test_available_cores_prefers_the_process_count_then_the_affinity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "process_cpu_count", lambda: 3, raising=False)
    assert available_cores() == 3
    monkeypatch.delattr(os, "process_cpu_count")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 5}, raising=False)
    assert available_cores() == 2
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert available_cores() == 1  # unknown: one
    monkeypatch.setattr(os, "cpu_count", lambda: 4096)
    assert available_cores() == options_module.MAX_JOBS
