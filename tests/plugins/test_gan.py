"""The `gan` generator plugin: tables and images, conditioning, seeds, save/load (and edited model
directories refused at load), CLI (tiny, fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthkit
from helpers import edited_model_copy
from synthkit.cli._main import cli
from synthkit.errors import DataError, ModelFileError, PluginError


def _frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.1).astype(int)
    return pd.DataFrame(
        {
            "amount": np.round(np.exp(rng.normal(3, 1, n) + 2 * label), 2),
            "count": rng.poisson(2 + 3 * label),
            "shop": rng.choice(["food", "fuel", "gems"], n, p=[0.6, 0.35, 0.05]),
            "online": rng.random(n) < 0.4 + 0.4 * label,
            "is_fraud": label,
        }
    )


def _digits(n=64, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):  # class 0: a bright square on the left; class 1: on the right
        c = 4 if y[i] == 0 else 16
        x[i, 8:20, c : c + 8] = rng.integers(180, 256)
    return x, y


FAST_TABLE = dict(epochs=2, batch_size=100, max_modes=3, seed=0)
FAST_IMAGE = dict(epochs=1, batch_size=32, width=8, latent_dim=8, seed=0)


def test_table_gan_conditional_rows_keep_schema_and_ranges():
    df = _frame()
    out = synthkit.augment(df, plugin="gan", n=120, label_column="is_fraud", label=1, **FAST_TABLE)
    assert list(out.columns) == list(df.columns) and (out.dtypes == df.dtypes).all()
    assert (out["is_fraud"] == 1).all() and len(out) == 120
    assert set(out["shop"]) <= set(df["shop"])
    assert out["amount"].min() >= df["amount"].min() and out["amount"].max() <= df["amount"].max()
    assert (out["count"] == out["count"].round()).all() and out["count"].min() >= 0


def test_table_gan_history_seed_and_save_load(tmp_path, registry):
    df = _frame()
    gen = synthkit.get_generator("gan", **FAST_TABLE).fit(
        df.drop(columns="is_fraud"), df["is_fraud"]
    )
    assert set(gen.history_) >= {"g_loss", "d_loss"} and len(gen.history_["g_loss"]) == 2
    a, b = gen.sample(50, y=1, seed=7), gen.sample(50, y=1, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(gen.sample(50, y=1, seed=8))
    gen.save(tmp_path / "m")
    loaded = synthkit.load_model(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.sample(50, y=1, seed=7), a)
    pd.testing.assert_frame_equal(loaded.sample(30, seed=3), gen.sample(30, seed=3))


@pytest.mark.slow
def test_table_gan_same_seed_same_model():
    df = _frame(200).drop(columns="is_fraud")
    a = synthkit.get_generator("gan", **FAST_TABLE).fit(df).sample(40, seed=1)
    b = synthkit.get_generator("gan", **FAST_TABLE).fit(df).sample(40, seed=1)
    pd.testing.assert_frame_equal(a, b)


def test_table_mode_specific_normalisation_round_trip():
    from synthkit.adapters import TableAdapter
    from synthkit_plugins.gan.table_space import TableSpace

    df = _frame(500).drop(columns="is_fraud")
    ad = TableAdapter().fit(df)
    X, _ = ad.transform(df)
    space = TableSpace.fit(ad.columns, X, max_modes=5, seed=0)
    rng = np.random.default_rng(0)
    G = space.encode(X, rng)
    assert G.shape[1] == space.dim and np.abs(G).max() <= 1.0
    # one-hot parts as large logits: decoding gives the rows back (alpha is exact up to tanh/arctanh)
    logits = np.where(G > 0.5, 50.0, -50.0)
    for act, s, e in space.layout():
        if act == "tanh":
            logits[:, s] = np.arctanh(G[:, s])
    back = space.decode(logits, rng, X.shape[1])
    assert np.allclose(back, X, atol=1e-4)
    assert TableSpace.from_dict(space.to_dict()).blocks == space.blocks


def test_table_mixtures_give_a_rare_class_its_own_mode():
    from synthkit_plugins.gan.table_space import TableSpace

    # 0.4% of the rows sit far from the rest: fitted on all rows their mode weighs under the 0.5%
    # cut and is dropped; with the class labels, each class weighs alike and the mode is kept
    rng = np.random.default_rng(0)
    codes = np.r_[np.zeros(4980, int), np.ones(20, int)]
    X = np.r_[rng.normal(0.0, 1.0, 4980), rng.normal(12.0, 0.3, 20)][:, None]
    columns = [{"kind": "numeric"}]

    def nearest_mode_gap(space):
        return min(abs(m - 12.0) for m in space.blocks[0]["means"])

    assert nearest_mode_gap(TableSpace.fit(columns, X, max_modes=5, seed=0)) > 3.0
    balanced = TableSpace.fit(columns, X, max_modes=5, seed=0, codes=codes)
    assert nearest_mode_gap(balanced) < 0.5


@pytest.fixture(scope="module")
def saved_table_gan(tmp_path_factory):
    """A one-epoch table GAN conditional on ``is_fraud``, saved once for the tests that edit it."""
    df = _frame()
    path = tmp_path_factory.mktemp("gan") / "model"
    synthkit.get_generator("gan", **dict(FAST_TABLE, epochs=1)).fit(
        df.drop(columns="is_fraud"), df["is_fraud"]
    ).save(path)
    return path


def _set_block(state, key, value):
    state["space_"]["blocks"][0][key] = value


STATE_EDITS = {  # what is edited -> (the fitted attribute the error names, manifest edit, array edit)
    "kind_ image": ("kind_", lambda s: s.update(kind_="image"), None),
    "latent_dim_ as text": ("latent_dim_", lambda s: s.update(latent_dim_="128"), None),
    "epochs_trained_ negative": ("epochs_trained_", lambda s: s.update(epochs_trained_=-1), None),
    "n_classes_ not the classes": ("n_classes_", lambda s: s.update(n_classes_=3), None),
    "history_ a list": ("history_", lambda s: s.update(history_=[1.0]), None),
    "history_ text losses": ("history_", lambda s: s["history_"].update(g_loss=["high"]), None),
    "a negative mode spread": (
        "space_",
        lambda s: _set_block(s, "stds", [-1.0] * len(s["space_"]["blocks"][0]["stds"])),
        None,
    ),
    "mode weights not summing to 1": (
        "space_",
        lambda s: _set_block(s, "weights", [0.0] * len(s["space_"]["blocks"][0]["weights"])),
        None,
    ),
    "a block moved": ("space_", lambda s: _set_block(s, "src", 1), None),
    "offsets_ shifted": (
        "offsets_",
        lambda s: s.update(offsets_=[v + 1 for v in s["offsets_"]]),
        None,
    ),
    "a label no row has": (
        "sampler_",
        None,
        lambda a: a.update(sampler_codes_=np.zeros_like(a["sampler_codes_"])),
    ),
    "a level out of range": (
        "sampler_",
        None,
        lambda a: a.update(sampler_levels_=a["sampler_levels_"] + 5),
    ),
}


@pytest.mark.parametrize("edit", sorted(STATE_EDITS))
def test_a_table_gan_with_an_edited_state_is_refused_at_load(
    saved_table_gan, tmp_path, registry, edit
):
    name, manifest_edit, array_edit = STATE_EDITS[edit]
    model = edited_model_copy(saved_table_gan, tmp_path / "m", manifest_edit, array_edit)
    with pytest.raises(ModelFileError) as info:
        synthkit.load_model(model)
    message = str(info.value)
    assert "\n" not in message and f"the fitted attribute {name} " in message, message


def test_the_unedited_table_gan_loads(saved_table_gan, tmp_path, registry):
    model = edited_model_copy(saved_table_gan, tmp_path / "m")
    assert len(synthkit.load_model(model).sample(5, y=1, seed=0)) == 5


def test_image_gan_conditional_uint8_history_and_save_load(tmp_path, registry):
    x, y = _digits()
    gen = synthkit.get_generator("gan", **FAST_IMAGE).fit(x, y)
    for key in ("g_loss", "d_loss", "d_acc_real", "d_acc_fake"):
        assert len(gen.history_[key]) == 1
    s = gen.sample(6, y=1, seed=3)
    assert s.dtype == np.uint8 and s.shape == (6, 28, 28)
    assert np.array_equal(s, gen.sample(6, y=1, seed=3))
    gen.save(tmp_path / "img")
    loaded = synthkit.load_model(tmp_path / "img")
    assert np.array_equal(loaded.sample(6, y=1, seed=3), s)
    with pytest.raises(PluginError, match="not seen in fit"):
        gen.sample(2, y=7)
    fig = gen.sample_images(per_class=3, seed=0)
    assert len(fig.axes) == 2 * 3


def test_image_gan_unconditional_and_float_images():
    x, _ = _digits(32)
    gen = synthkit.get_generator("gan", **FAST_IMAGE).fit(x.astype(np.float32) / 255.0)
    s = gen.sample(4, seed=0)
    assert s.dtype == np.float32 and s.shape == (4, 28, 28) and 0 <= s.min() and s.max() <= 1
    with pytest.raises(PluginError, match="without labels"):
        gen.sample(2, y=0)


def test_odd_image_sizes_and_colour():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (16, 10, 14, 3), dtype=np.uint8)
    s = synthkit.get_generator("gan", **FAST_IMAGE).fit(x).sample(3, seed=0)
    assert s.shape == (3, 10, 14, 3) and s.dtype == np.uint8


def test_bad_parameters_and_kind():
    x, y = _digits(16)
    with pytest.raises(DataError, match="kind='table'"):
        synthkit.get_generator("gan", kind="table", **FAST_IMAGE).fit(x, y)
    with pytest.raises(PluginError, match="kind must be one of"):
        synthkit.get_generator("gan", kind="video").fit(x, y)
    with pytest.raises(PluginError, match="epochs must be a positive integer"):
        synthkit.get_generator("gan", epochs=0).fit(x, y)
    with pytest.raises(PluginError, match="mismatch_weight must be a number >= 0"):
        synthkit.get_generator("gan", mismatch_weight=-1).fit(x, y)
    with pytest.raises(PluginError, match="unknown parameter"):
        synthkit.get_generator("gan", nope=1)


def test_cli_augment_table_and_images(tmp_path, registry):
    runner = CliRunner()
    csv = tmp_path / "t.csv"
    _frame().to_csv(csv, index=False)
    out = tmp_path / "fraud.csv"
    r = runner.invoke(
        cli,
        [
            "augment",
            str(csv),
            "--plugin",
            "gan",
            "-n",
            "50",
            "--label-column",
            "is_fraud",
            "--label",
            "1",
            "-o",
            str(out),
            "--param",
            "epochs=1",
            "--param",
            "batch_size=100",
            "--param",
            "max_modes=3",
            "--save-model",
            str(tmp_path / "tm"),
        ],
    )
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out)
    assert len(got) == 50 and (got["is_fraud"] == 1).all()
    x, y = _digits()
    npz = tmp_path / "d.npz"
    np.savez(npz, x=x, y=y)
    r = runner.invoke(
        cli,
        [
            "augment",
            str(npz),
            "--plugin",
            "gan",
            "-n",
            "20",
            "--label",
            "1",
            "-o",
            str(tmp_path / "o.npz"),
            "--grid",
            str(tmp_path / "g.png"),
            "--param",
            "epochs=1",
            "--param",
            "width=8",
            "--save-model",
            str(tmp_path / "im"),
        ],
    )
    assert r.exit_code == 0, r.output
    with np.load(tmp_path / "o.npz") as f:
        assert f["x"].shape == (20, 28, 28) and (f["y"] == 1).all()
    assert (tmp_path / "g.png").stat().st_size > 0
    r = runner.invoke(
        cli,
        [
            "augment",
            str(npz),
            "--model",
            str(tmp_path / "im"),
            "-n",
            "5",
            "--label",
            "0",
            "-o",
            str(tmp_path / "o2.npz"),
        ],
    )
    assert r.exit_code == 0, r.output


@pytest.mark.slow
def test_transactions_dataset_one_epoch(registry):
    out = synthkit.augment(
        "transactions", plugin="gan", n=200, label_column="is_fraud", label=1, epochs=1, seed=0
    )
    df = synthkit.load_dataset("transactions")
    assert (out.dtypes == df.dtypes).all() and (out["is_fraud"] == 1).all()
    for col in ("amount", "distance_from_home_km", "txn_count_24h"):
        assert out[col].min() >= 0


@pytest.mark.slow
def test_mnist_conditional_quality(real_mnist_dir):
    from synthkit import evaluation as ev

    images, labels = synthkit.load_dataset("mnist:test")
    gen = synthkit.get_generator("gan", epochs=8, seed=0).fit(images[:8000], labels[:8000])
    asked = np.repeat(np.arange(10), 20)
    classifier = ev.feature_model_of("mnist")
    assert (
        classifier.predict(ev.as_unit_images(gen.sample(200, y=asked, seed=0))) == asked
    ).mean() > 0.8
