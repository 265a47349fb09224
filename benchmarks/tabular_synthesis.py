"""Synthetic minority rows on small real classes: synthkit's generators beside oversampling, SMOTE-NC and SDV.

One case per run (``--table`` ``transactions``, ``adult`` or ``anomaly/NAME``, a set in
``$SYNTHKIT_DATA_DIR/anomaly``, with ``--minority`` 100, 300, ... or ``all``), or the cases of a
half of the suite (``--suite choose``, ``confirm`` or ``all``; defaults are chosen on ``choose`` and
confirmed on ``confirm``), with the mean over its cases. All of the other class is kept (a random
20,000 rows where there are more) with a random ``--minority`` rows of the minority class; a
stratified 75/25 train/test split; 30% (at least 10) of the training minority rows are held back,
and the generators see the rest of the training rows. Each makes N minority rows (``--n``,
default: as many as it saw): ``gan`` and ``diffusion`` (``diffusion@STEPS``: with
``train_steps=STEPS``, the time budget) fit on those rows conditional on the label, random
oversampling redraws training minority rows, SMOTE-NC fits on the training rows, SDV's CTGAN, TVAE
and GaussianCopula (the ``bench`` extra) on the training minority rows; ``gan+filter`` and
``diffusion+filter`` take the rows of the same fit through ``synthkit.synthesis.RowFilter``.
Figures, on the feature columns: mean KS and TV against the training and the held-back minority
rows beside the real-vs-real floor (training minority rows against held-back rows, same sizes), and
their ratios to it; correlation similarity; the classifier two-sample AUC against the held-back
rows; exact copies and distance to the closest record; the test split's average precision of
gradient boosting and of a linear model trained on the training rows alone, with the minority
class re-weighted to the augmented balance, and with the synthetic rows, with paired-bootstrap 95%
intervals on the changes; fit and sample seconds. Prints a markdown table per case (and with
``--suite`` the means over cases); ``--csv`` appends one row per generator and case, and
``--summarize`` prints the means over the cases of such files.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/tabular_synthesis.py --table adult --minority 300
    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/tabular_synthesis.py --suite choose \
        --csv choose.csv [--generators gan diffusion diffusion@750 random smote ctgan tvae copula]
        [--param gan.epochs=10]
        [--n N] [--seed 0]
    python benchmarks/tabular_synthesis.py --summarize choose.csv confirm.csv
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from importlib.util import find_spec
from multiprocessing import get_context
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402, F401  (loads OpenMP: it can be limited)
from sklearn.model_selection import train_test_split  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from synthkit.api import load_dataset  # noqa: E402
from synthkit.cli import parse_params  # noqa: E402
from synthkit.errors import DataError, OutputFileError, PluginError, SynthkitError  # noqa: E402
from synthkit.evaluation.tables import column_similarity, correlation_similarity, privacy  # noqa: E402
from synthkit.evaluation.two_sample import augmentation_gain, c2st_auc  # noqa: E402
from synthkit.synthesis._filter import RowFilter  # noqa: E402
from synthkit.parameters import parameter_names  # noqa: E402
from synthkit.quiet import quiet_tensorflow  # noqa: E402
from synthkit.registry import get_generator, get_registry  # noqa: E402

from sdv_synthesis import SDV, sdv_rows  # noqa: E402  (beside this script: sys.path[0])

MAX_MAJORITY = 20_000
TEST_SHARE, HOLD_BACK, MIN_HOLD_BACK, MIN_SEEN = 0.25, 0.3, 10, 10
DRAWS, N_BOOT = 5, 1000
SYNTHKIT = ("gan", "diffusion")
FILTERED = tuple(
    f"{name}+filter" for name in SYNTHKIT
)  # the same fit's rows through augment --filter
GENERATORS = (*SYNTHKIT, *FILTERED, "random", "smote", *SDV)
# diffusion@STEPS: the diffusion generator with train_steps=STEPS (the time budget curve)
BUDGETED = "diffusion@"
TABLES = {"transactions": ("is_fraud", 1), "adult": ("class", ">50K")}
# --suite: the cases, in two halves fixed before any choice was made; defaults are chosen on
# "choose" and confirmed on "confirm". Real small classes: adult's >50K rows, transactions' fraud,
# and the outliers of anomaly sets with 100 to 1,000 of them (or nearly), numeric or image features.
SUITE = {
    "choose": [
        ("adult", 300),
        ("anomaly/mammography", "all"),
        ("anomaly/cardiotocography", 300),
        ("anomaly/pageblocks", 300),
        ("anomaly/yeast", 300),
        ("anomaly/mvtec_screw", "all"),
    ],
    "confirm": [
        ("transactions", "all"),
        ("anomaly/annthyroid", 300),
        ("anomaly/thyroid", "all"),
        ("anomaly/wilt", "all"),
        ("anomaly/fault", 300),
        ("anomaly/mvtec_pill", "all"),
    ],
}
SUITE["all"] = SUITE["choose"] + SUITE["confirm"]
CLASSIFIERS = {
    "gradient_boosting": "",
    "linear": "linear_",
}  # downstream model: its figures' prefix
MAX_KS_RATIO, MAX_C2ST, MAX_SECONDS = 1.25, 0.65, 60.0
TARGETS = (
    f"KS vs held-back <= {MAX_KS_RATIO}x real vs real; "
    f"two-sample AUC <= {MAX_C2ST} and below SMOTE's; "
    f"fit + sample <= {MAX_SECONDS:.0f} s; AP change interval upper end >= 0"
)
log = partial(print, file=sys.stderr, flush=True)  # progress and skipped generators go to stderr


def load_table(name: str):
    """(frame, label column, minority class) of ``transactions``, ``adult`` or ``anomaly/NAME``."""
    data_dir = Path(os.environ.get("SYNTHKIT_DATA_DIR", "")).expanduser()
    if name == "transactions":
        return load_dataset("transactions"), *TABLES[name]
    if name not in TABLES and not name.startswith("anomaly/"):
        raise DataError(
            f"unknown table {name!r}: pass transactions, adult or anomaly/NAME (e.g. anomaly/cardio)"
        )
    if not os.environ.get("SYNTHKIT_DATA_DIR"):
        raise DataError(
            f"{name} is read from $SYNTHKIT_DATA_DIR: set it to the folder holding tables/ and anomaly/"
        )
    if name == "adult":
        path = data_dir / "tables" / "adult.csv.gz"
        if not path.is_file():
            raise DataError(
                f"{path} is missing: point SYNTHKIT_DATA_DIR at the folder holding tables/adult.csv.gz"
            )
        return pd.read_csv(path), *TABLES[
            name
        ]  # text values as written; '?' (unknown) is a category of its own
    stem = name.split("/", 1)[1]
    paths = [
        p
        for p in (data_dir / "anomaly" / f"{stem}.mat", data_dir / "anomaly" / f"{stem}.npz")
        if p.is_file()
    ]
    if not paths:
        known = sorted(
            p.stem for ext in ("mat", "npz") for p in (data_dir / "anomaly").glob(f"*.{ext}")
        )
        raise DataError(
            f"no anomaly set {stem!r} in {data_dir / 'anomaly'}; sets there: {', '.join(known) or 'none'}"
        )
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tabular_detection import load_set

    X, y = load_set(paths[0])
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    return frame.assign(y=y), "y", 1


def make_case(frame, label: str, minority, size, seed: int) -> dict:
    """The split: ``train`` (what generators see), ``heldback`` minority rows, ``test``, and the sizes."""
    rng = np.random.default_rng(seed)
    is_minority = (frame[label] == minority).to_numpy()
    rare, common = np.flatnonzero(is_minority), np.flatnonzero(~is_minority)
    size = len(rare) if size == "all" else size
    if size > len(rare):
        raise DataError(
            f"--minority {size}: the table has {len(rare)} rows of class {minority!r}; "
            f"ask for at most {len(rare)}, or 'all'"
        )
    rare = rng.choice(rare, size, replace=False)
    if len(common) > MAX_MAJORITY:
        common = rng.choice(common, MAX_MAJORITY, replace=False)
    data = frame.iloc[np.sort(np.r_[rare, common])].reset_index(drop=True)
    train, test = train_test_split(
        data, test_size=TEST_SHARE, stratify=data[label], random_state=seed
    )
    pool = train.index[(train[label] == minority).to_numpy()]
    hold = max(MIN_HOLD_BACK, int(round(HOLD_BACK * len(pool))))
    if len(pool) - hold < MIN_SEEN:
        raise DataError(
            f"--minority {size} leaves {len(pool) - hold} training minority rows once {hold} are held "
            f"back, too few to fit on; ask for a larger --minority"
        )
    held = rng.permutation(pool)[:hold]
    heldback, train = (
        train.loc[held].reset_index(drop=True),
        train.drop(index=held).reset_index(drop=True),
    )
    features = [c for c in frame.columns if c != label]
    seen = train[train[label] == minority][features].reset_index(drop=True)
    return {
        "train": train,
        "test": test.reset_index(drop=True),
        "heldback": heldback[features],
        "seen": seen,
        "features": features,
        "label": label,
        "minority": minority,
        "size": size,
    }


def synthkit_fit(name: str) -> tuple[str, dict] | None:
    """(plugin, parameters it adds) of a synthkit generator name (``gan``, ``diffusion``,
    ``diffusion@STEPS``, each optionally ``+filter``), else None."""
    base = name.removesuffix("+filter")
    if base in SYNTHKIT:
        return base, {}
    if base.startswith(BUDGETED) and base[len(BUDGETED) :].isdigit() and int(base[len(BUDGETED) :]):
        return "diffusion", {"train_steps": int(base[len(BUDGETED) :])}
    return None


def available(asked: list[str] | None) -> list[str]:
    """The generators to run: those asked for (each must be installed), else every installed one."""
    needs = [("smote", "imblearn", "imbalanced-learn"), *((n, "sdv", "SDV") for n in SDV)]
    missing = {
        name: f"{package} is not installed (pip install -e '.[bench]')"
        for name, module, package in needs
        if not find_spec(module)
    }
    if asked:
        for name in asked:
            if (name not in GENERATORS and synthkit_fit(name) is None) or name in missing:
                raise PluginError(
                    f"{name}: {missing[name]}"
                    if name in missing
                    else f"unknown generator {name!r}; pass some of: {' '.join(GENERATORS)} "
                    "or diffusion@STEPS"
                )
        return list(dict.fromkeys(asked))
    for name, why in missing.items():
        log(f"skipped {name}: {why}")
    return [n for n in GENERATORS if n not in missing]


def parse_generator_params(pairs: list[str], names: list[str]) -> dict:
    """``NAME.key=value`` options as ``{NAME: {key: value}}`` (values parsed as ``synthkit --param`` does)."""
    out = {name: {} for name in names}
    for pair in pairs:
        name, dot, rest = pair.partition(".")
        if not dot or name not in out or "=" not in rest:
            raise PluginError(
                f"--param {pair!r}: write NAME.key=value, NAME one of {' '.join(names)}"
            )
        out[name].update(parse_params([rest]))
    return out


def check_params(name: str, params: dict) -> None:
    """Refuse, before anything trains, a parameter the generator does not take."""
    if synthkit_fit(name) is not None:
        plugin, fixed = synthkit_fit(name)
        get_generator(plugin, **fixed, **params)  # refuses unknown names; fit checks the values
        return
    if name == "smote":
        from imblearn.over_sampling import SMOTENC as target
    elif name in SDV:
        import sdv.single_table

        target = getattr(sdv.single_table, SDV[name])
    fixed = (
        "categorical_features",
        "sampling_strategy",
        "random_state",
        "metadata",
    )  # the script sets these
    valid = (
        []
        if name == "random"
        else [p for p in inspect.signature(target).parameters if p not in fixed]
    )
    if set(params) - set(valid):
        raise PluginError(
            f"{name} takes no parameter {', '.join(sorted(set(params) - set(valid)))}; "
            f"it takes: {', '.join(valid) or 'none'}"
        )


def cast_like(out, dtypes):
    """The synthetic rows ``out``, changed in place to the real table's dtypes (integers rounded first)."""
    for name, dtype in dtypes.items():
        if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_integer_dtype(out[name]):
            out[name] = np.round(out[name].astype(np.float64))
        out[name] = out[name].astype(dtype)
    return out


