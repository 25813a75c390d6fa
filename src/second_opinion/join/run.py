"""Joining sidecars onto a base table: the semantics of docs/join.md, executed in DuckDB.

The base table and every sidecar are read once each. The base is loaded into a temporary table
(its ``rowid`` is the file order); a per-clip sidecar is loaded and reduced to one row per key;
a per-frame sidecar is streamed straight into its per-key pooled aggregate. Coverage, policies and
the final left join then run on those small tables, and the result is either returned as Arrow
(:func:`join`) or written atomically to a file (:func:`join_to_file`).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

import duckdb

from second_opinion._typing import KEY_NORMALIZATIONS, PoolStat
from second_opinion.errors import (
    InputError,
    InternalError,
    PolicyError,
    SecondOpinionError,
    UsageError,
)
from second_opinion.join.aligned import write_aligned
from second_opinion.join.coverage import Coverage, UnmatchedKey, coverage_failures
from second_opinion.join.keys import edit_distance, normalize_key, normalize_sql
from second_opinion.join.passes import HOLISTIC_STATS, pooling_passes
from second_opinion.join.pooling import pool_sql
from second_opinion.join.spec import JoinSpec, SidecarSpec
from second_opinion.tables.diagnosis import explain_scan_error, locate_bad_key, why_not_numbers
from second_opinion.tables.files import TableFile
from second_opinion.tables.formats import Engine, connect, is_numeric_type, quote_ident, same_file
from second_opinion.tables.keys import bad_key_message, bad_key_sql, key_problem
from second_opinion.tables.reading import open_table, scan_sql, whole_column_types
from second_opinion.tables.writing import write_query

if TYPE_CHECKING:  # pyarrow is imported by DuckDB when a table is asked for, not at start-up
    import pyarrow as pa

EXAMPLES = 5
NEIGHBOURS = 6  # keys on each side, in sorted order, considered as a closest key
_ROW = "__so_row"
_COUNT = "__so_n"
_HIDDEN = "__so_hidden_key"  # per-frame: a key as read holds a NUL or starts like JSON


@dataclass(frozen=True)
class OutputColumn:
    """One column a sidecar adds: its output name, source column and pooling statistic."""

    name: str
    source: str
    stat: PoolStat | None
    index: int  # position of the source among the sidecar's taken columns


@dataclass(frozen=True)
class JoinResult:
    """The joined table (base rows in base order) and one coverage report per sidecar."""

    table: pa.Table
    coverage: tuple[Coverage, ...]


@dataclass(frozen=True)
class JoinReport:
    """What :func:`join_to_file` wrote."""

    output: Path
    rows: int
    columns: tuple[str, ...]
    coverage: tuple[Coverage, ...]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict with a fixed key order."""
        return {
            "output": str(self.output),
            "rows": self.rows,
            "columns": list(self.columns),
            "coverage": [c.to_dict() for c in self.coverage],
        }


@dataclass
class _Sidecar:
    spec: SidecarSpec
    table: TableFile
    keys: tuple[str, ...]  # sidecar key columns, in the order of the base key
    columns: tuple[str, ...]  # score columns taken
    outputs: tuple[OutputColumn, ...]
    derived: tuple[tuple[str, str, str], ...]  # (output name, kind, source output name)
    name: str  # temporary table name

    @property
    def n_frames_name(self) -> str:
        return f"{self.spec.column_prefix}n_frames"

    @property
    def key_source(self) -> Path:
        """The file its keys come from, as messages name it (a score matrix's key table)."""
        return self.spec.align.keys_from if self.spec.align is not None else self.table.path

    @property
    def score_source(self) -> Path:
        """The file its scores come from, as messages name it."""
        return self.spec.path


def join(spec: JoinSpec, *, engine: Engine | None = None) -> JoinResult:
    """Join ``spec.sidecars`` onto ``spec.features``; return the table and coverage reports.

    Raises :class:`InputError` for unreadable or invalid input and :class:`PolicyError` when a
    policy fails (``on_missing='error'`` with missing keys, coverage below ``min_coverage``).
    """
    with _Joiner(spec, engine) as joiner:
        coverage = joiner.prepare()
        table = joiner.con.sql(joiner.final_query()).to_arrow_table()
    return JoinResult(table=table, coverage=coverage)


def join_coverage(spec: JoinSpec, *, engine: Engine | None = None) -> tuple[Coverage, ...]:
    """The coverage :func:`join` would report, without building or writing the table.

    Policies are checked as in :func:`join`: a failing one raises :class:`PolicyError`.
    """
    with _Joiner(spec, engine) as joiner:
        return joiner.prepare()


def check_spec(spec: JoinSpec) -> list[str]:
    """Problems a join would meet that the files' headers already show; reads no data.

    Opens every table (schema from a sample), and checks key, frame and requested columns,
    output-name collisions and derived-feature base columns. Returns one message per problem.
    """
    problems: list[str] = []
    with _Joiner(spec) as joiner:
        try:
            base = joiner._base = open_table(joiner.con, spec.features)
            base.require(spec.key, "key column", "fix 'key'")
        except SecondOpinionError as exc:
            return [exc.message]
        owners = dict.fromkeys(base.columns, f"base table {base.name}")
        for index, sidecar in enumerate(spec.sidecars):
            try:
                joiner._plan(sidecar, index, owners)
            except SecondOpinionError as exc:
                problems.append(exc.message)
    return problems


