"""The package face: ``second_opinion.__all__`` is the public library, sorted, each name importable
from the package and from nowhere else in a different form (one address per name)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import second_opinion

PUBLIC = [
    "AuditOptions",
    "AuditResult",
    "BatchReport",
    "BatchResult",
    "BatchStatus",
    "BusyError",
    "ColumnNotFoundError",
    "Coverage",
    "Engine",
    "IngestReport",
    "InputError",
    "Inspection",
    "InternalError",
    "InterruptedRunError",
    "JobsFailedError",
    "JoinReport",
    "JoinResult",
    "JoinSpec",
    "KeyFix",
    "KeyProblemError",
    "MemoryTable",
    "Migration",
    "MissingExtraError",
    "PolicyError",
    "ReportFiles",
    "SaliencyReport",
    "SaliencySpec",
    "SchemaError",
    "ScoreMatrix",
    "SecondOpinionError",
    "SidecarSpec",
    "SmokeResult",
    "UnmatchedKey",
    "UnreadableFileError",
    "UsageError",
    "ValidationReport",
    "__version__",
    "batch_status",
    "build_batch_report",
    "ingest",
    "inspect_output",
    "join",
    "join_coverage",
    "join_to_file",
    "manifest_schema",
    "migrate_manifest",
    "normalize_key",
    "read_matrix",
    "run_audit",
    "run_batch",
    "run_saliency",
    "run_smokes",
    "validate_manifest",
    "write_batch_report",
    "write_report",
]


def test_all_is_pinned_and_sorted() -> None:
    def ruff_order(name: str) -> tuple[int, str]:  # RUF022: constants, classes, the rest
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert second_opinion.__all__ == PUBLIC
    assert second_opinion.__all__ == sorted(PUBLIC, key=ruff_order)


def test_every_public_name_is_the_object_its_defining_module_holds() -> None:
    for name in second_opinion.__all__:
        value = getattr(second_opinion, name)
        if name == "__version__":
            assert isinstance(value, str)
            continue
        module = importlib.import_module(value.__module__)
        assert getattr(module, name) is value, name
        assert value.__module__.startswith("second_opinion."), name


def test_functions_named_like_their_subpackage_are_the_functions() -> None:
    # Loading a submodule of the subpackage of the same name must not rebind the name.
    importlib.import_module("second_opinion.ingest.presets")
    importlib.import_module("second_opinion.join.pooling")
    assert callable(second_opinion.join)
    assert callable(second_opinion.ingest)


def test_importing_the_package_loads_neither_scikit_learn_nor_onnxruntime_nor_matplotlib() -> None:
    code = (
        "import sys, second_opinion\n"
        "print(sorted(m for m in ('sklearn', 'onnxruntime', 'matplotlib', 'ray', 'h5py')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        second_opinion.no_such_name  # noqa: B018


COMMAND_FUNCTIONS = {
    "audit": ("run_audit", "write_report"),
    "batch": ("run_batch",),
    "ingest": ("ingest",),
    "inspect": ("inspect_output",),
    "join": ("join", "join_to_file", "join_coverage"),
    "migrate": ("migrate_manifest",),
    "report": ("build_batch_report", "write_batch_report"),
    "schema": ("manifest_schema",),
    "smoke": ("run_smokes",),
    "status": ("batch_status",),
    "validate": ("validate_manifest",),
}
"""Every CLI command, and the public functions a Python caller uses for it."""


def test_every_command_has_a_documented_function_in_the_package_face() -> None:
    from second_opinion.cli.main import app  # noqa: PLC0415 - the CLI, only for this test

    commands = sorted(c.name or "" for c in app.registered_commands)
    assert commands == sorted(COMMAND_FUNCTIONS)
    for command, names in COMMAND_FUNCTIONS.items():
        for name in names:
            assert name in second_opinion.__all__, f"{command}: {name} is not exported"
            function = getattr(second_opinion, name)
            assert callable(function), name
            assert function.__doc__, f"{command}: {name} has no docstring"
            assert len(function.__doc__.strip()) > 40, f"{name}: say what it does"
