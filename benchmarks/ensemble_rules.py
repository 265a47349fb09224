"""How to combine detectors: every member subset and combination rule, scored on the two halves.

Reads the training and test scores that ``tabular_detection.py --dump-scores DIR`` wrote (one file
per set and seed), combines members' scores with each rule as the ``ensemble`` detector would
(normalised on the training scores only), and prints the mean test ROC-AUC on half A (the sets the
default is chosen on) and half B (the sets it is confirmed on), each member alone and the per-set
oracle of the given members beside. Nothing is refitted, so hundreds of rules take seconds.

    python benchmarks/ensemble_rules.py DIR [--members autoencoder,iforest,knn,lof,ecod] [--top 25]
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict
from pathlib import Path

import numpy as np


def robust_z(train: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Scores on the scale of the training scores' median and IQR, as the ensemble normalises them."""
    from synthkit.base._thresholds import robust_scale

    centre, scale = robust_scale(train)
    return (scores - centre) / scale


def ecdf(train: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The share of training scores at or below each score (ranks against the training scores)."""
    return np.searchsorted(np.sort(train), scores, side="right") / len(train)


def combine(rule: str, members: list[str], data: dict) -> tuple[np.ndarray, np.ndarray]:
    """Combined (train, test) scores of ``members`` under ``rule``."""
    if rule in ("rank", "zmean", "zmax", "zclip"):
        norm = ecdf if rule == "rank" else robust_z
        tr = np.stack([norm(data[m, "train"], data[m, "train"]) for m in members])
        te = np.stack([norm(data[m, "train"], data[m, "test"]) for m in members])
        if rule == "zclip":
            tr, te = np.maximum(tr, 0), np.maximum(te, 0)
        if rule == "zmax":
            return tr.max(0), te.max(0)
        return tr.mean(0), te.mean(0)
    if rule.startswith(
        "agree"
    ):  # weights from agreement with the others' consensus on training rows
        from scipy.stats import spearmanr

        tr = np.stack([robust_z(data[m, "train"], data[m, "train"]) for m in members])
        te = np.stack([robust_z(data[m, "train"], data[m, "test"]) for m in members])
        weights = np.ones(len(members))
        for _ in range(2):
            consensus = (weights[:, None] * tr).sum(0) / weights.sum()
            weights = np.array(
                [max(spearmanr(tr[i], consensus)[0], 0.0) for i in range(len(members))]
            )
            if rule == "agree2":
                weights = weights**4
            if weights.sum() == 0:
                weights = np.ones(len(members))
        return (weights[:, None] * tr).sum(0), (weights[:, None] * te).sum(0)
    raise ValueError(rule)


def main():
    from sklearn.metrics import roc_auc_score

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump")
    ap.add_argument("--members", default="autoencoder,iforest,knn,lof,ecod,kmeans")
    ap.add_argument("--rules", default="rank,zmean,zclip,zmax,agree,agree2")
    ap.add_argument("--min-size", type=int, default=2)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument(
        "--max-loss",
        type=float,
        help="keep configurations whose worst per-set loss to "
        "IsolationForest on half A is at most this (e.g. 0.05)",
    )
    args = ap.parse_args()
    files = sorted(Path(args.dump).glob("*__*.npz"))
    by_set = defaultdict(list)
    for f in files:
        by_set[f.stem.rsplit("__", 1)[0]].append(f)
    sets = sorted(by_set)
    half = {s: "A" if i % 2 == 0 else "B" for i, s in enumerate(sets)}
    pool = args.members.split(",")
    configs = [(m, None) for m in pool]
    for size in range(args.min_size, len(pool) + 1):
        for subset in itertools.combinations(pool, size):
            configs += [(",".join(subset), rule) for rule in args.rules.split(",")]
    auc = defaultdict(list)  # (config, set) -> per-seed AUCs
    oracle = defaultdict(list)
    for s in sets:
        for f in by_set[s]:
            with np.load(f) as npz:
                data = {tuple(k.rsplit("__", 1)): npz[k] for k in npz.files if "__" in k}
                y = npz["y_test"]
            for members, rule in configs:
                if rule is None:
                    score = data[members, "test"]
                else:
                    score = combine(rule, members.split(","), data)[1]
                auc[(members, rule), s].append(roc_auc_score(y, score))
    for s in sets:
        oracle[s] = max(np.mean(auc[(m, None), s]) for m in pool)
    rows = []
    base = {s: np.mean(auc[("iforest", None), s]) for s in sets} if "iforest" in pool else None
    for config in configs:
        per = {s: np.mean(auc[config, s]) for s in sets}
        row = {"config": config, "all": np.mean(list(per.values()))}
        for h in "AB":
            mine = [s for s in sets if half[s] == h]
            row[h] = np.mean([per[s] for s in mine])
            if base is not None:
                worst = min(mine, key=lambda s: per[s] - base[s])
                row["worst" + h] = (per[worst] - base[worst], worst)
                row["wins" + h] = sum(per[s] > base[s] for s in mine)
        rows.append(row)
    print(f"half A (chosen on): {', '.join(s for s in sets if half[s] == 'A')}")
    print(f"half B (confirmed on): {', '.join(s for s in sets if half[s] == 'B')}")

    def show(row):
        members, rule = row["config"]
        line = f"{members:<48}{rule or '-':<8}{row['A']:>7.4f}{row['B']:>7.4f}{row['all']:>7.4f}"
        if base is not None:
            line += "".join(
                f"{row['worst' + h][0]:>+8.3f} {row['worst' + h][1]:<16}{row['wins' + h]:>4}"
                for h in "AB"
            )
        print(line)

    print(
        f"{'members':<48}{'rule':<8}{'A':>7}{'B':>7}{'all':>7}"
        + ("".join(f"{'worst vs IF ' + h:>25}{'>IF':>4}" for h in "AB") if base is not None else "")
    )
    if base is not None and args.max_loss is not None:
        print(
            f"(only those whose worst loss to IsolationForest on half A is at most {args.max_loss})"
        )
    ranked = sorted(rows, key=lambda r: -r["A"])
    if base is not None and args.max_loss is not None:
        ranked = [r for r in ranked if r["worstA"][0] >= -args.max_loss]
    for row in ranked[: args.top]:
        show(row)
    print("members alone:")
    for row in rows:
        if row["config"][1] is None:
            show(row)
    oa = np.mean([oracle[s] for s in sets if half[s] == "A"])
    ob = np.mean([oracle[s] for s in sets if half[s] == "B"])
    print(
        f"{'per-set oracle of ' + args.members:<56}{oa:>7.4f}{ob:>7.4f}{np.mean(list(oracle.values())):>7.4f}"
    )


if __name__ == "__main__":
    main()
