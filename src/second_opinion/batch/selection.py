"""Which jobs a batch runs: ``--select`` / ``--exclude`` selectors, as dbt users know them.

A selector is a job name or a glob over job names (``corpus-*``, ``konvid-?``), optionally with
graph operators: ``+job`` is the job with every job that feeds it (transitively: the jobs whose
outputs it reads), ``job+`` the job with every job it feeds, ``+job+`` both. Several selectors
may be given (repeated, or in one value separated by commas or spaces); the selection is the union
of the ``select`` selectors (every job when there are none) minus the union of the ``exclude``
ones. The jobs run in manifest order, and a dependency outside the selection counts as done.

``only`` (the first release's ``--only NAME``) keeps its meaning: the job with what feeds it, so
``--only NAME`` is ``--select +NAME``.

A selector that matches no job is an error naming it as the caller spelled it (``--select`` on the
command line, ``select=`` in Python), with the manifest's job names.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from second_opinion.batch.dependencies import with_dependencies
from second_opinion.errors import UsageError

PYTHON_SPELLING: Mapping[str, str] = {"select": "select=", "exclude": "exclude=", "only": "only="}
CLI_SPELLING: Mapping[str, str] = {"select": "--select", "exclude": "--exclude", "only": "--only"}
_SELECTOR = re.compile(r"^(\+?)([^+]+?)(\+?)$")


@dataclass(frozen=True)
class Selector:
    """One parsed selector: a job name or glob, with or without its up- and downstream jobs."""

    pattern: str
    upstream: bool = False
    downstream: bool = False

    @classmethod
    def parse(cls, text: str, option: str) -> Selector:
        """``+name``, ``name+``, ``+name+`` or ``name`` (``name`` may be a glob)."""
        match = _SELECTOR.match(text)
        if match is None:
            msg = (
                f"{option} {text!r}: not a selector; write a job name or glob, with + before it "
                "for what feeds it or after it for what it feeds (e.g. +konvid-1k, corpus-*+)"
            )
            raise UsageError(msg)
        before, pattern, after = match.groups()
        return cls(pattern, upstream=bool(before), downstream=bool(after))

    def matches(self, names: Sequence[str]) -> list[str]:
        """The job names the pattern matches (exactly, or as a glob), in manifest order."""
        return [n for n in names if fnmatch.fnmatchcase(n, self.pattern)]


def split_selectors(values: Sequence[str]) -> list[str]:
    """Selectors from repeated values, each of which may hold several separated by , or spaces."""
    return [part for value in values for part in re.split(r"[,\s]+", value) if part]


def select_names(
    names: Sequence[str],
    dependencies: Mapping[str, Sequence[str]],
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    only: Sequence[str] = (),
    manifest: str = "the manifest",
    spelling: Mapping[str, str] = PYTHON_SPELLING,
) -> list[str]:
    """The selected job names, in the order of ``names`` (see the module docstring)."""
    feeds: dict[str, list[str]] = {n: [] for n in names}
    for name, needed in dependencies.items():
        for upstream in needed:
            feeds.setdefault(upstream, []).append(name)
    given: list[tuple[str, str, bool]] = [
        (text, spelling["select"], False) for text in split_selectors(select)
    ]
    given += [(text, spelling["only"], True) for text in split_selectors(only)]
    chosen: set[str] = set(names) if not given else set()
    for text, option, with_feeders in given:
        chosen |= _expand(text, option, names, dependencies, feeds, manifest, upstream=with_feeders)
    for text in split_selectors(exclude):
        chosen -= _expand(text, spelling["exclude"], names, dependencies, feeds, manifest)
    return [n for n in names if n in chosen]


def _expand(
    text: str,
    option: str,
    names: Sequence[str],
    dependencies: Mapping[str, Sequence[str]],
    feeds: Mapping[str, Sequence[str]],
    manifest: str,
    *,
    upstream: bool = False,
) -> set[str]:
    selector = Selector.parse(text, option)
    matched = selector.matches(names)
    if not matched:
        msg = (
            f"{option} {text!r}: no job in {manifest} is named like {selector.pattern!r} "
            f"(jobs: {', '.join(names)})"
        )
        raise UsageError(msg)
    found = set(matched)
    if selector.upstream or upstream:
        found |= with_dependencies(matched, dependencies)
    if selector.downstream:
        found |= with_dependencies(matched, feeds)
    return found
