"""The diffusion plugin on tiny data: sampling, seeds, save/load, table schema, denoising, fine-tuning
and the ``synthkit denoise`` command. Quality on MNIST is measured in benchmarks/, not here."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from synthkit.errors import DataError, NotFittedError, PluginError
from helpers import FORMS, assert_same_pictures

FAST_IMAGE = dict(
    epochs=2, ae_epochs=20, denoiser_epochs=20, batch_size=16, widths=(8,), steps=4, seed=3
)
FAST_TABLE = dict(epochs=3, batch_size=64, widths=(32,), steps=5, seed=3)


def bars(n: int = 160, size: int = 12, seed: int = 0):
    """uint8 images of one bright bar each: label 0 horizontal, 1 vertical."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, size, size), np.uint8)
    y = rng.integers(0, 2, n)
    for i in range(n):
        pos, start = rng.integers(1, size - 1), rng.integers(0, size // 3)
        length = rng.integers(size // 2, size - start + 1)
        if y[i] == 0:
            X[i, pos - 1 : pos + 1, start : start + length] = 255
        else:
            X[i, start : start + length, pos - 1 : pos + 1] = 255
    return X, y


def table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.2).astype(np.int64)
    return pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(3, 1, n) * (1 + 2 * label), 2),
            "count": rng.poisson(3, n).astype(np.int64),
            "score": rng.normal(0, 1, n) + label,
            "channel": rng.choice(["web", "shop", "phone"], n),
            "flag": rng.random(n) < 0.3 + 0.4 * label,
            "is_fraud": label,
        }
    )


@pytest.fixture(scope="module")
def image_fit(tmp_path_factory):
    """The image model as fit left it, saved and pickled then, before any test denoised with it."""
    from synthkit.api import get_generator

    X, y = bars()
    gen = get_generator("diffusion", **FAST_IMAGE).fit(X, y)
    saved = tmp_path_factory.mktemp("diffusion") / "at_fit"
    gen.save(saved)
    return {
        "gen": gen,
        "X": X,
        "y": y,
        "denoiser": gen.pixel_denoiser_,
        "history": set(gen.history_),
        "saved": saved,
        "pickled": pickle.dumps(gen),
    }


@pytest.fixture(scope="module")
def image_model(image_fit):
    return image_fit["gen"], image_fit["X"], image_fit["y"]


@pytest.fixture(scope="module")
def table_model():
    from synthkit.api import get_generator

    df = table()
    return get_generator("diffusion", **FAST_TABLE).fit(
        df.drop(columns=["is_fraud"]), df["is_fraud"]
    ), df