def generate(name: str, case: dict, n: int, seed: int, params: dict, fitted: dict):
    """(N synthetic rows with the label column, fit seconds, sample seconds, filter counts); NaN where one call
    does both. ``fitted`` keeps synthkit's fits, so that NAME and NAME+filter share one."""
    train, label, minority, features = (
        case["train"],
        case["label"],
        case["minority"],
        case["features"],
    )
    base, counts = name.removesuffix("+filter"), "-"
    if synthkit_fit(name) is not None:
        if base not in fitted:  # NAME+filter has NAME's parameters when both run
            plugin, fixed = synthkit_fit(name)
            kwargs = {**params, **fixed}
            if "seed" in parameter_names(get_registry().get("generators", plugin)):
                kwargs.setdefault("seed", seed)
            started = time.perf_counter()
            fitted[base] = (
                get_generator(plugin, **kwargs).fit(train[features], train[label].to_numpy()),
                time.perf_counter() - started,
            )
        (generator, fit_s), started = fitted[base], time.perf_counter()
        if name == base:
            rows = generator.sample(n, y=minority, seed=seed)
        else:
            row_filter = RowFilter(seed=seed).fit(
                train[features], (train[label] == minority).to_numpy()
            )
            rows, r = row_filter.run(lambda k, s: generator.sample(k, y=minority, seed=s), n, seed)
            counts = f"{r['generated']} / {r['rejected_implausible']} / {r['rejected_copies']} ({r['rounds']} rounds)"
        sample_s = time.perf_counter() - started
    elif name == "random":
        started = time.perf_counter()
        rows = case["seen"].iloc[np.random.default_rng(seed).integers(0, len(case["seen"]), n)]
        fit_s, sample_s = 0.0, time.perf_counter() - started
    elif name == "smote":
        from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

        cats = [
            i for i, c in enumerate(features) if train[c].dtype.kind not in "iuf"
        ]  # booleans too
        strategy = {minority: len(case["seen"]) + n}
        kind = SMOTE if not cats else SMOTEN if len(cats) == len(features) else SMOTENC
        extra = {"categorical_features": cats} if kind is SMOTENC else {}
        sampler = kind(sampling_strategy=strategy, random_state=seed, **extra, **params)
        started = time.perf_counter()
        X, _ = sampler.fit_resample(train[features], train[label])
        fit_s, sample_s = time.perf_counter() - started, float("nan")  # one call fits and samples
        rows = X.iloc[len(train) :]  # imbalanced-learn appends the new rows to the input rows
    else:  # in a process of its own: torch training after TensorFlow's in one process crashes it
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            rows, fit_s, sample_s = pool.submit(
                sdv_rows, name, case["seen"], n, seed, params
            ).result()
    rows = cast_like(
        pd.DataFrame(rows, columns=features).reset_index(drop=True), train[features].dtypes
    )
    rows.insert(
        list(train.columns).index(label), label, pd.Series([minority] * n, dtype=train[label].dtype)
    )
    return rows[list(train.columns)], fit_s, sample_s, counts


