"""Jobs that feed jobs: which job reads which job's output, in what order they run.

Job B depends on job A when one of B's inputs (a features table, a sidecar, a key table, a clips
table, …) is A's output. Dependencies come from paths alone, so a manifest needs no extra field:
a saliency job's output named as a join job's sidecar makes the saliency job run first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from second_opinion.paths import resolved


class _Job(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def output(self) -> Path: ...

    @property
    def inputs(self) -> list[tuple[str, str | None, Path]]: ...


def job_dependencies(jobs: Iterable[_Job]) -> dict[str, tuple[str, ...]]:
    """Job name → the names of the jobs whose outputs it reads (manifest order, no repeats)."""
    jobs = list(jobs)
    producer = {resolved(job.output): job.name for job in jobs}
    found: dict[str, tuple[str, ...]] = {}
    for job in jobs:
        names = [producer.get(resolved(path)) for _, _, path in job.inputs]
        found[job.name] = tuple(dict.fromkeys(n for n in names if n is not None and n != job.name))
    return found


def find_cycle(dependencies: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle as ``[a, b, …, a]`` (each reads the next one's output), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for needed in dependencies.get(name, ()):
            if state.get(needed) == 1:
                return [*path[path.index(needed) :], needed]
            if needed not in state:
                cycle = visit(needed)
                if cycle:
                    return cycle
        path.pop()
        state[name] = 2
        return None

    for name in dependencies:
        if name not in state:
            cycle = visit(name)
            if cycle:
                return cycle
    return None


def levels(names: Sequence[str], dependencies: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """``names`` in waves: each wave only needs jobs of earlier waves (order kept within a wave).

    Dependencies outside ``names`` are taken as already satisfied. Assumes no cycle.
    """
    remaining = list(names)
    done: set[str] = set()
    waves: list[list[str]] = []
    selected = set(names)
    while remaining:
        wave = [
            n for n in remaining if all(d in done or d not in selected for d in dependencies[n])
        ]
        if not wave:  # a cycle: load_manifest refuses those, so this is a bug
            msg = f"jobs {remaining} depend on each other in a cycle"
            raise ValueError(msg)
        waves.append(wave)
        done.update(wave)
        remaining = [n for n in remaining if n not in done]
    return waves


def with_dependencies(names: Sequence[str], dependencies: Mapping[str, Sequence[str]]) -> set[str]:
    """``names`` and every job they need, transitively (with the reversed map: that they feed)."""
    needed: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(dependencies.get(name, ()))
    return needed
