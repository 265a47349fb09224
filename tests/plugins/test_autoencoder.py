"""The autoencoder family: kinds, encode/reconstruct, fine-tuning, save/load, parameter errors.

Tiny data and a few epochs: these check behaviour, not quality (benchmarks/ measures quality).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from synthkit.api import get_detector, load_model
from synthkit.errors import NotFittedError, PluginError


def _images(n=48, size=12, seed=0):
    """Bars at random rows: a simple structured image family (uint8, (n, size, size))."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        r = rng.integers(2, size - 2)
        out[i, r - 1 : r + 1, 1:-1] = 255
    return out


def _table(n=240, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 2 * a + 0.1 * rng.normal(size=n)
    return pd.DataFrame(
        {
            "a": a + shift,
            "b": b - shift,
            "c": rng.normal(size=n) + shift,
            "kind": rng.choice(["x", "y", "z"], size=n),
        }
    )


FAST = dict(epochs=3, batch_size=16, seed=3)


@pytest.fixture(scope="module")
def images():
    return _images()


@pytest.fixture(scope="module")
def table():
    return _table()


@pytest.mark.parametrize("kind", ["auto", "dense", "vae", "denoising"])
def test_image_kinds_encode_reconstruct_and_round_trip(kind, images, tmp_path):
    det = get_detector("autoencoder", kind=kind, latent_dim=4, **FAST).fit(images)
    assert det.arch_["kind"] == ("conv" if kind == "auto" else kind)
    assert det.arch_["backbone"] == ("dense" if kind == "dense" else "conv")
    assert det.encode(images).shape == (len(images), 4)
    rec = det.reconstruct(images[:5])
    assert (
        rec.shape == (5, 12, 12) and rec.dtype == np.uint8
    )  # as given (tests/test_image_dtypes.py)
    scores = det.decision_function(images)
    assert scores.shape == (len(images),) and np.isfinite(scores).all()
    det.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    np.testing.assert_array_equal(loaded.decision_function(images), scores)
    np.testing.assert_array_equal(loaded.encode(images), det.encode(images))
    assert loaded.threshold_ == det.threshold_


@pytest.mark.parametrize("kind", ["auto", "vae", "denoising"])
def test_table_kinds_round_trip(kind, table, tmp_path):
    det = get_detector("autoencoder", kind=kind, **FAST).fit(table)
    assert det.arch_["backbone"] == "dense" and det.arch_["kind"] == (
        "dense" if kind == "auto" else kind
    )
    n_features = len(det.adapter_.feature_names)
    members = 1 if kind == "vae" else 5  # n_estimators="auto" on tables
    assert det.arch_["members"] == members
    assert det.encode(table).shape == (len(table), members * det.arch_["latent_dim"])
    assert det.reconstruct(table).shape == (len(table), n_features)
    scores = det.decision_function(table)
    det.save(tmp_path / "model")
    np.testing.assert_array_equal(load_model(tmp_path / "model").decision_function(table), scores)


def test_same_seed_same_scores(table):
    a = get_detector("autoencoder", **FAST).fit(table).decision_scores_
    b = get_detector("autoencoder", **FAST).fit(table).decision_scores_
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_scores_find_planted_outliers():
    table = _table(n=400, seed=1)
    a = np.array([2.0, -2.0, 2.5, -2.5, 3.0, -3.0, 2.2, -2.2, 2.8, -2.8])
    table.loc[:9, "a"], table.loc[:9, "b"] = (
        a,
        -2 * a,
    )  # each value in range, the a-b relation broken
    det = get_detector("autoencoder", epochs=30, seed=0).fit(table)
    top = np.argsort(-det.decision_scores_)[:20]
    assert len(set(top) & set(range(10))) >= 7


def test_fine_tune_on_shifted_data_lowers_its_reconstruction_error():
    source, shifted = _table(seed=0), _table(seed=1, shift=3.0)
    det = get_detector("autoencoder", scoring="mse", epochs=10, seed=0).fit(source)
    before = det.decision_function(shifted).mean()
    det.fine_tune(shifted, unfreeze_last=2, epochs=12, learning_rate=5e-3)
    after = det.decision_function(shifted).mean()
    assert after < 0.7 * before
    assert len(det.unfrozen_layers_) == 2 and "fine_tune" in det.history_
    assert det.decision_scores_.shape == (len(shifted),)


def test_fine_tune_freezes_all_but_the_last_layers(table):
    det = get_detector("autoencoder", **FAST).fit(table)
    first = [w.copy() for w in det.encoder_model_.get_weights()]
    det.fine_tune(table, unfreeze_last=1, epochs=2)
    for before, after in zip(first, det.encoder_model_.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert det.unfrozen_layers_ == ["reconstruction"]  # the output layer of all five members
    single = get_detector("autoencoder", n_estimators=1, **FAST).fit(table)
    single.fine_tune(table, unfreeze_last=2, epochs=1)
    assert single.unfrozen_layers_ == ["dec_dense_1", "reconstruction"]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"kind": "lstm"}, r"kind must be one of auto, dense, conv, vae, denoising, got 'lstm'"),
        ({"kind": "conv"}, r"needs images"),
        ({"scoring": "elbo"}, r"needs kind='vae'"),
        ({"scoring": "bce"}, r"needs data in \[0, 1\]"),
        ({"scoring": "structural"}, r"needs images"),
        ({"scoring": "relative"}, r"needs images"),
        ({"epochs": 0}, r"epochs must be a positive integer or 'auto'"),
        ({"trim": 0.5}, r"trim must be 'auto' or a number in \[0, 0.5\)"),
        ({"kind": "vae", "trim": 0.1}, r"use trim=0 with kind='vae'"),
        (
            {"hidden_units": "a,b"},
            r"hidden_units must be a non-empty list of positive integers \(CLI: hidden_units=",
        ),
        ({"average_weights": 1.5}, r"average_weights must be a number in \[0, 1\]"),
        ({"n_estimators": 0}, r"n_estimators must be a positive integer or 'auto'"),
        (
            {"kind": "vae", "n_estimators": 3},
            r"n_estimators > 1 needs a dense, non-variational autoencoder",
        ),
    ],
)
def test_bad_parameters_raise_plugin_error(params, message, table):
    with pytest.raises(PluginError, match=message):
        get_detector("autoencoder", **params).fit(table)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"filters": ()}, r"filters must be a non-empty list of positive integers"),
        ({"filters": "16,x"}, r"filters must be a non-empty list"),
        ({"hidden_units": [8, 0]}, r"hidden_units must be a non-empty list"),
        ({"latent_dim": 0}, r"latent_dim must be a positive integer or 'auto'"),
        ({"batch_size": 0}, r"batch_size must be a positive integer"),
        ({"n_neighbors": 2.5}, r"n_neighbors must be a positive integer"),
        ({"learning_rate": 0.0}, r"learning_rate must be a number > 0"),
        ({"beta": -1.0}, r"beta must be a number > 0"),
        ({"noise_std": -0.1}, r"noise_std must be a number >= 0"),
        ({"validation_split": 1.0}, r"validation_split must be a number in \[0, 1\)"),
        ({"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
        ({"patience": -1}, r"patience must be a non-negative integer"),
        (
            {"seed": -1},
            r"seed must be an integer in \[0, 4294967295\] \(0 to 2\*\*32 - 1\) or null, got -1",
        ),
        ({"kind": 3}, r"kind must be one of auto, dense, conv, vae, denoising, got 3"),
    ],
)
def test_each_parameter_is_checked_before_anything_trains(params, message):
    """The constraints table refuses each parameter on its own, naming it, without TensorFlow."""
    from synthkit_plugins.autoencoder.detector import AutoencoderDetector

    with pytest.raises(PluginError, match=message):
        AutoencoderDetector(**params)._validate_params("table")


