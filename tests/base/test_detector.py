"""BaseDetector's contract on a toy plugin: DataFrames, arrays and images, clone and Pipeline, errors, schemas and missing values,
predict_proba and score, and columns read by position."""

from __future__ import annotations

import warnings

from helpers import MeanDistance, load_anomaly_set
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
import synthkit
from synthkit.errors import (
    DataError,
    NotFittedError,
    PluginError,
    SchemaError,
)


# -- detector contract -------------------------------------------------------------------------
def test_detector_contract_on_a_dataframe(toy, toy_table):
    det = MeanDistance(contamination=0.05).fit(toy_table)
    assert det.decision_scores_.shape == (len(toy_table),)
    assert det.labels_.sum() == pytest.approx(0.05 * len(toy_table), abs=2)
    assert set(np.unique(det.labels_)) <= {0, 1}
    assert det.labels_[:5].all()  # the planted outliers
    np.testing.assert_allclose(det.decision_function(toy_table), det.decision_scores_)
    np.testing.assert_array_equal(det.predict(toy_table), det.labels_)
    assert det.threshold_ == pytest.approx(np.quantile(det.decision_scores_, 0.95))


def test_detector_on_arrays_and_images(toy):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3))
    assert MeanDistance().fit(X).decision_function(X).shape == (100,)
    images = rng.integers(0, 256, size=(20, 8, 8), dtype=np.uint8)
    det = MeanDistance().fit(images)
    assert det.decision_function(images).shape == (20,)
    with pytest.raises(SchemaError, match=r"shape \(8, 8, 1\)"):
        det.decision_function(rng.integers(0, 256, size=(2, 9, 9), dtype=np.uint8))


def test_clone_and_pipeline(toy, toy_table):
    det = MeanDistance(contamination=0.2, scale=3.0)
    twin = clone(det)
    assert twin.get_params() == {"contamination": 0.2, "scale": 3.0}
    assert not hasattr(twin, "threshold_")
    X = toy_table[["amount", "count"]].to_numpy(float)
    pipe = Pipeline([("scale", StandardScaler()), ("detect", MeanDistance(contamination=0.1))]).fit(
        X
    )
    labels = pipe.predict(X)
    assert labels.shape == (len(X),) and set(np.unique(labels)) == {0, 1}
    assert pipe.decision_function(X).shape == (len(X),)
    pipe.set_params(detect__contamination=0.3)
    assert pipe.fit(X).predict(X).mean() == pytest.approx(0.3, abs=0.02)


def test_unfitted_and_bad_contamination(toy, toy_table):
    with pytest.raises(NotFittedError, match="call fit"):
        MeanDistance().decision_function(toy_table)
    with pytest.raises(PluginError, match="contamination"):
        MeanDistance(contamination=0.9).fit(toy_table)


# -- adapter -----------------------------------------------------------------------------------
def test_schema_mismatch_names_columns(toy, toy_table):
    det = MeanDistance().fit(toy_table)
    with pytest.raises(SchemaError, match="missing columns flag.*unexpected columns extra"):
        det.decision_function(toy_table.drop(columns=["flag"]).assign(extra=1))
    with pytest.raises(SchemaError, match=r"count \(.*expected numeric\)"):
        det.decision_function(toy_table.assign(count=toy_table["count"].astype(str).astype(object)))


def test_missing_values_policies(toy, toy_table):
    dirty = toy_table.astype({"count": float})
    dirty.loc[10, "amount"] = np.nan
    dirty.loc[11, "count"] = np.inf
    dirty.loc[12, "kind"] = None
    with pytest.raises(
        DataError, match="3 rows have missing or infinite values in columns amount, count, kind"
    ):
        MeanDistance().fit(dirty)
    imputed = MeanDistance(contamination=0.1)  # "missing" is read from the detector when set
    imputed.missing = "impute"
    assert np.isfinite(imputed.fit(dirty).decision_function(dirty)).all()
    dropped = MeanDistance()
    dropped.missing = "drop"
    scores = dropped.fit(dirty).decision_function(dirty)
    assert np.isnan(scores[10:13]).all() and np.isfinite(np.delete(scores, [10, 11, 12])).all()
    assert dropped.predict(dirty)[10:13].tolist() == [0, 0, 0]


