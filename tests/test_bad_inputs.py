"""The bad-input corpus (tests/bad_inputs/): every malformed file and the error it gets.

Each case is a file under ``tests/bad_inputs/manifests/`` (checked with ``second-opinion validate``)
or ``tests/bad_inputs/tables/`` (joined with ``second-opinion join``, as the sidecar of a small
valid base table, or, for ``base_*`` files, as the base table itself). The case is copied into
``tmp_path`` (the originals are never handed to the tool) and run through the CLI's entry point,
``second_opinion.cli.main``, in-process; a few cases also run as ``python -m second_opinion``
subprocesses to show the two agree, and the 1 GiB single-line cases, generated here and never
committed, always do, so their peak memory can be measured. They run in the normal suite (about
8 s and 2 GiB of disk and memory for a moment); ``-k "not 1gib"`` leaves them out.

Every case must give a *clean* error: exit status 2, ``error: …`` on stderr with no traceback and
no "internal error", nothing on stdout, no output file (nor any other file) left behind, inputs
untouched, and a message naming the file. ``CASES`` adds, per case, what the message must also
say — the line, row or field, the bad value, the fix — and the whole message is then compared
with its golden file ``tests/bad_inputs/expected/<case file name>.txt``: ``exit 2`` on the first
line, then stderr, with the copied corpus folder written as ``<DIR>``.

Cases whose current message falls short are strict xfails: the reason says what is wrong, the
``has``/``like``/``lacks`` checks say what a good message holds, and there is no golden file
(a wrong message is not worth pinning). When the tool is fixed the test XPASSes, which fails:
remove the ``xfail``, regenerate the golden file and review it.

Regenerate golden files with ``SECOND_OPINION_REGEN_GOLDEN=1 pytest tests/test_bad_inputs.py``,
then read every changed one (``git diff tests/bad_inputs/expected``) before committing it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from second_opinion.cli.main import main
from tests.cli._run import ENV, PYTHON_M, run_cli

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
EXPECTED = CORPUS / "expected"
# Files every case of a folder may use: a manifest's tables, a table case's valid partner.
COMPANIONS = {"manifests": "data", "tables": "good"}
GOOD_BASE = "tables/good/base.csv"
GOOD_SIDECAR = "tables/good/side.csv"
OUTPUT = "joined.csv"  # the join's output, directly in <DIR>: it must never appear
PLACEHOLDER = "<DIR>"
REGEN = os.environ.get("SECOND_OPINION_REGEN_GOLDEN") == "1"
EXIT_INPUT = 2


# --- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One malformed input and what its error message must say.

    ``has``: substrings of the message (``<DIR>`` for the corpus folder); ``like``: regular
    expressions it must match; ``lacks``: substrings it must not hold. ``xfail``: why the current
    message is not good enough (the checks above then describe the good one).
    """

    file: str  # relative to tests/bad_inputs: "manifests/x.json" or "tables/x.csv"
    why: str  # what is malformed
    has: tuple[str, ...] = ()
    like: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # extra options of `join`
    xfail: str | None = None

    @property
    def name(self) -> str:
        return Path(self.file).name

    @property
    def golden(self) -> Path:
        return EXPECTED / f"{self.name}.txt"

    @property
    def role(self) -> str:
        """``manifest``, ``features`` (a ``base_*`` table) or ``sidecar``."""
        if self.file.startswith("manifests/"):
            return "manifest"
        return "features" if self.name.startswith("base_") else "sidecar"


def m(
    name: str,
    why: str,
    *,
    has: tuple[str, ...] = (),
    like: tuple[str, ...] = (),
    lacks: tuple[str, ...] = (),
    xfail: str | None = None,
) -> Case:
    """A manifest case: ``second-opinion validate`` on it."""
    return Case(f"manifests/{name}", why, has, like, lacks, (), xfail)


def t(
    name: str,
    why: str,
    *,
    has: tuple[str, ...] = (),
    like: tuple[str, ...] = (),
    lacks: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
    xfail: str | None = None,
) -> Case:
    """A table case: joined as the sidecar, or as the base table if its name starts with base_."""
    return Case(f"tables/{name}", why, has, like, lacks, options, xfail)


