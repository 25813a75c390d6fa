"""Without matplotlib (the 'plots' extra) the audit still writes its three files; in audit.html
a note naming the extra stands in each plot's place, and audit.md and audit.json are unchanged."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from second_opinion.audit import plots
from second_opinion.audit.options import build_options
from second_opinion.audit.output import write_report
from second_opinion.audit.render import blocks, to_markdown
from second_opinion.audit.report import audit_json
from second_opinion.audit.run import AuditResult, run_audit
from second_opinion.errors import MissingExtraError
from tests._audit_data import corpus_columns, write_corpus
from tests._extras import hide_modules

OPTIONS = {"splits": 3, "bootstrap": 10, "model": "ridge", "baseline": "vmaf=vmaf"}
FIGURES = [
    "MOS vs signals, A",
    "A: per-split SRCC and PLCC",
    "A: redundancy (Spearman ρ)",
    "A: gain over vmaf",
]


def _note(alt: str) -> str:
    text = (
        f"Plot not drawn ({alt}): matplotlib is not installed (pip install 'second-opinion[plots]')"
    )
    return f'<p class="note">{html.escape(text)}</p>'


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    folder = tmp_path_factory.mktemp("audit")
    table = write_corpus(folder / "a.csv", corpus_columns(40, seed=1))
    return run_audit([f"A={table}"], build_options(**OPTIONS))


def test_a_plot_without_matplotlib_names_the_extra(
    result: AuditResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_modules(monkeypatch, "matplotlib")
    with pytest.raises(MissingExtraError) as caught:
        plots.scatter_png(result.corpora[0])
    assert caught.value.message == (
        "Drawing the audit's plots needs the optional dependency 'matplotlib', which is not "
        "installed; install it with: pip install 'second-opinion[plots]'"
    )
    assert (caught.value.extra, caught.value.module) == ("plots", "matplotlib")


def test_the_report_without_matplotlib_has_a_note_for_each_plot(
    result: AuditResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_modules(monkeypatch, "matplotlib")
    files = write_report(result, tmp_path / "report")
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "audit.html",
        "audit.json",
        "audit.md",
    ]
    page = files.html.read_text(encoding="utf-8")
    assert "<img" not in page
    assert "data:image" not in page
    notes = [line for line in page.splitlines() if line.startswith('<p class="note">')]
    assert notes == [_note(alt) for alt in FIGURES]
    assert '<table class="sortable">' in page  # the tables are all there
    assert files.markdown.read_text(encoding="utf-8") == to_markdown(blocks(result, plots=False))
    assert json.loads(files.json.read_text(encoding="utf-8")) == audit_json(result)


def test_with_plots_off_there_is_no_note(
    result: AuditResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_modules(monkeypatch, "matplotlib")
    files = write_report(result, tmp_path / "report", plots=False)
    assert 'class="note"' not in files.html.read_text(encoding="utf-8").split("</style>")[1]
