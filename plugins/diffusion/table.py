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


def table_layout(columns: list[dict]) -> list[tuple[str, int, int]]:
    """Per adapter column: (kind, start, width) in the encoded feature vector."""
    layout, start = [], 0
    for col in columns:
        width = len(col["levels"]) if col["kind"] == "categorical" else 1
        layout.append((col["kind"], start, width))
        start += width
    return layout


def fit_quantiles(X: np.ndarray, layout: list) -> np.ndarray:
    """The empirical quantiles of each numeric column, one row of ``N_QUANTILES`` per column."""
    numeric = [s for kind, s, _ in layout if kind == "numeric"]
    probs = np.linspace(0.0, 1.0, N_QUANTILES)
    if not numeric:
        return np.zeros((0, N_QUANTILES))
    return np.quantile(X[:, numeric], probs, axis=0).T.astype(np.float64)


def to_quantile_space(X: np.ndarray, layout: list, rng: np.random.Generator) -> np.ndarray:
    """Encoded rows as the diffusion sees them: numerics as normal scores of their ranks (ties
    broken at random), booleans and one-hot codes as -1/+1."""
    from scipy.special import ndtri

    out = np.empty_like(X, dtype=np.float32)
    n = len(X)
    for kind, s, w in layout:
        if kind == "numeric":
            ranks = np.lexsort((rng.random(n), X[:, s])).argsort()
            out[:, s] = ndtri((ranks + 0.5) / n)
        else:
            out[:, s:s + w] = X[:, s:s + w] * 2.0 - 1.0
    return out


def from_quantile_space(Z: np.ndarray, layout: list, quantiles: np.ndarray) -> np.ndarray:
    """Generated rows back in the adapter's encoding: normal scores through the fitted quantiles,
    booleans at 0/1, one-hot codes in [0, 1] (the adapter picks each category's level)."""
    from scipy.special import ndtr

    out = np.empty_like(Z, dtype=np.float32)
    probs = np.linspace(0.0, 1.0, N_QUANTILES)
    q = 0
    for kind, s, w in layout:
        if kind == "numeric":
            out[:, s] = np.interp(ndtr(Z[:, s]), probs, quantiles[q])
            q += 1
        elif kind == "bool":
            out[:, s] = (Z[:, s] > 0).astype(np.float32)
        else:
            out[:, s:s + w] = (Z[:, s:s + w] + 1.0) / 2.0
    return out


def class_weights(codes: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Training-by-sampling: each row's chance to be drawn, proportional to count^-1/2 of its class,
    so that rare classes are drawn more often; None without at least two classes."""
    if n_classes <= 1:
        return None
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    w = counts[codes] ** -0.5
    return w / w.sum()


def build_denoiser(n_features: int, n_classes: int, widths: tuple):
    """The residual MLP that predicts v on rows of the quantile space (``widths``: ``(width,)``)."""
    from synthkit_plugins.diffusion import networks

    return networks.build_mlp(n_features, n_classes, width=widths[0])