def join_to_file(spec: JoinSpec, output: str | Path, *, engine: Engine | None = None) -> JoinReport:
    """Like :func:`join`, but write the result to ``output`` atomically (format from its suffix).

    ``output`` may not be one of the inputs. On any failure no file is left at ``output``.
    """
    output = Path(output)
    inputs = [spec.features, *(s.path for s in spec.sidecars)]
    inputs += [s.align.keys_from for s in spec.sidecars if s.align is not None]
    for path in inputs:
        if same_file(Path(path), output):
            msg = f"{output}: the output is also an input; write to another file"
            raise UsageError(msg)
    with _Joiner(spec, engine) as joiner:
        coverage = joiner.prepare()
        query = joiner.final_query()
        columns = tuple(str(r[0]) for r in joiner.con.execute(f"DESCRIBE {query}").fetchall())
        rows = write_query(joiner.con, query, output)
    return JoinReport(output=output, rows=rows, columns=columns, coverage=coverage)


def first_row(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[object] = ()
) -> tuple[Any, ...] | None:
    """The first row of ``query``, reading the result to its end (DuckDB needs that)."""
    rows = con.execute(query, list(params)).fetchall()
    return tuple(rows[0]) if rows else None


def _scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    row = first_row(con, query)
    return int(row[0]) if row and row[0] is not None else 0


def _key_text(values: Sequence[object]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in values)


