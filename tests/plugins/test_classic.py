"""The classic detectors (iforest, knn, lof, ecod): their scores against the reference formulas and
scikit-learn, the detector contract, save/load, and real anomaly tables."""

from __future__ import annotations

import warnings

from helpers import load_anomaly_set


import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor

import synthkit
from synthkit.errors import PluginError

CLASSIC = ("iforest", "knn", "lof", "ecod")


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    Xt = rng.normal(size=(120, 5))
    Xt[:12] += 4.0  # twelve planted outliers
    return X, Xt, (np.arange(120) < 12).astype(int)


def adapted(det, X):
    return det.adapter_.transform(X)[0]


def test_iforest_scores_as_scikit_learn(blobs):
    X, Xt, _ = blobs
    det = synthkit.get_detector("iforest", seed=7).fit(X)
    forest = IsolationForest(random_state=7).fit(adapted(det, X))
    np.testing.assert_allclose(
        det.decision_function(Xt), -forest.score_samples(adapted(det, Xt)), atol=1e-12
    )
    np.testing.assert_allclose(
        det.decision_scores_, -forest.score_samples(adapted(det, X)), atol=1e-12
    )


def test_knn_is_the_kth_neighbour_distance_without_self(blobs):
    X, Xt, _ = blobs
    det = synthkit.get_detector("knn", n_neighbors=3).fit(X)
    A, At = adapted(det, X).astype(np.float64), adapted(det, Xt).astype(np.float64)
    test_d = np.sort(np.linalg.norm(At[:, None] - A[None], axis=2), axis=1)
    np.testing.assert_allclose(det.decision_function(Xt), test_d[:, 2], rtol=1e-5)
    train_d = np.sort(
        np.linalg.norm(A[:, None] - A[None], axis=2), axis=1
    )  # column 0 is the row itself
    np.testing.assert_allclose(det.decision_scores_, train_d[:, 3], rtol=1e-5)
    mean = synthkit.get_detector("knn", n_neighbors=3, method="mean").fit(X)
    np.testing.assert_allclose(mean.decision_function(Xt), test_d[:, :3].mean(1), rtol=1e-5)


def test_knn_training_scores_with_duplicate_rows():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    det = synthkit.get_detector("knn", n_neighbors=1).fit(X)
    # each duplicate's nearest other row is its twin, at distance zero
    np.testing.assert_allclose(det.decision_scores_[:2], 0.0, atol=1e-6)
    assert det.decision_scores_[3] == det.decision_scores_.max()


def test_lof_scores_as_scikit_learn(blobs):
    X, Xt, _ = blobs
    det = synthkit.get_detector("lof", n_neighbors=15).fit(X)
    ref = LocalOutlierFactor(n_neighbors=15, novelty=True).fit(adapted(det, X).astype(np.float64))
    np.testing.assert_allclose(det.decision_scores_, -ref.negative_outlier_factor_, rtol=1e-5)
    np.testing.assert_allclose(
        det.decision_function(Xt), -ref.score_samples(adapted(det, Xt)), rtol=1e-5
    )


def test_ecod_tail_surprise():
    X = np.arange(10, dtype=float).reshape(-1, 1)  # no skew: both tails count
    det = synthkit.get_detector("ecod").fit(X)
    inside, beyond = det.decision_function(np.array([[4.5], [20.0]]))
    assert beyond > det.decision_scores_.max() > inside
    # 4.5 has 5 training values on each side: -log(6/11) for each tail
    assert inside == pytest.approx(-2 * np.log(6 / 11))


def test_ecod_constant_column_fits_without_warnings():
    """An image's always-white pixel is a constant nonzero column: scipy's skew warned of
    precision loss on stderr (issue 32, item 9)."""
    images = np.random.default_rng(0).random((50, 4, 4)).astype(np.float32)
    images[:, 0, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det = synthkit.get_detector("ecod").fit(images)
    assert det.skew_sign_[0] == 0 and np.all(det.skew_sign_[1:] != 0)


@pytest.mark.parametrize("name", CLASSIC)
def test_contract_save_load_and_seed(name, blobs, tmp_path):
    X, Xt, y = blobs
    det = synthkit.get_detector(name, contamination=0.05, seed=1).fit(X)
    assert roc_auc_score(y, det.decision_function(Xt)) > 0.95
    assert det.labels_.mean() == pytest.approx(0.05, abs=0.01)
    assert (det.predict(Xt) == (det.decision_function(Xt) > det.threshold_)).all()
    again = synthkit.get_detector(name, contamination=0.05, seed=1).fit(X)
    np.testing.assert_array_equal(again.decision_function(Xt), det.decision_function(Xt))
    det.save(tmp_path / "m")
    loaded = synthkit.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.decision_function(Xt), det.decision_function(Xt))
    assert loaded.threshold_ == det.threshold_


@pytest.mark.parametrize("name", CLASSIC)
def test_missing_values_policy_on_a_frame(name):
    rng = np.random.default_rng(2)
    df = pd.DataFrame(
        {"a": rng.normal(size=100), "b": rng.normal(size=100), "c": rng.choice(["x", "y"], 100)}
    )
    df.loc[3, "a"] = np.nan
    with pytest.raises(synthkit.SynthkitError, match="missing"):
        synthkit.get_detector(name, missing="error").fit(df)
    for missing in ("impute", "model"):  # "model", the default: the gap is a flag column
        det = synthkit.get_detector(name, missing=missing).fit(df)
        assert np.isfinite(det.decision_function(df)).all()
    assert "a is missing" in synthkit.get_detector(name).fit(df).adapter_.feature_names


@pytest.mark.parametrize(
    "name, params",
    [
        ("iforest", {"n_estimators": 0}),
        ("iforest", {"max_features": 2.0}),
        ("iforest", {"max_samples": "all"}),
        ("knn", {"n_neighbors": -1}),
        ("knn", {"method": "max"}),
        ("lof", {"n_neighbors": 1.5}),
    ],
)
def test_parameter_errors(name, params, blobs):
    with pytest.raises(PluginError, match=next(iter(params))):
        synthkit.get_detector(name, **params).fit(blobs[0])


@pytest.mark.parametrize("name", CLASSIC)
def test_real_thyroid_table(name):
    """ADBench's thyroid (3,772 rows, 2.5% outliers): every classic detector ranks them well above chance."""
    X, y = load_anomaly_set("thyroid")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    train, test = order[:2000], order[2000:]
    det = synthkit.get_detector(name).fit(pd.DataFrame(X[train]))
    assert roc_auc_score(y[test], det.decision_function(pd.DataFrame(X[test]))) > 0.7
