"""augment --filter (issue 18): on real Adult rows, kept samples pass the detector and the distance floor,
counts add up, the same seed gives the same rows, a --filter-model directory is used as it is, and the
bounded rounds end in one error."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthkit
from helpers import adult_sample
from synthkit.synthesis._run import run_augment
from synthkit.errors import DataError, PluginError
from synthkit.synthesis._filter import MAX_ROUNDS, RowFilter, round_seed

LABEL, CLASS = "class", ">50K"
FIT = dict(epochs=1, widths=(32,), steps=5, seed=0)  # a fit of a few seconds


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return adult_sample(400)


@pytest.fixture(scope="module")
def features(adult):
    return adult.drop(columns=[LABEL])


@pytest.fixture(scope="module")
def in_class(adult):
    return (adult[LABEL] == CLASS).to_numpy()


@pytest.fixture(scope="module")
def generator(adult, features):
    return synthkit.get_generator("diffusion", **FIT).fit(features, adult[LABEL].to_numpy())


@pytest.fixture(scope="module")
def generator_dir(generator, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "diffusion"
    generator.save(path)
    return path


@pytest.fixture(scope="module")
def filtered(adult, generator):
    return run_augment(
        adult, n=60, label_column=LABEL, label=CLASS, seed=0, model=generator, filter=True
    )


def brute_nearest(queries, reference, exclude=None):
    """Nearest distances by scipy, row i of ``queries`` not compared with reference row ``exclude[i]``."""
    from scipy.spatial.distance import cdist

    d = cdist(queries, reference)
    if exclude is not None:
        d[np.arange(len(queries)), exclude] = np.inf
    return d.min(axis=1)


def test_counts_add_up_and_rows_have_the_class(filtered):
    rows, labels, _, report = filtered
    assert len(rows) == 60 and (rows[LABEL] == CLASS).all() and (labels == CLASS).all()
    assert report["kept"] == 60 and 1 <= report["rounds"] <= MAX_ROUNDS
    assert (
        report["generated"]
        == report["rejected_implausible"] + report["rejected_copies"] + report["passed"]
    )
    assert (
        report["passed"] >= 60 and report["rejected_implausible"] > 0
    )  # a fit of seconds makes rows it drops


def test_every_kept_row_passes_the_threshold_and_the_floor(adult, features, in_class, filtered):
    """Checked apart from the filter: a fresh detector of the same seed, and scipy's distances."""
    from synthkit.detection._run import default_detector, new_detector

    rows, _, _, report = filtered
    kept = rows[list(features.columns)]
    real = features[in_class].reset_index(drop=True)
    detector = new_detector(default_detector(real), 0.1, seed=0, params={"missing": "impute"})
    detector.fit(real)
    assert report["threshold"] == pytest.approx(detector.threshold_)
    assert (detector.decision_function(kept) <= detector.threshold_).all()
    assert (detector.decision_scores_ > detector.threshold_).mean() == pytest.approx(0.1, abs=0.01)
    space = RowFilter(seed=0).fit(features, in_class)
    reference = space.encode_(features)
    real_loo = brute_nearest(reference[in_class], reference, exclude=np.flatnonzero(in_class))
    assert report["distance_floor"] == pytest.approx(np.quantile(real_loo, 0.05))
    assert report["distance_floor"] > 0
    assert (brute_nearest(space.encode_(kept), reference) >= report["distance_floor"]).all()
    assert not kept.merge(features.drop_duplicates(), how="inner").shape[0]  # no exact copies


def test_the_same_seed_gives_the_same_rows(adult, generator, filtered):
    again = run_augment(
        adult, n=60, label_column=LABEL, label=CLASS, seed=0, model=generator, filter=True
    )
    pd.testing.assert_frame_equal(again[0], filtered[0])
    assert again[3] == filtered[3]
    other = run_augment(
        adult, n=60, label_column=LABEL, label=CLASS, seed=1, model=generator, filter=True
    )
    assert not other[0].equals(filtered[0])
    assert round_seed(5, 0) == 5 and round_seed(5, 1) == round_seed(5, 1) != round_seed(5, 2)
    assert round_seed(None, 3) is None


