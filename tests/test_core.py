"""The core contracts: registry, BaseDetector, BaseGenerator, adapters and model directories."""

from __future__ import annotations

import json
import types

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import synthkit
from synthkit import BaseDetector, BaseGenerator, hookimpl
from synthkit.errors import (
    DataError,
    ModelFileError,
    NotFittedError,
    PluginError,
    SchemaError,
    SynthkitError,
)


class MeanDistance(BaseDetector):
    """Distance to the training mean: the smallest honest detector."""

    def __init__(self, contamination=0.1, scale=1.0):
        self.contamination = contamination
        self.scale = scale

    def _fit(self, X):
        self.center_ = X.reshape(len(X), -1).mean(axis=0)

    def _score(self, X):
        return self.scale * np.linalg.norm(X.reshape(len(X), -1) - self.center_, axis=1)


class Bootstrap(BaseGenerator):
    """Resamples training rows (per class when conditional), plus a little noise."""

    def __init__(self, noise=0.0):
        self.noise = noise

    def _fit(self, X, y):
        self.rows_ = X
        self.codes_ = np.zeros(len(X), int) if y is None else y

    def _sample(self, n, y, rng):
        if y is None:
            idx = rng.integers(0, len(self.rows_), n)
        else:
            idx = np.array([rng.choice(np.flatnonzero(self.codes_ == c)) for c in y])
        return self.rows_[idx] + self.noise * rng.standard_normal(self.rows_[idx].shape)


class ToyPlugin:
    @hookimpl
    def synthkit_register_detectors(self, register):
        register("meandist", MeanDistance)

    @hookimpl
    def synthkit_register_generators(self, register):
        register("bootstrap", Bootstrap)


@pytest.fixture
def toy(registry):
    registry.register_plugin(ToyPlugin(), name="toy")
    return registry


def test_an_in_process_plugin_registers_and_unregisters(toy):
    assert toy.entries("detectors")["meandist"] == (MeanDistance, "toy")
    assert isinstance(synthkit.get_generator("bootstrap"), Bootstrap)
    toy.unregister_plugin("toy")
    assert "meandist" not in toy.entries("detectors") and "bootstrap" not in toy.entries(
        "generators"
    )
    with pytest.raises(PluginError, match="unknown detector 'meandist'"):
        synthkit.get_detector("meandist")
    assert "kmeans" in toy.entries("detectors")  # the installed plugins stay


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n).round(2),
            "count": rng.integers(0, 10, n),
            "kind": rng.choice(["a", "b", "c"], n).astype(object),
            "flag": rng.random(n) < 0.3,
        }
    )
    df.loc[:4, "amount"] = 1e4  # five obvious outliers
    return df


# -- registry ----------------------------------------------------------------------------------
def test_builtins_register_through_entry_points(registry):
    assert {"kmeans", "autoencoder"} <= set(registry.entries("detectors"))
    assert {"mnist", "transactions"} <= set(registry.entries("datasets"))
    assert registry.infos["kmeans"].package == "synthkit"


def test_in_process_plugin_is_usable(toy):
    det = synthkit.get_detector("meandist", scale=2.0)
    assert isinstance(det, MeanDistance) and det.scale == 2.0
    assert "meandist" in toy.infos["toy"].registered["detectors"]


def test_unknown_plugin_and_parameter_errors(toy):
    with pytest.raises(PluginError, match="unknown detector 'nope'.*meandist"):
        synthkit.get_detector("nope")
    with pytest.raises(
        PluginError, match="unknown parameter bogus.*valid parameters: contamination, scale"
    ):
        synthkit.get_detector("meandist", bogus=1)


def test_broken_hook_is_isolated_and_reported(registry):
    class Broken:
        @hookimpl
        def synthkit_register_detectors(self, register):
            register("half", MeanDistance)
            raise RuntimeError("boom")

    class NotADetector:
        @hookimpl
        def synthkit_register_detectors(self, register):
            register("wrong", dict)

    registry.register_plugin(Broken(), name="broken")
    registry.register_plugin(NotADetector(), name="wrongbase")
    with pytest.warns(UserWarning):
        names = set(registry.entries("detectors"))
    assert "half" not in names and "wrong" not in names and "kmeans" in names
    failures = {f.name: f.error for f in registry.failures}
    assert "boom" in failures["broken"]
    assert "not a subclass of synthkit.BaseDetector" in failures["wrongbase"]


