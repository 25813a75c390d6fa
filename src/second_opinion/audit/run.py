"""``run_audit``: read the corpora, resolve their signals, run every analysis, write the report."""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from second_opinion._version import __version__
from second_opinion.audit.analysis import (
    CorpusResult,
    CrossCorpus,
    SignalResult,
    Step,
    analyse_corpus,
)
from second_opinion.audit.compare import CorpusComparisons, check_compare, compare_corpus
from second_opinion.audit.corpus import Corpus, check_names, load_corpus, parse_table_argument
from second_opinion.audit.cross import cross_corpus
from second_opinion.audit.families import FamilyAudit, audit_families
from second_opinion.audit.metrics import LogisticFit, fit_logistic
from second_opinion.audit.options import AuditOptions
from second_opinion.audit.progress import ProgressCallback
from second_opinion.audit.signals import SignalSet, resolve_signals
from second_opinion.errors import InputError, UsageError
from second_opinion.hashing import sha256_file
from second_opinion.provenance import canonical_json, tool_series
from second_opinion.tables.memory import MemoryTable, TableArgument, TablePath, table_path

CorpusArgument = TableArgument | tuple[str, TableArgument]
"""A corpus table: a path, ``"NAME=PATH"``, an in-memory table (Arrow stream), or ``(name,
table)``."""


@dataclass(frozen=True)
class AuditResult:
    """Everything the audit found; :func:`second_opinion.audit.report.audit_json` renders it."""

    options: AuditOptions
    corpora: tuple[CorpusResult, ...]
    cross: tuple[CrossCorpus, ...]
    created: str
    seconds: float
    sha256: dict[str, str]
    """Corpus name → the SHA-256 of its table, as read."""
    fingerprint: str
    """What decides whether a later batch may skip this audit: :func:`audit_fingerprint`."""
    families: tuple[FamilyAudit, ...] = ()
    """Per corpus, its signal-family coverage and redundant column pairs."""
    comparisons: tuple[CorpusComparisons, ...] = ()
    """Per corpus, the head-to-head comparisons asked for (``compare``, ``compare_all``)."""
    fits: tuple[tuple[LogisticFit | None, ...], ...] = ()
    """Per corpus, per signal (in order), the full-table logistic fit (None: undefined)."""


def audit_fingerprint(options: AuditOptions, tables: Mapping[str, str]) -> str:
    """SHA-256 over the options that change results, each corpus's name and table hash, and
    the tool's release series. ``jobs`` is left out: results do not depend on it.
    """
    data = {
        "options": options.model_dump(mode="json", exclude={"jobs"}),
        "tables": dict(sorted(tables.items())),
        "tool": tool_series(),
    }
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


