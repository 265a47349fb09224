"""Plots (matplotlib, Agg backend): sample grids and detection diagnostics, saved as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_grid(images, labels=None, per_row: int = 10, title: str | None = None):
    """A grid of images; with labels, one row per class (up to ``per_row`` images each)."""
    plt = _pyplot()
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if labels is not None:
        labels = np.asarray(labels)
        classes = list(dict.fromkeys(labels.tolist()))
        rows = [(str(c), np.flatnonzero(labels == c)[:per_row]) for c in classes]
    else:
        idx = np.arange(min(len(images), per_row * 10))
        rows = [("", idx[i:i + per_row]) for i in range(0, len(idx), per_row)]
    fig, axes = plt.subplots(len(rows), per_row, figsize=(per_row * 0.9, len(rows) * 0.9 + 0.3), squeeze=False)
    for r, (name, idx) in enumerate(rows):
        for c in range(per_row):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(idx):
                ax.imshow(images[idx[c]], cmap="gray" if images.ndim == 3 else None)
        if name:
            axes[r, 0].set_title(name, fontsize=8, loc="left")
    if title:
        fig.suptitle(title)
    return fig


def score_histogram(scores, threshold: float, truth=None):
    """Histogram of anomaly scores with the threshold marked (split by known label if given)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    scores = np.asarray(scores, dtype=float)
    bins = np.histogram_bin_edges(scores[np.isfinite(scores)], bins=50)
    if truth is not None:
        truth = np.asarray(truth).astype(int)
        ax.hist(scores[truth == 0], bins=bins, alpha=0.6, label="normal")
        ax.hist(scores[truth == 1], bins=bins, alpha=0.6, label="anomaly")
        ax.legend()
    else:
        ax.hist(scores, bins=bins)
    ax.axvline(threshold, color="red", linestyle="--", label="threshold")
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("count")
    ax.set_yscale("log")
    return fig


def detection_plots(result, data, folder) -> list[str]:
    """Write the diagnostic plots of a detect run to ``folder``; return the file names."""
    from synthkit.io import save_figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = result.frame
    truth = None
    written = []
    fig = score_histogram(frame["anomaly_score"].to_numpy(), result.detector.threshold_, truth)
    save_figure(fig, folder / "scores.png")
    written.append(str(folder / "scores.png"))
    _pyplot().close("all")
    return written