def shapes(real, samples) -> tuple[float, float]:
    """Mean KS (numeric columns) and TV (categorical) of the samples against ``real``; NaN for a kind of no column."""
    per = [column_similarity(real, s) for s in samples]
    out = []
    for kind in ("KS", "TV"):
        values = [[v for k, v in p.values() if k == kind] for p in per]
        out.append(float(np.mean(values)) if values[0] else float("nan"))
    return tuple(out)


def subsamples(frame, k: int, seed: int):
    """``DRAWS`` seeded samples of ``k`` rows (or the frame once, when it has only ``k``)."""
    return (
        [frame]
        if len(frame) <= k
        else [
            frame.iloc[np.random.default_rng(seed + d).permutation(len(frame))[:k]]
            for d in range(DRAWS)
        ]
    )


def floor_figures(case: dict, n: int, seed: int) -> dict:
    """The real-vs-real values: training minority rows (samples of the size the synthetic rows are
    compared at) against the held-back rows."""
    seen, held = case["seen"], case["heldback"]
    ks, tv = shapes(held, subsamples(seen, min(n, len(seen)), seed))
    return {
        "ks_floor": ks,
        "tv_floor": tv,
        "correlation_floor": correlation_similarity(seen, held),
        "c2st_floor": c2st_auc(held, seen, seed=seed, draws=DRAWS),
    }


