"""Every built-in table detector on the 21 real anomaly sets, PyOD's protocol, with PyOD beside.

For each set in ``$SYNTHKIT_DATA_DIR/anomaly`` (ODDS ``.mat`` and ADBench ``.npz`` files, arrays X
and y) and each seed: sets over 20,000 rows are cut to a stratified 20,000-row sample; a stratified
60/40 train/test split; features standardised with the training part's mean and deviation; an
unsupervised fit on the (contaminated) training part; ROC-AUC and average precision on the test
part. Prints per set and detector the mean over seeds of ROC-AUC, AP and fit and score seconds,
then each detector's mean, mean rank (1 = best), wins against IsolationForest, and the mean over
the heavily contaminated sets (20% outliers or more). With PyOD installed (the ``bench`` extra)
its IForest, KNN and ECOD run in the same run, and its AutoEncoder when torch is installed too.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/tabular_detection.py
        [--seeds 3] [--half A|B] [--sets glass,pima] [--detector LABEL=NAME[:JSON] ...]
        [--no-pyod] [--no-pyod-autoencoder] [--csv results.csv] [--dump-scores DIR]
        [--duplicate-anomalies K]

``--detector`` picks what runs (default: every built-in table detector with its defaults), e.g.
``--detector 'ae1=autoencoder:{"n_estimators": 1}'``. ``--half A`` / ``--half B`` run the sets the
defaults were chosen on / confirmed on (the sets sorted by name: A holds the 1st, 3rd, 5th, ...,
B the others). ``--dump-scores DIR`` writes each fit's training and test scores for
``benchmarks/ensemble_rules.py``. ``--duplicate-anomalies K`` adds K exact copies of each training
anomaly to the training part (the test part is unchanged): the masking that breaks detectors which
keep the training rows as their reference (k-NN, LOF), as on real tables whose anomalies repeat.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

MAX_ROWS = 20_000
HEAVY_SHARE = 0.2
MCD_MAX_FEATURES = (
    100  # PyOD's MCD took 35 s on 292 rows x 512 features and over 10 minutes on internetads
)
FAILED_AUC = 0.5  # what a fit that raises counts as: a random ranking
DEFAULT_DETECTORS = ("autoencoder", "kmeans", "iforest", "knn", "lof", "ecod", "ensemble")


def load_set(path: Path):
    """X (float64) and y (0/1) of one ODDS .mat or ADBench .npz file."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as d:
            X, y = d["X"], d["y"]
    else:
        import scipy.io

        try:
            d = scipy.io.loadmat(path)
            X, y = d["X"], d["y"]
        except NotImplementedError:  # MATLAB v7.3 is HDF5, stored transposed
            import h5py

            with h5py.File(path, "r") as f:
                X, y = np.asarray(f["X"]).T, np.asarray(f["y"]).T
    return np.asarray(X, np.float64), np.asarray(y).ravel().astype(int)


def set_paths(data_dir: Path, half: str | None, only: list[str] | None) -> list[Path]:
    paths = sorted([*data_dir.glob("*.mat"), *data_dir.glob("*.npz")], key=lambda p: p.stem)
    if half:
        paths = paths[0::2] if half == "A" else paths[1::2]
    if only:
        paths = [p for p in paths if p.stem in only]
    return paths


def split(X, y, seed):
    """PyOD's protocol, stratified: a 20,000-row cap, a 60/40 split, standardised on train."""
    from sklearn.model_selection import train_test_split

    if len(X) > MAX_ROWS:
        keep, _ = train_test_split(
            np.arange(len(X)), train_size=MAX_ROWS, stratify=y, random_state=seed
        )
        X, y = X[keep], y[keep]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
    mean, std = Xtr.mean(0), Xtr.std(0)
    std[std == 0] = 1.0
    return (Xtr - mean) / std, (Xte - mean) / std, ytr, yte


def parse_detector(spec: str):
    """``LABEL=NAME[:JSON]`` or ``NAME[:JSON]`` -> (label, name, params)."""
    label, _, rest = spec.partition("=") if "=" in spec.split(":", 1)[0] else (None, "", spec)
    name, _, params = rest.partition(":")
    return label or name, name, json.loads(params) if params else {}


def synthkit_runner(name, params):
    from synthkit.api import get_detector

    def run(Xtr, Xte, seed):
        t = time.perf_counter()
        det = get_detector(name, **{"seed": seed, **params}).fit(Xtr)
        t_fit = time.perf_counter() - t
        t = time.perf_counter()
        scores = det.decision_function(Xte)
        return det.decision_scores_, scores, t_fit, time.perf_counter() - t

    return run


