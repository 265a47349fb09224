"""Synthetic-data measures: tables, FID/KID with a dataset's feature model, and `synthkit evaluate`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from synthkit import evaluation as ev
from synthkit.cli._main import cli
from synthkit.dataset import Dataset
from synthkit.errors import DataError
from synthkit.hookspecs import hookimpl
from helpers import adult_sample, assert_clean_error, run


def _table(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    return pd.DataFrame(
        {
            "amount": np.exp(x),
            "count": rng.poisson(3, n),
            "kind": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
            "flag": rng.random(n) < 0.3,
            "label": (x + rng.normal(0, 0.5, n) > 1.2).astype(int),
        }
    )


def test_column_similarity_same_and_shifted():
    real, same, shifted = _table(2000, 0), _table(2000, 1), _table(2000, 2, shift=1.0)
    near = ev.column_similarity(real, same)
    far = ev.column_similarity(real, shifted)
    assert near["amount"][0] == "KS" and near["kind"][0] == "TV" and near["flag"][0] == "TV"
    assert near["amount"][1] < 0.06 and far["amount"][1] > 0.3
    assert all(0.0 <= v <= 1.0 for _, v in far.values())
    assert ev.column_similarity(real, real)["kind"][1] == 0.0


def test_correlation_similarity_detects_broken_dependence():
    real = _table(2000, 0)
    shuffled = real.copy()
    shuffled["label"] = shuffled["label"].sample(frac=1.0, random_state=0).to_numpy()
    assert ev.correlation_similarity(real, real) == pytest.approx(1.0)
    assert ev.correlation_similarity(real, _table(2000, 1)) > ev.correlation_similarity(
        real, shuffled
    )


def test_privacy_counts_copies_and_dcr():
    real, holdout = _table(600, 0), _table(200, 1)
    copies = real.iloc[:50].reset_index(drop=True)
    p = ev.privacy(real, copies, holdout)
    assert p["exact_copies"] == 50 and p["exact_copy_share"] == 1.0
    assert p["median_distance_synthetic"] == 0.0 and p["share_below_p5"] == 1.0
    fresh = ev.privacy(real, _table(200, 2), holdout)
    assert fresh["exact_copies"] == 0 and fresh["median_distance_synthetic"] > 0


def test_utility_tstr_and_augment_modes():
    real, test = _table(1500, 0), _table(800, 1)
    u = ev.utility(real, _table(1500, 2), test, "label", max_iter=20)
    assert u["mode"] == "tstr" and u["synthetic"]["roc_auc"] > 0.8
    positives = _table(3000, 3)
    positives = positives[positives.label == 1].reset_index(drop=True)
    u = ev.utility(real, positives, test, "label", max_iter=20)
    assert u["mode"] == "augment" and 0 <= u["synthetic"]["average_precision"] <= 1


def test_table_report_and_mismatched_columns():
    real = _table(800, 0)
    report = ev.table_report(real, _table(400, 1), label_column="label")
    assert {
        "mean_ks",
        "mean_tv",
        "correlation_similarity",
        "privacy",
        "utility",
        "by_label",
    } <= set(report)
    assert report["skipped"] == {}  # every measure ran
    with pytest.raises(DataError, match="missing columns amount"):
        ev.table_report(real, _table(100, 1).drop(columns=["amount"]))
    with pytest.raises(DataError, match="label column 'nope'"):
        ev.table_report(real, _table(100, 1), label_column="nope")


def test_frechet_and_kernel_distance_basics():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(500, 8)), rng.normal(size=(500, 8))
    c = rng.normal(2.0, 1.0, size=(500, 8))
    assert ev.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert ev.frechet_distance(a, b) < 1.0 < ev.frechet_distance(a, c)
    assert abs(ev.kernel_distance(a, b, subsets=5, subset_size=200)) < ev.kernel_distance(
        a, c, subsets=5, subset_size=200
    )


def test_nearest_distances():
    ref = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert np.allclose(ev.nearest_distances(np.array([[0.0, 0.0], [3.0, 5.0]]), ref), [0.0, 1.0])


def test_image_measures_on_noise(tmp_path):
    from synthkit_datasets.mnist.features import FEATURE_DIM, mnist_features, mnist_images

    rng = np.random.default_rng(0)
    blobs = rng.integers(0, 256, (60, 28, 28), dtype=np.uint8)
    f = mnist_features(blobs)
    assert f.shape == (60, FEATURE_DIM)
    report = ev.image_report(
        blobs[:30],
        blobs[30:],
        labels=np.zeros(30, int),
        train=blobs[:30],
        holdout=blobs[30:],
        features="mnist",
    )
    assert report["fid"] >= 0 and 0 <= report["classifier_accuracy"] <= 1
    assert report["memorisation"]["near_copies"] == 0
    rows = ev.image_report_rows(
        report
    )  # labelled samples, unlabelled REAL: one FID against every class
    assert rows[2][0] == "FID (MNIST classifier features)" and rows[4][1].startswith(
        "REAL has no labels"
    )
    with pytest.raises(DataError, match="28x28"):
        mnist_images(np.zeros((3, 32, 32)))
    npz = tmp_path / "blobs.npz"
    np.savez(npz, x=blobs)
    with pytest.raises(DataError, match="is a file, not a dataset"):
        ev.image_report(blobs[:30], blobs[30:], features=str(npz))
    with pytest.raises(DataError, match="'transactions' has none: .*\\(mnist\\)"):
        ev.image_report(blobs[:30], blobs[30:], features="transactions")


def test_image_report_compares_class_by_class_beside_a_real_reference(real_mnist_dir):
    """Recognisable digits of one class scored FID 266 against all ten classes, and blurry blobs of
    the right mean (classifier accuracy 0.10) 98.8, with nothing to compare either with. Per class
    and beside the real-vs-real reference the order is right."""
    import synthkit

    images, labels = synthkit.load_dataset("mnist:test")
    order = np.random.default_rng(0).permutation(
        len(images)
    )  # the split's halves differ in writers
    real, real_labels = images[order[:2000]], labels[order[:2000]]
    rest = order[2000:]
    threes = images[rest][labels[rest] == 3][:150]  # real digits the reference set does not hold
    digits = ev.image_report(
        real, threes, labels=np.full(len(threes), 3), real_labels=real_labels, features="mnist"
    )
    assert digits["classifier_accuracy"] > 0.95
    assert list(digits["by_class"]) == ["3"] and digits["by_class"]["3"]["images_real"] == int(
        (real_labels == 3).sum()
    )
    assert (
        digits["fid_per_class_ratio"] < 1.5
    )  # as close to the real threes as other real threes are
    assert (
        digits["fid"] > 4 * digits["fid_per_class"]
    )  # against every class: not a measure of quality
    rng = np.random.default_rng(0)
    mean = real.astype(np.float32).mean(axis=0)
    blobs = np.clip(mean + rng.normal(0, 20, (200, 28, 28)), 0, 255).astype(np.uint8)
    blur = ev.image_report(
        real, blobs, labels=np.arange(200) % 10, real_labels=real_labels, features="mnist:test"
    )
    assert blur["classifier_accuracy"] < 0.3 and len(blur["by_class"]) == 10
    assert blur["fid_per_class_ratio"] > 5 * digits["fid_per_class_ratio"]
    assert (
        blur["fid_per_class_reference"] > 0
        and blur["kid_per_class"] > blur["kid_per_class_reference"]
    )
    rows = ev.image_report_rows(digits)
    assert (
        rows[1][0] == "classifier accuracy on labels" and rows[2][0] == "FID per class (mean of 1)"
    )


def test_evaluate_command_tables(tmp_path):
    real, synth = tmp_path / "real.csv", tmp_path / "synth.csv"
    _table(600, 0).to_csv(real, index=False)
    _table(300, 1).to_csv(synth, index=False)
    result = CliRunner().invoke(cli, ["evaluate", str(real), str(synth), "--label-column", "label"])
    assert result.exit_code == 0, result.output
    for text in ("mean KS", "mean TV", "correlation similarity", "exact copies", "GBM AP"):
        assert text in result.output


def test_evaluate_command_images_and_errors(tmp_path, real_mnist_dir):
    rng = np.random.default_rng(0)
    real, synth, holdout = tmp_path / "real.npz", tmp_path / "synth.npz", tmp_path / "holdout.npz"
    np.savez(real, x=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), y=np.arange(40) % 10)
    np.savez(synth, x=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), y=np.arange(40) % 10)
    np.savez(holdout, x=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8))
    result = CliRunner().invoke(
        cli, ["evaluate", "mnist:test", str(synth), "--holdout", str(holdout)]
    )
    assert result.exit_code == 0, result.output
    assert (
        "FID" in result.output
        and "classifier accuracy" in result.output
        and "near copies" in result.output
    )
    rows = [line.split("  ")[0] for line in result.output.splitlines()]
    # the accuracy first, then FID per class (both sets are labelled) beside its real-vs-real reference
    assert rows[1].startswith("images") and rows[2].startswith("classifier accuracy"), result.output
    assert (
        rows[3].startswith("FID per class (mean of 10)")
        and "real vs real: " in result.output.splitlines()[3]
    )
    assert "  class 0" in result.output and "KID per class" in result.output
    result = CliRunner().invoke(
        cli, ["evaluate", str(real), str(synth)]
    )  # a file: features learnt from REAL
    assert result.exit_code == 0, (
        result.output
    )  # 4 images a class are too few for a classifier: an autoencoder
    assert (
        "features: autoencoder trained on REAL" in result.stdout and "real vs real" in result.stdout
    )
    result = CliRunner().invoke(cli, ["evaluate", str(real), str(synth), "--features", "mnist"])
    assert result.exit_code == 0, (
        result.output
    )  # a file measured with a named dataset's feature model
    assert "FID per class (mean of 10)" in result.output and "classifier accuracy" in result.output
    table = tmp_path / "t.csv"
    _table(50, 0).to_csv(table, index=False)
    result = CliRunner().invoke(cli, ["evaluate", str(real), str(table)])
    assert result.exit_code != 0 and "both be tables or both be images" in result.output
    result = CliRunner().invoke(cli, ["evaluate", str(table), str(tmp_path / "missing.csv")])
    assert result.exit_code != 0 and "Traceback" not in result.output


# -- a measure that cannot run is skipped, with its reason; the others are reported -------------
def _adult_with_six_rich(tmp_path=None):
    """Real UCI Adult rows: 600 of class <=50K and 6 of >50K as REAL (the seed-0 20% holdout then
    holds no >50K row, so utility cannot run), 300 others as SYNTHETIC; as CSV files with tmp_path."""
    adult = adult_sample(4000)
    rich = adult[adult["class"] == ">50K"]
    real = (
        pd.concat([adult[adult["class"] == "<=50K"].iloc[:600], rich.iloc[:6]])
        .sample(frac=1.0, random_state=0)
        .reset_index(drop=True)
    )
    synthetic = adult.iloc[-300:].reset_index(drop=True)
    if tmp_path is None:
        return real, synthetic
    paths = tmp_path / "real.csv", tmp_path / "synthetic.csv"
    for frame, path in zip((real, synthetic), paths):
        frame.to_csv(path, index=False)
    return paths


NEEDS_BOTH = "the utility measure needs both classes of 'class' in the training and test rows"


def test_table_report_skips_utility_on_six_positive_rows_and_reports_the_rest():
    real, synthetic = _adult_with_six_rich()
    report = ev.table_report(real, synthetic, label_column="class")
    assert "utility" not in report and list(report["skipped"]) == ["utility"]
    why = report["skipped"]["utility"]
    assert why.startswith(NEEDS_BOTH) and "0 of 121 test rows of class '>50K'" in why
    assert "give more rows of the rarer class" in why and "\n" not in why
    for key in ("columns", "correlation_similarity", "privacy", "label_tv", "by_label"):
        assert key in report, key
    assert 0 <= report["mean_ks"] <= 1 and 0 <= report["correlation_similarity"] <= 1
    assert report["anomaly_class"] == ">50K" and report["by_label"][">50K"]["rows_real"] == 6
    rows = dict(ev.table_report_rows(report))
    assert rows["utility"] == f"skipped ({why})"
    assert "correlation similarity" in rows and "exact copies of real rows" in rows
    assert not any(name.startswith("GBM") for name in rows)
    # held-out rows with both classes: utility runs again, and nothing is skipped
    holdout = adult_sample(4000).iloc[600:900].reset_index(drop=True)
    report = ev.table_report(real, synthetic, label_column="class", holdout=holdout)
    assert report["skipped"] == {} and report["utility"]["mode"] == "tstr"


def test_evaluate_command_prints_every_measure_that_ran_and_the_one_skipped(tmp_path):
    real, synthetic = _adult_with_six_rich(tmp_path)
    result = run("evaluate", real, synthetic, "--label-column", "class")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    for text in ("mean KS", "mean TV", "correlation similarity", "exact copies", "label=>50K"):
        assert text in result.stdout, text
    lines = [line for line in result.stdout.splitlines() if line.startswith("utility ")]
    assert len(lines) == 1 and "GBM" not in result.stdout
    assert lines[0].split(None, 1)[1].startswith(f"skipped ({NEEDS_BOTH}, got 6 of 485 training")
    # a real holdout of one class (only <=50K rows): the utility test rows are those
    holdout = tmp_path / "holdout.csv"
    frame = adult_sample(4000)
    frame[frame["class"] == "<=50K"].iloc[-200:].to_csv(holdout, index=False)
    result = run("evaluate", real, synthetic, "--label-column", "class", "--holdout", holdout)
    assert result.exit_code == 0, result.output
    assert "skipped (" + NEEDS_BOTH in result.stdout and "0 of 200 test rows" in result.stdout
    # bad inputs are still refused before any measure: a user error on one line
    other = tmp_path / "other.csv"
    pd.read_csv(synthetic).drop(columns=["age"]).to_csv(other, index=False)
    assert_clean_error(
        run("evaluate", real, other, "--label-column", "class"), "missing columns age"
    )
    assert_clean_error(
        run("evaluate", real, synthetic, "--label-column", "nope"), "label column 'nope'"
    )
    frame = pd.read_csv(synthetic)
    frame.loc[:9, "class"] = "unknown"
    frame.to_csv(other, index=False)
    assert_clean_error(
        run("evaluate", real, other, "--label-column", "class"), "holds 'unknown', not one of"
    )


def test_evaluate_with_a_column_that_is_all_missing_runs_every_measure_it_can(tmp_path):
    """A numeric column with no values (and a constant one) beside real Adult rows: gradient
    boosting's binning failed on it with a scikit-learn traceback; now the utility measure leaves it
    out, and the measures that need its values say so, on stdout, with nothing on stderr."""
    frame = adult_sample(2000).assign(allnan=np.nan, const=7.0)
    real, synthetic = tmp_path / "real.csv", tmp_path / "synthetic.csv"
    frame.iloc[:1400].to_csv(real, index=False)
    frame.iloc[1400:].to_csv(synthetic, index=False)
    result = run("evaluate", real, synthetic, "--label-column", "class")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "GBM ROC-AUC real / synthetic (TSTR)" in result.stdout
    assert "column 'allnan' has no finite values in the real table" in result.stdout
    features = ["age", "allnan", "class"]
    with pytest.raises(DataError, match="needs a feature with values in the training rows"):
        ev.gbm_scores(frame[["allnan", "class"]], frame[["allnan", "class"]], "class")
    scores = ev.gbm_scores(frame[features].iloc[:1400], frame[features].iloc[1400:], "class")
    assert 0.5 < scores["roc_auc"] <= 1.0


def test_evaluate_one_synthetic_row_skips_correlations_without_a_warning(tmp_path):
    """One row has no correlations: numpy warned "Degrees of freedom <= 0 for slice" on stderr
    (issue 32, item 9); now the measure is skipped with its reason and stderr stays empty."""
    frame = adult_sample(400)
    real, synthetic = tmp_path / "real.csv", tmp_path / "synthetic.csv"
    frame.to_csv(real, index=False)
    frame.iloc[:1].to_csv(synthetic, index=False)
    result = run("evaluate", real, synthetic)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "skipped (correlations need 2 rows or more in each table (real 400, synthetic 1))" in (
        result.stdout
    )
    assert "mean KS (numeric)" in result.stdout


def test_evaluate_is_an_error_only_when_no_measure_can_run(tmp_path, monkeypatch):
    from synthkit.evaluation import tables

    real, synthetic = _adult_with_six_rich(tmp_path)

    def cannot(*args, **kwargs):
        raise DataError("this measure cannot run here: do something else")

    for name in ("column_similarity", "correlation_similarity", "privacy"):
        monkeypatch.setattr(tables, name, cannot)
    result = run("evaluate", real, synthetic)
    assert_clean_error(
        result,
        r"^Error: no measure of the tables could run: column similarity: this measure cannot "
        r"run here: do something else; correlation similarity: .*; privacy: ",
    )
    with pytest.raises(DataError, match="no measure of the tables could run"):
        ev.table_report(*_adult_with_six_rich(), label_column="class")


# -- a third-party dataset with its own feature model ---------------------------------------------
class ColourFeatures:
    """A toy feature model for 8x8 colour images: channel statistics; the class is the brightest channel."""

    name = "colour statistics"

    def __init__(self):
        self.calls = []

    def features(self, images):
        self.calls.append(("features", images.shape, images.dtype))
        corners = images[:, ::4, ::4].reshape(len(images), -1)
        return np.hstack([images.mean(axis=(1, 2)), images.std(axis=(1, 2)), corners])

    def predict(self, images):
        self.calls.append(("predict", images.shape, images.dtype))
        return images.mean(axis=(1, 2)).argmax(axis=1)


def colour_images(n, seed, labels=None):
    """8x8 RGB images, uint8, each brightest in the channel its label names (0, 1 or 2)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3 if labels is None else labels
    images = rng.integers(0, 120, (n, 8, 8, 3))
    images[np.arange(n), :, :, labels] += 120
    return images.astype(np.uint8), labels


