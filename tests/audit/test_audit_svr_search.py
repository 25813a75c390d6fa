"""The SVR's C/gamma search against scikit-learn's own ``RandomizedSearchCV``, on small data.

``'random-exact'`` is the benchmark's search: the same choice and the same test predictions as
``RandomizedSearchCV(SVR(), grid, cv=3, random_state=seed)`` refitted. ``'random'`` caps the
solver iterations of the cross-validation fits: its choice is that of ``RandomizedSearchCV`` over
``SVR(max_iter=CV_MAX_ITER)``, with the refit uncapped; where every fit converges under the cap,
it is the exact search's.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, ParameterSampler, RandomizedSearchCV
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVR

from second_opinion.audit import svr_search as search_module
from second_opinion.audit.options import build_options
from second_opinion.audit.protocol import predict_regressed, run_protocol
from second_opinion.audit.svr_search import (
    CV_MAX_ITER,
    SEARCH_DRAWS,
    SVR_C_GRID,
    SVR_GAMMA_GRID,
    svr_choice,
    svr_search,
)
from second_opinion.errors import InputError, UsageError

FloatArray = npt.NDArray[np.float64]
SPACE = {"C": list(SVR_C_GRID), "gamma": list(SVR_GAMMA_GRID)}


def _data(seed: int, n: int = 90, k: int = 3) -> tuple[FloatArray, FloatArray, FloatArray]:
    """MinMax-scaled training features, their MOS, and scaled test features (as the protocol)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n + 20, k))
    mos = 3.0 + np.tanh(x @ np.linspace(1.0, 0.3, k)) + rng.normal(scale=0.3, size=n + 20)
    scaler = MinMaxScaler().fit(x[:n])
    return scaler.transform(x[:n]), mos[:n], scaler.transform(x[n:])


