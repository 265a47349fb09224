"""The table half of the diffusion plugin (after TabDDPM): the quantile space and its network.

Numeric columns are mapped to normal scores through their empirical quantiles; booleans and the
one-hot codes of categorical columns become -1/+1 (Gaussian diffusion on one-hot codes); a
residual MLP learns the reverse process, conditional on the label column, with rare classes
over-sampled during training. Generated rows are mapped back, and the table adapter restores the
columns, dtypes, category levels and ranges.
"""

from __future__ import annotations

import numpy as np

N_QUANTILES = 1001
MIN_CLASS_ROWS = 20  # a class with fewer rows maps its numbers through the whole table's quantiles


def table_layout(columns: list[dict]) -> list[tuple[str, int, int]]:
    """Per adapter column: (kind, start, width) in the encoded feature vector."""
    layout, start = [], 0
    for col in columns:
        width = len(col["levels"]) if col["kind"] == "categorical" else 1
        layout.append((col["kind"], start, width))
        start += width
    return layout


def fit_quantiles(X: np.ndarray, layout: list, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """The empirical quantiles of each numeric column: ``(n_groups, numeric columns, N_QUANTILES)``,
    group 0 over all rows, group g > 0 over the rows of that group (``row_groups``); a group
    without rows keeps group 0's."""
    numeric = [s for kind, s, _ in layout if kind == "numeric"]
    probs = np.linspace(0.0, 1.0, N_QUANTILES)
    out = np.zeros((int(n_groups), len(numeric), N_QUANTILES))
    if not numeric:
        return out
    out[:] = np.quantile(X[:, numeric], probs, axis=0).T
    for g in range(1, int(n_groups)):
        rows = groups == g
        if rows.any():
            out[g] = np.quantile(X[rows][:, numeric], probs, axis=0).T
    return out


def class_groups(codes: np.ndarray, n_classes: int, per_class: bool) -> np.ndarray:
    """Each class's quantile group: its code + 1 with ``per_class`` (its own quantiles), or 0 (the
    whole table's) without it and for a class of fewer than ``MIN_CLASS_ROWS`` rows."""
    if not per_class or not n_classes:
        return np.zeros(int(n_classes), np.int64)
    counts = np.bincount(np.asarray(codes), minlength=n_classes)[:n_classes]
    return np.where(counts >= MIN_CLASS_ROWS, np.arange(1, n_classes + 1), 0).astype(np.int64)


def row_groups(codes: np.ndarray, groups_of_class: np.ndarray) -> np.ndarray:
    """Each row's quantile group from its class code; the "no label" code (``n_classes``) is group 0."""
    return np.append(np.asarray(groups_of_class, np.int64), 0)[np.asarray(codes)]


def to_quantile_space(
    X: np.ndarray, layout: list, rng: np.random.Generator, groups: np.ndarray | None = None
) -> np.ndarray:
    """Encoded rows as the diffusion sees them: numerics as normal scores of their ranks within
    their quantile group (ties broken at random), booleans and one-hot codes as -1/+1."""
    from scipy.special import ndtri

    groups = np.zeros(len(X), np.int64) if groups is None else np.asarray(groups)
    out = np.empty_like(X, dtype=np.float32)
    members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    for kind, s, w in layout:
        if kind == "numeric":
            for rows in members:
                m = len(rows)
                ranks = np.lexsort((rng.random(m), X[rows, s])).argsort()
                out[rows, s] = ndtri((ranks + 0.5) / m)
        else:
            out[:, s : s + w] = X[:, s : s + w] * 2.0 - 1.0
    return out


def from_quantile_space(
    Z: np.ndarray, layout: list, quantiles: np.ndarray, groups: np.ndarray | None = None
) -> np.ndarray:
    """Generated rows back in the adapter's encoding: normal scores through their group's fitted
    quantiles, booleans at 0/1, one-hot codes in [0, 1] (the adapter picks each category's level)."""
    from scipy.special import ndtr

    quantiles = quantiles[None] if quantiles.ndim == 2 else quantiles  # models saved with one group
    groups = np.zeros(len(Z), np.int64) if groups is None else np.asarray(groups)
    out = np.empty_like(Z, dtype=np.float32)
    probs = np.linspace(0.0, 1.0, N_QUANTILES)
    q = 0
    for kind, s, w in layout:
        if kind == "numeric":
            for g in np.unique(groups):
                rows = groups == g
                out[rows, s] = np.interp(ndtr(Z[rows, s]), probs, quantiles[g, q])
            q += 1
        elif kind == "bool":
            out[:, s] = (Z[:, s] > 0).astype(np.float32)
        else:
            out[:, s : s + w] = (Z[:, s : s + w] + 1.0) / 2.0
    return out


def class_weights(codes: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Training-by-sampling: each row's chance to be drawn, inversely proportional to the rows of
    its class, so that every class is drawn as often: a small class (what augment samples) gets as
    many batches' worth of rows as the large one; None without at least two classes."""
    if n_classes <= 1:
        return None
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    w = 1.0 / counts[codes]
    return w / w.sum()


def build_denoiser(n_features: int, n_classes: int, widths: tuple):
    """The residual MLP that predicts v on rows of the quantile space (``widths``: ``(width,)``)."""
    from synthkit_plugins.diffusion import networks

    return networks.build_mlp(n_features, n_classes, width=widths[0])
