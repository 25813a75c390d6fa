"""VMAF dataset files (preset netflix-public): read without running, refused when they hold code."""

from __future__ import annotations

import statistics
import textwrap
from pathlib import Path
from typing import Any

import pytest

from second_opinion.errors import InputError
from second_opinion.ingest.dataset_file import read_dataset
from second_opinion.ingest.errors import (
    DatasetFormatError,
    DuplicateIdError,
    MissingMosError,
    ScaleError,
    UnsafeDatasetError,
)
from second_opinion.ingest.ingest import ingest
from second_opinion.ingest.netflix import clip_id_of, column_values, dataset_rows
from tests._corpora import netflix_dataset
from tests._tables import read_rows


def dataset(tmp_path: Path, text: str, name: str = "dataset.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def ratings(entry: dict[str, Any]) -> list[float]:
    value = entry["os"]
    values = value.values() if isinstance(value, dict) else value
    return [float(v) for v in values if v is not None]


def test_a_raw_dataset_becomes_the_canonical_table(tmp_path: Path) -> None:
    text, entries = netflix_dataset()
    source = dataset(tmp_path, text)
    out = tmp_path / "nflx.parquet"
    report = ingest("netflix-public", source, out)
    written = read_rows(out)
    assert report.rows == len(entries) == 9
    assert report.mos_scale == (1.0, 5.0)
    assert (report.id_column, report.mos_column) == ("path", "os")
    assert list(written[0]) == [
        "clip_id",
        "mos",
        "mos_std",
        "n_ratings",
        "corpus",
        "mos_min",
        "mos_max",
        "mos_01",
        "asset_id",
        "content_id",
        "path",
        "content_name",
        "ref_path",
        "dataset_name",
        "yuv_fmt",
        "width",
        "height",
        "ref_dir",
        "dis_dir",
    ]
    for entry, row in zip(entries, written, strict=True):
        scores = ratings(entry)
        assert row["clip_id"] == Path(entry["path"]).stem
        assert row["mos"] == statistics.fmean(scores)
        assert row["mos_std"] == statistics.stdev(scores)  # sample std (n − 1)
        assert row["n_ratings"] == len(scores)
        assert row["mos_01"] == (row["mos"] - 1.0) / 4.0
        assert row["path"] == entry["path"]
        assert row["ref_path"].startswith("/data/ref/Content")
        assert row["content_name"] == f"Content{entry['content_id']}"
        assert (row["dataset_name"], row["width"], row["height"]) == ("NFLX_test", 1920, 1080)
    assert written[1]["n_ratings"] == 5  # the {subject: rating} entry skips its None


def test_a_dmos_dataset_keeps_the_dmos_as_mos(tmp_path: Path) -> None:
    text, entries = netflix_dataset(dmos=True)
    out = tmp_path / "nflx.jsonl"
    report = ingest("netflix-public", dataset(tmp_path, text), out)
    written = read_rows(out)
    assert (report.mos_column, report.mos_scale) == ("dmos", (0.0, 100.0))
    assert "mos_std" not in written[0]
    assert "n_ratings" not in written[0]
    assert [r["mos"] for r in written] == [e["dmos"] for e in entries]
    assert [r["mos_01"] for r in written] == [e["dmos"] / 100.0 for e in entries]


def test_a_dmos_above_100_needs_allow_out_of_scale_or_a_scale(tmp_path: Path) -> None:
    # Netflix's NFLX_dataset_public.py has DMOS up to 109.2 for clips rated above their reference.
    source = dataset(
        tmp_path,
        """
        ref_dir = '/r'
        dis_videos = [
            {'content_id': 0, 'asset_id': 0, 'dmos': 100.0, 'path': ref_dir + '/A_25fps.yuv'},
            {'content_id': 0, 'asset_id': 1, 'dmos': 103.25, 'path': '/d/A_90_1080_4300.yuv'},
        ]
    """,
    )
    with pytest.raises(ScaleError) as caught:
        ingest("netflix-public", source, tmp_path / "o.csv")
    assert caught.value.message.startswith(
        f"{source} line 4 (dis_videos[1]): MOS 103.25 of clip 'A_90_1080_4300' (column 'dmos') "
        "is outside the netflix-public scale 0–100 (1 rows are); "
    )
    report = ingest("netflix-public", source, tmp_path / "o.csv", allow_out_of_scale=True)
    assert (report.rows, report.out_of_scale) == (2, 1)
    report = ingest("netflix-public", source, tmp_path / "o.csv", mos_scale=(0, 110))
    assert report.out_of_scale == 0


def test_the_file_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = dataset(
        tmp_path,
        f"""
        dataset_name = 'x'
        dis_videos = []
        open({str(marker)!r}, 'w').write('ran')
    """,
    )
    with pytest.raises(
        UnsafeDatasetError,
        match=r"dataset\.py line 3: an expression statement \(a function call\) is not ",
    ):
        ingest("netflix-public", source, tmp_path / "o.csv")
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset.py"]


@pytest.mark.parametrize(
    ("code", "line", "what"),
    [
        ("x = open('f')", 2, "a function call"),
        ("import os", 2, "an import"),
        ("from os import path", 2, "an import"),
        ("x = os.path", 2, "attribute access"),
        ("x = ref_dir.upper", 2, "attribute access"),
        ("x = [c for c in 'ab']", 2, "a comprehension"),
        ("x = {c: 1 for c in 'ab'}", 2, "a comprehension"),
        ("x = list(c for c in 'ab')", 2, "a function call"),
        ("x = lambda: 1", 2, "a lambda"),
        ("x = f'{ref_dir}/a.yuv'", 2, "an f-string"),
        ("x = ref_dir[0]", 2, "subscripting"),
        ("x = 2 * 3", 2, "the operator '*'"),
        ("x = '%s/a' % ref_dir", 2, "the operator '%'"),
        ("x = 1 + 2", 2, "'+' between non-strings (it joins strings only)"),
        ("x = {**{}}", 2, "'**' unpacking"),
        ("x = {1, 2}", 2, "a set"),
        ("x = b'raw'", 2, "a bytes constant"),
        ("x = 1 if True else 2", 2, "a conditional expression"),
        ("a, b = 1, 2", 2, "an assignment to something other than a plain name"),
        ("x = 1\nx += 1", 3, "an augmented assignment ('+=')"),
        ("def f():\n    return 1", 2, "a function definition"),
        ("class C:\n    pass", 2, "a class definition"),
        ("print('hi')", 2, "an expression statement (a function call)"),
        ("1 + 2", 2, "an expression statement (the operator '+')"),
        ("if True:\n    x = 1", 2, "an 'if' statement"),
        ("for i in []:\n    pass", 2, "a 'for' loop"),
        ("with open('f') as f:\n    pass", 2, "a 'with' statement"),
        ("del ref_dir", 2, "a 'del' statement"),
        ("x = (y := 1)", 2, "an ':=' assignment"),
        ("x = [\n    'a',\n    __import__('os'),\n]", 4, "a function call"),
    ],
)
def test_code_is_refused_with_its_line(code: str, line: int, what: str, tmp_path: Path) -> None:
    source = dataset(tmp_path, "ref_dir = '/r'\n" + code + "\n")
    with pytest.raises(UnsafeDatasetError) as caught:
        read_dataset(source)
    message = caught.value.message
    assert message.startswith(f"{source} line {line}: {what} is not allowed"), message
    assert message.endswith(
        "; the dataset file is read, never run, so it may hold only 'name = value' assignments "
        "of literals (strings, numbers, True/False/None, lists, tuples, dicts), names assigned "
        "above, negative numbers and strings joined with '+'; rewrite the value as a literal"
    )


def test_refusals_name_the_assignment(tmp_path: Path) -> None:
    source = dataset(tmp_path, "dis_videos = [{'path': os.path.join('a', 'b')}]\n")
    with pytest.raises(
        UnsafeDatasetError,
        match=r"line 1: a function call is not allowed "
        r"\(in the value of 'dis_videos'\); ",
    ):
        read_dataset(source)


def test_a_name_must_be_assigned_above(tmp_path: Path) -> None:
    source = dataset(tmp_path, "dis_videos = [{'path': dis_dir + '/a.yuv'}]\ndis_dir = '/d'\n")
    with pytest.raises(UnsafeDatasetError) as caught:
        read_dataset(source)
    assert caught.value.message == (
        f"{source} line 1: name 'dis_dir' is not assigned above (in the value of 'dis_videos'); "
        "assign it earlier in the file, or write the value itself"
    )


def test_literals_names_and_string_joins_are_evaluated(tmp_path: Path) -> None:
    source = dataset(
        tmp_path,
        '''
        """Docstring."""
        root = '/data'
        ref_dir = root + '/ref' + '/' + "x"
        n: int = -3
        flags = (True, False, None, +1.5)
        nested = {'a': [ref_dir, {'b': n}], 2: ()}
        alias = nested
    ''',
    )
    read = read_dataset(source)
    assert read.values == {
        "root": "/data",
        "ref_dir": "/data/ref/x",
        "n": -3,
        "flags": [True, False, None, 1.5],
        "nested": {"a": ["/data/ref/x", {"b": -3}], 2: []},
        "alias": {"a": ["/data/ref/x", {"b": -3}], 2: []},
    }
    assert read.lines == {"root": 2, "ref_dir": 3, "n": 4, "flags": 5, "nested": 6, "alias": 7}


def test_a_string_longer_than_the_limit_is_refused_before_it_is_built(tmp_path: Path) -> None:
    doubling = "".join(f"s{i} = s{i - 1} + s{i - 1}\n" for i in range(1, 41))
    source = dataset(tmp_path, "s0 = 'xxxxxxxxxxxxxxxx'\n" + doubling)
    with pytest.raises(UnsafeDatasetError) as caught:
        read_dataset(source)  # s40 would be 16 TiB
    assert caught.value.message == (
        f"{source} line 17: a string of 1048576 characters (in the value of 's16') is longer "
        "than the 1000000 a dataset file may hold; a dataset's strings are names and paths: "
        "check what the '+' joins"
    )


def test_a_long_string_literal_is_refused(tmp_path: Path) -> None:
    source = dataset(tmp_path, "ref_dir = '/r'\nname = '" + "x" * 1_000_001 + "'\n")
    with pytest.raises(UnsafeDatasetError, match=r"line 2: a string of 1000001 characters \(in"):
        read_dataset(source)


def test_elements_reached_through_names_count_each_time(tmp_path: Path) -> None:
    """Lists of a name ten times over: a few bytes in memory, 10**k entries once spelled out
    (as the columns of dis_videos would be); refused at the line that passes the limit."""
    tenfold = "".join(f"l{i} = [{', '.join([f'l{i - 1}'] * 10)}]\n" for i in range(1, 12))
    source = dataset(tmp_path, "l0 = [{'a': 1}]\n" + tenfold)
    with pytest.raises(UnsafeDatasetError) as caught:
        read_dataset(source)
    assert caught.value.message == (
        f"{source} line 8: the values up to here hold more than 10000000 list, tuple and dict "
        "elements (in the value of 'l7'), the most a dataset file may hold, counting a name's "
        "value each time the name is used; check for lists that repeat a name, or split the "
        "dataset"
    )


def test_characters_reached_through_names_count_each_time(tmp_path: Path) -> None:
    text = "s = '" + "x" * 900_000 + "'\nl = [s, s, s, s, s, s, s, s, s, s]\n"
    source = dataset(tmp_path, text + "m = [l, l, l, l, l, l, l, l, l, l]\nn = [m, m]\n")
    with pytest.raises(UnsafeDatasetError) as caught:
        read_dataset(source)
    assert caught.value.message.startswith(
        f"{source} line 4: the values up to here hold more than 100000000 characters of strings "
        "(in the value of 'n'), the most a dataset file may hold"
    )


def test_values_within_the_limits_are_read(tmp_path: Path) -> None:
    doubling = "".join(f"s{i} = s{i - 1} + s{i - 1}\n" for i in range(1, 16))
    tenfold = "".join(f"l{i} = [{', '.join([f'l{i - 1}'] * 10)}]\n" for i in range(1, 6))
    source = dataset(tmp_path, "s0 = 'xxxxxxxxxxxxxxxx'\n" + doubling + "l0 = [s0]\n" + tenfold)
    read = read_dataset(source)
    assert len(str(read.values["s15"])) == 16 * 2**15
    expected: object = ["xxxxxxxxxxxxxxxx"]
    for _ in range(5):
        expected = [expected] * 10
    assert read.values["l5"] == expected


def test_a_file_that_is_not_python(tmp_path: Path) -> None:
    source = dataset(tmp_path, "dis_videos = [\n  {'path': 'a.yuv',\n]\n")
    with pytest.raises(InputError, match=r"dataset\.py line \d: not valid Python \(.*\); fix the"):
        read_dataset(source)
    with pytest.raises(InputError, match=r"missing\.py: no such file$"):
        read_dataset(tmp_path / "missing.py")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "ref_videos = []\n",
            (
                r"no 'dis_videos' \(names assigned: ref_videos\); a VMAF "
                "dataset file assigns ref_videos and dis_videos, lists of dicts"
            ),
        ),
        ("dis_videos = {}\n", r"line 1: 'dis_videos' must be a list of dicts"),
        ("dis_videos = []\n", r"line 1: 'dis_videos' is empty; the dataset has no videos"),
        (
            "dis_videos = [\n  {'os': [1]},\n]\n",
            (
                r"line 2 \(dis_videos\[0\]\): entry has no 'path' string \(got None\); every "
                "distorted video needs its path, whose stem is the clip id"
            ),
        ),
        (
            "dis_videos = [\n  {'path': 'a', 'os': [1]},\n  {'path': 'b', 'dmos': 2},\n]\n",
            (
                r"line 3 \(dis_videos\[1\]\): entry has 'dmos' but line 2 \(dis_videos\[0\]\) has "
                "'os'; one dataset uses one kind of score"
            ),
        ),
    ],
)
def test_a_dataset_in_the_wrong_shape(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match=message):
        ingest("netflix-public", dataset(tmp_path, text), tmp_path / "o.csv")


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("{'path': '/d/b.yuv'}", "entry has no 'os'"),
        ("{'path': '/d/b.yuv', 'os': []}", "'os' holds no rating"),
        ("{'path': '/d/b.yuv', 'os': [None]}", "'os' holds no rating"),
        (
            "{'path': '/d/b.yuv', 'os': [4, 'five']}",
            "'os' holds 'five', which is not a finite number",
        ),
        (
            "{'path': '/d/b.yuv', 'os': 4}",
            "'os' is 4, not a list of ratings or a {subject: rating} dict",
        ),
    ],
)
def test_an_entry_without_usable_ratings(entry: str, reason: str, tmp_path: Path) -> None:
    text = f"dis_videos = [\n  {{'path': '/d/a.yuv', 'os': [3, 4]}},\n  {entry},\n]\n"
    source = dataset(tmp_path, text)
    with pytest.raises(MissingMosError) as caught:
        ingest("netflix-public", source, tmp_path / "o.csv")
    assert caught.value.message == (
        f"{source} line 3 (dis_videos[1]): {reason}; fix the entry, or pass --drop-missing-mos "
        "to drop entries without a usable score (1 of 2 entries lack one)"
    )
    out = tmp_path / "o.jsonl"
    report = ingest("netflix-public", source, out, drop_missing_mos=True)
    assert (report.rows, report.dropped) == (1, 1)
    assert [d.to_dict() for d in report.dropped_rows] == [
        {"where": "line 3 (dis_videos[1])", "reason": reason}
    ]
    assert [r["clip_id"] for r in read_rows(out)] == ["a"]


