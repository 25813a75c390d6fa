"""Corpus ingest: a corpus's published metadata in, the canonical corpus table out.

The canonical table has, in this order: ``clip_id`` (text), ``mos`` (float, higher is better),
``mos_std`` and ``n_ratings`` when the source has them, ``corpus`` (the preset's name),
``mos_scale`` (``[low, high]``: a list in JSONL and Parquet, the JSON text ``[1.0,5.0]`` in CSV
and TSV), ``mos_01`` (``(mos − low) / (high − low)``), then every other source column in source
order (see docs/adr/0005-canonical-corpus-table.md).

Everything is read once into one private in-memory DuckDB connection, checked (MOS, ids,
duplicates, scale), and only then written, atomically: on any error nothing is left at the output.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Self

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from second_opinion.errors import InputError, InternalError, UsageError
from second_opinion.ingest.errors import (
    ColumnClashError,
    ColumnNotFoundError,
    DuplicateIdError,
    MissingIdError,
    MissingMosError,
    ScaleError,
)
from second_opinion.ingest.netflix import column_values, dataset_rows, read_dataset
from second_opinion.ingest.presets import (
    PRESETS,
    Preset,
    PresetName,
    Scale,
    ScoreKind,
    check_scale,
    format_scale,
    unknown_preset_message,
)
from second_opinion.tables import (
    TableFile,
    explain_scan_error,
    is_numeric_type,
    open_table,
    output_format,
    quote_ident,
    quote_literal,
    scan_sql,
    whole_column_types,
    write_query,
)

CANONICAL_COLUMNS = ("clip_id", "mos", "mos_std", "n_ratings", "corpus", "mos_scale", "mos_01")
EXAMPLES = 5  # dropped rows listed in a report
_COLUMN_FLAGS = {
    "id_column": "--id-column",
    "mos_column": "--mos-column",
    "mos_std_column": "--mos-std-column",
    "n_ratings_column": "--n-ratings-column",
}

ColumnName = Annotated[str, Field(min_length=1)]


class IngestOptions(BaseModel):
    """What to ingest and how; every rule that needs no file is checked here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: PresetName
    metadata: Path
    output: Path
    id_column: ColumnName | None = None
    mos_column: ColumnName | None = None
    mos_std_column: ColumnName | None = None
    n_ratings_column: ColumnName | None = None
    mos_scale: tuple[float, float] | None = None
    drop_missing_mos: bool = False
    allow_out_of_scale: bool = False

    @field_validator("preset", mode="before")
    @classmethod
    def _known_preset(cls, value: object) -> object:
        if isinstance(value, str) and value not in PRESETS:
            raise ValueError(unknown_preset_message(value))
        return value

    @field_validator("mos_scale")
    @classmethod
    def _scale(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is None:
            return None
        try:
            return check_scale(value)
        except UsageError as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="after")
    def _fits_preset(self) -> Self:
        preset = PRESETS[self.preset]
        if preset.name == "generic":
            missing = [
                f"{name} ({flag})"
                for name, flag in (
                    ("id_column", "--id-column"),
                    ("mos_column", "--mos-column"),
                    ("mos_scale", "--mos-scale LOW,HIGH"),
                )
                if getattr(self, name) is None
            ]
            if missing:
                listed = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "")
                msg = (
                    f"preset 'generic' needs {listed}{missing[-1]}: it knows no column names "
                    "and no scale"
                )
                raise ValueError(msg)
        if preset.source == "vmaf-dataset":
            given = [flag for name, flag in _COLUMN_FLAGS.items() if getattr(self, name)]
            if given:
                msg = (
                    f"preset {preset.name!r} reads a VMAF dataset file, which has no columns to "
                    f"choose; leave out {', '.join(given)}"
                )
                raise ValueError(msg)
        chosen = [(n, getattr(self, n)) for n in _COLUMN_FLAGS if getattr(self, n)]
        for i, (name, column) in enumerate(chosen):
            for other, other_column in chosen[:i]:
                if column == other_column:
                    msg = (
                        f"{_COLUMN_FLAGS[other]} and {_COLUMN_FLAGS[name]} both name "
                        f"{column!r}; each role needs its own column"
                    )
                    raise ValueError(msg)
        return self


