"""Row-aligned sidecars (issue 5 §2): a bare score matrix joined by the row order of a key table.

Every join is checked against a plain-Python reference: row *i* of the matrix (after turning a
1×N row vector into N×1) belongs to the key on row *i* of ``align.keys_from``; the base table's
rows keep their order, a base key with no matrix row gets nulls, NaN and ±inf become null.
"""

from __future__ import annotations

import csv
import math
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]
from pydantic import ValidationError

from second_opinion import (
    InputError,
    JoinSpec,
    SidecarSpec,
    UsageError,
    join,
    join_to_file,
)
from second_opinion.join.options import Align
from second_opinion.join.run import check_spec
from second_opinion.join.spec import build_join_spec
from tests._matrices import write_mat73, write_text
from tests._paths import KONVID, needs_real_data
from tests._tables import read_rows, write_table

# The key table lists the matrix's rows in its own order; the base table has the keys in another
# order, lacks two of them (v03, v06: extra sidecar keys) and has one the matrix lacks (zz9).
KEYS = ["v03", "v01", "v06", "v02", "v05", "v04"]
BASE_KEYS = ["v02", "zz9", "v05", "v01", "v04"]
MATCHED = [k for k in BASE_KEYS if k in KEYS]

Fmt = str
FORMATS: tuple[Fmt, ...] = ("mat5", "mat73", "npy", "npz", "csv")
SUFFIX = {"mat5": ".mat", "mat73": ".mat", "npy": ".npy", "npz": ".npz", "csv": ".csv"}
CONTAINERS = frozenset({"mat5", "mat73", "npz"})
SHAPES: dict[str, tuple[int, int]] = {"NxM": (6, 3), "Nx1": (6, 1), "1xN": (1, 6)}


def write_matrices(path: Path, fmt: Fmt, variables: dict[str, npt.NDArray[Any]]) -> Path:
    """Write ``variables`` (MATLAB/NumPy shapes) to ``path`` in ``fmt``; text holds the first."""
    if fmt == "mat5":
        scipy.io.savemat(path, variables, format="5")
    elif fmt == "mat73":
        write_mat73(path, variables)
    elif fmt == "npz":
        np.savez(path, **variables)  # type: ignore[arg-type]
    elif fmt == "npy":
        np.save(path, next(iter(variables.values())), allow_pickle=False)
    else:
        write_text(path, next(iter(variables.values())), ",", nan="")
    return path


def keys_table(folder: Path, keys: Sequence[str | None] = KEYS, name: str = "meta.csv") -> Path:
    """The key table: ``flickr_id`` in matrix row order, and another column."""
    return write_table(
        folder / name, [{"flickr_id": k, "mos": float(i)} for i, k in enumerate(keys)]
    )


def base_table(folder: Path, keys: Sequence[str] = BASE_KEYS) -> Path:
    return write_table(
        folder / "base.csv", [{"flickr_id": k, "vmaf": 10.0 * i} for i, k in enumerate(keys)]
    )


def aligned(
    folder: Path, matrix: Path, keys_from: Path | None = None, **options: Any
) -> SidecarSpec:
    align = {"keys_from": keys_from or folder / "meta.csv", "column": "flickr_id"}
    return SidecarSpec.model_validate({"scorer": "b", "path": matrix, "align": align, **options})


def run(folder: Path, *sidecars: SidecarSpec, key: tuple[str, ...] = ("flickr_id",)) -> Any:
    return join(JoinSpec(features=folder / "base.csv", key=key, sidecars=sidecars))


def column(result: Any, name: str) -> list[Any]:
    return list(result.table.column(name).to_pylist())


def rows_by_key(
    matrix: npt.NDArray[np.float64], keys: Sequence[str]
) -> dict[str, list[float | None]]:
    """The reference: key i ↔ row i, non-finite values as None (1×N is one score per key)."""
    oriented = matrix.T if matrix.shape[0] == 1 and matrix.shape[1] > 1 else matrix
    assert oriented.shape[0] == len(keys)
    return {
        key: [float(v) if math.isfinite(v) else None for v in row]
        for key, row in zip(keys, oriented.tolist(), strict=True)
    }


def sample(shape: tuple[int, int], seed: int = 5) -> npt.NDArray[np.float64]:
    """Distinct values with a NaN on a matched key (v01) and an inf on an extra key (v06)."""
    values = np.random.default_rng(seed).normal(size=shape).round(6)
    rows = values.T if shape[0] == 1 else values  # a view: writes go to values
    rows[KEYS.index("v01"), -1] = np.nan
    rows[KEYS.index("v06"), 0] = np.inf
    return values