def pyod_runners(with_autoencoder: bool = True):
    """PyOD's detectors with their defaults, where PyOD (and for its AutoEncoder, torch) is installed:
    the ones ADBench and PyOD's own benchmark rank near the top (IForest, KNN, ECOD, COPOD, HBOS, LOF,
    MCD, CBLOF)."""
    runners = {}
    try:
        from pyod.models.cblof import CBLOF
        from pyod.models.copod import COPOD
        from pyod.models.ecod import ECOD
        from pyod.models.hbos import HBOS
        from pyod.models.iforest import IForest
        from pyod.models.knn import KNN
        from pyod.models.lof import LOF
        from pyod.models.mcd import MCD
    except ImportError:
        print("PyOD is not installed (pip install -e '.[bench]'); its detectors are left out")
        return runners

    def wrap(make):
        def run(Xtr, Xte, seed):
            t = time.perf_counter()
            det = make(seed).fit(Xtr)
            t_fit = time.perf_counter() - t
            t = time.perf_counter()
            scores = det.decision_function(Xte)
            return det.decision_scores_, scores, t_fit, time.perf_counter() - t

        return run

    runners["pyod_iforest"] = wrap(lambda seed: IForest(random_state=seed))
    runners["pyod_knn"] = wrap(lambda seed: KNN())
    runners["pyod_ecod"] = wrap(lambda seed: ECOD())
    runners["pyod_copod"] = wrap(lambda seed: COPOD())
    runners["pyod_hbos"] = wrap(lambda seed: HBOS())
    runners["pyod_lof"] = wrap(lambda seed: LOF())

    def mcd(seed):
        def fit_guard(Xtr):
            if Xtr.shape[1] > MCD_MAX_FEATURES:
                raise ValueError(
                    f"not run: {Xtr.shape[1]} features (a robust covariance of more than "
                    f"{MCD_MAX_FEATURES} takes hours here)"
                )
            return MCD(random_state=seed).fit(Xtr)

        return type("GuardedMCD", (), {"fit": staticmethod(fit_guard)})

    runners["pyod_mcd"] = wrap(mcd)
    runners["pyod_cblof"] = wrap(lambda seed: CBLOF(random_state=seed))
    if not with_autoencoder:
        return runners
    try:
        from pyod.models.auto_encoder import AutoEncoder

        runners["pyod_ae"] = wrap(lambda seed: AutoEncoder(random_state=seed, verbose=0))
    except ImportError:
        print("PyOD's AutoEncoder needs torch and tqdm (pip install torch tqdm); it is left out")
    return runners


def print_halves(sets, labels, table, base, failures):
    """Per half (A: the 1st, 3rd, ... set by name, where defaults are chosen; B: the others, where they
    are confirmed): each detector's mean ROC-AUC, its worst per-set loss to IsolationForest (the set
    named), and its wins against it."""
    halves = {
        "A": [i for i in range(len(sets)) if i % 2 == 0],
        "B": [i for i in range(len(sets)) if i % 2 == 1],
    }
    if len(sets) > 1 and all(halves.values()):
        print(f"\nhalf A (chosen on): {', '.join(sets[i] for i in halves['A'])}")
        print(f"half B (confirmed on): {', '.join(sets[i] for i in halves['B'])}")
    head = "".join(
        f"{'mean ' + h:>9}{'worst vs IF ' + h:>28}{'>IF':>5}" for h in halves if halves[h]
    )
    print(f"\n{'detector':<22}{head}{'fails':>7}")
    for j, lab in enumerate(labels):
        line = f"{lab:<22}"
        for rows in halves.values():
            if not rows:
                continue
            loss = table[rows, j] - table[rows, base]
            worst = int(np.argmin(loss))
            line += f"{table[rows, j].mean():>9.4f}{loss[worst]:>+9.3f} {sets[rows[worst]]:<18}"
            line += f"{int((loss > 0).sum()):>5}"
        print(f"{line}{failures.get(lab, 0):>7}")


def ranks(table: np.ndarray) -> np.ndarray:
    """Rank of each detector (columns) within each set (rows), 1 = highest AUC, ties averaged."""
    from scipy.stats import rankdata

    return np.vstack([rankdata(-row) for row in table])