def test_a_dmos_that_is_not_a_number(tmp_path: Path) -> None:
    source = dataset(tmp_path, "dis_videos = [\n  {'path': 'a.yuv', 'dmos': 'n/a'},\n]\n")
    with pytest.raises(
        MissingMosError,
        match=r"line 2 \(dis_videos\[0\]\): 'dmos' is 'n/a', "
        "which is not a finite number; ",
    ):
        ingest("netflix-public", source, tmp_path / "o.csv")


def test_two_entries_with_one_stem_are_duplicates(tmp_path: Path) -> None:
    source = dataset(
        tmp_path,
        """
        dis_videos = [
            {'path': '/a/clip.yuv', 'os': [3]},
            {'path': '/b/other.yuv', 'os': [3]},
            {'path': '/b/clip.yuv', 'os': [4]},
        ]
    """,
    )
    with pytest.raises(DuplicateIdError) as caught:
        ingest("netflix-public", source, tmp_path / "o.csv")
    assert caught.value.message == (
        f"{source}: clip id 'clip' (column 'path') is on two rows, line 2 (dis_videos[0]) and "
        "line 4 (dis_videos[2]); ids must be unique — remove the repeated row or fix its id"
    )


def test_column_options_do_not_apply(tmp_path: Path) -> None:
    text, _ = netflix_dataset(1, 1)
    with pytest.raises(InputError, match=r"leave out --mos-column, --n-ratings-column$"):
        ingest(
            "netflix-public",
            dataset(tmp_path, text),
            tmp_path / "o.csv",
            mos_column="os",
            n_ratings_column="n",
        )