# --- every format and shape against the reference --------------------------------------------


@pytest.mark.parametrize("shape_name", list(SHAPES))
@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_and_shape_joins_row_i_to_key_i(
    tmp_path: Path, fmt: Fmt, shape_name: str
) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    matrix = sample(SHAPES[shape_name])
    variables = {"scores": matrix}
    if fmt in CONTAINERS:  # a second candidate: variable must pick one
        variables["mos"] = np.arange(6.0).reshape(1, 6)
    path = write_matrices(tmp_path / f"scores{SUFFIX[fmt]}", fmt, variables)
    variable = "scores" if fmt in CONTAINERS else None

    result = run(tmp_path, aligned(tmp_path, path, variable=variable))

    reference = rows_by_key(matrix, KEYS)
    width = len(next(iter(reference.values())))
    names = [f"f{j}" for j in range(1, width + 1)]
    outputs = [f"so_b_{n}" for n in names]
    assert result.table.column_names == ["flickr_id", "vmaf", *outputs]
    assert column(result, "flickr_id") == BASE_KEYS
    assert column(result, "vmaf") == [0.0, 10.0, 20.0, 30.0, 40.0]
    for j, name in enumerate(outputs):
        expected = [reference[k][j] if k in reference else None for k in BASE_KEYS]
        assert column(result, name) == expected, name

    report = result.coverage[0]
    assert report.scorer == "b"
    assert report.path == str(path)  # the matrix, not an intermediate file
    assert (report.base_rows, report.sidecar_rows, report.sidecar_keys) == (5, 6, 6)
    assert (report.matched, report.missing, report.extra) == (4, 1, 2)
    assert report.duplicate_keys == 0
    assert report.coverage == 0.8
    assert [u.key for u in report.unmatched_base] == [("zz9",)]
    assert sorted(u.key for u in report.unmatched_sidecar) == [("v03",), ("v06",)]
    # NaN (on v01, matched) and inf (on v06, extra) are non-finite; only v01's null is output
    non_finite = dict.fromkeys(names, 0)
    non_finite[names[0]] += 1
    non_finite[names[-1]] += 1
    assert report.non_finite == non_finite
    nulls = dict.fromkeys(outputs, 0)
    nulls[outputs[-1]] = 1
    assert report.nulls == nulls


def test_a_file_with_one_variable_needs_no_variable(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    matrix = sample((6, 2))
    path = write_matrices(tmp_path / "feats.mat", "mat5", {"feats_mat": matrix})
    result = run(tmp_path, aligned(tmp_path, path))
    reference = rows_by_key(matrix, KEYS)
    assert column(result, "so_b_f1") == [
        reference[k][0] if k in reference else None for k in BASE_KEYS
    ]


def test_key_normalisation_matches_paths_in_the_key_table(tmp_path: Path) -> None:
    paths = ["/videos/Clip_03.MP4", "/videos/CLIP_01.mp4", "/videos/clip_02.Mp4"]
    write_table(tmp_path / "files.jsonl", [{"file": p} for p in paths])
    write_table(tmp_path / "base.csv", [{"clip_id": c} for c in ("clip_01", "clip_02", "x")])
    matrix = np.array([[3.0, 30.0], [1.0, 10.0], [2.0, 20.0]])
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": matrix})
    spec = SidecarSpec(
        scorer="b",
        path=path,
        align=Align(keys_from=tmp_path / "files.jsonl", column="file"),
        normalize_keys=("basename", "stem", "lower"),
    )
    result = join(JoinSpec(features=tmp_path / "base.csv", key=("clip_id",), sidecars=(spec,)))
    assert result.table.to_pylist() == [
        {"clip_id": "clip_01", "so_b_f1": 1.0, "so_b_f2": 10.0},
        {"clip_id": "clip_02", "so_b_f1": 2.0, "so_b_f2": 20.0},
        {"clip_id": "x", "so_b_f1": None, "so_b_f2": None},
    ]
    report = result.coverage[0]
    assert (report.matched, report.missing, report.extra) == (2, 1, 1)
    assert [u.key for u in report.unmatched_sidecar] == [("/videos/Clip_03.MP4",)]


def test_integer_keys_in_a_parquet_key_table_match_as_text(tmp_path: Path) -> None:
    ids = [3339962845, 8171831850, 5012345678]
    pq.write_table(pa.table({"flickr_id": pa.array(ids, type=pa.int64())}), tmp_path / "k.parquet")
    write_table(tmp_path / "base.csv", [{"flickr_id": i, "mos": 1.0} for i in reversed(ids)])
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.array([1.5, 2.5, 3.5])})
    result = run(tmp_path, aligned(tmp_path, path, keys_from=tmp_path / "k.parquet"))
    assert column(result, "flickr_id") == [str(i) for i in reversed(ids)]
    assert column(result, "so_b_f1") == [3.5, 2.5, 1.5]
    assert result.coverage[0].coverage == 1.0