MANIFESTS = [
    # Syntax.
    m(
        "trailing_comma.json",
        "a comma after the last field of an object",
        has=("line 11", "column 5", "invalid JSON"),
    ),
    m(
        "unterminated_string.json",
        "a string with no closing quote (the line ends first)",
        has=("line 9", "column 66", "unterminated string"),
        like=(r"unterminated|newline|'\\n'",),
        lacks=("at,",),
    ),
    m(
        "invalid_yaml_unclosed_bracket.yaml",
        "a flow list with no closing ]",
        has=("line 6", "invalid YAML", "expected ',' or ']'"),
    ),
    m(
        "invalid_yaml_tab_indent.yaml",
        "a tab as indentation",
        has=("line 5", "invalid YAML", "'\\t'"),
    ),
    # Wrong types.
    m(
        "wrong_type_jobs_string.json",
        "a string where the list of jobs goes",
        has=("jobs: Input should be a valid list", "'konvid'"),
    ),
    m(
        "wrong_type_key_string.yaml",
        "key: clip_id, a string where a list goes",
        has=("jobs[0].key: Input should be a valid list", "'clip_id'"),
    ),
    m(
        "wrong_type_path_number.json",
        "a number as a sidecar's path",
        has=("jobs[0].sidecars[0].path: Input should be a valid string", "42"),
    ),
    m(
        "wrong_type_name_bool.json",
        "true as a job name",
        has=("jobs[0].name: Input should be a valid string", "True"),
    ),
    m(
        "wrong_type_name_yes.yaml",
        "name: yes, which YAML 1.1 reads as the boolean true",
        has=("jobs[0].name", "got yes on line 4", '"yes"'),
        like=("quote",),
        lacks=("True",),
    ),
    m(
        "wrong_type_normalize_keys_string.json",
        "a string where the list of steps goes",
        has=("jobs[0].sidecars[0].normalize_keys", "'strip'", "list"),
        lacks=("tuple",),
    ),
    # Unknown fields.
    m(
        "unknown_field_top.json",
        "output_directory for output_dir",
        has=(
            "output_directory: unknown field; did you mean 'output_dir'?",
            "output_dir: required field is missing",
        ),
    ),
    m(
        "unknown_field_top_no_match.json",
        "a top-level field close to no known one",
        has=("colour: unknown field (fields: version, output_dir",),
    ),
    m(
        "unknown_field_job.json",
        "featurs for features",
        has=("jobs[0].featurs: unknown field; did you mean 'features'?",),
    ),
    m(
        "unknown_field_sidecar.yaml",
        "on_dupliate for on_duplicate",
        has=("jobs[0].sidecars[0].on_dupliate: unknown field; did you mean 'on_duplicate'?",),
    ),
    # Empty, blank, not a manifest.
    m("empty.json", "0 bytes", has=("the manifest is empty",)),
    m("empty.yaml", "0 bytes", has=("the manifest is empty",)),
    m("whitespace_only.json", "spaces, tabs and newlines", has=("the manifest is empty",)),
    m("whitespace_only.yaml", "spaces, tabs and newlines", has=("the manifest is empty",)),
    m(
        "comment_only.yaml",
        "a YAML comment and nothing else",
        has=("the manifest is empty (only comments)",),
        lacks=("NoneType",),
    ),
    m(
        "not_a_mapping.json",
        "a JSON array at the top",
        has=("a manifest is a mapping with version, output_dir and jobs, not a list",),
    ),
    m(
        "binary_junk.json",
        "4 KiB of random bytes (random.Random(0).randbytes)",
        has=("line 1", "cannot read the manifest", "byte 0xcd", "save it as UTF-8"),
    ),
    m(
        "binary_junk.yaml",
        "4 KiB of random bytes (random.Random(0).randbytes)",
        has=("line 1", "cannot read the manifest", "byte 0xcd", "save it as UTF-8"),
    ),
    m("deep_nesting.json", "100,000 nested [", has=("JSON nested too deeply",)),
    m("deep_nesting.yaml", "100,000 nested [", has=("YAML nested too deeply",)),
    # Encodings.
    # (A UTF-8 byte order mark is skipped, in JSON and YAML alike: tests/batch/test_manifest.py.)
    m(
        "utf16_bom.json",
        "the valid manifest saved as UTF-16 with a BOM",
        has=("UTF-16", "save it as UTF-8"),
        lacks=("codec",),
    ),
    m(
        "latin1.yaml",
        "a Latin-1 é in the description (line 3)",
        has=("line 3", "column 20", "0xe9", "save it as UTF-8"),
        lacks=("position",),
    ),
    # NUL.
    m(
        "nul_escaped_in_path.json",
        "\\u0000 inside a path",
        has=(
            "jobs[0].sidecars[0].path: the path holds a NUL character",
            "('data/ni\\x00qe.jsonl'); remove it",
        ),
    ),
    m(
        "nul_raw_in_string.json",
        "a raw NUL byte inside a string",
        has=("line 10", "column 22", "remove it"),
        like=(r"NUL|\\x00|U\+0000",),
        lacks=("at,",),
    ),
    m(
        "nul_raw.yaml",
        "a raw NUL byte in a YAML value (line 10)",
        has=("line 10", "column 17", "#x0000", "NUL", "remove it"),
    ),
    # Huge numbers.
    m(
        "huge_float_1e400.json",
        "min_coverage: 1e400 (read as inf)",
        has=("jobs[0].sidecars[0].min_coverage: Input should be less than or equal to 1",),
    ),
    m("huge_jobs_1e309.json", '"jobs": 1e309', has=("jobs: Input should be a valid list",)),
    m(
        "huge_int_version.json",
        "a 400-digit version",
        has=("version: Input should be 1", "1000000000…0000000000, a 400-digit number"),
        lacks=("maximum size",),
    ),
    m(
        "huge_int_5000_digits.json",
        "a 5000-digit version (past Python's int-parsing limit)",
        has=("version: Input should be 1", "a 5000-digit number"),
    ),
    m(
        "huge_int_5000_digits.yaml",
        "a 5000-digit version (past Python's int-parsing limit)",
        has=("version: Input should be 1", "a 5000-digit number"),
    ),
    # Duplicate keys.
    m(
        "duplicate_key_top.json",
        '{"version":1,"version":2}',
        has=("duplicate key 'version' in the top-level object", "keep one"),
    ),
    m(
        "duplicate_key_sidecar.json",
        "scorer twice in jobs[0].sidecars[0] (line 9)",
        has=("duplicate key 'scorer'", "keep one"),
        like=(r"line 9|jobs\[0\]\.sidecars\[0\]",),
    ),
    m(
        "duplicate_key.yaml",
        "output twice in jobs[0] (YAML)",
        has=("line 11", "duplicate key 'output', first on line 10", "keep one"),
    ),
    # Whitespace-only names.
    m(
        "whitespace_key.yaml",
        'key: ["  "]',
        has=(
            "jobs[0] (konvid): <DIR>/manifests/data/features.csv: key column '  ' not found",
            "fix 'key'",
        ),
    ),
    m(
        "whitespace_path.json",
        "a sidecar path of three spaces",
        has=("jobs[0].sidecars[0].path", "the file name is blank"),
        like=("   ['\"]",),
    ),
    m(
        "whitespace_field_name.json",
        "a job field named three spaces",
        has=("jobs[0]['   ']: unknown field",),
        like=("'   '",),
    ),
    # A manifest whose table is bad.
    m(
        "bad_table_duplicate_columns.json",
        "the sidecar's header repeats a column",
        has=(
            "jobs[0] (konvid): <DIR>/manifests/data/duplicate_columns.csv:",
            "duplicate column name 'score'",
        ),
    ),
]

