"""`second-opinion audit` through the real entry point (``python -m second_opinion``).

The happy path writes the three report files, prints a summary table per corpus (numbers as in
audit.json) and progress on stderr; ``--json`` prints audit.json itself. Bad input exits 2 with
one clear line on stderr and writes nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._audit_data import DUPLICATE_COLUMN, corpus_columns, write_corpus
from tests.cli._run import run_cli

FAST = ("--splits", "3", "--bootstrap", "10", "--model", "ridge")
PROGRESS = re.compile(r"\d\d:\d\d:\d\d (?P<message>.+)")


@dataclass(frozen=True)
class Run:
    result: subprocess.CompletedProcess[str]
    out: Path
    report: dict[str, Any]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    return write_corpus(folder / "corpus.csv", corpus_columns(50, seed=3, nan_mos=2))


@pytest.fixture(scope="module")
def happy(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("happy") / "report"
    result = run_cli("audit", f"c={corpus}", *FAST, "--baseline", "vmaf=vmaf", "--out", out)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    return Run(result, out, report)


def _f(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split("[│┃]", line.strip().strip("│┃"))]


def test_audit_writes_the_report(happy: Run) -> None:
    assert sorted(p.name for p in happy.out.iterdir()) == ["audit.html", "audit.json", "audit.md"]
    assert happy.report["schema"] == "second-opinion.audit/1"
    assert happy.report["protocol"]["splits"] == 3
    assert happy.report["protocol"]["model"] == "ridge"
    assert happy.report["protocol"]["baseline"] == "vmaf=vmaf"
    corpus = happy.report["corpora"]["c"]
    assert (corpus["rows"], corpus["n"]) == (50, 48)
    page = (happy.out / "audit.html").read_text(encoding="utf-8")
    assert page.count('<img class="') == 4  # scatter, per-split boxes, redundancy, gain
    markdown = (happy.out / "audit.md").read_text(encoding="utf-8")
    assert "## Corpus c" in markdown
    assert "### Gain over vmaf" in markdown


def test_audit_prints_the_summary_table_from_the_report(happy: Run) -> None:
    stdout = happy.result.stdout
    lines = stdout.splitlines()
    assert lines[0] == "c (48 rows)"
    assert _cells(lines[2]) == [
        "signal",
        "n",
        "SRCC [95 % CI]",
        "PLCC [95 % CI]",
        "splits SRCC",
        "splits PLCC",
    ]
    gain_title = lines.index("c: gain over vmaf")
    rows = {_cells(line)[0]: _cells(line) for line in lines[:gain_title] if line.startswith("│")}
    gain_rows = [_cells(line)[0] for line in lines[gain_title:] if line.startswith("│")]
    signals = happy.report["corpora"]["c"]["signals"]
    for name, signal in signals.items():
        label = name if signal["training_free"] else f"{name} (ridge)"
        full, splits = signal["full"], signal["splits"]
        assert rows[label] == [
            label,
            str(signal["n"]),
            f"{_f(full['srcc'])} [{_f(full['srcc_ci'][0], 3)}, {_f(full['srcc_ci'][1], 3)}]",
            f"{_f(full['plcc'])} [{_f(full['plcc_ci'][0], 3)}, {_f(full['plcc_ci'][1], 3)}]",
            f"{_f(splits['srcc']['median'])} ({_f(splits['srcc']['std'])})",
            f"{_f(splits['plcc']['median'])} ({_f(splits['plcc']['std'])})",
        ]
    assert len(rows) == len(signals)
    assert gain_rows == ["vmaf", "vmaf + brisque", "vmaf + niqe", "vmaf + all"]
    (flag,) = happy.report["redundancy"]["c"]["flagged"]
    assert (flag["a"], flag["b"]) == ("vmaf", DUPLICATE_COLUMN)
    assert f"c: vmaf and {DUPLICATE_COLUMN} are redundant (ρ {flag['rho']:.3f})" in lines
    out = happy.out
    assert lines[-1] == f"report: {out / 'audit.json'}, {out / 'audit.md'}, {out / 'audit.html'}"


def test_audit_prints_a_family_line_per_corpus_from_the_report(happy: Run) -> None:
    families = happy.report["families"]["c"]
    covered = [k for k, v in families["coverage"].items() if v["status"] == "covered"]
    pairs = len(families["redundant_pairs"])
    expected = (
        f"c: {len(covered)} of 13 signal families covered; "
        f"weak {len(families['weak'])} ({', '.join(families['weak'])}); "
        f"missing {len(families['missing'])} ({', '.join(families['missing'])}); "
        f"{pairs} redundant column pair{'' if pairs == 1 else 's'} (|Pearson r| ≥ 0.95)"
    )
    lines = happy.result.stdout.splitlines()
    assert lines[-2] == expected
    assert families["redundancy_threshold"] == 0.95
    assert families["min_finite_ratio"] == 0.8
    markdown = (happy.out / "audit.md").read_text(encoding="utf-8")
    assert markdown.count("### Signal families") == 1


def test_audit_family_thresholds_reach_the_report(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    fast = ("--splits", "2", "--bootstrap", "0", "--model", "ridge", "--no-plots")
    thresholds = ("--family-redundancy", "0.5", "--min-finite-ratio", "0.99")
    result = run_cli("audit", corpus, *fast, *thresholds, "--json", "--out", out)
    assert result.returncode == 0, result.stderr
    families = json.loads(result.stdout)["families"]["corpus"]
    assert (families["redundancy_threshold"], families["min_finite_ratio"]) == (0.5, 0.99)
    assert all(abs(p["pearson"]) >= 0.5 for p in families["redundant_pairs"])


COUNT = re.compile(
    r"(?P<label>c: (?:signals|bootstrap|gain)) (?P<done>\d+)/(?P<total>\d+) "
    r"(?P<unit>splits|intervals)(?P<rest>.*)"
)


def test_audit_reports_progress_on_stderr(happy: Run) -> None:
    lines = happy.result.stderr.splitlines()
    messages = []
    for line in lines:
        match = PROGRESS.fullmatch(line)
        assert match, f"not a progress line: {line!r}"
        messages.append(match["message"])
    steps = [m for m in messages if not COUNT.fullmatch(m)]
    assert steps == [
        "c: vmaf (1 column)",
        "c: brisque (5 columns)",
        "c: niqe (1 column)",
        "c: vmaf_neg (1 column)",
        "c: psnr_y (1 column)",
        f"c: {DUPLICATE_COLUMN} (1 column)",
        "c: gain over baseline vmaf",
    ]
    # In a pipe: per phase a line when it starts (0 done) and one when it ends, with counts:
    # 6 signals × 3 splits; 2 intervals per signal; gain: vmaf alone (one column, so refitted:
    # its own run was training-free) and vmaf + each of brisque and niqe and all, × 3 splits.
    counts = [COUNT.fullmatch(m) for m in messages]
    phases: dict[str, list[re.Match[str]]] = {}
    for match in counts:
        if match:
            phases.setdefault(match["label"], []).append(match)
    assert list(phases) == ["c: signals", "c: bootstrap", "c: gain"]
    totals = {label: {int(m["total"]) for m in found} for label, found in phases.items()}
    assert totals == {"c: signals": {18}, "c: bootstrap": {12}, "c: gain": {12}}
    for found in phases.values():
        assert (int(found[0]["done"]), found[0]["rest"]) == (0, "")
        assert int(found[-1]["done"]) == int(found[-1]["total"])
        assert re.fullmatch(r", done in \d+:\d\d:\d\d", found[-1]["rest"])
    assert not any(PROGRESS.fullmatch(line) for line in happy.result.stdout.splitlines())


def test_audit_compare_prints_and_reports_the_pairs(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run_cli(
        "audit", f"c={corpus}", *FAST, "--compare", "niqe,vmaf_neg", "--compare-all", "--out", out
    )
    assert result.returncode == 0, result.stderr
    assert "c: comparisons" in [
        m["message"] for m in map(PROGRESS.match, result.stderr.splitlines()) if m
    ]
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    found = report["comparisons"]["c"]
    signals = list(report["corpora"]["c"]["signals"])
    k = len(signals)
    assert len(found["pairs"]) == k * (k - 1) // 2
    assert found["matrix"]["signals"] == signals
    first = found["pairs"][0]
    assert (first["a"], first["b"]) == ("niqe", "vmaf_neg")
    lines = result.stdout.splitlines()
    title = lines.index("c: comparisons")
    rows = [_cells(line) for line in lines[title:] if line.startswith("│")]
    srcc = first["delta_srcc"]
    low, high = srcc["interval"]
    assert rows[0][:5] == [
        "niqe vs vmaf_neg",
        str(first["n"]),
        f"{_f(srcc['median'])} [{_f(low, 3)}, {_f(high, 3)}]",
        f"{srcc['wins']:.2f}",
        f"{srcc['wilcoxon_p']:.2e}" if srcc["wilcoxon_p"] < 1e-3 else f"{srcc['wilcoxon_p']:.3f}",
    ]
    assert len(rows) == len(found["pairs"])
    markdown = (out / "audit.md").read_text(encoding="utf-8")
    assert "### Comparisons" in markdown
    assert "| row − column | " + " | ".join(signals) + " |" in markdown


def test_audit_of_two_corpora_prints_the_summary_across_corpora(
    corpus: Path, tmp_path: Path
) -> None:
    other = write_corpus(tmp_path / "other.csv", corpus_columns(40, seed=8, niqe=None))
    out = tmp_path / "report"
    result = run_cli("audit", f"c={corpus}", f"d={other}", *FAST, "--out", out)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    summary = report["summary"]
    assert summary["corpora"] == ["c", "d"]
    lines = result.stdout.splitlines()
    for metric in ("srcc", "plcc"):
        title = lines.index(f"across corpora, {metric.upper()}: median (std) over splits")
        assert _cells(lines[title + 2]) == ["signal", "c", "d"]
        rows = {}
        for line in lines[title + 4 :]:
            if not line.startswith("│"):
                break
            rows[_cells(line)[0]] = _cells(line)[1:]
        assert list(rows) == list(summary["signals"])
        for name, cells in rows.items():
            expected = [
                "—" if cell is None else f"{_f(cell[metric]['median'])} ({_f(cell[metric]['std'])})"
                for cell in summary["signals"][name].values()
            ]
            assert cells == expected, name
    assert rows["niqe"][1] == "—"  # d has no niqe
    markdown = (out / "audit.md").read_text(encoding="utf-8")
    assert "## Summary across corpora" in markdown


def test_audit_json_prints_the_written_report(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    fast = ("--splits", "3", "--bootstrap", "0", "--model", "ridge")
    result = run_cli("audit", corpus, *fast, "--no-plots", "--json", "--out", out)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)  # stdout is the JSON document and nothing else
    assert printed == json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert list(printed["corpora"]) == ["corpus"]  # named after the file stem
    assert printed["gain"] == {}  # no --baseline
    assert printed["cross_corpus"] == {}  # one corpus
    assert printed["protocol"]["bootstrap"] == 0
    for signal in printed["corpora"]["corpus"]["signals"].values():
        assert signal["full"]["srcc_ci"] is None  # no bootstrap, no interval
        assert signal["full"]["plcc_ci"] is None
    assert "<img" not in (out / "audit.html").read_text(encoding="utf-8")
    assert all(PROGRESS.fullmatch(line) for line in result.stderr.splitlines())


def _table(folder: Path, n: int = 30, nan_mos: int = 0, **renames: str) -> Path:
    columns = corpus_columns(n, seed=9, brisque=None, niqe=None, nan_mos=nan_mos)
    for old, new in renames.items():
        columns[new] = columns.pop(old)
    return write_corpus(folder / "bad.csv", columns)


@pytest.mark.parametrize(
    ("case", "args", "message"),
    [
        pytest.param(
            "mos",
            (),
            r"error: {table}: no MOS column 'mos' \(did you mean 'MOS'\?\); "
            r"numeric columns: vmaf, vmaf_neg, psnr_y, vmaf_copy, MOS\. "
            r"Pass the MOS column with --mos\.",
            id="no-mos-column",
        ),
        pytest.param(
            "ok",
            ("--signal", "x=vmaf,nomatch_*"),
            r"error: {table}: --signal x=vmaf,nomatch_\* — 'nomatch_\*' matches no numeric "
            r"column \(numeric columns: vmaf, vmaf_neg, psnr_y, vmaf_copy\); fix the pattern",
            id="glob-matches-nothing",
        ),
        pytest.param(
            "small",
            (),
            r"error: {table}: only 9 rows have a 'mos' value \(of 14\); the audit needs at "
            r"least 10\. Pass a larger corpus table\.",
            id="fewer-than-10-rows",
        ),
        pytest.param(
            "ok",
            ("--model", "forest"),
            r"error: invalid audit options:\n  model: Input should be 'svr' or 'ridge' "
            r"\(got 'forest'\)",
            id="bad-model",
        ),
        pytest.param(
            "ok",
            ("--min-finite-ratio", "2"),
            r"error: invalid audit options:\n  min_finite_ratio: Input should be less than or "
            r"equal to 1 \(got 2\.0\)",
            id="bad-min-finite-ratio",
        ),
        pytest.param(
            "ok",
            ("--signal", "brisque"),
            r"error: --signal 'brisque': expected NAME=GLOB\[,GLOB\.\.\.\], "
            r"e\.g\. brisque='so_brisque_\*'",
            id="bad-signal-syntax",
        ),
        pytest.param(
            "ok",
            ("--compare", "vmaf"),
            r"error: invalid audit options:\n  compare: 'vmaf': expected two signal names as A,B",
            id="bad-compare-syntax",
        ),
        pytest.param(
            "ok",
            ("--compare", "vmaf,nope"),
            r"error: compare vmaf,nope: no corpus has a signal named 'nope' "
            r"\(signals: psnr_y, vmaf, vmaf_copy, vmaf_neg\)",
            id="compare-unknown-signal",
        ),
    ],
)
def test_audit_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, case: str, args: tuple[str, ...], message: str
) -> None:
    if case == "mos":
        table = _table(tmp_path, mos="MOS")
    elif case == "small":
        table = _table(tmp_path, n=14, nan_mos=5)  # 9 rows with a MOS
    else:
        table = _table(tmp_path)
    out = tmp_path / "report"
    result = run_cli("audit", table, *FAST, *args, "--out", out)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert re.fullmatch(message.format(table=re.escape(str(table))) + r"\n", result.stderr), (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not out.exists()
