"""Thresholds without a known contamination: every rule of synthkit.base._thresholds on real training scores.

For each set in ``$SYNTHKIT_DATA_DIR/anomaly`` (loaded as ``tabular_detection.py`` does; sets over
20,000 rows cut to a stratified, seeded 20,000-row sample) and the built-in ``transactions`` table
(label ``is_fraud``, kept out of the features), each detector is fitted with its defaults on all
rows, unsupervised, and its training scores (``decision_scores_``) are cached as npz in ``--cache``,
so rules are re-evaluated without refitting. For every rule: per set, the F1 of its 0/1 labels
against the truth and the share it flags against the true share; per half (A: the anomaly sets
sorted by name, 1st, 3rd, ...; B: the others and ``transactions``), the mean F1, the mean
|flagged - true share|, and the sets where its F1 beats / loses to the fixed contamination=0.1.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/thresholds.py [--cache DIR]
        [--detectors ensemble,iforest,ecod,knn,kmeans,lof] [--autoencoder] [--sets glass,pima]
        [--fit-only] [--per-set RULE]

The rule is picked on half A, over every detector and set: of the rules whose mean F1 is at least
the fixed 0.1's, the one whose flagged share lands within 3x of the true share on the most sets
(ties: nearest the true share on average); it is confirmed on B.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tabular_detection import MAX_ROWS, load_set, set_paths  # noqa: E402

DETECTORS = ("ensemble", "iforest", "ecod", "knn", "kmeans", "lof")
BASELINE = "quantile(0.1)"
ORACLE = "quantile(true share)"  # not a rule (it needs the labels): the F1 a share known exactly would give
CANDIDATES = {  # label: (rule name, options)
    "mad(k=1.5)": ("mad", {"k": 1.5}),
    "mad(k=2)": ("mad", {"k": 2.0}),
    "mad_yj(k=2)": ("mad_yj", {"k": 2.0}),
    "tukey(k=1)": ("tukey", {"k": 1.0}),
    "mad(k=2.5)": ("mad", {"k": 2.5}),
    "mad(k=3)": ("mad", {"k": 3.0}),
    "mad(k=3.5)": ("mad", {"k": 3.5}),
    "mad_yj(k=2.5)": ("mad_yj", {"k": 2.5}),
    "mad_yj(k=3)": ("mad_yj", {"k": 3.0}),
    "mad_yj(k=3.5)": ("mad_yj", {"k": 3.5}),
    "tukey(k=1.5)": ("tukey", {"k": 1.5}),
    "tukey(k=3)": ("tukey", {"k": 3.0}),
    "tukey_yj(k=1.5)": ("tukey_yj", {"k": 1.5}),
    "tukey_yj(k=3)": ("tukey_yj", {"k": 3.0}),
    "gmm": ("gmm", {}),
    "gmm_yj": ("gmm_yj", {}),
    "otsu": ("otsu", {}),
    "otsu_yj": ("otsu_yj", {}),
    "chauvenet": ("chauvenet", {}),
    "chauvenet_yj": ("chauvenet_yj", {}),
}


def load_tables(data_dir: Path, only: list[str] | None):
    """[(name, half, X or DataFrame, y)]: the anomaly sets (halves as tabular_detection.py) and transactions."""
    from sklearn.model_selection import train_test_split

    out = []
    for half in ("A", "B"):
        for path in set_paths(data_dir / "anomaly", half, only):
            X, y = load_set(path)
            if len(X) > MAX_ROWS:
                keep, _ = train_test_split(
                    np.arange(len(X)), train_size=MAX_ROWS, stratify=y, random_state=0
                )
                X, y = X[keep], y[keep]
            out.append((path.stem, half, X, y))
    if not only or "transactions" in only:
        from synthkit.api import load_dataset

        frame = load_dataset("transactions")
        out.append(
            (
                "transactions",
                "B",
                frame.drop(columns=["is_fraud"]),
                frame["is_fraud"].to_numpy().astype(int),
            )
        )
    return out


def cached_scores(cache: Path, name: str, detector: str, X, y) -> np.ndarray:
    """The detector's training scores of X (fitted with its defaults), from the cache or fitted now."""
    from synthkit.api import get_detector

    path = cache / f"{name}__{detector}.npz"
    if path.exists():
        with np.load(path) as d:
            return d["scores"]
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = get_detector(detector).fit(X).decision_scores_
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, scores=scores, y=y)
    print(
        f"  fitted {detector} on {name} ({len(y)} rows) in {time.perf_counter() - t:.1f}s",
        file=sys.stderr,
        flush=True,
    )
    return scores


def within_3x(flagged: float, true: float) -> bool:
    """Whether the share flagged is within a factor of 3 of the true share."""
    return true / 3 <= flagged <= true * 3


def f1(flags: np.ndarray, y: np.ndarray) -> float:
    tp = int((flags & (y == 1)).sum())
    return 0.0 if tp == 0 else 2 * tp / (int(flags.sum()) + int((y == 1).sum()))


