"""The ensemble detector: members by name (third-party ones too), normalisation, save/load, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import roc_auc_score

import synthkit
from synthkit import BaseDetector, hookimpl
from synthkit.cli._main import cli
from synthkit.errors import PluginError

FAST = ["iforest", "knn", "ecod"]


class Negated(BaseDetector):
    """A third-party detector on a scale of its own: large negative numbers, higher = more anomalous."""

    def __init__(self, contamination=0.1, offset=-1000.0):
        self.contamination = contamination
        self.offset = offset

    def _fit(self, X):
        self.center_ = X.mean(axis=0)

    def _score(self, X):
        return self.offset + 1e-3 * np.linalg.norm(X - self.center_, axis=1)


class ThirdParty:
    @hookimpl
    def synthkit_register_detectors(self, register):
        register("negated", Negated)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    X[:10] += 5.0  # contaminated training rows
    Xt = rng.normal(size=(200, 4))
    Xt[:20] += 4.0
    return X, Xt, (np.arange(200) < 20).astype(int)


@pytest.mark.parametrize("combine", ["mean", "rank", "max"])
def test_combines_members_and_round_trips(combine, data, tmp_path):
    X, Xt, y = data
    det = synthkit.get_detector("ensemble", members=FAST, combine=combine, contamination=0.05).fit(
        X
    )
    scores = det.decision_function(Xt)
    assert roc_auc_score(y, scores) > 0.95
    assert [type(m).__name__ for m in det.members_] == [
        "IsolationForestDetector",
        "KNNDetector",
        "ECODDetector",
    ]
    assert det.member_scores_.shape == (len(X), 3)
    assert det.labels_.mean() == pytest.approx(0.05, abs=0.01)
    np.testing.assert_allclose(det.decision_scores_, det._combined(det.member_scores_))
    det.save(tmp_path / "ens")
    loaded = synthkit.load_model(tmp_path / "ens")
    np.testing.assert_array_equal(loaded.decision_function(Xt), scores)
    np.testing.assert_array_equal(loaded.predict(Xt), det.predict(Xt))


def test_members_are_normalised_on_their_training_scores(data):
    X, _, _ = data
    det = synthkit.get_detector("ensemble", members=FAST).fit(X)
    # what each member says of the training rows as new rows has median 0 and interquartile range 1
    said = det._normalised(det._member_raw(det.adapter_.transform(X)[0]))
    q25, q50, q75 = np.quantile(said, [0.25, 0.5, 0.75], axis=0)
    np.testing.assert_allclose(q50, 0.0, atol=1e-9)
    np.testing.assert_allclose(q75 - q25, 1.0, atol=1e-9)


def test_third_party_member(registry, data, tmp_path):
    registry.register_plugin(ThirdParty(), name="thirdparty")
    X, Xt, y = data
    det = synthkit.get_detector(
        "ensemble", members=["negated", "knn"], member_params={"negated": {"offset": -5e3}}
    )
    det.fit(X)
    assert det.members_[0].offset == -5e3
    # on its own scale the third-party member would swamp k-NN; normalised, both count
    assert np.corrcoef(det.decision_scores_, det.member_scores_[:, 1])[0, 1] > 0.5
    assert roc_auc_score(y, det.decision_function(Xt)) > 0.95
    det.save(tmp_path / "m")
    np.testing.assert_array_equal(
        synthkit.load_model(tmp_path / "m").decision_function(Xt), det.decision_function(Xt)
    )


def test_same_seed_same_scores(data):
    X, Xt, _ = data
    a = (
        synthkit.get_detector("ensemble", members=["iforest", "knn"], seed=3)
        .fit(X)
        .decision_function(Xt)
    )
    b = (
        synthkit.get_detector("ensemble", members=["iforest", "knn"], seed=3)
        .fit(X)
        .decision_function(Xt)
    )
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"members": []}, "non-empty list"),
        ({"members": "knn"}, "non-empty list"),
        ({"members": ["knn", "nosuch"]}, "unknown detector 'nosuch'"),
        ({"members": ["knn", "ensemble"]}, "its own member"),
        ({"members": ["knn"], "member_params": {"lof": {}}}, "not in members"),
        ({"members": ["knn"], "screen": ["knn", "nosuch"]}, "unknown detector 'nosuch'"),
        ({"members": ["knn"], "screen_share": 0.7}, "screen_share must be"),
        ({"members": ["knn"], "screened": "knn"}, "screened must be"),
        ({"members": ["knn"], "member_params": {"knn": {"nosuch": 1}}}, "unknown parameter nosuch"),
        ({"members": ["knn"], "combine": "median"}, "combine must be"),
        (
            {"members": ["knn"], "member_params": {"knn": {"n_neighbors": 0}}},
            "n_neighbors must be a positive integer",
        ),
        (
            {
                "members": ["knn"],
                "screen": ["iforest"],
                "screen_params": {"iforest": {"max_features": 2.0}},
            },
            "max_features must be",
        ),
    ],
)
def test_errors_before_any_member_trains(params, message, data, monkeypatch):
    from synthkit_plugins.classic.knn import KNNDetector

    def refuse(self, X):
        raise AssertionError("a member trained before the parameters were checked")

    monkeypatch.setattr(KNNDetector, "_fit", refuse)
    with pytest.raises(PluginError, match=message):
        synthkit.get_detector("ensemble", **params).fit(data[0])


def test_cli_ensemble_on_a_table(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=300),
            "y": rng.normal(size=300),
            "kind": rng.choice(["a", "b"], 300),
            "label": (np.arange(300) < 15).astype(int),
        }
    )
    df.loc[:14, ["x", "y"]] += 5
    df.to_csv(tmp_path / "t.csv", index=False)
    result = CliRunner().invoke(
        cli,
        [
            "detect",
            str(tmp_path / "t.csv"),
            "--plugin",
            "ensemble",
            "--param",
            'members=["iforest","lof"]',
            "--label-column",
            "label",
            "-o",
            str(tmp_path / "out.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "out.csv")
    assert roc_auc_score(out["label"], out["anomaly_score"]) > 0.95


def test_screening_holds_out_the_rows_the_first_pass_ranks_highest(data):
    X, _, _ = data
    det = synthkit.get_detector("ensemble", screen_share=0.1).fit(X)
    assert det.screened_out_.sum() == pytest.approx(0.1 * len(X), abs=1)
    assert det.screened_out_[:10].all()  # the ten planted training outliers
    knn, ecod = det.members_
    assert len(knn.reference_) == len(X) - det.screened_out_.sum()  # screened member
    assert len(ecod.sorted_columns_) == len(X)  # not screened
    kept = det.adapter_.transform(X)[0][
        ~det.screened_out_
    ]  # the screened member's features: standardised on kept rows
    np.testing.assert_allclose(
        ((kept - det.member_shift_[0]) / det.member_unit_[0]).std(axis=0), 1.0, rtol=1e-4
    )
    np.testing.assert_array_equal(det.member_unit_[1], 1.0)
    assert det.decision_scores_.shape == (len(X),)
    off = synthkit.get_detector("ensemble", screen=[]).fit(X)
    assert not off.screened_out_.any() and len(off.members_[0].reference_) == len(X)


def test_default_detector_is_isolation_forest_for_tables_and_the_autoencoder_for_images():
    from synthkit.api import default_detector

    assert default_detector(pd.DataFrame({"a": [1.0, 2.0]})) == "iforest"
    assert default_detector(np.zeros((4, 3))) == "iforest"
    assert default_detector(np.zeros((4, 8, 8), dtype=np.uint8)) == "autoencoder"
    frame = synthkit.detect(pd.DataFrame({"a": np.r_[np.zeros(50), 9.0], "b": np.arange(51.0) % 3}))
    assert frame["anomaly_score"].idxmax() == 50


@pytest.mark.parametrize("plugin", ["iforest", "ensemble"])
def test_default_and_ensemble_on_a_real_contaminated_table(plugin):
    """ADBench's thyroid: fitted on contaminated rows, the detector ranks held-out anomalies first."""
    from helpers import load_anomaly_set

    X, y = load_anomaly_set("thyroid")
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:2000], order[2000:]
    det = synthkit.get_detector(plugin).fit(pd.DataFrame(X[train]))
    assert roc_auc_score(y[test], det.decision_function(pd.DataFrame(X[test]))) > 0.95


def test_screened_member_restandardises_numeric_features_only():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"amount": rng.normal(size=300), "kind": rng.choice(["a", "b", "c"], 300)})
    df.loc[:19, "amount"] += 8.0
    det = synthkit.get_detector("ensemble").fit(df)
    numeric = det._standardised_features((det.member_shift_.shape[1],))
    assert numeric.tolist() == [
        True,
        False,
        False,
        False,
    ]  # amount, then the one-hot levels of kind
    np.testing.assert_array_equal(det.member_unit_[0][1:], 1.0)
    assert det.member_unit_[0][0] < 1.0  # the held-out outliers no longer widen the amount column
    images = np.random.default_rng(0).integers(0, 255, (40, 6, 6), dtype=np.uint8)
    image_det = synthkit.get_detector("ensemble").fit(images)
    np.testing.assert_array_equal(image_det.member_unit_, 1.0)
