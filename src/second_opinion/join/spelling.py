"""How the caller spells a sidecar's options, so that a message names what they typed.

A join is asked for from one of four surfaces, and its messages name an option the way that
surface writes it:

``python``    the keywords of :class:`~second_opinion.join.spec.SidecarSpec`: ``key_map of
              'dover'``; a fix as ``SidecarSpec(normalize_keys=["basename", "stem"])``
``cli``       ``second-opinion join``'s flags, scoped to the scorer: ``--key-map
              dover:COLUMN=clip_id``; a fix as ``--normalize-keys dover:basename,stem``
``manifest``  a batch manifest's fields at their location: ``jobs[0].sidecars[1].key_map``; a fix
              as ``jobs[0].sidecars[1].normalize_keys: ["basename", "stem"]``
``original``  the original materializer's manifest fields where it has one:
              ``tables[0].key_normalize: "stem"``; an option it does not have is named as a native
              manifest field, as ``second-opinion migrate`` would write it

A :class:`Spelling` is the surface (and, for manifests, where the sidecars are); bound to one
sidecar it is a :class:`SidecarSpelling`, which says an option's name
(:meth:`~SidecarSpelling.name`) or an exact setting (:meth:`~SidecarSpelling.setting`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from second_opinion.validation import Loc, Wording, location

Surface = Literal["python", "cli", "manifest", "original"]

CLI_FLAGS: Mapping[str, tuple[str, str]] = {
    "key_map": ("--key-map", "SIDE=BASE"),
    "records": ("--records", "KIND"),
    "key_field": ("--key-field", "FIELD"),
    "score_field": ("--score-field", "FIELD"),
    "scorer_column": ("--scorer-column", "COLUMN"),
    "scorer_fallback": ("--no-scorer-fallback", ""),
    "status_column": ("--status-column", "COLUMN"),
    "normalize_keys": ("--normalize-keys", "STEPS"),
    "frame_column": ("--frame-column", "COLUMN"),
    "pool": ("--pool", "STATS"),
    "columns": ("--columns", "COLUMNS"),
    "prefix": ("--prefix", "PREFIX"),
    "on_missing": ("--on-missing", "MODE"),
    "min_coverage": ("--min-coverage", "FRACTION"),
    "allow_no_match": ("--allow-no-match", ""),
    "on_duplicate": ("--on-duplicate", "MODE"),
    "higher_is_better": ("--lower-is-better", ""),
    "derived": ("--derived", "KINDS"),
    "variable": ("--variable", "NAME"),
    "align": ("--align", "TABLE:COLUMN"),
}
"""Each sidecar option as ``second-opinion join`` takes it: its flag and the value's metavar
(``""``: a flag that takes only the scorer's name, and says the opposite of the default)."""

ORIGINAL_FIELDS: Mapping[str, str] = {
    "normalize_keys": "key_normalize",
    "key_field": "score_key_field",
    "score_field": "score_field",
    "on_missing": "missing_policy",
}
"""Sidecar options the original dialect has, under its own names (see batch/original)."""

ORIGINAL_KEY_NORMALIZE: Mapping[tuple[str, ...], str] = {
    ("strip",): "raw",
    ("strip", "basename"): "basename",
    ("strip", "basename", "stem"): "stem",
    ("strip", "auto"): "auto",
}
"""The original's ``key_normalize`` values, by the native steps each one stands for."""


def _json(value: object) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)