COLUMNS = ("--columns", "score")

TABLES = [
    # Empty, blank.
    t("empty.csv", "0 bytes", has=("file is empty (0 bytes)",)),
    t("empty.jsonl", "0 bytes", has=("file is empty (0 bytes)",)),
    t("empty.parquet", "0 bytes", has=("file is empty (0 bytes)",)),
    t("base_empty.csv", "0 bytes, as the base table", has=("file is empty (0 bytes)",)),
    t(
        "whitespace_only.csv",
        "blank lines",
        has=("file is empty (no header row); the first line must name the columns",),
    ),
    t(
        "whitespace_only.jsonl",
        "blank lines",
        has=("file is empty (no JSON objects); write one JSON object per line",),
    ),
    t(
        "header_only.csv",
        "a header and no rows",
        has=(
            "the table has no rows (only a header)",
            (
                "add the rows, or name the score columns in --columns niqe:COLUMNS and set "
                "--allow-no-match niqe"
            ),
        ),
    ),
    t(
        "base_header_only.csv",
        "a header and no rows, as the base table",
        has=("the table has no rows",),
    ),
    # Not a table at all.
    t(
        "binary_junk.csv",
        "4 KiB of random bytes",
        has=("line 1: not UTF-8 text: byte 0xcd at column 1", "binary file, not a CSV table"),
    ),
    t(
        "binary_junk.jsonl",
        "4 KiB of random bytes",
        has=("line 1: not UTF-8 text: byte 0xcd", "binary file, not a JSONL table"),
    ),
    t("binary_junk.parquet", "4 KiB of random bytes", has=("not a readable parquet file",)),
    t("binary_junk.csv.gz", "4 KiB of random bytes", has=("Not a gzipped file",)),
    t("base_binary_junk.tsv", "4 KiB of random bytes, as the base table", has=("not UTF-8 text",)),
    t("png_header.csv", "a 1x1 PNG", has=("not UTF-8 text",)),
    t("png_header.parquet", "a 1x1 PNG", has=("not a readable parquet file",)),
    t("zip_header.csv", "a ZIP archive holding a CSV", has=("not UTF-8 text",)),
    t("zip_header.parquet", "a ZIP archive holding a CSV", has=("not a readable parquet file",)),
    t("not_gzip.csv.gz", "plain CSV named .gz", has=("Not a gzipped file",)),
    t(
        "truncated.csv.gz",
        "a gzip stream cut at 2000 bytes",
        has=("Compressed file ended before the end-of-stream marker was reached",),
    ),
    # Invalid JSON lines. (A trailing comma is read, as DuckDB reads it: ADR 0009,
    # tests/join/test_join.py.)
    t(
        "unterminated_string.jsonl",
        "a string with no closing quote on line 2",
        has=("line 2: invalid JSON", "column 18"),
    ),
    t(
        "line_not_object.jsonl",
        "a JSON array on line 2",
        has=("line 2: expected a JSON object per line, got list",),
    ),
    t(
        "deep_nesting.jsonl",
        "100,000 nested [ in the score of line 2",
        has=("line 2: invalid JSON (nested too deeply to read",),
        lacks=("RecursionError",),
    ),
    t(
        "mixed_line_endings.csv",
        "CRLF line endings, then LF from line 3 (DuckDB's sniffer gives up)",
        has=("line 3: ends with LF", "line 1 ends with CRLF", "mixes line endings", "dos2unix"),
        lacks=("Error when sniffing file",),
    ),
    t(
        "mixed_line_endings_lf_first.tsv",
        "LF line endings, then CRLF from line 3, in a TSV",
        has=("line 3: ends with CRLF", "line 1 ends with LF", "mixes line endings", "unix2dos"),
        lacks=("Error when sniffing file",),
    ),
    # Encodings.
    t(
        "utf16_bom.csv",
        "a valid CSV saved as UTF-16 with a BOM",
        has=("the file is UTF-16 text", "byte order mark", "save it as UTF-8"),
    ),
    t(
        "latin1_key.csv",
        "a Latin-1 é in the key on line 3",
        has=(
            "line 3: not UTF-8 text: byte 0xe9 at column 2",
            "'b\\xe9,4.2'",
            "save the file as UTF-8",
        ),
    ),
    t(
        "latin1_key.jsonl",
        "a Latin-1 é in the key on line 2",
        has=("line 2: not UTF-8 text: byte 0xe9 at column 15", "save the file as UTF-8"),
        lacks=("position",),
    ),
    # NUL.
    t(
        "nul_in_key.csv",
        "a NUL byte in a key cell (line 3)",
        has=("line 3: the key column 'clip_id' holds a NUL character ('b\\x00')",),
    ),
    t(
        "base_nul_in_key.csv",
        "a NUL byte in a base key cell (line 3)",
        has=("line 3: the key column 'clip_id' holds a NUL character ('b\\x00')",),
    ),
    t(
        "nul_in_score.csv",
        "a NUL byte in a score cell (line 3)",
        has=("column 'score' is text (line 3 has '4.2\\x00', which is not a number)",),
    ),
    t(
        "nul_in_score_columns.csv",
        "a NUL byte in a score cell (line 3), --columns score",
        has=("line 3: column 'score' has '4.2\\x00', which is not a number",),
        options=COLUMNS,
    ),
    t(
        "nul_raw.jsonl",
        "a raw NUL byte inside a string on line 2",
        has=("line 2", "a NUL byte", "column 15"),
        like=(r"NUL|\\x00|U\+0000",),
        lacks=("at,",),
    ),
    t(
        "nul_in_header.csv",
        "a NUL byte in a column name",
        has=("column name 'sc\\x00ore' holds a NUL character; rename the column",),
    ),
    t(
        "nul_in_column_name.jsonl",
        "\\u0000 in a field name",
        has=("column name 'sc\\x00ore' holds a NUL character; rename the column",),
    ),
    t(
        "nul_in_column_name.parquet",
        "a NUL character in a column name",
        has=("column name 'sc\\x00ore' holds a NUL character; rename the column",),
    ),
    # (Numbers beyond a float's range read as ±inf: the non-finite rule, tests/join/test_join.py.)
    # Duplicate columns.
    t(
        "duplicate_columns.csv",
        "header clip_id,score,score",
        has=(
            "duplicate column name 'score' (columns: clip_id, score, score);",
            "give each column a unique name",
        ),
    ),
    t(
        "duplicate_columns_case.csv",
        "header clip_id,Score,score",
        has=("duplicate column name 'score' (same as 'Score' but for case)",),
    ),
    t(
        "base_duplicate_columns.csv",
        "header clip_id,mos,mos of the base table",
        has=("duplicate column name 'mos'",),
    ),
    t(
        "duplicate_columns.parquet",
        "two columns named score",
        has=("duplicate column name 'score'",),
    ),
    t(
        "base_output_name_case.csv",
        "a base column So_Niqe_Score beside the sidecar's output so_niqe_score",
        has=(
            "output column 'so_niqe_score' of sidecar 'niqe' collides with column 'So_Niqe_Score'",
            "of base table <DIR>/tables/base_output_name_case.csv",
            "differ only in case",
            "set a different --prefix niqe:PREFIX",
        ),
    ),
    t(
        "derived_name_collision.csv",
        "columns score and score_zscore, --derived zscore: score's z-score is named score_zscore",
        has=(
            "output column 'so_niqe_score_zscore' of sidecar 'niqe' collides with column",
            "'so_niqe_score_zscore' of sidecar 'niqe'",
            "leave column 'score_zscore' out with --columns niqe:COLUMNS, or rename it in",
            "<DIR>/tables/derived_name_collision.csv",
        ),
        lacks=("prefix",),
        options=("--derived", "zscore"),
    ),
    t("duplicate_key.jsonl", 'line 2 has "score" twice', has=("line 2", 'duplicate key "score"')),
    # Whitespace-only names.
    t(
        "whitespace_key.csv",
        "a key of three spaces on line 3",
        has=("line 3: the key column 'clip_id' holds only whitespace ('   ')", "empty key"),
    ),
    t(
        "base_whitespace_key.csv",
        "a base key of three spaces on line 3",
        has=("line 3: the key column 'clip_id' holds only whitespace ('   ')", "empty key"),
    ),
    t(
        "whitespace_column_name.csv",
        "a column named three spaces",
        like=("'   '",),
        has=("column 2 has a blank name ('   '); give every column a name",),
    ),
    # Wrong types.
    t(
        "score_text.csv",
        "'high' as a score on line 3",
        has=("column 'score' is text (line 3 has 'high', which is not a number)",),
    ),
    t(
        "score_text_columns.csv",
        "'high' as a score on line 3, --columns score",
        has=("line 3: column 'score' has 'high', which is not a number; fix the value",),
        options=COLUMNS,
    ),
    t(
        "score_list_columns.jsonl",
        "a list as a score on line 2, --columns score",
        has=("line 2: column 'score' has [4.2, 4.3], which is not a number",),
        options=COLUMNS,
    ),
    t(
        "key_object.jsonl",
        "a JSON object as the key on line 2",
        has=('line 2: the key column \'clip_id\' holds a JSON object ({"id": "b"})',),
    ),
    # Malformed CSV.
    t(
        "ragged_rows.csv",
        "line 3 has four cells, line 4 one",
        has=("line 3: expected 2 fields (as in the header row), found 4",),
    ),
    t(
        "unterminated_quote.csv",
        "a quote opened on line 3 and never closed",
        has=("line 3: a quote opened on this line is never closed",),
    ),
]

