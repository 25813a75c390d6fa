"""`second-opinion join` through its real entry points: exit codes, messages, files, JSON.

Every test runs the command in a subprocess (``python -m second_opinion`` or the installed
``second-opinion`` script), as a user would.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shlex
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from tests._tables import read_rows, same_value, write_table
from tests.cli._run import run_cli

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = (str(Path(sys.executable).parent / "second-opinion"),)

REPORT_KEYS = ["ok", "output", "rows", "columns", "coverage", "warnings"]
FAILURE_KEYS = ["ok", "error", "coverage"]
COVERAGE_KEYS = [
    "scorer",
    "path",
    "base_rows",
    "sidecar_rows",
    "sidecar_keys",
    "matched",
    "missing",
    "extra",
    "duplicate_keys",
    "nulls",
    "non_finite",
    "coverage",
    "unmatched_base",
    "unmatched_sidecar",
    "per_frame",
    "higher_is_better",
    "diagnosis",
]
BASE_COLUMNS = ["clip_id", "mos", "vmaf"]


run = run_cli


@dataclass(frozen=True)
class Corpus:
    """A four-clip base table and sidecars of every kind, in ``folder``."""

    folder: Path
    base: Path
    niqe: Path  # per clip, keyed by file path in 'video'; lacks d, has an extra x
    dover: Path  # per frame (CSV); lacks d
    fast: Path  # per frame (Parquet); every clip
    vmaf2: Path  # per clip (Parquet), keyed by clip_id; every clip
    out: Path

    def files(self) -> dict[str, bytes | None]:
        """Every entry of the folder with its content (None for a folder)."""
        return {p.name: p.read_bytes() if p.is_file() else None for p in self.folder.iterdir()}


DOVER_TECHNICAL = {"a": [0.2, 0.4, 0.6], "b": [0.5], "c": [0.1, 0.3]}
FAST_T = {"a": [1.0, 3.0], "b": [2.0], "c": [4.0, 6.0], "d": [5.0]}


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    base = write_table(
        tmp_path / "base.csv",
        [
            {"clip_id": "a", "mos": 4.0, "vmaf": 90.0},
            {"clip_id": "b", "mos": 3.0, "vmaf": 70.0},
            {"clip_id": "c", "mos": 2.5, "vmaf": 50.0},
            {"clip_id": "d", "mos": 1.0, "vmaf": 30.0},
        ],
    )
    niqe = write_table(
        tmp_path / "niqe.jsonl",
        [
            {"video": "/data/konvid/a.mp4", "score": 5.0},
            {"video": "/data/konvid/b.mp4", "score": 6.0},
            {"video": "/data/konvid/c.mp4", "score": 8.0},
            {"video": "/data/konvid/x.mp4", "score": 7.0},
        ],
    )
    dover = write_table(
        tmp_path / "dover.csv",
        [
            {"clip_id": clip, "frame": i, "technical": value, "aesthetic": 0.5}
            for clip, values in DOVER_TECHNICAL.items()
            for i, value in enumerate(values)
        ],
    )
    fast = write_table(
        tmp_path / "fast.parquet",
        [
            {"clip_id": clip, "frame": i, "t": value}
            for clip, values in FAST_T.items()
            for i, value in enumerate(values)
        ],
    )
    vmaf2 = write_table(
        tmp_path / "vmaf2.parquet",
        [
            {"clip_id": clip, "s1": 10.0 * n, "s2": -1.0, "s3": 100.0 + n}
            for n, clip in enumerate("abcd", start=1)
        ],
    )
    return Corpus(tmp_path, base, niqe, dover, fast, vmaf2, tmp_path / "out.csv")


def niqe_args(c: Corpus) -> list[str]:
    """The NIQE sidecar with its path keys mapped and normalised, scoped to it."""
    return [
        "-s",
        f"niqe={c.niqe}",
        "--key-map",
        "niqe:video=clip_id",
        "--normalize-keys",
        "niqe:basename,stem",
    ]


def column(rows: list[dict[str, Any]], name: str) -> list[Any]:
    return [row[name] for row in rows]


def assert_close(actual: Sequence[Any], expected: Sequence[Any]) -> None:
    assert len(actual) == len(expected), (actual, expected)
    for got, want in zip(actual, expected, strict=True):
        assert same_value(got, want), (actual, expected)


# --- the entry points -----------------------------------------------------------------------


def _readme_example() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```console\n", 1)[1].split("```", 1)[0]
    argv = shlex.split(block.replace("\\\n", " "))
    assert argv[:3] == ["$", "second-opinion", "join"]
    return argv[2:]


def test_readme_example_runs_from_the_repository_root(tmp_path: Path) -> None:
    args = _readme_example()
    out = tmp_path / "example.csv"
    args[args.index("-o") + 1] = str(out)
    result = run(*args, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = read_rows(out)
    assert len(rows) == 6
    with (ROOT / "examples" / "join" / "features.csv").open(encoding="utf-8") as handle:
        clips = [row["clip_id"] for row in csv.DictReader(handle)]
    assert [str(r["clip_id"]) for r in rows] == clips  # every base row, in base order
    assert list(rows[0]) == [
        "clip_id",
        "mos",
        "vmaf",
        "adm2",
        "motion2",
        "so_niqe_score",
        "so_dover_technical_mean",
        "so_dover_technical_p5",
        "so_dover_aesthetic_mean",
        "so_dover_aesthetic_p5",
        "so_dover_n_frames",
    ]
    assert sum(r["so_niqe_score"] is not None for r in rows) == 5
    assert sorted(r["so_dover_n_frames"] or 0 for r in rows) == [0, 8, 8, 8, 8, 8]
    assert f"wrote 6 rows x 11 columns to {out}" in result.stdout


def test_console_script_joins_and_prints_the_json_report(corpus: Corpus) -> None:
    out = corpus.folder / "out.jsonl"
    result = run(
        "join",
        "--features",
        corpus.base,
        "--key",
        "clip_id",
        *niqe_args(corpus),
        "--sidecar",
        f"dover={corpus.dover}",
        "--frame-column",
        "dover:frame",
        "--lower-is-better",
        "niqe",
        "--json",
        "--output",
        out,
        program=CONSOLE_SCRIPT,
    )
    assert result.returncode == 0, result.stderr
    nothing = "no key normalisation or other key column would match more"
    warnings = [
        f"niqe: 3 of 4 base keys matched (75.00 %); {nothing}",
        f"dover: 3 of 4 base keys matched (75.00 %); {nothing}",
    ]
    assert result.stderr == "".join(f"warning: {w}\n" for w in warnings)  # coverage below 100 %
    report = json.loads(result.stdout)  # stdout is the JSON document and nothing else
    assert list(report) == REPORT_KEYS
    columns = [
        *BASE_COLUMNS,
        "so_niqe_score",
        "so_dover_technical_mean",
        "so_dover_aesthetic_mean",
        "so_dover_n_frames",
    ]
    assert report["ok"] is True
    assert report["output"] == str(out)
    assert report["rows"] == 4
    assert report["columns"] == columns
    niqe, dover = report["coverage"]
    assert [list(niqe), list(dover)] == [COVERAGE_KEYS, COVERAGE_KEYS]
    assert niqe == {
        "scorer": "niqe",
        "path": str(corpus.niqe),
        "base_rows": 4,
        "sidecar_rows": 4,
        "sidecar_keys": 4,
        "matched": 3,
        "missing": 1,
        "extra": 1,
        "duplicate_keys": 0,
        "nulls": {"so_niqe_score": 0},
        "non_finite": {"score": 0},
        "coverage": 0.75,
        "unmatched_base": [{"key": ["d"], "closest": niqe["unmatched_base"][0]["closest"]}],
        "unmatched_sidecar": [{"key": ["/data/konvid/x.mp4"], "closest": ["a"]}],
        "per_frame": None,
        "higher_is_better": False,
        "diagnosis": [],
    }
    assert report["warnings"] == warnings
    assert (dover["scorer"], dover["sidecar_rows"], dover["sidecar_keys"]) == ("dover", 6, 3)
    assert (dover["matched"], dover["missing"], dover["extra"]) == (3, 1, 0)
    assert (dover["per_frame"], dover["higher_is_better"]) == ({"column": "frame"}, True)
    assert dover["unmatched_base"][0]["key"] == ["d"]
    rows = read_rows(out)
    assert list(rows[0]) == columns
    assert column(rows, "clip_id") == ["a", "b", "c", "d"]
    assert column(rows, "so_niqe_score") == [5.0, 6.0, 8.0, None]
    assert_close(column(rows, "so_dover_technical_mean"), [0.4, 0.5, 0.2, None])
    assert column(rows, "so_dover_n_frames") == [3, 1, 2, None]


def test_version_is_printed_by_python_dash_m() -> None:
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"second-opinion {version('second-opinion')}\n"


def test_join_help_lists_every_option() -> None:
    result = run("join", "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: second-opinion join" in result.stdout
    for option in (
        "--features",
        "-f",
        "--sidecar",
        "-s",
        "--key",
        "-k",
        "--output",
        "-o",
        "--key-map",
        "--normalize-keys",
        "--frame-column",
        "--pool",
        "--columns",
        "--prefix",
        "--on-missing",
        "--min-coverage",
        "--on-duplicate",
        "--lower-is-better",
        "--derived",
        "--json",
    ):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", result.stdout), option


# --- policy failures: exit 1, nothing written -----------------------------------------------


def test_coverage_below_min_coverage_exits_1_prints_coverage_and_keeps_the_old_output(
    corpus: Corpus,
) -> None:
    corpus.out.write_text("previous result\n", encoding="utf-8")
    before = corpus.files()
    result = run(
        "join",
        "-f",
        corpus.base,
        "-k",
        "clip_id",
        *niqe_args(corpus),
        "-s",
        f"vmaf2={corpus.vmaf2}",
        "--min-coverage",
        "0.9",
        "-o",
        corpus.out,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        "error: join policy failed:\n  niqe: coverage 0.7500 (3/4) is below the minimum 0.9 "
        "(--min-coverage niqe:0.9)\n"
    )
    assert re.search(r"niqe\s.*3/4\s.*75\.00 %", result.stdout)  # the coverage table
    assert re.search(r"vmaf2\s.*4/4\s.*100\.00 %", result.stdout)
    assert "wrote" not in result.stdout
    assert corpus.files() == before


def test_on_missing_error_with_json_reports_ok_false_the_error_and_coverage(
    corpus: Corpus,
) -> None:
    result = run(
        "join",
        "-f",
        corpus.base,
        "-k",
        "clip_id",
        *niqe_args(corpus),
        "-s",
        f"fast={corpus.fast}",
        "--frame-column",
        "fast:frame",
        "--on-missing",
        "error",
        "--json",
        "-o",
        corpus.out,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == FAILURE_KEYS
    assert report["ok"] is False
    expected = (
        "join policy failed:\n  niqe: 1 base key(s) have no sidecar row "
        "(--on-missing niqe:error), e.g. 'd'"
    )
    assert report["error"] == expected
    assert [c["scorer"] for c in report["coverage"]] == ["niqe", "fast"]
    assert [list(c) for c in report["coverage"]] == [COVERAGE_KEYS, COVERAGE_KEYS]
    assert [c["missing"] for c in report["coverage"]] == [1, 0]
    assert result.stderr == f"error: {expected}\n"
    assert not corpus.out.exists()


# --- bad usage and invalid input: exit 2, nothing written -----------------------------------

Args = Callable[[Corpus], list[str]]


def _bad_scores(c: Corpus) -> list[str]:
    bad = c.folder / "bad.jsonl"
    bad.write_text('{"clip_id": "a", "s": 1}\n\n{"clip_id": "b", "s": "high"}\n', encoding="utf-8")
    return ["-f", str(c.base), "-k", "clip_id", "-s", f"bad={bad}", "--columns", "bad:s", *_out(c)]


def _duplicates(c: Corpus) -> list[str]:
    dup = write_table(
        c.folder / "dup.csv", [{"clip_id": "a", "s": 1}, {"clip_id": "a", "s": 3}, {"clip_id": "b"}]
    )
    return ["-f", str(c.base), "-k", "clip_id", "-s", f"dup={dup}", *_out(c)]


def _vmaf2(c: Corpus, *more: str) -> list[str]:
    return ["-f", str(c.base), "-k", "clip_id", "-s", f"vmaf2={c.vmaf2}", *more]


def _out(c: Corpus) -> list[str]:
    return ["-o", str(c.out)]


USAGE_ERRORS: list[tuple[str, Args, str]] = [
    ("unknown option", lambda c: [*_vmaf2(c, "--bogus"), *_out(c)], r"No such option: --bogus"),
    (
        "missing --output",
        _vmaf2,
        r"Missing option '--output'",
    ),
    (
        "sidecar without SCORER=",
        lambda c: ["-f", str(c.base), "-k", "clip_id", "-s", str(c.vmaf2), *_out(c)],
        (
            r"^error: --sidecar '.*vmaf2\.parquet': expected SCORER=PATH, "
            r"e\.g\. --sidecar niqe=niqe\.jsonl$"
        ),
    ),
    (
        "sidecar scorer given twice",
        lambda c: [*_vmaf2(c), "-s", f"vmaf2={c.fast}", *_out(c)],
        r"^error: --sidecar: scorer 'vmaf2' given twice; give each sidecar its own name$",
    ),
    (
        "scorer that is not a slug",
        lambda c: ["-f", str(c.base), "-k", "clip_id", "-s", f"VMAF={c.vmaf2}", *_out(c)],
        r"scorer 'VMAF' is not a slug; use lower-case letters, digits, '_' and '-'",
    ),
    (
        "missing base key column",
        lambda c: ["-f", str(c.base), "-k", "clip", "-s", f"vmaf2={c.vmaf2}", *_out(c)],
        (
            r"^error: .*base\.csv: key column 'clip' not found \(columns: clip_id, mos, vmaf\); "
            r"fix --key$"
        ),
    ),
    (
        "missing sidecar key column",
        lambda c: ["-f", str(c.base), "-k", "clip_id", "-s", f"niqe={c.niqe}", *_out(c)],
        (
            r"^error: .*niqe\.jsonl: key column 'clip_id' not found \(columns: video, score\); "
            r"map the sidecar's key column to 'clip_id' with --key-map niqe:COLUMN=clip_id$"
        ),
    ),
    (
        "non-numeric score",
        _bad_scores,
        r"^error: .*bad\.jsonl line 3: column 's' has 'high', which is not a number",
    ),
    (
        "duplicate sidecar keys",
        _duplicates,
        (
            r"^error: .*dup\.csv: 1 duplicate key\(s\) \('a' x2\); "
            r"keep one row per key with --on-duplicate dup:first \(or last, or mean\), or fix the "
            r"sidecar; if the rows are frames, name the column that numbers them with "
            r"--frame-column dup:COLUMN$"
        ),
    ),
    (
        "output that is an input",
        lambda c: [*_vmaf2(c), "-o", str(c.vmaf2)],
        r"^error: .*vmaf2\.parquet: the output is also an input; write to another file$",
    ),
    (
        "output suffix not supported",
        lambda c: [*_vmaf2(c), "-o", str(c.folder / "out.xlsx")],
        r"^error: .*out\.xlsx: cannot write \.xlsx; name the output with one of \.jsonl, ",
    ),
    (
        "output folder missing",
        lambda c: [*_vmaf2(c), "-o", str(c.folder / "new" / "out.csv")],
        r"^error: .*out\.csv: the folder .*new does not exist; create it first$",
    ),
    (
        "missing features file",
        lambda c: [
            *("-f", str(c.folder / "nope.csv"), "-k", "clip_id", "-s", f"v={c.vmaf2}"),
            *_out(c),
        ],
        r"^error: .*nope\.csv: no such file$",
    ),
    (
        "--lower-is-better names no sidecar",
        lambda c: [*_vmaf2(c, "--lower-is-better", "brisque"), *_out(c)],
        r"^error: --lower-is-better 'brisque': not a sidecar \(sidecars: vmaf2\)$",
    ),
    (
        "bad --key-map",
        lambda c: [*_vmaf2(c, "--key-map", "video"), *_out(c)],
        r"^error: --key-map 'video': expected \[SCORER:\]SIDE=BASE",
    ),
    (
        "--columns for an unknown scorer",
        lambda c: [*_vmaf2(c, "--columns", "niqe:s1"), *_out(c)],
        r"^error: --columns 'niqe:s1': 'niqe' is not a sidecar \(sidecars: vmaf2\)$",
    ),
    (
        "unknown --on-missing",
        lambda c: [*_vmaf2(c, "--on-missing", "maybe"), *_out(c)],
        (
            r"^  --on-missing vmaf2: Input should be 'null', 'drop', 'error' or 'mark' "
            r"\(got 'maybe'\)$"
        ),
    ),
    (
        "--min-coverage not a number",
        lambda c: [*_vmaf2(c, "--min-coverage", "most"), *_out(c)],
        r"^error: --min-coverage 'most': expected a number between 0 and 1$",
    ),
    (
        "--min-coverage above 1",
        lambda c: [*_vmaf2(c, "--min-coverage", "vmaf2:1.5"), *_out(c)],
        r"^  --min-coverage vmaf2: Input should be less than or equal to 1 \(got 1.5\)$",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"),
    [pytest.param(args, message, id=case) for case, args, message in USAGE_ERRORS],
)
def test_bad_usage_or_invalid_input_exits_2_with_a_message_and_writes_nothing(
    corpus: Corpus, args: Args, message: str
) -> None:
    argv = args(corpus)
    before = corpus.files()
    result = run("join", *argv)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert re.search(message, result.stderr, re.MULTILINE), result.stderr
    assert "Traceback" not in result.stderr
    assert corpus.files() == before  # nothing written, no temporary file, no folder


# --- per-sidecar (scoped) options -----------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def test_scoped_pool_wins_and_unscoped_pool_applies_to_every_per_frame_sidecar(
    corpus: Corpus,
) -> None:
    out = corpus.folder / "out.parquet"
    result = run(
        "join",
        "-f",
        corpus.base,
        "-k",
        "clip_id",
        "-s",
        f"dover={corpus.dover}",
        "-s",
        f"fast={corpus.fast}",
        "--frame-column",
        "frame",
        "--pool",
        "dover:mean,p5",  # the scoped value wins, whatever the order
        "--pool",
        "mean",
        "--columns",
        "dover:technical",
        "-o",
        out,
    )
    assert result.returncode == 0, result.stderr
    rows = read_rows(out)
    assert list(rows[0]) == [
        *BASE_COLUMNS,
        "so_dover_technical_mean",
        "so_dover_technical_p5",
        "so_dover_n_frames",
        "so_fast_t_mean",
        "so_fast_n_frames",
    ]
    technical = [DOVER_TECHNICAL[c] for c in "abc"]
    assert_close(
        column(rows, "so_dover_technical_p5"), [*(_percentile(v, 0.05) for v in technical), None]
    )
    assert_close(
        column(rows, "so_dover_technical_mean"), [*(statistics.fmean(v) for v in technical), None]
    )
    assert_close(column(rows, "so_fast_t_mean"), [statistics.fmean(FAST_T[c]) for c in "abcd"])
    assert column(rows, "so_fast_n_frames") == [2, 1, 2, 1]


def test_columns_and_prefix_choose_and_rename_one_sidecars_columns(corpus: Corpus) -> None:
    result = run(
        "join",
        "-f",
        corpus.base,
        "-k",
        "clip_id",
        "-s",
        f"vmaf2={corpus.vmaf2}",
        "-s",
        f"fast={corpus.fast}",
        "--frame-column",
        "fast:frame",
        "--columns",
        "vmaf2:s3,s1",
        "--prefix",
        "vmaf2:v2_",
        "-o",
        corpus.out,
    )
    assert result.returncode == 0, result.stderr
    rows = read_rows(corpus.out)
    assert list(rows[0]) == [*BASE_COLUMNS, "v2_s3", "v2_s1", "so_fast_t_mean", "so_fast_n_frames"]
    assert column(rows, "v2_s3") == [101.0, 102.0, 103.0, 104.0]
    assert column(rows, "v2_s1") == [10.0, 20.0, 30.0, 40.0]
    assert f"wrote 4 rows x 7 columns to {corpus.out}" in result.stdout


def test_on_duplicate_scoped_and_unscoped(corpus: Corpus) -> None:
    dup = write_table(
        corpus.folder / "dup.csv",
        [{"clip_id": "a", "s": 1.0}, {"clip_id": "b", "s": 2.0}, {"clip_id": "a", "s": 3.0}],
    )
    result = run(
        "join",
        "-f",
        corpus.base,
        "-k",
        "clip_id",
        "-s",
        f"last={dup}",
        "-s",
        f"avg={dup}",
        "--on-duplicate",
        "last:last",
        "--on-duplicate",
        "mean",
        "--json",
        "-o",
        corpus.out,
    )
    assert result.returncode == 0, result.stderr
    rows = read_rows(corpus.out)
    assert column(rows, "so_last_s") == [3.0, 2.0, None, None]
    assert column(rows, "so_avg_s") == [2.0, 2.0, None, None]
    coverage = json.loads(result.stdout)["coverage"]
    assert [(c["sidecar_rows"], c["sidecar_keys"], c["duplicate_keys"]) for c in coverage] == [
        (3, 2, 1),
        (3, 2, 1),
    ]


def _zscores(values: list[float]) -> list[float]:
    mean, std = statistics.fmean(values), statistics.pstdev(values)
    return [(v - mean) / std for v in values]


def test_lower_is_better_and_derived_features(corpus: Corpus) -> None:
    niqe = write_table(
        corpus.folder / "niqe.csv",
        [{"clip_id": c, "score": s} for c, s in zip("abcd", [5.0, 6.0, 8.0, 7.0], strict=True)],
    )
    result = run(
        "join",
        "-f",
        corpus.base,
        "-k",
        "clip_id",
        "-s",
        f"niqe={niqe}",
        "-s",
        f"vmaf2={corpus.vmaf2}",
        "--columns",
        "vmaf2:s1",
        "--lower-is-better",
        "niqe",
        "--derived",
        "zscore,rank,delta:mos",
        "--json",
        "-o",
        corpus.out,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [c["higher_is_better"] for c in report["coverage"]] == [False, True]
    derived = ["zscore", "rank", "delta_mos"]
    assert report["columns"] == [
        *BASE_COLUMNS,
        "so_niqe_score",
        *(f"so_niqe_score_{d}" for d in derived),
        "so_vmaf2_s1",
        *(f"so_vmaf2_s1_{d}" for d in derived),
    ]
    rows = read_rows(corpus.out)
    z_mos = _zscores([4.0, 3.0, 2.5, 1.0])
    z_niqe = _zscores([5.0, 6.0, 8.0, 7.0])
    z_s1 = _zscores([10.0, 20.0, 30.0, 40.0])
    assert_close(column(rows, "so_niqe_score_zscore"), z_niqe)
    assert_close(column(rows, "so_niqe_score_rank"), [0.0, 1 / 3, 1.0, 2 / 3])
    # lower is better: NIQE's z-score is negated before the base column's is subtracted
    assert_close(
        column(rows, "so_niqe_score_delta_mos"),
        [-n - m for n, m in zip(z_niqe, z_mos, strict=True)],
    )
    assert_close(column(rows, "so_vmaf2_s1_rank"), [0.0, 1 / 3, 2 / 3, 1.0])
    assert_close(
        column(rows, "so_vmaf2_s1_delta_mos"), [s - m for s, m in zip(z_s1, z_mos, strict=True)]
    )


# --- robustness -----------------------------------------------------------------------------


def _join_one(tmp_path: Path, base_csv: str) -> list[dict[str, Any]]:
    base = tmp_path / "base.csv"
    base.write_text(base_csv, encoding="utf-8")
    side = write_table(tmp_path / "s.csv", [{"clip_id": "a", "s": 1.0}, {"clip_id": "b", "s": 2.0}])
    out = tmp_path / "out.jsonl"
    result = run("join", "-f", base, "-k", "clip_id", "-s", f"x={side}", "-o", out)
    assert result.returncode == 0, result.stderr
    return read_rows(out)


def test_a_base_column_named_rowid_does_not_reorder_the_rows(tmp_path: Path) -> None:
    # A corpus exported from SQLite may well have a 'rowid' column; base order must still hold.
    rows = _join_one(tmp_path, "clip_id,rowid,mos\nb,z,1\na,y,2\n")
    assert rows == [
        {"clip_id": "b", "rowid": "z", "mos": 1, "so_x_s": 2.0},
        {"clip_id": "a", "rowid": "y", "mos": 2, "so_x_s": 1.0},
    ]


def test_a_base_column_named_like_an_internal_column_keeps_its_values(tmp_path: Path) -> None:
    rows = _join_one(tmp_path, "clip_id,__so_row,mos\nb,q,1\na,p,2\n")
    assert rows == [
        {"clip_id": "b", "__so_row": "q", "mos": 1, "so_x_s": 2.0},
        {"clip_id": "a", "__so_row": "p", "mos": 2, "so_x_s": 1.0},
    ]


def test_an_unexpected_error_exits_3_not_1(corpus: Corpus) -> None:
    # Exit code 1 means "a policy failed"; a crash must not be mistaken for one.
    script = (
        "import sys\n"
        "from second_opinion.join import run\n"
        "def boom(*args, **kwargs):\n"
        "    raise RuntimeError('boom: an unexpected failure')\n"
        "run.join_to_file = boom\n"
        "from second_opinion.cli.main import main\n"
        "main(sys.argv[1:])\n"
    )
    result = run(
        "join",
        "-f",
        corpus.base,
        "-k",
        "clip_id",
        "-s",
        f"vmaf2={corpus.vmaf2}",
        "-o",
        corpus.out,
        program=(sys.executable, "-c", script),
    )
    assert result.returncode == 3, result.stderr
    assert "boom: an unexpected failure" in result.stderr
    assert not corpus.out.exists()


def test_wrapper_records_through_the_cli_with_mark_and_json_output(tmp_path: Path) -> None:
    base = tmp_path / "base.csv"
    base.write_text("clip_path,mos\n/d/a.mp4,1\n/d/b.mp4,2\n", encoding="utf-8")
    scores = tmp_path / "scores.jsonl"
    scores.write_text(
        '{"competitor": "fork-nr", "path": " /x/a.mp4 ", "score": 1.5, "status": "FAILED"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.json"
    argv = [
        "join",
        "-f",
        str(base),
        "-k",
        "clip_path",
        "-s",
        f"fork-nr={scores}",
        "--records",
        "wrapper",
        "--normalize-keys",
        "strip,auto",
        "--on-missing",
        "mark",
        "--prefix",
        "fork-nr:second_opinion_{scorer}_",
        "-o",
        str(out),
        "--json",
    ]
    result = run(*argv)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["coverage"][0]["scorer"] == "fork-nr"
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert [
        (r["second_opinion_fork_nr_score"], r["second_opinion_fork_nr_status"]) for r in rows
    ] == [
        (1.5, "bad"),
        (None, "missing"),
    ]


def test_no_scorer_fallback_names_an_unknown_sidecar(tmp_path: Path) -> None:
    result = run(
        "join",
        "-f",
        "b.csv",
        "-k",
        "k",
        "-s",
        "x=s.jsonl",
        "--no-scorer-fallback",
        "y",
        "-o",
        str(tmp_path / "o.csv"),
    )
    assert result.returncode == 2
    assert "--no-scorer-fallback 'y': not a sidecar (sidecars: x)" in result.stderr


def test_keys_print_as_written_never_as_emoji_or_markup(tmp_path: Path) -> None:
    """rich turned ``:smile:`` into an emoji even with markup off; warnings, errors and the
    coverage lines now print every key as it is written."""
    base = write_table(
        tmp_path / "base.csv",
        [{"clip_id": ":smile:", "mos": 1.0}, {"clip_id": "[bold]b[/bold]", "mos": 2.0}],
    )
    side = write_table(tmp_path / "s.csv", [{"clip_id": "[bold]b[/bold]", "s": 1.0}])
    out = tmp_path / "out.jsonl"
    human = run("join", "-f", base, "-k", "clip_id", "-s", f"x={side}", "-o", out)
    assert human.returncode == 0, human.stderr
    assert "x: 1 of 2 base keys matched (50.00 %)" in human.stderr
    assert "base key without a sidecar row ':smile:'" in human.stdout
    assert "\N{SMILING FACE WITH OPEN MOUTH AND SMILING EYES}" not in human.stdout + human.stderr
    as_json = run("join", "-f", base, "-k", "clip_id", "-s", f"x={side}", "-o", out, "--json")
    report = json.loads(as_json.stdout)
    assert report["coverage"][0]["unmatched_base"][0]["key"] == [":smile:"]
    assert "\N{SMILING FACE WITH OPEN MOUTH AND SMILING EYES}" not in as_json.stderr


def test_provenance_writes_a_record_that_inspect_checks(corpus: Corpus) -> None:
    args: list[str | Path] = [
        "join",
        "-f",
        corpus.base,
        "-k",
        "clip_id",
        "-s",
        f"vmaf2={corpus.vmaf2}",
    ]
    result = run(*args, *niqe_args(corpus), "-o", corpus.out, "--provenance", "--json")
    assert result.returncode == 0, result.stderr
    record_path = corpus.folder / "out.csv.provenance.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record["output"]["sha256"] == hashlib.sha256(corpus.out.read_bytes()).hexdigest()
    assert record["output"]["rows"] == json.loads(result.stdout)["rows"] == 4
    hashed = {i["path"]: i["sha256"] for i in record["inputs"]}
    assert hashed == {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (corpus.base, corpus.vmaf2, corpus.niqe)
    }
    assert [c["scorer"] for c in record["coverage"]] == ["vmaf2", "niqe"]
    checked = run("inspect", corpus.out, "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["matches"] is True
    corpus.out.write_text("edited\n", encoding="utf-8")
    assert run("inspect", corpus.out).returncode == 1


def test_provenance_of_a_failed_join_leaves_neither_output_nor_record(corpus: Corpus) -> None:
    before = corpus.files()
    result = run(
        "join", "-f", corpus.base, "-k", "clip_id", *niqe_args(corpus), "-o", corpus.out,
        "--min-coverage", "1.0", "--provenance",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "niqe" in result.stderr
    assert corpus.files() == before  # no output, no record, no staged file left
