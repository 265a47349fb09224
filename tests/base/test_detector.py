"""BaseDetector's contract on a toy plugin: DataFrames, arrays and images, clone and Pipeline, errors, schemas and missing values."""

from __future__ import annotations

from helpers import MeanDistance
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
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