def figures(case: dict, rows, floor: dict, seed: int) -> dict:
    """Every figure of one generator's rows (see the module docstring)."""
    seen, held, synth = case["seen"], case["heldback"], rows[case["features"]]
    draws = subsamples(synth, min(len(synth), len(seen)), seed)
    out = dict(
        zip(
            ("ks_train", "tv_train", "ks_heldback", "tv_heldback"),
            (*shapes(seen, draws), *shapes(held, draws)),
        )
    )
    out["shape_ratio"] = float(
        np.nanmean([out["ks_heldback"], out["tv_heldback"]])
        / np.nanmean([floor["ks_floor"], floor["tv_floor"]])
    )
    for kind in ("ks", "tv"):  # NaN for a table without that kind of column
        out[f"{kind}_ratio"] = float(out[f"{kind}_heldback"] / floor[f"{kind}_floor"])
    out["correlation"] = float(np.mean([correlation_similarity(seen, s) for s in draws]))
    out["c2st_auc"] = c2st_auc(held, synth, seed=seed, draws=DRAWS)
    p = privacy(seen, synth, held)
    out.update(
        exact_copies=p["exact_copy_share"],
        heldback_copies=p["holdout_exact_copy_share"],
        dcr_synthetic=p["median_distance_synthetic"],
        dcr_heldback=p["median_distance_holdout"],
        share_below_p5=p["share_below_p5"],
    )
    for classifier, prefix in CLASSIFIERS.items():
        gain = augmentation_gain(
            case["train"],
            rows,
            case["test"],
            case["label"],
            positive_label=case["minority"],
            seed=seed,
            n_boot=N_BOOT,
            classifier=classifier,
            reweighted=True,
        )
        out.update({prefix + key: value for key, value in gain.items()})
    return out