def _sklearn_search(x: FloatArray, y: FloatArray, seed: int, max_iter: int = -1) -> SVR:
    """The benchmark's search, by scikit-learn, refitted on all of ``x`` (without a cap)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = RandomizedSearchCV(
            SVR(kernel="rbf", max_iter=max_iter), SPACE, n_iter=SEARCH_DRAWS, cv=3,
            random_state=seed,
        ).fit(x, y)  # fmt: skip
    best = search.best_params_
    return SVR(kernel="rbf", C=best["C"], gamma=best["gamma"]).fit(x, y)


def _most_iterations(x: FloatArray, y: FloatArray, seed: int) -> int:
    """The most solver iterations any cross-validation fit of the search needs to converge."""
    most = 0
    for candidate in ParameterSampler(SPACE, n_iter=SEARCH_DRAWS, random_state=seed):
        for fit, _ in KFold(n_splits=3).split(x):
            model = SVR(kernel="rbf", **candidate).fit(x[fit], y[fit])
            most = max(most, int(np.max(model.n_iter_)))
    return most


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_exact_is_randomized_search_cv_refitted(seed: int) -> None:
    x, y, x_test = _data(seed)
    reference = _sklearn_search(x, y, seed)
    assert svr_choice(x, y, "random-exact", seed) == (reference.C, reference.gamma)
    np.testing.assert_array_equal(
        svr_search(x, y, x_test, "random-exact", seed), reference.predict(x_test)
    )


@pytest.mark.parametrize(("seed", "n", "k"), [(2, 90, 3), (5, 90, 2), (5, 60, 3)])
def test_the_fast_search_is_the_exact_one_where_every_fit_converges_under_the_cap(
    seed: int, n: int, k: int
) -> None:
    x, y, x_test = _data(seed, n=n, k=k)
    assert _most_iterations(x, y, seed) < CV_MAX_ITER  # the premise: the cap never bites
    assert svr_choice(x, y, "random", seed) == svr_choice(x, y, "random-exact", seed)
    np.testing.assert_array_equal(
        svr_search(x, y, x_test, "random", seed), svr_search(x, y, x_test, "random-exact", seed)
    )


def test_a_capped_fit_is_scored_where_the_solver_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    # With a cap of 10 iterations every cross-validation fit stops early: the fast search then
    # chooses as RandomizedSearchCV over SVR(max_iter=10) does, and the refit is still exact.
    x, y, x_test = _data(4, n=120, k=4)
    monkeypatch.setattr(search_module, "CV_MAX_ITER", 10)
    changed = 0
    for seed in range(4):
        reference = _sklearn_search(x, y, seed, max_iter=10)
        choice = svr_choice(x, y, "random", seed)
        assert choice == (reference.C, reference.gamma)
        np.testing.assert_array_equal(
            svr_search(x, y, x_test, "random", seed), reference.predict(x_test)
        )
        changed += choice != svr_choice(x, y, "random-exact", seed)
    assert changed > 0  # the cap did bite: not the exact search's choice every time


def test_the_protocol_runs_each_search_and_refuses_an_unknown_one() -> None:
    x, y, _ = _data(5, n=60)
    exact = run_protocol(x, y, splits=2, search="random-exact")
    fast = run_protocol(x, y, splits=2, search="random")
    np.testing.assert_array_equal(fast.srcc, exact.srcc)  # small data: nothing hits the cap
    message = (
        "search must be one of random, random-exact, grid; got 'fast'. 'random-exact' "
        "reproduces the benchmark's search bit for bit; 'random' is its fast approximation "
        "(capped cross-validation fits)."
    )
    with pytest.raises(InputError) as raised:
        run_protocol(x, y, splits=2, search="fast")  # type: ignore[arg-type]
    assert str(raised.value) == message
    with pytest.raises(InputError, match="search must be one of random, random-exact, grid"):
        predict_regressed(x, y, np.arange(40), np.arange(40, 60), search="exact")  # type: ignore[arg-type]


def test_audit_options_accept_random_exact_and_name_the_choices() -> None:
    assert build_options(search="random-exact").search == "random-exact"
    assert build_options().search == "random"
    with pytest.raises(UsageError, match=r"search: Input should be 'random', 'random-exact' or "):
        build_options(search="exact")


@given(
    n=st.integers(min_value=1, max_value=40),
    data=st.data(),
)
def test_fold_blocks_copied_by_runs_are_the_rows_taken(n: int, data: st.DataObject) -> None:
    # The kernel blocks are copied stretch by stretch (KFold's folds are one or two stretches);
    # they must be exactly what taking the fold's rows and columns gives, for any index set.
    chosen = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    fit = np.flatnonzero(chosen).astype(np.intp)
    held_out = np.flatnonzero(~np.asarray(chosen, dtype=bool)).astype(np.intp)
    gram = np.arange(n * n, dtype=np.float64).reshape(n, n) / 7.0
    runs = (search_module._runs(fit), search_module._runs(held_out))
    (blocks,) = search_module._fold_kernels(gram, [runs])
    assert blocks is not None
    square = gram.take(fit, axis=0).take(fit, axis=1)
    if blocks.fit32 is None:  # libsvm fits
        np.testing.assert_array_equal(blocks.fit, square)
    else:  # the compiled solver fits: rounded to float32 as libsvm rounds it
        assert blocks.fit is None
        assert blocks.fit32.dtype == np.float32
        np.testing.assert_array_equal(blocks.fit32, square.astype(np.float32))
    np.testing.assert_array_equal(blocks.diagonal, np.diagonal(square))
    np.testing.assert_array_equal(blocks.held_out, gram.take(held_out, axis=0).take(fit, axis=1))
    assert all(b - a >= 1 for a, b in runs[0] + runs[1])
    assert sum(b - a for a, b in runs[0]) == fit.size


def test_runs_of_kfold_folds_are_one_or_two_stretches() -> None:
    for fit, held_out in KFold(n_splits=3).split(np.empty((10, 1))):
        assert len(search_module._runs(held_out)) == 1
        assert 1 <= len(search_module._runs(fit)) <= 2
    assert search_module._runs(np.array([0, 1, 2, 5, 6, 9], dtype=np.intp)) == [
        (0, 3),
        (5, 7),
        (9, 10),
    ]
