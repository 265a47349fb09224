"""Exact nearest-neighbour distances to the training rows, shared by ``knn`` and ``lof``."""

from __future__ import annotations

import numpy as np


def neighbour_distances(reference: np.ndarray, X: np.ndarray, k: int, exclude_self: bool):
    """Distances and indices of each row's k nearest reference rows, nearest first.

    ``exclude_self`` (X is the reference itself) drops each row's own entry, as PyOD does for its
    training scores, so that a training row is not its own nearest neighbour.
    """
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(reference) - (1 if exclude_self else 0))
    index = NearestNeighbors(n_neighbors=k + (1 if exclude_self else 0)).fit(reference)
    distances, indices = index.kneighbors(X)
    if exclude_self:
        # a row's own entry is the one at distance zero with its own index; duplicates may come first
        own = indices == np.arange(len(X))[:, None]
        drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
        keep = np.ones_like(own)
        keep[np.arange(len(X)), drop] = False
        distances = distances[keep].reshape(len(X), k)
        indices = indices[keep].reshape(len(X), k)
    return distances, indices