class ColourDataset(Dataset):
    """A registered image dataset of 8x8 colour images with its own feature model; ``bare`` has no labels."""

    name, kind, description = "colours", "image", "8x8 colour images"

    def __init__(self, model=None):
        self.model = model

    def splits(self):
        return ["test", "bare"]

    def location(self):
        return "in memory"

    def load(self, split=None):
        images, labels = colour_images(90, 1)
        return images, None if split == "bare" else labels

    def feature_model(self):
        return self.model


@pytest.fixture
def colours(registry):
    model = ColourFeatures()

    class ColourPlugin:
        @hookimpl
        def synthkit_register_datasets(self, register):
            register("colours", ColourDataset(model))
            register("plaincolours", ColourDataset(None))

    registry.register_plugin(ColourPlugin(), name="colourplugin")
    return model


def test_a_third_party_dataset_feature_model_is_used(colours, tmp_path):
    real, real_labels = ColourDataset().load("test")
    synth, asked = colour_images(30, 2)
    report = ev.image_report(real, synth, labels=asked, real_labels=real_labels, features="colours")
    assert report["feature_model"] == "colour statistics" and report["classifier_accuracy"] == 1.0
    assert sorted(report["by_class"]) == ["0", "1", "2"]
    assert {kind for kind, _, _ in colours.calls} == {"features", "predict"}
    assert all(
        shape[1:] == (8, 8, 3) and dtype == np.float32 for _, shape, dtype in colours.calls
    )  # unit images
    assert report == ev.image_report(
        real, synth, labels=asked, real_labels=real_labels, features=colours
    )

    path = tmp_path / "synth.npz"
    np.savez(path, x=synth, y=asked)
    result = CliRunner().invoke(cli, ["evaluate", "colours:test", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "classifier accuracy on labels  1.0000" in result.output
        and "FID per class (mean of 3)" in result.output
    )
    result = CliRunner().invoke(cli, ["evaluate", "colours:bare", str(path)])  # REAL without labels
    lines = result.output.splitlines()
    assert result.exit_code == 0 and lines[3].startswith("FID (colour statistics)"), result.output
    assert "REAL has no labels" in result.output
    result = CliRunner().invoke(cli, ["evaluate", "plaincolours", str(path)])
    assert result.exit_code == 1 and "dataset 'plaincolours' has none" in result.output, (
        result.output
    )
    assert "(colours, mnist)" in result.output
    with pytest.raises(DataError, match="the synthetic images are 28x28x1, the real ones 8x8x3"):
        ev.image_report(real, np.zeros((5, 28, 28), np.uint8), features="colours")