def build_ingest_options(**fields: object) -> IngestOptions:
    """Build :class:`IngestOptions`, turning validation errors into one :class:`UsageError`."""
    preset = fields.get("preset")
    if isinstance(preset, str) and preset not in PRESETS:
        raise UsageError(unknown_preset_message(preset))
    try:
        return IngestOptions.model_validate(fields)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        if len(problems) == 1:
            raise UsageError(problems[0]) from None
        raise UsageError("invalid ingest options:\n  " + "\n  ".join(problems)) from None


@dataclass(frozen=True)
class DroppedRow:
    """A row left out by ``drop_missing_mos``: where it is and why."""

    where: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {"where": self.where, "reason": self.reason}


@dataclass(frozen=True)
class IngestReport:
    """What :func:`ingest` read and wrote."""

    preset: PresetName
    metadata: Path
    output: Path
    rows: int
    dropped: int
    dropped_rows: tuple[DroppedRow, ...]  # the first few, in file order
    out_of_scale: int  # rows kept with ``allow_out_of_scale``
    mos_scale: Scale
    score_kind: ScoreKind
    id_column: str
    mos_column: str
    columns: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict with a fixed key order."""
        return {
            "preset": self.preset,
            "metadata": str(self.metadata),
            "output": str(self.output),
            "rows": self.rows,
            "dropped": self.dropped,
            "dropped_rows": [d.to_dict() for d in self.dropped_rows],
            "out_of_scale": self.out_of_scale,
            "mos_scale": list(self.mos_scale),
            "score_kind": self.score_kind,
            "id_column": self.id_column,
            "mos_column": self.mos_column,
            "columns": list(self.columns),
        }


def ingest(
    preset: str,
    metadata: str | Path,
    output: str | Path,
    *,
    id_column: str | None = None,
    mos_column: str | None = None,
    mos_std_column: str | None = None,
    n_ratings_column: str | None = None,
    mos_scale: tuple[float, float] | None = None,
    drop_missing_mos: bool = False,
    allow_out_of_scale: bool = False,
) -> IngestReport:
    """Read a corpus's metadata with ``preset`` and write the canonical corpus table to ``output``.

    ``id_column``/``mos_column`` override the preset's column names (``generic`` needs both and
    ``mos_scale``); ``mos_std_column``/``n_ratings_column`` name optional columns with the
    ratings' standard deviation and count. ``mos_scale`` overrides the preset's scale.
    ``drop_missing_mos`` drops rows whose MOS is empty or not a finite number instead of
    refusing them; ``allow_out_of_scale`` keeps rows whose MOS lies outside the scale.

    Raises :class:`UsageError` for options that do not fit, and an ``InputError`` subclass (see
    ``second_opinion.ingest.errors``) for input that is invalid. Nothing is written on error.
    """
    options = build_ingest_options(
        preset=preset,
        metadata=metadata,
        output=output,
        id_column=id_column,
        mos_column=mos_column,
        mos_std_column=mos_std_column,
        n_ratings_column=n_ratings_column,
        mos_scale=mos_scale,
        drop_missing_mos=drop_missing_mos,
        allow_out_of_scale=allow_out_of_scale,
    )
    return ingest_with(options)


def ingest_with(options: IngestOptions) -> IngestReport:
    """:func:`ingest` with options already validated."""
    output_format(options.output)  # an unwritable suffix fails before anything is read
    if _same_file(options.metadata, options.output):
        msg = f"{options.output}: the output is the metadata file itself; write to another file"
        raise UsageError(msg)
    with _Ingester(options) as ingester:
        return ingester.run()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


@dataclass
class _Source:
    """The loaded source: ``so_src`` holds one kept row per clip, ``__i`` its source index."""

    path: Path
    id_column: str
    mos_column: str
    kind: ScoreKind
    scale: Scale
    locate: Callable[[int], str]
    others: list[tuple[str, str]] = field(default_factory=list)  # (output name, so_src column)
    has_std: bool = False
    has_n: bool = False
    dropped: int = 0
    dropped_rows: tuple[DroppedRow, ...] = ()


def _number_sql(column: str) -> str:
    """A text column as a finite DOUBLE, or NULL (empty, not a number, NaN, infinite)."""
    v = f"trim({quote_ident(column)})"
    return (
        f"(CASE WHEN NOT contains({v}, '_') AND isfinite(TRY_CAST({v} AS DOUBLE)) "
        f"THEN TRY_CAST({v} AS DOUBLE) END)"
    )


def _why_not_a_mos(column: str, raw: object) -> str:
    """Why a text cell is not a MOS: empty, not a number, or not a finite number."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return f"column {column!r} is empty"
    try:
        non_finite = "_" not in text and not math.isfinite(float(text))
    except ValueError:
        non_finite = False
    kind = "a finite number" if non_finite else "a number"
    return f"column {column!r} has {raw!r}, which is not {kind}"


