"""K-Means detector: raw features, autoencoder features, save/load, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthkit.api import get_detector, load_model
from synthkit.errors import PluginError


def _blobs(n=150, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [6, 6, 0], [0, 6, 6]], float)
    lab = rng.integers(0, 3, n)
    X = centres[lab] + rng.normal(size=(n, 3))
    return pd.DataFrame(X, columns=["a", "b", "c"]), lab


def test_raw_kmeans_segments_and_round_trips(tmp_path):
    X, lab = _blobs()
    det = get_detector("kmeans", n_clusters=3, seed=0).fit(X)
    seg = det.segment(X)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(lab, seg) > 0.9
    det.save(tmp_path / "m")
    np.testing.assert_array_equal(
        load_model(tmp_path / "m").decision_function(X), det.decision_function(X)
    )


def test_autoencoder_features_cluster_codes_and_round_trip(tmp_path):
    X, lab = _blobs()
    det = get_detector(
        "kmeans", n_clusters=3, features="autoencoder", ae_epochs=3, ae_latent_dim=2, seed=0
    ).fit(X)
    assert det.cluster_centers_.shape == (3, 2)
    assert det.autoencoder_.encode(det.adapter_.transform(X)[0]).shape == (
        len(X),
        2,
    )  # it takes adapted rows
    seg = det.segment(X)
    assert set(seg) <= {0, 1, 2}
    scores = det.decision_function(X)
    det.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.decision_function(X), scores)
    np.testing.assert_array_equal(loaded.segment(X), seg)


def test_bad_features_option():
    X, _ = _blobs(30)
    with pytest.raises(PluginError, match="features must be one of"):
        get_detector("kmeans", features="pixels").fit(X)
