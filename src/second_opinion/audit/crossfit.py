"""Predictions of a multi-column signal outside the split protocol.

* :func:`out_of_fold`: every row predicted by a regressor trained on the other folds (shuffled
  K-fold, seeded) — the signal's full-table "score", for its metrics, plots and redundancy;
* :func:`fit_predict`: trained on one table, predicting another (cross-corpus).

Both use :func:`second_opinion.audit.protocol.predict_regressed`, so imputation, scaling and the
C/gamma search are exactly the protocol's.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import KFold

from second_opinion.audit.protocol import Model, Search, predict_regressed
from second_opinion.errors import InputError

FloatArray = npt.NDArray[np.float64]


def out_of_fold(
    x: npt.ArrayLike,
    mos: npt.ArrayLike,
    *,
    folds: int = 5,
    model: Model = "svr",
    search: Search = "random",
    seed: int = 0,
) -> FloatArray:
    """Each row's prediction from a model fitted on the other ``folds − 1`` folds."""
    features = np.asarray(x, dtype=np.float64)
    target = np.asarray(mos, dtype=np.float64)
    if features.ndim == 1:
        features = features.reshape(-1, 1)
    if features.shape[0] < 2 * folds:
        msg = (
            f"out-of-fold predictions need at least {2 * folds} rows for {folds} folds; "
            f"got {features.shape[0]}"
        )
        raise InputError(msg)
    out = np.full(features.shape[0], np.nan)
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(features)):
        out[test] = predict_regressed(
            features,
            target,
            np.asarray(train, dtype=np.intp),
            np.asarray(test, dtype=np.intp),
            model,
            search,
            seed + fold,
        )
    return out


def fit_predict(
    x_train: npt.ArrayLike,
    mos_train: npt.ArrayLike,
    x_test: npt.ArrayLike,
    *,
    model: Model = "svr",
    search: Search = "random",
    seed: int = 0,
) -> FloatArray:
    """Fit on (``x_train``, ``mos_train``) as the protocol does and predict ``x_test``."""
    train_part = np.asarray(x_train, dtype=np.float64)
    test_part = np.asarray(x_test, dtype=np.float64)
    if train_part.ndim == 1:
        train_part, test_part = train_part.reshape(-1, 1), test_part.reshape(-1, 1)
    if train_part.shape[1] != test_part.shape[1]:
        msg = (
            f"fit_predict: the training table has {train_part.shape[1]} columns and the test "
            f"table {test_part.shape[1]}; both need the same columns"
        )
        raise InputError(msg)
    stacked = np.vstack([train_part, test_part])
    # predict_regressed takes one target per row of X; the test rows' targets are never read.
    target = np.concatenate([np.asarray(mos_train, dtype=np.float64), np.zeros(len(test_part))])
    n = train_part.shape[0]
    train = np.arange(n, dtype=np.intp)
    test = np.arange(n, stacked.shape[0], dtype=np.intp)
    return predict_regressed(stacked, target, train, test, model, search, seed)
