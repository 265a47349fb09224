"""ECOD (Li et al. 2022): outliers sit in the tails of the columns' empirical distributions; parameter-free."""

from __future__ import annotations

import warnings

import numpy as np

from synthkit.base import BaseDetector


class ECODDetector(BaseDetector):
    """Score = the sum over columns of each value's tail surprise, -log of its empirical tail
    probability, as PyOD's ``ECOD`` sums it.

    Per column, the left tail is P(X <= x) and the right tail P(X >= x) over the training rows,
    smoothed as (count + 1) / (n + 1) so that values beyond the training range stay finite and
    score above every training value. A column's surprise is the larger of its two tails' (both
    added for a column without skew). ``seed`` is accepted for a
    uniform interface; nothing is random.
    """

    def __init__(self, contamination: float = 0.1, seed: int | None = 0, missing: str = "model"):
        self.contamination = contamination
        self.seed = seed
        self.missing = missing

    def _fit(self, X: np.ndarray) -> None:
        from scipy.stats import skew

        X = X.reshape(len(X), -1).astype(np.float64)
        self.sorted_columns_ = np.sort(X, axis=0)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # a constant column (an image's always-white pixel) has no skew: scipy gives nan, and
            # warns of precision loss on the user's stderr
            warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
            self.skew_sign_ = np.sign(np.nan_to_num(skew(X, axis=0))).astype(np.int64)

    def _column_surprise(self, X: np.ndarray) -> np.ndarray:
        X = X.reshape(len(X), -1).astype(np.float64)
        n = len(self.sorted_columns_)
        left = np.empty_like(X)
        right = np.empty_like(X)
        for j in range(X.shape[1]):
            column = self.sorted_columns_[:, j]
            left[:, j] = np.searchsorted(column, X[:, j], side="right")
            right[:, j] = n - np.searchsorted(column, X[:, j], side="left")
        left = -np.log((left + 1.0) / (n + 1.0))
        right = -np.log((right + 1.0) / (n + 1.0))
        both = np.maximum(left, right)
        return np.where(self.skew_sign_ == 0, left + right, both)

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._column_surprise(X).sum(axis=1)

    def _explain_features(self, X: np.ndarray) -> np.ndarray:
        """Each feature's tail surprise: the score is their sum (see ``synthkit.base._explaining``)."""
        return self._column_surprise(X)