def test_empty_and_duplicate_columns(toy):
    with pytest.raises(DataError, match="empty"):
        MeanDistance().fit(pd.DataFrame({"a": []}))
    dup = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    with pytest.raises(DataError, match="duplicate column names: a"):
        MeanDistance().fit(dup)


def test_unseen_category_encodes_as_zeros(toy, toy_table):
    det = MeanDistance().fit(toy_table)
    new = toy_table.head(3).assign(kind=["z", "z", "z"])
    assert np.isfinite(det.decision_function(new)).all()


# -- predict_proba and score (PyOD's and scikit-learn's) ---------------------------------------
def test_predict_proba_is_the_share_of_training_scores_at_or_below(toy):
    X, y = load_anomaly_set("thyroid")
    det = MeanDistance(contamination=0.05).fit(X)
    proba = det.predict_proba(X)
    scores = det.decision_function(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1.0)
    for i in (0, 1, 500, int(np.argmax(scores)), int(np.argmin(scores))):
        assert proba[i, 1] == np.mean(det.decision_scores_ <= scores[i])
    assert proba[np.argmax(scores), 1] == 1.0 and proba[:, 1].min() > 0
    order = np.argsort(scores)  # a monotone reading of the scores: the ranking is kept
    assert (np.diff(proba[order, 1]) >= 0).all()
    assert roc_auc_score(y, proba[:, 1]) == pytest.approx(roc_auc_score(y, scores))
    # predict flags the rows whose P(anomaly) passes 1 - contamination
    assert proba[det.labels_ == 1, 1].min() > 0.95 >= proba[det.labels_ == 0, 1].max()
    far = X[:3] * 100  # beyond every training row: certain anomalies
    np.testing.assert_array_equal(det.predict_proba(far), [[0.0, 1.0]] * 3)


def test_predict_proba_linear_is_pyods_min_max(toy):
    X, _ = load_anomaly_set("thyroid")
    det = MeanDistance().fit(X)
    low, high = det.decision_scores_.min(), det.decision_scores_.max()
    expected = np.clip((det.decision_function(X[:50] * 3) - low) / (high - low), 0, 1)
    np.testing.assert_allclose(det.predict_proba(X[:50] * 3, method="linear")[:, 1], expected)
    with pytest.raises(
        PluginError, match=r"^method='unify' is not .*; choose one of empirical, linear$"
    ):
        det.predict_proba(X, method="unify")
    with pytest.raises(NotFittedError):
        MeanDistance().predict_proba(X)


def test_predict_proba_and_score_leave_dropped_rows_out(toy, toy_table):
    dirty = toy_table.copy()
    dirty.loc[[3, 10], "amount"] = np.nan
    det = MeanDistance()
    det.missing = "drop"
    det.fit(dirty)
    proba = det.predict_proba(dirty)
    assert np.isnan(proba[[3, 10]]).all() and np.isfinite(np.delete(proba, [3, 10], axis=0)).all()
    scores = det.decision_function(dirty)
    assert det.score(dirty) == pytest.approx(-np.nanmean(scores))
    y = np.zeros(len(dirty), int)
    y[:5] = 1  # the planted outliers, row 3 among them, without a score
    assert det.score(dirty, y) == pytest.approx(
        roc_auc_score(np.delete(y, [3, 10]), np.delete(scores, [3, 10]))
    )


