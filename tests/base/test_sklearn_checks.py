"""scikit-learn conventions: ``check_estimator`` on the detectors, pickle and joblib for every plugin,
the ``scoring`` rename, ``cross_val_score`` without ``scoring=``, exceptions, sparse input, labels, ``n_features_in_`` and ``n_iter_``.

``check_estimator(..., expected_failed_checks=...)`` on its own only marks a listed check "xfail"
when it fails; it does not complain when a listed check passes. ``run_checks`` asserts both ways:
no check outside the list fails, and every listed check ran and failed.
"""

from __future__ import annotations

import functools
import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import OutlierMixin, clone, is_classifier, is_outlier_detector
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.estimator_checks import check_estimator, estimator_checks_generator

import synthkit
from synthkit import errors
from synthkit.registry import get_registry

# No check is expected to fail. synthkit keeps PyOD's labels: predict and fit_predict give 1 for an
# outlier and 0 for an inlier, and decision_function is higher for outliers. scikit-learn's
# OutlierMixin promises -1/+1, so the detectors do not claim it (is_outlier_detector is False) and
# check_estimator runs its general checks, which pass in full. With the -1/+1 conversion on top
# and OutlierMixin claimed, scikit-learn's outlier checks pass too
# (test_outlier_checks_pass_once_labels_are_converted).
OUTLIER_CHECKS = {"check_outliers_train", "check_outliers_fit_predict"}

# one batch, no validation split, no weight averaging: one traced training step per fit
TINY_AE = dict(
    epochs=1,
    hidden_units=(8,),
    latent_dim=2,
    n_estimators=1,
    batch_size=512,
    validation_split=0,
    average_weights=0,
)
CHECKED = {  # registered name -> small, fast hyper-parameters
    "kmeans": dict(n_clusters=3, n_init=1),
    "iforest": dict(n_estimators=10),
    "knn": {},
    "lof": dict(n_neighbors=5),
    "ecod": {},
    "ensemble": dict(
        members=["iforest", "knn", "ecod"], member_params={"iforest": {"n_estimators": 5}}
    ),
}
# the autoencoder's checks that the default run keeps (every fit costs seconds): the API checks and
# those the issue names; the whole suite runs under -m slow
AUTOENCODER_FAST_CHECKS = {
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_fit_score_takes_y",
    "check_estimators_unfitted",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_estimators_pickle",
    "check_complex_data",
    "check_estimators_empty_data_messages",
    "check_fit1d",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
}


def _check_name(check) -> str:
    while hasattr(check, "__wrapped__"):
        check = check.__wrapped__
    return check.func.__name__ if isinstance(check, functools.partial) else check.__name__


def run_checks(estimator, expected_failed: dict, only: set | None = None) -> list[dict]:
    """Run scikit-learn's estimator checks (all, or those named in ``only``) and fail on any check
    that fails outside ``expected_failed``, or that is listed there and passes or did not run."""
    if only is None:
        results = check_estimator(
            estimator, expected_failed_checks=expected_failed, on_fail=None, on_skip=None
        )
    else:
        results = []
        for est, check in estimator_checks_generator(estimator, legacy=True, mark=None):
            name = _check_name(check)
            if name not in only:
                continue
            try:
                check(est)
                status, exc = "passed", None
            except Exception as e:  # noqa: BLE001 - collect, as check_estimator does
                status, exc = ("xfail" if name in expected_failed else "failed"), e
            results.append(
                {
                    "check_name": name,
                    "status": status,
                    "exception": exc,
                    "expected_to_fail": name in expected_failed,
                }
            )
    failed = [
        f"{r['check_name']}: {type(r['exception']).__name__}: {r['exception']}"
        for r in results
        if r["status"] == "failed"
    ]
    assert not failed, "checks failing outside the expected list:\n" + "\n".join(failed)
    passing = sorted(
        {r["check_name"] for r in results if r["expected_to_fail"] and r["status"] == "passed"}
    )
    assert not passing, (
        f"listed as expected to fail but passed (remove them from the list): {passing}"
    )
    ran = {r["check_name"] for r in results}
    listed = set(expected_failed) if only is None else set(expected_failed) & only
    assert listed <= ran, f"listed checks that did not run: {sorted(listed - ran)}"
    return results


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


