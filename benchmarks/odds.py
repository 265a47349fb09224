"""ODDS tables, PyOD's benchmark protocol: the default autoencoder beside IsolationForest and KNN.

For each .mat file in ``$SYNTHKIT_DATA_DIR/anomaly`` (keys X, y; MATLAB v7.3 files are read with
h5py) and each seed: a random 60/40 split (not stratified), features standardised with the training
part's mean and deviation, an unsupervised fit on the training part, ROC-AUC on the test part.
``--splits pyod`` (the default) draws the splits exactly as PyOD's ``notebooks/benchmark.py`` does,
``train_test_split(X, y, test_size=0.4, random_state=np.random.RandomState(seed))``, so the figures
compare with PyOD's published table; ``--splits permutation`` is the split of earlier synthkit runs.
KNN is PyOD's default KNN: the distance to the 5th nearest training row.
Prints one row per data set (mean over seeds) and the mean over data sets, with fit+score seconds.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/odds.py [--seeds 10] [--splits pyod]
        [--param key=value ...]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def load_mat(path: Path):
    from tabular_detection import load_set  # benchmarks/ is on the path when a script here runs

    return load_set(path)


def split(X, y, seed, how="pyod"):
    if how == "pyod":
        from sklearn.model_selection import train_test_split

        tr, te = train_test_split(
            np.arange(len(X)), test_size=0.4, random_state=np.random.RandomState(seed)
        )
    else:
        order = np.random.default_rng(seed).permutation(len(X))
        n_train = int(round(0.6 * len(X)))
        tr, te = order[:n_train], order[n_train:]
    mean, std = X[tr].mean(0), X[tr].std(0)
    std[std == 0] = 1.0
    return (X[tr] - mean) / std, (X[te] - mean) / std, y[te]


def parse_params(items):
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


def main():
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    from synthkit.api import get_detector

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--splits", choices=["pyod", "permutation"], default="pyod")
    ap.add_argument("--param", action="append", default=[], help="autoencoder parameter key=value")
    ap.add_argument(
        "--data-dir",
        default=os.path.join(os.environ.get("SYNTHKIT_DATA_DIR", "datasets"), "anomaly"),
    )
    args = ap.parse_args()
    params = parse_params(args.param)
    files = sorted(Path(args.data_dir).glob("*.mat"))
    if not files:
        raise SystemExit(f"no .mat files in {args.data_dir}; set SYNTHKIT_DATA_DIR or --data-dir")
    print(
        f"autoencoder params: {params or 'defaults'}; seeds 0..{args.seeds - 1}; {args.splits} splits"
    )
    print(
        f"{'data set':<12}{'n':>6}{'d':>5}  {'AE AUC':>7} {'AE s':>6}  {'IF AUC':>7} {'IF s':>6}  {'KNN AUC':>7}"
    )
    rows = []
    for path in files:
        X, y = load_mat(path)
        ae, iso, knn, t_ae, t_if = [], [], [], 0.0, 0.0
        for seed in range(args.seeds):
            Xtr, Xte, yte = split(X, y, seed, args.splits)
            t = time.perf_counter()
            det = get_detector("autoencoder", seed=seed, **params).fit(Xtr)
            ae.append(roc_auc_score(yte, det.decision_function(Xte)))
            t_ae += time.perf_counter() - t
            t = time.perf_counter()
            forest = IsolationForest(random_state=seed).fit(Xtr)
            iso.append(roc_auc_score(yte, -forest.score_samples(Xte)))
            t_if += time.perf_counter() - t
            distances, _ = NearestNeighbors(n_neighbors=5).fit(Xtr).kneighbors(Xte)
            knn.append(roc_auc_score(yte, distances[:, -1]))
        rows.append((np.mean(ae), np.mean(iso), np.mean(knn)))
        print(
            f"{path.stem:<12}{len(X):>6}{X.shape[1]:>5}  {np.mean(ae):>7.4f} {t_ae / args.seeds:>6.1f}  "
            f"{np.mean(iso):>7.4f} {t_if / args.seeds:>6.2f}  {np.mean(knn):>7.4f}",
            flush=True,
        )
    ae_mean, if_mean, knn_mean = np.mean(rows, axis=0)
    print(f"{'mean':<23}  {ae_mean:>7.4f}         {if_mean:>7.4f}          {knn_mean:>7.4f}")


if __name__ == "__main__":
    main()
