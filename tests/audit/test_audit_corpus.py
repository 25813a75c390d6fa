"""`load_corpus`, `parse_table_argument`, `check_names`: corpus tables as the audit reads them.

Tables are written in every supported format with :func:`tests._tables.write_table`; the
provenance tests use a real record, written by ``run_batch`` on a tiny manifest.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from second_opinion.audit.corpus import (
    MIN_ROWS,
    Corpus,
    Scorer,
    check_names,
    load_corpus,
    parse_table_argument,
)
from second_opinion.errors import EXIT_INPUT, InputError, UsageError, exit_code_for
from second_opinion.provenance import provenance_path
from tests._audit_data import TINY_JOB, TINY_ROWS
from tests._tables import write_table

FORMATS = ["jsonl", "csv", "tsv", "parquet", "csv.gz"]
N = 14
NO_MOS = 2  # the first rows have no MOS


def gappy_rows(n: int = N) -> list[dict[str, Any]]:
    """A text id, MOS (missing in the first rows), integer ``vmaf``, ``x`` with gaps, text."""
    return [
        {
            "clip_id": f"clip{i:03d}",
            "mos": None if i < NO_MOS else 1.0 + 0.25 * i,
            "vmaf": 40 + i,
            "x": None if i % 3 == 0 else 0.5 * i,
            "label": f"group {i % 2}",
        }
        for i in range(n)
    ]


def plain_rows(n: int = 12) -> list[dict[str, Any]]:
    return [{"clip_id": f"clip{i:03d}", "mos": 1.0 + 0.25 * i, "vmaf": 40.0 + i} for i in range(n)]


def input_error(excinfo: pytest.ExceptionInfo[InputError]) -> str:
    """The message of an error that must exit with code 2."""
    assert exit_code_for(excinfo.value) == EXIT_INPUT
    return str(excinfo.value)


def copy_table(table: Path, folder: Path, *, record: str | None = None) -> Path:
    """Copy ``table`` into ``folder``; ``record`` (text) becomes its provenance record."""
    folder.mkdir(parents=True, exist_ok=True)
    target = Path(shutil.copy(table, folder / table.name))
    if record is not None:
        provenance_path(target).write_text(record, encoding="utf-8")
    return target


# --- reading each format ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", FORMATS)
def test_load_corpus_reads_mos_and_numeric_columns_as_float64(tmp_path: Path, suffix: str) -> None:
    rows = gappy_rows()
    path = write_table(tmp_path / f"corpus.{suffix}", rows)
    corpus = load_corpus(path, "mos")

    kept = rows[NO_MOS:]
    assert corpus.mos.dtype == np.float64
    np.testing.assert_array_equal(corpus.mos, [r["mos"] for r in kept])
    # text columns (clip_id, label) are left out; MOS is not among the columns; file order kept
    assert list(corpus.columns) == ["vmaf", "x"]
    for values in corpus.columns.values():
        assert values.dtype == np.float64
        assert values.shape == (len(kept),)
    np.testing.assert_array_equal(corpus.columns["vmaf"], [float(r["vmaf"]) for r in kept])
    expected_x = [math.nan if r["x"] is None else r["x"] for r in kept]
    np.testing.assert_array_equal(corpus.columns["x"], expected_x)  # NULL → NaN, NaN == NaN here
    assert corpus.rows == N
    assert corpus.n == N - NO_MOS
    assert corpus.notes == (f"{NO_MOS} of {N} rows have no finite 'mos' and are left out",)
    assert corpus.mos_column == "mos"
    assert corpus.path == path
    assert (corpus.key, corpus.scorers, corpus.provenance_note) == ((), (), None)


def test_a_corpus_with_every_mos_has_no_notes(tmp_path: Path) -> None:
    corpus = load_corpus(write_table(tmp_path / "full.csv", plain_rows(12)), "mos")
    assert (corpus.rows, corpus.n, corpus.notes) == (12, 12, ())


def test_non_finite_mos_text_counts_as_missing(tmp_path: Path) -> None:
    rows = plain_rows(13)
    rows[0]["mos"] = "nan"
    rows[5]["mos"] = "inf"
    rows[7]["mos"] = ""
    corpus = load_corpus(write_table(tmp_path / "odd.csv", rows), "mos")
    assert (corpus.rows, corpus.n) == (13, 10)
    assert np.isfinite(corpus.mos).all()
    assert corpus.notes == ("3 of 13 rows have no finite 'mos' and are left out",)
    # the other columns are filtered to the same rows
    np.testing.assert_array_equal(
        corpus.columns["vmaf"], [40.0 + i for i in range(13) if i not in (0, 5, 7)]
    )


def test_a_jsonl_field_absent_from_a_line_is_nan(tmp_path: Path) -> None:
    rows = plain_rows(12)
    del rows[3]["vmaf"]
    corpus = load_corpus(write_table(tmp_path / "sparse.jsonl", rows), "mos")
    assert math.isnan(corpus.columns["vmaf"][3])
    assert np.isfinite(np.delete(corpus.columns["vmaf"], 3)).all()


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", FORMATS)
def test_no_mos_column_lists_numeric_columns_and_suggests_the_case_match(
    tmp_path: Path, suffix: str
) -> None:
    path = write_table(tmp_path / f"corpus.{suffix}", gappy_rows())
    with pytest.raises(InputError) as excinfo:
        load_corpus(path, "MOS")
    message = input_error(excinfo)
    assert str(path) in message
    assert "no MOS column 'MOS'" in message
    assert "did you mean 'mos'?" in message
    assert "numeric columns: mos, vmaf, x." in message  # text columns are not offered
    assert "--mos" in message


def test_no_mos_column_without_a_near_match_gives_no_suggestion(tmp_path: Path) -> None:
    path = write_table(tmp_path / "corpus.csv", gappy_rows())
    with pytest.raises(InputError) as excinfo:
        load_corpus(path, "score")
    message = input_error(excinfo)
    assert "no MOS column 'score'" in message
    assert "did you mean" not in message
    assert "numeric columns: mos, vmaf, x" in message


def test_no_mos_column_in_a_table_without_numbers_says_none(tmp_path: Path) -> None:
    rows = [{"clip_id": f"c{i}", "label": "text"} for i in range(12)]
    path = write_table(tmp_path / "words.jsonl", rows)
    with pytest.raises(InputError) as excinfo:
        load_corpus(path, "mos")
    assert "numeric columns: (none)" in input_error(excinfo)


@pytest.mark.parametrize(
    ("suffix", "place"),
    [
        ("jsonl", "line 5"),
        ("csv", "line 6"),  # the header is line 1
        ("tsv", "line 6"),
        ("parquet", "row 5"),
        ("csv.gz", "line 6"),
    ],
)
def test_a_non_numeric_mos_names_the_line_and_the_value(
    tmp_path: Path, suffix: str, place: str
) -> None:
    rows = [{**r, "mos": str(r["mos"])} for r in plain_rows(12)]  # Parquet needs one type
    rows[4]["mos"] = "good"
    path = write_table(tmp_path / f"corpus.{suffix}", rows)
    with pytest.raises(InputError) as excinfo:
        load_corpus(path, "mos")
    message = input_error(excinfo)
    assert message.startswith(f"{path} {place}: ")
    assert "column 'mos' has 'good', which is not a number" in message
    assert "fix the value" in message


def test_fewer_than_min_rows_with_a_mos_is_an_error(tmp_path: Path) -> None:
    rows = plain_rows(12)
    for row in rows[:3]:
        row["mos"] = None
    path = write_table(tmp_path / "small.csv", rows)
    with pytest.raises(InputError) as excinfo:
        load_corpus(path, "mos")
    message = input_error(excinfo)
    assert str(path) in message
    assert f"only 9 rows have a 'mos' value (of 12); the audit needs at least {MIN_ROWS}" in (
        message
    )
    assert "larger corpus" in message
    # the threshold is a parameter, and exactly MIN_ROWS rows pass
    assert load_corpus(path, "mos", min_rows=9).n == 9
    assert load_corpus(write_table(tmp_path / "ten.csv", plain_rows(MIN_ROWS)), "mos").n == MIN_ROWS


def test_a_header_only_table_has_no_rows_with_a_mos(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("clip_id,mos,vmaf\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_corpus(path, "mos")
    assert "only 0 rows have a 'mos' value (of 0)" in input_error(excinfo)


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    with pytest.raises(InputError) as excinfo:
        load_corpus(path, "mos")
    assert input_error(excinfo) == f"{path}: no such file"


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "parquet", "csv.gz"])
def test_an_empty_file_is_an_input_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty.{suffix}"
    path.write_bytes(b"")
    with pytest.raises(InputError) as excinfo:
        load_corpus(path, "mos")
    assert input_error(excinfo) == f"{path}: file is empty (0 bytes)"


@pytest.mark.parametrize(
    ("suffix", "content", "expected"),
    [
        ("jsonl", "\n\n", "file is empty (no JSON objects)"),
        ("csv", "\n", "file is empty (no header row)"),
    ],
)
def test_a_blank_file_is_an_input_error(
    tmp_path: Path, suffix: str, content: str, expected: str
) -> None:
    path = tmp_path / f"blank.{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        load_corpus(path, "mos")
    message = input_error(excinfo)
    assert message.startswith(f"{path}: {expected}")


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "name"),
    [
        ("konvid.csv", "konvid"),
        ("konvid.csv.gz", "konvid"),
        ("konvid.tsv.gz", "konvid"),
        ("konvid.jsonl.gz", "konvid"),
        ("konvid.ndjson", "konvid"),
        ("konvid.parquet", "konvid"),
        ("konvid.1k.tsv", "konvid.1k"),
    ],
)
def test_a_table_without_provenance_is_named_by_its_stem(
    tmp_path: Path, file_name: str, name: str
) -> None:
    corpus = load_corpus(write_table(tmp_path / file_name, plain_rows()), "mos")
    assert corpus.name == name


def test_a_pq_table_is_named_by_its_stem(tmp_path: Path) -> None:
    source = write_table(tmp_path / "konvid.parquet", plain_rows())
    assert load_corpus(source.rename(tmp_path / "konvid.pq"), "mos").name == "konvid"


def test_an_upper_case_suffix_is_stripped_from_the_name(tmp_path: Path) -> None:
    source = write_table(tmp_path / "konvid.csv", plain_rows())
    path = source.rename(tmp_path / "KONVID.CSV")
    assert load_corpus(path, "mos").name == "KONVID"


def test_a_batch_output_is_named_by_its_job(batch_table: Path) -> None:
    corpus = load_corpus(batch_table, "mos")
    assert batch_table.name == "tiny.csv"
    assert corpus.name == TINY_JOB
    assert (corpus.rows, corpus.n) == (TINY_ROWS, TINY_ROWS)


def test_an_explicit_name_wins_over_job_and_stem(batch_table: Path, tmp_path: Path) -> None:
    assert load_corpus(batch_table, "mos", name="mine").name == "mine"
    plain = write_table(tmp_path / "plain.csv", plain_rows())
    assert load_corpus(plain, "mos", name="mine").name == "mine"


def test_a_copied_table_without_its_record_is_named_by_its_stem(
    batch_table: Path, tmp_path: Path
) -> None:
    copy = copy_table(batch_table, tmp_path / "elsewhere")
    corpus = load_corpus(copy, "mos")
    assert (corpus.name, corpus.key, corpus.scorers, corpus.provenance_note) == (
        "tiny",
        (),
        (),
        None,
    )


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("a=x.csv", ("a", Path("x.csv"))),
        ("konvid=data/konvid.csv.gz", ("konvid", Path("data/konvid.csv.gz"))),
        ("a=b=c.csv", ("a", Path("b=c.csv"))),  # a path holding '=' after a name
        ("x.csv", (None, Path("x.csv"))),
        ("/data/x.parquet", (None, Path("/data/x.parquet"))),
        ("dir/a=b.csv", (None, Path("dir/a=b.csv"))),  # '/' before '=': all of it is a path
        ("./a=b.csv", (None, Path("./a=b.csv"))),
        ("=x.csv", (None, Path("=x.csv"))),  # no name
        ("a=", (None, Path("a="))),  # no path
    ],
)
def test_parse_table_argument(argument: str, expected: tuple[str | None, Path]) -> None:
    assert parse_table_argument(argument) == expected


def test_check_names_refuses_two_corpora_with_one_name(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_table(tmp_path / "a" / "corpus.csv", plain_rows())
    second = write_table(tmp_path / "b" / "corpus.csv", plain_rows())
    corpora = [load_corpus(first, "mos"), load_corpus(second, "mos")]
    with pytest.raises(UsageError) as excinfo:
        check_names(corpora)
    message = str(excinfo.value)
    assert exit_code_for(excinfo.value) == EXIT_INPUT
    assert f"two corpora are both named 'corpus' ({first} and {second})" in message
    assert "name them with NAME=PATH" in message
    # naming them, as the message suggests, resolves it
    named = [parse_table_argument(f"a={first}"), parse_table_argument(f"b={second}")]
    check_names([load_corpus(path, "mos", name=name) for name, path in named])


# --- provenance -------------------------------------------------------------------------------


def test_key_and_scorers_come_from_the_provenance(batch_table: Path) -> None:
    corpus = load_corpus(batch_table, "mos")
    assert corpus.provenance_note is None
    assert corpus.key == ("clip",)
    assert corpus.scorers == (
        Scorer(name="fast_vqa", prefix="so_fast_vqa_", higher_is_better=True),
        Scorer(name="niqe", prefix="nq_", higher_is_better=False),
    )
    # the key is numeric here, so it is among the columns; the text 'label' is not
    assert list(corpus.columns) == [
        "clip",
        "seq",
        "vmaf",
        "so_fast_vqa_score",
        "so_fast_vqa_aux",
        "nq_niqe",
    ]


def test_the_record_is_found_from_a_relative_path(
    batch_table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(batch_table.parent)
    corpus = load_corpus(Path(batch_table.name), "mos")
    assert (corpus.name, corpus.key) == (TINY_JOB, ("clip",))


def _edited_record(table: Path, edit: str) -> str:
    record: dict[str, Any] = json.loads(provenance_path(table).read_text(encoding="utf-8"))
    if edit == "newer-schema":
        record["schema"] = "second-opinion.provenance/99"
    elif edit == "no-job":
        del record["job"]
    return json.dumps(record)


@pytest.mark.parametrize(
    ("edit", "note"),
    [
        ("not-json", "provenance unreadable (JSONDecodeError); ignored"),
        (
            "newer-schema",
            (
                "provenance schema 'second-opinion.provenance/99' is not "
                "'second-opinion.provenance/1'; ignored"
            ),
        ),
        ("no-job", "provenance unreadable (malformed: job is missing); ignored"),
    ],
)
def test_an_unreadable_record_is_ignored_with_a_note(
    batch_table: Path, tmp_path: Path, edit: str, note: str
) -> None:
    text = "{not json" if edit == "not-json" else _edited_record(batch_table, edit)
    copy = copy_table(batch_table, tmp_path / edit, record=text)
    corpus = load_corpus(copy, "mos")
    assert corpus.provenance_note == note
    assert (corpus.name, corpus.key, corpus.scorers) == ("tiny", (), ())
    assert corpus.n == TINY_ROWS


def test_a_record_without_a_spec_gives_no_key_or_scorers(batch_table: Path, tmp_path: Path) -> None:
    record: dict[str, Any] = json.loads(provenance_path(batch_table).read_text(encoding="utf-8"))
    record["job"]["spec"] = "not a spec"
    copy = copy_table(batch_table, tmp_path / "nospec", record=json.dumps(record))
    corpus = load_corpus(copy, "mos")
    assert (corpus.name, corpus.key, corpus.scorers, corpus.provenance_note) == (
        TINY_JOB,
        (),
        (),
        None,
    )


def test_corpus_n_counts_rows_with_a_mos() -> None:
    corpus = Corpus(
        name="c",
        path=Path("c.csv"),
        mos_column="mos",
        mos=np.arange(11, dtype=np.float64),
        columns={},
        rows=15,
    )
    assert (corpus.n, corpus.rows) == (11, 15)


@pytest.mark.parametrize(
    ("row", "shown"),
    [
        ('{"mos": {"a": 1}, "x": 1}', "STRUCT(A BIGINT)"),
        ('{"mos": [1, 2], "x": 1}', "BIGINT[]"),
        # a nested type whose name holds text DuckDB cannot put in an error message whole
        ('{"mos": {"   \\u0080\\ud800\\udc00": null}}', "STRUCT("),
    ],
)
def test_a_nested_mos_column_is_refused_naming_its_type(
    tmp_path: Path, row: str, shown: str
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(row + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="the MOS column 'mos' holds nested values") as info:
        load_corpus(path, "mos", min_rows=1)
    assert shown in info.value.message.upper()
    assert info.value.message.endswith("not numbers; pass the MOS column with --mos")
