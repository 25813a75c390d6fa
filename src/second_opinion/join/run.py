"""Joining sidecars onto a base table: the semantics of docs/join.md, executed in DuckDB.

The base table and every sidecar are read once each (:mod:`second_opinion.join.load`), after
every sidecar is planned from its schema (:mod:`second_opinion.join.plan`). Coverage and policies
(:mod:`second_opinion.join.coverage`) and the final left join (:mod:`second_opinion.join.sql`)
then run on those small tables, in one private connection
(:class:`~second_opinion.join.session.JoinSession`), and the result is either returned as Arrow
(:func:`join`) or written atomically to a file (:func:`join_to_file`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from second_opinion.errors import SecondOpinionError, UsageError
from second_opinion.join.groups import plan_sidecars
from second_opinion.join.key_checks import check_base_keys
from second_opinion.join.load import load_base, load_sidecar
from second_opinion.join.overlap import side_by_side, write_while
from second_opinion.join.plan import Base, JoinPlan, Sidecar, base_owners
from second_opinion.join.session import JoinSession
from second_opinion.join.spec import JoinSpec, spec_inputs
from second_opinion.join.spelling import PYTHON, Spelling
from second_opinion.join.sql import final_query, output_names
from second_opinion.tables.formats import Engine, same_file
from second_opinion.tables.memory import MemoryTable
from second_opinion.tables.reading import open_table
from second_opinion.tables.writing import write_query

if TYPE_CHECKING:  # pyarrow is imported by DuckDB when a table is asked for, not at start-up
    import pyarrow as pa

    from second_opinion.join.coverage import Coverage
    from second_opinion.join.record import FileHashes


@dataclass(frozen=True)
class JoinResult:
    """The joined table (base rows in base order), one coverage report per sidecar, and the
    warnings: a sidecar that matched fewer than every base key (with the key diagnosis's fix,
    if it found one), a per-frame file reduced to one row per key."""

    table: pa.Table
    coverage: tuple[Coverage, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class JoinReport:
    """What :func:`join_to_file` wrote."""

    output: Path
    rows: int
    columns: tuple[str, ...]
    coverage: tuple[Coverage, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict with a fixed key order."""
        return {
            "output": str(self.output),
            "rows": self.rows,
            "columns": list(self.columns),
            "coverage": [c.to_dict() for c in self.coverage],
            "warnings": list(self.warnings),
        }


def join(
    spec: JoinSpec, *, engine: Engine | None = None, spelling: Spelling = PYTHON
) -> JoinResult:
    """Join ``spec.sidecars`` onto ``spec.features``; return the table, coverage reports and
    warnings.

    Raises :class:`InputError` for unreadable or invalid input and :class:`PolicyError` when a
    policy fails (a sidecar that matches no base key, unless ``allow_no_match``;
    ``on_missing='error'`` with missing keys; coverage below ``min_coverage``). Messages and
    warnings name options as ``spelling`` says (a Python caller's keywords by default).
    """
    with JoinSession(engine, spelling) as session:
        plan, coverage, warnings = _prepare(session, spec)
        table = session.con.sql(final_query(plan)).to_arrow_table()
    return JoinResult(table=table, coverage=coverage, warnings=warnings)


def join_coverage(
    spec: JoinSpec, *, engine: Engine | None = None, spelling: Spelling = PYTHON
) -> tuple[Coverage, ...]:
    """The coverage :func:`join` would report, without building or writing the table.

    Policies are checked as in :func:`join`: a failing one raises :class:`PolicyError`.
    """
    return preview_join(spec, engine=engine, spelling=spelling)[0]


def preview_join(
    spec: JoinSpec, *, engine: Engine | None = None, spelling: Spelling = PYTHON
) -> tuple[tuple[Coverage, ...], tuple[str, ...]]:
    """The coverage and warnings :func:`join` would give, without building the table."""
    with JoinSession(engine, spelling) as session:
        _, coverage, warnings = _prepare(session, spec)
    return coverage, warnings


def check_spec(spec: JoinSpec, *, spelling: Spelling = PYTHON) -> list[str]:
    """Problems a join would meet that the files' headers already show; reads no data.

    Opens every table (schema from a sample), and checks key, frame and requested columns,
    output-name collisions and derived-feature base columns. Returns one message per problem.
    """
    problems: list[str] = []
    with JoinSession(spelling=spelling) as session:
        try:
            table = open_table(session.con, spec.features)
            table.require(spec.key, "key column", "fix 'key'")
        except SecondOpinionError as exc:
            return [exc.message]
        base = Base(table=table, key=spec.key)
        owners = base_owners(base)
        for index, sidecar in enumerate(spec.sidecars):
            try:
                plan_sidecars(session, spec=sidecar, index=index, base=base, owners=owners)
            except SecondOpinionError as exc:
                problems.append(exc.message)
    return problems


