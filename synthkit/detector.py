"""BaseDetector: the scikit-learn / PyOD detector contract that every detector plugin subclasses.

A plugin implements two methods on validated, adapted arrays (see ``synthkit.adapters``):

- ``_fit(self, X)``: learn from X (tables: 2-D float32, already encoded; images: 4-D float32
  (n, h, w, c) in [0, 1]);
- ``_score(self, X)``: return one anomaly score per row, higher = more anomalous.

Its ``__init__`` only stores hyper-parameters (``contamination`` among them), as in scikit-learn.
The base class gives the rest: validation and adaptation, ``fit``, ``decision_function``,
``threshold_`` from ``contamination``, ``predict`` (0/1), ``decision_scores_``, ``labels_``,
``get_params``/``set_params`` (``sklearn.base.clone`` and ``Pipeline`` work) and ``save``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin

from synthkit.adapters import make_adapter
from synthkit.errors import DataError, NotFittedError, PluginError

DEFAULT_CONTAMINATION = 0.1


class BaseDetector(OutlierMixin, BaseEstimator):
    """Subclass me: implement ``_fit(X)`` and ``_score(X)``; users call ``fit`` and ``predict``."""

    def __init__(self, contamination: float = DEFAULT_CONTAMINATION):
        self.contamination = contamination

    # -- what plugins implement ----------------------------------------------------------------
    def _fit(self, X: np.ndarray) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _fit(X)")

    def _score(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement _score(X)")

    def _score_training(self, X: np.ndarray) -> np.ndarray:
        """Scores of the rows just fitted (``decision_scores_``); by default ``_score(X)``.

        Override where a training row would otherwise count as its own neighbour (k-NN, LOF).
        """
        return self._score(X)

    # -- the public contract -------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit on X (a DataFrame, a 2-D array or images); y is ignored (unsupervised)."""
        contamination = self._contamination()
        adapter = make_adapter(X, missing=getattr(self, "missing", "error"))
        adapter.fit(X)
        Xa, _ = adapter.transform(X)
        if len(Xa) == 0:
            raise DataError("no rows left to fit on")
        self.adapter_ = adapter
        self.n_features_in_ = int(np.prod(Xa.shape[1:]))
        self.n_rows_affected_ = int(adapter.n_affected)
        self._fit(Xa)
        scores = self._checked_scores(self._score_training(Xa), len(Xa))
        self.decision_scores_ = scores
        self.threshold_ = float(np.quantile(scores, 1.0 - contamination))
        self.labels_ = (scores > self.threshold_).astype(int)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Anomaly scores, higher = more anomalous; NaN for rows dropped by ``missing='drop'``."""
        Xa, kept = self._adapt(X)
        scores = np.full(len(kept), np.nan)
        if len(Xa):
            scores[kept] = self._checked_scores(self._score(Xa), len(Xa))
        return scores

    def predict(self, X) -> np.ndarray:
        """0 for inliers and 1 for outliers, by ``threshold_`` (rows without a score are 0)."""
        scores = self.decision_function(X)
        return np.where(np.isnan(scores), 0, scores > self.threshold_).astype(int)

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X).labels_

    def score_samples(self, X) -> np.ndarray:
        """scikit-learn's convention (higher = more normal): the negated decision function."""
        return -self.decision_function(X)

    def save(self, path) -> None:
        """Write a model directory: a JSON manifest and the fitted state in non-executable files."""
        from synthkit.modeldir import save_model

        save_model(self, path)

    # -- helpers for plugins -------------------------------------------------------------------
    def _adapt(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Validate X against the fitted schema; return (adapted array, mask of rows kept)."""
        if not hasattr(self, "adapter_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")
        return self.adapter_.transform(X)

    def _contamination(self) -> float:
        c = getattr(self, "contamination", DEFAULT_CONTAMINATION)
        if isinstance(c, bool) or not isinstance(c, (int, float, np.floating)) or not 0.0 < float(c) <= 0.5:
            raise PluginError(f"contamination must be a number in (0, 0.5], got {c!r}")
        return float(c)

    def _checked_scores(self, scores, n: int) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.shape != (n,):
            raise RuntimeError(f"{type(self).__name__}._score returned {scores.shape[0]} scores for {n} rows")
        if not np.isfinite(scores).all():
            raise DataError(f"{type(self).__name__} produced non-finite scores; the input may hold extreme values")
        return scores

    def _get_state(self) -> dict:
        """Fitted state to save: by default every public trailing-underscore attribute."""
        return fitted_attributes(self)

    def _set_state(self, state: dict) -> None:
        """Restore what ``_get_state`` returned (after ``adapter_`` is set)."""
        for k, v in state.items():
            setattr(self, k, v)


def fitted_attributes(model) -> dict:
    """A model's public trailing-underscore attributes (scikit-learn's fitted state), less the adapter."""
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_") and k != "adapter_"}