def test_a_single_rating_has_no_std(tmp_path: Path) -> None:
    source = dataset(tmp_path, "dis_videos = [{'path': 'C:\\\\v\\\\a.yuv', 'os': [2]}]\n")
    out = tmp_path / "o.jsonl"
    ingest("netflix-public", source, out)
    row = read_rows(out)[0]
    assert (row["clip_id"], row["mos"], row["mos_std"], row["n_ratings"]) == ("a", 2.0, None, 1)


def test_clip_ids_are_path_stems() -> None:
    assert clip_id_of("/data/dis/A_20_288_375.yuv") == "A_20_288_375"
    assert clip_id_of("C:\\data\\B.yuv") == "B"
    assert clip_id_of("plain") == "plain"
    assert clip_id_of("x/archive.tar.gz") == "archive.tar"


def test_other_columns_get_one_type() -> None:
    assert column_values([1, None, 2]) == ("int64", [1, None, 2])
    assert column_values([1, 2.5]) == ("float64", [1.0, 2.5])
    assert column_values([True, None]) == ("bool", [True, None])
    assert column_values([None, None]) == ("string", [None, None])
    assert column_values(["a", 1]) == ("string", ["a", "1"])
    assert column_values([[1, 2], {"a": 1}]) == ("string", ["[1, 2]", '{"a": 1}'])
    assert column_values([2**70]) == ("float64", [float(2**70)])