def _python(value: object) -> str:
    """A value as a Python caller writes it: JSON's spelling, but ``True``/``False``/``None``."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    return _json(value)


def _cli_value(field: str, value: object) -> str:
    """A value as a flag takes it after ``SCORER:``."""
    if field == "align" and isinstance(value, Mapping):
        return f"{value['keys_from']}:{value['column']}"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class SidecarSpelling:
    """How one sidecar's options are spelled (see the module docstring)."""

    surface: Surface
    scorer: str
    loc: Loc = ()
    """Where the sidecar is in its manifest (``manifest``, ``original``)."""
    bare: bool = False
    """For a message already about this sidecar, and already located (a manifest's problems
    are listed under their location): names without the location, a Python setting without
    ``SidecarSpec(…)``."""

    def unlocated(self) -> SidecarSpelling:
        """This spelling with :attr:`bare` names."""
        return SidecarSpelling(self.surface, self.scorer, (), bare=True)

    def name(self, field: str, metavar: str | None = None) -> str:
        """The option ``field``, to be set or fixed: ``--status-column dover:COLUMN`` (with
        ``metavar`` instead of the flag's own), ``jobs[0].sidecars[1].status_column``,
        ``status_column of 'dover'``."""
        if self.surface == "cli":
            flag, own = CLI_FLAGS[field]
            shown = own if metavar is None else metavar
            return f"{flag} {self.scorer}:{shown}" if shown else f"{flag} {self.scorer}"
        if self.surface == "manifest" or (self.bare and self.surface == "python"):
            return location((*self.loc, field))
        if self.surface == "original" and field in ORIGINAL_FIELDS:
            return location((*self.loc, ORIGINAL_FIELDS[field]))
        if self.surface == "original":
            return f"{field} (of the native manifest that second-opinion migrate writes)"
        return f"{field} of {self.scorer!r}"

    def option(self, field: str) -> str:
        """The option ``field`` alone, for a message already about this sidecar: ``--pool``,
        ``pool`` (a manifest's location is given before the message), ``key_normalize``."""
        if self.surface == "cli":
            return CLI_FLAGS[field][0]
        if self.surface == "original":
            return ORIGINAL_FIELDS.get(field, field)
        return field

    def named(self, field: str) -> str:
        """The option ``field`` in a message that names this sidecar already: ``--columns``,
        ``columns``, or, in a manifest, the field at its location
        (``jobs[0].sidecars[1].columns``: a job's error is not listed under a location)."""
        return self.name(field) if self.surface in ("manifest", "original") else self.option(field)

    def said(self, values: Mapping[str, object]) -> str:
        """Options set to values, in a message that names this sidecar already: as
        :meth:`setting`, but a Python caller's keywords alone (``on_missing="error"``)."""
        if self.surface == "python":
            return ", ".join(f"{field}={_python(value)}" for field, value in values.items())
        return self.setting(values)

    def choose(self, *, python: str, cli: str, manifest: str) -> str:
        """One of three texts, by surface (the original dialect reads the manifest's)."""
        if self.surface == "cli":
            return cli
        return python if self.surface == "python" else manifest

    def key_steps(self) -> tuple[tuple[str, ...], ...] | None:
        """The ``normalize_keys`` values this surface can say, or None: any (the original
        dialect's ``key_normalize`` has four)."""
        return tuple(ORIGINAL_KEY_NORMALIZE) if self.surface == "original" else None

    def can_set(self, field: str, value: object) -> bool:
        """Whether this surface can say ``field`` set to ``value`` (the original dialect has few
        options and values)."""
        if self.surface != "original":
            return True
        if field == "normalize_keys" and isinstance(value, list | tuple):
            return tuple(value) in ORIGINAL_KEY_NORMALIZE
        return False

    def setting(self, values: Mapping[str, object]) -> str:
        """Options set to values, as the caller writes them: ``--normalize-keys
        dover:basename,stem``; ``jobs[0].sidecars[1].normalize_keys: ["basename", "stem"]``;
        ``SidecarSpec(normalize_keys=["basename", "stem"])``. A ``key_map`` is a mapping of
        sidecar column to base column; a flag such as ``allow_no_match`` takes ``True``."""
        if self.surface == "cli":
            return " ".join(self._flag(field, value) for field, value in values.items())
        if self.surface == "python":
            shown = ", ".join(f"{field}={_python(value)}" for field, value in values.items())
            return shown if self.bare else f"SidecarSpec({shown})"
        return ", ".join(self._field(field, value) for field, value in values.items())

    def _flag(self, field: str, value: object) -> str:
        flag, metavar = CLI_FLAGS[field]
        if not metavar:
            return f"{flag} {self.scorer}"
        if field == "key_map" and isinstance(value, Mapping):
            return " ".join(f"{flag} {self.scorer}:{s}={b}" for s, b in value.items())
        return f"{flag} {self.scorer}:{_cli_value(field, value)}"

    def _field(self, field: str, value: object) -> str:
        if self.surface == "original" and field == "normalize_keys":
            steps = tuple(value) if isinstance(value, list | tuple) else ()
            if steps in ORIGINAL_KEY_NORMALIZE:
                return f"{self.name(field)}: {_json(ORIGINAL_KEY_NORMALIZE[steps])}"
        return f"{self.name(field)}: {_json(value)}"


