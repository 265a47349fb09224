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