def seconds(r: dict) -> float:
    """Fit plus sample seconds (SMOTE-NC's one call is its fit)."""
    return float(np.nansum([r["fit_s"], r["sample_s"]]))


def met(r: dict, smote_c2st: float | None) -> str:
    """Which targets one generator's figures meet (``smote_c2st``: SMOTE-NC's AUC, same run)."""
    checks = [
        ("KS", not r["ks_ratio"] > MAX_KS_RATIO),
        (
            "two-sample AUC",
            r["c2st_auc"] <= MAX_C2ST and (smote_c2st is None or r["c2st_auc"] < smote_c2st),
        ),
        ("time", seconds(r) <= MAX_SECONDS),
        ("AP change", r["ap_change_hi"] >= 0),
    ]
    return ", ".join(f"{what} {'met' if ok else 'MISSED'}" for what, ok in checks)


ROWS = [  # (figure, key in a generator's results, what the real-vs-real column shows: a key or a text)
    ("KS vs training minority", "ks_train", ""),
    ("TV vs training minority", "tv_train", ""),
    ("KS vs held-back", "ks_heldback", "ks_floor"),
    ("TV vs held-back", "tv_heldback", "tv_floor"),
    ("KS ratio (held-back / real vs real)", "ks_ratio", ""),
    ("TV ratio (held-back / real vs real)", "tv_ratio", ""),
    ("shape ratio (mean of KS and TV)", "shape_ratio", ""),
    ("correlation similarity", "correlation", "correlation_floor"),
    ("two-sample AUC vs held-back", "c2st_auc", "c2st_floor"),
    ("exact copies of training rows (share)", "exact_copies", "heldback_copies"),
    ("DCR median", "dcr_synthetic", "dcr_heldback"),
    ("closer than held-back p5", "share_below_p5", "0.05 expected"),
    ("gradient boosting: AP real only", "ap_real", ""),
    ("gradient boosting: AP re-weighted", "ap_reweighted", ""),
    ("gradient boosting: AP real + synthetic", "ap_augmented", ""),
    ("gradient boosting: AP change [95% interval]", "ap_change", ""),
    ("gradient boosting: AP change vs re-weighting", "ap_change_vs_reweighted", ""),
    ("linear: AP real only", "linear_ap_real", ""),
    ("linear: AP re-weighted", "linear_ap_reweighted", ""),
    ("linear: AP real + synthetic", "linear_ap_augmented", ""),
    ("linear: AP change [95% interval]", "linear_ap_change", ""),
    ("linear: AP change vs re-weighting", "linear_ap_change_vs_reweighted", ""),
    ("fit s", "fit_s", ""),
    ("sample s", "sample_s", ""),
    ("filter: generated / implausible / near copies", "filter_counts", ""),
]
CHANGES = (
    "ap_change",
    "ap_change_vs_reweighted",
    "reweight_change",
    "linear_ap_change",
    "linear_ap_change_vs_reweighted",
    "linear_reweight_change",
)