CASES = MANIFESTS + TABLES


def _params(cases: Sequence[Case]) -> list[object]:
    return [
        pytest.param(
            case,
            id=case.file,
            marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [],
        )
        for case in cases
    ]


# --- running a case --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A finished run: exit status and output, with the corpus folder written as ``<DIR>``."""

    code: int
    stdout: str
    stderr: str

    def golden_text(self) -> str:
        return f"exit {self.code}\n{self.stderr}"


def _copy_case(case: Case, root: Path) -> Path:
    """Copy ``case`` and its folder's companion files to ``root`` (the ``<DIR>``)."""
    folder = case.file.split("/")[0]
    shutil.copytree(CORPUS / folder / COMPANIONS[folder], root / folder / COMPANIONS[folder])
    shutil.copyfile(CORPUS / case.file, root / case.file)
    return root / case.file


def _arguments(role: str, path: Path, root: Path, options: Sequence[str] = ()) -> list[str]:
    """The command line that feeds ``path`` to the tool in ``role``."""
    if role == "manifest":
        return ["validate", str(path)]
    base, sidecar = (path, root / GOOD_SIDECAR) if role == "features" else (root / GOOD_BASE, path)
    return [
        "join",
        "--features",
        str(base),
        "--sidecar",
        f"niqe={sidecar}",
        "--key",
        "clip_id",
        "--output",
        str(root / OUTPUT),
        *options,
    ]