def test_the_base_table_itself_may_list_the_keys(tmp_path: Path) -> None:
    base = write_table(tmp_path / "base.csv", [{"flickr_id": k, "mos": 1.0} for k in KEYS])
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.arange(6.0)})
    result = run(tmp_path, aligned(tmp_path, path, keys_from=base))
    assert column(result, "so_b_f1") == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert result.coverage[0].coverage == 1.0


def test_aligned_and_keyed_sidecars_join_together(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    keyed = write_table(tmp_path / "niqe.csv", [{"flickr_id": "v05", "niqe": 7.0}])
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.arange(6.0)})
    result = run(
        tmp_path,
        aligned(tmp_path, path),
        SidecarSpec(scorer="niqe", path=keyed),
    )
    assert column(result, "so_b_f1") == [3.0, None, 4.0, 1.0, 5.0]
    assert column(result, "so_niqe_niqe") == [None, None, 7.0, None, None]


# --- column names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "names"),
    [
        (None, ["f1", "f2", "f3"]),
        ("f{i:02d}", ["f01", "f02", "f03"]),
        ("brisque_{i}", ["brisque_1", "brisque_2", "brisque_3"]),
        ("{i:x}_{{{i:>3}}}", ["1_{  1}", "2_{  2}", "3_{  3}"]),
        ("f{i:09d}", ["f000000001", "f000000002", "f000000003"]),
        (["sharp", "noise", "blur"], ["sharp", "noise", "blur"]),
    ],
)
def test_column_names_default_pattern_or_list(
    tmp_path: Path, columns: str | list[str] | None, names: list[str]
) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    matrix = np.arange(18.0).reshape(6, 3)
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": matrix})
    result = run(tmp_path, aligned(tmp_path, path, columns=columns))
    assert result.table.column_names == ["flickr_id", "vmaf", *(f"so_b_{n}" for n in names)]
    assert column(result, f"so_b_{names[1]}") == [10.0, None, 13.0, 4.0, 16.0]


def test_a_list_of_the_wrong_length_names_both_counts(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.zeros((6, 3))})
    with pytest.raises(UsageError) as info:
        run(tmp_path, aligned(tmp_path, path, columns=["a", "b"]))
    assert info.value.message == (
        "sidecar 'b': columns lists 2 names but m.npy has 3 columns; list 3 names, "
        "or give a pattern such as 'f{i:02d}'"
    )


def test_a_pattern_that_repeats_names_is_an_error(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.zeros((6, 11))})
    # 'g' formatting names 10 and 11 alike ('1e+01'); the check at i=1, 2 cannot see that
    with pytest.raises(UsageError) as info:
        run(tmp_path, aligned(tmp_path, path, columns="x{i:.0g}"))
    assert info.value.message.startswith("sidecar 'b': the column names ['x1', 'x2', ")
    assert info.value.message.endswith(
        "repeat a name or the key 'flickr_id'; give distinct names in columns"
    )


def _spec_problem(tmp_path: Path, **sidecar: Any) -> str:
    """The one problem line of the UsageError ``build_join_spec`` raises for ``sidecar``."""
    fields = {"scorer": "b", "path": tmp_path / "m.npy"} | sidecar
    with pytest.raises(UsageError) as info:
        build_join_spec(features=tmp_path / "base.csv", key=["flickr_id"], sidecars=[fields])
    header, *lines = info.value.message.splitlines()
    assert header == "invalid join spec:"
    assert len(lines) == 1, lines
    return lines[0].strip()