def test_later_rounds_sample_what_is_missing_over_the_pass_rate(features, in_class, generator):
    """A sampler whose every other row is a training row of the class: those come out as copies, so more
    rounds are needed, each asking for what is missing over the pass rate so far (``_round_size``)."""
    from synthkit.synthesis._filter import _round_size

    real = features[in_class].reset_index(drop=True)
    asked, made = [], []

    def sample(k, seed):
        rows = generator.sample(k, y=CLASS, seed=seed)
        copies = real.iloc[np.random.default_rng(seed).integers(0, len(real), k)].reset_index(
            drop=True
        )
        rows = pd.concat([copies.iloc[::2], rows.iloc[1::2]]).sort_index().reset_index(drop=True)
        asked.append((k, seed))
        made.append(rows)
        return rows

    row_filter = RowFilter(seed=0).fit(features, in_class)
    rows, report = row_filter.run(sample, 40, seed=7)
    assert asked[0] == (40, 7) and len(asked) == report["rounds"] >= 2
    assert [s for _, s in asked] == [round_seed(7, r) for r in range(len(asked))]
    passes = [int((lambda p, q: (p & ~q).sum())(*row_filter.check(m))) for m in made]
    generated = np.cumsum([k for k, _ in asked])
    for r in range(1, len(asked)):
        passed = sum(passes[:r])
        assert asked[r][0] == _round_size(40 - passed, passed / generated[r - 1])
    assert (
        report["rejected_copies"]
        >= sum((k + 1) // 2 for k, _ in asked) - report["rejected_implausible"]
    )
    plausible, near = row_filter.check(rows)
    assert len(rows) == 40 and plausible.all() and not near.any()


def test_a_filter_model_directory_is_used_as_it_is(
    adult, features, in_class, generator_dir, tmp_path
):
    detector = synthkit.get_detector("knn", contamination=0.2).fit(features[in_class])
    detector.save(tmp_path / "knn")
    rows, _, _, report = run_augment(
        adult,
        n=30,
        label_column=LABEL,
        label=CLASS,
        seed=0,
        model=generator_dir,
        filter_model=tmp_path / "knn",
    )  # implies filter=True
    assert report["threshold"] == pytest.approx(detector.threshold_)
    assert (detector.decision_function(rows[list(features.columns)]) <= detector.threshold_).all()


def test_too_few_passing_rows_stop_after_the_bounded_rounds(adult, features, in_class, generator):
    detector = synthkit.get_detector("knn").fit(features[in_class])
    detector.threshold_ = float(detector.decision_scores_.min()) - 1.0  # rejects every row
    with pytest.raises(
        DataError,
        match=rf"only 0 of the 20 rows asked for passed the filter after {MAX_ROUNDS} "
        r"rounds .*implausible.*--filter-model",
    ):
        run_augment(
            adult,
            n=20,
            label_column=LABEL,
            label=CLASS,
            seed=0,
            model=generator,
            filter_model=detector,
        )
    with pytest.raises(PluginError, match="not a detector"):
        run_augment(
            adult, n=5, label_column=LABEL, label=CLASS, model=generator, filter_model=generator
        )
    with pytest.raises(PluginError, match="floor_quantile"):
        RowFilter(floor_quantile=1.5).fit(features, in_class)


def test_cli_filter_summary_and_errors(adult, features, in_class, generator_dir, tmp_path):
    from synthkit.cli._main import cli

    adult.to_csv(tmp_path / "adult.csv", index=False)
    common = [
        str(tmp_path / "adult.csv"),
        "-n",
        "25",
        "--label-column",
        LABEL,
        "--label",
        CLASS,
        "--seed",
        "0",
        "--model",
        str(generator_dir),
    ]
    result = CliRunner().invoke(
        cli, ["augment", *common, "--filter", "-o", str(tmp_path / "rows.csv")]
    )
    assert result.exit_code == 0, result.output
    line = next(s for s in result.output.splitlines() if s.startswith("filter: "))
    found = re.search(
        r"(\d+) generated .*, (\d+) rejected as implausible .*, (\d+) as near copies .*, "
        r"(\d+) passed, (\d+) kept",
        line,
    )
    generated, implausible, copies, passed, kept = map(int, found.groups())
    assert kept == 25 and passed >= kept and generated == implausible + copies + passed
    out = pd.read_csv(tmp_path / "rows.csv")
    assert len(out) == 25 and list(out.columns) == list(adult.columns)
    bad = synthkit.get_detector("knn").fit(features[in_class])
    bad.threshold_ = float(bad.decision_scores_.min())  # as strict as a fitted threshold can be
    bad.labels_ = (bad.decision_scores_ > bad.threshold_).astype(int)
    bad.save(tmp_path / "strict")
    result = CliRunner().invoke(
        cli,
        [
            "augment",
            *common,
            "--filter-model",
            str(tmp_path / "strict"),
            "-o",
            str(tmp_path / "none.csv"),
        ],
    )
    assert (
        result.exit_code == 1
        and "only 0 of the 25 rows" in result.output
        and "Traceback" not in result.output
    )
    assert not (tmp_path / "none.csv").exists()


def test_images_are_filtered_by_an_autoencoder():
    """The filter on images, with an autoencoder as loose as a one-epoch GAN needs (the default
    image detector, trained to its default length, rejects every image such a GAN makes)."""
    from helpers import bars
    from synthkit.detection._run import default_detector

    x, y = bars(60, size=12, seed=0)
    assert default_detector(x[y == 1]) == "autoencoder"
    generator = synthkit.get_generator(
        "gan", epochs=1, batch_size=32, width=8, latent_dim=8, seed=0
    ).fit(x, y)
    loose = synthkit.get_detector("autoencoder", epochs=40, contamination=0.1, seed=0).fit(
        x[y == 1]
    )
    images, labels, _, report = run_augment(
        (x, y), n=10, label=1, seed=0, model=generator, filter=True, filter_model=loose
    )
    assert images.shape == (10, 12, 12) and images.dtype == x.dtype and (labels == 1).all()
    assert (
        report["generated"]
        == report["rejected_implausible"] + report["rejected_copies"] + report["passed"]
    )
    plausible, near = RowFilter(model=loose, seed=0).fit(x, y == 1).check(images)
    assert (
        plausible.all()
        and not near.any()
        and not any((images[i] == x).all(axis=(1, 2)).any() for i in range(10))
    )


def test_a_filter_model_for_other_columns_or_an_unfitted_filter_is_refused(
    adult, features, in_class, generator
):
    from synthkit.errors import NotFittedError, SchemaError

    other = synthkit.get_detector("knn").fit(features.drop(columns=["age"])[in_class])
    with pytest.raises(
        SchemaError, match="filter model was fitted on other data.*without its label column"
    ):
        run_augment(
            adult, n=5, label_column=LABEL, label=CLASS, model=generator, filter_model=other
        )
    with pytest.raises(NotFittedError, match="call fit"):
        RowFilter().run(lambda k, s: features.iloc[:k], 5)
    with pytest.raises(DataError, match="at least 2"):
        RowFilter().fit(features, np.arange(len(features)) == 0)
