"""Plots: each diagnostic is written as a PNG of the expected size, with something drawn on it, for
images and tables, from the CLI's detect results and from the public API (a fitted detector plus
its data, or the frame ``synthkit.detect`` returns)."""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pytest

import synthkit
from synthkit.api import get_detector
from synthkit.detection._run import run_detect
from synthkit.errors import DataError
from synthkit.io._reading import Data
from synthkit.plots._figures import (
    cluster_representatives,
    image_grid,
    most_anomalous,
    score_histogram,
    tsne_plot,
)
from synthkit.plots._detection import detection_plots

DPI = 100  # synthkit.io._reading.save_figure


def png_size(path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def assert_plot(path, inches=None):
    """A PNG, not empty: more than one colour drawn; with ``inches`` (the figure's size), about that
    many pixels at DPI (saved with a tight bounding box, which trims or adds a margin)."""
    import matplotlib.image

    width, height = png_size(path)
    assert width >= 100 and height >= 100, (path, width, height)
    if inches is not None:
        w, h = inches[0] * DPI, inches[1] * DPI
        assert 0.6 * w <= width <= 1.25 * w and 0.6 * h <= height <= 1.25 * h, (
            path,
            (width, height),
            (w, h),
        )
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels[..., :3].std() > 0.02, f"{path} is blank"


def names(written):
    return sorted(str(p).rsplit("/", 1)[-1] for p in written)


def _images(n=60, seed=0):
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 10, 10), np.uint8)
    labels = rng.integers(0, 3, n)
    for i, c in enumerate(labels):
        out[i, 2 + 3 * c : 4 + 3 * c, 1:-1] = 255
    return out, labels


def _frame(n=80, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "cat": rng.choice(["a", "b"], n),
            "label": (rng.random(n) < 0.1).astype(int),
        }
    )


def test_image_detection_plots_autoencoder(tmp_path):
    images, labels = _images()
    data = Data("toy", images=images, labels=labels)
    result = run_detect(data, plugin="autoencoder", epochs=2, seed=0)
    written = detection_plots(result, data, tmp_path / "plots")
    assert names(written) == ["most_anomalous.png", "scores.png", "tsne.png"]
    sizes = {
        "scores.png": (6, 3.5),
        "tsne.png": (6, 5.5),
        "most_anomalous.png": (10, 2 * 1.15 + 0.4),
    }
    for path in written:
        assert_plot(path, sizes[str(path).rsplit("/", 1)[-1]])


def test_image_detection_plots_kmeans_clusters(tmp_path):
    images, labels = _images()
    data = Data("toy", images=images, labels=labels)
    result = run_detect(data, plugin="kmeans", n_clusters=3, seed=0)
    written = detection_plots(result, data, tmp_path)
    assert names(written) == ["clusters.png", "most_anomalous.png", "scores.png"]
    for path in written:
        assert_plot(path, (9, 3 * 0.9 + 0.3) if path.endswith("clusters.png") else None)


def test_table_detection_plots(tmp_path):
    frame = _frame()
    data = Data("toy", frame=frame, label_column="label")
    result = run_detect(data, plugin="kmeans", n_clusters=2, seed=0)
    written = detection_plots(result, data, tmp_path)
    assert names(written) == [
        "clusters.png",
        "explanations.png",
        "most_anomalous.png",
        "scores.png",
    ]
    for path in written:
        assert_plot(path, (6, 3.5) if path.endswith("scores.png") else None)


def test_public_api_plots_a_table_from_the_detect_frame_or_a_fitted_detector(tmp_path):
    """``synthkit.detect`` returns a DataFrame; a DataFrame as ``data`` used to fall into the image
    branch (AttributeError), and the README's ``detection_plots(result, ...)`` needed a DetectResult
    the public API does not return."""
    frame = _frame()
    scored = synthkit.detect(frame, plugin="kmeans", n_clusters=2, label_column="label", seed=0)
    written = detection_plots(scored, frame, tmp_path / "frame")
    assert names(written) == ["most_anomalous.png", "scores.png"]
    for path in written:
        assert_plot(path)
    assert names(detection_plots(scored, None, tmp_path / "no_data")) == [
        "most_anomalous.png",
        "scores.png",
    ]

    det = get_detector("kmeans", n_clusters=2, seed=0).fit(frame.drop(columns=["label"]))
    written = detection_plots(det, frame, tmp_path / "detector", label_column="label")
    assert names(written) == [
        "clusters.png",
        "explanations.png",
        "most_anomalous.png",
        "scores.png",
    ]
    for path in written:
        assert_plot(path)
    # the frame with the detector beside it: every plot
    scored = synthkit.detect(frame, model=det, label_column="label")
    assert names(detection_plots(scored, frame, tmp_path / "both", detector=det)) == [
        "clusters.png",
        "explanations.png",
        "most_anomalous.png",
        "scores.png",
    ]