ALIGN = {"keys_from": "meta.csv", "column": "flickr_id"}
ALLOWED = (
    "the only field is {i} (the 1-based column number), with no attribute, index or conversion "
    "and at most a short integer format such as {i:02d} or {i:>4} (width and precision at "
    "most 9)"
)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("feat", "columns pattern 'feat' has no {i}: every column would get one name"),
        ("f{j}", f"columns pattern 'f{{j}}': the field {{j}} is not allowed; {ALLOWED}"),
        ("f{i:q}", f"columns pattern 'f{{i:q}}': the field {{i:q}} is not allowed; {ALLOWED}"),
        (
            "f{i.real}{i}",
            f"columns pattern 'f{{i.real}}{{i}}': the field {{i.real}} is not allowed; {ALLOWED}",
        ),
        ("f{i[0]}", f"columns pattern 'f{{i[0]}}': the field {{i[0]}} is not allowed; {ALLOWED}"),
        ("f{i!r}", f"columns pattern 'f{{i!r}}': the field {{i!r}} is not allowed; {ALLOWED}"),
        (
            "f{i:>999999999}",
            (
                f"columns pattern 'f{{i:>999999999}}': the field {{i:>999999999}} is not "
                f"allowed; {ALLOWED}"
            ),
        ),
        (
            "f{i:{i}}",
            f"columns pattern 'f{{i:{{i}}}}': the field {{i:{{i}}}} is not allowed; {ALLOWED}",
        ),
        (
            "f" * 201 + "{i}",
            (
                f"columns pattern {'f' * 201 + '{i}'!r} is 204 characters long; a pattern has at "
                "most 200 characters"
            ),
        ),
        (
            "f{i",
            (
                "columns pattern 'f{i' does not format with i=1 (expected '}' before end of "
                "string); use {i} for the 1-based column number, e.g. 'f{i:02d}'"
            ),
        ),
        ("f{}", f"columns pattern 'f{{}}': the field {{}} is not allowed; {ALLOWED}"),
    ],
)
def test_a_bad_pattern_is_a_validation_error(tmp_path: Path, pattern: str, problem: str) -> None:
    line = _spec_problem(tmp_path, align=ALIGN, columns=pattern)
    assert line == f"sidecars[0].columns: {problem}"


def test_repeated_names_in_columns_are_a_validation_error(tmp_path: Path) -> None:
    line = _spec_problem(tmp_path, align=ALIGN, columns=["a", "b", "a"])
    assert line == "sidecars[0].columns: columns repeats a name: ['a', 'b', 'a']"


def test_a_pattern_without_align_is_refused(tmp_path: Path) -> None:
    line = _spec_problem(tmp_path, path=tmp_path / "s.csv", columns="f{i}")
    assert line == (
        "sidecars[0]: sidecar 'b': a columns pattern ('f{i}') names a score matrix's columns; "
        "list the score columns to take instead"
    )


# --- prefix and derived features ---------------------------------------------------------------


def test_prefix_replaces_so_scorer(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.arange(12.0).reshape(6, 2)})
    spec = aligned(tmp_path, path, columns="f{i:02d}", prefix="brisque_")
    result = run(tmp_path, spec)
    assert result.table.column_names == ["flickr_id", "vmaf", "brisque_f01", "brisque_f02"]
    assert column(result, "brisque_f02") == [7.0, None, 9.0, 3.0, 11.0]


