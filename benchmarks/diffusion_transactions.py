"""Issue 5's transactions targets for the ``diffusion`` plugin (tables), beside the ``gan`` plugin.

The same protocol as ``benchmarks/gan_transactions.py``: split the ``transactions`` table 75/25
(stratified on ``is_fraud``, fixed seed), fit each plugin (default settings) on the 75%
conditional on ``is_fraud``, ask for N fraud rows, and print per plugin: mean KS (numeric) and TV
(categorical) of the synthetic fraud rows against the real training fraud rows (beside the same
measure between real training and real test fraud rows: the noise floor of ~300 rows),
correlation similarity, exact copies and distance to the closest record, and a gradient-boosting
classifier's average precision on the 25% test split trained on the real 75% alone and with the
synthetic fraud rows added. The load average is printed with each timing (shared machines).

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/diffusion_transactions.py \
        [-n 2000] [--plugins diffusion gan] [--param epochs=60] [--seed 0]

``--param`` applies to the diffusion plugin only.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="synthetic fraud rows")
    parser.add_argument(
        "--plugins",
        nargs="+",
        default=["diffusion"],
        help="plugins to compare (e.g. diffusion gan)",
    )
    parser.add_argument(
        "--param", action="append", default=[], help="diffusion parameter key=value"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split

    import synthkit
    from synthkit.evaluation import tables as ev
    from synthkit.cli import parse_params

    df = synthkit.load_dataset("transactions")
    train, test = train_test_split(
        df, test_size=0.25, stratify=df["is_fraud"], random_state=args.seed
    )
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    features = [c for c in df.columns if c != "is_fraud"]
    fraud_train = train[train.is_fraud == 1][features]
    fraud_test = test[test.is_fraud == 1][features]

    def mean(c, k):
        return float(np.mean([v for kk, v in c.values() if kk == k]))

    floor = ev.column_similarity(fraud_train, fraud_test)
    real_ap = ev.gbm_scores(train, test, "is_fraud", args.seed)

    results = {}
    for plugin in args.plugins:
        params = parse_params(args.param) if plugin == "diffusion" else {}
        load = "%.2f %.2f %.2f" % os.getloadavg()
        started = time.perf_counter()
        synth = synthkit.augment(
            train,
            plugin=plugin,
            n=args.n,
            label_column="is_fraud",
            label=1,
            seed=args.seed,
            **params,
        )
        elapsed = time.perf_counter() - started
        cols = ev.column_similarity(fraud_train, synth[features])
        priv = ev.privacy(train, synth, test)
        both = pd.concat([train, synth.astype(train.dtypes.to_dict())], ignore_index=True)
        results[plugin] = {
            "time": f"{elapsed:.0f} s (load average {load})",
            "cols": cols,
            "mean KS (numeric)": mean(cols, "KS"),
            "mean TV (categorical)": mean(cols, "TV"),
            "correlation similarity": ev.correlation_similarity(fraud_train, synth[features]),
            "exact copies": priv["exact_copies"],
            "DCR median synth / holdout": f"{priv['median_distance_synthetic']:.3f} / {priv['median_distance_holdout']:.3f}",
            "closer than holdout p5": priv["share_below_p5"],
            "GBM AP real + synthetic": ev.gbm_scores(both, test, "is_fraud", args.seed)[
                "average_precision"
            ],
            "schema kept": bool((synth.dtypes == df.dtypes).all() and (synth.is_fraud == 1).all()),
        }
        print(plugin, results[plugin]["time"], flush=True)

    names = list(results)

    def fmt(v):
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    print("\n| measure | " + " | ".join(names) + " | real test fraud rows |")
    print("|---" * (len(names) + 2) + "|")
    print(
        f"| fit + sample {args.n} fraud rows | "
        + " | ".join(results[p]["time"] for p in names)
        + " | |"
    )
    for col, (kind, value) in floor.items():
        print(
            f"| {kind} {col} | "
            + " | ".join(fmt(results[p]["cols"][col][1]) for p in names)
            + f" | {value:.4f} |"
        )
    floor_rows = {
        "mean KS (numeric)": mean(floor, "KS"),
        "mean TV (categorical)": mean(floor, "TV"),
        "correlation similarity": ev.correlation_similarity(fraud_train, fraud_test),
    }
    for key in (
        "mean KS (numeric)",
        "mean TV (categorical)",
        "correlation similarity",
        "exact copies",
        "DCR median synth / holdout",
        "closer than holdout p5",
        "GBM AP real + synthetic",
        "schema kept",
    ):
        print(
            f"| {key} | "
            + " | ".join(fmt(results[p][key]) for p in names)
            + f" | {fmt(floor_rows.get(key, ''))} |"
        )
    print(
        "| GBM AP real only | "
        + " | ".join(fmt(real_ap["average_precision"]) for _ in names)
        + " | |"
    )
    print("\ntargets: mean KS and TV <= 0.1, no copies, AP with synthetic rows >= AP real only")


if __name__ == "__main__":
    main()