# -- check_estimator ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CHECKED))
def test_check_estimator(name):
    detector = synthkit.get_detector(name, **CHECKED[name])
    results = run_checks(detector, {})
    # missing="model" (the built-in detectors' default) takes NaN, so allow_nan is set and
    # scikit-learn leaves out its check that NaN is refused: one check fewer
    allow_nan = detector.__sklearn_tags__().input_tags.allow_nan
    assert sum(r["status"] == "passed" for r in results) >= (39 if allow_nan else 40)
    assert not is_outlier_detector(
        synthkit.get_detector(name)
    )  # PyOD's 0/1 labels, not OutlierMixin's -1/+1
    # predict_proba and score ran through the checks; two classes (normal, anomaly), yet no classifier
    assert {"check_fit_score_takes_y", "check_estimator_sparse_matrix"} <= {
        r["check_name"] for r in results if r["status"] == "passed"
    }
    assert detector.__sklearn_tags__().classifier_tags.multi_class is False
    assert not is_classifier(detector) and detector.__sklearn_tags__().estimator_type is None


def test_check_estimator_autoencoder_api_checks():
    results = run_checks(
        synthkit.get_detector("autoencoder", **TINY_AE), {}, AUTOENCODER_FAST_CHECKS
    )
    assert {r["check_name"] for r in results} == AUTOENCODER_FAST_CHECKS


@pytest.mark.slow
@pytest.mark.parametrize(
    "params", [TINY_AE, dict(TINY_AE, n_estimators=2)], ids=["single", "members"]
)
def test_check_estimator_autoencoder_full(params):  # about three minutes each on two cores
    run_checks(synthkit.get_detector("autoencoder", **params), {})


@pytest.mark.slow
def test_check_estimator_ensemble_with_an_autoencoder():
    params = dict(members=["knn", "autoencoder"], member_params={"autoencoder": TINY_AE})
    run_checks(synthkit.get_detector("ensemble", **params), {})


class SignedLabels:
    """scikit-learn's outlier conventions on top of a detector: -1 for outliers and +1 for inliers,
    and a decision function that is negative for outliers (``threshold_ - score``)."""

    def predict(self, X):
        return np.where(super().decision_function(X) > self.threshold_, -1, 1)

    def fit_predict(self, X, y=None):
        return 1 - 2 * self.fit(X).labels_

    def decision_function(self, X):
        return self.threshold_ - super().decision_function(X)

    def score_samples(self, X):
        return -super().decision_function(X)

    @property
    def offset_(self):
        return -self.threshold_


def _check_signed(name, params):
    cls = get_registry().get("detectors", name)
    signed = type(f"Signed{cls.__name__}", (SignedLabels, OutlierMixin, cls), {})
    results = run_checks(signed(**params), {}, OUTLIER_CHECKS)
    assert {r["check_name"] for r in results if r["status"] == "passed"} == OUTLIER_CHECKS


@pytest.mark.parametrize("name", ["kmeans", "iforest", "ecod"])
def test_outlier_checks_pass_once_labels_are_converted(name):
    """Converted to -1/+1 and claiming OutlierMixin, a detector passes scikit-learn's outlier checks."""
    _check_signed(name, CHECKED[name])


@pytest.mark.slow
def test_outlier_checks_pass_once_labels_are_converted_autoencoder():
    _check_signed("autoencoder", TINY_AE)


# -- pickle and joblib -------------------------------------------------------------------------
def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(3, 1, n), 2),
            "count": rng.poisson(3, n),
            "shop": rng.choice(["food", "fuel", "gems"], n),
            "online": rng.random(n) < 0.4,
        }
    )


def _images(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, 8, 8)) * 255).astype(np.uint8), np.arange(n) % 2


DETECTORS = {  # registered name -> tiny hyper-parameters for a fast fit (the autoencoder's: below)
    "iforest": dict(n_estimators=10),
    "knn": {},
    "lof": dict(n_neighbors=5),
    "ecod": {},
    "ensemble": CHECKED["ensemble"],  # with an autoencoder member: test_old_model_directories_...
    "kmeans": dict(n_clusters=3),  # with autoencoder features: test_old_model_directories_...
}
ENSEMBLE_WITH_AE = dict(members=["knn", "autoencoder"], member_params={"autoencoder": TINY_AE})
KMEANS_WITH_AE = dict(n_clusters=3, features="autoencoder", ae_epochs=1)


@functools.lru_cache(maxsize=None)
def _fitted_autoencoder():
    """A two-member autoencoder on the test table, fitted once for the tests that only read it."""
    return synthkit.get_detector(
        "autoencoder", **dict(TINY_AE, n_estimators=2, scoring="hybrid")
    ).fit(_table())