def test_zscore_of_aligned_columns(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    matrix = sample((6, 2))
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": matrix})
    spec = aligned(tmp_path, path, derived=["zscore"], higher_is_better=False)
    result = run(tmp_path, spec)
    assert result.table.column_names == [
        "flickr_id",
        "vmaf",
        "so_b_f1",
        "so_b_f2",
        "so_b_f1_zscore",
        "so_b_f2_zscore",
    ]
    assert result.coverage[0].higher_is_better is False
    reference = rows_by_key(matrix, KEYS)
    for j in range(2):
        values = [reference[k][j] if k in reference else None for k in BASE_KEYS]
        present = [v for v in values if v is not None]
        mean, std = statistics.fmean(present), statistics.pstdev(present)
        expected = [None if v is None else (v - mean) / std for v in values]
        got = column(result, f"so_b_f{j + 1}_zscore")
        assert [g is None for g in got] == [e is None for e in expected]
        assert all(math.isclose(g, e) for g, e in zip(got, expected, strict=True) if e is not None)


# --- duplicate keys in the key table ------------------------------------------------------------

DUPLICATED = ["a", "b", "a", "c"]


def _duplicates(tmp_path: Path) -> Path:
    keys_table(tmp_path, DUPLICATED)
    base_table(tmp_path, ["a", "b", "c"])
    return write_matrices(tmp_path / "m.npy", "npy", {"m": np.array([[1.0], [2.0], [3.0], [4.0]])})


def test_duplicate_keys_are_an_error_by_default_naming_the_key(tmp_path: Path) -> None:
    path = _duplicates(tmp_path)
    with pytest.raises(InputError) as info:
        run(tmp_path, aligned(tmp_path, path))
    assert info.value.message.endswith(
        ": 1 duplicate key(s) ('a' x2); keep one row per key with on_duplicate=\"first\" (or last, "
        "or mean), or fix the sidecar"
    )


def test_duplicate_keys_error_names_the_key_table_not_a_temporary_file(tmp_path: Path) -> None:
    path = _duplicates(tmp_path)
    with pytest.raises(InputError) as info:
        run(tmp_path, aligned(tmp_path, path))
    assert info.value.message.startswith(f"{tmp_path / 'meta.csv'}: 1 duplicate key(s)")


@pytest.mark.parametrize(("policy", "a"), [("first", 1.0), ("last", 3.0), ("mean", 2.0)])
def test_duplicate_policies_apply_to_the_key_table(tmp_path: Path, policy: str, a: float) -> None:
    path = _duplicates(tmp_path)
    result = run(tmp_path, aligned(tmp_path, path, on_duplicate=policy))
    assert column(result, "so_b_f1") == [a, 2.0, 4.0]
    report = result.coverage[0]
    assert (report.sidecar_rows, report.sidecar_keys, report.duplicate_keys) == (4, 3, 1)


def test_keys_that_collide_after_normalisation_are_duplicates(tmp_path: Path) -> None:
    keys_table(tmp_path, ["A.mp4", "b.mp4", "a.MP4"])
    base_table(tmp_path, ["a", "b"])
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.array([1.0, 2.0, 3.0])})
    spec = aligned(tmp_path, path, normalize_keys=["stem", "lower"])
    with pytest.raises(InputError, match=r"1 duplicate key\(s\) \('A\.mp4' x2\)"):
        run(tmp_path, spec)
    result = run(
        tmp_path, aligned(tmp_path, path, normalize_keys=["stem", "lower"], on_duplicate="last")
    )
    assert column(result, "so_b_f1") == [3.0, 2.0]


# --- errors reading the matrix or the keys ------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "variable", "what"),
    [("mat5", "scores", "variable 'scores' of "), ("npy", None, ""), ("csv", None, "")],
)
def test_rows_and_keys_must_be_as_many(
    tmp_path: Path, fmt: Fmt, variable: str | None, what: str
) -> None:
    meta = keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / f"m{SUFFIX[fmt]}", fmt, {"scores": np.ones((5, 2))})
    with pytest.raises(InputError) as info:
        run(tmp_path, aligned(tmp_path, path, variable=variable))
    assert info.value.message == (
        f"{path}: {what}the matrix has 5 rows but {meta} has 6 keys in column 'flickr_id'; "
        "a score matrix needs exactly one row per key, in the same order"
    )


def test_several_variables_without_variable_are_listed_with_shapes(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(
        tmp_path / "niqe.mat", "mat5", {"y_pred": np.ones((1, 6)), "MOS": np.ones((1, 6))}
    )
    with pytest.raises(InputError) as info:
        run(tmp_path, aligned(tmp_path, path))
    assert info.value.message == (
        f"{path}: 2 variables could be the score matrix (MOS (1×6 double), y_pred (1×6 double)); "
        "pass the name of the one to read as variable (e.g. variable='y_pred')"
    )


def test_an_unknown_variable_suggests_the_closest(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "s.npz", "npz", {"scores": np.ones((6, 1))})
    with pytest.raises(InputError, match=r"no variable 'score'; did you mean 'scores'\?"):
        run(tmp_path, aligned(tmp_path, path, variable="score"))


def test_a_variable_for_a_npy_file_is_refused(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "s.npy", "npy", {"s": np.ones((6, 1))})
    with pytest.raises(InputError) as info:
        run(tmp_path, aligned(tmp_path, path, variable="s"))
    assert info.value.message == (
        f"{path}: a .npy file holds one array and has no variables; leave out variable (got 's')"
    )


def test_a_missing_key_column_lists_the_columns(tmp_path: Path) -> None:
    meta = keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.ones(6)})
    spec = SidecarSpec(scorer="b", path=path, align=Align(keys_from=meta, column="flickr"))
    with pytest.raises(InputError) as info:
        run(tmp_path, spec)
    assert info.value.message == (
        f"{meta}: key column 'flickr' not found (columns: flickr_id, mos); "
        "fix align.column of 'b' (a column of it)"
    )


