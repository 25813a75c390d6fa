"""second-opinion: join scorer sidecars onto video-quality corpus tables, run batches, audit.

The public library, one import address per name::

    from second_opinion import JoinSpec, SidecarSpec, join, join_to_file

    spec = JoinSpec(
        features="corpus.csv",
        key=["clip_id"],
        sidecars=[SidecarSpec(scorer="niqe", path="niqe.jsonl", key_map={"video": "clip_id"})],
    )
    result = join(spec)            # result.table (pyarrow.Table), result.coverage

    from second_opinion import build_batch_report, write_batch_report

    report = build_batch_report("out")   # what a batch left in its output_dir
    write_batch_report(report)           # out/report.html: one self-contained page

``features`` and a sidecar's ``path`` also take an in-memory table: anything with the Arrow
stream interface (a pyarrow Table, a polars or pandas >= 2.2 DataFrame, a DuckDB relation), as
do ``ingest``'s ``metadata`` and ``run_audit``'s tables. Every command has its function:

    join        join, join_to_file, join_coverage
    batch       run_batch                 status    batch_status
    validate    validate_manifest         schema    manifest_schema
    inspect     inspect_output            smoke     run_smokes
    audit       run_audit, write_report   ingest    ingest
    migrate     migrate_manifest (Migration.write)
    report      build_batch_report, write_batch_report

The errors load with the package; every other name loads its module when first used (``join``
brings DuckDB, ``run_audit`` scikit-learn, ``run_saliency`` onnxruntime), so ``import
second_opinion`` and the CLI start fast.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from second_opinion._version import __version__
from second_opinion.errors import (
    BusyError,
    ColumnNotFoundError,
    InputError,
    InternalError,
    InterruptedRunError,
    JobsFailedError,
    KeyProblemError,
    MissingExtraError,
    PolicyError,
    SchemaError,
    SecondOpinionError,
    UnreadableFileError,
    UsageError,
)

if TYPE_CHECKING:
    from second_opinion.audit.options import AuditOptions
    from second_opinion.audit.output import ReportFiles, write_report
    from second_opinion.audit.run import AuditResult, run_audit
    from second_opinion.batch.manifest.models import manifest_schema
    from second_opinion.batch.original.migrate import Migration, migrate_manifest
    from second_opinion.batch.report.build import build_batch_report
    from second_opinion.batch.report.model import BatchReport
    from second_opinion.batch.report.write import write_batch_report
    from second_opinion.batch.runner import BatchResult, run_batch
    from second_opinion.batch.smoke import SmokeResult, run_smokes
    from second_opinion.batch.status import BatchStatus, batch_status
    from second_opinion.batch.validate import validate_manifest
    from second_opinion.batch.validated import ValidationReport
    from second_opinion.ingest.ingest import ingest
    from second_opinion.ingest.report import IngestReport
    from second_opinion.join.coverage import Coverage, UnmatchedKey
    from second_opinion.join.diagnosis import KeyFix
    from second_opinion.join.keys import normalize_key
    from second_opinion.join.run import JoinReport, JoinResult, join, join_coverage, join_to_file
    from second_opinion.join.spec import JoinSpec, SidecarSpec
    from second_opinion.matrices.core import ScoreMatrix
    from second_opinion.matrices.read import read_matrix
    from second_opinion.provenance import Inspection, inspect_output
    from second_opinion.saliency.run import SaliencyReport, run_saliency
    from second_opinion.saliency.spec import SaliencySpec
    from second_opinion.tables.formats import Engine
    from second_opinion.tables.memory import MemoryTable

_LAZY = {
    "AuditOptions": "second_opinion.audit.options",
    "AuditResult": "second_opinion.audit.run",
    "BatchReport": "second_opinion.batch.report.model",
    "BatchResult": "second_opinion.batch.runner",
    "BatchStatus": "second_opinion.batch.status",
    "Coverage": "second_opinion.join.coverage",
    "Engine": "second_opinion.tables.formats",
    "IngestReport": "second_opinion.ingest.report",
    "Inspection": "second_opinion.provenance",
    "JoinReport": "second_opinion.join.run",
    "JoinResult": "second_opinion.join.run",
    "JoinSpec": "second_opinion.join.spec",
    "KeyFix": "second_opinion.join.diagnosis",
    "MemoryTable": "second_opinion.tables.memory",
    "Migration": "second_opinion.batch.original.migrate",
    "ReportFiles": "second_opinion.audit.output",
    "SaliencyReport": "second_opinion.saliency.run",
    "SaliencySpec": "second_opinion.saliency.spec",
    "ScoreMatrix": "second_opinion.matrices.core",
    "SidecarSpec": "second_opinion.join.spec",
    "SmokeResult": "second_opinion.batch.smoke",
    "UnmatchedKey": "second_opinion.join.coverage",
    "ValidationReport": "second_opinion.batch.validated",
    "batch_status": "second_opinion.batch.status",
    "build_batch_report": "second_opinion.batch.report.build",
    "inspect_output": "second_opinion.provenance",
    "join_coverage": "second_opinion.join.run",
    "join_to_file": "second_opinion.join.run",
    "manifest_schema": "second_opinion.batch.manifest.models",
    "migrate_manifest": "second_opinion.batch.original.migrate",
    "normalize_key": "second_opinion.join.keys",
    "read_matrix": "second_opinion.matrices.read",
    "run_audit": "second_opinion.audit.run",
    "run_batch": "second_opinion.batch.runner",
    "run_saliency": "second_opinion.saliency.run",
    "run_smokes": "second_opinion.batch.smoke",
    "validate_manifest": "second_opinion.batch.validate",
    "write_batch_report": "second_opinion.batch.report.write",
    "write_report": "second_opinion.audit.output",
}
_NAMED_LIKE_SUBPACKAGE = {
    "join": "second_opinion.join.run",
    "ingest": "second_opinion.ingest.ingest",
}
"""Functions whose names are also their subpackages': importing the subpackage binds its name on
this module, so these are looked up on every read (:class:`_Package`)."""


def __getattr__(name: str) -> Any:  # noqa: ANN401 - whatever the named module holds
    """Load a public name's module on first use."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'second_opinion' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """This package's module: ``join`` and ``ingest`` read as the functions, never the
    subpackages the import system binds under the same names."""

    def __getattribute__(self, name: str) -> Any:  # noqa: ANN401 - any attribute
        module = _NAMED_LIKE_SUBPACKAGE.get(name)
        if module is not None:
            return getattr(importlib.import_module(module), name)
        return super().__getattribute__(name)


sys.modules[__name__].__class__ = _Package


__all__ = [
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
