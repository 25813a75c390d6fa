"""Signals: named sets of a corpus's columns, audited as one predictor of MOS.

* ``NAME=GLOB[,GLOB…]`` (``fnmatch`` patterns, case-sensitive) names the columns a signal takes,
  in table order. A glob that matches no numeric column of a corpus is an error.
* Without explicit signals, every scorer's ``so_<scorer>_*`` columns form one signal named after
  the scorer (the scorer and its column prefix come from the provenance when the table has one;
  otherwise the scorer is the text between ``so_`` and the next ``_``), and every other numeric
  column is a signal of its own. Left out: the provenance's key columns, scorer columns matching
  :data:`SCORER_EXCLUDE` (frame counts), and other columns matching :data:`DEFAULT_EXCLUDE` (MOS
  statistics, ids, frame counts; case-insensitive). An ``exclude`` list replaces both and applies
  to every column. A scorer group whose name is also a column's is named after its prefix.
* Derived columns of the join (docs/join.md: ``<column>_zscore``, ``<column>_rank``,
  ``<column>_delta_<base>`` beside ``<column>`` in a scorer's group) are not folded into the
  scorer's default signal, which holds its raw scores only. ``zscore`` and ``rank`` columns are
  left out (monotone in the raw column: the same ranking again); each ``delta:<base>`` becomes a
  signal of its own, ``<scorer signal>_delta_<base>``, never a second opinion (it is made from
  the base column). Either way the resolved signals carry a note.
* A one-column signal is *training-free*; a multi-column one goes through the regressor.
* A signal's direction (``higher_is_better``) is its scorer's, from the provenance, when all
  its columns come from one scorer; otherwise unknown.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from second_opinion.audit.corpus import MIN_ROWS, Corpus, Scorer
from second_opinion.errors import InputError, UsageError

DEFAULT_EXCLUDE: tuple[str, ...] = (
    "*mos*",
    "*n_ratings*",
    "*n_frames",
    "id",
    "*_id",
    "*_index",
    "frame*",
)
"""Columns outside every scorer's group that no default signal takes (case-insensitive globs)."""
SCORER_EXCLUDE: tuple[str, ...] = ("*n_frames",)
"""Columns of a scorer's group that its default signal leaves out (the frame count)."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_SCORER_COLUMN = re.compile(r"^so_([a-z0-9]+)_.+$")


@dataclass(frozen=True)
class SignalSpec:
    """A signal as the user names it: ``NAME=GLOB[,GLOB…]``."""

    name: str
    globs: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, option: str = "--signal") -> SignalSpec:
        """Parse ``NAME=GLOB[,GLOB…]``; a bad one raises :class:`UsageError` naming ``option``."""
        name, sep, rest = text.partition("=")
        globs = tuple(g.strip() for g in rest.split(",") if g.strip())
        if not sep or not name.strip() or not globs:
            msg = f"{option} {text!r}: expected NAME=GLOB[,GLOB...], e.g. brisque='so_brisque_*'"
            raise UsageError(msg)
        name = name.strip()
        if not _NAME.match(name):
            msg = (
                f"{option} {text!r}: the name {name!r} must start with a letter or digit and "
                "hold only letters, digits and _ . + -"
            )
            raise UsageError(msg)
        return cls(name, globs)

    def __str__(self) -> str:
        return f"{self.name}={','.join(self.globs)}"


@dataclass(frozen=True)
class Signal:
    """A named set of columns of one corpus."""

    name: str
    columns: tuple[str, ...]
    higher_is_better: bool | None = None
    scorer: str | None = None
    """The scorer whose columns these are, when they all come from one."""
    derived: str | None = None
    """For a default signal made of the join's derived columns: which (``delta:<base>``)."""

    @property
    def training_free(self) -> bool:
        """A single column is evaluated as it is, without a regressor."""
        return len(self.columns) == 1


@dataclass(frozen=True)
class SignalSet:
    """The signals of one corpus, its baseline, and which signals are second opinions."""

    signals: tuple[Signal, ...]
    baseline: Signal | None
    second_opinions: tuple[str, ...]
    """Names of the signals compared against the baseline: scorer signals but derived ones (or,
    when signals are named explicitly, every named signal) sharing no column with the baseline."""
    notes: tuple[str, ...] = ()
    """Default signals left out and derived columns set apart, and why."""

    def get(self, name: str) -> Signal:
        """The signal called ``name``."""
        for signal in self.signals:
            if signal.name == name:
                return signal
        raise KeyError(name)