def join_to_file(
    spec: JoinSpec,
    output: str | Path,
    *,
    engine: Engine | None = None,
    provenance: bool = False,
    spelling: Spelling = PYTHON,
) -> JoinReport:
    """Like :func:`join`, but write the result to ``output`` atomically (format from its suffix).

    ``output`` may not be one of the inputs. On any failure no file is left at ``output``.
    ``provenance``: also write ``<output>.provenance.json`` (as ``batch`` does: every input's
    SHA-256, an in-memory one's of its content; docs/provenance.md), put in place together with
    the output.
    """
    output = Path(output)
    for _, _, path in spec_inputs(spec):
        if isinstance(path, Path) and same_file(path, output):
            msg = f"{output}: the output is also an input; write to another file"
            raise UsageError(msg)
    started, clock, target = "", time.monotonic(), output
    hashes: FileHashes | None = None
    if provenance:
        from second_opinion.join.record import FileHashes, staging_of  # noqa: PLC0415
        from second_opinion.provenance import utc_now  # noqa: PLC0415

        started, target, hashes = utc_now(), staging_of(output), FileHashes(spec)
    try:
        with JoinSession(engine, spelling) as session:
            plan, frames = _load(session, spec)
            columns = output_names(plan)
            # The writer checks the header it wrote is this one, the one reported.
            if session.limited:  # one query at a time within the memory limit
                coverage, warnings = _check(session, plan, frames)
                rows = write_query(session.con, final_query(plan), target, columns=columns)
            else:  # the write runs beside the coverage; put in place once policies pass
                rows, (coverage, warnings) = write_while(
                    session.con,
                    final_query(plan),
                    target,
                    columns=columns,
                    check=lambda: _check(session, plan, frames),
                    write=write_query,
                )
            if hashes is not None:  # hashed while the database closes
                hashes.add(target)
        if hashes is not None:
            from second_opinion.join.record import place_with_record  # noqa: PLC0415

            place_with_record(
                spec,
                staged=target,
                output=output,
                rows=rows,
                columns=columns,
                coverage=coverage,
                started=started,
                clock=clock,
                hashes=hashes,
            )
    finally:
        if hashes is not None:
            hashes.close()
            target.unlink(missing_ok=True)
    return JoinReport(
        output=output, rows=rows, columns=columns, coverage=coverage, warnings=warnings
    )


def _prepare(
    session: JoinSession, spec: JoinSpec
) -> tuple[JoinPlan, tuple[Coverage, ...], tuple[str, ...]]:
    """Read every input once, check it, and compute coverage and warnings; raise on policy
    failure."""
    plan, frames = _load(session, spec)
    return (plan, *_check(session, plan, frames))


def _load(session: JoinSession, spec: JoinSpec) -> tuple[JoinPlan, dict[str, str | None]]:
    """Read every input once and check its keys; return the plan and, by sidecar table, the
    column that numbers its frames."""
    base = load_base(session.con, spec, session.spelling)
    owners = base_owners(base)
    # Plan every sidecar (schemas only) before loading any, so a wrong column name fails fast;
    # a problem with the base's keys is still the first one told.
    try:
        sidecars = tuple(
            planned
            for index, sidecar in enumerate(spec.sidecars)
            for planned in plan_sidecars(
                session, spec=sidecar, index=index, base=base, owners=owners
            )
        )
    except Exception:
        check_base_keys(session.con, base)
        raise
    plan = JoinPlan(base=base, sidecars=sidecars)
    # The base's key checks run beside the first loads, and their error comes first.
    tasks: list[Callable[[duckdb.DuckDBPyConnection], str | None]]
    tasks = [functools.partial(_check_base, base=base)]
    tasks += [functools.partial(_load_one, sidecar=s, limited=session.limited) for s in sidecars]
    # Files load side by side (a query on one small file keeps one core busy); an in-memory
    # table is registered on this connection only, and a memory limit is shared by all.
    files = all(not isinstance(s.table.path, MemoryTable) for s in sidecars)
    workers = 1 if session.limited or not files else 2
    loaded = side_by_side(session.con, tasks, workers=workers)[1:]
    return plan, {s.name: frame for s, frame in zip(sidecars, loaded, strict=True)}


def _check_base(con: duckdb.DuckDBPyConnection, *, base: Base) -> str | None:
    check_base_keys(con, base)
    return None  # as a sidecar's load: no frame column


def _load_one(con: duckdb.DuckDBPyConnection, *, sidecar: Sidecar, limited: bool) -> str | None:
    return load_sidecar(con, sidecar, limited=limited)


def _check(
    session: JoinSession, plan: JoinPlan, frames: dict[str, str | None]
) -> tuple[tuple[Coverage, ...], tuple[str, ...]]:
    """Coverage and warnings of the loaded inputs; raise on policy failure."""
    # Loaded here, not at start-up: beside the write, which then starts sooner.
    from second_opinion.join.coverage import measure_coverage  # noqa: PLC0415
    from second_opinion.join.policies import check_policies, coverage_warnings  # noqa: PLC0415

    coverage = measure_coverage(session.con, plan, frames)
    check_policies(plan, coverage)
    return coverage, coverage_warnings(plan, coverage)