def test_registration_does_not_import_tensorflow():
    code = (
        "import sys; from synthkit.registry import get_registry; r = get_registry(); "
        "assert 'diffusion' in r.entries('generators'); "
        "import click; g = click.Group(); r.add_commands(g); assert 'denoise' in g.commands; "
        "assert 'tensorflow' not in sys.modules, 'tensorflow loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_image_samples_dtype_labels_and_seed(image_model):
    gen, X, _ = image_model
    a = gen.sample(6, y=1, seed=7)
    assert a.dtype == np.uint8 and a.shape == (6, *X.shape[1:])
    assert np.array_equal(a, gen.sample(6, y=1, seed=7))
    assert not np.array_equal(a, gen.sample(6, y=1, seed=8))
    assert gen.sample(4, seed=1).shape == (
        4,
        *X.shape[1:],
    )  # classes drawn at their training frequency
    gen.guidance = 0.0  # unconditional prediction only
    try:
        assert gen.sample(3, y=[0, 1, 0], seed=2).shape[0] == 3
    finally:
        gen.guidance = None
    with pytest.raises(PluginError, match="not seen in fit"):
        gen.sample(2, y=5)
    assert (
        set(gen.history_) >= {"ae_loss", "loss", "x0_loss"}
        and len(gen.history_["loss"]) == FAST_IMAGE["epochs"]
    )


def test_same_seed_same_fit():
    from synthkit.api import get_generator

    df = table(120)
    X, y = df.drop(columns=["is_fraud"]), df["is_fraud"]
    params = dict(FAST_TABLE, epochs=1)
    a = get_generator("diffusion", **params).fit(X, y).sample(20, y=1, seed=0)
    b = get_generator("diffusion", **params).fit(X, y).sample(20, y=1, seed=0)
    pd.testing.assert_frame_equal(a, b)


def test_denoise_improves_psnr_and_estimates_the_level(image_model):
    from synthkit_plugins.diffusion.noise import add_noise, psnr

    gen, X, _ = image_model
    clean = X[:64].astype(np.float32)[..., None] / 255
    noisy = np.round(add_noise(clean, 0.3, np.random.default_rng(0))[..., 0] * 255).astype(np.uint8)
    before = psnr(clean, noisy[..., None] / 255)
    den = gen.denoise(noisy, noise_std=0.3)
    assert den.dtype == np.uint8 and den.shape == noisy.shape
    assert psnr(clean, den[..., None] / 255) > before + 3
    assert abs(gen.estimate_noise_std(noisy) - 0.3) < 0.06
    assert gen.denoise(noisy, steps=2).shape == noisy.shape  # estimated level, diffusion refinement
    with pytest.raises(DataError, match="noise_std"):
        gen.denoise(noisy, noise_std=-1)


def test_images_one_pixel_high_fit_save_and_load_without_warnings(tmp_path):
    """Images of one pixel's height have no 2 x 2 block for the noise statistic: fitting warned
    "Mean of empty slice" on stderr (issue 32, item 9), and the saved model, whose calibration held
    NaN, was refused at load. Now it loads, and estimating their noise level says what to give."""
    import warnings

    from synthkit.api import get_generator
    from synthkit.io import load_model, save_model

    X = np.random.default_rng(0).random((20, 1, 5)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen = get_generator("diffusion", **FAST_IMAGE).fit(X)
    save_model(gen, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.sample(2, seed=0).shape == (2, 1, 5)
    with pytest.raises(DataError, match="noise level of 1 x 5 images cannot be estimated"):
        loaded.estimate_noise_std(X)


def test_denoise_without_a_pixel_denoiser_decodes_the_autoencoder():
    from synthkit.api import get_generator

    X, y = bars(48)
    gen = get_generator(
        "diffusion", **dict(FAST_IMAGE, epochs=1, ae_epochs=2, denoiser_epochs=0)
    ).fit(X, y)
    assert gen.pixel_denoiser_ is None and "denoiser_loss" not in gen.history_
    assert gen.denoise(X[:4], noise_std=0.2).shape == (4, 12, 12)
    with pytest.raises(PluginError, match="denoiser_epochs"):
        get_generator("diffusion", denoiser_epochs=-1).fit(X, y)


def test_save_load_round_trip(image_model, table_model, tmp_path):
    from synthkit.api import load_model

    gen, X, _ = image_model
    if (
        gen.pixel_denoiser_ is None
    ):  # trained by the first denoise; saved with the model from then on
        gen.train_denoiser()
    gen.save(tmp_path / "img")
    back = load_model(tmp_path / "img")
    assert np.array_equal(back.sample(5, y=0, seed=4), gen.sample(5, y=0, seed=4))
    assert np.array_equal(back.denoise(X[:5], noise_std=0.1), gen.denoise(X[:5], noise_std=0.1))
    tgen, _ = table_model
    tgen.save(tmp_path / "tab")
    pd.testing.assert_frame_equal(
        load_model(tmp_path / "tab").sample(30, y=1, seed=4), tgen.sample(30, y=1, seed=4)
    )


def test_fit_leaves_the_pixel_denoiser_to_the_first_denoise(image_fit, tmp_path):
    """Sampling never uses the pixel denoiser, which took most of a short fit (benchmarks/README.md):
    fit does not train it; the first denoise does, from the training images kept in memory for it.
    A model saved or pickled after that keeps it; one saved or pickled before holds no training
    images, and says so."""
    from synthkit.api import get_generator, load_model

    assert image_fit["denoiser"] is None and "denoiser_loss" not in image_fit["history"]
    gen, X = image_fit["gen"], image_fit["X"]
    den = gen.denoise(X[:6], noise_std=0.2)
    assert (
        gen.pixel_denoiser_ is not None
        and len(gen.history_["denoiser_loss"]) == FAST_IMAGE["denoiser_epochs"]
    )
    assert gen._denoiser_images is None  # the kept images are let go once trained
    gen.save(tmp_path / "after")
    np.testing.assert_array_equal(load_model(tmp_path / "after").denoise(X[:6], noise_std=0.2), den)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(gen)).denoise(X[:6], noise_std=0.2), den
    )

    with np.load(image_fit["saved"] / "state.npz") as state:  # no training images in the directory
        assert not any(state[k].shape[:1] == (len(X),) for k in state.files)
    for early in (load_model(image_fit["saved"]), pickle.loads(image_fit["pickled"])):
        assert early.pixel_denoiser_ is None
        with pytest.warns(UserWarning, match="train_denoiser"):
            out = early.denoise(X[:6], noise_std=0.2)
        assert out.shape == (6, 12, 12) and out.dtype == np.uint8 and early.pixel_denoiser_ is None
        with pytest.raises(DataError, match="no longer holds its training images"):
            early.train_denoiser()
    early.train_denoiser(X, epochs=1)  # on clean images given: the pixel path from then on
    assert early.pixel_denoiser_ is not None and len(early.history_["denoiser_loss"]) == 1
    assert early.denoise(X[:6], noise_std=0.2).shape == (6, 12, 12)
    with pytest.raises(PluginError, match="denoiser must be one of lazy, fit"):
        get_generator("diffusion", denoiser="never").fit(X[:8])


def _as_if_fitted_on_floats(gen):
    """``gen`` as fitting it on float32 copies in [0, 1] of the same images would make it: those
    adapt to bit-identical arrays, so the networks are the same (tests/test_image_dtypes.py checks
    this by fitting the autoencoder on each form, and, under -m slow, a diffusion model on floats);
    only the schema the adapter learnt differs."""
    if gen.pixel_denoiser_ is None:
        gen.train_denoiser()
    copy = pickle.loads(pickle.dumps(gen))
    copy.adapter_.dtype, copy.adapter_.scale = "float32", 1.0
    return copy


@pytest.mark.parametrize("trained_on", ["uint8", "float [0, 1]"])
def test_denoise_answers_in_the_inputs_dtype_and_scale(image_model, trained_on):
    """uint8, float [0, 1] and float [0, 255] noisy images are read as the same pictures and come
    back in their own dtype and scale, whatever the training images were (float [0, 1] images
    given to a model fitted on uint8 came back as uint8 values 0 to 10)."""
    from synthkit_plugins.diffusion.noise import add_noise

    gen, X, _ = image_model
    gen = gen if trained_on == "uint8" else _as_if_fitted_on_floats(gen)
    clean = X[:12].astype(np.float32)[..., None] / 255
    noisy = np.round(add_noise(clean, 0.3, np.random.default_rng(0))[..., 0] * 255).astype(np.uint8)
    inputs = {form: make(noisy) for form, make in FORMS.items()}
    assert_same_pictures(
        {form: gen.denoise(x, noise_std=0.3) for form, x in inputs.items()}, inputs
    )
    assert_same_pictures(
        {form: gen.denoise(x, noise_std=0.3, steps=1) for form, x in inputs.items()}, inputs
    )
    levels = [gen.estimate_noise_std(x) for x in inputs.values()]
    assert max(levels) - min(levels) < 1e-6 and abs(levels[0] - 0.3) < 0.1
    sample = gen.sample(4, y=1, seed=0)  # sample keeps the training images' dtype and scale
    assert sample.dtype == (np.uint8 if trained_on == "uint8" else np.float32) and sample.shape == (
        4,
        12,
        12,
    )
    assert sample.max() <= (255 if trained_on == "uint8" else 1.0)


def test_table_samples_keep_the_schema(table_model):
    from synthkit.api import augment

    gen, df = table_model
    out = augment(
        df, plugin="diffusion", n=200, label_column="is_fraud", label=1, seed=1, model=gen
    )
    assert list(out.columns) == list(df.columns)
    assert out.dtypes.to_dict() == df.dtypes.to_dict()
    assert (out["is_fraud"] == 1).all()
    assert set(out["channel"]) <= set(df["channel"])
    for col in ("amount", "count", "score"):
        assert out[col].between(df[col].min(), df[col].max()).all()
    assert (out["count"] == out["count"].round()).all()
    assert out["flag"].dtype == bool


def test_fine_tune_retrains_only_the_last_layers(table_model):
    gen, df = table_model
    X = df.drop(columns=["is_fraud"])
    layers = [layer for layer in gen.network_.layers if layer.weights]
    first = [np.copy(w) for w in layers[0].get_weights()]
    last_before = [np.copy(w) for w in layers[-1].get_weights()]
    gen.fine_tune(X[:100], df["is_fraud"][:100], unfreeze_last=1, epochs=1)
    assert all(np.array_equal(a, b) for a, b in zip(first, layers[0].get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(last_before, layers[-1].get_weights()))
    assert "finetune_loss" in gen.history_
    with pytest.raises(PluginError, match="unfreeze_last"):
        gen.fine_tune(X, unfreeze_last=0)


def test_parameter_and_state_errors():
    from synthkit.api import get_generator

    with pytest.raises(NotFittedError):
        get_generator("diffusion").denoise(np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(DataError, match="kind='table'"):
        get_generator("diffusion", kind="table").fit(np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(PluginError, match="widths"):
        get_generator("diffusion", widths=(0,)).fit(table(20))


STATE_EDITS = {  # what is edited -> (model kind, the fitted attribute the error names, manifest edit, array edit)
    "kind_ image on a table": ("table", "kind_", lambda s: s.update(kind_="image"), None),
    "n_classes_ not the classes": ("table", "n_classes_", lambda s: s.update(n_classes_=5), None),
    "epochs_trained_ negative": (
        "table",
        "epochs_trained_",
        lambda s: s.update(epochs_trained_=-1),
        None,
    ),
    "quantiles_ decreasing": (
        "table",
        "quantiles_",
        None,
        lambda a: a.update(quantiles_=a["quantiles_"][..., ::-1].copy()),
    ),
    "data bounds swapped": (
        "table",
        "data_lo_",
        None,
        lambda a: a.update(data_lo_=a["data_hi_"] + 1),
    ),
    "widths_ zero": (
        "table",
        "widths_",
        None,
        lambda a: a.update(widths_=np.zeros(1, np.int64)),
    ),
    "latent_std_ zero": (
        "image",
        "latent_std_",
        None,
        lambda a: a.update(latent_std_=np.zeros_like(a["latent_std_"])),
    ),
}


@pytest.mark.parametrize("edit", sorted(STATE_EDITS))
def test_an_edited_state_is_refused_at_load(edit, image_fit, table_model, tmp_path):
    """A model directory whose fitted values were edited (checksums recomputed) is one ModelFileError
    line at load that names the attribute; an unedited copy loads (images: test_save_load_round_trip)."""
    from helpers import edited_model_copy

    from synthkit.api import load_model
    from synthkit.errors import ModelFileError

    kind, name, manifest_edit, array_edit = STATE_EDITS[edit]
    saved = image_fit["saved"] if kind == "image" else tmp_path / "saved"
    if kind == "table":
        table_model[0].save(saved)
        assert load_model(edited_model_copy(saved, tmp_path / "unedited")).kind_ == kind
    with pytest.raises(ModelFileError) as info:
        load_model(edited_model_copy(saved, tmp_path / "m", manifest_edit, array_edit))
    message = str(info.value)
    assert "\n" not in message and f"the fitted attribute {name} " in message, message


# -- the `synthkit denoise` command ---------------------------------------------------------------
@pytest.fixture
def group():
    from synthkit.cli._main import SynthkitGroup, cli
    from synthkit_plugins.diffusion.commands import denoise

    g = SynthkitGroup(commands=dict(cli.commands))
    g.add_command(denoise)
    return g


def one_line_error(result, text):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and text in lines[0], result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_cli_denoise_with_a_model_writes_grid_and_npz(group, image_model, tmp_path):
    gen, X, y = image_model
    gen.save(tmp_path / "model")
    np.savez(tmp_path / "bars.npz", x=X[:20], y=y[:20])
    grid, out = tmp_path / "cmp.png", tmp_path / "den.npz"
    r = CliRunner().invoke(
        group,
        [
            "denoise",
            str(tmp_path / "bars.npz"),
            "--noise-std",
            "0.3",
            "--model",
            str(tmp_path / "model"),
            "--grid",
            str(grid),
            "-o",
            str(out),
            "--seed",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "PSNR noisy" in r.output and grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with np.load(out) as z:
        assert z["x"].shape == (20, 12, 12) and z["x"].dtype == np.uint8 and len(z["y"]) == 20
    # an already-noisy input: the level is estimated
    r = CliRunner().invoke(
        group, ["denoise", str(tmp_path / "bars.npz"), "--model", str(tmp_path / "model")]
    )
    assert r.exit_code == 0 and "(estimated)" in r.output, r.output


def test_cli_denoise_fails_cleanly(group, tmp_path):
    one_line_error(
        CliRunner().invoke(group, ["denoise", str(tmp_path / "missing.npz")]), "no such file"
    )
    pd.DataFrame({"a": [1.0, 2.0]}).to_csv(tmp_path / "t.csv", index=False)
    one_line_error(
        CliRunner().invoke(group, ["denoise", str(tmp_path / "t.csv")]), "denoise works on images"
    )
    np.savez(tmp_path / "x.npz", x=np.zeros((3, 8, 8), np.uint8))
    one_line_error(
        CliRunner().invoke(
            group, ["denoise", str(tmp_path / "x.npz"), "--grid", str(tmp_path / "g.jpg")]
        ),
        "use one of .png",
    )
    one_line_error(
        CliRunner().invoke(
            group, ["denoise", str(tmp_path / "x.npz"), "--model", str(tmp_path / "none")]
        ),
        "no model directory",
    )


@pytest.mark.slow
def test_cli_denoise_quick_fit(group, tmp_path):
    X, _ = bars(96)
    np.savez(tmp_path / "bars.npz", x=X)
    r = CliRunner().invoke(
        group,
        [
            "denoise",
            str(tmp_path / "bars.npz"),
            "--noise-std",
            "0.2",
            "--grid",
            str(tmp_path / "cmp.png"),
            "--save-model",
            str(tmp_path / "m"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cmp.png").is_file() and (tmp_path / "m" / "manifest.json").is_file()


def test_class_quantiles_give_a_class_its_own_numbers():
    """With ``class_quantiles=True`` a class's numbers come back through its own quantiles: a
    barely trained model already samples the small class in that class's range."""
    from synthkit.api import get_generator

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": np.r_[rng.normal(size=300), rng.normal(8.0, 0.5, size=40)]})
    y = np.r_[np.zeros(300, int), np.ones(40, int)]
    own = get_generator(
        "diffusion", epochs=2, widths=(32,), steps=5, seed=0, class_quantiles=True
    ).fit(X, y)
    assert own.class_groups_.tolist() == [1, 2]
    sample = own.sample(100, y=1, seed=0)["a"]
    assert sample.between(X["a"][y == 1].min(), X["a"][y == 1].max()).all()
    shared = get_generator("diffusion", epochs=2, widths=(32,), steps=5, seed=0).fit(X, y)
    assert shared.class_groups_.tolist() == [0, 0]


def test_small_tables_train_several_epochs_per_call_with_the_same_result(monkeypatch):
    """Grouping a small table's epochs into one ``model.fit`` call changes nothing but the speed."""
    from synthkit.api import get_generator
    from synthkit_plugins.diffusion import model as dm

    X, y = table(200), np.arange(200) % 2
    runs = []
    for per_call in (1, dm.MIN_STEPS_PER_CALL):
        monkeypatch.setattr(dm, "MIN_STEPS_PER_CALL", per_call)
        gen = get_generator(
            "diffusion", epochs=6, batch_size=64, widths=(32,), steps=5, seed=0
        ).fit(X, y)
        runs.append((gen.history_["loss"], gen.sample(20, y=1, seed=0)))
    assert len(runs[0][0]) == len(runs[1][0]) == 6
    assert np.allclose(runs[0][0], runs[1][0])
    pd.testing.assert_frame_equal(runs[0][1], runs[1][1])


def test_a_table_trains_train_steps_batches_whatever_its_rows():
    """Without ``epochs`` a table trains the epochs that make ``train_steps`` batches (at least
    one epoch), so the cost does not grow with the rows; ``epochs`` given wins."""
    from synthkit.api import get_generator

    for rows, batch, steps, epochs in ((300, 64, 9, 3), (100, 64, 5, 5), (1000, 100, 3, 1)):
        df = table(rows)
        gen = get_generator(
            "diffusion", train_steps=steps, batch_size=batch, widths=(16,), steps=2, seed=0
        ).fit(df.drop(columns=["is_fraud"]), df["is_fraud"])
        assert gen.epochs_trained_ == epochs, (rows, batch, steps)
    df = table(300)
    gen = get_generator(
        "diffusion", epochs=2, train_steps=50, batch_size=64, widths=(16,), steps=2, seed=0
    ).fit(df.drop(columns=["is_fraud"]), df["is_fraud"])
    assert gen.epochs_trained_ == 2
    with pytest.raises(PluginError, match="train_steps"):
        get_generator("diffusion", train_steps=0).fit(df.drop(columns=["is_fraud"]))


def test_a_spike_of_a_float_column_comes_back_exactly():
    """A value many training rows share (a standardised code, as in the anomaly sets) comes back as
    that value, not as its float32 neighbour, so a column's spike is a spike in the samples too."""
    from synthkit.api import get_generator

    rng = np.random.default_rng(0)
    spike = -0.0980213567
    X = pd.DataFrame(
        {
            "code": np.where(rng.random(400) < 0.7, spike, rng.normal(2.0, 1.0, 400)),
            "other": rng.normal(size=400),
        }
    )
    gen = get_generator("diffusion", epochs=2, widths=(16,), steps=4, seed=0).fit(X)
    sample = gen.sample(300, seed=0)["code"]
    assert (sample == spike).mean() > 0.3
    assert not np.isclose(sample[sample != spike], spike, rtol=0, atol=1e-4).any()


def test_a_table_model_saved_before_widths_were_kept_loads_at_the_width_of_then(tmp_path):
    """Table models saved before ``widths_`` was kept were built at the default of then, (256,):
    they load at that width, whatever today's default, and sample as before."""
    from helpers import edited_model_copy

    from synthkit.api import get_generator, load_model

    df = table(200)
    old = get_generator("diffusion", epochs=1, widths=(256,), steps=3, seed=0)
    old.fit(df.drop(columns=["is_fraud"]), df["is_fraud"]).save(tmp_path / "now")

    def as_saved_then(manifest_state):
        manifest_state.pop("widths_", None)

    def arrays_then(arrays):
        arrays.pop("widths_", None)

    then = edited_model_copy(tmp_path / "now", tmp_path / "then", as_saved_then, arrays_then)
    manifest = (then / "manifest.json").read_text()
    assert "widths_" not in manifest
    loaded = load_model(then)
    assert loaded.widths_ == (256,)
    pd.testing.assert_frame_equal(loaded.sample(20, y=1, seed=0), old.sample(20, y=1, seed=0))
