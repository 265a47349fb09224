"""The shipped colour example (patches of scikit-learn's two photographs) through detect, augment and
evaluate; features learnt from the real images; image defaults that follow the image size."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from synthkit import evaluation as ev
from synthkit.cli._main import cli
from synthkit.adapters._image_sizes import latent_size, scaled_epochs, strided_layers
from synthkit_datasets.make_photo_patches import main as make_patches
from synthkit_datasets.make_photo_patches import photo_patches, write_photo_folder


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


@pytest.fixture(scope="module")
def my_images(tmp_path_factory):
    return write_photo_folder(
        tmp_path_factory.mktemp("example") / "my_images", per_class=40, size=32, seed=0
    )


def _digest(folder):
    return hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(folder.rglob("*.png")))
    ).hexdigest()


def test_example_folder_is_reproducible_and_refuses_to_overwrite(tmp_path, my_images):
    again = write_photo_folder(tmp_path / "again", per_class=40, size=32, seed=0)
    assert _digest(again) == _digest(my_images)
    assert (
        sorted(p.name for p in again.iterdir()) == ["china", "flower"]
        and len(list(again.rglob("*.png"))) == 80
    )
    assert _digest(
        write_photo_folder(tmp_path / "other", per_class=40, size=32, seed=1)
    ) != _digest(again)
    assert make_patches([str(again)]) == 1  # not empty: refused, nothing replaced
    images, labels = photo_patches(3, 16, 0)
    assert (
        images.shape == (6, 16, 16, 3)
        and images.dtype == np.uint8
        and list(labels) == ["china"] * 3 + ["flower"] * 3
    )
    assert images.std() > 10  # real photograph content, not a constant


def test_detect_augment_evaluate_on_the_example_folder(my_images, tmp_path):
    scores = tmp_path / "scores.csv"
    result = run(
        "detect",
        my_images,
        "--plugin",
        "autoencoder",
        "--param",
        "epochs=3",
        "--seed",
        0,
        "-o",
        scores,
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(scores)
    assert {"path", "label", "anomaly_score", "is_anomaly"} <= set(table.columns) and len(
        table
    ) == 80
    assert table["path"].str.match(r"(china|flower)/\d+\.png").all()

    out, grid = tmp_path / "out", tmp_path / "grid.png"
    result = run(
        "augment",
        my_images,
        "--plugin",
        "gan",
        "-n",
        12,
        "--label",
        "flower",
        "--param",
        "epochs=2",
        "--seed",
        0,
        "-o",
        f"{out}/",
        "--grid",
        grid,
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))[:2] == [
        "flower/00.png",
        "flower/01.png",
    ]
    assert len(list(out.rglob("*.png"))) == 12 and grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    result = run("evaluate", my_images, f"{out}/")
    assert result.exit_code == 0, result.output
    assert "training a classifier on the 80 real images' 2 labels" in result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[2].startswith("features: classifier trained on REAL")
        and "held-out accuracy" in lines[2]
    )
    assert lines[3].startswith("classifier accuracy on labels")
    assert any(
        line.strip().startswith("class flower") and "real vs real:" in line for line in lines
    )


def test_one_class_detection_flags_the_other_photograph(my_images):
    result = run(
        "detect",
        my_images,
        "--plugin",
        "autoencoder",
        "--normal-class",
        "china",
        "--param",
        "epochs=5",
        "--seed",
        0,
    )
    assert result.exit_code == 0, result.output
    assert float(result.output.split("ROC-AUC: ")[1].split()[0]) > 0.6, result.output


def test_learned_features_classifier_with_labels_autoencoder_without():
    images, labels = photo_patches(30, 16, 0)
    real = ev.as_unit_images(images)
    report = ev.image_report(
        images[::2], images[1::2], labels=labels[1::2], real_labels=labels[::2], seed=0
    )
    assert report["feature_model"] == "classifier trained on REAL"
    assert (
        0 <= report["feature_model_holdout_accuracy"] <= 1
        and 0 <= report["classifier_accuracy"] <= 1
    )
    again = ev.image_report(
        images[::2], images[1::2], labels=labels[1::2], real_labels=labels[::2], seed=0
    )
    assert again["fid_per_class"] == report["fid_per_class"]  # seeded: the same features
    unlabelled = ev.image_report(images, real[::-1])
    assert (
        unlabelled["feature_model"] == "autoencoder trained on REAL"
        and "feature_model_holdout_error" in unlabelled
    )
    assert "classifier_accuracy" not in unlabelled and unlabelled["fid_reference"] >= 0
    rows = dict(ev.image_report_rows(unlabelled))
    assert "no labels to train a classifier on" in rows["features: autoencoder trained on REAL"]


def test_image_defaults_follow_the_image_size():
    assert [scaled_epochs(40, s) for s in ((28, 28), (32, 32), (64, 64), (128, 128))] == [
        40,
        40,
        10,
        2,
    ]
    assert (
        scaled_epochs(60, (32, 32), n_images=300, batch_size=128, min_steps=1500) == 500
    )  # 3 batches an epoch
    assert (
        scaled_epochs(60, (28, 28), n_images=10000, batch_size=128, min_steps=1500) == 60
    )  # MNIST: unchanged
    assert [strided_layers(s) for s in ((16, 16), (28, 28), (32, 32), (64, 48), (128, 128))] == [
        2,
        2,
        2,
        3,
        4,
    ]
    assert [
        latent_size(s) for s in ((28, 28, 1), (32, 32, 1), (40, 40, 1), (28, 28, 3), (64, 64, 3))
    ] == [32, 32, 64, 128, 128]
    from synthkit_plugins.autoencoder.architecture import resolve_architecture
    from synthkit_plugins.autoencoder.detector import AutoencoderDetector
    from synthkit_plugins.autoencoder.training import schedule

    mnist = resolve_architecture(AutoencoderDetector(), (28, 28, 1))
    big = resolve_architecture(AutoencoderDetector(), (64, 64, 3))
    assert mnist["filters"] == [16, 32] and big["filters"] == [16, 32, 64]
    assert mnist["latent_dim"] == 32 and big["latent_dim"] == 128
    # (epochs, batches a round): MNIST's one-digit training sets (650 to 900 images) keep 40 full
    # passes; where the passes make under 400 batches, as many rounds of 400 batches in all
    assert schedule("auto", mnist, 900, 64) == (40, None) and schedule("auto", big, 3000, 64) == (
        10,
        None,
    )
    assert schedule("auto", big, 630, 64) == (10, 40) and schedule("auto", mnist, 100, 64) == (
        40,
        10,
    )
    from synthkit_plugins.gan.generator import GANGenerator

    assert (
        GANGenerator()._epochs("image", (2000, 64, 64, 3)) == 24
        and GANGenerator()._epochs("image", (10000, 28, 28, 1)) == 60
    )
    assert GANGenerator(epochs=3)._epochs("image", (2000, 64, 64, 3)) == 3


def test_grid_draws_any_size_and_channel_count_on_one_scale():
    from synthkit.plots._figures import image_grid

    for shape in ((6, 20, 20), (6, 64, 48, 3), (6, 9, 13, 1)):
        images = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        fig = image_grid(images, labels=np.array(["a", "b"] * 3), per_row=3)
        drawn = [ax.images[0] for ax in fig.axes if ax.images]
        assert len(drawn) == 6 and drawn[0].get_clim() == (0.0, 1.0)
        np.testing.assert_allclose(
            np.asarray(drawn[0].get_array()),
            images[0].reshape(shape[1:3] + (-1,)).squeeze() / 255,
            atol=1e-6,
        )