def test_public_api_plots_images_from_the_detect_frame_or_a_fitted_detector(tmp_path):
    images, labels = _images()
    scored = synthkit.detect(
        (images, labels), plugin="kmeans", n_clusters=3, normal_class=0, seed=0
    )
    assert scored.attrs["synthkit"]["normal_class"] == 0
    written = detection_plots(scored, (images, labels), tmp_path / "frame")
    assert names(written) == ["most_anomalous.png", "scores.png"]
    for path in written:
        assert_plot(path)
    det = get_detector("autoencoder", epochs=1, latent_dim=4, seed=0).fit(images)
    written = detection_plots(det, (images, labels), tmp_path / "detector", progress=True)
    assert names(written) == ["most_anomalous.png", "scores.png", "tsne.png"]
    for path in written:
        assert_plot(path, (6, 5.5) if path.endswith("tsne.png") else None)
    with pytest.raises(DataError, match="give the images"):
        detection_plots(scored, None, tmp_path / "none")
    with pytest.raises(DataError, match="anomaly_score"):
        detection_plots(pd.DataFrame({"a": [1.0]}), None, tmp_path / "none")


def test_plot_functions_draw_what_they_are_given():
    images, labels = _images(30)
    rng = np.random.default_rng(1)
    fig = tsne_plot(rng.normal(size=(30, 4)), labels)
    points = fig.axes[0].collections
    assert (
        len(points) == 3 and sum(len(c.get_offsets()) for c in points) == 30
    )  # one colour per label
    distances = rng.random((30, 3))
    fig = cluster_representatives(images, distances)
    members = np.bincount(distances.argmin(axis=1), minlength=3)
    assert (
        len(fig.axes) == 3 * 10
        and sum(bool(ax.images) for ax in fig.axes) == np.minimum(members, 10).sum()
    )
    fig = most_anomalous(rng.random(30), images=images)
    assert sum(bool(ax.images) for ax in fig.axes) == 20
    fig = most_anomalous(rng.random(5), frame=pd.DataFrame({"a": range(5)}))
    table = fig.axes[0].tables[0]
    assert len({r for r, _ in table.get_celld()}) == 5 + 1  # the header and 5 rows
    fig = score_histogram(rng.random(50), 0.5, truth=rng.integers(0, 2, 50))
    assert (
        len(fig.axes[0].patches) == 2 * 50 and fig.axes[0].lines
    )  # two histograms and the threshold


# -- what each figure says (issue 32): titles, legends, the columns and the sample shown ----------
@pytest.fixture
def saved_figures(monkeypatch):
    """{file name: the matplotlib Figure saved as it}, for the figures detection_plots saves."""
    import synthkit.io._writing as writing

    figures, real = {}, writing.save_figure

    def keep(fig, path):
        figures[str(path).rsplit("/", 1)[-1]] = fig
        real(fig, path)

    monkeypatch.setattr(writing, "save_figure", keep)
    return figures


def header(fig) -> list[str]:
    """The column names of the table a figure draws (its header row)."""
    cells = fig.axes[0].tables[0].get_celld()
    return [cells[0, c].get_text().get_text() for c in sorted(c for r, c in cells if r == 0)]


def test_scores_plot_says_what_was_scored_and_its_threshold(tmp_path, saved_figures):
    """scores.png had no title, and the threshold line was left out of the legend."""
    df = synthkit.load_dataset("transactions")
    det = get_detector("iforest", seed=0).fit(df.drop(columns="is_fraud"))
    detection_plots(det, df, tmp_path, label_column="is_fraud")
    ax = saved_figures["scores.png"].axes[0]
    assert ax.get_title() == f"iforest scores of {len(df):,} rows"
    scores = det.decision_function(df.drop(columns="is_fraud"))
    fraud = int(df["is_fraud"].sum())
    _, labels = ax.get_legend_handles_labels()
    assert labels == [
        f"normal ({len(df) - fraud:,})",
        f"anomaly ({fraud:,})",
        f"threshold {det.threshold_:.4g} ({int((scores > det.threshold_).sum()):,} above)",
    ]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == labels  # drawn, not only labelled
    # without labels: the threshold alone; the frame synthkit.detect returned has no detector
    fig = score_histogram(scores, det.threshold_)
    assert fig.axes[0].get_legend_handles_labels()[1] == [labels[-1]]
    assert fig.axes[0].get_title() == f"anomaly scores of {len(df):,} rows"


