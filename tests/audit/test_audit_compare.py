"""Head-to-head comparisons of two signals (``compare``, ``compare_all``) against the split
protocol re-done here with sklearn's splitter and scipy: the same rows, the same splits, each
signal's metric in its direction, Δ = A − B, wins and the paired Wilcoxon p."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped, unused-ignore]
from sklearn.model_selection import train_test_split

from second_opinion.audit.analysis import CorpusResult, analyse_corpus
from second_opinion.audit.compare import Delta, compare_corpus
from second_opinion.audit.compare_render import (
    comparison_blocks,
    comparisons_json,
    matrix_table,
    pairs_table,
)
from second_opinion.audit.options import AuditOptions, build_options
from second_opinion.audit.protocol import split_seeds
from second_opinion.audit.render import blocks, to_markdown
from second_opinion.audit.report import audit_json
from second_opinion.audit.run import run_audit
from second_opinion.audit.signals import SignalSpec, resolve_signals
from second_opinion.errors import UsageError
from tests._audit_data import make_corpus, write_corpus

FloatArray = npt.NDArray[np.float64]
SPLITS = 12


def _columns(n: int = 80, seed: int = 5) -> dict[str, FloatArray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    mos = 3 + 0.8 * z + 0.3 * rng.normal(size=n)
    good = z + 0.4 * rng.normal(size=n)
    weak = z + 1.5 * rng.normal(size=n)
    falling = -(z + 0.6 * rng.normal(size=n))  # lower is better
    gappy = (z + 0.5 * rng.normal(size=n)).copy()
    gappy[rng.choice(n, 15, replace=False)] = np.nan
    return {"mos": mos, "good": good, "weak": weak, "falling": falling, "gappy": gappy}


def _analysed(options: AuditOptions, columns: dict[str, FloatArray]) -> CorpusResult:
    corpus = make_corpus(columns, name="c")
    specs = [SignalSpec.parse(f"{name}={name}") for name in columns if name != "mos"]
    return analyse_corpus(corpus, resolve_signals(corpus, specs), options, None)


def _reference_srcc(x: FloatArray, y: FloatArray, rows: npt.NDArray[np.bool_]) -> FloatArray:
    """Per split, the signed test-split SRCC of x over ``rows``, split as the benchmark does."""
    xs, ys = x[rows], y[rows]
    out = []
    for seed in split_seeds(SPLITS):
        _, test = train_test_split(np.arange(xs.size), test_size=0.2, random_state=seed)
        out.append(stats.spearmanr(xs[test], ys[test]).statistic)
    return np.asarray(out, dtype=np.float64)


def _oriented(values: FloatArray, own: FloatArray) -> FloatArray:
    return values * (-1.0 if np.median(own) < 0 else 1.0)


OPTIONS = build_options(jobs=1, splits=SPLITS, bootstrap=0, model="ridge")


def test_a_pair_on_the_same_rows_matches_the_protocol_done_by_hand() -> None:
    columns = _columns()
    options = OPTIONS.model_copy(update={"compare": (("good", "falling"),)})
    found = compare_corpus(_analysed(options, columns), options, None)
    assert found is not None
    (pair,) = found.pairs
    assert (pair.a, pair.b, pair.n, pair.reevaluated, pair.note) == (
        "good",
        "falling",
        80,
        (),
        None,
    )
    rows = np.ones(80, dtype=bool)
    good = _reference_srcc(columns["good"], columns["mos"], rows)
    falling = _reference_srcc(columns["falling"], columns["mos"], rows)
    assert np.median(falling) < 0  # the falling signal is taken in its direction: magnitudes
    expected = _oriented(good, good) - _oriented(falling, falling)
    delta = pair.deltas["srcc"]
    np.testing.assert_allclose(delta.values, expected, rtol=0, atol=1e-12)
    assert delta.median == pytest.approx(float(np.median(expected)))
    low, high = delta.interval
    assert (low, high) == pytest.approx(tuple(np.quantile(expected, [0.025, 0.975])))
    assert delta.wins == pytest.approx(float(np.mean(expected > 0)))
    # equal Δ up to float noise are ties (exact p: here two pairs of tied |Δ|)
    assert delta.p == pytest.approx(stats.wilcoxon(np.round(expected, 12)).pvalue, rel=1e-12)


def test_signals_on_different_rows_are_evaluated_again_on_the_rows_both_have() -> None:
    columns = _columns()
    options = OPTIONS.model_copy(update={"compare": (("good", "gappy"),)})
    found = compare_corpus(_analysed(options, columns), options, None)
    assert found is not None
    (pair,) = found.pairs
    rows = np.isfinite(columns["gappy"])
    assert (pair.n, pair.reevaluated) == (65, ("good",))  # gappy's rows are the shared ones
    expected = _reference_srcc(columns["good"], columns["mos"], rows) - _reference_srcc(
        columns["gappy"], columns["mos"], rows
    )
    np.testing.assert_allclose(pair.deltas["srcc"].values, expected, rtol=0, atol=1e-12)
    text = to_markdown(comparison_blocks(found))
    assert "good vs gappy: good evaluated again on the 65 rows both have." in text


def test_a_pair_with_too_few_shared_rows_is_refused_with_the_reason() -> None:
    columns = _columns()
    index = np.arange(80)
    columns["early"] = np.where(index < 40, columns["good"], np.nan)
    columns["late"] = np.where(index >= 35, columns["weak"], np.nan)  # 5 rows shared
    options = OPTIONS.model_copy(update={"compare": (("early", "late"),)})
    found = compare_corpus(_analysed(options, columns), options, None)
    assert found is not None
    (pair,) = found.pairs
    assert (pair.n, pair.deltas) == (5, {})
    assert pair.note == "only 5 rows have both signals (at least 10 needed)"
    assert comparisons_json(found)["pairs"][0]["delta_srcc"] is None
    text = to_markdown(comparison_blocks(found))
    assert "early vs late not compared: only 5 rows have both signals (at least 10 needed)." in text
    assert "| early vs late | 5 | — | — | — | — | — | — |" in text


def test_compare_all_gives_every_pair_and_an_antisymmetric_matrix() -> None:
    columns = _columns()
    options = OPTIONS.model_copy(update={"compare": (("weak", "good"),), "compare_all": True})
    found = compare_corpus(_analysed(options, columns), options, None)
    assert found is not None
    # the pair asked for first, in its order; then every other pair once
    assert [(p.a, p.b) for p in found.pairs] == [
        ("weak", "good"),
        ("good", "falling"),
        ("good", "gappy"),
        ("weak", "falling"),
        ("weak", "gappy"),
        ("falling", "gappy"),
    ]
    data = comparisons_json(found)
    assert data["all_pairs"] is True
    assert data["matrix"]["signals"] == ["good", "weak", "falling", "gappy"]
    medians = np.array(data["matrix"]["delta_srcc"], dtype=np.float64)
    np.testing.assert_allclose(medians, -medians.T, atol=1e-12)
    assert np.isnan(np.diag(medians)).all()
    weak_good = found.pairs[0].deltas["srcc"].median
    assert medians[1, 0] == pytest.approx(weak_good)  # row weak, column good: weak − good
    assert weak_good < 0  # the weak signal loses
    pairs = pairs_table(found)
    assert pairs.rows[0][:2] == ("weak vs good", "80")
    matrix = matrix_table(found)
    assert matrix.headers == ("row − column", "good", "weak", "falling", "gappy")
    assert matrix.rows[0][1] == "—"


def test_compare_pairs_need_two_different_signal_names() -> None:
    for value, problem in (
        (["good"], "compare: 'good': expected two signal names as A,B"),
        (["a,b,c"], "compare: 'a,b,c': expected two signal names as A,B"),
        (["good,good"], "compare: good,good: compares 'good' with itself; name two different"),
    ):
        with pytest.raises(UsageError) as caught:
            build_options(jobs=1, compare=value)
        assert problem in str(caught.value)


def test_compare_names_known_signals_when_the_signals_are_named() -> None:
    with pytest.raises(UsageError) as caught:
        build_options(jobs=1, signals={"good": "good", "weak": "weak"}, compare=["good,wek"])
    assert "compare: good,wek: no signal named 'wek' (signals: good, weak)" in str(caught.value)
    options = build_options(
        jobs=1, signals={"good": "good"}, baseline="base=b*", compare=["good,base"]
    )
    assert options.compare == (("good", "base"),)


def test_run_audit_refuses_a_default_signal_no_corpus_has(tmp_path: Path) -> None:
    table = write_corpus(tmp_path / "c.csv", _columns())
    options = build_options(jobs=1, splits=3, bootstrap=0, model="ridge", compare=["good,nope"])
    with pytest.raises(UsageError) as caught:
        run_audit([table], options)
    assert caught.value.message == (
        "compare good,nope: no corpus has a signal named 'nope' "
        "(signals: falling, gappy, good, weak)"
    )


def test_the_report_holds_the_comparisons_in_json_markdown_and_html(tmp_path: Path) -> None:
    table = write_corpus(tmp_path / "c.csv", _columns())
    options = build_options(jobs=1, splits=4, bootstrap=0, model="ridge", compare=["good,weak"])
    result = run_audit([f"c={table}"], options)
    report = audit_json(result)
    (pair,) = report["comparisons"]["c"]["pairs"]
    assert (pair["a"], pair["b"], pair["n"], pair["splits"]) == ("good", "weak", 80, 4)
    assert set(pair["delta_srcc"]) == {"median", "interval", "wins", "wilcoxon_p"}
    assert report["protocol"]["compare"] == [["good", "weak"]]
    text = to_markdown(blocks(result, plots=False))
    median = pair["delta_srcc"]["median"]
    assert f"| good vs weak | 80 | {median:.4f} [" in text
    assert math.isfinite(median)


@given(
    st.lists(
        st.one_of(st.floats(-2, 2, allow_nan=False), st.just(math.nan)), min_size=0, max_size=30
    )
)
def test_delta_summaries_match_plain_python(values: list[float]) -> None:
    delta = Delta(np.asarray(values, dtype=np.float64))
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        assert math.isnan(delta.median)
        assert math.isnan(delta.wins)
        assert all(math.isnan(v) for v in delta.interval)
        assert math.isnan(delta.p)
        return
    assert delta.median == pytest.approx(statistics.median(finite), abs=1e-12)
    assert delta.wins == sum(v > 0 for v in finite) / len(finite)
    low, high = delta.interval
    assert min(finite) <= low <= delta.median <= high <= max(finite)
    if all(round(v, 12) == 0 for v in finite):
        assert delta.p == 1.0
    else:
        assert 0.0 < delta.p <= 1.0