def resolve_signals(
    corpus: Corpus,
    specs: Sequence[SignalSpec] = (),
    *,
    baseline: SignalSpec | None = None,
    exclude: Sequence[str] | None = None,
) -> SignalSet:
    """The signals of ``corpus``: ``specs`` if given, else the defaults (module docstring)."""
    names = [s.name for s in specs] + ([baseline.name] if baseline else [])
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        msg = f"signal name {duplicates[0]!r} is given twice; give each signal its own name"
        raise UsageError(msg)
    explicit = bool(specs)
    notes: list[str] = []
    if explicit:
        signals = [_from_spec(corpus, spec) for spec in specs]
        for signal in signals:
            _require_rows(corpus, signal, "--signal")
            constant = _constant(corpus, signal)
            if constant is not None:
                msg = (
                    f"{corpus.path}: --signal {signal.name!r} has the same value ({constant!r}) "
                    "in every row; a constant cannot rank clips. Drop it."
                )
                raise InputError(msg)
    else:
        signals = []
        defaults, notes = _defaults(corpus, exclude)
        for signal in defaults:
            n = int(signal_rows(corpus, signal.columns).sum())
            constant = _constant(corpus, signal)
            if n < MIN_ROWS:
                notes.append(f"signal {signal.name!r} left out: values in only {n} rows")
            elif constant is not None:
                notes.append(
                    f"signal {signal.name!r} left out: the same value ({constant!r}) in every row"
                )
            else:
                signals.append(signal)
    base = _from_spec(corpus, baseline, option="--baseline") if baseline else None
    if base is not None:
        _require_rows(corpus, base, "--baseline")
    if base is not None:
        signals = [s for s in signals if s.name != base.name]
        signals.insert(0, base)
        taken = set(base.columns)
        opinions = tuple(
            s.name
            for s in signals
            if s is not base
            and not taken & set(s.columns)
            and (explicit or (s.scorer and not s.derived))
        )
    else:
        opinions = ()
    if not signals:
        msg = (
            f"{corpus.path}: no numeric column to audit besides {corpus.mos_column!r}"
            f"{' with at least ' + str(MIN_ROWS) + ' values' if notes else ''}; "
            "name the signals with --signal NAME=GLOB"
        )
        raise InputError(msg)
    return SignalSet(tuple(signals), base, opinions, tuple(notes))