def evaluate(scores: np.ndarray, y: np.ndarray, label: str) -> tuple[float, float]:
    """(F1, share flagged) of the rule ``label`` on one set's training scores."""
    from synthkit.base import _thresholds as thresholds

    if label in (BASELINE, ORACLE):
        cut = float(np.quantile(scores, 0.9 if label == BASELINE else 1 - y.mean()))
    else:
        rule, options = CANDIDATES[label]
        cut = thresholds.threshold(scores, rule, **options)
    flags = scores > cut
    return f1(flags, y), float(flags.mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data-dir",
        default=os.path.join(os.environ.get("SYNTHKIT_DATA_DIR", "../shared/datasets")),
    )
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/synthkit/threshold_scores"))
    ap.add_argument("--detectors", default=",".join(DETECTORS))
    ap.add_argument(
        "--autoencoder", action="store_true", help="also the autoencoder (slow on few cores), last"
    )
    ap.add_argument("--sets", help="comma-separated set names (default: all, and transactions)")
    ap.add_argument(
        "--fit-only", action="store_true", help="fit and cache the scores, report nothing"
    )
    ap.add_argument(
        "--per-set", help="print the per-set table of this rule (default: the one picked on A)"
    )
    args = ap.parse_args()
    detectors = args.detectors.split(",") + (["autoencoder"] if args.autoencoder else [])
    tables = load_tables(Path(args.data_dir), args.sets.split(",") if args.sets else None)
    cache = Path(args.cache)
    scores = {}
    for det in (
        detectors
    ):  # a detector over every set before the next, so an interrupted run keeps whole detectors
        for name, _, X, y in tables:
            scores[name, det] = cached_scores(cache, name, det, X, y)
    if args.fit_only:
        return
    labels = [ORACLE, BASELINE, *CANDIDATES]
    res = {
        (lab, name, det): evaluate(scores[name, det], y, lab)
        for lab in labels
        for name, _, _, y in tables
        for det in detectors
    }
    truth = {name: float(y.mean()) for name, _, _, y in tables}
    half_of = {name: half for name, half, _, _ in tables}

    def summary(lab, half, dets=detectors):
        keys = [(name, d) for name in truth if half_of[name] == half for d in dets]
        f = np.array([res[lab, n, d][0] for n, d in keys])
        base = np.array([res[BASELINE, n, d][0] for n, d in keys])
        gap = np.mean([abs(res[lab, n, d][1] - truth[n]) for n, d in keys])
        within = sum(within_3x(res[lab, n, d][1], truth[n]) for n, d in keys)
        return (
            f.mean(),
            gap,
            int((f > base + 1e-9).sum()),
            int((f < base - 1e-9).sum()),
            within,
            len(keys),
        )

    print(f"## Halves: mean over {', '.join(detectors)} and the sets of each half\n")
    print(
        "| rule | A: F1 | A: abs(flagged - true share) | A: within 3x | A: wins/losses vs 0.1 | B: F1 "
        "| B: abs(flagged - true share) | B: within 3x | B: wins/losses vs 0.1 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for lab in labels:
        a, b = summary(lab, "A"), summary(lab, "B")
        print(
            f"| {lab} | {a[0]:.3f} | {a[1]:.3f} | {a[4]}/{a[5]} | {a[2]}/{a[3]} | {b[0]:.3f} | {b[1]:.3f} "
            f"| {b[4]}/{b[5]} | {b[2]}/{b[3]} |"
        )
    baseline_f1 = summary(BASELINE, "A")[0]
    fair = [lab for lab in CANDIDATES if summary(lab, "A")[0] >= baseline_f1] or list(CANDIDATES)
    picked = max(fair, key=lambda lab: (summary(lab, "A")[4], -summary(lab, "A")[1]))
    print(f"\npicked on half A: {picked}\n")
    chosen = args.per_set or picked

    print(f"## Per detector: {chosen} against quantile(0.1)\n")
    print(
        "| detector | A: F1 | A: F1 at 0.1 | A: share gap | A: gap at 0.1 | B: F1 | B: F1 at 0.1 | B: share gap "
        "| B: gap at 0.1 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for d in detectors:
        a, a0, b, b0 = (summary(lab, h, [d]) for h in ("A", "B") for lab in (chosen, BASELINE))
        print(
            f"| {d} | {a[0]:.3f} | {a0[0]:.3f} | {a[1]:.3f} | {a0[1]:.3f} | {b[0]:.3f} | {b0[0]:.3f} | {b[1]:.3f} "
            f"| {b0[1]:.3f} |"
        )

    print(f"\n## Per set: F1 and share flagged, {chosen} / quantile(0.1)\n")
    print("| set | half | true share | " + " | ".join(detectors) + " |")
    print("| --- | --- | ---: | " + " | ".join("---:" for _ in detectors) + " |")
    for name in truth:
        cells = [
            f"{res[chosen, name, d][0]:.2f} ({res[chosen, name, d][1]:.1%}) / {res[BASELINE, name, d][0]:.2f}"
            for d in detectors
        ]
        print(f"| {name} | {half_of[name]} | {truth[name]:.1%} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
