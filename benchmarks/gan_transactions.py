"""Issue 4's transactions targets for the ``gan`` plugin (tables), on 2 CPU cores.

Splits the ``transactions`` table 75/25 (stratified on ``is_fraud``, fixed seed), fits the
conditional table GAN on the 75% with the plugin's default settings, asks for N fraud rows
(``is_fraud`` = 1), and prints: per-column KS/TV of the synthetic fraud rows against the real
training fraud rows (beside the same measure between the real training and real test fraud rows:
the noise floor of ~300 rows), exact copies and distance to the closest record, and a
gradient-boosting classifier's average precision on the 25% test split when trained on the real
75% alone, with the synthetic fraud rows added, with random oversampling of the real fraud rows to
the same count, and with SMOTE when imbalanced-learn is installed.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/gan_transactions.py [-n 2000] [--param epochs=60]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="synthetic fraud rows")
    parser.add_argument(
        "--param", action="append", default=[], help="plugin parameter key=value (JSON value)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    params = {k: json.loads(v) for k, _, v in (p.partition("=") for p in args.param)}

    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split

    import synthkit
    from synthkit.evaluation import tables as ev

    df = synthkit.load_dataset("transactions")
    train, test = train_test_split(
        df, test_size=0.25, stratify=df["is_fraud"], random_state=args.seed
    )
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    load = os.getloadavg()
    started = time.perf_counter()
    synth = synthkit.augment(
        train, plugin="gan", n=args.n, label_column="is_fraud", label=1, seed=args.seed, **params
    )
    elapsed = time.perf_counter() - started

    features = [c for c in df.columns if c != "is_fraud"]
    fraud_train = train[train.is_fraud == 1][features]
    fraud_test = test[test.is_fraud == 1][features]
    cols = ev.column_similarity(fraud_train, synth[features])
    floor = ev.column_similarity(fraud_train, fraud_test)

    def mean(c, k):
        return float(np.mean([v for kk, v in c.values() if kk == k]))

    # privacy of fraud rows: distance to the closest real training row, beside real held-out fraud rows
    priv = ev.privacy(train, synth, test[test.is_fraud == 1])
    corr = ev.correlation_similarity(fraud_train, synth[features])
    corr_floor = ev.correlation_similarity(fraud_train, fraud_test)

    # augmentation sizes: as many synthetic fraud rows as real ones (1x), and all N
    sizes = sorted({int((train.is_fraud == 1).sum()), args.n})
    ap = {"real only": ev.gbm_scores(train, test, "is_fraud", args.seed)}
    rng = np.random.default_rng(args.seed)
    fraud_rows = train[train.is_fraud == 1]
    synth_typed = synth.astype(train.dtypes.to_dict())
    try:
        from imblearn.over_sampling import SMOTENC
    except ImportError:
        SMOTENC = None
    for k in sizes:
        ap[f"real + {k} GAN fraud rows"] = ev.gbm_scores(
            pd.concat([train, synth_typed.iloc[:k]], ignore_index=True), test, "is_fraud", args.seed
        )
        ros = fraud_rows.iloc[rng.integers(0, len(fraud_rows), k)]
        ap[f"real + {k} oversampled rows"] = ev.gbm_scores(
            pd.concat([train, ros], ignore_index=True), test, "is_fraud", args.seed
        )
        if SMOTENC is not None:
            cat = [
                i
                for i, c in enumerate(features)
                if not pd.api.types.is_numeric_dtype(train[c]) or train[c].dtype == bool
            ]
            sm = SMOTENC(
                categorical_features=cat,
                sampling_strategy={1: len(fraud_rows) + k},
                random_state=args.seed,
            )
            Xs, ys = sm.fit_resample(train[features], train["is_fraud"])
            both = Xs.assign(is_fraud=ys)[list(train.columns)].astype(train.dtypes.to_dict())
            ap[f"real + {k} SMOTE-NC rows"] = ev.gbm_scores(both, test, "is_fraud", args.seed)

    print(f"load average at start (1/5/15 min): {' / '.join(f'{v:.2f}' for v in load)}")
    print(f"fit + sample {args.n} fraud rows: {elapsed:.1f}s")
    print(f"\n{'column':<24} {'stat':<5} {'GAN vs real':>12} {'real test vs real':>18}")
    for name, (kind, value) in cols.items():
        print(f"{name:<24} {kind:<5} {value:>12.4f} {floor[name][1]:>18.4f}")
    print(f"{'mean KS':<30} {mean(cols, 'KS'):>12.4f} {mean(floor, 'KS'):>18.4f}   target <= 0.1")
    print(f"{'mean TV':<30} {mean(cols, 'TV'):>12.4f} {mean(floor, 'TV'):>18.4f}   target <= 0.1")
    print(f"{'correlation similarity':<30} {corr:>12.4f} {corr_floor:>18.4f}")
    print(f"\nexact copies of training rows: {priv['exact_copies']} of {args.n}   target 0")
    print(
        f"distance to closest record, median: synthetic {priv['median_distance_synthetic']:.3f}, "
        f"real held-out fraud rows {priv['median_distance_holdout']:.3f}; synthetic closer than held-out p5: "
        f"{priv['share_below_p5']:.3f}"
    )
    print(
        f"\n{'GBM trained on':<30} {'average precision':>18} {'ROC-AUC':>9}   (test: {len(test)} rows, "
        f"{int(test.is_fraud.sum())} fraud)"
    )
    for name, s in ap.items():
        print(f"{name:<30} {s['average_precision']:>18.4f} {s['roc_auc']:>9.4f}")
    if SMOTENC is None:
        print("(SMOTE: install imbalanced-learn to compare)")
    print(
        "all rows is_fraud == 1:",
        bool((synth.is_fraud == 1).all()),
        "| dtypes kept:",
        bool((synth.dtypes == df.dtypes).all()),
    )


if __name__ == "__main__":
    main()
