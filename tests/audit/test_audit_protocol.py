"""The UGC-VQA split protocol: unit tests on synthetic data, and the published KoNViD-1k numbers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io  # type: ignore[import-untyped]

from second_opinion.audit.protocol import (
    predict_regressed,
    predict_training_free,
    run_protocol,
    split_seeds,
    splits,
)
from second_opinion.errors import InputError
from tests._paths import KONVID, needs_real_data


def _synthetic(n: int = 120, k: int = 4, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, k))
    weights = np.linspace(1.0, 0.4, k)
    mos = 3.0 + features @ weights * 0.5 + rng.normal(scale=0.2, size=n)
    return features, mos


def _konvid_mos() -> np.ndarray:
    return np.ravel(scipy.io.loadmat(KONVID / "KONVID_1K_NIQE_scores.mat")["MOS"])


def test_split_seeds_follow_ceil_8_8_i() -> None:
    assert split_seeds(5) == [9, 18, 27, 36, 44]
    assert len(split_seeds(100)) == 100


def test_splits_are_80_20_disjoint_and_deterministic() -> None:
    first, again = splits(100, 3), splits(100, 3)
    for (train, test), (train2, test2) in zip(first, again, strict=True):
        assert (len(train), len(test)) == (80, 20)
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
        np.testing.assert_array_equal(train, train2)
        np.testing.assert_array_equal(test, test2)
    assert not np.array_equal(first[0][1], first[1][1])


def test_training_free_signal_is_the_raw_score_on_the_test_split() -> None:
    x = np.arange(50, dtype=float)
    train, test = splits(50, 1)[0]
    np.testing.assert_array_equal(predict_training_free(x, train, test), x[test])


def test_training_free_protocol_needs_no_fitting_and_keeps_the_sign() -> None:
    rng = np.random.default_rng(1)
    mos = rng.uniform(1, 5, size=200)
    result = run_protocol(-mos, mos, splits=5)  # lower is better, like NIQE
    assert result.model == "training-free"
    np.testing.assert_allclose(result.srcc, -1.0)
    assert result.summary["srcc"].median == pytest.approx(1.0)
    assert result.summary["plcc"].median > 0.99


def test_infinite_features_take_the_training_mean() -> None:
    features, mos = _synthetic(n=60, k=2)
    train, test = splits(60, 1)[0]
    features[test[0], 1] = np.inf
    features[test[1], 1] = np.nan
    mean_filled = features.copy()
    mean_filled[test[:2], 1] = features[train, 1].mean()
    np.testing.assert_allclose(
        predict_regressed(features, mos, train, test, model="ridge"),
        predict_regressed(mean_filled, mos, train, test, model="ridge"),
    )
    result = run_protocol(features, mos, splits=3, model="ridge")
    assert np.all(np.isfinite(result.plcc))


def test_ridge_model_fits_a_linear_signal() -> None:
    features, mos = _synthetic()
    result = run_protocol(features, mos, splits=5, model="ridge")
    assert result.model == "ridge"
    assert result.summary["plcc"].median > 0.8
    assert result.srcc.shape == result.rmse.shape == (5,)


def test_svr_and_processes_give_identical_results() -> None:
    features, mos = _synthetic(n=60, k=3)
    one = run_protocol(features, mos, splits=3, model="svr", processes=1)
    two = run_protocol(features, mos, splits=3, model="svr", processes=2)
    for name in ("srcc", "krcc", "plcc", "rmse"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    assert one.summary == two.summary
    assert one.summary["srcc"].median > 0.5


def test_constant_prediction_does_not_raise() -> None:
    mos = np.linspace(1, 5, 40)
    result = run_protocol(np.ones(40), mos, splits=2)
    assert np.all(np.isnan(result.srcc))
    assert np.all(np.isfinite(result.rmse))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"splits": 0}, "splits must be an integer"),
        ({"processes": 0}, "processes must be an integer"),
        ({"model": "lasso"}, "model must be one of"),
    ],
)
def test_bad_options_raise_input_error(kwargs: dict[str, object], message: str) -> None:
    features, mos = _synthetic(n=20)
    with pytest.raises(InputError, match=message):
        run_protocol(features, mos, **kwargs)  # type: ignore[arg-type]


def test_mismatched_or_non_finite_mos_raises_input_error() -> None:
    features, mos = _synthetic(n=20)
    with pytest.raises(InputError, match="mos has 19 values"):
        run_protocol(features, mos[:-1])
    mos[3] = np.nan
    with pytest.raises(InputError, match="at index 3"):
        run_protocol(features, mos)


@pytest.mark.slow
@needs_real_data
def test_konvid_niqe_matches_the_published_medians() -> None:
    niqe = np.ravel(scipy.io.loadmat(KONVID / "KONVID_1K_NIQE_scores.mat")["y_pred"])
    result = run_protocol(niqe, _konvid_mos(), splits=100)
    assert result.summary["srcc"].median == pytest.approx(0.5417, abs=0.001)
    assert result.summary["plcc"].median == pytest.approx(0.5530, abs=0.001)


# The full 100-split check (published 0.6567 / 0.6576, ±0.02) is benchmarks/run_audit.py: one SVR
# split takes ~11 s here. This test runs only the first BRISQUE_SPLITS splits, so its median is
# noisier: the tolerance is deliberately loose, ±0.04 instead of ±0.02.
BRISQUE_SPLITS = 10


@pytest.mark.slow
@needs_real_data
def test_konvid_brisque_svr_is_near_the_published_medians() -> None:
    # The benchmark's own search: RandomizedSearchCV, 10 draws over the (C, gamma) grid (the
    # default 'random' caps its cross-validation fits, ADR 0014; over these 10 splits it chooses
    # as 'random-exact' does). Over 40 splits this gave median |SRCC| 0.6586 / PLCC 0.6642
    # (published 0.6567 / 0.6576); the full 100-split check is
    # benchmarks/protocol_vs_benchmark.py. Few splits here, so the tolerance is ±0.04.
    features = scipy.io.loadmat(KONVID / "KONVID_1K_BRISQUE_feats.mat")["feats_mat"]
    result = run_protocol(features, _konvid_mos(), splits=BRISQUE_SPLITS, model="svr", processes=2)
    assert result.summary["srcc"].median == pytest.approx(0.6567, abs=0.04)  # loose: few splits
    assert result.summary["plcc"].median == pytest.approx(0.6576, abs=0.04)  # loose: few splits


@pytest.mark.slow
@needs_real_data
def test_konvid_brisque_full_grid_search_overshoots_the_published_medians() -> None:
    # Why the default is the random search: the exhaustive grid finds better (C, gamma) than the
    # published script did, so its numbers are not comparable with the benchmark's.
    features = scipy.io.loadmat(KONVID / "KONVID_1K_BRISQUE_feats.mat")["feats_mat"]
    result = run_protocol(
        features, _konvid_mos(), splits=2, model="svr", search="grid", processes=2
    )
    assert result.summary["srcc"].median > 0.6567 + 0.02