def cell(r: dict, key: str) -> str:
    value = r.get(key, key)
    if key in CHANGES:
        return f"{value:+.4f} [{r[key + '_lo']:+.4f}, {r[key + '_hi']:+.4f}]"
    if not isinstance(value, float):
        return str(value)
    return "-" if np.isnan(value) else f"{value:.1f}" if key.endswith("_s") else f"{value:.4f}"


def smote_auc(results: dict) -> float | None:
    return results["smote"]["c2st_auc"] if "smote" in results else None


def print_table(results: dict, floor: dict) -> None:
    """The markdown table (figures by generator, then the real-vs-real floor) and the targets."""
    names = list(results)
    reference = {
        **floor,
        "heldback_copies": results[names[0]]["heldback_copies"],
        "dcr_heldback": results[names[0]]["dcr_heldback"],
    }
    print("| figure | " + " | ".join(names) + " | real vs real |")
    print("|---" * (len(names) + 2) + "|")
    for title, key, other in (row for row in ROWS if row[1] in results[names[0]]):
        print(
            f"| {title} | "
            + " | ".join(cell(results[n], key) for n in names)
            + f" | {cell(reference, other)} |"
        )
    first = results[names[0]]
    print(
        f"\nre-weighting the minority class instead (same class balance, no new rows): AP change "
        f"{cell(first, 'reweight_change')} (gradient boosting), "
        f"{cell(first, 'linear_reweight_change')} (linear)"
    )
    print(f"\ntargets: {TARGETS}")
    for name, r in results.items():
        print(f"  {name}: {met(r, None if name == 'smote' else smote_auc(results))}")


def ratio(value: float, floor: float) -> str:
    return "-" if np.isnan(value) else f"{value:.3f} ({value / floor:.2f}x)"


