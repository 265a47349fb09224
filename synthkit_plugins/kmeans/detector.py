"""K-Means as a detector and a segmenter: scores are distances to the nearest centroid."""

from __future__ import annotations

import numpy as np

from synthkit.base import bad_state
from synthkit.base import BaseDetector
from synthkit.parameters import SEED_MAX, Interval, Options

MINIBATCH_ROWS = 50_000
SMALL_CLUSTER_SHARE = 0.25  # a cluster holding under a quarter of the average share is "small"
FEATURES = ("raw", "autoencoder")
ALGORITHMS = ("auto", "full", "minibatch")
AE_PREFIX = "autoencoder__"


class KMeansDetector(BaseDetector):
    """K-Means clustering; anomaly score = Euclidean distance to the nearest centroid.

    Small clusters (holding less than a quarter of the average cluster's share of the training
    rows) are taken as groups of anomalies, as in CBLOF: every row is scored by its distance to the
    nearest *large* centroid, so a tight group of outliers cannot hide in a cluster of its own.
    ``segment`` still reports the nearest centroid of any size.

    Distances are measured in the adapted feature space (tables standardised and one-hot encoded,
    images scaled to [0, 1] and flattened), divided by the square root of the number of features so
    that scores are comparable across data of different widths. ``segment(X)`` gives cluster ids.
    Inputs of more than 50,000 rows use MiniBatchKMeans (``algorithm="auto"``), or pick
    ``algorithm="full"`` or ``"minibatch"``. ``n_iter_`` holds the iterations K-Means ran (of the
    best of its ``n_init`` runs).

    ``features="autoencoder"`` clusters learned features instead of the raw ones: an autoencoder
    (the ``autoencoder`` plugin, ``kind="auto"``: convolutional for images, dense for tables; one
    network, not an ensemble, with ``ae_epochs`` epochs and a ``ae_latent_dim`` bottleneck, same
    ``seed``) is fitted first, and
    K-Means runs on its bottleneck codes (``encode``); distances are then measured between codes.
    The autoencoder is saved with the model. ``features="raw"`` (the default) clusters the adapted
    inputs.
    """

    _parameter_constraints = {  # "auto" for n_init and ae_epochs as scikit-learn's KMeans and the autoencoder take it
        "features": [Options(FEATURES)],
        "algorithm": [Options(ALGORITHMS)],
        "n_clusters": [Interval(int, 1, None)],
        "n_init": [Interval(int, 1, None), Options(("auto",))],
        "max_iter": [Interval(int, 1, None)],
        "batch_size": [Interval(int, 1, None)],
        "ae_epochs": [Interval(int, 1, None), Options(("auto",))],
        "ae_latent_dim": [Interval(int, 1, None), Options(("auto",))],
        "seed": [Interval(int, 0, SEED_MAX), None],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        contamination: float = 0.1,
        algorithm: str = "auto",
        n_init: int | str = 3,
        max_iter: int = 300,
        batch_size: int = 4096,
        seed: int | None = 0,
        missing: str = "model",
        features: str = "raw",
        ae_epochs: int | str = 30,
        ae_latent_dim="auto",
    ):
        self.n_clusters = n_clusters
        self.contamination = contamination
        self.algorithm = algorithm
        self.n_init = n_init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.seed = seed
        self.missing = missing
        self.features = features
        self.ae_epochs = ae_epochs
        self.ae_latent_dim = ae_latent_dim

    def _check_state(self) -> None:
        """Finite centroids, one flag per centroid with at least one large cluster, a count of
        iterations, and the autoencoder features (if any) checked as a loaded autoencoder is."""
        super()._check_state()
        centers = np.asarray(self.cluster_centers_)
        if (
            centers.ndim != 2
            or not len(centers)
            or centers.dtype.kind != "f"
            or not np.isfinite(centers).all()
        ):
            raise bad_state("cluster_centers_", "must be a non-empty 2-D array of finite numbers")
        large = np.asarray(getattr(self, "large_clusters_", np.ones(len(centers), bool)))
        if large.dtype != bool or large.shape != (len(centers),) or not large.any():
            raise bad_state("large_clusters_", "must flag each centroid, at least one as large")
        n_iter = vars(self).get("n_iter_", 0)
        if (
            isinstance(n_iter, (bool, np.bool_))
            or not isinstance(n_iter, (int, np.integer))
            or n_iter < 0
        ):
            raise bad_state("n_iter_", f"must be a count of iterations, got {n_iter!r}")
        if getattr(self, "autoencoder_", None) is not None:
            self.autoencoder_._validate_params(self.adapter_.kind)
            self.autoencoder_._check_state()

    def _fit(self, X: np.ndarray) -> None:
        from sklearn.cluster import KMeans, MiniBatchKMeans

        self.autoencoder_ = None  # raw features (a refit drops an earlier fit's autoencoder)
        if self.features == "autoencoder":
            from synthkit_plugins.autoencoder.detector import AutoencoderDetector

            self.autoencoder_ = AutoencoderDetector(
                kind="auto",
                epochs=self.ae_epochs,
                latent_dim=self.ae_latent_dim,
                scoring="mse",
                n_estimators=1,
                seed=self.seed,
            ).fit(X)
            X = self._features(X)
        X = X.reshape(len(X), -1)
        k = min(int(self.n_clusters), len(np.unique(X, axis=0)) if len(X) <= 10_000 else len(X))
        use_minibatch = self.algorithm == "minibatch" or (
            self.algorithm == "auto" and len(X) > MINIBATCH_ROWS
        )
        if use_minibatch:
            model = MiniBatchKMeans(
                n_clusters=k,
                batch_size=self.batch_size,
                n_init=self.n_init,
                max_iter=self.max_iter,
                random_state=self.seed,
            )
        else:
            model = KMeans(
                n_clusters=k, n_init=self.n_init, max_iter=self.max_iter, random_state=self.seed
            )
        model.fit(X)
        self.cluster_centers_ = model.cluster_centers_.astype(np.float32)
        self.n_iter_ = int(
            model.n_iter_
        )  # iterations of the best run (MiniBatchKMeans: passes over the data)
        counts = np.bincount(model.predict(X), minlength=len(self.cluster_centers_))
        self.large_clusters_ = counts >= SMALL_CLUSTER_SHARE * len(X) / len(self.cluster_centers_)

    def _features(self, X: np.ndarray) -> np.ndarray:
        """The space K-Means works in: the adapted input, or the autoencoder's bottleneck codes."""
        if getattr(self, "autoencoder_", None) is not None:
            return self.autoencoder_.encode(X)
        return X

    def _distances(self, X: np.ndarray) -> np.ndarray:
        X = self._features(X)
        X = X.reshape(len(X), -1).astype(np.float32)
        c = self.cluster_centers_
        d2 = (X * X).sum(1)[:, None] - 2.0 * X @ c.T + (c * c).sum(1)[None, :]
        return np.sqrt(np.maximum(d2, 0.0))

    def _score(self, X: np.ndarray) -> np.ndarray:
        large = np.asarray(
            getattr(self, "large_clusters_", np.ones(len(self.cluster_centers_), bool)), bool
        )
        return self._distances(X)[:, large].min(axis=1) / np.sqrt(
            max(self.cluster_centers_.shape[1], 1)
        )

    def _explain_features(self, X: np.ndarray):
        """Each feature's part of the score: its squared difference from the nearest large centroid,
        divided by the number of features and by the score, so that the parts add up to the score;
        None (the ablation fallback) when clustering autoencoder codes, which have no columns."""
        if getattr(self, "autoencoder_", None) is not None:
            return None
        X = X.reshape(len(X), -1).astype(np.float64)
        large = np.flatnonzero(
            np.asarray(getattr(self, "large_clusters_", np.ones(len(self.cluster_centers_), bool)))
        )
        nearest = large[self._distances(X)[:, large].argmin(axis=1)]
        squared = (X - self.cluster_centers_[nearest].astype(np.float64)) ** 2 / max(X.shape[1], 1)
        score = np.sqrt(squared.sum(axis=1, keepdims=True))
        return squared / np.where(score > 0, score, 1.0)

    def segment(self, X) -> np.ndarray:
        """The cluster id of each row (rows dropped for missing values get -1)."""
        Xa, kept = self._adapt(X)
        out = np.full(len(kept), -1, dtype=int)
        if len(Xa):
            out[kept] = self._distances(Xa).argmin(axis=1)
        return out

    def _get_state(self) -> dict:
        state = {k: v for k, v in super()._get_state().items() if k != "autoencoder_"}
        ae = getattr(self, "autoencoder_", None)
        if ae is not None:
            state.update({AE_PREFIX + k: v for k, v in ae._get_state().items()})
            state[AE_PREFIX + "schema"] = ae.adapter_.to_dict()
            state[AE_PREFIX + "params"] = ae.get_params(deep=False)
        return state

    def _set_state(self, state: dict) -> None:
        ae_state = {k[len(AE_PREFIX) :]: v for k, v in state.items() if k.startswith(AE_PREFIX)}
        super()._set_state({k: v for k, v in state.items() if not k.startswith(AE_PREFIX)})
        self.autoencoder_ = None
        if ae_state:
            from synthkit.adapters import adapter_from_dict
            from synthkit_plugins.autoencoder.detector import AutoencoderDetector

            self.autoencoder_ = AutoencoderDetector(
                **AutoencoderDetector._upgrade_params(ae_state.pop("params"))
            )
            self.autoencoder_._restore_fitted(adapter_from_dict(ae_state.pop("schema")), ae_state)
