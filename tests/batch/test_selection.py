"""Job selection: --select / --exclude with names, globs and graph operators (+job, job+)."""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from second_opinion.batch.runner import run_batch
from second_opinion.batch.selection import CLI_SPELLING, select_names
from second_opinion.errors import UsageError
from tests.cli._run import run_cli

SALIENCY = Path(__file__).resolve().parents[2] / "testdata" / "smoke-saliency-batch"

# a → b → d, c → d, e alone
NAMES = ["a", "b", "c", "d", "e"]
DEPS: dict[str, tuple[str, ...]] = {"a": (), "b": ("a",), "c": (), "d": ("b", "c"), "e": ()}


@pytest.mark.parametrize(
    ("select", "exclude", "expected"),
    [
        ([], [], NAMES),
        (["d"], [], ["d"]),
        (["+d"], [], ["a", "b", "c", "d"]),
        (["a+"], [], ["a", "b", "d"]),
        (["+b+"], [], ["a", "b", "d"]),
        (["?"], ["+b"], ["c", "d", "e"]),
        (["a,e", "c"], [], ["a", "c", "e"]),
        (["a e"], [], ["a", "e"]),
        ([], ["d+"], ["a", "b", "c", "e"]),
    ],
)
def test_selectors(select: list[str], exclude: list[str], expected: list[str]) -> None:
    assert select_names(NAMES, DEPS, select=select, exclude=exclude) == expected


def test_only_is_the_job_with_what_feeds_it() -> None:
    assert select_names(NAMES, DEPS, only=["d"]) == select_names(NAMES, DEPS, select=["+d"])


def test_a_selector_matching_nothing_names_it_as_the_caller_spelled_it() -> None:
    with pytest.raises(UsageError) as caught:
        select_names(NAMES, DEPS, select=["corpus-*"], manifest="m.json")
    assert caught.value.message == (
        "select= 'corpus-*': no job in m.json is named like 'corpus-*' (jobs: a, b, c, d, e)"
    )
    with pytest.raises(UsageError, match=r"^--exclude 'z\+': no job in m.json is named like 'z'"):
        select_names(NAMES, DEPS, exclude=["z+"], manifest="m.json", spelling=CLI_SPELLING)
    with pytest.raises(UsageError, match=r"^--select '\+\+': not a selector; write a job name"):
        select_names(NAMES, DEPS, select=["++"], spelling=CLI_SPELLING)


def _reference(
    names: list[str], deps: dict[str, tuple[str, ...]], select: list[str], exclude: list[str]
) -> list[str]:
    """Selection by brute force: a job is upstream of another when a path of edges leads there."""

    def reaches(start: str, goal: str) -> bool:  # start reads (transitively) goal's output
        return start == goal or any(reaches(d, goal) for d in deps[start])

    def expand(text: str) -> set[str]:
        up, down = text.startswith("+"), text.endswith("+")
        matched = [n for n in names if fnmatch.fnmatchcase(n, text.strip("+"))]
        found = set(matched)
        for name in names:
            for m in matched:
                if (up and reaches(m, name)) or (down and reaches(name, m)):
                    found.add(name)
        return found

    chosen = set().union(*(expand(t) for t in select)) if select else set(names)
    for text in exclude:
        chosen -= expand(text)
    return [n for n in names if n in chosen]


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    size = draw(st.integers(1, 7))
    names = [f"j{i}" for i in range(size)]
    deps = {
        name: tuple(draw(st.lists(st.sampled_from(names[:i]), unique=True)) if i else ())
        for i, name in enumerate(names)
    }
    return names, deps


@settings(max_examples=200, deadline=None)
@given(graph=_graphs(), data=st.data())
def test_selection_matches_a_brute_force_reference(
    graph: tuple[list[str], dict[str, tuple[str, ...]]], data: st.DataObject
) -> None:
    names, deps = graph
    selector = st.builds(
        lambda name, up, down: f"{'+' if up else ''}{name}{'+' if down else ''}",
        st.sampled_from([*names, "j*"]),
        st.booleans(),
        st.booleans(),
    )
    select = data.draw(st.lists(selector, max_size=3))
    exclude = data.draw(st.lists(selector, max_size=2))
    assert select_names(names, deps, select=select, exclude=exclude) == _reference(
        names, deps, select, exclude
    )


# --- through run_batch and the CLI ------------------------------------------------------------


@pytest.fixture
def saliency(tmp_path: Path) -> Path:
    folder = tmp_path / "scaffold"
    shutil.copytree(SALIENCY, folder, ignore=shutil.ignore_patterns("expected"))
    return folder


def test_a_job_whose_unselected_feeder_is_not_built_is_refused(saliency: Path) -> None:
    with pytest.raises(UsageError) as caught:
        run_batch(saliency / "batch.json", out_dir=saliency / "out", select=["corpus"])
    assert caught.value.message == (
        f"job 'corpus' reads {saliency / 'out' / 'saliency-model.jsonl'}, the output of job "
        "'saliency-model', which is not built yet and not selected: select it too "
        "(select= +corpus)"
    )
    assert not (saliency / "out").exists()


def test_select_with_graph_operators_runs_what_it_names(saliency: Path) -> None:
    out = saliency / "out"
    first = run_batch(saliency / "batch.json", out_dir=out, select=["saliency-model+"])
    assert [(j.name, j.status) for j in first.jobs] == [
        ("saliency-model", "built"),
        ("corpus", "built"),
    ]
    # its feeder built now, the join alone may be selected
    again = run_batch(saliency / "batch.json", out_dir=out, select=["corpus"], force=True)
    assert [(j.name, j.status) for j in again.jobs] == [("corpus", "rebuilt")]


def test_cli_select_and_exclude(saliency: Path) -> None:
    result = run_cli(
        "batch", "batch.json", "--out-dir", "out", "--select", "saliency-*", "--exclude",
        "saliency-maps", "--json", cwd=saliency,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert '"name":"saliency-model"' in result.stdout.replace(" ", "")
    assert "saliency-maps" not in result.stdout
    assert '"name":"corpus"' not in result.stdout.replace(" ", "")


def test_cli_names_the_flag_in_selection_errors(saliency: Path) -> None:
    result = run_cli("batch", "batch.json", "--out-dir", "out", "--select", "corpus", cwd=saliency)
    assert result.returncode == 2
    assert "select it too (--select +corpus)" in result.stderr
    result = run_cli("batch", "batch.json", "--exclude", "nope*", cwd=saliency)
    assert result.returncode == 2
    assert "error: --exclude 'nope*': no job in" in result.stderr
    assert "(jobs: saliency-model, saliency-maps, corpus)" in result.stderr
