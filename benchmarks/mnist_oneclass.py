"""One-class MNIST (Ruff et al. 2018, Deep SVDD protocol): each digit in turn is the normal class.

Fit on normal images only; ROC-AUC of normal against the rest on held-out images. Two forms:

- ``--form test`` (works with the test split alone): fit on the digit's images among the first
  8,000 test images, score the last 2,000;
- ``--form full`` (needs the train split): fit on the digit's training images, score the 10,000
  test images.

Prints per-digit AUC for each autoencoder kind (default settings unless ``--param``), with
IsolationForest and PCA reconstruction error beside them, and fit+score seconds per digit.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/mnist_oneclass.py [--form test]
        [--kinds auto,dense,vae,denoising] [--digits 0,1,...] [--param key=value ...]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def data(form: str):
    import synthkit

    x_test, y_test = synthkit.load_dataset("mnist:test")
    if form == "test":
        return x_test[:8000], y_test[:8000], x_test[8000:], y_test[8000:]
    x_train, y_train = synthkit.load_dataset("mnist:train")
    return x_train, y_train, x_test, y_test


def pca_scores(train, test, seed, n_components=0.9):
    """PCA reconstruction error, keeping the components that explain 90% of the variance."""
    from sklearn.decomposition import PCA

    a, b = train.reshape(len(train), -1) / 255.0, test.reshape(len(test), -1) / 255.0
    pca = PCA(n_components=n_components, random_state=seed).fit(a)
    return ((b - pca.inverse_transform(pca.transform(b))) ** 2).mean(1)


def iforest_scores(train, test, seed):
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(random_state=seed).fit(train.reshape(len(train), -1))
    return -forest.score_samples(test.reshape(len(test), -1))


def main():
    from sklearn.metrics import roc_auc_score

    from synthkit.api import get_detector

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--form", choices=["test", "full"], default="test")
    ap.add_argument("--kinds", default="auto", help="comma-separated autoencoder kinds")
    ap.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--param", action="append", default=[], help="autoencoder parameter key=value")
    args = ap.parse_args()
    from odds import parse_params  # same folder

    params = parse_params(args.param)
    x_fit, y_fit, x_eval, y_eval = data(args.form)
    kinds = [k for k in args.kinds.split(",") if k]
    methods = [f"ae:{k}" for k in kinds] + ["iforest", "pca"]
    print(
        f"form {args.form}: fit on {len(x_fit)} images (one digit at a time), score {len(x_eval)}; "
        f"params {params or 'defaults'}, seed {args.seed}"
    )
    print(f"{'digit':<6}" + "".join(f"{m:>16}" for m in methods) + "   (AUC / fit+score s)")
    table = {m: [] for m in methods}
    for digit in (int(d) for d in args.digits.split(",")):
        normal = x_fit[y_fit == digit]
        truth = (y_eval != digit).astype(int)
        cells = []
        for m in methods:
            t = time.perf_counter()
            if m.startswith("ae:"):
                det = get_detector("autoencoder", kind=m[3:], seed=args.seed, **params).fit(normal)
                scores = det.decision_function(x_eval)
            elif m == "iforest":
                scores = iforest_scores(normal, x_eval, args.seed)
            else:
                scores = pca_scores(normal, x_eval, args.seed)
            seconds = time.perf_counter() - t
            auc = roc_auc_score(truth, scores)
            table[m].append((auc, seconds))
            cells.append(f"{auc:.4f}/{seconds:5.1f}")
        print(f"{digit:<6}" + "".join(f"{c:>16}" for c in cells), flush=True)
    print(
        f"{'mean':<6}"
        + "".join(
            f"{np.mean([a for a, _ in table[m]]):.4f}/{np.mean([s for _, s in table[m]]):5.1f}".rjust(
                16
            )
            for m in methods
        )
    )


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
