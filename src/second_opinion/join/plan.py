"""Planning a join: what each sidecar contributes and under which names, from schemas only.

A plan reads no data: it opens each sidecar (its schema from a sample), checks the key, frame and
score columns the spec names, and fixes every output column's name, refusing a name that two
inputs would both write. :func:`plan_sidecar` serves the join itself and
:func:`second_opinion.join.run.check_spec`, which reports every sidecar's problems at once.

Inside the join, every column has an internal name, so no user name can clash with ours: base
columns are ``b<i>`` (:meth:`Base.column`); a loaded sidecar table (``so_sidecar_<i>``) holds its
normalised keys ``nk<i>``, its keys as read ``ok<i>``, the rows behind each key (:data:`COUNT`),
the first of them (:data:`ROW`), its scores and the count of non-finite ones per score column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from second_opinion._typing import PoolStat
from second_opinion.errors import SchemaError, UsageError
from second_opinion.join.aligned import write_aligned
from second_opinion.join.session import JoinSession
from second_opinion.join.spec import SidecarSpec
from second_opinion.join.spelling import SidecarSpelling
from second_opinion.tables.diagnosis import why_not_numbers
from second_opinion.tables.files import TableFile
from second_opinion.tables.formats import column_key, is_numeric_type
from second_opinion.tables.memory import TablePath
from second_opinion.tables.reading import numeric_columns, open_table

EXAMPLES = 5
"""Keys (or values) a message or a coverage report shows, at most."""

ROW = "__so_row"
"""Column of a loaded sidecar (and of the joined rows): the file row a key was first read on."""

FILE_ROW = "__so_file_row"
"""Column of the base's :attr:`Base.scan`: the row's number in the file, from 0."""

COUNT = "__so_n"
"""Column of a loaded sidecar: how many rows (or frames) the key had."""

HIDDEN = "__so_hidden_key"
"""Column of a pooled per-frame sidecar: whether a key as read holds a NUL or starts like JSON."""


@dataclass(frozen=True)
class OutputColumn:
    """One column a sidecar adds: its output name, source column and pooling statistic."""

    name: str
    source: str
    stat: PoolStat | None
    index: int  # position of the source among the sidecar's taken (or carried) columns
    carried: bool = False  # carried as read (t<index>: a status, frames, source), not a score
    when_missing: str | None = None  # its SQL value on a base row with no match (mark)


@dataclass(frozen=True)
class Derived:
    """A derived output column: its name, its kind (``zscore``, ``rank``, ``delta:<base
    column>``) and the output column it is computed from."""

    name: str
    kind: str
    source: str


@dataclass(frozen=True)
class Sidecar:
    """One planned sidecar: the table to read, the columns taken, the columns it adds."""

    spec: SidecarSpec
    table: TableFile
    keys: tuple[str, ...]  # sidecar key columns, in the order of the base key
    columns: tuple[str, ...]  # score columns taken
    outputs: tuple[OutputColumn, ...]
    derived: tuple[Derived, ...]
    name: str  # temporary table name
    say: SidecarSpelling  # how the caller spells its options, for messages
    group: str | None = None  # the scorer of this group of a grouped sidecar
    carried: tuple[str, ...] = ()  # columns carried as read; a status first
    path_flag: str | None = None  # column: whether ``auto`` takes each row's key's basename

    @property
    def scorer(self) -> str:
        """The scorer its columns and coverage are named by: its group's, or the sidecar's."""
        return self.group if self.group is not None else self.spec.scorer

    @property
    def label(self) -> str:
        """How messages name it."""
        group = f" (scorer {self.group!r})" if self.group is not None else ""
        return f"sidecar {self.spec.scorer!r}{group}"

    @property
    def n_frames_name(self) -> str:
        """The output column counting a per-frame sidecar's frames."""
        return f"{self.spec.prefix_for(self.scorer)}n_frames"

    @property
    def has_status(self) -> bool:
        """Whether its first carried column is a status, read as ok or bad."""
        return self.spec.records == "wrapper" or self.spec.status_column is not None

    @property
    def key_source(self) -> TablePath:
        """The file its keys come from, as messages name it (a score matrix's key table)."""
        if self.spec.align is not None:
            return self.spec.align.keys_from
        return self.spec.path if self.spec.grouped else self.table.path

    @property
    def score_source(self) -> TablePath:
        """The file its scores come from, as messages name it."""
        return self.spec.path


