"""Signals: `SignalSpec.parse`, `resolve_signals` (defaults, explicit, baseline), `signal_rows`.

Most corpora are built in memory with :func:`tests._audit_data.make_corpus` (scorers and key set
with ``dataclasses.replace``); the provenance tests read a table written by a real batch run.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from second_opinion.audit.corpus import MIN_ROWS, Corpus, Scorer, load_corpus
from second_opinion.audit.options import AuditOptions
from second_opinion.audit.report import audit_json
from second_opinion.audit.run import run_audit
from second_opinion.audit.signals import (
    Signal,
    SignalSet,
    SignalSpec,
    resolve_signals,
    signal_rows,
)
from second_opinion.errors import EXIT_INPUT, InputError, UsageError, exit_code_for
from tests._audit_data import make_corpus

N = 12
FloatArray = npt.NDArray[np.float64]


def ramp(offset: float = 0.0, *, finite: Sequence[int] | None = None) -> FloatArray:
    """N values; only the rows in ``finite`` (all when None) hold a number, the rest NaN."""
    values = np.arange(N, dtype=np.float64) + offset
    if finite is not None:
        values[[i for i in range(N) if i not in finite]] = np.nan
    return values


def corpus_of(
    columns: Mapping[str, FloatArray],
    *,
    scorers: Sequence[Scorer] = (),
    key: Sequence[str] = (),
) -> Corpus:
    """A corpus with a complete MOS and ``columns``, in this order."""
    base = make_corpus({"mos": 1.0 + 0.3 * ramp(), **columns})
    return dataclasses.replace(base, scorers=tuple(scorers), key=tuple(key))


def spec(text: str) -> SignalSpec:
    return SignalSpec.parse(text)


def summary(signals: SignalSet) -> list[tuple[str, tuple[str, ...], bool | None, str | None]]:
    """(name, columns, higher_is_better, scorer) of each signal, in order."""
    return [(s.name, s.columns, s.higher_is_better, s.scorer) for s in signals.signals]


def input_error(excinfo: pytest.ExceptionInfo[InputError]) -> str:
    """The message of an error that must exit with code 2."""
    assert exit_code_for(excinfo.value) == EXIT_INPUT
    return str(excinfo.value)


# --- SignalSpec.parse -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "globs"),
    [
        ("brisque=so_brisque_*", "brisque", ("so_brisque_*",)),
        ("vmaf=vmaf_*,psnr*,ssim", "vmaf", ("vmaf_*", "psnr*", "ssim")),
        ("  mix =  a* ,  b  ", "mix", ("a*", "b")),  # whitespace around name and globs
        ("a=b,", "a", ("b",)),  # an empty glob after a trailing comma is dropped
        ("v1.2+x-y_Z=col", "v1.2+x-y_Z", ("col",)),
        ("9lives=[ab]?", "9lives", ("[ab]?",)),
    ],
)
def test_parse_valid_specs(text: str, name: str, globs: tuple[str, ...]) -> None:
    parsed = SignalSpec.parse(text)
    assert (parsed.name, parsed.globs) == (name, globs)
    assert str(parsed) == f"{name}={','.join(globs)}"
    assert SignalSpec.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text",
    ["brisque", "=so_brisque_*", "  =so_*", "brisque=", "brisque= , ,", ""],
)
def test_parse_refuses_a_malformed_spec(text: str) -> None:
    with pytest.raises(UsageError) as excinfo:
        SignalSpec.parse(text)
    message = input_error(excinfo)
    assert message.startswith(f"--signal {text!r}: expected NAME=GLOB[,GLOB...]")
    assert "brisque='so_brisque_*'" in message  # an example of the right form


@pytest.mark.parametrize("name", ["-x", "_x", "a b", "é", "a/b", "x*"])
def test_parse_refuses_a_bad_name(name: str) -> None:
    text = f"{name}=vmaf"
    with pytest.raises(UsageError) as excinfo:
        SignalSpec.parse(text)
    message = input_error(excinfo)
    assert message.startswith(f"--signal {text!r}: the name {name!r} must start with a letter")
    assert "letters, digits and _ . + -" in message


def test_parse_names_the_option_in_its_messages() -> None:
    with pytest.raises(UsageError, match=r"^--baseline 'vmaf': expected NAME=GLOB"):
        SignalSpec.parse("vmaf", option="--baseline")


# --- defaults ---------------------------------------------------------------------------------


def test_defaults_group_scorer_columns_and_keep_others_single() -> None:
    corpus = corpus_of(
        {
            "clip_id": ramp(),
            "vmaf": ramp(1),
            "so_brisque_f01": ramp(2),
            "mos_std": ramp(3),
            "so_niqe_score": ramp(4),
            "so_brisque_f02": ramp(5),
            "n_ratings": ramp(6),
            "psnr": ramp(7),
            "so_dover_technical_mean": ramp(8),
            "so_dover_n_frames": ramp(9),
        }
    )
    signals = resolve_signals(corpus)
    # scorer groups first (in order of their first column), then single columns, table order
    assert summary(signals) == [
        ("brisque", ("so_brisque_f01", "so_brisque_f02"), None, "brisque"),
        ("niqe", ("so_niqe_score",), None, "niqe"),
        ("dover", ("so_dover_technical_mean",), None, "dover"),
        ("vmaf", ("vmaf",), None, None),
        ("psnr", ("psnr",), None, None),
    ]
    assert [s.training_free for s in signals.signals] == [False, True, True, True, True]
    assert (signals.baseline, signals.second_opinions, signals.notes) == (None, (), ())


@pytest.mark.parametrize(
    "column",
    [
        "mos_std",
        "MOS_var",
        "dmos",
        "n_ratings",
        "so_x_n_frames",
        "clip_id",
        "Video_ID",
        "id",
        "frame_index",
        "frames",
        "row_index",
    ],
)
def test_default_exclude_leaves_a_column_out(column: str) -> None:
    corpus = corpus_of({column: ramp(), "vmaf": ramp(1)})
    assert [s.name for s in resolve_signals(corpus).signals] == ["vmaf"]
    # the exclusion is only the default's: an explicit signal may take the column
    explicit = resolve_signals(corpus, [spec(f"s={column}")])
    assert explicit.get("s").columns == (column,)
    # and an empty exclude list keeps it
    assert column in {c for s in resolve_signals(corpus, exclude=()).signals for c in s.columns}


@pytest.mark.parametrize("column", ["so_dnsmos_ovrl", "so_fastvqa_pred_mos"])
def test_a_scorer_column_mentioning_mos_is_a_default_signal(column: str) -> None:
    corpus = corpus_of({column: ramp(), "vmaf": ramp(1)})
    assert column in {c for s in resolve_signals(corpus).signals for c in s.columns}


def test_default_signal_names_are_unique() -> None:
    corpus = corpus_of({"brisque": ramp(), "so_brisque_score": ramp(1)})
    signals = resolve_signals(corpus).signals
    assert [(s.name, s.columns) for s in signals] == [
        ("so_brisque", ("so_brisque_score",)),  # the group, named after its prefix
        ("brisque", ("brisque",)),
    ]


def test_without_provenance_the_scorer_is_the_text_up_to_the_next_underscore() -> None:
    corpus = corpus_of({"so_fast_vqa_score": ramp(), "so_fast_vqa_aux": ramp(1), "nq_x": ramp()})
    assert summary(resolve_signals(corpus)) == [
        ("fast", ("so_fast_vqa_score", "so_fast_vqa_aux"), None, "fast"),
        ("nq_x", ("nq_x",), None, None),
    ]


def test_with_provenance_scorers_group_by_their_prefix_longest_first() -> None:
    scorers = [
        Scorer("fast", "so_fast_", higher_is_better=False),
        Scorer("fast_vqa", "so_fast_vqa_", higher_is_better=True),
        Scorer("niqe", "nq_", higher_is_better=False),
    ]
    corpus = corpus_of(
        {
            "so_fast_vqa_score": ramp(),
            "so_fast_x": ramp(1),
            "nq_niqe": ramp(2),
            "so_fast_vqa_aux": ramp(3),
            "so_fast_vqa_n_frames": ramp(4),  # excluded even from its scorer's group
            "so_other_y": ramp(5),  # not in the provenance: the fallback rule names it
        },
        scorers=scorers,
    )
    assert summary(resolve_signals(corpus)) == [
        ("fast_vqa", ("so_fast_vqa_score", "so_fast_vqa_aux"), True, "fast_vqa"),
        ("fast", ("so_fast_x",), False, "fast"),
        ("niqe", ("nq_niqe",), False, "niqe"),
        ("other", ("so_other_y",), None, "other"),
    ]


def test_provenance_key_columns_are_not_signals() -> None:
    columns = {"seq": ramp(), "vmaf": ramp(1)}
    assert [s.name for s in resolve_signals(corpus_of(columns)).signals] == ["seq", "vmaf"]
    keyed = corpus_of(columns, key=["seq"])
    assert [s.name for s in resolve_signals(keyed).signals] == ["vmaf"]


def test_a_default_signal_with_too_few_rows_is_dropped_with_a_note() -> None:
    corpus = corpus_of(
        {
            "vmaf": ramp(),
            "sparse": ramp(finite=range(MIN_ROWS - 1)),
            # each column alone has too few values; together they cover every row
            "so_half_a": ramp(finite=range(6)),
            "so_half_b": ramp(finite=range(6, N)),
        }
    )
    signals = resolve_signals(corpus)
    assert [s.name for s in signals.signals] == ["half", "vmaf"]
    assert signals.notes == (f"signal 'sparse' left out: values in only {MIN_ROWS - 1} rows",)


def test_no_default_signal_left_is_an_input_error() -> None:
    with pytest.raises(InputError) as excinfo:
        resolve_signals(corpus_of({"clip_id": ramp(), "mos_std": ramp()}))
    message = input_error(excinfo)
    assert message == (
        "synthetic.csv: no numeric column to audit besides 'mos'; "
        "name the signals with --signal NAME=GLOB"
    )
    with pytest.raises(InputError) as excinfo:
        resolve_signals(corpus_of({"sparse": ramp(finite=range(3))}))
    message = input_error(excinfo)
    assert f"besides 'mos' with at least {MIN_ROWS} values" in message
    assert "--signal NAME=GLOB" in message


# --- derived columns (the join's zscore, rank, delta:<base>) ----------------------------------


def _niqe_with_derived() -> Corpus:
    return corpus_of(
        {
            "vmaf": ramp(),
            "so_niqe_score": -ramp(1),
            "so_niqe_score_zscore": -ramp(2),
            "so_niqe_score_rank": -ramp(3),
            "so_niqe_score_delta_vmaf": ramp(4) % 5,
        },
        scorers=[Scorer("niqe", "so_niqe_", higher_is_better=False)],
    )


def test_a_scorers_default_signal_is_its_raw_scores_and_a_delta_its_own_signal() -> None:
    signals = resolve_signals(_niqe_with_derived())
    assert summary(signals) == [
        ("niqe", ("so_niqe_score",), False, "niqe"),
        ("niqe_delta_vmaf", ("so_niqe_score_delta_vmaf",), None, "niqe"),
        ("vmaf", ("vmaf",), None, None),
    ]
    # NIQE alone is training-free again, not an SVR over three collinear columns
    assert signals.get("niqe").training_free
    assert signals.get("niqe_delta_vmaf").derived == "delta:vmaf"
    assert signals.notes == (
        (
            "derived columns so_niqe_score_zscore, so_niqe_score_rank left out of signal "
            "'niqe': zscore and rank are monotone in the raw scores, so they rank clips the "
            "same; name them with --signal to audit them"
        ),
        (
            "derived columns so_niqe_score_delta_vmaf (delta:vmaf) audited as their own signal "
            "'niqe_delta_vmaf', not folded into 'niqe'; not a second opinion, as they are made "
            "from 'vmaf'"
        ),
    )


def test_a_multi_column_scorers_deltas_group_by_base() -> None:
    corpus = corpus_of(
        {
            "so_brisque_f01": ramp(),
            "so_brisque_f02": ramp(1),
            "so_brisque_f01_delta_vmaf_adm2": ramp(2),
            "so_brisque_f02_delta_vmaf_adm2": ramp(3),
            "so_brisque_f01_delta_psnr": ramp(4),
        }
    )
    signals = resolve_signals(corpus)
    assert summary(signals) == [
        ("brisque", ("so_brisque_f01", "so_brisque_f02"), None, "brisque"),
        (
            "brisque_delta_vmaf_adm2",
            ("so_brisque_f01_delta_vmaf_adm2", "so_brisque_f02_delta_vmaf_adm2"),
            None,
            "brisque",
        ),
        ("brisque_delta_psnr", ("so_brisque_f01_delta_psnr",), None, "brisque"),
    ]
    assert signals.notes[0].startswith(
        "derived columns so_brisque_f01_delta_vmaf_adm2, so_brisque_f02_delta_vmaf_adm2 "
        "(delta:vmaf_adm2) audited as their own signal 'brisque_delta_vmaf_adm2'"
    )


def test_a_delta_signal_is_not_a_second_opinion() -> None:
    signals = resolve_signals(_niqe_with_derived(), baseline=spec("vmaf=vmaf"))
    assert [s.name for s in signals.signals] == ["vmaf", "niqe", "niqe_delta_vmaf"]
    assert signals.second_opinions == ("niqe",)


def test_a_column_merely_ending_like_a_derived_one_stays_raw() -> None:
    # no 'so_dover_technical' beside it: '_rank' is part of the scorer's own column name
    corpus = corpus_of({"so_dover_technical_rank": ramp(), "so_dover_aesthetic": ramp(1)})
    signals = resolve_signals(corpus)
    assert summary(signals) == [
        ("dover", ("so_dover_technical_rank", "so_dover_aesthetic"), None, "dover"),
    ]
    assert signals.notes == ()


def test_derived_columns_named_explicitly_are_audited_as_named() -> None:
    signals = resolve_signals(_niqe_with_derived(), [spec("z=so_niqe_*")])
    assert summary(signals) == [
        (
            "z",
            (
                "so_niqe_score",
                "so_niqe_score_zscore",
                "so_niqe_score_rank",
                "so_niqe_score_delta_vmaf",
            ),
            False,
            "niqe",
        )
    ]
    assert signals.notes == ()


def test_the_report_carries_the_derived_columns_notes(tmp_path: Path) -> None:
    rows = ["clip,mos,so_niqe_score,so_niqe_score_zscore,so_niqe_score_delta_vmaf,vmaf"]
    for i in range(24):
        rows.append(f"c{i},{1 + (i * 7) % 24 / 6},{(i * 5) % 24},{(i * 5) % 24 / 7},{i % 5},{i}")
    table = tmp_path / "derived.csv"
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    options = AuditOptions(splits=3, bootstrap=0, model="ridge")
    report = audit_json(run_audit([f"c={table}"], options))
    corpus = report["corpora"]["c"]
    assert list(corpus["signals"]) == ["niqe", "niqe_delta_vmaf", "vmaf"]
    assert corpus["notes"] == [
        (
            "derived columns so_niqe_score_zscore left out of signal 'niqe': zscore and rank are "
            "monotone in the raw scores, so they rank clips the same; name them with --signal to "
            "audit them"
        ),
        (
            "derived columns so_niqe_score_delta_vmaf (delta:vmaf) audited as their own signal "
            "'niqe_delta_vmaf', not folded into 'niqe'; not a second opinion, as they are made "
            "from 'vmaf'"
        ),
    ]


# --- defaults from a real provenance record ---------------------------------------------------


def test_a_batch_output_groups_by_its_provenance(batch_table: Path) -> None:
    signals = resolve_signals(load_corpus(batch_table, "mos"))
    # 'clip' is the key: numeric, but not a signal; niqe's custom prefix and direction apply
    assert summary(signals) == [
        ("fast_vqa", ("so_fast_vqa_score", "so_fast_vqa_aux"), True, "fast_vqa"),
        ("niqe", ("nq_niqe",), False, "niqe"),
        ("seq", ("seq",), None, None),
        ("vmaf", ("vmaf",), None, None),
    ]


def test_the_same_table_without_its_record_falls_back_to_column_names(
    batch_table: Path, tmp_path: Path
) -> None:
    copy = Path(shutil.copy(batch_table, tmp_path / batch_table.name))
    signals = resolve_signals(load_corpus(copy, "mos"))
    assert summary(signals) == [
        ("fast", ("so_fast_vqa_score", "so_fast_vqa_aux"), None, "fast"),
        ("clip", ("clip",), None, None),
        ("seq", ("seq",), None, None),
        ("vmaf", ("vmaf",), None, None),
        ("nq_niqe", ("nq_niqe",), None, None),
    ]


def test_explicit_signals_take_direction_from_their_one_scorer(batch_table: Path) -> None:
    corpus = load_corpus(batch_table, "mos")
    signals = resolve_signals(
        corpus, [spec("n=nq_*"), spec("f=so_fast_vqa_score"), spec("mix=nq_*,so_fast_*")]
    )
    assert summary(signals) == [
        ("n", ("nq_niqe",), False, "niqe"),
        ("f", ("so_fast_vqa_score",), True, "fast_vqa"),
        ("mix", ("so_fast_vqa_score", "so_fast_vqa_aux", "nq_niqe"), None, None),
    ]


# --- explicit signals -------------------------------------------------------------------------


def _wide() -> Corpus:
    return corpus_of(
        {
            "so_brisque_f01": ramp(),
            "vmaf": ramp(1),
            "so_brisque_f02": ramp(2),
            "vmaf_neg": ramp(3),
            "psnr_y": ramp(4),
            "so_niqe_score": ramp(5),
            "mos_std": ramp(6),
            "sparse": ramp(finite=range(MIN_ROWS - 1)),
        }
    )


def test_explicit_signals_take_matching_columns_in_table_order() -> None:
    signals = resolve_signals(
        _wide(), [spec("mix=vmaf,so_brisque_*"), spec("v=vmaf*,vmaf"), spec("spread=mos_std")]
    )
    assert [(s.name, s.columns) for s in signals.signals] == [
        ("mix", ("so_brisque_f01", "vmaf", "so_brisque_f02")),
        ("v", ("vmaf", "vmaf_neg")),  # a column matched twice is taken once
        ("spread", ("mos_std",)),
    ]
    assert signals.notes == ()


def test_an_explicit_glob_matching_nothing_names_it_and_the_numeric_columns() -> None:
    with pytest.raises(InputError) as excinfo:
        resolve_signals(_wide(), [spec("v=VMAF*,psnr_y")])  # globs are case-sensitive
    message = input_error(excinfo)
    assert message.startswith("synthetic.csv: --signal v=VMAF*,psnr_y — 'VMAF*' matches no")
    assert (
        "numeric columns: so_brisque_f01, vmaf, so_brisque_f02, vmaf_neg, psnr_y, "
        "so_niqe_score, mos_std, sparse)"
    ) in message
    assert "fix the pattern" in message


def test_an_explicit_signal_with_too_few_rows_is_an_input_error() -> None:
    with pytest.raises(InputError) as excinfo:
        resolve_signals(_wide(), [spec("vmaf=vmaf"), spec("few=sparse")])
    message = input_error(excinfo)
    assert message.startswith(
        f"synthetic.csv: --signal 'few' has values in only {MIN_ROWS - 1} rows with a 'mos' "
        f"value; the audit needs at least {MIN_ROWS}."
    )
    assert "drop the signal" in message


@pytest.mark.parametrize(
    ("specs", "baseline"),
    [
        (["a=vmaf", "a=psnr_y"], None),
        (["a=vmaf", "b=psnr_y"], "a=vmaf_neg"),
        (["a=vmaf", "b=psnr_y", "a=so_*"], None),
    ],
)
def test_a_signal_name_given_twice_is_a_usage_error(specs: list[str], baseline: str | None) -> None:
    with pytest.raises(UsageError) as excinfo:
        resolve_signals(
            _wide(),
            [spec(s) for s in specs],
            baseline=spec(baseline) if baseline else None,
        )
    assert input_error(excinfo) == ("signal name 'a' is given twice; give each signal its own name")


# --- the baseline -----------------------------------------------------------------------------


def test_a_baseline_comes_first_and_scorer_signals_are_second_opinions() -> None:
    corpus = corpus_of(
        {
            "vmaf": ramp(),
            "vmaf_neg": ramp(1),
            "so_brisque_f01": ramp(2),
            "so_brisque_f02": ramp(3),
            "so_niqe_score": ramp(4),
            "psnr_y": ramp(5),
        }
    )
    signals = resolve_signals(corpus, baseline=spec("vmaf=vmaf*"))
    assert signals.baseline == Signal("vmaf", ("vmaf", "vmaf_neg"))
    assert signals.signals[0] is signals.baseline
    # the default single 'vmaf' gives way to the baseline of that name
    assert [s.name for s in signals.signals] == ["vmaf", "brisque", "niqe", "vmaf_neg", "psnr_y"]
    # only scorer signals are second opinions; psnr_y is a plain column
    assert signals.second_opinions == ("brisque", "niqe")
    assert signals.get("vmaf") is signals.baseline


def test_a_scorer_signal_overlapping_the_baseline_is_not_a_second_opinion() -> None:
    corpus = corpus_of({"vmaf": ramp(), "so_niqe_score": ramp(1), "so_brisque_f01": ramp(2)})
    signals = resolve_signals(corpus, baseline=spec("base=vmaf,so_niqe_*"))
    assert [s.name for s in signals.signals] == ["base", "niqe", "brisque", "vmaf"]
    assert signals.second_opinions == ("brisque",)


def test_with_explicit_signals_every_one_disjoint_from_the_baseline_is_a_second_opinion() -> None:
    signals = resolve_signals(
        _wide(),
        [spec("brisque=so_brisque_*"), spec("psnr=psnr_y"), spec("v=vmaf"), spec("s=mos_std")],
        baseline=spec("base=vmaf,vmaf_neg"),
    )
    assert [s.name for s in signals.signals] == ["base", "brisque", "psnr", "v", "s"]
    assert signals.baseline is not None
    assert signals.baseline.columns == ("vmaf", "vmaf_neg")
    assert signals.second_opinions == ("brisque", "psnr", "s")  # 'v' shares 'vmaf'


def test_a_baseline_matching_nothing_or_too_sparse_names_the_option() -> None:
    with pytest.raises(InputError) as excinfo:
        resolve_signals(_wide(), baseline=spec("base=ssim*"))
    message = input_error(excinfo)
    assert "--baseline base=ssim* — 'ssim*' matches no numeric column" in message
    with pytest.raises(InputError) as excinfo:
        resolve_signals(_wide(), baseline=spec("base=sparse"))
    assert f"--baseline 'base' has values in only {MIN_ROWS - 1} rows" in input_error(excinfo)


def test_signal_set_get_refuses_an_unknown_name() -> None:
    signals = resolve_signals(_wide(), [spec("v=vmaf")])
    assert signals.get("v").columns == ("vmaf",)
    with pytest.raises(KeyError, match="nope"):
        signals.get("nope")


# --- signal_rows ------------------------------------------------------------------------------


def test_signal_rows_is_true_where_any_column_is_finite() -> None:
    nan, inf = math.nan, math.inf
    corpus = corpus_of(
        {
            "a": np.array([1.0, nan, nan, inf, nan, 0.0, *([1.0] * (N - 6))]),
            "b": np.array([nan, 2.0, nan, nan, -inf, nan, *([nan] * (N - 6))]),
        }
    )
    rows = signal_rows(corpus, ["a", "b"])
    assert rows.dtype == np.bool_
    assert rows.tolist() == [True, True, False, False, False, True, *([True] * (N - 6))]
    assert signal_rows(corpus, ["b"]).tolist() == [False, True, *([False] * (N - 2))]


_CELLS = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0]),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)


@settings(max_examples=60, deadline=None)
@given(
    matrix=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
        elements=_CELLS,
    ),
    data=st.data(),
)
def test_signal_rows_matches_a_reference(matrix: FloatArray, data: st.DataObject) -> None:
    n, k = matrix.shape
    names = [f"c{j}" for j in range(k)]
    corpus = Corpus(
        name="h",
        path=Path("h.csv"),
        mos_column="mos",
        mos=np.zeros(n),
        columns={name: matrix[:, j] for j, name in enumerate(names)},
        rows=n,
    )
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=k, unique=True))
    expected = [
        any(math.isfinite(float(matrix[i, names.index(c)])) for c in chosen) for i in range(n)
    ]
    got = signal_rows(corpus, chosen)
    assert got.shape == (n,)
    assert got.tolist() == expected