def test_most_anomalous_table_says_which_columns_it_shows(tmp_path, saved_figures):
    """A wide table lost its last columns without a word: the figure now says how many of how many
    it shows, picked by the rows' explanation when the detector explains, else the first ones."""
    from helpers import load_anomaly_set

    X, y = load_anomaly_set("fault")  # 27 columns, of which a table of 12 shows 11
    frame = pd.DataFrame(X, columns=[f"V{i}" for i in range(1, X.shape[1] + 1)])
    frame["Class"] = y
    det = get_detector("iforest", seed=0).fit(frame.drop(columns="Class"))
    detection_plots(det, frame, tmp_path, label_column="Class")
    fig = saved_figures["most_anomalous.png"]
    title = fig.axes[0].get_title()
    assert "11 of 28 columns shown" in title and "the rest are in the scores output" in title
    shown = header(fig)
    assert shown[:2] == ["anomaly_score", "Class"] and len(shown) == 12
    # the ten columns with the largest part in the 20 most anomalous rows' scores, largest first
    scores = det.decision_function(frame.drop(columns="Class"))
    top = np.argsort(-scores, kind="stable")[:20]
    part = det.explain(frame.drop(columns="Class").iloc[top]).clip(lower=0).sum()
    assert shown[2:] == list(part.sort_values(ascending=False, kind="stable").index[:10])
    assert shown[2:] != [f"V{i}" for i in range(1, 11)]  # not merely the first ones

    # without an explanation: the first columns, and the title says so
    fig = most_anomalous(scores, frame=frame)
    assert header(fig) == ["anomaly_score"] + [f"V{i}" for i in range(1, 12)]
    assert "the first 11 of 28 columns shown" in fig.axes[0].get_title()
    # a table that fits says nothing of the kind
    fig = most_anomalous(scores, frame=frame.iloc[:, :5])
    assert fig.axes[0].get_title() == "the 20 most anomalous rows"


def test_tsne_title_says_it_is_a_sample(tmp_path, saved_figures, monkeypatch, real_mnist_dir):
    """The t-SNE embeds a random 2,000 of the rows (TSNE_MAX_POINTS) and did not say so."""
    import synthkit.plots._detection as plots

    images, labels = synthkit.load_dataset("mnist:test")
    images, labels = images[:300], labels[:300]
    monkeypatch.setattr(plots, "TSNE_MAX_POINTS", 120)  # 2,000 codes take tens of seconds
    det = get_detector("autoencoder", epochs=1, latent_dim=4, seed=0).fit(images)
    detection_plots(det, (images, labels), tmp_path)
    title = saved_figures["tsne.png"].axes[0].get_title()
    assert title.splitlines()[0] == "t-SNE of 120 of 300 images (random sample, seed 0)"
    assert sum(len(c.get_offsets()) for c in saved_figures["tsne.png"].axes[0].collections) == 120
    assert saved_figures["scores.png"].axes[0].get_title() == "autoencoder scores of 300 images"
    codes = det.encode(images[:50])
    assert (
        tsne_plot(codes, seed=3, max_points=30)
        .axes[0]
        .get_title()
        .startswith("t-SNE of 30 of 50 rows (random sample, seed 3)")
    )
    assert tsne_plot(codes).axes[0].get_title().startswith("t-SNE of all 50 rows")


def test_image_grid_title_says_what_it_draws(real_mnist_dir):
    """Image grids (augment --grid) had no title: by default it says how many images of which
    labels; a caller's title replaces it, and "" leaves none."""
    images, labels = synthkit.load_dataset("mnist:test")
    sevens = images[labels == 7][:20]
    assert image_grid(sevens, np.full(20, 7), per_row=20).get_suptitle() == "20 images labelled 7"
    # a labelled grid draws one row per label: the rest are counted, not drawn
    assert image_grid(sevens, np.full(20, 7)).get_suptitle() == "20 images labelled 7; 10 shown"
    fig = image_grid(images[:200], labels[:200], per_row=5)
    assert fig.get_suptitle() == ("200 images, 10 labels (7, 2, 1, ..., 8), a row each; 50 shown")
    assert image_grid(images[:30]).get_suptitle() == "30 images"
    assert image_grid(images[:30], title="class 3 samples").get_suptitle() == "class 3 samples"
    assert image_grid(images[:30], title="").get_suptitle() == ""


def test_a_killed_plot_run_leaves_no_half_drawn_folder_and_the_next_run_cleans_up(tmp_path):
    """Issue 32, item 4: SIGKILL while --plot draws left a partial plot folder; a new folder is now
    drawn into a temporary one renamed at the end, which the next run removes if a kill left it."""
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    import synthkit

    table = tmp_path / "transactions.csv"
    synthkit.load_dataset("transactions").iloc[:2000].to_csv(table, index=False)
    plots, flag = tmp_path / "plots", tmp_path / "drawing"
    paused = textwrap.dedent(
        f"""
        import pathlib, time
        import synthkit.io._writing as writing
        real = writing.save_figure
        def slow(fig, path):
            real(fig, path)
            pathlib.Path({str(flag)!r}).touch()
            time.sleep(60)
        writing.save_figure = slow
        from synthkit.cli import main
        main(["detect", {str(table)!r}, "--plot", {str(plots)!r}])
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", paused], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not flag.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert flag.exists(), proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not plots.exists()  # one figure was drawn, but only into the hidden temporary
    assert list(tmp_path.glob(".plots.*.part"))
    rerun = subprocess.run(
        [sys.executable, "-m", "synthkit", "detect", str(table), "--plot", str(plots)],
        capture_output=True,
        text=True,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert (plots / "scores.png").exists() and not list(tmp_path.glob(".plots.*"))