@pytest.mark.parametrize(("name", "empty"), [("meta.csv", ""), ("meta.jsonl", None)])
def test_an_empty_key_names_its_line(tmp_path: Path, name: str, empty: str | None) -> None:
    meta = keys_table(tmp_path, ["v1", "v2", empty, "v4"], name=name)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.ones(4)})
    with pytest.raises(InputError) as info:
        run(tmp_path, aligned(tmp_path, path, keys_from=meta))
    line = 4 if name.endswith(".csv") else 3  # the CSV header is line 1
    assert info.value.message == (
        f"{meta} line {line}: the key column 'flickr_id' is empty; every row of a score matrix "
        "needs a key (sidecar 'b')"
    )


def test_a_missing_key_table_or_matrix_is_named(tmp_path: Path) -> None:
    meta = keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.ones(6)})
    with pytest.raises(InputError) as info:
        run(tmp_path, aligned(tmp_path, path, keys_from=tmp_path / "nope.csv"))
    assert info.value.message == f"{tmp_path / 'nope.csv'}: no such file"
    with pytest.raises(InputError) as info:
        run(tmp_path, aligned(tmp_path, tmp_path / "nope.mat", keys_from=meta))
    assert info.value.message == f"{tmp_path / 'nope.mat'}: no such file"


# --- the spec: what can be checked without reading a file ----------------------------------------


@pytest.mark.parametrize("suffix", [".mat", ".npy", ".npz", ".MAT"])
def test_a_matrix_suffix_without_align_says_to_set_align(tmp_path: Path, suffix: str) -> None:
    line = _spec_problem(tmp_path, path=tmp_path / f"feats{suffix}")
    assert line == (
        f"sidecars[0]: sidecar 'b': feats{suffix} is a score matrix with no key; set "
        'align={"keys_from": <table listing the keys in row order>, "column": <its key column>}'
    )


def test_variable_without_align_is_refused(tmp_path: Path) -> None:
    line = _spec_problem(tmp_path, path=tmp_path / "s.csv", variable="feats_mat")
    assert line == "sidecars[0]: sidecar 'b': variable applies to a score matrix; set align as well"


def test_frame_column_with_align_is_refused(tmp_path: Path) -> None:
    line = _spec_problem(tmp_path, align=ALIGN, frame_column="frame")
    assert (
        line == "sidecars[0]: sidecar 'b': a score matrix has one row per clip; drop frame_column"
    )


def test_key_map_with_align_is_refused(tmp_path: Path) -> None:
    line = _spec_problem(tmp_path, align=ALIGN, key_map={"video": "flickr_id"})
    assert line == "sidecars[0]: sidecar 'b': a score matrix has no key column to map; drop key_map"


def test_align_needs_a_column(tmp_path: Path) -> None:
    line = _spec_problem(tmp_path, align={"keys_from": "meta.csv", "column": ""})
    assert line == "sidecars[0].align.column: String should have at least 1 character (got '')"
    line = _spec_problem(tmp_path, align={"keys_from": "meta.csv"})
    assert line == "sidecars[0].align.column: required field is missing"


