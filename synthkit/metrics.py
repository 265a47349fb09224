"""Quality measures: detection scores against known labels."""

from __future__ import annotations

import numpy as np


def detection_report(y_true, scores) -> dict:
    """ROC-AUC, average precision and precision at k (k = number of true anomalies).

    ``y_true`` is 1 for anomalies and 0 for normal rows; ``scores`` are anomaly scores (higher =
    more anomalous). Rows with a NaN score are left out. Returns an empty dict when only one class
    is present, since the measures are then undefined.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y_true = np.asarray(y_true).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    keep = ~np.isnan(scores)
    y_true, scores = y_true[keep], scores[keep]
    if len(np.unique(y_true)) < 2:
        return {}
    return {
        "roc_auc": float(roc_auc_score(y_true, scores)),
        "average_precision": float(average_precision_score(y_true, scores)),
        "precision_at_k": precision_at_k(y_true, scores),
    }


def precision_at_k(y_true, scores, k: int | None = None) -> float:
    """Share of true anomalies among the k highest scores (k defaults to the number of anomalies)."""
    y_true = np.asarray(y_true).astype(int)
    k = int(y_true.sum()) if k is None else int(k)
    if k <= 0:
        return float("nan")
    top = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:k]
    return float(y_true[top].mean())