def _in_process(arguments: Sequence[str], root: Path) -> Outcome:
    """Run ``second_opinion.cli.main`` with stdout and stderr captured as a process has them."""
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict", newline="")
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", newline="")
    code = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(list(arguments))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    stdout.flush()
    stderr.flush()
    return _outcome(code, out.getvalue(), err.getvalue(), root)


def _outcome(code: int, stdout: bytes, stderr: bytes, root: Path) -> Outcome:
    def text(data: bytes) -> str:
        return data.decode("utf-8").replace(str(root), PLACEHOLDER)

    return Outcome(code, text(stdout), text(stderr))


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time; every folder."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        if p.is_file()
        else (0, 0)
        for p in sorted(root.rglob("*"))
    }


def _check_clean_error(outcome: Outcome, case_file: str) -> str:
    """The properties every bad input's outcome has; returns the message."""
    message = outcome.stderr
    assert "Traceback" not in message, f"a traceback:\n{message}"
    assert "internal error" not in message, f"an internal error:\n{message}"
    assert outcome.code == EXIT_INPUT, (
        f"exit {outcome.code}, expected {EXIT_INPUT} (bad input)\n"
        f"stderr: {message}\nstdout: {outcome.stdout[-2000:]}"
    )
    assert message.startswith("error: "), message
    assert outcome.stdout == "", f"stdout after an error: {outcome.stdout!r}"
    assert f"{PLACEHOLDER}/{case_file}" in message, (
        f"the message does not name the file:\n{message}"
    )
    return message


