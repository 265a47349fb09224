"""Isolation Forest (Liu et al. 2008): rows that random axis-aligned splits isolate quickly are outliers.

Fitted with scikit-learn's ``IsolationForest``; the trees are then kept as plain arrays (split
feature, threshold, children, node sizes), so the model saves without pickle and scores with numpy
as scikit-learn scores it (every tree at once, for a block of rows).
"""

from __future__ import annotations

import numpy as np

from synthkit.base import BaseDetector
from synthkit.errors import DataError
from synthkit.parameters import Interval, Options


def average_path_length(n) -> np.ndarray:
    """The mean depth at which an unsuccessful search in a binary search tree of n items ends."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


SCORE_BLOCK = 2**18  # rows x trees walked at once: about 1 MB per node array


class IsolationForestDetector(BaseDetector):
    """Isolation Forest; score = 2^(-mean path length / c(max_samples)), higher = more anomalous.

    Parameters as scikit-learn's ``IsolationForest``: ``n_estimators`` trees (100), each grown on
    ``max_samples`` rows (``"auto"``: min(256, n)) and ``max_features`` (a share of the columns,
    1.0 = all); ``seed`` makes the forest repeatable. ``contamination`` defaults to ``"auto"``, as
    in scikit-learn: the threshold comes from the training scores (``synthkit.base._thresholds``).
    ``explain`` uses the base's ablation (``synthkit.base._explaining``): a path length does not split
    over the columns.
    """

    _parameter_constraints = {
        "n_estimators": [Interval(int, 1, None)],
        "max_samples": [Interval(int, 1, None), Options(("auto",))],
        "max_features": [Interval(float, 0, 1, closed="right")],
    }

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples="auto",
        max_features: float = 1.0,
        contamination="auto",
        seed: int | None = 0,
        missing: str = "model",
    ):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.contamination = contamination
        self.seed = seed
        self.missing = missing

    def _fit(self, X: np.ndarray) -> None:
        from sklearn.ensemble import IsolationForest

        mf = self.max_features
        X = X.reshape(len(X), -1)
        if len(X) < 2:  # one row cannot be isolated from others: every path length would be 0
            raise DataError(f"isolation forest needs at least 2 rows to fit, got {len(X)} sample")
        max_samples = (
            self.max_samples if self.max_samples == "auto" else min(int(self.max_samples), len(X))
        )
        forest = IsolationForest(
            n_estimators=int(self.n_estimators),
            max_samples=max_samples,
            max_features=float(mf),
            random_state=self.seed,
        ).fit(X)
        trees = [est.tree_ for est in forest.estimators_]
        sizes = [t.node_count for t in trees]
        self.tree_offsets_ = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        # children are stored as indices into the concatenated node arrays; -1 marks a leaf
        self.left_ = np.concatenate(
            [
                np.where(t.children_left >= 0, t.children_left + o, -1)
                for t, o in zip(trees, self.tree_offsets_)
            ]
        ).astype(np.int64)
        self.right_ = np.concatenate(
            [
                np.where(t.children_right >= 0, t.children_right + o, -1)
                for t, o in zip(trees, self.tree_offsets_)
            ]
        ).astype(np.int64)
        self.feature_ = np.concatenate(
            [
                np.where(t.feature >= 0, np.asarray(f)[np.maximum(t.feature, 0)], 0)
                for t, f in zip(trees, forest.estimators_features_)
            ]
        ).astype(np.int64)
        self.split_ = np.concatenate([t.threshold for t in trees]).astype(np.float64)
        self.node_rows_ = np.concatenate([t.n_node_samples for t in trees]).astype(np.int64)
        self.max_samples_ = int(forest.max_samples_)

    def _score(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float32)
        left, right, feature, split, leaf_depth, levels = self._walk()
        roots = self.tree_offsets_[:-1].astype(np.int32)
        depth = np.empty(len(X))
        step = max(1, SCORE_BLOCK // len(roots))
        for start in range(0, len(X), step):  # every tree at once, for a block of rows
            block = X[start : start + step]
            row_start = (np.arange(len(block), dtype=np.int32) * block.shape[1])[:, None]
            flat = block.ravel()
            node = np.broadcast_to(roots, (len(block), len(roots))).copy()
            for _ in range(levels):
                go_left = flat.take(row_start + feature.take(node)) <= split.take(node)
                node = np.where(go_left, left.take(node), right.take(node))
            depth[start : start + step] = leaf_depth.take(node).sum(axis=1)
        return 2.0 ** (-depth / (len(roots) * average_path_length([self.max_samples_])[0]))

    def _walk(self):
        """The trees as tables for a walk of fixed length: a leaf is its own child (so a row that
        reaches it stays), and a leaf's value is its depth plus the correction for the rows it held
        at fit; returns (left, right, feature, split, leaf value, the deepest leaf's depth)."""
        leaf = self.left_ < 0
        nodes = np.arange(len(leaf))
        left = np.where(leaf, nodes, self.left_).astype(np.int32)
        right = np.where(leaf, nodes, self.right_).astype(np.int32)
        feature = np.where(leaf, 0, self.feature_).astype(np.int32)
        split = np.where(
            leaf, np.inf, self.split_
        )  # a row at a leaf goes "left", to the leaf itself
        inner = nodes[~leaf]
        depth = np.zeros(len(leaf))
        for _ in range(
            len(leaf)
        ):  # children sit one level below their parent; a few passes settle it
            below = depth[inner] + 1.0
            if np.array_equal(depth[self.left_[inner]], below) and np.array_equal(
                depth[self.right_[inner]], below
            ):
                break
            depth[self.left_[inner]] = below
            depth[self.right_[inner]] = below
        leaf_depth = np.where(leaf, depth + average_path_length(self.node_rows_), 0.0)
        return left, right, feature, split, leaf_depth, int(depth[leaf].max()) if leaf.any() else 0
