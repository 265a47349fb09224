"""Local Outlier Factor (Breunig et al. 2000): density of a row's neighbourhood against its neighbours' own."""

from __future__ import annotations

import numpy as np

from synthkit.base import BaseDetector
from synthkit.parameters import Interval
from synthkit_plugins.classic.neighbours import neighbour_distances

EPS = 1e-10  # as in scikit-learn: keeps the density of duplicated rows finite


class LOFDetector(BaseDetector):
    """Score = LOF, the mean local reachability density of a row's ``n_neighbors`` nearest training
    rows divided by its own (about 1 inside the data, larger for outliers), as scikit-learn's
    ``LocalOutlierFactor(novelty=True)`` computes it; training rows leave themselves out.
    ``seed`` is accepted for a uniform interface; the search is exact and deterministic.
    ``explain`` uses the base's ablation (``synthkit.base._explaining``): a density ratio does not split
    over the columns.
    """

    _parameter_constraints = {"n_neighbors": [Interval(int, 1, None)]}

    def __init__(
        self,
        n_neighbors: int = 20,
        contamination: float = 0.1,
        seed: int | None = 0,
        missing: str = "model",
    ):
        self.n_neighbors = n_neighbors
        self.contamination = contamination
        self.seed = seed
        self.missing = missing

    def _fit(self, X: np.ndarray) -> None:
        self.reference_ = X.reshape(len(X), -1).astype(np.float32)
        if len(self.reference_) < 2:
            self.k_distance_ = np.zeros(len(self.reference_))
            self.density_ = np.ones(len(self.reference_))
            return
        distances, indices = neighbour_distances(
            self.reference_, self.reference_, int(self.n_neighbors), True
        )
        self.k_distance_ = distances[:, -1].astype(np.float64)
        self.density_ = self._density(distances, indices)

    def _density(self, distances: np.ndarray, indices: np.ndarray) -> np.ndarray:
        reach = np.maximum(distances, self.k_distance_[indices])
        return 1.0 / (reach.mean(axis=1) + EPS)

    def _lof(self, distances: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.density_[indices].mean(axis=1) / self._density(distances, indices)

    def _score(self, X: np.ndarray) -> np.ndarray:
        if len(self.reference_) < 2:
            return np.ones(len(X))
        distances, indices = neighbour_distances(
            self.reference_, X.reshape(len(X), -1), int(self.n_neighbors), False
        )
        return self._lof(distances, indices)

    def _score_training(self, X: np.ndarray) -> np.ndarray:
        if len(self.reference_) < 2:
            return np.ones(len(X))
        distances, indices = neighbour_distances(
            self.reference_, self.reference_, int(self.n_neighbors), True
        )
        return self._lof(distances, indices)