@dataclass(frozen=True)
class Spelling:
    """The surface a join was asked for from; for a manifest, where its sidecars are:
    ``at`` is the location of the sidecars list (``("jobs", 0, "sidecars")``), or, for the
    original dialect, of the table (``("tables", 2)``: its options are the table's)."""

    surface: Surface = "python"
    at: Loc = ()

    def sidecar(self, index: int, scorer: str) -> SidecarSpelling:
        """The spelling of sidecar number ``index`` (its scorer ``scorer``)."""
        if self.surface == "manifest":
            return SidecarSpelling(self.surface, scorer, (*self.at, index))
        return SidecarSpelling(self.surface, scorer, self.at)

    def key_option(self) -> str:
        """The join's key columns as this surface names them."""
        return {"cli": "--key", "original": "key_column"}.get(self.surface, "key")


PYTHON = Spelling()
"""A Python caller's spelling: keywords."""
CLI = Spelling("cli")
"""``second-opinion join``'s spelling: flags."""
MANIFEST = Spelling("manifest")
"""A manifest's spelling, for problems listed under their location (``jobs[0].sidecars[1]:
…``): the fields' names alone."""


def manifest_spelling(job_index: int) -> Spelling:
    """The spelling of the sidecars of job number ``job_index`` of a native manifest."""
    return Spelling("manifest", ("jobs", job_index, "sidecars"))


def original_spelling(table_index: int) -> Spelling:
    """The spelling of table number ``table_index`` of an original manifest."""
    return Spelling("original", ("tables", table_index))


_JOIN_FLAGS: Mapping[str, str] = {"features": "--features", "key": "--key"}


def cli_location(loc: Loc, scorers: Sequence[str]) -> str | None:
    """Where a problem of a join spec built from ``second-opinion join``'s flags is, as a flag:
    ``("sidecars", 0, "pool", 1)`` is ``--pool dover``, ``("key",)`` is ``--key``; a problem of a
    whole sidecar (``("sidecars", 0)``), whose message names the sidecar, has none (``None``).
    ``scorers`` are the sidecars' names, in order."""
    if len(loc) >= 2 and loc[0] == "sidecars" and isinstance(loc[1], int):
        scorer = scorers[loc[1]] if loc[1] < len(scorers) else ""
        field = loc[2] if len(loc) >= 3 else None
        if isinstance(field, str) and field in CLI_FLAGS:
            return f"{CLI_FLAGS[field][0]} {scorer}".rstrip()
        if field is not None:
            return f"--sidecar {scorer}".rstrip()
        return None
    if loc and isinstance(loc[0], str) and loc[0] in _JOIN_FLAGS:
        return _JOIN_FLAGS[loc[0]]
    return None


def cli_wording(scorers: Sequence[str]) -> Wording:
    """How a join spec's problems are said when it was built from ``second-opinion join``'s
    flags (:func:`cli_location`); ``scorers`` as there."""
    names = tuple(scorers)
    return Wording(top_level=False, locate=lambda loc: cli_location(loc, names))