GENERATORS = {  # registered name -> (tiny table parameters, tiny image parameters)
    "gan": (
        dict(epochs=1, batch_size=30, max_modes=2, pac=5),
        dict(epochs=1, batch_size=12, width=4, latent_dim=4),
    ),
    "diffusion": (
        dict(epochs=1, batch_size=30, widths=(8,), steps=2),
        dict(
            epochs=1,
            ae_epochs=1,
            denoiser_epochs=1,
            batch_size=8,
            widths=(4,),
            steps=2,
            latent_channels=2,
        ),
    ),
}


def test_every_registered_plugin_is_covered():
    registry = get_registry()
    assert set(registry.entries("detectors")) == set(DETECTORS) | {"autoencoder"}
    assert set(registry.entries("generators")) == set(GENERATORS)


def _round_trips(model, tmp_path):
    """The model back from pickle and from a joblib file."""
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    return pickle.loads(pickle.dumps(model)), joblib.load(path)


def _same_fitted_attributes(a, b):
    assert sorted(vars(a)) == sorted(vars(b))
    for key, value in vars(a).items():
        if isinstance(value, (np.ndarray, int, float, str, bool, list, dict)) and key != "members_":
            np.testing.assert_equal(vars(b)[key], value, err_msg=key)


def _check_round_trips(det, data, tmp_path):
    scores = det.decision_function(data)
    for again in _round_trips(det, tmp_path):
        np.testing.assert_array_equal(again.decision_function(data), scores)
        np.testing.assert_array_equal(again.predict(data), det.predict(data))
        _same_fitted_attributes(det, again)
        assert again.get_params() == det.get_params()
    twice = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(det))))
    np.testing.assert_array_equal(twice.decision_function(data), scores)


@pytest.mark.parametrize("name", sorted(DETECTORS) + ["autoencoder"])
def test_detector_pickle_and_joblib_round_trip(name, tmp_path):
    table = _table()
    det = synthkit.get_detector(name, **DETECTORS.get(name, TINY_AE))
    for again in _round_trips(det, tmp_path):  # unfitted: parameters only
        assert again.get_params() == det.get_params()
        with pytest.raises(SklearnNotFittedError):
            again.decision_function(table)
    _check_round_trips(
        _fitted_autoencoder() if name == "autoencoder" else det.fit(table), table, tmp_path
    )


def test_variational_autoencoder_pickles(tmp_path):  # its Keras model has no get_config
    det = synthkit.get_detector("autoencoder", **dict(TINY_AE, kind="vae", trim=0)).fit(_table())
    _check_round_trips(det, _table(), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["conv", "vae", "denoising"])
def test_image_autoencoders_pickle(kind, tmp_path):
    images, _ = _images()
    params = dict(kind=kind, epochs=1, batch_size=8, filters=(4,), latent_dim=2)
    det = synthkit.get_detector("autoencoder", **params).fit(images)
    _check_round_trips(det, images, tmp_path)
    for again in _round_trips(det, tmp_path):
        np.testing.assert_array_equal(again.reconstruct(images), det.reconstruct(images))


def _sample_equal(a, b):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        np.testing.assert_array_equal(a, b)


def _generator_round_trip(name, kind, tmp_path):
    table_params, image_params = GENERATORS[name]
    gen = synthkit.get_generator(name, **(table_params if kind == "table" else image_params))
    for again in _round_trips(gen, tmp_path):
        assert again.get_params() == gen.get_params() and not hasattr(again, "adapter_")
    if kind == "table":
        data = _table()
        gen.fit(data.drop(columns="online"), data["online"])
        label = True
    else:
        data, labels = _images()
        gen.fit(data, labels)
        label = 1
    for again in _round_trips(gen, tmp_path):
        _sample_equal(again.sample(12, seed=3), gen.sample(12, seed=3))
        _sample_equal(again.sample(5, y=label, seed=4), gen.sample(5, y=label, seed=4))
        assert (
            list(again.classes_) == list(gen.classes_)
            and again.n_features_in_ == gen.n_features_in_
        )


def test_generator_pickle_and_joblib_round_trip(tmp_path):
    _generator_round_trip("gan", "table", tmp_path)


@pytest.mark.slow  # 15 to 40 s each: the tiniest fits still trace several networks
@pytest.mark.parametrize(
    "name, kind", [("gan", "image"), ("diffusion", "table"), ("diffusion", "image")]
)
def test_more_generators_pickle_and_joblib_round_trip(name, kind, tmp_path):
    _generator_round_trip(name, kind, tmp_path)


