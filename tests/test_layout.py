"""The package's layout (docs/adr/0010): arrows point down the layers, no cycle, small modules.

Every import is counted, including those inside functions (a lazy import is still an arrow).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "second_opinion"

LAYERS: dict[str, int] = {
    # the shared ground floor
    "_typing": 0,
    "_version": 0,
    "errors": 0,
    "decoding": 0,
    "hashing": 0,
    "html_page": 0,
    "validation": 0,
    "provenance": 0,
    "placing": 0,
    "paths": 0,
    # reading tables and matrices
    "tables": 1,
    "matrices": 2,
    # the capabilities
    "join": 3,
    "ingest": 3,
    "audit": 4,
    "saliency": 4,
    # what runs them
    "batch": 5,
    "cli": 6,
    # the package face and `python -m`
    "__init__": 7,
    "__main__": 8,
}
"""Where each top-level module or folder stands; an import may only point to a lower number (or
within its own folder, or between modules of the ground floor)."""

MAX_LINES = 400
LONG_MODULES: dict[str, str] = {}
"""Modules allowed over MAX_LINES, each with its reason."""


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules ``name`` imports, anywhere in its file."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target not in modules:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
    found.discard(name)
    return found


MODULES = _modules()
GRAPH = {name: _imports(name, path, MODULES) for name, path in MODULES.items()}


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_top_level_module_and_folder_has_a_layer() -> None:
    assert {_top(name) for name in MODULES} <= set(LAYERS)


def test_imports_point_down_the_layers() -> None:
    upward = []
    for name, targets in GRAPH.items():
        for target in targets:
            a, b = _top(name), _top(target)
            if a == b or (LAYERS[a] == LAYERS[b] == 0):
                continue
            if LAYERS[b] >= LAYERS[a]:
                upward.append(f"{name} -> {target}")
    assert sorted(upward) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph`` (Tarjan's strongly connected components of size > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_no_import_cycle() -> None:
    assert _cycles(GRAPH) == []


def test_subpackage_inits_hold_only_their_docstring() -> None:
    for name, path in MODULES.items():
        if path.name != "__init__.py" or name == "second_opinion":
            continue
        body = ast.parse(path.read_text(encoding="utf-8")).body
        assert len(body) == 1, f"{name}: an __init__ holds its folder's docstring, nothing else"
        assert isinstance(body[0], ast.Expr), name
        assert isinstance(body[0].value, ast.Constant), name


def test_no_internal_module_declares_all() -> None:
    declaring = [
        name
        for name, path in MODULES.items()
        if name != "second_opinion" and "__all__" in path.read_text(encoding="utf-8")
    ]
    assert declaring == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    if name in LONG_MODULES:
        return
    assert lines <= MAX_LINES, f"{name}: {lines} lines; split it, or state why in LONG_MODULES"


def test_the_checks_see_a_lazy_import_and_a_planted_cycle() -> None:
    # Positive controls: the walker finds an import inside a function (the runner loads the Ray
    # executor only when asked), and the cycle finder finds cycles planted in a copy of the graph.
    assert "second_opinion.batch.executors.ray" in GRAPH["second_opinion.batch.runner"]
    planted = {name: set(targets) for name, targets in GRAPH.items()}
    planted["second_opinion.errors"].add("second_opinion.batch.runner")
    found = _cycles(planted)
    assert len(found) == 1
    assert {"second_opinion.errors", "second_opinion.batch.runner"} <= set(found[0])
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
