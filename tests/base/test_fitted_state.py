"""What a fitted model is survives saving and pickling, and the plugins agree on their conventions.

- Every registered detector and generator (tiny fits), after save and load and after pickle: the
  same public fitted attributes, with equal values (Keras networks compared by their weights, and
  models inside models attribute by attribute).
- ``fine_tune(unfreeze_last=...)``: None retrains all layers, 0 is an error, for every plugin that
  fine-tunes.
- The deprecated ``score=`` of the autoencoder through ``get_detector`` and ``--param``.
- kmeans validates every parameter before anything trains.
- Generated float columns have the decimals of the training values.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import synthkit
from helpers import eager_tensorflow
from synthkit.errors import PluginError
from synthkit.registry import get_registry

TINY_AE = dict(kind="dense", epochs=1, hidden_units=(4,), latent_dim=2, batch_size=16)
DETECTORS = {  # registered name -> tiny hyper-parameters
    "kmeans": dict(n_clusters=2, n_init=1, max_iter=20),
    "iforest": dict(n_estimators=5),
    "knn": dict(n_neighbors=2),
    "lof": dict(n_neighbors=2),
    "ecod": {},
    "ensemble": dict(members=("iforest", "knn"), member_params={"iforest": {"n_estimators": 5}}),
    "autoencoder": TINY_AE,
}
GENERATORS = {
    "gan": dict(epochs=1, batch_size=8, pac=2, latent_dim=4, width=4),
    "diffusion": dict(epochs=1, ae_epochs=1, denoiser_epochs=0, batch_size=8, widths=(8,), steps=2),
}
VARIANTS = {  # models inside models, and attributes that only a later step sets
    "kmeans with autoencoder features": (
        "kmeans",
        dict(n_clusters=2, n_init=1, features="autoencoder", ae_epochs=1),
    ),
    "ensemble with an autoencoder": (
        "ensemble",
        dict(members=("knn", "autoencoder"), member_params={"autoencoder": TINY_AE}),
    ),
    "autoencoder after fine_tune": ("autoencoder", TINY_AE),
}


def _table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "price": rng.normal(20, 5, n).round(2),
            "count": rng.integers(0, 9, n),
            "kind": rng.choice(["a", "b"], n),
            "flag": rng.random(n) < 0.4,
        }
    )


def _images(n=12, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 8, 8), dtype=np.uint8)


def public_fitted(model) -> dict:
    """The public fitted attributes: trailing underscore, no leading one (scikit-learn's convention)."""
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}


def assert_same(a, b, where="model"):
    """Equal values: arrays element by element (NaN equal to NaN), containers item by item, Keras
    networks by their weights, estimators and other objects attribute by attribute."""
    if hasattr(a, "get_weights") and hasattr(a, "layers"):  # a Keras model
        wa, wb = a.get_weights(), b.get_weights()
        assert len(wa) == len(wb), where
        for x, y in zip(wa, wb):
            np.testing.assert_array_equal(x, y, err_msg=where)
        return
    if isinstance(a, (synthkit.BaseDetector, synthkit.BaseGenerator)):
        assert type(a) is type(b), where
        fa, fb = public_fitted(a), public_fitted(b)
        assert sorted(fa) == sorted(fb), f"{where}: attributes differ: {set(fa) ^ set(fb)}"
        for k in fa:
            assert_same(fa[k], fb[k], f"{where}.{k}")
        assert a.get_params(deep=False).keys() == b.get_params(deep=False).keys(), where
        return
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            np.testing.assert_array_equal(a, b, err_msg=where)
        else:
            assert a.tolist() == b.tolist(), where
        return
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(map(str, a)) == sorted(map(str, b)), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
        return
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
        return
    if a is None or isinstance(a, (bool, int, float, str)):
        assert a == b or (isinstance(a, float) and np.isnan(a) and np.isnan(b)), (
            f"{where}: {a!r} != {b!r}"
        )
        return
    assert type(a) is type(b), where  # another object (a plugin's helper): its attributes
    assert_same(vars(a), vars(b), where)