def test_registry_under_threads_on_first_use(monkeypatch):
    """Threads that ask a fresh process for a detector at once all get it (a Dask worker with 2+ threads)."""
    import threading
    import time

    from synthkit import registry as registry_module

    monkeypatch.setattr(registry_module, "_registry", None)
    load = registry_module.Registry.load_entry_points

    def slow_load(self):  # widen the window in which other threads ask while entry points load
        time.sleep(0.2)
        load(self)

    monkeypatch.setattr(registry_module.Registry, "load_entry_points", slow_load)
    barrier, results = threading.Barrier(4), []

    def ask(i):
        barrier.wait()
        try:
            if i % 2:
                results.append(type(synthkit.get_detector("kmeans")).__name__)
            else:
                results.append(sorted(registry_module.get_registry().entries("detectors")))
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 4 and not [r for r in results if isinstance(r, Exception)], results
    assert all("kmeans" in r or r == "KMeansDetector" for r in results), results
    registry = registry_module.get_registry()
    assert "kmeans" in registry.entries("detectors")  # nothing empty was cached for later callers


# -- detector contract -------------------------------------------------------------------------
def test_detector_contract_on_a_dataframe(toy, table):
    det = MeanDistance(contamination=0.05).fit(table)
    assert det.decision_scores_.shape == (len(table),)
    assert det.labels_.sum() == pytest.approx(0.05 * len(table), abs=2)
    assert set(np.unique(det.labels_)) <= {0, 1}
    assert det.labels_[:5].all()  # the planted outliers
    np.testing.assert_allclose(det.decision_function(table), det.decision_scores_)
    np.testing.assert_array_equal(det.predict(table), det.labels_)
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


def test_clone_and_pipeline(toy, table):
    det = MeanDistance(contamination=0.2, scale=3.0)
    twin = clone(det)
    assert twin.get_params() == {"contamination": 0.2, "scale": 3.0}
    assert not hasattr(twin, "threshold_")
    X = table[["amount", "count"]].to_numpy(float)
    pipe = Pipeline([("scale", StandardScaler()), ("detect", MeanDistance(contamination=0.1))]).fit(
        X
    )
    labels = pipe.predict(X)
    assert labels.shape == (len(X),) and set(np.unique(labels)) == {0, 1}
    assert pipe.decision_function(X).shape == (len(X),)
    pipe.set_params(detect__contamination=0.3)
    assert pipe.fit(X).predict(X).mean() == pytest.approx(0.3, abs=0.02)


def test_unfitted_and_bad_contamination(toy, table):
    with pytest.raises(NotFittedError, match="call fit"):
        MeanDistance().decision_function(table)
    with pytest.raises(PluginError, match="contamination"):
        MeanDistance(contamination=0.9).fit(table)


# -- adapter -----------------------------------------------------------------------------------
def test_schema_mismatch_names_columns(toy, table):
    det = MeanDistance().fit(table)
    with pytest.raises(SchemaError, match="missing columns flag.*unexpected columns extra"):
        det.decision_function(table.drop(columns=["flag"]).assign(extra=1))
    with pytest.raises(SchemaError, match=r"count \(.*expected numeric\)"):
        det.decision_function(table.assign(count=table["count"].astype(str).astype(object)))


def test_missing_values_policies(toy, table):
    dirty = table.astype({"count": float})
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


def test_unseen_category_encodes_as_zeros(toy, table):
    det = MeanDistance().fit(table)
    new = table.head(3).assign(kind=["z", "z", "z"])
    assert np.isfinite(det.decision_function(new)).all()


# -- generator contract ------------------------------------------------------------------------
def test_generator_round_trips_schema(toy, table):
    gen = Bootstrap(noise=0.01).fit(table)
    out = gen.sample(50, seed=3)
    assert list(out.columns) == list(table.columns)
    assert out.dtypes.to_dict() == table.dtypes.to_dict()
    assert set(out["kind"]) <= {"a", "b", "c"}
    assert (out["count"] >= 0).all() and (out["count"] == out["count"].round()).all()
    pd.testing.assert_frame_equal(out, gen.sample(50, seed=3))


def test_conditional_generator_and_augment(toy, table):
    labelled = table.assign(is_fraud=(np.arange(len(table)) % 10 == 0).astype(int))
    rows = synthkit.augment(
        labelled, plugin="bootstrap", n=40, label_column="is_fraud", label=1, seed=0
    )
    assert list(rows.columns) == list(labelled.columns)
    assert (rows["is_fraud"] == 1).all() and rows["is_fraud"].dtype == labelled["is_fraud"].dtype
    with pytest.raises(SynthkitError, match="not among the classes"):
        synthkit.augment(labelled, plugin="bootstrap", n=5, label_column="is_fraud", label=7)


def test_image_generator_keeps_dtype(toy):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 6, 6), dtype=np.uint8)
    labels = np.repeat([3, 5, 7], 10)
    gen = Bootstrap().fit(images, labels)
    out = gen.sample(12, y=5, seed=1)
    assert out.shape == (12, 6, 6) and out.dtype == np.uint8
    assert all(any((o == images[i]).all() for i in range(10, 20)) for o in out)