# -- the scoring parameter ---------------------------------------------------------------------
def test_scoring_replaces_score_and_score_warns():
    from synthkit_plugins.autoencoder.detector import AutoencoderDetector

    det = AutoencoderDetector()
    assert "scoring" in det.get_params() and "score" not in det.get_params()
    assert "score" not in vars(det) and callable(det.score)  # the estimator's score method
    with pytest.warns(DeprecationWarning, match=r"score= is deprecated; use scoring="):
        old = AutoencoderDetector(score="mse")
    assert old.scoring == "mse" and clone(old).scoring == "mse"
    with pytest.raises(TypeError, match="give scoring= only"), pytest.warns(DeprecationWarning):
        AutoencoderDetector(score="mse", scoring="l1")
    with pytest.raises(TypeError):
        AutoencoderDetector(scor="mse")


def test_cross_val_score_with_the_autoencoder():
    X = np.random.default_rng(0).normal(size=(60, 3))
    det = synthkit.get_detector("autoencoder", **TINY_AE)
    mean_score = cross_val_score(
        det, X, cv=2, scoring=lambda est, X, y=None: float(est.decision_function(X).mean())
    )
    assert mean_score.shape == (2,) and np.isfinite(mean_score).all()


def test_cross_val_score_needs_no_scoring():
    """score(X, y) is the ROC-AUC against 0/1 labels, score(X) the mean of score_samples: what
    cross_val_score and GridSearchCV use without scoring=; folds split with KFold, as for any
    estimator that is not a classifier."""
    from helpers import load_anomaly_set

    X, y = load_anomaly_set("thyroid")  # its 93 outliers spread over the rows: every fold has some
    det = synthkit.get_detector("iforest")
    aucs = cross_val_score(det, X, y)
    expected = []
    for train, test in KFold(5).split(X):
        fitted = clone(det).fit(X[train])
        expected.append(roc_auc_score(y[test], fitted.decision_function(X[test])))
    np.testing.assert_allclose(aucs, expected)
    assert (aucs > 0.5).all()
    normality = cross_val_score(det, X)
    train, test = next(iter(KFold(5).split(X)))
    assert normality[0] == pytest.approx(clone(det).fit(X[train]).score_samples(X[test]).mean())
    search = GridSearchCV(
        synthkit.get_detector("iforest", n_estimators=20), {"max_samples": [64, 256]}, cv=3
    ).fit(X, y)
    assert search.best_params_["max_samples"] in (64, 256) and 0.5 < search.best_score_ <= 1


def _as_old_directory(det, path, monkeypatch):
    """Save ``det`` as synthkit saved autoencoders before the rename: parameters with ``score``."""
    from synthkit_plugins.autoencoder.detector import AutoencoderDetector

    new_get_params = AutoencoderDetector.get_params

    def old_get_params(self, deep=True):
        params = new_get_params(self, deep)
        return {("score" if k == "scoring" else k): v for k, v in params.items()}

    with monkeypatch.context() as m:
        m.setattr(AutoencoderDetector, "get_params", old_get_params)
        det.save(path)


@pytest.mark.parametrize(
    "name, params",
    [("autoencoder", None), ("kmeans", KMEANS_WITH_AE), ("ensemble", ENSEMBLE_WITH_AE)],
)
def test_old_model_directories_with_score_load_unchanged(name, params, tmp_path, monkeypatch):
    """Directories saved before the rename (``score`` in the parameters) load without a warning and
    score identically; kmeans and ensembles hold an autoencoder's parameters in their state."""
    table = _table()
    det = (
        _fitted_autoencoder()
        if params is None
        else synthkit.get_detector(name, **params).fit(table)
    )
    _as_old_directory(det, tmp_path / "old", monkeypatch)
    text = (tmp_path / "old" / "manifest.json").read_text()
    assert '"score":' in text and '"scoring":' not in text
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = synthkit.load_model(tmp_path / "old")
    assert not [w for w in caught if "scoring=" in str(w.message)]
    np.testing.assert_array_equal(loaded.decision_function(table), det.decision_function(table))
    if params is None:
        assert loaded.scoring == "hybrid"
    else:  # and these pickle, Keras networks inside included
        _check_round_trips(det, table, tmp_path)