def test_score_is_roc_auc_with_labels_and_mean_normality_without(toy):
    X, y = load_anomaly_set("thyroid")
    det = MeanDistance().fit(X)
    auc = roc_auc_score(y, det.decision_function(X))
    assert det.score(X, y) == pytest.approx(auc) and isinstance(det.score(X, y), float)
    # synthkit's label rule: 1/0 as booleans, floats or text are the same labels
    for same in (y.astype(bool), y.astype(float), y.astype(str), pd.Series(y.astype(bool))):
        assert det.score(X, same) == pytest.approx(auc)
    assert det.score(X) == pytest.approx(np.mean(-det.decision_function(X)))
    assert det.score(X[y == 0]) > det.score(X[y == 1])  # normal rows look more normal
    with pytest.warns(UndefinedMetricWarning, match="normal rows only, so ROC-AUC is undefined"):
        assert np.isnan(det.score(X[y == 0], y[y == 0]))
    with pytest.raises(DataError, match=r"^y must be 1 for an anomaly .* holds 'legit', 'fraud': "):
        det.score(X, np.where(y == 1, "fraud", "legit"))
    with pytest.raises(DataError, match=r"^y must hold one label per row: got shape \(3,\)"):
        det.score(X, y[:3])
    with pytest.raises(DataError, match="y has missing labels in 1 of"):
        det.score(X, np.where(np.arange(len(y)) == 7, np.nan, y))


# -- columns read by position, as scikit-learn reads them ---------------------------------------
def test_a_model_fitted_on_an_array_reads_a_dataframe_by_position(toy):
    X, _ = load_anomaly_set("thyroid")
    det = MeanDistance().fit(X)
    expected = det.decision_function(X)
    named = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    with pytest.warns(
        UserWarning,
        match=r"^X has feature names, but MeanDistance was fitted without feature names; "
        "its columns are read by position",
    ):
        np.testing.assert_array_equal(det.decision_function(named), expected)
    with pytest.warns(UserWarning, match="X has feature names"):
        np.testing.assert_array_equal(det.predict(named), det.predict(X))
        np.testing.assert_array_equal(det.predict_proba(named), det.predict_proba(X))
    with warnings.catch_warnings():  # no names, as scikit-learn reads pd.DataFrame(X): no warning
        warnings.simplefilter("error")
        np.testing.assert_array_equal(det.decision_function(pd.DataFrame(X)), expected)
    with pytest.raises(
        SchemaError, match=r"^X has 2 features, but MeanDistance is expecting 6 features as input$"
    ):
        det.decision_function(named.iloc[:, :2])


def test_a_model_fitted_on_a_dataframe_reads_an_array_by_position(toy):
    table = synthkit.load_dataset("transactions").drop(columns="is_fraud").head(2000)
    det = MeanDistance().fit(table)  # text, boolean and numeric columns
    expected = det.decision_function(table)
    with pytest.warns(
        UserWarning,
        match=r"^X does not have valid feature names, but MeanDistance was fitted with feature "
        r"names; its columns are read by position as amount, hour, day_of_week, .*, \.\.\.$",
    ):
        np.testing.assert_array_equal(det.decision_function(table.to_numpy()), expected)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        unnamed = table.set_axis(range(table.shape[1]), axis=1)
        np.testing.assert_array_equal(det.decision_function(unnamed), expected)
    with warnings.catch_warnings():  # the same names in another order: matched by name, as before
        warnings.simplefilter("error")
        np.testing.assert_array_equal(det.decision_function(table[table.columns[::-1]]), expected)
    with pytest.raises(SchemaError, match="missing columns amount; unexpected columns total"):
        det.decision_function(table.rename(columns={"amount": "total"}))
    with pytest.raises(SchemaError, match=r"^X has 3 features, but MeanDistance is expecting 12 "):
        det.decision_function(table.to_numpy()[:, :3])
    # fitted on a DataFrame without text names: positional both ways, a warning for text names
    numbers = table.select_dtypes("number")
    plain = MeanDistance().fit(numbers.set_axis(range(numbers.shape[1]), axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_array = plain.decision_function(numbers.to_numpy())
    with pytest.warns(
        UserWarning, match="X has feature names, but MeanDistance was fitted without"
    ):
        np.testing.assert_array_equal(plain.decision_function(numbers), by_array)