def _check_message(message: str, case: Case) -> None:
    for text in case.has:
        assert text in message, f"the message lacks {text!r}:\n{message}"
    for pattern in case.like:
        assert re.search(pattern, message), f"the message does not match {pattern!r}:\n{message}"
    for text in case.lacks:
        assert text not in message, f"the message holds {text!r}:\n{message}"


def _check_golden(outcome: Outcome, golden: Path) -> None:
    if REGEN:
        golden.write_text(outcome.golden_text(), encoding="utf-8", newline="")
    assert golden.is_file(), (
        f"no golden file {golden.name}: run SECOND_OPINION_REGEN_GOLDEN=1 pytest {__file__}, "
        "then review it"
    )
    expected = golden.read_text(encoding="utf-8")
    assert outcome.golden_text() == expected, (
        f"{golden.name} differs; if the new message is better, regenerate and review it.\n"
        f"expected:\n{expected}\nactual:\n{outcome.golden_text()}"
    )


def _check_nothing_left(root: Path, before: dict[str, tuple[int, int]]) -> None:
    assert not (root / OUTPUT).exists(), f"the output {OUTPUT} was written"
    assert _snapshot(root) == before, "the run left, changed or removed files in the case folder"


@pytest.mark.parametrize("case", _params(CASES))
def test_bad_input(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "bad_inputs"
    path = _copy_case(case, root)
    before = _snapshot(root)
    outcome = _in_process(_arguments(case.role, path, root, case.options), root)
    message = _check_clean_error(outcome, case.file)
    _check_nothing_left(root, before)
    _check_message(message, case)
    if case.xfail is None:  # a wrong message is not pinned: the test XPASSes once it is fixed
        _check_golden(outcome, case.golden)


# The real entry point, as a user runs it, gives the same outcome as the in-process call.
SUBPROCESS_CASES = ["manifests/unknown_field_sidecar.yaml", "tables/duplicate_columns_case.csv"]


@pytest.mark.parametrize("file", SUBPROCESS_CASES)
def test_subprocess_gives_the_golden_message(file: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.file == file)
    root = tmp_path / "bad_inputs"
    path = _copy_case(case, root)
    before = _snapshot(root)
    result = run_cli(*_arguments(case.role, path, root, case.options))
    outcome = _outcome(result.returncode, result.stdout.encode(), result.stderr.encode(), root)
    _check_nothing_left(root, before)
    assert outcome.stdout == ""
    assert outcome.golden_text() == case.golden.read_text(encoding="utf-8")


def test_the_corpus_and_the_case_list_agree() -> None:
    """Every corpus file has a case, every case a file, every golden file a passing case."""
    on_disk = {
        f"{folder}/{p.name}"
        for folder in COMPANIONS
        for p in (CORPUS / folder).iterdir()
        if p.is_file()
    }
    listed = [case.file for case in CASES]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert on_disk == set(listed), (
        f"not in CASES: {sorted(on_disk - set(listed))}; "
        f"no such file: {sorted(set(listed) - on_disk)}"
    )
    names = [case.name for case in CASES] + [case.name for case in GIB_CASES]
    assert len(names) == len(set(names)), "two cases share a file name (and a golden file)"
    wanted = {case.golden.name for case in [*CASES, *GIB_CASES] if case.xfail is None}
    goldens = {p.name for p in EXPECTED.iterdir()}
    assert goldens <= wanted, (
        f"golden files of no case or of an xfail case (delete them): {sorted(goldens - wanted)}"
    )


# --- a 1 GiB single line ---------------------------------------------------------------------
# Generated here (never committed): 1 GiB of 'a', no newline, as a JSON manifest and as a CSV
# sidecar. Each runs once, as a subprocess, and its peak memory is measured with wait4.

GIB = 1 << 30
CHUNK = 4 << 20
PEAK_RSS_LIMIT = 512 << 20  # the CLI itself takes ~100 MiB; reading the line whole takes >1 GiB
# A manifest over 16 MiB is refused by its size, unread: the CLI's own ~100 MiB, with room.
PEAK_RSS_LIMITS = {
    "manifests/line_1gib.json": 256 << 20,
    # A CSV header is looked for in the first 1 MiB only.
    "tables/line_1gib.csv": 256 << 20,
}
GIB_TIMEOUT = 300.0

GIB_CASES = [
    Case(
        "manifests/line_1gib.json",
        "1 GiB of 'a' on one line",
        has=(
            "the manifest is 1 GiB (1,073,741,824 bytes), over the 16 MiB limit",
            "a manifest names files, it does not hold data",
        ),
        lacks=("invalid JSON",),
    ),
    Case(
        "tables/line_1gib.csv",
        "1 GiB of 'a' on one line, as a sidecar",
        has=(
            "the header row is longer than 1 MiB",
            "is it a CSV file?",
            "save it with a line break after the header row",
        ),
        lacks=("field limit",),
    ),
]
MEMORY_XFAIL: dict[str, str] = {}


@dataclass(frozen=True)
class GibRun:
    outcome: Outcome
    peak_rss: int  # bytes
    seconds: float
    changed: bool  # whether the case folder changed (a file left behind)


# The CLI is started, and waited for, by this small Python process, not by pytest: Linux keeps a
# process's peak RSS across exec, so a child forked straight from pytest reports at least pytest's
# own size (~420 MiB after the whole suite), whatever the CLI itself used.
_MEASURE = """
import os, subprocess, sys, time
folder, timeout, *command = sys.argv[1:]
with open(os.path.join(folder, "stdout"), "wb") as out:
    with open(os.path.join(folder, "stderr"), "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
deadline = time.monotonic() + float(timeout)
while True:
    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
    if pid:
        break
    if time.monotonic() > deadline:
        process.kill()
    time.sleep(0.02)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def _wait_measured(arguments: Sequence[str], folder: Path) -> tuple[int, bytes, bytes, int]:
    """Run the CLI as a subprocess; its exit status, stdout, stderr and peak RSS in bytes."""
    measure = [sys.executable, "-c", _MEASURE, str(folder), str(GIB_TIMEOUT)]
    result = subprocess.run(
        [*measure, *PYTHON_M, *arguments], capture_output=True, text=True, env=ENV, check=True
    )
    code, peak = (int(part) for part in result.stdout.split())
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    out, err = (folder / "stdout").read_bytes(), (folder / "stderr").read_bytes()
    return code, out, err, peak * scale


def _gib_run(case: Case, tmp: Path) -> GibRun:
    root = tmp / "bad_inputs"
    folder = case.file.split("/")[0]
    shutil.copytree(CORPUS / folder / COMPANIONS[folder], root / folder / COMPANIONS[folder])
    path = root / case.file
    block = b"a" * CHUNK
    try:
        with path.open("wb") as handle:
            for _ in range(GIB // CHUNK):
                handle.write(block)
        before = _snapshot(root)
        started = time.monotonic()
        code, out, err, peak = _wait_measured(_arguments(case.role, path, root), tmp)
        seconds = time.monotonic() - started
        changed = _snapshot(root) != before or (root / OUTPUT).exists()
    finally:
        path.unlink(missing_ok=True)  # pytest keeps recent tmp folders: never keep 1 GiB
    return GibRun(_outcome(code, out, err, root), peak, seconds, changed)


@pytest.fixture(scope="module")
def gib_runs() -> dict[str, GibRun]:
    """Each 1 GiB case run once (lazily), shared by its message and memory tests."""
    return {}


def _gib(file: str, runs: dict[str, GibRun], tmp_path_factory: pytest.TempPathFactory) -> GibRun:
    if file not in runs:
        case = next(c for c in GIB_CASES if c.file == file)
        runs[file] = _gib_run(case, tmp_path_factory.mktemp("gib"))
    return runs[file]


@pytest.mark.parametrize("case", _params(GIB_CASES))
def test_1gib_line_message(
    case: Case, gib_runs: dict[str, GibRun], tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = _gib(case.file, gib_runs, tmp_path_factory)
    assert not run.changed, "the run left, changed or removed files in the case folder"
    message = _check_clean_error(run.outcome, case.file)
    _check_message(message, case)
    if case.xfail is None:
        _check_golden(run.outcome, case.golden)


@pytest.mark.parametrize(
    "file",
    [
        pytest.param(c.file, id=c.file, marks=pytest.mark.xfail(strict=True, reason=reason))
        if (reason := MEMORY_XFAIL.get(c.file))
        else pytest.param(c.file, id=c.file)
        for c in GIB_CASES
    ],
)
def test_1gib_line_memory(
    file: str, gib_runs: dict[str, GibRun], tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = _gib(file, gib_runs, tmp_path_factory)
    limit = PEAK_RSS_LIMITS.get(file, PEAK_RSS_LIMIT)
    assert run.peak_rss < limit, (
        f"peak RSS {run.peak_rss / 2**20:.0f} MiB reading a 1 GiB line "
        f"(limit {limit / 2**20:.0f} MiB); {run.seconds:.1f} s"
    )