@contextmanager
def split_workers(jobs: int) -> Iterator[Executor]:
    """The audit's pool: ``jobs`` fresh ``spawn`` worker processes, one even for ``jobs=1``.

    Every protocol split runs in one of them, never in the calling process: a split's metrics
    rest on a logistic fit that, on a tiny test split (4 rows of a 20-row signal), turns a
    last-bit difference into a different optimum, and the calling process's state is shaped by
    whatever ran there before (a host program, a test suite: a one-job audit inside pytest was
    seen to differ in the fourth digit of a split's RMSE from the same audit with two jobs).
    Fresh workers that only ever run splits, each a pure function of its index, compute the same
    bits for any number of them.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield pool


def prepare(
    tables: Sequence[CorpusArgument], options: AuditOptions
) -> list[tuple[Corpus, SignalSet]]:
    """Read every table and resolve its signals; all input errors surface here, before work."""
    corpora = [
        load_corpus(path, options.mos, name=name)
        for name, path in (_split(table, index) for index, table in enumerate(tables))
    ]
    check_names(corpora)
    exclude = options.exclude
    return [
        (
            corpus,
            resolve_signals(
                corpus, options.signal_specs, baseline=options.baseline_spec, exclude=exclude
            ),
        )
        for corpus in corpora
    ]


def run_audit(
    tables: Sequence[CorpusArgument],
    options: AuditOptions | None = None,
    *,
    step: Step | None = None,
    sha256: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> AuditResult:
    """Audit the signal mix of each corpus table (see docs/audit.md).

    Each of ``tables`` is a path, ``"NAME=PATH"``, an in-memory table (anything with the Arrow
    stream interface: a pyarrow Table, a polars or pandas >= 2.2 DataFrame, a DuckDB relation;
    named ``memory-<n>`` by its position, from 1) or ``(name, table)``. The report records an
    in-memory table with ``"source": "memory"``, no path, and its content's SHA-256.

    ``step`` receives a line per analysis as it starts; ``progress`` each phase's counts
    (:class:`~second_opinion.audit.progress.AuditProgress`); ``sha256`` may give tables' hashes
    already computed (by corpus name), which are otherwise computed here. Raises
    :class:`InputError` for bad input (no MOS column, a signal glob matching nothing, fewer than
    10 rows) before any analysis runs.
    """
    options = options or AuditOptions()
    if not tables:
        msg = "no corpus table given; pass at least one TABLE"
        raise UsageError(msg)
    started = time.perf_counter()
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    prepared = prepare(tables, options)
    check_compare(options, [(corpus.name, signals) for corpus, signals in prepared])
    analysed: list[CorpusResult] = []
    comparisons: list[CorpusComparisons] = []
    with split_workers(options.jobs) as pool:
        for corpus, signals in prepared:
            analysed.append(analyse_corpus(corpus, signals, options, pool, step, progress))
            if step and (options.compare or options.compare_all):
                step(f"{corpus.name}: comparisons")
            found = compare_corpus(analysed[-1], options, pool)
            comparisons += [found] if found is not None else []
    results = tuple(analysed)
    if step and len(results) > 1:
        step("cross-corpus")
    # Grids only for trained signals: a training-free one ignores the training corpus, so its
    # grid repeats one number per column (its full-table SRCC, already in the signals table).
    cross = tuple(
        grid for grid in cross_corpus(results, options, progress) if not grid.training_free
    )
    families = tuple(
        audit_families(
            corpus,
            redundancy=options.family_redundancy,
            min_finite_ratio=options.min_finite_ratio,
        )
        for corpus, _ in prepared
    )
    known = sha256 or {}
    hashes = {c.name: known.get(c.name) or _sha256(c.path) for c, _ in prepared}
    seconds = time.perf_counter() - started
    fingerprint = audit_fingerprint(options, hashes)
    return AuditResult(
        options=options,
        corpora=results,
        cross=cross,
        created=created,
        seconds=seconds,
        sha256=hashes,
        fingerprint=fingerprint,
        families=families,
        comparisons=tuple(comparisons),
        fits=tuple(tuple(map(logistic_of, r.signals)) for r in results),
    )


def logistic_of(result: SignalResult) -> LogisticFit | None:
    """The full-table logistic of a signal (as its metrics fitted it), None when undefined (a
    constant prediction: its correlations are undefined, so nothing was fitted)."""
    finite = result.prediction[np.isfinite(result.prediction)]
    if finite.size == 0 or np.ptp(finite) == 0:
        return None
    try:
        return fit_logistic(result.prediction, result.mos)
    except InputError:
        return None


def _sha256(table: TablePath) -> str:
    """A file's SHA-256; an in-memory table's of its content."""
    return table.sha256 if isinstance(table, MemoryTable) else sha256_file(table)


def _split(table: CorpusArgument, index: int) -> tuple[str | None, TablePath]:
    """``(name or None, table)`` of ``tables[index]``; an unnamed in-memory table is named
    ``memory-<index + 1>``."""
    keyword = f"tables[{index}]"
    name: str | None = None
    if isinstance(table, tuple):
        pair: tuple[object, ...] = table  # a caller's tuple may hold anything
        if len(pair) != 2 or not isinstance(pair[0], str):
            msg = f"{keyword}: a named table is a pair (name, table); got {pair!r}"
            raise UsageError(msg)
        name, table = table
    elif isinstance(table, str):
        return parse_table_argument(table)
    try:
        found = table_path(table, keyword)
    except ValueError as exc:
        msg = f"{keyword}: {exc}"
        raise UsageError(msg) from None
    if isinstance(found, MemoryTable) and name is None:
        name = f"memory-{index + 1}"
    return name, found


def version() -> dict[str, Any]:
    """The tool's name and version, for the report."""
    return {"name": "second-opinion", "version": __version__}