# -- exceptions --------------------------------------------------------------------------------
def test_user_errors_are_the_exceptions_tools_expect():
    assert issubclass(errors.DataError, ValueError) and issubclass(errors.SchemaError, ValueError)
    assert issubclass(errors.PluginError, ValueError)
    assert issubclass(errors.DataTypeError, TypeError) and issubclass(
        errors.DataTypeError, errors.DataError
    )
    assert issubclass(errors.NotFittedError, SklearnNotFittedError)
    assert issubclass(errors.NotFittedError, AttributeError) and issubclass(
        errors.NotFittedError, errors.SynthkitError
    )
    exc = pickle.loads(pickle.dumps(errors.NotFittedError("not fitted")))
    assert type(exc) is errors.NotFittedError and str(exc) == "not fitted"
    with pytest.raises(ValueError, match="contamination"):
        synthkit.get_detector("knn", contamination=2).fit(np.zeros((5, 2)))


def test_importing_the_errors_does_not_import_scikit_learn():
    code = "import sys, synthkit, synthkit.errors; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- input: sparse, object arrays, n_features_in_, feature_names_in_ ---------------------------
def test_sparse_input_is_densified_and_a_huge_one_refused(monkeypatch):
    from scipy import sparse

    from synthkit.adapters import _arrays as arrays

    X = np.random.default_rng(0).normal(size=(40, 3))
    X[X < 0.5] = 0
    dense = synthkit.get_detector("kmeans", n_clusters=3).fit(X)
    for container in (sparse.csr_matrix, sparse.csr_array, sparse.coo_array):
        det = synthkit.get_detector("kmeans", n_clusters=3).fit(container(X))
        np.testing.assert_array_equal(
            det.decision_function(container(X)), dense.decision_function(X)
        )
    cats = pd.DataFrame({"a": list("xyzx") * 10, "b": list("pq") * 20})
    pipe = make_pipeline(OneHotEncoder(), synthkit.get_detector("kmeans", n_clusters=2)).fit(cats)
    assert pipe.predict(cats).shape == (40,) and pipe[-1].n_features_in_ == 5
    monkeypatch.setattr(arrays, "MAX_SPARSE_VALUES", 100)
    with pytest.raises(
        errors.DataError, match=r"^sparse input of shape \(40, 3\) is too large to densify .*$"
    ):
        synthkit.get_detector("kmeans").fit(sparse.csr_matrix(X))


def test_object_arrays_of_numbers_are_read_as_numbers():
    X = np.random.default_rng(0).normal(size=(30, 2))
    det = synthkit.get_detector("knn").fit(X.astype(object))
    plain = synthkit.get_detector("knn").fit(X)
    np.testing.assert_allclose(det.decision_function(X.astype(object)), plain.decision_function(X))
    bad = X.astype(object)
    bad[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match="must hold numbers"):
        synthkit.get_detector("knn").fit(bad)


def test_n_features_in_and_feature_names_in(tmp_path):
    table = _table()  # four columns, six features once "shop" is one-hot encoded
    det = synthkit.get_detector("knn").fit(table)
    assert det.n_features_in_ == 4
    assert det.feature_names_in_.dtype == object and list(det.feature_names_in_) == list(
        table.columns
    )
    for again in (
        pickle.loads(pickle.dumps(det)),
        (det.save(tmp_path / "m"), synthkit.load_model(tmp_path / "m"))[1],
    ):
        assert again.n_features_in_ == 4 and list(again.feature_names_in_) == list(table.columns)
    numbers = table[["amount", "count"]]
    det.fit(numbers.to_numpy())  # refit on an array: no names
    assert det.n_features_in_ == 2 and not hasattr(det, "feature_names_in_")
    with pytest.raises(
        ValueError, match="X has 1 features, but KNNDetector is expecting 2 features as input"
    ):
        det.predict(numbers.to_numpy()[:, :1])
    assert not hasattr(
        synthkit.get_detector("knn").fit(pd.DataFrame(numbers.to_numpy())), "feature_names_in_"
    )
    images, labels = _images()
    assert synthkit.get_detector("knn").fit(images).n_features_in_ == 64


def test_kmeans_n_iter():
    X = np.random.default_rng(0).normal(size=(50, 2))
    det = synthkit.get_detector("kmeans", n_clusters=3, max_iter=300).fit(X)
    assert isinstance(det.n_iter_, int) and 1 <= det.n_iter_ <= 300
    assert pickle.loads(pickle.dumps(det)).n_iter_ == det.n_iter_


def test_labels_are_zero_and_one():
    X = np.random.default_rng(0).normal(size=(50, 2))
    det = synthkit.get_detector("knn", contamination=0.1).fit(X)
    assert set(det.predict(X)) == {0, 1} and set(det.labels_) == {0, 1}
    np.testing.assert_array_equal(det.fit_predict(X), det.labels_)
    np.testing.assert_array_equal(det.score_samples(X), -det.decision_function(X))