def _check_round_trips(model, tmp_path):
    model.save(tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        loaded = synthkit.load_model(tmp_path / "m")
    assert_same(model, loaded, "loaded")
    assert_same(model, pickle.loads(pickle.dumps(model)), "unpickled")


def test_every_registered_plugin_is_covered():
    registry = get_registry()
    assert set(registry.entries("detectors")) <= set(DETECTORS)
    assert set(registry.entries("generators")) <= set(GENERATORS)


@pytest.mark.parametrize("data", ["table", "images"])
@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_detector_fitted_attributes_survive_save_load_and_pickle(name, data, tmp_path):
    X = _table() if data == "table" else _images()
    with eager_tensorflow():
        det = synthkit.get_detector(name, **DETECTORS[name]).fit(X)
        _check_round_trips(det, tmp_path)


@pytest.mark.parametrize("data", ["table", "images"])
@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_fitted_attributes_survive_save_load_and_pickle(name, data, tmp_path):
    X, y = (_table(), None) if data == "table" else (_images(), np.arange(12) % 2)
    with eager_tensorflow():
        gen = synthkit.get_generator(name, **GENERATORS[name]).fit(X, y)
        _check_round_trips(gen, tmp_path)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_nested_and_later_fitted_attributes_survive_save_load_and_pickle(variant, tmp_path):
    name, params = VARIANTS[variant]
    table = _table()
    with eager_tensorflow():
        det = synthkit.get_detector(name, **params).fit(table)
        if variant == "autoencoder after fine_tune":
            det.fine_tune(table, unfreeze_last=1, epochs=1)
            assert det.unfrozen_layers_ == ["reconstruction"] and det.n_rows_affected_ == 0
        _check_round_trips(det, tmp_path)


def test_a_loaded_autoencoder_keeps_n_rows_affected_and_unfrozen_layers_(tmp_path):
    """The issue's case: both were dropped on save."""
    table = _table()
    table.loc[3, "price"] = np.nan
    with eager_tensorflow():
        det = synthkit.get_detector("autoencoder", **TINY_AE, missing="impute").fit(table)
        det.fine_tune(table, unfreeze_last=2, epochs=1)
        det.save(tmp_path / "m")
        loaded = synthkit.load_model(tmp_path / "m")
    assert loaded.n_rows_affected_ == det.n_rows_affected_ == 1
    assert loaded.unfrozen_layers_ == det.unfrozen_layers_ and len(det.unfrozen_layers_) == 2


# -- fine_tune(unfreeze_last=...): one meaning everywhere ---------------------------------------
@pytest.fixture(scope="module")
def fine_tunable():
    """A fitted autoencoder and a fitted table diffusion model (every plugin with ``fine_tune``)."""
    table = _table()
    with eager_tensorflow():
        return {
            "autoencoder": synthkit.get_detector("autoencoder", **TINY_AE).fit(table),
            "diffusion": synthkit.get_generator("diffusion", **GENERATORS["diffusion"]).fit(table),
        }


@pytest.mark.parametrize("name", ["autoencoder", "diffusion"])
def test_fine_tune_unfreeze_last_zero_is_an_error_and_none_is_all_layers(name, fine_tunable):
    model = fine_tunable[name]
    table = _table(seed=1)
    for value in (0, -1, 1.5, True, "2"):
        with pytest.raises(
            PluginError,
            match=r"^unfreeze_last must be a positive integer .*or None to retrain "
            r"all layers, got ",
        ):
            model.fine_tune(table, unfreeze_last=value, epochs=1)
    with eager_tensorflow():
        model.fine_tune(table, unfreeze_last=None, epochs=1)
    if name == "autoencoder":
        from synthkit_plugins.autoencoder.networks import trainable_layers

        assert model.unfrozen_layers_ == [layer.name for layer in trainable_layers(model.model_)]


def test_diffusion_fine_tune_with_none_trains_every_layer(fine_tunable, monkeypatch):
    from synthkit_plugins.diffusion import model as dm

    seen = []
    original = dm.freeze_all_but

    def spy(layers, last):
        original(layers, last)
        seen.append([layer.trainable for layer in layers])

    monkeypatch.setattr(dm, "freeze_all_but", spy)
    with eager_tensorflow():
        fine_tunable["diffusion"].fine_tune(_table(seed=2), unfreeze_last=None, epochs=1)
    assert seen and all(seen[0])  # the network's layers, all trainable while fine-tuning


# -- the deprecated score= -----------------------------------------------------------------------
def test_get_detector_takes_the_deprecated_score_with_a_warning():
    with pytest.warns(DeprecationWarning, match=r"score= is deprecated; use scoring="):
        det = synthkit.get_detector("autoencoder", score="mse")
    assert det.scoring == "mse" and "score" not in det.get_params()
    with pytest.raises(PluginError, match="got both scoring= and its deprecated name score="):
        with pytest.warns(DeprecationWarning):
            synthkit.get_detector("autoencoder", score="mse", scoring="l1")
    with pytest.raises(PluginError, match="unknown parameter scorr"):
        synthkit.get_detector("autoencoder", scorr="mse")


def test_cli_param_score_is_deprecated_not_unknown(tmp_path):
    from click.testing import CliRunner

    from synthkit.cli._main import cli

    path = tmp_path / "t.csv"
    _table(n=30).to_csv(path, index=False)
    with pytest.warns(DeprecationWarning, match=r"score= is deprecated; use scoring="):
        with eager_tensorflow():
            result = CliRunner().invoke(
                cli,
                [
                    "detect",
                    str(path),
                    "-p",
                    "autoencoder",
                    "--param",
                    "score=mse",
                    "--param",
                    "epochs=1",
                    "--param",
                    "n_estimators=1",
                    "-o",
                    str(tmp_path / "o.csv"),
                ],
            )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o.csv").is_file()


# -- kmeans: every parameter before anything trains ----------------------------------------------
@pytest.mark.parametrize(
    "params, message",
    [
        (dict(algorithm="elkan-ish"), "algorithm must be one of auto, full, minibatch"),
        (dict(n_clusters=0), "n_clusters must be a positive integer"),
        (dict(n_clusters="3"), "n_clusters must be a positive integer"),
        (dict(n_init=0), "n_init must be a positive integer or 'auto'"),
        (dict(max_iter=-1), "max_iter must be a positive integer"),
        (dict(batch_size=1.5), "batch_size must be a positive integer"),
        (dict(ae_latent_dim=0), "ae_latent_dim must be a positive integer or 'auto'"),
        (dict(ae_epochs="many"), "ae_epochs must be a positive integer or 'auto'"),
        (dict(features="pca"), "features must be one of raw, autoencoder"),
        (
            dict(seed="0"),
            r"seed must be an integer in \[0, 4294967295\] \(0 to 2\*\*32 - 1\) or null",
        ),
    ],
)
def test_kmeans_checks_every_parameter_before_training(params, message, monkeypatch):
    from sklearn import cluster

    from synthkit_plugins.autoencoder.detector import AutoencoderDetector

    def no_training(*args, **kwargs):
        raise AssertionError("trained before the parameters were checked")

    monkeypatch.setattr(AutoencoderDetector, "fit", no_training)
    monkeypatch.setattr(AutoencoderDetector, "_fit", no_training)
    monkeypatch.setattr(cluster.KMeans, "fit", no_training)
    with pytest.raises(PluginError, match=message):
        synthkit.get_detector("kmeans", **{"features": "autoencoder", **params}).fit(_table())


# -- generated floats: the training values' decimals ---------------------------------------------
def test_generated_floats_have_the_decimals_of_the_source(tmp_path):
    rng = np.random.default_rng(0)
    n = 80
    table = pd.DataFrame(
        {
            "price": rng.lognormal(3, 1, n).round(2),
            "rate": rng.random(n).round(4),
            "whole": rng.integers(0, 50, n).astype(float),
            "raw": rng.normal(size=n),
            "f32": rng.random(n).round(1).astype(np.float32),
            "count": rng.integers(0, 9, n),
        }
    )
    with eager_tensorflow():
        gen = synthkit.get_generator(
            "gan", **dict(GENERATORS["gan"], batch_size=n), max_modes=2
        ).fit(table)
    decimals = {c["name"]: c.get("decimals") for c in gen.adapter_.columns}
    assert decimals == {"price": 2, "rate": 4, "whole": 0, "raw": None, "f32": 1, "count": None}
    out = gen.sample(300, seed=0)
    for column, d in (("price", 2), ("rate", 4), ("whole", 0), ("f32", 1)):
        values = out[column].to_numpy(np.float64)
        np.testing.assert_allclose(values, np.round(values, d), rtol=1e-6, atol=0, err_msg=column)
        assert out[column].dtype == table[column].dtype
    raw = out["raw"].to_numpy()
    assert (raw != np.round(raw, 6)).mean() > 0.9  # full precision in the source: not rounded
    gen.save(tmp_path / "m")
    with eager_tensorflow():
        pd.testing.assert_frame_equal(
            synthkit.load_model(tmp_path / "m").sample(50, seed=1), gen.sample(50, seed=1)
        )


def test_schemas_without_decimals_are_not_rounded():
    """Schemas saved before the decimals were learned decode at full precision, as before."""
    from synthkit.adapters import TableAdapter

    adapter = TableAdapter().fit(pd.DataFrame({"x": np.round(np.linspace(0, 1, 50), 2)}))
    assert adapter.columns[0]["decimals"] == 2
    schema = adapter.to_dict()
    old = {
        **schema,
        "columns": [{k: v for k, v in c.items() if k != "decimals"} for c in schema["columns"]],
    }
    Z = np.array([[0.123456789]])
    new_value = TableAdapter.from_dict(schema).inverse_transform(Z)["x"].iloc[0]
    old_value = TableAdapter.from_dict(old).inverse_transform(Z)["x"].iloc[0]
    assert new_value == round(new_value, 2) and old_value != round(old_value, 6)
    assert abs(new_value - old_value) <= 0.005


def test_bootstrap_style_generator_rounds_to_the_source(toy_bootstrap):
    gen = toy_bootstrap(noise=0.3).fit(pd.DataFrame({"v": np.round(np.linspace(1, 9, 40), 1)}))
    values = gen.sample(100, seed=0)["v"].to_numpy()
    np.testing.assert_allclose(values, np.round(values, 1), rtol=1e-12, atol=0)
    assert len(np.unique(values)) > 10


@pytest.fixture
def toy_bootstrap():
    from synthkit import BaseGenerator

    class Bootstrap(BaseGenerator):
        def __init__(self, noise=0.0):
            self.noise = noise

        def _fit(self, X, y):
            self.rows_ = X

        def _sample(self, n, y, rng):
            rows = self.rows_[rng.integers(0, len(self.rows_), n)]
            return rows + self.noise * rng.standard_normal(rows.shape)

    return Bootstrap
