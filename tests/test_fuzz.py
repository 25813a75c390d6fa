"""Fuzz tests: on any input, the loaders return a result or raise a ``SecondOpinionError``.

Hypothesis feeds the manifest loader random bytes, random JSON and YAML documents and mutations
of the smoke manifest (keys deleted, replaced or added with random values); the table readers
random bytes, random CSV/TSV text, random JSONL lines and truncated Parquet files under every
supported suffix (each ``.gz`` one compressed or not); and the key normaliser any text with any
steps, where it must also agree with its DuckDB version. Any other exception is a bug: each one
found (NUL in paths and column names, deep YAML, corrupt gzip, huge header cells) is kept
below as an explicit regression test.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from second_opinion.audit.corpus import load_corpus
from second_opinion.batch.manifest.load import load_manifest
from second_opinion.batch.manifest.models import (
    AuditSection,
    Defaults,
    IngestEntry,
    JobEntry,
    ManifestFile,
    SidecarEntry,
)
from second_opinion.errors import InputError, SchemaError, SecondOpinionError, UnreadableFileError
from second_opinion.join.keys import normalize_key, normalize_sql
from second_opinion.join.options import Align
from second_opinion.join.run import join
from second_opinion.join.spec import JoinSpec, SidecarSpec
from second_opinion.tables.formats import connect
from second_opinion.tables.reading import open_table

ROOT = Path(__file__).resolve().parents[1]
SMOKE_DIR = ROOT / "testdata" / "smoke-second-opinion-batch"
SMOKE: dict[str, Any] = json.loads((SMOKE_DIR / "batch.json").read_text(encoding="utf-8"))

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def smoke_copy() -> Iterator[Path]:
    """A private copy of the smoke folder, so relative input paths in a manifest resolve."""
    with tempfile.TemporaryDirectory(prefix="so-fuzz-") as tmp:
        folder = Path(tmp) / "smoke"
        shutil.copytree(SMOKE_DIR, folder, ignore=shutil.ignore_patterns("expected"))
        (folder / "out").mkdir()
        yield folder


def _yields_or_fails_cleanly(call: Any, *args: Any, **kwargs: Any) -> None:
    """Run ``call``; a ``SecondOpinionError`` is fine, any other exception propagates."""
    with contextlib.suppress(SecondOpinionError):  # it has a message: never an empty one
        call(*args, **kwargs)


# --- manifests -------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Every field name the schema knows, so mutations reach past "unknown field".
SCHEMA_MODELS = (ManifestFile, Defaults, JobEntry, SidecarEntry, Align, IngestEntry, AuditSection)
FIELD_NAMES = sorted({name for model in SCHEMA_MODELS for name in model.model_fields})
# Values that mean something somewhere in a manifest: paths, variables, steps, kinds, policies.
MEANINGFUL = st.sampled_from(
    [
        "features_corpus_a.jsonl",
        "scores_b_dover_frames.csv",
        "batch.json",
        ".",
        "..",
        "",
        "/",
        "~",
        "~nobody/x.csv",
        "${output_dir}/corpus-a.jsonl",
        "${NO_SUCH_VARIABLE}",
        "${NO_SUCH_VARIABLE:-x.csv}",
        "${",
        "out",
        "out/x.parquet",
        "x.mat",
        "x.npy",
        "corpus-a.jsonl",
        "corpus-a",
        "saliency",
        "join",
        "strip",
        "lower",
        "basename",
        "stem",
        "zscore",
        "delta:vmaf_adm2",
        "delta:",
        "rank",
        "mean",
        "p5",
        "first",
        "error",
        "drop",
        "null",
        "clip_id",
        "video",
        "frame",
        "niqe",
        "NIQE",
        "a b",
        "col_{i}",
        "{i}",
        "{j}",
        "\x00",
        "a\x00b.csv",
        "\udcff",
        "é.csv",
        "con",
        ["clip_id"],
        [],
        {},
        ["mean", "mean"],
        ["basename", "stem", "upper"],
        {"video": "clip_id"},
        {"keys_from": "x.csv"},
        {"keys_from": "features_corpus_a.jsonl", "column": "clip_id"},
        0,
        1,
        2,
        -1,
        0.5,
        1.5,
        True,
        False,
        None,
        float("inf"),
    ]
)
# Deep-copied: a drawn list or dict is edited in place by later mutations.
VALUES = st.one_of(MEANINGFUL, JSON_VALUES).map(copy.deepcopy)


def _containers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every dict and list inside ``value`` (itself included)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        found.append(path)
        for key, item in value.items():
            found.extend(_containers(item, (*path, key)))
    elif isinstance(value, list):
        found.append(path)
        for index, item in enumerate(value):
            found.extend(_containers(item, (*path, index)))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


@st.composite
def mutated_smoke(draw: st.DrawFn) -> dict[str, Any]:
    """The smoke manifest with 1–5 random edits: delete, replace or add a key or item."""
    data = copy.deepcopy(SMOKE)
    for _ in range(draw(st.integers(1, 5))):
        target = _at(data, draw(st.sampled_from(_containers(data))))
        op = draw(st.sampled_from(["delete", "replace", "add"]))
        if isinstance(target, dict):
            keys = list(target)
            if op == "add" or not keys:
                name = draw(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)))
                target[name] = draw(VALUES)
            elif op == "delete":
                del target[draw(st.sampled_from(keys))]
            else:
                target[draw(st.sampled_from(keys))] = draw(VALUES)
        elif op == "add" or not target:
            target.insert(draw(st.integers(0, len(target))), draw(VALUES))
        elif op == "delete":
            del target[draw(st.integers(0, len(target) - 1))]
        else:
            target[draw(st.integers(0, len(target) - 1))] = draw(VALUES)
    return data


def _write_manifest(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def _dump_json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _load(path: Path, out: Path | None) -> None:
    _yields_or_fails_cleanly(load_manifest, path, out_dir=out)


MANIFEST_NAMES = st.sampled_from(["m.json", "m.yaml", "m.yml", "m.JSON", "m.txt", "m"])


@FUZZ
@given(content=st.binary(max_size=300), name=MANIFEST_NAMES)
def test_manifest_from_random_bytes(smoke_copy: Path, content: bytes, name: str) -> None:
    _load(_write_manifest(smoke_copy, name, content), smoke_copy / "out")


@FUZZ
@given(value=JSON_VALUES, name=st.sampled_from(["m.json", "m.yaml"]))
def test_manifest_from_random_json_value(smoke_copy: Path, value: object, name: str) -> None:
    _load(_write_manifest(smoke_copy, name, _dump_json(value)), smoke_copy / "out")


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.text(alphabet=st.sampled_from("-:?[]{},&*!|>'\"%@` \n\tab1#."), max_size=200),
        JSON_VALUES.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
    )
)
def test_manifest_from_random_yaml(smoke_copy: Path, text: str) -> None:
    content = text.encode("utf-8", "surrogatepass")
    _load(_write_manifest(smoke_copy, "m.yaml", content), smoke_copy / "out")


@FUZZ
@given(
    data=mutated_smoke(),
    as_yaml=st.booleans(),
    out=st.sampled_from(["out", None]),
)
def test_manifest_from_mutated_smoke(
    smoke_copy: Path, data: dict[str, Any], as_yaml: bool, out: str | None
) -> None:
    if as_yaml:
        content = yaml.safe_dump(data, allow_unicode=True).encode("utf-8", "surrogatepass")
        path = _write_manifest(smoke_copy, "batch.yaml", content)
    else:
        path = _write_manifest(smoke_copy, "batch.json", _dump_json(data))
    _load(path, smoke_copy / out if out else None)


# --- tables ----------------------------------------------------------------------------------

SUFFIXES = [
    ".jsonl",
    ".ndjson",
    ".csv",
    ".tsv",
    ".parquet",
    ".jsonl.gz",
    ".ndjson.gz",
    ".csv.gz",
    ".tsv.gz",
]
CELL_CHARS = "ab1.5-e ,;\t\n\r\"'\\#{}[]:\x00é€İ"
CELLS = st.one_of(
    st.text(alphabet=st.sampled_from(CELL_CHARS), max_size=6),
    st.sampled_from(["", "nan", "inf", "-inf", "NULL", "1", "2.5", "1e400", "+3", " 4", "1_0"]),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(str),
)
HEADERS = st.one_of(
    st.sampled_from(["clip_id", "mos", "score", "frame", "CLIP_ID", "", "so_t_score"]),
    st.text(alphabet=st.sampled_from(CELL_CHARS), max_size=4),
)


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    """Rows of random cells, joined with a random delimiter, optionally quoted."""
    width = draw(st.integers(1, 4))
    rows = [draw(st.lists(HEADERS, min_size=width, max_size=width))]
    rows += draw(st.lists(st.lists(CELLS, min_size=0, max_size=width + 1), max_size=12))
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    quote = draw(st.booleans())
    lines = []
    for row in rows:
        cells = [f'"{c}"' if quote and draw(st.booleans()) else c for c in row]
        lines.append(delimiter.join(cells))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(lines) + draw(st.sampled_from(["", newline]))


JSON_LINE = st.one_of(
    st.dictionaries(HEADERS, st.one_of(SCALARS, CELLS, JSON_VALUES), max_size=4).map(
        lambda d: json.dumps(d, ensure_ascii=False)
    ),
    JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=False)),
    st.text(max_size=20),
    st.just(""),
)
JSONL_TEXT = st.lists(JSON_LINE, max_size=10).map(lambda lines: "\n".join(lines) + "\n")


@st.composite
def parquet_bytes(draw: st.DrawFn) -> bytes:
    """A small real Parquet file, cut short or with one byte flipped."""
    n = draw(st.integers(0, 5))
    columns: dict[str, list[Any]] = {
        "clip_id": [f"c{i}" for i in range(n)],
        "mos": [draw(st.one_of(st.none(), st.floats())) for _ in range(n)],
    }
    if draw(st.booleans()):
        columns["score"] = [draw(st.one_of(st.none(), st.text(max_size=3))) for _ in range(n)]
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    content = buffer.getvalue()
    if draw(st.booleans()):
        return content[: draw(st.integers(0, len(content)))]
    position = draw(st.integers(0, len(content) - 1))
    flipped = content[position] ^ draw(st.integers(1, 255))
    return content[:position] + bytes([flipped]) + content[position + 1 :]


TABLE_CONTENTS = st.one_of(
    st.binary(max_size=200),
    csv_text().map(lambda t: t.encode("utf-8", "surrogatepass")),
    JSONL_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    parquet_bytes(),
)


@st.composite
def table_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """(suffix, bytes): any content under any suffix; a .gz one compressed, cut or left plain."""
    suffix = draw(st.sampled_from(SUFFIXES))
    content = draw(TABLE_CONTENTS)
    if suffix.endswith(".gz"):
        how = draw(st.sampled_from(["gzip", "gzip", "truncated", "plain"]))
        if how != "plain":
            content = gzip.compress(content, mtime=0)
        if how == "truncated":
            content = content[: draw(st.integers(0, len(content)))]
    return suffix, content


def _read_table(path: Path) -> None:
    """Open ``path``, then read every row: join it with itself as a sidecar, then as a corpus."""
    with connect() as con:
        table = open_table(con, path)
    if not table.columns:
        return
    key = table.columns[0]
    _yields_or_fails_cleanly(join, JoinSpec(features=path, key=(key,)))
    sidecar = SidecarSpec(scorer="t", path=path, on_duplicate="first", normalize_keys=("strip",))
    _yields_or_fails_cleanly(join, JoinSpec(features=path, key=(key,), sidecars=(sidecar,)))
    _yields_or_fails_cleanly(load_corpus, path, table.columns[-1], min_rows=1)


def _check_table(suffix: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="so-fuzz-") as tmp:
        path = Path(tmp) / f"table{suffix}"
        path.write_bytes(content)
        _yields_or_fails_cleanly(_read_table, path)


@FUZZ
@given(file=table_files())
@example(
    # Found in CI: a nested column whose field name DuckDB truncates mid-character in its error
    # message (the audit now refuses a nested MOS column before reading it).
    file=(
        ".jsonl",
        (
            b'{}\n{"":null,"   \xc2\x80\xf0\x90\x80\x80\xf0\x90\x80\x80\xf0\x90\x80\x80'
            b'\xf0\x90\x80\x80":{"           \xc2\x80\xe0\xa0\x80":null}}'
        ),
    )
)
def test_table_readers_on_random_files(file: tuple[str, bytes]) -> None:
    _check_table(*file)


@settings(FUZZ, max_examples=30)
@given(suffix=st.sampled_from(SUFFIXES), content=parquet_bytes())
def test_table_readers_on_damaged_parquet(suffix: str, content: bytes) -> None:
    _check_table(suffix, content)


# --- keys ------------------------------------------------------------------------------------

STEP_NAMES = st.lists(
    st.one_of(
        st.sampled_from(["strip", "basename", "stem", "lower"]),
        st.sampled_from(["upper", "", "Strip", "stem "]),
        st.text(max_size=5),
    ),
    max_size=5,
)
VALID_STEPS = st.lists(st.sampled_from(["strip", "basename", "stem", "lower"]), unique=True)
# Any surrogate-free text (NUL included), and text rich in what the steps act on.
ANY_KEYS = st.one_of(
    st.text(max_size=30),
    st.text(
        alphabet=st.one_of(
            st.sampled_from(list("\x00/\\. \t\n\r\v\f\x1c\x85\xa0\u2028\u3000aAİΣßẞǅﬀ")),
            st.characters(exclude_categories=["Cs"]),
        ),
        max_size=30,
    ),
)


@settings(FUZZ, max_examples=60)
@given(key=ANY_KEYS, steps=STEP_NAMES)
def test_normalize_key_on_any_text_and_steps(key: str, steps: list[str]) -> None:
    _yields_or_fails_cleanly(normalize_key, key, steps)
    _yields_or_fails_cleanly(normalize_sql, '"k"', steps)


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    yield con
    con.close()


@settings(FUZZ, max_examples=60)
@given(key=ANY_KEYS, steps=VALID_STEPS)
def test_sql_normalisation_equals_python_on_any_text(
    duck: duckdb.DuckDBPyConnection, key: str, steps: list[str]
) -> None:
    # The key is bound as a parameter, as a column value would be: a SQL literal cannot hold NUL.
    row = duck.execute(f"SELECT {normalize_sql('$k', steps)}", {"k": key}).fetchone()  # type: ignore[arg-type]
    assert row is not None
    assert row[0] == normalize_key(key, steps)  # type: ignore[arg-type]


# --- bugs found, now fixed ------------------------------------------------------------------------
# Each is the smallest input found (by Hypothesis, or by hand along the same lines) that raised
# something other than a SecondOpinionError before its fix. Each asserts the error it gets now
# and its message: an input silently accepted, or refused for another reason, fails the test.

_JOB = {"name": "j", "features": "f.csv", "key": ["k"], "output": "o.csv"}


NUL_PATH = "the path holds a NUL character ('\\x00'); remove it"


def _refused(kind: type[SecondOpinionError], call: Any, *args: Any, **kwargs: Any) -> str:
    """The message of the ``kind`` error ``call`` raises (nothing else may escape)."""
    with pytest.raises(kind) as caught:
        call(*args, **kwargs)
    return caught.value.message


@pytest.mark.parametrize(
    ("manifest", "where"),
    [
        (
            {
                "version": 1,
                "output_dir": "o",
                "jobs": [
                    {**_JOB, "output": "\x00", "sidecars": [{"scorer": "s", "path": "s.csv"}]}
                ],
            },
            "jobs[0].output",
        ),
        (
            {
                "version": 1,
                "output_dir": "o",
                "jobs": [
                    {**_JOB, "features": "\x00", "sidecars": [{"scorer": "s", "path": "s.csv"}]}
                ],
            },
            "jobs[0].features",
        ),
        (
            {
                "version": 1,
                "output_dir": "o",
                "jobs": [{**_JOB, "sidecars": [{"scorer": "s", "path": "\x00"}]}],
            },
            "jobs[0].sidecars[0].path",
        ),
        (
            {
                "version": 1,
                "output_dir": "\x00",
                "jobs": [{**_JOB, "sidecars": [{"scorer": "s", "path": "s.csv"}]}],
            },
            "output_dir",
        ),
        ({"version": 1, "output_dir": "o", "jobs": [], "audit": {"out": "\x00"}}, "audit.out"),
    ],
    ids=["output", "features", "sidecar-path", "output_dir", "audit-out"],
)
def test_regression_nul_in_path(tmp_path: Path, manifest: dict[str, Any], where: str) -> None:
    path = _write_manifest(tmp_path, "m.json", _dump_json(manifest))
    message = _refused(InputError, load_manifest, path)
    assert message.startswith(f"{path}: invalid manifest ("), message
    assert f"  {where}: {NUL_PATH}" in message.splitlines(), message


@pytest.mark.parametrize("text", ["[" * 1000, "{a: " * 1000, "- " * 1000])
def test_regression_deep_yaml(tmp_path: Path, text: str) -> None:
    path = _write_manifest(tmp_path, "m.yaml", text.encode())
    assert _refused(InputError, load_manifest, path) == f"{path}: YAML nested too deeply"


# A gzip header followed by a deflate block of the reserved type 3: "invalid block type".
BAD_DEFLATE = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\xff"


def _table(tmp_path: Path, suffix: str, content: bytes) -> Path:
    path = tmp_path / f"table{suffix}"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("suffix", [".csv.gz", ".tsv.gz", ".jsonl.gz", ".ndjson.gz"])
def test_regression_corrupt_gzip(tmp_path: Path, suffix: str) -> None:
    path = _table(tmp_path, suffix, BAD_DEFLATE)
    assert _refused(UnreadableFileError, _read_table, path) == (
        f"{path}: cannot read (Error -3 while decompressing data: invalid block type)"
    )


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".csv.gz"])
def test_regression_long_header_cell(tmp_path: Path, suffix: str) -> None:
    content = b"a" * 131073 + b"\n"
    path = _table(
        tmp_path, suffix, gzip.compress(content, mtime=0) if suffix.endswith(".gz") else content
    )
    kind = "TSV" if suffix == ".tsv" else "CSV"
    assert _refused(UnreadableFileError, _read_table, path) == (
        f"{path}: a column name in the header row is longer than 131,072 characters; "
        f"is it a {kind} file? shorten the header row"
    )


def _nul_parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"\x00": [1.0]}), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("suffix", "content"),
    [(".csv", b"\x00"), (".jsonl", b'{"\\u0000": 1}\n'), (".parquet", _nul_parquet())],
    ids=["csv", "jsonl", "parquet"],
)
def test_regression_nul_column(tmp_path: Path, suffix: str, content: bytes) -> None:
    path = _table(tmp_path, suffix, content)
    assert _refused(SchemaError, load_corpus, path, "\x00", min_rows=1) == (
        f"{path}: column name '\\x00' holds a NUL character; rename the column"
    )


def test_regression_nul_column_renamed_by_join(tmp_path: Path) -> None:
    path = _table(tmp_path, ".csv", b"a\x00b,m\n1,x\n")
    assert _refused(SchemaError, join, JoinSpec(features=path, key=("m",))) == (
        f"{path}: column name 'a\\x00b' holds a NUL character; rename the column"
    )