def print_case_table(results: dict, floor: dict) -> None:
    """One case as the issue's table: a row per generator, re-weighting, then the real-vs-real
    floor."""
    print(
        "| generator | KS vs held-back (ratio to floor) | TV (ratio) | two-sample AUC "
        "| AP change, gradient boosting [95%] | AP change, linear [95%] "
        "| vs re-weighting: boosting / linear | copies | fit + sample s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {ratio(r['ks_heldback'], floor['ks_floor'])} "
            f"| {ratio(r['tv_heldback'], floor['tv_floor'])} | {r['c2st_auc']:.3f} "
            f"| {cell(r, 'ap_change')} | {cell(r, 'linear_ap_change')} "
            f"| {r['ap_change_vs_reweighted']:+.4f} / {r['linear_ap_change_vs_reweighted']:+.4f} "
            f"| {r['exact_copies']:.2f} | {seconds(r):.1f} |"
        )
    first = next(iter(results.values()))
    print(
        f"| re-weighting | | | | {cell(first, 'reweight_change')} "
        f"| {cell(first, 'linear_reweight_change')} | | | |"
    )
    print(
        f"| real vs real | {floor['ks_floor']:.3f} | "
        + ("-" if np.isnan(floor["tv_floor"]) else f"{floor['tv_floor']:.3f}")
        + f" | {floor['c2st_floor']:.3f} | | | | | |"
    )


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """The mean over cases of each generator's figures (CSV rows of ``--csv``), with the worst case
    and how many cases meet the targets; ``re-weighting`` is its own row."""
    rows = rows.copy()
    rows["seconds"] = rows[["fit_s", "sample_s"]].sum(axis=1, min_count=1)
    case = ["table", "minority", "seed"]
    smote = rows[rows.generator == "smote"].set_index(case)["c2st_auc"]
    rows["below_smote"] = [
        np.nan if g == "smote" or key not in smote.index else float(auc < smote[key])
        for g, auc, key in zip(rows.generator, rows.c2st_auc, map(tuple, rows[case].to_numpy()))
    ]
    rows["met"] = (
        (rows.ks_ratio <= MAX_KS_RATIO)
        & (rows.c2st_auc <= MAX_C2ST)
        & (rows.below_smote.fillna(1) == 1)
        & (rows.seconds <= MAX_SECONDS)
    )
    grouped = rows.groupby("generator", sort=False)
    out = pd.DataFrame(
        {
            "cases": grouped.size(),
            "KS ratio": grouped.ks_ratio.mean(),
            "worst KS ratio": grouped.ks_ratio.max(),
            "TV ratio": grouped.tv_ratio.mean(),
            "two-sample AUC": grouped.c2st_auc.mean(),
            "worst AUC": grouped.c2st_auc.max(),
            "AUC below SMOTE's": grouped.below_smote.sum(min_count=1),
            "AP change, boosting": grouped.ap_change.mean(),
            "AP change, linear": grouped.linear_ap_change.mean(),
            "vs re-weighting, boosting": grouped.ap_change_vs_reweighted.mean(),
            "vs re-weighting, linear": grouped.linear_ap_change_vs_reweighted.mean(),
            "fit + sample s": grouped.seconds.mean(),
            "slowest s": grouped.seconds.max(),
            "cases meeting every target": grouped.met.sum(),
        }
    )
    first = rows.drop_duplicates(case)  # re-weighting: one figure per case
    out.loc["re-weighting"] = {
        "cases": len(first),
        "AP change, boosting": first.reweight_change.mean(),
        "AP change, linear": first.linear_reweight_change.mean(),
    }
    return out


def print_summary(rows: pd.DataFrame, title: str) -> None:
    table = summary(rows)
    print(f"\n{title}\n")
    print("| generator | " + " | ".join(table.columns) + " |")
    print("|---" + "|---:" * len(table.columns) + "|")
    for name, r in table.iterrows():
        cells = []
        for column, value in r.items():
            if pd.isna(value):
                cells.append("")
            elif column.startswith(("cases", "AUC below")):
                cells.append(f"{value:.0f}")
            elif column.startswith(("AP change", "vs re-weighting")):
                cells.append(f"{value:+.4f}")
            elif column.endswith(" s"):
                cells.append(f"{value:.1f}")
            else:
                cells.append(f"{value:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\ntargets: {TARGETS}")


def write_csv(path: Path, rows: list[dict]) -> None:
    """Append ``rows`` to ``path`` (header once); refuse a file whose header differs."""
    exists = path.is_file() and path.stat().st_size > 0
    if exists and list(pd.read_csv(path, nrows=0).columns) != list(rows[0]):
        raise OutputFileError(
            f"{path} has other columns than this script writes; pass a new --csv file"
        )
    pd.DataFrame(rows).to_csv(path, mode="a", header=not exists, index=False)


def minority_size(text: str):
    if text == "all" or text.isdigit() and int(text) >= 1:
        return text if text == "all" else int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of rows or 'all'")