def main():
    from sklearn.metrics import average_precision_score, roc_auc_score

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--half", choices=["A", "B"])
    ap.add_argument("--sets", help="comma-separated set names (file stems)")
    ap.add_argument("--detector", action="append", default=[], help="LABEL=NAME[:JSON]; repeatable")
    ap.add_argument("--no-pyod", action="store_true")
    ap.add_argument("--no-pyod-autoencoder", action="store_true", help="PyOD's fast detectors only")
    ap.add_argument("--csv", default="tabular_detection.csv")
    ap.add_argument("--dump-scores", help="directory for each fit's training and test scores")
    ap.add_argument(
        "--duplicate-anomalies",
        type=int,
        default=0,
        metavar="K",
        help="a stress test: K exact copies of every training anomaly added to the training part",
    )
    ap.add_argument(
        "--data-dir",
        default=os.path.join(os.environ.get("SYNTHKIT_DATA_DIR", "datasets"), "anomaly"),
    )
    args = ap.parse_args()

    paths = set_paths(Path(args.data_dir), args.half, args.sets.split(",") if args.sets else None)
    if not paths:
        raise SystemExit(
            f"no .mat or .npz sets in {args.data_dir}; set SYNTHKIT_DATA_DIR or --data-dir"
        )
    runners = {}
    for spec in args.detector or DEFAULT_DETECTORS:
        label, name, params = parse_detector(spec)
        runners[label] = synthkit_runner(name, params)
    if not args.no_pyod:
        runners.update(pyod_runners(not args.no_pyod_autoencoder))
    labels = list(runners)
    if args.dump_scores:
        Path(args.dump_scores).mkdir(parents=True, exist_ok=True)
    print(
        f"{len(paths)} sets, seeds 0..{args.seeds - 1}, detectors: {', '.join(labels)}", flush=True
    )

    records, auc, apr, shares, failures = [], {}, {}, {}, {}
    for path in paths:
        X, y = load_set(path)
        shares[path.stem] = y.mean()
        per = {lab: [] for lab in labels}
        for seed in range(args.seeds):
            Xtr, Xte, ytr, yte = split(X, y, seed)
            if args.duplicate_anomalies:
                copies = np.repeat(np.flatnonzero(ytr == 1), args.duplicate_anomalies)
                Xtr, ytr = np.vstack([Xtr, Xtr[copies]]), np.concatenate([ytr, ytr[copies]])
            dump = {"y_train": ytr, "y_test": yte}
            for lab, run in runners.items():
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        train_scores, scores, t_fit, t_score = run(Xtr, Xte, seed)
                    if not np.isfinite(scores).all():
                        raise ValueError("non-finite scores")
                    auc_, ap_ = roc_auc_score(yte, scores), average_precision_score(yte, scores)
                except (
                    Exception
                ) as exc:  # a fit that fails counts as a random ranking (AUC 0.5) and is counted
                    print(
                        f"  {path.stem} seed {seed}: {lab} failed ({type(exc).__name__}: {str(exc)[:80]})"
                    )
                    train_scores, scores, t_fit, t_score = (
                        np.zeros(len(Xtr)),
                        np.zeros(len(Xte)),
                        np.nan,
                        np.nan,
                    )
                    auc_, ap_ = FAILED_AUC, float(yte.mean())
                    failures[lab] = failures.get(lab, 0) + 1
                row = dict(
                    set=path.stem,
                    n=len(X),
                    d=X.shape[1],
                    outliers=round(float(y.mean()), 4),
                    seed=seed,
                    detector=lab,
                    auc=auc_,
                    ap=ap_,
                    fit_s=t_fit,
                    score_s=t_score,
                )
                records.append(row)
                per[lab].append(row)
                dump[f"{lab}__train"], dump[f"{lab}__test"] = (
                    np.asarray(train_scores),
                    np.asarray(scores),
                )
            if args.dump_scores:
                np.savez(Path(args.dump_scores) / f"{path.stem}__{seed}.npz", **dump)
        line = f"{path.stem:<17}{len(X):>6}{X.shape[1]:>5}{y.mean():>6.1%}"
        for lab in labels:
            auc[path.stem, lab] = np.mean([r["auc"] for r in per[lab]])
            apr[path.stem, lab] = np.mean([r["ap"] for r in per[lab]])
            secs = np.nanmean([r["fit_s"] + r["score_s"] for r in per[lab]])
            line += f" | {lab} {auc[path.stem, lab]:.3f} {apr[path.stem, lab]:.3f} {secs:5.1f}s"
        print(line, flush=True)

    sets = [p.stem for p in paths]
    table = np.array([[auc[s, lab] for lab in labels] for s in sets])
    ap_table = np.array([[apr[s, lab] for lab in labels] for s in sets])
    rank = ranks(table).mean(axis=0)
    heavy = [i for i, s in enumerate(sets) if shares[s] >= HEAVY_SHARE]
    base = labels.index("iforest") if "iforest" in labels else None
    print(
        f"\n{'detector':<22}{'AUC':>7}{'AP':>7}{'rank':>6}{'>IF':>5}{'heavy AUC':>11}{'median s':>10}{'max s':>8}"
    )
    for j, lab in enumerate(labels):
        times = [
            np.nanmean(
                [
                    r["fit_s"] + r["score_s"]
                    for r in records
                    if r["set"] == s and r["detector"] == lab
                ]
            )
            for s in sets
        ]
        wins = "" if base is None else str(int((table[:, j] > table[:, base]).sum()))
        heavy_auc = table[heavy, j].mean() if heavy else float("nan")
        print(
            f"{lab:<22}{table[:, j].mean():>7.4f}{ap_table[:, j].mean():>7.4f}{rank[j]:>6.2f}{wins:>5}"
            f"{heavy_auc:>11.4f}{np.nanmedian(times):>10.1f}{np.nanmax(times):>8.1f}"
        )
    if base is not None:
        print_halves(sets, labels, table, base, failures)
    print(
        f"heavily contaminated sets (>= {HEAVY_SHARE:.0%} outliers): {', '.join(sets[i] for i in heavy) or 'none'}"
    )
    with open(args.csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    print(f"per-fit rows written to {args.csv}")


if __name__ == "__main__":
    main()