class _Joiner:
    """One join, in one private in-memory DuckDB connection."""

    def __init__(self, spec: JoinSpec, engine: Engine | None = None) -> None:
        self.spec = spec
        spill = Path(tempfile.gettempdir()) / "second-opinion-spill"
        self.con = connect(engine, temp_directory=str(spill))
        # Under a memory limit, quantile pooling runs in passes (see second_opinion.join.passes).
        self.limited = engine is not None and engine.memory_limit is not None
        self.sidecars: list[_Sidecar] = []
        self._base: TableFile | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def scratch(self) -> Path:
        """A private folder for intermediate files, removed with the joiner."""
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="second-opinion-")
        return Path(self._scratch.name)

    @property
    def base(self) -> TableFile:
        if self._base is None:
            msg = "the base table was used before it was opened"
            raise InternalError(msg)
        return self._base

    def bcol(self, column: str) -> str:
        """The internal name of base column ``column``: positional, so no user name can clash."""
        return f"b{self.base.columns.index(column)}"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.con.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    # --- loading ------------------------------------------------------------------------------

    def prepare(self) -> tuple[Coverage, ...]:
        """Read every input once, check it, and compute coverage; raise on policy failure."""
        self._base = base = open_table(self.con, self.spec.features)
        base.require(self.spec.key, "key column", "fix the key (option key)")
        base.require_flat_keys(self.spec.key)
        self._load_base(base)
        if _scalar(self.con, "SELECT count(*) FROM so_base") == 0:
            msg = f"{base.path}: the table has no rows"
            raise InputError(msg)
        self._check_base_keys(base)
        owners = dict.fromkeys(base.columns, f"base table {base.name}")
        # Plan every sidecar (schemas only) before loading any, so a wrong column name fails fast.
        self.sidecars = [
            self._plan(spec, index, owners) for index, spec in enumerate(self.spec.sidecars)
        ]
        for sidecar in self.sidecars:
            if sidecar.spec.per_frame:
                self._load_per_frame(sidecar)
            else:
                self._load_per_clip(sidecar)
        coverage = self._with_base_closest([self._coverage(s) for s in self.sidecars])
        self._check_policies(coverage)
        return coverage

    def _load_base(self, base: TableFile) -> None:
        """Load the base as ``so_base``: key columns text, the others typed over every value.

        DuckDB sniffs types from the first rows; a value past them would be truncated (2.5 read
        into an integer column as 2). So the columns a sniff can get wrong are read as text and
        typed over all their values (:func:`whole_column_types`): in CSV/TSV every column; in
        JSONL the integer ones (numbers there are typed by JSON itself, and a column sniffed as
        float is read as DOUBLE, which holds any later integer exactly). Parquet stores types.
        """
        aliases = {c: self.bcol(c) for c in base.columns}
        others = [c for c in base.columns if c not in self.spec.key]
        if base.format == "parquet":
            query = scan_sql(base, text=self.spec.key, numbers=(), others=others, aliases=aliases)
            self._load(base, "so_base", query, ())
            return
        if base.format == "jsonl":
            floats = [c for c in others if base.type_of(c).upper() in ("DOUBLE", "FLOAT")]
            doubtful = [c for c in others if is_numeric_type(base.type_of(c)) and c not in floats]
        else:
            floats, doubtful = [], others
        kept = [c for c in others if c not in floats and c not in doubtful]
        query = scan_sql(base, text=[*self.spec.key, *doubtful], numbers=floats, others=kept,
                         aliases=aliases)  # fmt: skip
        final = dict.fromkeys(self.spec.key, "VARCHAR") | dict.fromkeys(floats, "DOUBLE")
        if not doubtful:  # nothing to retype: load straight into place
            self._load(base, "so_base", query, floats)
            self._base = dataclasses.replace(
                base, types=tuple(final.get(c, base.type_of(c)) for c in base.columns)
            )
            return
        self._load(base, "so_base_text", query, floats)
        types = whole_column_types(
            self.con, "so_base_text", [(aliases[c], base.type_of(c)) for c in doubtful]
        )
        typed = dict(zip(doubtful, types, strict=True))
        select = [
            aliases[c] if c not in typed else f"CAST({aliases[c]} AS {typed[c]}) AS {aliases[c]}"
            for c in base.columns
        ]
        self.con.execute(
            f"CREATE TEMP TABLE so_base AS SELECT {', '.join(select)} FROM so_base_text "
            "ORDER BY rowid"
        )
        self.con.execute("DROP TABLE so_base_text")
        final |= typed
        self._base = dataclasses.replace(
            base, types=tuple(final.get(c, base.type_of(c)) for c in base.columns)
        )

    def _load(self, table: TableFile, name: str, query: str, numbers: Sequence[str]) -> None:
        try:
            self.con.execute(f"CREATE TEMP TABLE {name} AS {query}")
        except duckdb.Error as exc:
            raise explain_scan_error(table, exc, numbers=numbers) from None

    def _check_keys(
        self,
        table: TableFile,
        relation: str,
        columns: Sequence[str],
        names: Sequence[str],
        source: Path,
        every: str,
    ) -> None:
        """Refuse the first unusable key (:func:`keys.key_problem`) of a loaded table.

        ``relation`` is the temporary table, ``columns`` its key columns, ``names`` their names
        in the file. One query over the (small, one row per clip) table finds the first suspect
        row; a JSONL key that merely starts like a JSON object or array is checked against the
        file, which tells an object from a string.
        """
        jsonl = table.format == "jsonl"
        test = " OR ".join(bad_key_sql(c, json_values=jsonl) for c in columns)
        row = first_row(
            self.con,
            f"SELECT rowid, {', '.join(columns)} FROM {relation} WHERE {test} "
            "ORDER BY rowid LIMIT 1",
        )
        if row is None:
            return
        for name, value in zip(names, row[1:], strict=True):
            problem = key_problem(value)
            if problem is not None:
                where = f"{source} {table.location(int(row[0]))}"
                raise InputError(bad_key_message(where, names, name, value, problem, every))
        self._locate_bad_key(table, names, source, every)

    @staticmethod
    def _locate_bad_key(table: TableFile, names: Sequence[str], source: Path, every: str) -> None:
        """Raise for the first unusable key found by re-reading the file, if there is one."""
        found = locate_bad_key(table, names)
        if found is None:
            return
        place, name, value, problem = found
        raise InputError(bad_key_message(f"{source} {place}", names, name, value, problem, every))

    def _check_base_keys(self, base: TableFile) -> None:
        keys = ", ".join(self.bcol(k) for k in self.spec.key)
        self._check_keys(
            base, "so_base", [self.bcol(k) for k in self.spec.key], self.spec.key, base.path, "clip"
        )
        dupes = self.con.execute(
            f"SELECT {keys}, count(*) AS n FROM so_base GROUP BY ALL HAVING n > 1 "
            f"ORDER BY min(rowid) LIMIT {EXAMPLES}"
        ).fetchall()
        if dupes:
            total = _scalar(
                self.con,
                f"SELECT count(*) FROM (SELECT 1 FROM so_base GROUP BY {keys} HAVING count(*) > 1)",
            )
            shown = ", ".join(f"{'|'.join(_key_text(d[:-1]))!r} x{d[-1]}" for d in dupes)
            msg = (
                f"{base.path}: {total} duplicate key(s) in the base table ({shown}); "
                "each clip must appear once"
            )
            raise InputError(msg)

    def _plan(self, spec: SidecarSpec, index: int, owners: dict[str, str]) -> _Sidecar:
        aligned: tuple[str, ...] | None = None
        if spec.align is not None:
            path, aligned = write_aligned(self.con, spec, self.spec.key[0], self.scratch())
            table = open_table(self.con, path)
        else:
            table = open_table(self.con, spec.path)
        keys = tuple(spec.sidecar_key(k) for k in self.spec.key)
        table.require(
            keys,
            "key column",
            f"map the sidecar's key column to {self.spec.key[0]!r} with key_map of {spec.scorer!r}",
        )
        table.require_flat_keys(keys)
        if spec.frame_column is not None:
            table.require(
                [spec.frame_column],
                "frame column",
                f"set frame_column of {spec.scorer!r} to its frame index column",
            )
        not_scores = {*keys, spec.frame_column}
        if aligned is not None:
            columns = aligned
        elif spec.columns is None or isinstance(spec.columns, str):
            columns = tuple(c for c in table.numeric_columns() if c not in not_scores)
            if not columns:
                raise _no_score_columns(table, not_scores, spec.scorer)
        else:
            columns = spec.columns
            table.require(columns, "score column", f"fix columns of {spec.scorer!r}")
            for column in columns:
                if column in not_scores:
                    msg = f"{table.path}: column {column!r} is a key or frame column, not a score"
                    raise UsageError(msg)
        outputs: list[OutputColumn] = []
        for i, column in enumerate(columns):
            if spec.per_frame:
                outputs.extend(
                    OutputColumn(f"{spec.column_prefix}{column}_{stat}", column, stat, i)
                    for stat in spec.pool
                )
            else:
                outputs.append(OutputColumn(f"{spec.column_prefix}{column}", column, None, i))
        derived = self._plan_derived(spec, outputs)
        names = [o.name for o in outputs]
        if spec.per_frame:
            names.append(f"{spec.column_prefix}n_frames")
        names.extend(d[0] for d in derived)
        for name in names:
            if name in owners:
                msg = (
                    f"output column {name!r} of sidecar {spec.scorer!r} collides with "
                    f"{owners[name]}; set a different prefix for {spec.scorer!r}"
                )
                raise UsageError(msg)
            owners[name] = f"sidecar {spec.scorer!r}"
        return _Sidecar(
            spec, table, keys, columns, tuple(outputs), derived, name=f"so_sidecar_{index}"
        )

    def _plan_derived(
        self, spec: SidecarSpec, outputs: Sequence[OutputColumn]
    ) -> tuple[tuple[str, str, str], ...]:
        derived: list[tuple[str, str, str]] = []
        for kind in spec.derived:
            if kind.startswith("delta:"):
                column = kind.removeprefix("delta:")
                self.base.require(
                    [column], "base column for delta", f"fix derived 'delta:…' of {spec.scorer!r}"
                )
                if not is_numeric_type(self.base.type_of(column)):
                    msg = (
                        f"{self.base.path}: column {column!r} is {self.base.type_of(column)}, "
                        f"not a number; delta:{column} needs a numeric base column"
                    )
                    raise UsageError(msg)
                derived.extend((f"{o.name}_delta_{column}", kind, o.name) for o in outputs)
            else:
                derived.extend((f"{o.name}_{kind}", kind, o.name) for o in outputs)
        return tuple(derived)

    def _scan(self, sidecar: _Sidecar) -> str:
        aliases = {k: f"k{i}" for i, k in enumerate(sidecar.keys)}
        aliases |= {c: f"c{i}" for i, c in enumerate(sidecar.columns)}
        return scan_sql(sidecar.table, text=sidecar.keys, numbers=sidecar.columns, aliases=aliases)

    def _normalized(self, spec: SidecarSpec) -> list[str]:
        """The sidecar's key columns ``k<i>``, normalised as ``spec`` asks."""
        return [normalize_sql(f"k{i}", spec.normalize_keys) for i in range(len(self.spec.key))]

    def _key_lists(self) -> tuple[str, str]:
        n = len(self.spec.key)
        return ", ".join(f"k{i}" for i in range(n)), ", ".join(f"nk{i}" for i in range(n))

    def _finite(self, sidecar: _Sidecar) -> str:
        """Select-list items: each score ``c{i}`` kept as read, and as ``v{i}``, finite or null.

        Non-finite values are counted as ``count(c{i}) - count(v{i})``.
        """
        return ", ".join(
            f"c{i}, CASE WHEN isfinite(c{i}) THEN c{i} END AS v{i}"
            for i in range(len(sidecar.columns))
        )

    def _load_per_clip(self, sidecar: _Sidecar) -> None:
        spec, n = sidecar.spec, len(self.spec.key)
        raw = f"{sidecar.name}_raw"
        self._load(sidecar.table, raw, self._scan(sidecar), sidecar.columns)
        self._check_sidecar_keys(sidecar, raw)
        ks, nks = self._key_lists()
        norm = ", ".join(f"{e} AS nk{i}" for i, e in enumerate(self._normalized(spec)))
        source = f"SELECT rowid, {ks}, {norm}, {self._finite(sidecar)} FROM {raw}"
        duplicated = _scalar(
            self.con,
            f"SELECT count(*) FROM (SELECT 1 FROM ({source}) GROUP BY {nks} HAVING count(*) > 1)",
        )
        if duplicated and spec.on_duplicate == "error":
            self._refuse_duplicates(sidecar, raw, norm, duplicated)
        if not duplicated:  # one row per key already: no (ordered) aggregation needed
            columns = [f"{nks}, {', '.join(f'k{i} AS ok{i}' for i in range(n))}"]
            columns.append(f"1 AS {_COUNT}, rowid AS {_ROW}")
            columns.extend(
                f"v{i} AS p{i}, (c{i} IS NOT NULL AND v{i} IS NULL)::INTEGER AS bad{i}"
                for i in range(len(sidecar.columns))
            )
            self.con.execute(
                f"CREATE TEMP TABLE {sidecar.name} AS SELECT {', '.join(columns)} FROM ({source})"
            )
            self.con.execute(f"DROP TABLE {raw}")
            return
        aggs = []
        for i in range(len(sidecar.columns)):
            if spec.on_duplicate == "last":
                aggs.append(f"last(v{i} ORDER BY rowid) AS p{i}")
            elif spec.on_duplicate == "mean":
                aggs.append(f"avg(v{i}) AS p{i}")
            else:
                aggs.append(f"first(v{i} ORDER BY rowid) AS p{i}")
            aggs.append(f"count(c{i}) - count(v{i}) AS bad{i}")
        originals = ", ".join(f"first(k{i} ORDER BY rowid) AS ok{i}" for i in range(n))
        self.con.execute(
            f"CREATE TEMP TABLE {sidecar.name} AS SELECT {nks}, {originals}, "
            f"count(*) AS {_COUNT}, min(rowid) AS {_ROW}, {', '.join(aggs)} "
            f"FROM ({source}) GROUP BY {nks}"
        )
        self.con.execute(f"DROP TABLE {raw}")

    def _check_sidecar_keys(self, sidecar: _Sidecar, raw: str) -> None:
        columns = [f"k{i}" for i in range(len(self.spec.key))]
        self._check_keys(sidecar.table, raw, columns, sidecar.keys, sidecar.key_source, "row")

    def _refuse_duplicates(self, sidecar: _Sidecar, raw: str, norm: str, total: int) -> None:
        ks, nks = self._key_lists()
        n = len(self.spec.key)
        originals = ", ".join(f"first(k{i} ORDER BY rowid)" for i in range(n))
        grouped = (
            f"SELECT {originals}, count(*) AS n, min(rowid) AS first_row "
            f"FROM (SELECT rowid, {ks}, {norm} FROM {raw}) "
            f"GROUP BY {nks} HAVING n > 1"
        )
        dupes = self.con.execute(f"{grouped} ORDER BY first_row LIMIT {EXAMPLES}").fetchall()
        if dupes:
            shown = ", ".join(f"{'|'.join(_key_text(d[:n]))!r} x{d[n]}" for d in dupes)
            msg = (
                f"{sidecar.key_source}: {total} duplicate key(s) ({shown}); "
                f"set on_duplicate of {sidecar.spec.scorer!r} to first, last or mean, "
                "or fix the sidecar"
            )
            raise InputError(msg)

    def _load_per_frame(self, sidecar: _Sidecar) -> None:
        spec, n = sidecar.spec, len(self.spec.key)
        ks, nks = self._key_lists()
        norm = ", ".join(f"{e} AS nk{i}" for i, e in enumerate(self._normalized(spec)))
        aggs = []
        for output in sidecar.outputs:
            stat = cast(PoolStat, output.stat)
            aggs.append(f"{pool_sql(stat, f'v{output.index}')} AS {quote_ident(output.name)}")
        jsonl = sidecar.table.format == "jsonl"
        if {"basename", "stem"} & set(spec.normalize_keys):
            # These steps can cut a NUL or a leading { out of a key: test the keys as read.
            hidden = " OR ".join(
                f"contains(k{i}, chr(0))"
                + (f" OR starts_with(k{i}, '{{') OR starts_with(k{i}, '[')" if jsonl else "")
                for i in range(n)
            )
            aggs.append(f"bool_or({hidden}) AS {_HIDDEN}")
        else:
            aggs.append(f"false AS {_HIDDEN}")
        for i in range(len(sidecar.columns)):
            aggs.append(f"count(c{i}) - count(v{i}) AS bad{i}")
            if "harmonic_mean" in spec.pool:
                aggs.append(f"count(*) FILTER (WHERE v{i} <= 0) AS nonpos{i}")
                aggs.append(f"arg_min(k0, v{i}) FILTER (WHERE v{i} <= 0) AS nonpos_key{i}")
                aggs.append(f"min(v{i}) AS min{i}")
        if spec.normalize_keys:
            originals = ", ".join(f"min(k{i}) AS ok{i}" for i in range(n))
        else:  # the group key is the original key: no need to aggregate it again
            originals = ", ".join(f"nk{i} AS ok{i}" for i in range(n))
        source = f"SELECT {ks}, {norm}, {self._finite(sidecar)} FROM ({self._scan(sidecar)})"
        quantiles = sum(o.stat in HOLISTIC_STATS for o in sidecar.outputs)
        passes = pooling_passes(self.con, sidecar.table, quantiles, limited=self.limited)
        for part in range(passes):
            where = f"WHERE hash({nks}) % {passes} = {part} " if passes > 1 else ""
            query = (
                f"SELECT {nks}, {originals}, count(*) AS {_COUNT}, NULL::BIGINT AS {_ROW}, "
                f"{', '.join(aggs)} FROM ({source}) {where}GROUP BY {nks}"
            )
            into = (
                f"INSERT INTO {sidecar.name} " if part else f"CREATE TEMP TABLE {sidecar.name} AS "
            )
            try:
                self.con.execute(into + query)
            except duckdb.Error as exc:
                raise explain_scan_error(sidecar.table, exc, numbers=sidecar.columns) from None
        # A key that is null, blank or holds a NUL stays so after normalising (unless basename
        # or stem cut the NUL out: _HIDDEN tests those rows as read); the file then names it.
        test = " OR ".join(bad_key_sql(f"nk{i}", json_values=jsonl) for i in range(n))
        null_test = " OR ".join(f"nk{i} IS NULL" for i in range(n))
        suspect = first_row(
            self.con,
            f"SELECT count(*), sum({_COUNT}) FILTER (WHERE {null_test}) FROM {sidecar.name} "
            f"WHERE {test} OR {_HIDDEN}",
        )
        if suspect and suspect[0]:
            self._locate_bad_key(sidecar.table, sidecar.keys, sidecar.key_source, "row")
            if suspect[1]:
                msg = (
                    f"{sidecar.key_source}: {suspect[1]} row(s) have an empty key "
                    f"({', '.join(sidecar.keys)}); every row needs a key"
                )
                raise InputError(msg)
        if "harmonic_mean" in spec.pool:
            self._check_positive(sidecar)

    def _check_positive(self, sidecar: _Sidecar) -> None:
        for i, column in enumerate(sidecar.columns):
            row = first_row(
                self.con,
                f"SELECT sum(nonpos{i}), min(min{i}), arg_min(nonpos_key{i}, min{i}) "
                f"FROM {sidecar.name} WHERE nonpos{i} > 0",
            )
            if row and row[0]:
                msg = (
                    f"{sidecar.score_source}: harmonic_mean needs values > 0, but column "
                    f"{column!r} has {int(row[0])} value(s) <= 0 (smallest {row[1]!r}, key "
                    f"{row[2]!r}); pool it with another statistic"
                )
                raise InputError(msg)

    # --- coverage -----------------------------------------------------------------------------

    def _match(self, sidecar: _Sidecar, base_alias: str = "b", side_alias: str = "s") -> str:
        base_norm = [
            normalize_sql(f"{base_alias}.{self.bcol(k)}", sidecar.spec.normalize_keys)
            for k in self.spec.key
        ]
        return " AND ".join(f"{e} = {side_alias}.nk{i}" for i, e in enumerate(base_norm))

    def _check_base_normalized(self, sidecar: _Sidecar) -> None:
        if not sidecar.spec.normalize_keys:
            return
        norm = [normalize_sql(self.bcol(k), sidecar.spec.normalize_keys) for k in self.spec.key]
        keys = ", ".join(self.bcol(k) for k in self.spec.key)
        row = first_row(
            self.con,
            f"SELECT list({'[' + keys + ']'} ORDER BY rowid) FROM so_base "
            f"GROUP BY {', '.join(norm)} HAVING count(*) > 1 ORDER BY min(rowid) LIMIT 1",
        )
        if row is not None:
            clash = " and ".join(repr("|".join(_key_text(k))) for k in row[0][:2])
            msg = (
                f"{self.base.path}: base keys {clash} become the same key after "
                f"normalising with {', '.join(sidecar.spec.normalize_keys)} for sidecar "
                f"{sidecar.spec.scorer!r}; normalise less, or fix the keys"
            )
            raise InputError(msg)

    def _coverage(self, sidecar: _Sidecar) -> Coverage:
        """The coverage of one sidecar; unmatched sidecar keys get their closest partner later,
        in one lookup for all sidecars (see :meth:`_with_base_closest`)."""
        self._check_base_normalized(sidecar)
        con, s, n = self.con, sidecar.name, len(self.spec.key)
        match = self._match(sidecar)
        keys = ", ".join(f"b.{self.bcol(k)}" for k in self.spec.key)
        oks = ", ".join(f"s.ok{i}" for i in range(n))
        # One pass over the base (left join): rows, matched rows, the first unmatched keys in
        # base order, nulls per output column.
        nulls = "".join(
            f", count(*) FILTER (WHERE s.{_COUNT} IS NOT NULL AND {v} IS NULL)"
            for v in self._value_columns(sidecar, "s")
        )
        base_pass = first_row(
            con,
            f"SELECT count(*), count(s.{_COUNT}), (list([{keys}] ORDER BY b.rowid) "
            f"FILTER (WHERE s.{_COUNT} IS NULL))[1:{EXAMPLES}]{nulls} "
            f"FROM so_base b LEFT JOIN {s} s ON {match}",
        ) or (0, 0, None)
        base_rows, matched = int(base_pass[0]), int(base_pass[1])
        missing_examples = [_key_text(k) for k in base_pass[2] or []]
        # One pass over the sidecar: keys, rows, duplicate keys, extra keys (and the first of
        # them), non-finite values.
        order = "s.ok0" if sidecar.spec.per_frame else f"s.{_ROW}"
        bad = "".join(f", coalesce(sum(bad{i}), 0)" for i in range(len(sidecar.columns)))
        side_pass = first_row(
            con,
            f"SELECT count(*), coalesce(sum({_COUNT}), 0), count(*) FILTER (WHERE {_COUNT} > 1), "
            f"count(*) FILTER (WHERE extra), "
            f"(list([{oks}] ORDER BY {order}) FILTER (WHERE extra))[1:{EXAMPLES}]{bad} "
            f"FROM (SELECT s.*, NOT EXISTS (SELECT 1 FROM so_base b WHERE {match}) AS extra "
            f"FROM {s} s) s",
        ) or (0, 0, 0, 0, None)
        extra_examples = [_key_text(k) for k in side_pass[4] or []]
        side_closest = self._closest(missing_examples, f"{s} s", self._display(oks))
        return Coverage(
            scorer=sidecar.spec.scorer,
            path=str(sidecar.spec.path),
            base_rows=base_rows,
            sidecar_rows=int(side_pass[1]),
            sidecar_keys=int(side_pass[0]),
            matched=matched,
            missing=base_rows - matched,
            extra=int(side_pass[3]),
            duplicate_keys=0 if sidecar.spec.per_frame else int(side_pass[2]),
            nulls={o.name: int(v) for o, v in zip(sidecar.outputs, base_pass[3:], strict=True)},
            non_finite={c: int(side_pass[5 + i]) for i, c in enumerate(sidecar.columns)},
            coverage=matched / base_rows,
            unmatched_base=tuple(map(UnmatchedKey, missing_examples, side_closest)),
            unmatched_sidecar=tuple(UnmatchedKey(k, None) for k in extra_examples),
            per_frame=sidecar.spec.per_frame,
            higher_is_better=sidecar.spec.higher_is_better,
        )

    def _with_base_closest(self, reports: Sequence[Coverage]) -> tuple[Coverage, ...]:
        """Fill in the closest base key of every sidecar's unmatched keys, in one lookup."""
        wanted = [u.key for r in reports for u in r.unmatched_sidecar]
        keys = ", ".join(f"b.{self.bcol(k)}" for k in self.spec.key)
        found = iter(self._closest(wanted, "so_base b", self._display(keys)))
        return tuple(
            dataclasses.replace(
                r,
                unmatched_sidecar=tuple(
                    UnmatchedKey(u.key, next(found)) for u in r.unmatched_sidecar
                ),
            )
            for r in reports
        )

    @staticmethod
    def _display(columns: str) -> str:
        """Key columns as one text: the column itself, or the parts joined with ``|``."""
        return columns if "," not in columns else f"concat_ws('|', {columns})"

    def _value_columns(self, sidecar: _Sidecar, alias: str) -> list[str]:
        if sidecar.spec.per_frame:
            return [f"{alias}.{quote_ident(o.name)}" for o in sidecar.outputs]
        return [f"{alias}.p{o.index}" for o in sidecar.outputs]

    def _closest(
        self, keys: Sequence[tuple[str, ...]], source: str, display: str
    ) -> list[tuple[str, ...] | None]:
        """For each key, a key of the other side to show beside it as its likely partner.

        First choice: the shortest other key that contains this key once it is normalised with
        every step, compared in lower case (``3339962845`` finds ``/data/3339962845.mp4``, which
        tells the user which normalisation would match them). Otherwise: among the
        ``NEIGHBOURS`` keys on each side of it in sorted order, the nearest by edit distance
        after normalisation, then by raw edit distance, then alphabetically (so a typo in a later
        character is found). One scan of the other side's keys, never an all-pairs distance.
        """
        if not keys:
            return []
        texts = ["|".join(k) for k in keys]
        loose = [normalize_key(t, KEY_NORMALIZATIONS) for t in texts]
        aggregates, params = [], []
        for text, target in zip(texts, loose, strict=True):
            aggregates.append(
                "arg_min(d, (length(d), d)) FILTER (WHERE contains(ld, ?)), "
                f"min(d, {NEIGHBOURS}) FILTER (WHERE d >= ?), "
                f"max(d, {NEIGHBOURS}) FILTER (WHERE d < ?)"
            )
            params.extend([target or None, text, text])
        row = (
            first_row(
                self.con,
                f"SELECT {', '.join(aggregates)} "
                f"FROM (SELECT {display} AS d, lower({display}) AS ld FROM {source})",
                params,
            )
            or ()
        )
        closest: list[tuple[str, ...] | None] = []
        for i, (text, target) in enumerate(zip(texts, loose, strict=True)):
            containing, above, below = row[3 * i : 3 * i + 3] if row else (None, None, None)
            neighbours = [str(d) for d in (above or []) + (below or [])]
            if containing is not None:
                closest.append(tuple(str(containing).split("|")))
            elif neighbours:
                best = min(neighbours, key=lambda d: (
                    edit_distance(normalize_key(d, KEY_NORMALIZATIONS), target),
                    edit_distance(d, text), d))  # fmt: skip
                closest.append(tuple(best.split("|")))
            else:
                closest.append(None)
        return closest

    def _check_policies(self, coverage: tuple[Coverage, ...]) -> None:
        problems = []
        for report, sidecar in zip(coverage, self.sidecars, strict=True):
            if sidecar.spec.on_missing == "error" and report.missing:
                shown = ", ".join(repr("|".join(u.key)) for u in report.unmatched_base)
                problems.append(
                    f"{report.scorer}: {report.missing} base key(s) have no sidecar row "
                    f"(on_missing=error), e.g. {shown}"
                )
        minimums = {s.spec.scorer: s.spec.min_coverage for s in self.sidecars}
        problems.extend(coverage_failures(coverage, minimums))
        if problems:
            raise PolicyError("join policy failed:\n  " + "\n  ".join(problems), coverage)

    # --- the result ---------------------------------------------------------------------------

    def final_query(self) -> str:
        """The query producing the joined table, base rows in base order.

        Inside, every column has an internal name (``b<i>`` for base columns, ``o<j>`` for sidecar
        outputs); user names appear only as the final aliases, so none can clash with ours.
        """
        base = self.base
        selects = [f"b.{self.bcol(c)}" for c in base.columns]
        outer = [f"j.{self.bcol(c)} AS {quote_ident(c)}" for c in base.columns]
        joins, drops = [], []
        internal: dict[str, str] = {}
        for i, sidecar in enumerate(self.sidecars):
            alias = f"s{i}"
            named = list(zip(sidecar.outputs, self._value_columns(sidecar, alias), strict=True))
            pairs = [(o.name, v) for o, v in named]
            if sidecar.spec.per_frame:
                pairs.append((sidecar.n_frames_name, f"{alias}.{_COUNT}"))
            for name, value in pairs:
                internal[name] = f"o{len(internal)}"
                selects.append(f"{value} AS {internal[name]}")
                outer.append(f"j.{internal[name]} AS {quote_ident(name)}")
            outer.extend(self._derived_sql(sidecar, internal))
            joins.append(f"LEFT JOIN {sidecar.name} {alias} ON {self._match(sidecar, 'b', alias)}")
            if sidecar.spec.on_missing == "drop":
                drops.append(f"{alias}.{_COUNT} IS NOT NULL")
        where = f" WHERE {' AND '.join(drops)}" if drops else ""
        inner = (
            f"SELECT b.rowid AS {_ROW}, {', '.join(selects)} FROM so_base b "
            f"{' '.join(joins)}{where}"
        )
        return f"SELECT {', '.join(outer)} FROM ({inner}) AS j ORDER BY j.{_ROW}"

    def _derived_sql(self, sidecar: _Sidecar, internal: dict[str, str]) -> list[str]:
        sign = "" if sidecar.spec.higher_is_better else "-"
        items = []
        for name, kind, source in sidecar.derived:
            x = f"j.{internal[source]}"
            if kind == "zscore":
                expr = _zscore(x)
            elif kind == "rank":
                expr = (
                    f"CASE WHEN {x} IS NOT NULL THEN (rank() OVER (ORDER BY {x} NULLS LAST) - 1 "
                    f"+ (count(*) OVER (PARTITION BY {x}) - 1) / 2.0) "
                    f"/ NULLIF(count({x}) OVER () - 1, 0) END"
                )
            else:
                base = f"j.{self.bcol(kind.removeprefix('delta:'))}"
                finite = f"(CASE WHEN isfinite({base}::DOUBLE) THEN {base}::DOUBLE END)"
                expr = f"{sign}{_zscore(x)} - {_zscore(finite)}"
            items.append(f"{expr} AS {quote_ident(name)}")
        return items


def _no_score_columns(table: TableFile, not_scores: set[str | None], scorer: str) -> InputError:
    """The error for a sidecar none of whose columns reads as numbers, saying why."""
    candidates = [c for c in table.columns if c not in not_scores]
    fix = f"name the score columns in columns of {scorer!r}"
    if not candidates:
        return InputError(
            f"{table.path}: no numeric score columns besides the key "
            f"(columns: {', '.join(table.columns)}); {fix}"
        )
    reasons = why_not_numbers(table, candidates)
    if reasons is None:
        only = " (only a header)" if table.format in ("csv", "tsv") else ""
        return InputError(
            f"{table.path}: no numeric score columns: the table has no rows{only}, so no column "
            f"reads as numbers; add the rows, or {fix} (a sidecar with no rows then matches "
            "nothing)"
        )
    shown = "; ".join(reasons[:EXAMPLES]) + ("; …" if len(reasons) > EXAMPLES else "")
    return InputError(
        f"{table.path}: no numeric score columns besides the key: {shown}; fix the values that "
        f"are not numbers, or {fix}"
    )


def _zscore(x: str) -> str:
    return f"(({x} - avg({x}) OVER ()) / NULLIF(stddev_pop({x}) OVER (), 0))"
