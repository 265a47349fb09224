"""k-nearest-neighbour distance (Ramaswamy et al. 2000; Angiulli and Pizzuti 2002): far from the data = outlier."""

from __future__ import annotations

import numpy as np

from synthkit.base import BaseDetector
from synthkit.parameters import Interval, Options
from synthkit_plugins.classic.neighbours import neighbour_distances

METHODS = ("largest", "mean", "median")


class KNNDetector(BaseDetector):
    """Score = distance to the ``n_neighbors``-th nearest training row (``method="largest"``, PyOD's
    default), or the mean or median distance to the ``n_neighbors`` nearest.

    The training rows are kept as the reference; a training row's own entry is left out of its
    ``decision_scores_``, as in PyOD. ``seed`` is accepted for a uniform interface; the search is
    exact and deterministic. ``explain`` uses the base's ablation (``synthkit.base._explaining``): how far
    the distance falls when one column is made typical, since its neighbours then change.
    """

    _parameter_constraints = {"n_neighbors": [Interval(int, 1, None)], "method": [Options(METHODS)]}

    def __init__(
        self,
        n_neighbors: int = 5,
        method: str = "largest",
        contamination: float = 0.1,
        seed: int | None = 0,
        missing: str = "model",
    ):
        self.n_neighbors = n_neighbors
        self.method = method
        self.contamination = contamination
        self.seed = seed
        self.missing = missing

    def _fit(self, X: np.ndarray) -> None:
        self.reference_ = X.reshape(len(X), -1).astype(np.float32)

    def _combine(self, distances: np.ndarray) -> np.ndarray:
        if self.method == "largest":
            return distances[:, -1]
        return getattr(np, self.method)(distances, axis=1)

    def _score(self, X: np.ndarray) -> np.ndarray:
        distances, _ = neighbour_distances(
            self.reference_, X.reshape(len(X), -1), int(self.n_neighbors), False
        )
        return self._combine(distances)

    def _score_training(self, X: np.ndarray) -> np.ndarray:
        if len(self.reference_) < 2:
            return np.zeros(len(X))
        distances, _ = neighbour_distances(
            self.reference_, self.reference_, int(self.n_neighbors), True
        )
        return self._combine(distances)
