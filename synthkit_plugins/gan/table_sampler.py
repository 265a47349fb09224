"""The table GAN's conditions: CTGAN's conditional vector and training-by-sampling (``CondSampler``).

- Conditional vector: one discrete column (a category or boolean) picked at random, with one of
  its levels; a class label (the user's label column), when given, is a second, always-present
  one-hot condition.
- Training-by-sampling: the label and the level are drawn with probability proportional to the
  log of their frequency, and a real row with them is drawn to match, so rare categories and the
  rare label are seen often during training. Sampling draws levels at their real frequency
  within the label asked for.

Plain numpy: TensorFlow is not needed here.
"""

from __future__ import annotations

import numpy as np


class CondSampler:
    """Training-by-sampling of (label, discrete column, level) and of real rows that match them."""

    def __init__(self, levels: np.ndarray, codes: np.ndarray, ks: list[int], n_classes: int):
        self.levels, self.codes, self.ks, self.n_classes = levels, codes, ks, max(n_classes, 1)
        n_disc = len(ks)
        self.counts = np.zeros((self.n_classes, n_disc, max(ks, default=1)))
        self.rows = {}
        for label in range(self.n_classes):
            in_label = codes == label
            for j, k in enumerate(ks):
                for v in range(k):
                    idx = np.flatnonzero(in_label & (levels[:, j] == v))
                    self.counts[label, j, v] = len(idx)
                    if len(idx):
                        self.rows[(label, j, v)] = idx
        self.label_rows = [np.flatnonzero(codes == label) for label in range(self.n_classes)]
        label_counts = np.array([len(r) for r in self.label_rows], dtype=np.float64)
        self.train_label_p = np.log1p(label_counts) / np.log1p(label_counts).sum()
        self.label_freq = label_counts / label_counts.sum()

    @staticmethod
    def problem(levels: np.ndarray, codes: np.ndarray, ks: list[int], n_classes: int) -> str | None:
        """What makes these training rows' levels and labels unusable for a sampler over ``ks``
        levels and ``n_classes`` labels (a model directory edited by hand), or None: one label
        (0 .. n_classes - 1) per row, each label on some row, and one level (0 .. k - 1) per row
        and discrete column."""
        levels, codes = np.asarray(levels), np.asarray(codes)
        if codes.ndim != 1 or not len(codes) or codes.dtype.kind not in "iu":
            return "codes must be one integer label per training row"
        if not np.array_equal(np.unique(codes), np.arange(max(n_classes, 1))):
            return f"codes must use each of the {max(n_classes, 1)} labels, and only those"
        if levels.shape != (len(codes), len(ks)) or levels.dtype.kind not in "iu":
            return f"levels must be one integer level per training row and discrete column, {len(ks)} columns"
        if len(ks) and ((levels < 0).any() or (levels >= np.asarray(ks)).any()):
            return "levels must lie between 0 and each column's number of levels"
        return None

    def conditions(self, n: int, rng, labels=None, log_frequency: bool = True):
        """(labels, column, level) arrays; labels drawn by log-frequency unless given."""
        if labels is None:
            labels = rng.choice(
                self.n_classes, n, p=self.train_label_p if log_frequency else self.label_freq
            )
        if not self.ks:
            return labels, np.zeros(n, np.int64), np.zeros(n, np.int64)
        cols = rng.integers(0, len(self.ks), n)
        weights = np.log1p(self.counts) if log_frequency else self.counts.copy()
        p = weights[labels, cols]
        p = p / p.sum(axis=1, keepdims=True)
        levels = (p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
        levels = np.minimum(levels, np.array(self.ks)[cols] - 1)
        return labels, cols, levels

    def real_rows(self, labels, cols, levels, rng) -> np.ndarray:
        """One training row per condition, drawn among the rows that have its label and level."""
        out = np.empty(len(labels), np.int64)
        if not self.ks:
            for label in np.unique(labels):
                where = np.flatnonzero(labels == label)
                out[where] = rng.choice(self.label_rows[label], len(where))
            return out
        keys = labels * 1_000_000 + cols * 1000 + levels
        for key in np.unique(keys):
            where = np.flatnonzero(keys == key)
            label, j, v = int(key // 1_000_000), int(key // 1000 % 1000), int(key % 1000)
            out[where] = rng.choice(self.rows[(label, j, v)], len(where))
        return out

    def cond_matrix(
        self, cols, levels, n_classes: int, labels, offsets: list[int], cond_dim: int
    ) -> np.ndarray:
        """The condition vectors: the one-hot of each row's (column, level), then of its label."""
        C = np.zeros((len(cols), cond_dim + n_classes), np.float32)
        if self.ks:
            C[np.arange(len(cols)), np.asarray(offsets)[cols] + levels] = 1.0
        if n_classes:
            C[np.arange(len(cols)), cond_dim + labels] = 1.0
        return C


def level_offsets(ks: list[int]) -> list[int]:
    """Where each discrete column's levels start in the condition vector."""
    return [int(v) for v in np.cumsum([0] + ks[:-1])] if ks else []