def signal_rows(corpus: Corpus, columns: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Rows (of those with a MOS) where at least one of ``columns`` is finite."""
    matrix = np.column_stack([corpus.columns[c] for c in columns])
    return np.asarray(np.isfinite(matrix).any(axis=1), dtype=np.bool_)


def _constant(corpus: Corpus, signal: Signal) -> float | None:
    """The value of a one-column signal that never varies, else None."""
    if not signal.training_free:
        return None
    values = corpus.columns[signal.columns[0]]
    finite = values[np.isfinite(values)]
    if finite.size and float(np.ptp(finite)) == 0.0:
        return float(finite[0])
    return None


def _require_rows(corpus: Corpus, signal: Signal, option: str) -> None:
    n = int(signal_rows(corpus, signal.columns).sum())
    if n < MIN_ROWS:
        msg = (
            f"{corpus.path}: {option} {signal.name!r} has values in only {n} rows with a "
            f"{corpus.mos_column!r} value; the audit needs at least {MIN_ROWS}. "
            "Pass a larger table or drop the signal."
        )
        raise InputError(msg)


def _matches(columns: Iterable[str], globs: Sequence[str]) -> list[str]:
    return [c for c in columns if any(fnmatch.fnmatchcase(c, g) for g in globs)]


def _from_spec(corpus: Corpus, spec: SignalSpec, option: str = "--signal") -> Signal:
    numeric = list(corpus.columns)
    columns = _matches(numeric, spec.globs)
    for glob in spec.globs:
        if not _matches(numeric, [glob]):
            msg = (
                f"{corpus.path}: {option} {spec} — {glob!r} matches no numeric column "
                f"(numeric columns: {', '.join(numeric) or '(none)'}); fix the pattern"
            )
            raise InputError(msg)
    scorer = _owner(corpus.scorers, columns)
    return Signal(
        spec.name,
        tuple(columns),
        higher_is_better=scorer.higher_is_better if scorer else None,
        scorer=scorer.name if scorer else None,
    )


def _owner(scorers: Sequence[Scorer], columns: Sequence[str]) -> Scorer | None:
    """The scorer all ``columns`` belong to (longest prefix wins), if there is one."""
    owners = set()
    for column in columns:
        candidates = [s for s in scorers if column.startswith(s.prefix)]
        if not candidates:
            return None
        owners.add(max(candidates, key=lambda s: len(s.prefix)))
    return owners.pop() if len(owners) == 1 else None


def _excluded(column: str, globs: Sequence[str]) -> bool:
    lowered = column.lower()
    return any(fnmatch.fnmatchcase(lowered, g.lower()) for g in globs)


def _scorer_of(corpus: Corpus, column: str) -> tuple[str | None, Scorer | None]:
    scorer = _owner(corpus.scorers, [column])
    if scorer is not None:
        return scorer.name, scorer
    match = _SCORER_COLUMN.match(column)
    return (match.group(1) if match else None), None


def _defaults(corpus: Corpus, exclude: Sequence[str] | None) -> tuple[list[Signal], list[str]]:
    """The default signals, and notes on the derived columns set apart from them."""
    groups: dict[str, list[str]] = {}
    owners: dict[str, Scorer | None] = {}
    singles: list[str] = []
    for column in corpus.columns:
        if column in corpus.key:
            continue
        name, scorer = _scorer_of(corpus, column)
        if exclude is not None:
            left_out = _excluded(column, exclude)
        else:
            left_out = _excluded(column, SCORER_EXCLUDE if name else DEFAULT_EXCLUDE)
        if left_out:
            continue
        if name is None:
            singles.append(column)
            continue
        groups.setdefault(name, []).append(column)
        owners[name] = scorer
    signals: list[Signal] = []
    notes: list[str] = []
    for name, columns in groups.items():
        scorer = owners[name]
        prefix = scorer.prefix if scorer else f"so_{name}_"
        label = prefix.rstrip("_") if name in singles else name
        raw, monotone, deltas = _split_derived(columns)
        if raw:
            signals.append(
                Signal(
                    label,
                    tuple(raw),
                    higher_is_better=scorer.higher_is_better if scorer else None,
                    scorer=name,
                )
            )
        if monotone:
            notes.append(
                f"derived columns {', '.join(monotone)} left out of signal {label!r}: zscore and "
                "rank are monotone in the raw scores, so they rank clips the same; name them "
                "with --signal to audit them"
            )
        for base, delta_columns in deltas.items():
            delta = f"{label}_delta_{base}"
            delta = delta if delta not in singles else f"{prefix.rstrip('_')}_delta_{base}"
            signals.append(
                Signal(delta, tuple(delta_columns), scorer=name, derived=f"delta:{base}")
            )
            notes.append(
                f"derived columns {', '.join(delta_columns)} (delta:{base}) audited as their own "
                f"signal {delta!r}, not folded into {label!r}; not a second opinion, as they are "
                f"made from {base!r}"
            )
    signals.extend(Signal(column, (column,)) for column in singles)
    return signals, notes


def _split_derived(columns: Sequence[str]) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """A scorer group's raw columns, its zscore/rank columns, and its delta columns by base.

    A column is derived when another column of the group is its source: ``<source>_zscore``,
    ``<source>_rank`` or ``<source>_delta_<base>`` (the join's names, docs/join.md)."""
    raw: list[str] = []
    monotone: list[str] = []
    deltas: dict[str, list[str]] = {}
    for column in columns:
        sources = [c for c in columns if c != column and column.startswith(f"{c}_")]
        suffixes = [column[len(c) + 1 :] for c in sources]
        if any(suffix in ("zscore", "rank") for suffix in suffixes):
            monotone.append(column)
            continue
        bases = [x.removeprefix("delta_") for x in suffixes if x.startswith("delta_") and x[6:]]
        if bases:
            deltas.setdefault(min(bases, key=len), []).append(column)
        else:
            raw.append(column)
    return raw, monotone, deltas