def run_case(table: str, minority_asked, names: list[str], params: dict, args) -> list[dict]:
    """Every generator on one case: prints its table (the full one, or with ``--suite`` the short
    one) and returns one CSV row per generator."""
    frame, label, minority = load_table(table)
    case = make_case(frame, label, minority, minority_asked, args.seed)
    n = args.n or len(case["seen"])
    train, test = case["train"], case["test"]
    sizes = {
        "train_rows": len(train),
        "train_minority_rows": len(case["seen"]),
        "heldback_rows": len(case["heldback"]),
        "test_rows": len(test),
        "test_minority_rows": int((test[label] == minority).sum()),
    }
    with threadpool_limits(
        1
    ):  # many small gradient-boosting fits: threads cost more than they save here
        floor = floor_figures(case, n, args.seed)
    results, failed, fitted = {}, [], {}
    for name in names:
        log(f"{table}: {name}: fitting and making {n} rows ...")
        try:
            rows, fit_s, sample_s, counts = generate(name, case, n, args.seed, params[name], fitted)
        except Exception as exc:  # one generator failing must not lose the others' figures
            failed.append(name)
            log(f"{name} failed: {type(exc).__name__}: {exc}")
            continue
        with threadpool_limits(1):
            results[name] = {
                **figures(case, rows, floor, args.seed),
                "fit_s": fit_s,
                "sample_s": sample_s,
                **({"filter_counts": counts} if set(names) & set(FILTERED) else {}),
            }
        log(
            f"{name}: fit {fit_s:.1f} s"
            + ("" if np.isnan(sample_s) else f", sample {sample_s:.1f} s")
        )
    if not results:
        raise SystemExit(f"every generator failed ({', '.join(failed)}); see the messages above")
    print(
        f"\n**{table}, class {minority!r}: {case['size']} kept; "
        f"generators saw {sizes['train_minority_rows']} among "
        f"{sizes['train_rows']} rows, {sizes['heldback_rows']} held back; test {sizes['test_rows']} rows "
        f"({sizes['test_minority_rows']} minority); {n} synthetic rows each; seed {args.seed}**\n",
        flush=True,
    )
    (print_case_table if args.suite else print_table)(results, floor)
    if failed:
        print(f"failed: {', '.join(failed)} (messages on stderr)")
    base = {
        "table": table,
        "label": label,
        "minority_class": minority,
        "minority": minority_asked,
        "minority_rows": case["size"],
        "seed": args.seed,
        "n": n,
        **sizes,
    }
    out = [{**base, "generator": g, **floor, **r} for g, r in results.items()]
    if args.csv:
        write_csv(Path(args.csv), out)
    return out


def run(args) -> None:
    if args.summarize:
        rows = pd.concat([pd.read_csv(path) for path in args.summarize], ignore_index=True)
        print_summary(
            rows, f"mean over {rows.drop_duplicates(['table', 'minority', 'seed']).shape[0]} cases"
        )
        return
    names = available(args.generators)
    if any(synthkit_fit(name) for name in names):
        quiet_tensorflow()
    params = parse_generator_params(args.param, names)
    params.update(
        {f: params[f[:-7]] for f in FILTERED if f in names and f[:-7] in names}
    )  # NAME+filter: NAME's
    for name in names:
        check_params(name, params[name])
    cases = SUITE[args.suite] if args.suite else [(args.table, args.minority)]
    rows = []
    for table, minority in cases:
        rows += run_case(table, minority, names, params, args)
    if args.suite:
        print_summary(
            pd.DataFrame(rows), f"mean over the {len(cases)} cases of --suite {args.suite}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--table", help="transactions, adult or anomaly/NAME (e.g. anomaly/cardiotocography)"
    )
    parser.add_argument(
        "--minority",
        type=minority_size,
        help="minority rows to keep (e.g. 300) or all",
    )
    parser.add_argument(
        "--suite",
        choices=sorted(SUITE),
        help="run the cases of one half (choose, confirm) or all, and print the mean over cases",
    )
    parser.add_argument(
        "--summarize",
        nargs="+",
        metavar="CSV",
        help="print the mean over the cases in these --csv files, and run nothing",
    )
    parser.add_argument(
        "--generators",
        nargs="+",
        help=f"some of: {' '.join(GENERATORS)}, or diffusion@STEPS (default: all installed)",
    )
    parser.add_argument(
        "--param", action="append", default=[], help="NAME.key=value: a parameter of generator NAME"
    )
    parser.add_argument(
        "--n", type=int, help="synthetic rows per generator (default: the minority rows they saw)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", help="CSV file to append one row per generator to")
    args = parser.parse_args()
    if args.n is not None and args.n < 1:
        parser.error("--n must be a positive number of rows")
    if not args.summarize and not args.suite and (args.table is None or args.minority is None):
        parser.error("give --table and --minority, or --suite, or --summarize")
    if args.suite and (args.table or args.minority):
        parser.error("--suite runs its own cases: leave out --table and --minority")
    try:
        run(args)
    except SynthkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
