"""Plots: each diagnostic is written as a PNG, for images and tables, from detect results."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthkit.api import run_detect
from synthkit.io import Data
from synthkit.plots import cluster_representatives, detection_plots, most_anomalous, tsne_plot


def _png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def _images(n=60, seed=0):
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 10, 10), np.uint8)
    labels = rng.integers(0, 3, n)
    for i, c in enumerate(labels):
        out[i, 2 + 3 * c:4 + 3 * c, 1:-1] = 255
    return out, labels


def test_image_detection_plots_autoencoder(tmp_path):
    images, labels = _images()
    data = Data("toy", images=images, labels=labels)
    result = run_detect(data, plugin="autoencoder", epochs=2, seed=0)
    written = detection_plots(result, data, tmp_path / "plots")
    names = sorted(p.rsplit("/", 1)[-1] for p in written)
    assert names == ["most_anomalous.png", "scores.png", "tsne.png"]
    assert all(_png(p) for p in written)


def test_image_detection_plots_kmeans_clusters(tmp_path):
    images, labels = _images()
    data = Data("toy", images=images, labels=labels)
    result = run_detect(data, plugin="kmeans", n_clusters=3, seed=0)
    written = detection_plots(result, data, tmp_path)
    assert any(p.endswith("clusters.png") for p in written) and all(_png(p) for p in written)


def test_table_detection_plots(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=80), "y": rng.normal(size=80),
                          "cat": rng.choice(["a", "b"], 80), "label": (rng.random(80) < 0.1).astype(int)})
    data = Data("toy", frame=frame, label_column="label")
    result = run_detect(data, plugin="kmeans", n_clusters=2, seed=0)
    written = detection_plots(result, data, tmp_path)
    assert sorted(p.rsplit("/", 1)[-1] for p in written) == ["clusters.png", "most_anomalous.png", "scores.png"]
    assert all(_png(p) for p in written)


def test_plot_functions_return_figures():
    images, labels = _images(30)
    rng = np.random.default_rng(1)
    assert tsne_plot(rng.normal(size=(30, 4)), labels) is not None
    assert cluster_representatives(images, rng.random((30, 3))) is not None
    assert most_anomalous(rng.random(30), images=images) is not None
    assert most_anomalous(rng.random(5), frame=pd.DataFrame({"a": range(5)})) is not None