@dataclass(frozen=True)
class Base:
    """The base table (its types as loaded, once loaded) and the join's key columns.

    ``scan``: for a Parquet file, whose values need no retyping, a ``SELECT`` of every column
    under its internal name and the file's row number (:data:`FILE_ROW`), which the final
    query reads instead of a loaded copy (``so_base`` then holds the key columns only).
    """

    table: TableFile
    key: tuple[str, ...]
    scan: str | None = None

    def relation(self) -> tuple[str, str]:
        """What the final query reads the base's rows from, and their order (file order)."""
        if self.scan is not None:
            return f"({self.scan})", FILE_ROW
        return "so_base", "rowid"

    def column(self, name: str) -> str:
        """The internal name of base column ``name``: positional, so no user name can clash."""
        return f"b{self.table.columns.index(name)}"

    def key_columns(self) -> list[str]:
        """The internal names of the key columns, in key order."""
        return [self.column(k) for k in self.key]


@dataclass(frozen=True)
class JoinPlan:
    """The loaded base and the planned sidecars, in spec order."""

    base: Base
    sidecars: tuple[Sidecar, ...]


@dataclass(frozen=True)
class Claim:
    """An output name claimed: as written, by whom, and the sidecar column behind it (a score
    column taken as read; None for the base's columns, derived and carried columns)."""

    name: str
    owner: str
    column: str | None = None


Owners = dict[str, Claim]
"""The output names claimed so far, by :func:`column_key` (DuckDB's comparison of names)."""


def base_owners(base: Base) -> Owners:
    """Who owns each output name so far: every base column, owned by the base table."""
    owner = f"base table {base.table.path}"
    return {column_key(c): Claim(c, owner) for c in base.table.columns}


def plan_sidecar(
    session: JoinSession,
    *,
    spec: SidecarSpec,
    index: int,
    base: Base,
    owners: Owners,
    group: tuple[str, TableFile, int] | None = None,
) -> Sidecar:
    """Plan sidecar number ``index`` from its schema; claim its output names in ``owners``.

    A score matrix is first written as a keyed table into the session's scratch folder;
    ``group``: one scorer's group of a split sidecar: (scorer, its table, its number).
    """
    aligned: tuple[str, ...] | None = None
    say = session.spelling.sidecar(index, spec.scorer)
    name = f"so_sidecar_{index}"
    if group is not None:
        table = group[1]
        name = f"{name}_{group[2]}"
    elif spec.align is not None:
        path, aligned = write_aligned(session.con, spec, base.key[0], session.scratch(), say)
        table = open_table(session.con, path)
    else:
        table = open_table(session.con, spec.path)
    keys = tuple(spec.sidecar_key(k) for k in base.key)
    table.require(keys, "key column", key_map_fix(say, base.key[0]))
    table.require_flat_keys(keys)
    if spec.frame_column is not None:
        table.require(
            [spec.frame_column],
            "frame column",
            f"set {say.name('frame_column')} to its frame index column",
        )
    carried: tuple[str, ...] = ()
    if spec.status_column is not None:
        table.require([spec.status_column], "status column", f"fix {say.name('status_column')}")
        carried = (spec.status_column,)
    columns = aligned if aligned is not None else _score_columns(session, say, spec, table, keys)
    scorer = group[0] if group is not None else spec.scorer
    prefix = spec.prefix_for(scorer)
    outputs: list[OutputColumn] = []
    for i, column in enumerate(columns):
        if spec.per_frame:
            outputs.extend(
                OutputColumn(f"{prefix}{column}_{stat}", column, stat, i) for stat in spec.pool
            )
        else:
            outputs.append(OutputColumn(f"{prefix}{column}", column, None, i))
    scores = tuple(outputs)
    if carried:
        outputs.append(OutputColumn(f"{prefix}status", carried[0], None, 0, True, "'missing'"))
    sidecar = Sidecar(
        spec=spec,
        table=table,
        keys=keys,
        columns=columns,
        outputs=tuple(outputs),
        derived=plan_derived(spec, scores, base.table, say),
        name=name,
        say=say,
        group=scorer if group is not None else None,
        carried=carried,
    )
    claim_names(sidecar, owners)
    return sidecar


def key_map_fix(say: SidecarSpelling, base_key: str) -> str:
    """The fix for a sidecar that lacks the key column ``base_key``: map its own to it."""
    option = say.name("key_map", f"COLUMN={base_key}")
    return f"map the sidecar's key column to {base_key!r} with {option}"


def claim_names(sidecar: Sidecar, owners: Owners) -> None:
    """Claim the output names of ``sidecar`` in ``owners``; refuse one already owned, comparing
    names as DuckDB does (ignoring case: ``So_X_Score`` and ``so_x_score`` are one column)."""
    claims = [
        Claim(o.name, sidecar.label, None if o.carried else o.source) for o in sidecar.outputs
    ]
    if sidecar.spec.per_frame:
        claims.append(Claim(sidecar.n_frames_name, sidecar.label))
    claims.extend(Claim(d.name, sidecar.label) for d in sidecar.derived)
    for claim in claims:
        key = column_key(claim.name)
        if key in owners:
            raise UsageError(_collision(sidecar, claim, owners[key]))
        owners[key] = claim


