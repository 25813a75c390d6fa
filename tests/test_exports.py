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
    "BatchResult",
    "BatchStatus",
    "BusyError",
    "ColumnNotFoundError",
    "Coverage",
    "Engine",
    "IngestReport",
    "InputError",
    "InternalError",
    "InterruptedRunError",
    "JobsFailedError",
    "JoinReport",
    "JoinResult",
    "JoinSpec",
    "KeyFix",
    "KeyProblemError",
    "MissingExtraError",
    "PolicyError",
    "ReportFiles",
    "SaliencyReport",
    "SaliencySpec",
    "SchemaError",
    "ScoreMatrix",
    "SecondOpinionError",
    "SidecarSpec",
    "UnmatchedKey",
    "UnreadableFileError",
    "UsageError",
    "ValidationReport",
    "__version__",
    "batch_status",
    "ingest",
    "join",
    "join_coverage",
    "join_to_file",
    "normalize_key",
    "read_matrix",
    "run_audit",
    "run_batch",
    "run_saliency",
    "validate_manifest",
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