def test_fields_of_any_type_are_kept(tmp_path: Path) -> None:
    source = dataset(
        tmp_path,
        """
        quality_width = 1280
        dis_videos = [
            {'path': 'a.yuv', 'os': [3], 'train_or_test': 'train', 'flag': True, 'w': 1,
             'extra': [1, 2], 'mixed': 'x'},
            {'path': 'b.yuv', 'os': [4], 'train_or_test': 'test', 'flag': False, 'w': 2.5,
             'extra': {'k': None}, 'mixed': 3},
        ]
    """,
    )
    out = tmp_path / "o.parquet"
    report = ingest("netflix-public", source, out)
    assert report.columns[8:] == (
        "path",
        "train_or_test",
        "flag",
        "w",
        "extra",
        "mixed",
        "quality_width",
    )
    written = read_rows(out)
    assert [(r["flag"], r["w"], r["extra"], r["mixed"], r["quality_width"]) for r in written] == [
        (True, 1.0, "[1, 2]", "x", 1280),
        (False, 2.5, '{"k": null}', "3", 1280),
    ]


def test_dataset_rows_reads_the_score_kind(tmp_path: Path) -> None:
    text, _ = netflix_dataset(2, 2, dmos=True)
    rows = dataset_rows(read_dataset(dataset(tmp_path, text)))
    assert rows.score_field == "dmos"
    assert rows.mos_std is None
    assert rows.locate(0).startswith("line ")
