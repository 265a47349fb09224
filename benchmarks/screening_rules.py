"""How the default table detector was chosen: k-NN fitted without the rows a first pass flags, combined with others.

Same sets, splits and seeds as ``tabular_detection.py``. For each split, a first pass (the mean of
the robust z-scores, median/IQR, of k-NN mean distance, ECOD and Isolation Forest on the training
rows) ranks the training rows, and either it (``ens``) or k-NN alone (``self``) holds out the top
10%, 20% or 30%. k-NN (distance to the 5th neighbour, or mean distance to 5 or 10) is refitted on
the rest and used alone or combined with ECOD and/or Isolation Forest (mean, or ``|max``: the
larger of the two z-scores, each normalised on what the detector says of the training rows as new
rows). Prints every candidate's mean test ROC-AUC on half A (the sets the default is chosen on),
half B (the sets it is confirmed on) and all, and its wins against Isolation Forest, sorted by A.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/screening_rules.py [--seeds 3] [--top 40]
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from tabular_detection import load_set, set_paths, split  # noqa: E402

KNN_VARIANTS = {
    "knn": {},
    "knnm": {"method": "mean"},
    "knnm10": {"method": "mean", "n_neighbors": 10},
}


def robust_z(train: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Scores on the scale of the training scores' median and IQR, as the ensemble normalises them."""
    from synthkit.base._thresholds import robust_scale

    centre, scale = robust_scale(train)
    return (scores - centre) / scale


def candidates(Xtr, Xte, seed):
    """Test scores of every candidate for one split."""
    from synthkit.api import get_detector

    base = {}
    for label, name, params in [
        ("knnm", "knn", {"method": "mean"}),
        ("ecod", "ecod", {}),
        ("if", "iforest", {}),
    ]:
        det = get_detector(name, seed=seed, **params).fit(Xtr)
        base[label] = det.decision_scores_, det.decision_function(Xte)
    z_test = {k: robust_z(tr, te) for k, (tr, te) in base.items()}
    first = np.mean([robust_z(base[k][0], base[k][0]) for k in ("knnm", "ecod", "if")], axis=0)
    knn_alone = robust_z(base["knnm"][0], base["knnm"][0])
    out = {"if": base["if"][1], "ecod": base["ecod"][1], "knnm": base["knnm"][1]}
    for cleaner, ranking in (("ens", first), ("self", knn_alone)):
        for share in (0.1, 0.2, 0.3):
            keep = ranking <= np.quantile(ranking, 1 - share)
            for label, params in KNN_VARIANTS.items():
                knn = get_detector("knn", **params).fit(Xtr[keep])
                z = robust_z(knn.decision_function(Xtr), knn.decision_function(Xte))
                key = f"{label}_c{cleaner}{share}"
                out[key] = z
                out[key + "+ecod"] = np.mean([z, z_test["ecod"]], axis=0)
                out[key + "+if"] = np.mean([z, z_test["if"]], axis=0)
                out[key + "+ecod+if"] = np.mean([z, z_test["ecod"], z_test["if"]], axis=0)
                out[key + "|max ecod"] = np.maximum(z, z_test["ecod"])
    return out


def main():
    from sklearn.metrics import roc_auc_score

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument(
        "--data-dir",
        default=os.path.join(os.environ.get("SYNTHKIT_DATA_DIR", "datasets"), "anomaly"),
    )
    args = ap.parse_args()
    paths = set_paths(Path(args.data_dir), None, None)
    sets = [p.stem for p in paths]
    half = {s: "A" if i % 2 == 0 else "B" for i, s in enumerate(sets)}
    auc = defaultdict(list)
    for path in paths:
        X, y = load_set(path)
        for seed in range(args.seeds):
            Xtr, Xte, _, yte = split(X, y, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores = candidates(Xtr, Xte, seed)
            for key, s in scores.items():
                auc[key, path.stem].append(roc_auc_score(yte, s))
        print(f"done {path.stem}", flush=True)
    rows = []
    for key in sorted({k for k, _ in auc}):
        per = {s: np.mean(auc[key, s]) for s in sets}
        wins = sum(per[s] > np.mean(auc["if", s]) for s in sets)
        rows.append(
            (
                np.mean([per[s] for s in sets if half[s] == "A"]),
                np.mean([per[s] for s in sets if half[s] == "B"]),
                np.mean(list(per.values())),
                wins,
                key,
            )
        )
    print(
        f"half A: {', '.join(s for s in sets if half[s] == 'A')}\nhalf B: {', '.join(s for s in sets if half[s] == 'B')}"
    )
    print(f"{'candidate':<28}{'A':>8}{'B':>8}{'all':>8}{'>IF':>5}")
    for a, b, mean, wins, key in sorted(rows, reverse=True)[: args.top]:
        print(f"{key:<28}{a:>8.4f}{b:>8.4f}{mean:>8.4f}{wins:>5}")


if __name__ == "__main__":
    main()
