"""K-Means as a detector and a segmenter: scores are distances to the nearest centroid."""

from __future__ import annotations

import numpy as np

from synthkit.detector import BaseDetector
from synthkit.errors import PluginError

MINIBATCH_ROWS = 50_000


class KMeansDetector(BaseDetector):
    """K-Means clustering; anomaly score = Euclidean distance to the nearest centroid.

    Distances are measured in the adapted feature space (tables standardised and one-hot encoded,
    images scaled to [0, 1] and flattened), divided by the square root of the number of features so
    that scores are comparable across data of different widths. ``segment(X)`` gives cluster ids.
    Inputs of more than 50,000 rows use MiniBatchKMeans (``algorithm="auto"``), or pick
    ``algorithm="full"`` or ``"minibatch"``.
    """

    def __init__(self, n_clusters: int = 8, contamination: float = 0.1, algorithm: str = "auto",
                 n_init: int = 3, max_iter: int = 300, batch_size: int = 4096, seed: int | None = 0,
                 missing: str = "error"):
        self.n_clusters = n_clusters
        self.contamination = contamination
        self.algorithm = algorithm
        self.n_init = n_init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.seed = seed
        self.missing = missing

    def _fit(self, X: np.ndarray) -> None:
        from sklearn.cluster import KMeans, MiniBatchKMeans

        if self.algorithm not in ("auto", "full", "minibatch"):
            raise PluginError(f"algorithm must be auto, full or minibatch, got {self.algorithm!r}")
        if isinstance(self.n_clusters, bool) or not isinstance(self.n_clusters, (int, np.integer)) or self.n_clusters < 1:
            raise PluginError(f"n_clusters must be a positive integer, got {self.n_clusters!r}")
        X = X.reshape(len(X), -1)
        k = min(int(self.n_clusters), len(np.unique(X, axis=0)) if len(X) <= 10_000 else len(X))
        use_minibatch = self.algorithm == "minibatch" or (self.algorithm == "auto" and len(X) > MINIBATCH_ROWS)
        if use_minibatch:
            model = MiniBatchKMeans(n_clusters=k, batch_size=self.batch_size, n_init=self.n_init,
                                    max_iter=self.max_iter, random_state=self.seed)
        else:
            model = KMeans(n_clusters=k, n_init=self.n_init, max_iter=self.max_iter, random_state=self.seed)
        model.fit(X)
        self.cluster_centers_ = model.cluster_centers_.astype(np.float32)

    def _distances(self, X: np.ndarray) -> np.ndarray:
        X = X.reshape(len(X), -1).astype(np.float32)
        c = self.cluster_centers_
        d2 = (X * X).sum(1)[:, None] - 2.0 * X @ c.T + (c * c).sum(1)[None, :]
        return np.sqrt(np.maximum(d2, 0.0))

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._distances(X).min(axis=1) / np.sqrt(max(X[0].size, 1))

    def segment(self, X) -> np.ndarray:
        """The cluster id of each row (rows dropped for missing values get -1)."""
        Xa, kept = self._adapt(X)
        out = np.full(len(kept), -1, dtype=int)
        if len(Xa):
            out[kept] = self._distances(Xa).argmin(axis=1)
        return out