def test_weight_averaging_leaves_the_mean_of_the_last_epochs_weights():
    import keras

    from synthkit_plugins.autoencoder.networks import WeightAveraging

    class Snapshots(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append(self.model.get_weights())

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    snaps = Snapshots()
    model.fit(
        x, x[:, :2], epochs=4, batch_size=8, verbose=0, callbacks=[snaps, WeightAveraging(start=3)]
    )
    for final, third, fourth in zip(model.get_weights(), snaps.seen[2], snaps.seen[3]):
        np.testing.assert_allclose(final, (third + fourth) / 2, rtol=1e-6)
    assert not np.allclose(snaps.seen[2][0], snaps.seen[3][0])  # the two epochs did differ


def test_trimmed_loss_leaves_the_worst_rows_out():
    import tensorflow as tf

    from synthkit_plugins.autoencoder.networks import trimmed_loss

    target = np.zeros((4, 3), np.float32)
    pred = tf.Variable(np.repeat([[1.0], [2.0], [3.0], [10.0]], 3, axis=1).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = trimmed_loss(0.25, bernoulli=False)(target, pred)
    assert float(loss) == pytest.approx((1 + 4 + 9) / 3)  # the row with error 100 is left out
    grad = tape.gradient(loss, pred).numpy()
    assert (grad[3] == 0).all() and (grad[:3] != 0).all()  # and gets no gradient
    assert float(trimmed_loss(0.0, bernoulli=False)(target, pred)) == pytest.approx(
        (1 + 4 + 9 + 100) / 4
    )


def test_trimmed_loss_trims_each_member_on_its_own():
    """Two members' reconstructions side by side: each leaves out its own worst row, and the
    loss is the mean of the members' losses."""
    import tensorflow as tf

    from synthkit_plugins.autoencoder.networks import trimmed_loss

    target = np.zeros((4, 2), np.float32)
    first = np.repeat([[1.0], [2.0], [3.0], [10.0]], 2, axis=1)  # worst row: the last
    second = np.repeat([[10.0], [1.0], [2.0], [3.0]], 2, axis=1)  # worst row: the first
    pred = tf.Variable(np.hstack([first, second]).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = trimmed_loss(0.25, bernoulli=False, members=2)(target, pred)
    assert float(loss) == pytest.approx((1 + 4 + 9) / 3)
    grad = tape.gradient(loss, pred).numpy()
    assert (grad[3, :2] == 0).all() and (grad[0, 2:] == 0).all() and (grad[:3, :2] != 0).all()


def test_member_dense_applies_each_members_own_weights():
    import keras

    from synthkit_plugins.autoencoder.networks import MemberDense

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    layer = MemberDense(3, 2, activation="relu")
    shared = np.asarray(layer(x[:, None, :]))  # one input for all members
    kernel, bias = (np.asarray(w) for w in layer.weights)
    assert shared.shape == (5, 3, 2) and not np.allclose(kernel[0], kernel[1])
    for m in range(3):
        np.testing.assert_allclose(
            shared[:, m], np.maximum(x @ kernel[m] + bias[m], 0), rtol=1e-5, atol=1e-6
        )
    own = np.random.default_rng(1).normal(size=(5, 3, 4)).astype(np.float32)  # an input per member
    np.testing.assert_allclose(
        np.asarray(layer(own))[:, 2],
        np.maximum(own[:, 2] @ kernel[2] + bias[2], 0),
        rtol=1e-5,
        atol=1e-6,
    )


def test_image_default_is_one_network_and_ensembles_need_the_dense_backbone(images):
    det = get_detector("autoencoder", latent_dim=4, **FAST).fit(images)
    assert det.arch_["members"] == 1 and det.encode(images).shape == (len(images), 4)
    with pytest.raises(PluginError, match="n_estimators > 1 needs a dense"):
        get_detector("autoencoder", n_estimators=2, **FAST).fit(images)
    dense = get_detector("autoencoder", kind="dense", n_estimators=2, latent_dim=4, **FAST).fit(
        images
    )
    assert dense.encode(images).shape == (len(images), 8)
    assert dense.reconstruct(images[:3]).shape == (3, 12, 12)


def test_ensemble_members_share_the_reference_code_budget(table, monkeypatch):
    """At most MAX_REFERENCE_CODES reference codes in all: each member keeps its own random share
    of the training rows, so scoring an ensemble costs about what one network's does."""
    from synthkit_plugins.autoencoder import scores

    monkeypatch.setattr(scores, "MAX_REFERENCE_CODES", 100)
    det = get_detector("autoencoder", **FAST).fit(table)
    latent = det.arch_["latent_dim"]
    assert det.reference_codes_.shape == (20, 5 * latent)
    codes = det.encode(table)
    rows = [
        {
            int(np.argmin(((codes[:, m * latent : (m + 1) * latent] - ref) ** 2).sum(axis=1)))
            for ref in det.reference_codes_[:, m * latent : (m + 1) * latent]
        }
        for m in range(2)
    ]
    assert len(rows[0]) == len(rows[1]) == 20 and rows[0] != rows[1]


@pytest.mark.slow  # a quality property of the default (benchmarks/README.md has the figures); two ensembles fit
def test_an_ensemble_depends_less_on_its_seed_than_one_network():
    """The point of averaging: two ensembles from different seeds rank the rows more alike than
    two single networks from those seeds do."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(4)
    X = np.vstack(
        [
            rng.normal(size=(400, 3)) @ rng.normal(size=(3, 8)) + 0.1 * rng.normal(size=(400, 8)),
            3 * rng.normal(size=(12, 8)),
        ]
    )
    agree = {}
    for members in (1, 5):
        a, b = (
            get_detector("autoencoder", n_estimators=members, epochs=8, seed=s)
            .fit(X)
            .decision_scores_
            for s in (0, 1)
        )
        agree[members] = spearmanr(a, b).statistic
    assert agree[5] > 0.9 and agree[5] > agree[1] + 0.05


def test_tables_default_to_a_trimmed_loss_over_a_fixed_number_of_steps(table):
    det = get_detector("autoencoder", patience=0, seed=0).fit(table)
    assert det.arch_["trim"] == 0.2 and det.n_epochs_ == 20  # 20 rounds of 25 batches
    assert get_detector("autoencoder", **FAST).fit(table).n_epochs_ <= 3  # a number: full passes


def test_trim_keeps_a_cluster_of_training_outliers_anomalous():
    """Outliers hidden in the unlabelled training data: without trimming the network learns to
    reconstruct their tight cluster; with it they get no gradient and keep high scores."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    normal = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(300, 6))
    outliers = 1.5 * rng.normal(size=(1, 6)) + 0.1 * rng.normal(size=(30, 6))
    X, y = np.vstack([normal, outliers]), np.r_[np.zeros(300), np.ones(30)]
    auc = {
        trim: roc_auc_score(
            y,
            get_detector("autoencoder", trim=trim, scoring="mse", n_estimators=1, seed=2)
            .fit(X)
            .decision_scores_,
        )
        for trim in (0.0, 0.2)
    }  # one network, to see trimming alone
    assert auc[0.2] > 0.95 and auc[0.2] > auc[0.0] + 0.1


def test_structural_score_weighs_missing_strokes_over_shifts():
    from synthkit_plugins.autoencoder.scores import structural_error

    clean = np.zeros((1, 16, 16, 1))
    clean[0, 2:14, 7:9] = 1.0  # a vertical stroke, 2 pixels wide
    shifted = np.roll(clean, 1, axis=2)  # the same stroke, one pixel to the right
    broken = clean.copy()
    broken[0, 5:11, 7:9] = 0.0  # half of the stroke missing

    def squared(r):
        return float(((clean - r) ** 2).mean())

    assert squared(shifted) == 2 * squared(broken)  # plain squared error calls the shift worse
    assert structural_error(clean, broken)[0] > 1.5 * structural_error(clean, shifted)[0]


def test_relative_score_is_the_image_default_and_measures_damage_against_ink(images):
    from synthkit_plugins.autoencoder.scores import (
        RELATIVE_FLOOR,
        reconstruction_errors,
        structural_error,
    )

    det = get_detector("autoencoder", latent_dim=4, **FAST).fit(images)
    assert det.arch_["score"] == "relative" and det.arch_["trim"] == 0.0
    one = np.zeros((1, 16, 16, 1))
    one[0, 2:14, 3:5] = 1.0  # one stroke
    two = one.copy()
    two[0, 2:14, 11:13] = 1.0  # the same stroke and a second one
    one_broken, two_broken = one.copy(), two.copy()
    one_broken[0, 5:11, 3:5] = two_broken[0, 5:11, 3:5] = 0.0  # the same piece missing from both
    structural = [structural_error(x, r)[0] for x, r in ((one, one_broken), (two, two_broken))]
    relative = [
        reconstruction_errors(x, r, "relative")[0]
        for x, r in ((one, one_broken), (two, two_broken))
    ]
    assert structural[0] == pytest.approx(structural[1])  # the same damage...
    assert relative[0] > 1.8 * relative[1]  # ...is worse where there was less ink
    assert relative[0] == pytest.approx(structural[0] / (one.mean() + RELATIVE_FLOOR))
    blank = np.zeros_like(one)
    assert np.isfinite(reconstruction_errors(blank, one, "relative")).all()


def test_unfitted_encode_and_fine_tune_raise(table):
    det = get_detector("autoencoder")
    with pytest.raises(NotFittedError):
        det.encode(table)
    with pytest.raises(NotFittedError):
        det.fine_tune(table)


def test_layer_sizes_from_cli_strings(table):
    det = get_detector("autoencoder", hidden_units="16,8", latent_dim=3, epochs=1, seed=0).fit(
        table
    )
    assert det.arch_["hidden_units"] == [16, 8] and det.encode(table).shape[1] == 3 * 5  # 5 members


def test_registration_does_not_import_tensorflow():
    code = (
        "import sys, synthkit_plugins.autoencoder.detector, synthkit_plugins.kmeans.detector; "
        "from synthkit.registry import get_registry; get_registry(); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_hybrid_training_rows_are_not_their_own_neighbours(table):
    """One k-NN rule, PyOD's: ``decision_scores_`` leave a training row's own code out of its
    neighbours (as the scale was measured), new rows count every reference code, so a training
    row scored again as a new row is nearer (its own code at distance 0)."""
    from synthkit_plugins.autoencoder import scores

    det = get_detector(
        "autoencoder", kind="dense", scoring="hybrid", n_estimators=2, trim=0.1, **FAST
    ).fit(table)
    again = det.decision_function(table)
    Xa, _ = det._adapt(table)
    codes, R = det._encode_decode(Xa)
    as_new = scores.hybrid_score(
        Xa, R, codes, det.reference_codes_, det.score_scales_, det.n_neighbors
    )
    np.testing.assert_allclose(again, as_new)
    # trim=0.1 leaves the worst-reconstructed tenth of the rows out of the references: those rows
    # score alike both ways; the others are farther from the codes when their own is left out
    rows = scores.hybrid_reference(Xa, R, codes, 0.1, det.n_neighbors, det.seed)[2]
    references = scores.own_reference_positions(rows, np.arange(len(Xa))) >= 0
    in_all = references.all(axis=1)
    assert in_all.sum() > len(Xa) // 2
    assert (det.decision_scores_[in_all] > again[in_all]).all()
    np.testing.assert_allclose(
        det.decision_scores_[~references.any(axis=1)], again[~references.any(axis=1)]
    )
    # the flagged share is the contamination asked for, on the training rows
    assert abs(det.labels_.mean() - det.contamination) < 0.02