# -- model directories -------------------------------------------------------------------------
def test_save_load_round_trip(toy, table, tmp_path):
    det = MeanDistance(contamination=0.05, scale=2.0).fit(table)
    det.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["plugin"] == "meandist" and manifest["format_version"] == 1
    assert manifest["params"] == {"contamination": 0.05, "scale": 2.0}
    again = synthkit.load_model(tmp_path / "m")
    np.testing.assert_allclose(again.decision_function(table), det.decision_function(table))
    assert again.threshold_ == det.threshold_
    with pytest.raises(SchemaError, match="missing columns"):
        again.decision_function(table.drop(columns=["kind"]))


def test_generator_save_load(toy, table, tmp_path):
    gen = Bootstrap().fit(table.drop(columns=["kind"]), table["kind"])
    gen.save(tmp_path / "g")
    again = synthkit.load_model(tmp_path / "g")
    pd.testing.assert_frame_equal(again.sample(10, y="b", seed=1), gen.sample(10, y="b", seed=1))
    assert isinstance(again.classes_, np.ndarray) and list(again.classes_) == list(gen.classes_)
    np.testing.assert_array_equal(again.class_freq_, gen.class_freq_)


def test_corrupted_model_directories(toy, table, tmp_path):
    MeanDistance().fit(table).save(tmp_path / "m")
    state = tmp_path / "m" / "state.npz"
    state.write_bytes(state.read_bytes()[:-10])
    with pytest.raises(ModelFileError, match="checksum"):
        synthkit.load_model(tmp_path / "m")
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(ModelFileError, match="another format"):
        synthkit.load_model(tmp_path / "f")
    with pytest.raises(ModelFileError, match="no model directory"):
        synthkit.load_model(tmp_path / "absent")


def test_unregistered_class_cannot_be_saved(registry, table, tmp_path):
    with pytest.raises(ModelFileError, match="not a registered detector"):
        MeanDistance().fit(table).save(tmp_path / "m")


# -- API ---------------------------------------------------------------------------------------
def test_detect_api_with_label_column(table):
    labelled = table.assign(label=(np.arange(len(table)) < 5).astype(int))
    out = synthkit.detect(
        labelled, plugin="kmeans", contamination=0.05, label_column="label", seed=0, n_clusters=3
    )
    assert list(out.columns) == [*labelled.columns, "anomaly_score", "is_anomaly", "segment"]
    summary = out.attrs["synthkit"]
    assert summary["roc_auc"] > 0.9 and summary["rows"] == len(table)


def test_detect_scores_the_rows_it_fitted_with_decision_scores(table):
    """Fitted on the very rows it scores, detect reports decision_scores_ and labels_ (PyOD's training
    scores: for k-NN each row is left out of its own neighbours) instead of scoring them again."""
    from synthkit.detection._run import run_detect

    result = run_detect(table, plugin="knn")
    det = result.detector
    np.testing.assert_array_equal(result.frame["anomaly_score"], det.decision_scores_)
    np.testing.assert_array_equal(result.frame["is_anomaly"], det.labels_)
    assert not np.allclose(
        det.decision_function(table), det.decision_scores_
    )  # each row its own neighbour
    holed = table.astype({"count": float})
    holed.loc[[7, 40], "count"] = np.nan
    dropped = run_detect(holed, plugin="knn", missing="drop")
    assert dropped.summary["rows_dropped"] == 2 and len(dropped.frame) == len(table) - 2
    np.testing.assert_array_equal(dropped.frame["anomaly_score"], dropped.detector.decision_scores_)
    np.testing.assert_array_equal(dropped.frame["amount"], holed.drop(index=[7, 40])["amount"])
    kmeans = run_detect(
        holed, plugin="kmeans", n_clusters=3, missing="drop", seed=0
    )  # segments still computed
    np.testing.assert_array_equal(
        kmeans.frame["segment"], kmeans.detector.segment(holed.drop(index=[7, 40]))
    )


def test_load_dataset_transactions():
    df = synthkit.load_dataset("transactions")
    assert len(df) == 20_000 and df["is_fraud"].isin([0, 1]).all()
    assert 0.01 <= df["is_fraud"].mean() <= 0.02
    kinds = {str(t) for t in df.dtypes}
    assert {"float64", "int64", "bool", "object"} <= kinds


def test_kmeans_on_transactions_finds_fraud():
    out = synthkit.detect("transactions", plugin="kmeans", contamination=0.02, seed=0)
    assert out.attrs["synthkit"]["roc_auc"] > 0.75
    assert out["segment"].between(0, 7).all()


def test_lazy_top_level_exports():
    assert isinstance(synthkit.__version__, str)
    with pytest.raises(AttributeError):
        synthkit.does_not_exist  # noqa: B018
    assert isinstance(types.ModuleType, type)