def test_an_unknown_field_in_align_suggests_an_align_field(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        build_join_spec(
            features=tmp_path / "base.csv",
            key=["flickr_id"],
            sidecars=[
                {
                    "scorer": "b",
                    "path": "m.npy",
                    "align": {"keys_frm": "meta.csv", "column": "flickr_id"},
                }
            ],
        )
    assert "sidecars[0].align.keys_frm: unknown field; did you mean 'keys_from'?" in (
        info.value.message
    )


def test_align_with_a_two_column_key_is_refused_at_the_align_field(tmp_path: Path) -> None:
    sidecar = SidecarSpec(scorer="b", path=tmp_path / "m.npy", align=Align.model_validate(ALIGN))
    with pytest.raises(ValidationError) as info:
        JoinSpec(features=tmp_path / "base.csv", key=("corpus", "clip_id"), sidecars=(sidecar,))
    expected = (
        "sidecars[0].align: sidecar 'b': a score matrix aligns to a one-column key; "
        "the key has 2 columns (corpus, clip_id)"
    )
    assert expected in str(info.value)
    with pytest.raises(UsageError) as usage:
        build_join_spec(
            features=tmp_path / "base.csv",
            key=["corpus", "clip_id"],
            sidecars=[{"scorer": "b", "path": "m.npy", "align": ALIGN}],
        )
    assert expected in usage.value.message


def test_the_spec_round_trips_through_json(tmp_path: Path) -> None:
    spec = JoinSpec(
        features=tmp_path / "base.csv",
        key=("flickr_id",),
        sidecars=(
            SidecarSpec(
                scorer="b",
                path=tmp_path / "m.mat",
                variable="feats_mat",
                align=Align.model_validate(ALIGN),
                columns="f{i:02d}",
            ),
        ),
    )
    data = spec.model_dump(mode="json")
    assert data["sidecars"][0]["align"] == {"keys_from": "meta.csv", "column": "flickr_id"}
    assert data["sidecars"][0]["variable"] == "feats_mat"
    assert data["sidecars"][0]["columns"] == "f{i:02d}"
    assert JoinSpec.model_validate(data) == spec


# --- checking, writing, cleaning up ------------------------------------------------------------


def test_check_spec_reads_the_matrix_and_reports_a_row_count_mismatch(tmp_path: Path) -> None:
    meta = keys_table(tmp_path)
    base_table(tmp_path)
    good = write_matrices(tmp_path / "good.npy", "npy", {"m": np.ones((6, 2))})
    bad = write_matrices(tmp_path / "bad.npy", "npy", {"m": np.ones((4, 2))})
    spec = JoinSpec(
        features=tmp_path / "base.csv", key=("flickr_id",), sidecars=(aligned(tmp_path, good),)
    )
    assert check_spec(spec) == []
    spec = JoinSpec(
        features=tmp_path / "base.csv", key=("flickr_id",), sidecars=(aligned(tmp_path, bad),)
    )
    assert check_spec(spec) == [
        (
            f"{bad}: the matrix has 4 rows but {meta} has 6 keys in column 'flickr_id'; "
            "a score matrix needs exactly one row per key, in the same order"
        )
    ]


def test_join_to_file_writes_the_aligned_table(tmp_path: Path) -> None:
    keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.arange(12.0).reshape(6, 2)})
    spec = JoinSpec(
        features=tmp_path / "base.csv",
        key=("flickr_id",),
        sidecars=(aligned(tmp_path, path, columns="f{i:02d}"),),
    )
    out = tmp_path / "out.csv"
    report = join_to_file(spec, out)
    assert report.columns == ("flickr_id", "vmaf", "so_b_f01", "so_b_f02")
    assert read_rows(out) == [
        {"flickr_id": "v02", "vmaf": 0.0, "so_b_f01": 6.0, "so_b_f02": 7.0},
        {"flickr_id": "zz9", "vmaf": 10.0, "so_b_f01": None, "so_b_f02": None},
        {"flickr_id": "v05", "vmaf": 20.0, "so_b_f01": 8.0, "so_b_f02": 9.0},
        {"flickr_id": "v01", "vmaf": 30.0, "so_b_f01": 2.0, "so_b_f02": 3.0},
        {"flickr_id": "v04", "vmaf": 40.0, "so_b_f01": 10.0, "so_b_f02": 11.0},
    ]


def test_an_output_equal_to_the_key_table_is_refused(tmp_path: Path) -> None:
    meta = keys_table(tmp_path)
    base_table(tmp_path)
    path = write_matrices(tmp_path / "m.npy", "npy", {"m": np.ones(6)})
    before = meta.read_bytes()
    spec = JoinSpec(
        features=tmp_path / "base.csv", key=("flickr_id",), sidecars=(aligned(tmp_path, path),)
    )
    try:
        with pytest.raises(UsageError, match=r"the output is also an input"):
            join_to_file(spec, meta)
    finally:
        assert meta.read_bytes() == before


def test_intermediate_files_are_removed_after_a_join_and_after_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    data = tmp_path / "data"
    data.mkdir()
    keys_table(data)
    base_table(data)
    good = write_matrices(data / "good.npy", "npy", {"m": np.ones((6, 2))})
    bad = write_matrices(data / "bad.npy", "npy", {"m": np.ones((4, 2))})

    def leftovers() -> list[str]:
        return sorted(p.name for p in scratch.iterdir() if p.name != "second-opinion-spill")

    run(data, aligned(data, good))
    assert leftovers() == []
    with pytest.raises(InputError, match="the matrix has 4 rows"):
        run(data, aligned(data, bad))
    assert leftovers() == []


# --- real data: KoNViD-1k scorer outputs, aligned to the metadata's row order -------------------

ROOT = Path(__file__).resolve().parents[2]
METADATA = KONVID / "KONVID_1K_metadata.csv"