def _collision(sidecar: Sidecar, claim: Claim, earlier: Claim) -> str:
    """The message for output name ``claim`` of ``sidecar``, already taken by ``earlier``, with
    a fix that resolves it: a prefix, unless both names are this sidecar's own (a prefix is
    then added to both)."""
    case = (
        " (names that differ only in case are the same column)"
        if claim.name != earlier.name
        else ""
    )
    say = sidecar.say
    if earlier.owner != sidecar.label:
        fix = say.choose(
            python=f"set a different prefix for {say.scorer!r}",
            cli=f"set a different {say.name('prefix')}",
            manifest=f"set a different {say.name('prefix')}",
        )
    else:
        column = earlier.column or claim.column
        derived = [d for d in sidecar.derived if d.name in (claim.name, earlier.name)]
        if column is not None and sidecar.spec.records != "wrapper":
            fix = (
                f"leave column {column!r} out with {say.name('columns')}, or rename it in "
                f"{sidecar.score_source}"
            )
        elif derived:
            fix = f"leave {derived[0].kind!r} out of {say.name('derived')}"
        else:
            fix = f"rename the columns of {sidecar.score_source}"
    return (
        f"output column {claim.name!r} of {sidecar.label} collides with column "
        f"{earlier.name!r} of {earlier.owner}{case}; {fix}"
    )


def _score_columns(
    session: JoinSession,
    say: SidecarSpelling,
    spec: SidecarSpec,
    table: TableFile,
    keys: tuple[str, ...],
) -> tuple[str, ...]:
    """The score columns taken: the ones listed, or every numeric column besides the keys
    (decided over every value: :func:`~second_opinion.tables.reading.numeric_columns`)."""
    not_scores = {*keys, spec.frame_column, spec.status_column, spec.scorer_column}
    if spec.columns is None or isinstance(spec.columns, str):
        numeric = numeric_columns(session.con, table)
        columns = tuple(c for c in numeric if c not in not_scores)
        if not columns:
            raise no_score_columns(table, not_scores, say)
        return columns
    table.require(spec.columns, "score column", f"fix {say.name('columns')}")
    for column in spec.columns:
        if column in not_scores:
            msg = f"{table.path}: column {column!r} is a key or frame column, not a score"
            raise SchemaError(msg)
    return spec.columns


def plan_derived(
    spec: SidecarSpec, outputs: Sequence[OutputColumn], base: TableFile, say: SidecarSpelling
) -> tuple[Derived, ...]:
    """The derived columns of ``spec``, computed from its ``outputs``."""
    derived: list[Derived] = []
    for kind in spec.derived:
        if kind.startswith("delta:"):
            column = kind.removeprefix("delta:")
            base.require(
                [column], "base column for delta", f"fix 'delta:…' in {say.name('derived')}"
            )
            if not is_numeric_type(base.type_of(column)):
                msg = (
                    f"{base.path}: column {column!r} is {base.type_of(column)}, "
                    f"not a number; delta:{column} needs a numeric base column"
                )
                raise UsageError(msg)
            derived.extend(Derived(f"{o.name}_delta_{column}", kind, o.name) for o in outputs)
        else:
            derived.extend(Derived(f"{o.name}_{kind}", kind, o.name) for o in outputs)
    return tuple(derived)


def no_score_columns(
    table: TableFile, not_scores: set[str | None], say: SidecarSpelling
) -> SchemaError:
    """The error for a sidecar none of whose columns reads as numbers, saying why."""
    candidates = [c for c in table.columns if c not in not_scores]
    fix = f"name the score columns in {say.name('columns')}"
    if not candidates:
        return SchemaError(
            f"{table.path}: no numeric score columns besides the key "
            f"(columns: {', '.join(table.columns)}); {fix}"
        )
    reasons = why_not_numbers(table, candidates)
    if reasons is None:
        only = " (only a header)" if table.format in ("csv", "tsv") else ""
        return SchemaError(
            f"{table.path}: no numeric score columns: the table has no rows{only}, so no column "
            f"reads as numbers; add the rows, or {fix} and set "
            f"{say.said({'allow_no_match': True})} (a sidecar with no rows matches nothing)"
        )
    shown = "; ".join(reasons[:EXAMPLES]) + ("; …" if len(reasons) > EXAMPLES else "")
    return SchemaError(
        f"{table.path}: no numeric score columns besides the key: {shown}; fix the values that "
        f"are not numbers, or {fix}"
    )