def _double(value: float) -> str:
    """A DOUBLE literal that parses back to exactly ``value``."""
    return f"CAST('{value!r}' AS DOUBLE)"


class _Ingester:
    """One ingest, in one private in-memory DuckDB connection."""

    def __init__(self, options: IngestOptions) -> None:
        self.options = options
        self.preset: Preset = PRESETS[options.preset]
        self.con = duckdb.connect(":memory:")
        # No progress bar: DuckDB would draw it on stdout, into a --json document.
        self.con.execute("SET enable_progress_bar = false")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.con.close()

    def run(self) -> IngestReport:
        if self.preset.source == "vmaf-dataset":
            source = self._load_dataset()
        else:
            source = self._load_table()
        self._check_clashes(source)
        self._check_ids(source)
        out_of_scale = self._check_scale(source)
        query = self._final_query(source)
        columns = tuple(str(r[0]) for r in self.con.execute(f"DESCRIBE {query}").fetchall())
        rows = write_query(self.con, query, self.options.output)
        return IngestReport(
            preset=self.preset.name,
            metadata=self.options.metadata,
            output=self.options.output,
            rows=rows,
            dropped=source.dropped,
            dropped_rows=source.dropped_rows,
            out_of_scale=out_of_scale,
            mos_scale=source.scale,
            score_kind=source.kind,
            id_column=source.id_column,
            mos_column=source.mos_column,
            columns=columns,
        )

    def _scalar(self, query: str) -> Any:  # noqa: ANN401 - a DuckDB value of any type
        rows = self.con.execute(query).fetchall()
        return rows[0][0] if rows else None

    # --- tables -------------------------------------------------------------------------------

    def _table_scale(self) -> Scale:
        scale = self.options.mos_scale or self.preset.scale
        if scale is None:  # IngestOptions requires mos_scale for the presets without one
            msg = f"preset {self.preset.name!r} has no scale and none was given"
            raise InternalError(msg)
        return scale

    def _pick(
        self, table: TableFile, role: str, given: str | None, names: Sequence[str], flag: str
    ) -> str:
        """The column for ``role``: the one given, else the first of the preset's names."""
        if given is not None:
            if given not in table.columns:
                close = difflib.get_close_matches(given, table.columns, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                msg = (
                    f"{table.path}: {role} column {given!r} ({flag}) not found{hint} "
                    f"(columns: {', '.join(table.columns)}); name one of those with {flag}"
                )
                raise ColumnNotFoundError(msg)
            return given
        for name in names:
            if name in table.columns:
                return name
        accepted = " or ".join(repr(n) for n in names)
        msg = (
            f"{table.path}: {role} column {accepted} of preset {self.preset.name!r} not found "
            f"(columns: {', '.join(table.columns)}); name the {role} column with {flag}, "
            "or check that the file is a table of that corpus"
        )
        raise ColumnNotFoundError(msg)

    def _pick_optional(
        self, table: TableFile, role: str, given: str | None, names: Sequence[str], flag: str
    ) -> str | None:
        if given is None and not any(n in table.columns for n in names):
            return None
        return self._pick(table, role, given, names, flag)

    def _load_table(self) -> _Source:
        opts, preset = self.options, self.preset
        table = open_table(self.con, opts.metadata)
        id_col = self._pick(table, "id", opts.id_column, preset.id_columns, "--id-column")
        mos_col = self._pick(table, "MOS", opts.mos_column, preset.mos_columns, "--mos-column")
        std_col = self._pick_optional(
            table, "MOS std", opts.mos_std_column, preset.mos_std_columns, "--mos-std-column"
        )
        n_col = self._pick_optional(
            table, "ratings count", opts.n_ratings_column, preset.n_ratings_columns,
            "--n-ratings-column",
        )  # fmt: skip
        roles = {"--id-column": id_col, "--mos-column": mos_col}
        roles |= {"--mos-std-column": std_col} if std_col else {}
        roles |= {"--n-ratings-column": n_col} if n_col else {}
        picked = list(roles.items())
        for i, (flag, column) in enumerate(picked):
            for other_flag, other in picked[:i]:
                if column == other:
                    msg = (
                        f"{table.path}: column {column!r} would be both the {other_flag} and "
                        f"the {flag} column; name another column with {flag}"
                    )
                    raise UsageError(msg)
        text = [c for c in (id_col, mos_col, std_col, n_col) if c is not None]
        aliases = {c: f"c{i}" for i, c in enumerate(table.columns)}
        others = [c for c in table.columns if c not in text]
        if table.format == "parquet":
            doubtful: list[str] = []
        elif table.format == "jsonl":
            doubtful = [c for c in others if is_numeric_type(table.type_of(c))]
        else:
            doubtful = others
        kept = [c for c in others if c not in doubtful]
        query = scan_sql(table, text=[*text, *doubtful], numbers=(), others=kept, aliases=aliases)
        try:
            self.con.execute(f"CREATE TEMP TABLE so_raw AS {query}")
        except duckdb.Error as exc:
            raise explain_scan_error(table, exc, numbers=()) from None
        if not self._scalar("SELECT count(*) FROM so_raw"):
            msg = f"{table.path}: the table has no rows"
            raise InputError(msg)
        typed = dict(
            zip(
                doubtful,
                whole_column_types(
                    self.con, "so_raw", [(aliases[c], table.type_of(c)) for c in doubtful]
                ),
                strict=True,
            )
        )
        source = _Source(
            path=table.path,
            id_column=id_col,
            mos_column=mos_col,
            kind=preset.kind,
            scale=self._table_scale(),
            locate=table.location,
            has_std=std_col is not None,
            has_n=n_col is not None,
        )
        score = _number_sql(aliases[mos_col])
        self._drop_missing_mos(source, aliases[mos_col], score)
        std = self._checked_number(table, std_col, aliases, score, integral=False)
        n = self._checked_number(table, n_col, aliases, score, integral=True)
        select = [
            "rowid AS __i",
            f"{aliases[id_col]} AS __id",
            f"{score} AS __score",
            f"{std} AS __std",
            f"CAST({n} AS BIGINT) AS __n",
        ]
        for column in others:
            alias = aliases[column]
            if column in typed:
                select.append(f"CAST({alias} AS {typed[column]}) AS {alias}")
            else:
                select.append(alias)
            source.others.append((column, alias))
        if preset.kind == "dmos":  # the DMOS itself is kept, as a number, under its own name
            position = table.columns.index(mos_col)
            before = sum(1 for c in others if table.columns.index(c) < position)
            source.others.insert(before, (mos_col, "__score"))
        self.con.execute(
            f"CREATE TEMP TABLE so_src AS SELECT {', '.join(select)} FROM so_raw "
            f"WHERE {score} IS NOT NULL ORDER BY rowid"
        )
        return source

    def _drop_missing_mos(self, source: _Source, column: str, score: str) -> None:
        """Refuse rows without a finite MOS, or count and list them with ``drop_missing_mos``."""
        bad = self._scalar(f"SELECT count(*) FROM so_raw WHERE {score} IS NULL")
        if not bad:
            return
        ident = quote_ident(column)
        rows = self.con.execute(
            f"SELECT rowid, {ident} FROM so_raw WHERE {score} IS NULL ORDER BY rowid LIMIT "
            f"{EXAMPLES if self.options.drop_missing_mos else 1}"
        ).fetchall()
        mos = source.mos_column
        examples = []
        for index, raw in rows:
            examples.append(DroppedRow(source.locate(int(index)), _why_not_a_mos(mos, raw)))
        if not self.options.drop_missing_mos:
            first = examples[0]
            total = self._scalar("SELECT count(*) FROM so_raw")
            msg = (
                f"{source.path} {first.where}: {first.reason}; fix the value, or pass "
                f"--drop-missing-mos to drop rows without a numeric MOS "
                f"({bad} of {total} rows lack one)"
            )
            raise MissingMosError(msg)
        if bad == self._scalar("SELECT count(*) FROM so_raw"):
            msg = (
                f"{source.path}: no row has a numeric MOS in column {mos!r} (all {bad} would be "
                "dropped); check the column, or name the MOS column with --mos-column"
            )
            raise MissingMosError(msg)
        source.dropped = int(bad)
        source.dropped_rows = tuple(examples)

    def _checked_number(
        self,
        table: TableFile,
        column: str | None,
        aliases: dict[str, str],
        score: str,
        *,
        integral: bool,
    ) -> str:
        """The SQL for an optional std or count column, after refusing values that are not."""
        if column is None:
            return "NULL"
        value = _number_sql(aliases[column])
        ident = quote_ident(aliases[column])
        invalid = f"{value} < 0" + (
            f" OR {value} <> trunc({value}) OR {value} >= 9.2e18" if integral else ""
        )
        rows = self.con.execute(
            f"SELECT rowid, {ident} FROM so_raw WHERE {score} IS NOT NULL AND "
            f"nullif(trim({ident}), '') IS NOT NULL AND ({value} IS NULL OR {invalid}) "
            "ORDER BY rowid LIMIT 1"
        ).fetchall()
        if rows:
            index, raw = rows[0]
            what = "a count of ratings (a whole number ≥ 0)" if integral else (
                "a standard deviation (a finite number ≥ 0)"
            )  # fmt: skip
            flag = "--n-ratings-column" if integral else "--mos-std-column"
            msg = (
                f"{table.path} {table.location(int(index))}: column {column!r} has {raw!r}, "
                f"which is not {what}; fix the value, or name another column with {flag}"
            )
            raise InputError(msg)
        return value

    # --- VMAF dataset files -------------------------------------------------------------------

    def _load_dataset(self) -> _Source:
        import pyarrow as pa  # noqa: PLC0415 - only VMAF dataset files need Arrow

        opts = self.options
        rows = dataset_rows(read_dataset(opts.metadata))
        source = _Source(
            path=opts.metadata,
            id_column="path",
            mos_column=rows.score_field,
            kind="mos",
            scale=opts.mos_scale or rows.scale,
            locate=rows.locate,
            has_std=rows.mos_std is not None,
            has_n=rows.n_ratings is not None,
        )
        missing = [i for i, s in enumerate(rows.scores) if s is None]
        if missing:
            examples = [DroppedRow(rows.locate(i), rows.problems[i] or "no score") for i in missing]
            if not opts.drop_missing_mos:
                first = examples[0]
                msg = (
                    f"{source.path} {first.where}: {first.reason}; fix the entry, or pass "
                    f"--drop-missing-mos to drop entries without a usable score "
                    f"({len(missing)} of {len(rows.scores)} entries lack one)"
                )
                raise MissingMosError(msg)
            if len(missing) == len(rows.scores):
                msg = (
                    f"{source.path}: no entry of dis_videos has a usable {rows.score_field!r} "
                    f"(all {len(missing)} would be dropped); nothing to write"
                )
                raise MissingMosError(msg)
            source.dropped = len(missing)
            source.dropped_rows = tuple(examples[:EXAMPLES])
        keep = [i for i, s in enumerate(rows.scores) if s is not None]
        arrays: dict[str, Any] = {
            "__i": pa.array(keep, pa.int64()),
            "__id": pa.array([rows.ids[i] for i in keep], pa.string()),
            "__score": pa.array([rows.scores[i] for i in keep], pa.float64()),
            "__std": pa.array(
                [rows.mos_std[i] for i in keep] if rows.mos_std else [None] * len(keep),
                pa.float64(),
            ),
            "__n": pa.array(
                [rows.n_ratings[i] for i in keep] if rows.n_ratings else [None] * len(keep),
                pa.int64(),
            ),
        }
        arrow_types = {
            "string": pa.string(), "bool": pa.bool_(), "int64": pa.int64(),
            "float64": pa.float64(),
        }  # fmt: skip
        for index, (name, values) in enumerate(rows.others.items()):
            type_name, typed = column_values([values[i] for i in keep])
            arrays[f"o{index}"] = pa.array(typed, arrow_types[type_name])
            source.others.append((name, f"o{index}"))
        self.con.register("so_arrow", pa.table(arrays))
        self.con.execute("CREATE TEMP TABLE so_src AS SELECT * FROM so_arrow ORDER BY __i")
        self.con.unregister("so_arrow")
        return source

    # --- checks -------------------------------------------------------------------------------

    def _check_clashes(self, source: _Source) -> None:
        canonical = {c.casefold(): c for c in CANONICAL_COLUMNS}
        for name, _ in source.others:
            if name.casefold() in canonical:
                msg = (
                    f"{source.path}: column {name!r} would be kept as it is, but the canonical "
                    f"table has a column {canonical[name.casefold()]!r} "
                    f"(canonical: {', '.join(CANONICAL_COLUMNS)}); rename it in the source"
                )
                raise ColumnClashError(msg)

    def _check_ids(self, source: _Source) -> None:
        row = self.con.execute(
            "SELECT __i FROM so_src WHERE __id IS NULL OR trim(__id) = '' ORDER BY __i LIMIT 1"
        ).fetchall()
        if row:
            msg = (
                f"{source.path} {source.locate(int(row[0][0]))}: the clip id "
                f"(column {source.id_column!r}) is empty; every clip needs an id — fill it in "
                "or remove the row"
            )
            raise MissingIdError(msg)
        pair = self.con.execute(
            "SELECT __id, first_i, __i FROM (SELECT __id, __i, "
            "min(__i) OVER (PARTITION BY __id) AS first_i, "
            "row_number() OVER (PARTITION BY __id ORDER BY __i) AS k FROM so_src) "
            "WHERE k = 2 ORDER BY __i LIMIT 1"
        ).fetchall()
        if pair:
            clip, first, second = pair[0]
            repeated = self._scalar(
                "SELECT count(*) FROM (SELECT __id FROM so_src GROUP BY __id HAVING count(*) > 1)"
            )
            more = f" ({repeated - 1} more ids repeat)" if repeated > 1 else ""
            msg = (
                f"{source.path}: clip id {clip!r} (column {source.id_column!r}) is on two rows, "
                f"{source.locate(int(first))} and {source.locate(int(second))}{more}; ids must "
                "be unique — remove the repeated row or fix its id"
            )
            raise DuplicateIdError(msg)

    def _check_scale(self, source: _Source) -> int:
        """Refuse (or count, with ``allow_out_of_scale``) scores outside the scale."""
        low, high = source.scale
        outside = f"__score < {_double(low)} OR __score > {_double(high)}"
        count = int(self._scalar(f"SELECT count(*) FROM so_src WHERE {outside}"))
        if not count or self.options.allow_out_of_scale:
            return count
        index, clip, value = self.con.execute(
            f"SELECT __i, __id, __score FROM so_src WHERE {outside} ORDER BY __i LIMIT 1"
        ).fetchall()[0]
        what = "DMOS" if source.kind == "dmos" else "MOS"
        msg = (
            f"{source.path} {source.locate(int(index))}: {what} {value!r} of clip {clip!r} "
            f"(column {source.mos_column!r}) is outside the {self.preset.name} scale "
            f"{format_scale(source.scale)} ({count} rows are); check the preset and the column, "
            "pass --mos-scale LOW,HIGH with the scale the file uses, or --allow-out-of-scale to "
            "keep such rows (their mos_01 leaves [0, 1])"
        )
        raise ScaleError(msg)

    # --- the canonical table ------------------------------------------------------------------

    def _final_query(self, source: _Source) -> str:
        low, high = source.scale
        lo, hi = _double(low), _double(high)
        mos = "__score" if source.kind == "mos" else f"(({lo} + {hi}) - __score)"
        fmt, _ = output_format(self.options.output)
        if fmt in ("csv", "tsv"):
            scale = quote_literal(json.dumps([low, high], separators=(",", ":")))
        else:
            scale = f"[{lo}, {hi}]"
        select = ["__id AS clip_id", f"{mos} AS mos"]
        if source.has_std:
            select.append("__std AS mos_std")
        if source.has_n:
            select.append("__n AS n_ratings")
        select += [
            f"{quote_literal(self.preset.name)} AS corpus",
            f"{scale} AS mos_scale",
            f"({mos} - {lo}) / ({hi} - {lo}) AS mos_01",
        ]
        select += [f"{internal} AS {quote_ident(name)}" for name, internal in source.others]
        return f"SELECT {', '.join(select)} FROM so_src ORDER BY __i"