@needs_real_data
def test_konvid_brisque_videval_and_niqe_align_on_flickr_id() -> None:
    align = Align(keys_from=METADATA, column="flickr_id")
    niqe = KONVID / "KONVID_1K_NIQE_scores.mat"
    sidecars = (
        SidecarSpec(
            scorer="brisque",
            path=KONVID / "KONVID_1K_BRISQUE_feats.mat",
            align=align,
            columns="f{i:02d}",
        ),
        SidecarSpec(scorer="videval", path=KONVID / "KONVID_1K_VIDEVAL_feats.mat", align=align),
        SidecarSpec(
            scorer="niqe",
            path=niqe,
            variable="y_pred",
            align=align,
            columns=("niqe",),
            higher_is_better=False,
        ),
        # the file's MOS, aligned the same way, must equal the metadata's own mos column
        SidecarSpec(scorer="check", path=niqe, variable="MOS", align=align, columns=("mos",)),
    )
    result = join(JoinSpec(features=METADATA, key=("flickr_id",), sidecars=sidecars))

    assert result.table.num_rows == 1200
    for report in result.coverage:
        assert (report.base_rows, report.matched, report.missing, report.extra) == (
            1200,
            1200,
            0,
            0,
        )
        assert report.coverage == 1.0
        assert report.duplicate_keys == 0
    brisque, videval, niqe_report, _ = result.coverage
    assert sum(brisque.non_finite.values()) == 0
    assert len(brisque.non_finite) == 36
    assert videval.non_finite == {f"f{j}": 2 if j == 21 else 0 for j in range(1, 61)}
    assert videval.nulls["so_videval_f21"] == 2
    assert niqe_report.higher_is_better is False

    names = result.table.column_names
    assert names[:9] == [
        "flickr_id",
        "mos",
        "width",
        "height",
        "pixfmt",
        "framerate",
        "nb_frames",
        "bitdepth",
        "bitrate",
    ]
    assert names[9:11] == ["so_brisque_f01", "so_brisque_f02"]
    assert names[44:46] == ["so_brisque_f36", "so_videval_f1"]
    assert names[-2:] == ["so_niqe_niqe", "so_check_mos"]
    assert len(names) == 9 + 36 + 60 + 2

    assert column(result, "so_check_mos") == pytest.approx(column(result, "mos"), abs=1e-9)
    feats = scipy.io.loadmat(KONVID / "KONVID_1K_BRISQUE_feats.mat")["feats_mat"]
    vfeats = scipy.io.loadmat(KONVID / "KONVID_1K_VIDEVAL_feats.mat")["feats_mat"]
    y_pred = scipy.io.loadmat(niqe)["y_pred"][0]
    rows = result.table.to_pylist()
    for i in (0, 1, 87, 236, 599, 1199):
        row = rows[i]
        assert row["so_brisque_f01"] == feats[i, 0]
        assert row["so_brisque_f36"] == feats[i, 35]
        assert row["so_videval_f1"] == vfeats[i, 0]
        assert row["so_videval_f60"] == vfeats[i, 59]
        assert row["so_niqe_niqe"] == y_pred[i]
    assert rows[87]["so_videval_f21"] is None
    assert rows[236]["so_videval_f21"] is None
    assert rows[0]["so_videval_f21"] == vfeats[0, 20]


@needs_real_data
def test_konvid_brisque_onto_a_shuffled_subset_of_the_metadata(tmp_path: Path) -> None:
    with METADATA.open(encoding="utf-8", newline="") as handle:
        ids = [row["flickr_id"] for row in csv.DictReader(handle)]
    order = np.random.default_rng(1200).permutation(len(ids))[:1000]
    base = write_table(tmp_path / "base.csv", [{"flickr_id": ids[i]} for i in order])
    spec = SidecarSpec(
        scorer="brisque",
        path=KONVID / "KONVID_1K_BRISQUE_feats.mat",
        align=Align(keys_from=METADATA, column="flickr_id"),
    )
    result = join(JoinSpec(features=base, key=("flickr_id",), sidecars=(spec,)))
    report = result.coverage[0]
    assert (report.base_rows, report.matched, report.extra) == (1000, 1000, 200)
    feats = scipy.io.loadmat(KONVID / "KONVID_1K_BRISQUE_feats.mat")["feats_mat"]
    assert column(result, "flickr_id") == [ids[i] for i in order]
    for j in (0, 17, 35):
        assert column(result, f"so_brisque_f{j + 1}") == [feats[i, j] for i in order]
