"""Quality of synthetic tables against real ones: similarity, utility and privacy measures.

Tables are pandas DataFrames with the same columns:

- ``column_similarity``: Kolmogorov-Smirnov statistic per numeric column, total variation distance
  per categorical or boolean column (0 = same distribution, 1 = disjoint);
- ``correlation_similarity``: 1 - mean |difference| / 2 of the correlation matrices of the encoded
  columns (Spearman ranks for numbers, one-hot for categories), 1 = same pairwise structure;
- ``utility``: gradient boosting (scikit-learn's HistGradientBoostingClassifier) trained on
  synthetic rows and tested on real ones (TSTR) beside real-on-real (TRTR); when the synthetic rows
  hold one class only (an augmentation set), real versus real + synthetic training instead;
- ``privacy``: share of exact copies of real rows, and the distance to the closest real record
  (DCR) of synthetic rows beside the same distance for real held-out rows (``nearest_distances``
  and ``memorisation_summary``, which image evaluation uses too).

``table_report`` gathers every one that can run on the rows given, and names the others (keys of
``TABLE_MEASURES``) with the reason in its ``skipped`` entry; ``table_report_rows`` is how
``synthkit evaluate`` prints it.
"""

from __future__ import annotations

import numpy as np

from synthkit.errors import DataError
from synthkit.evaluation.detection import _show, binary_labels, describe_labels, label_summary
from synthkit.evaluation.rows import format_value as _fmt
from synthkit.adapters._labels import require_label_column


def as_text(values):
    """A Series or DataFrame with every value as ``str`` writes it, missing ones as "nan" or "None".

    pandas 2's ``astype(str)`` did this; pandas 3 keeps missing values missing, and a category
    comparison or a sort of them then fails."""
    values = values.astype(object)
    return values.map(str)


def _kinds(frame) -> dict:
    """Each column's kind: "numeric" for numbers, "categorical" for booleans and everything else."""
    import pandas as pd

    kinds = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            kinds[name] = "categorical"
        elif pd.api.types.is_numeric_dtype(dtype):
            kinds[name] = "numeric"
        else:
            kinds[name] = "categorical"
    return kinds


def _check_tables(real, synthetic) -> None:
    """Refuse anything but two non-empty DataFrames with the same columns, naming the differences."""
    import pandas as pd

    for what, frame in (("real", real), ("synthetic", synthetic)):
        if not isinstance(frame, pd.DataFrame):
            raise DataError(
                f"the {what} data must be a table (DataFrame), got {type(frame).__name__}"
            )
        if len(frame) == 0:
            raise DataError(f"the {what} table is empty")
    missing = [str(c) for c in real.columns if c not in synthetic.columns]
    extra = [str(c) for c in synthetic.columns if c not in real.columns]
    if missing or extra:
        parts = ([f"missing columns {', '.join(missing)}"] if missing else []) + (
            [f"unexpected columns {', '.join(extra)}"] if extra else []
        )
        raise DataError(f"the synthetic table does not match the real one: {'; '.join(parts)}")


def column_similarity(real, synthetic) -> dict:
    """Per column: ``{"column": (kind, statistic)}`` with KS for numeric, total variation otherwise."""
    from scipy.stats import ks_2samp

    _check_tables(real, synthetic)
    out = {}
    for name, kind in _kinds(real).items():
        a, b = real[name], synthetic[name]
        if kind == "numeric":
            a = a.to_numpy(dtype=np.float64, na_value=np.nan)
            b = np.asarray(b, dtype=np.float64)
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            if len(a) == 0 or len(b) == 0:
                raise DataError(
                    f"column {name!r} has no finite values in the "
                    f"{'real' if len(a) == 0 else 'synthetic'} table: drop it from both, or give it values"
                )
            out[name] = ("KS", float(ks_2samp(a, b).statistic))
        else:
            p = as_text(a).value_counts(normalize=True)
            q = as_text(b).value_counts(normalize=True)
            levels = p.index.union(q.index)
            out[name] = (
                "TV",
                float(
                    0.5
                    * np.abs(
                        p.reindex(levels, fill_value=0) - q.reindex(levels, fill_value=0)
                    ).sum()
                ),
            )
    return out


def _encode_numeric(frame, kinds: dict, levels: dict) -> np.ndarray:
    """Numbers as ranks (Spearman), booleans and categories one-hot over ``levels``."""
    from scipy.stats import rankdata

    blocks = []
    for name, kind in kinds.items():
        if (
            kind == "numeric"
        ):  # a missing number takes the mean rank, so it leaves the column's correlations be
            ranks = rankdata(
                frame[name].to_numpy(dtype=np.float64, na_value=np.nan), nan_policy="omit"
            )
            blocks.append(
                np.nan_to_num(ranks, nan=np.nanmean(ranks) if np.isfinite(ranks).any() else 0.0)[
                    :, None
                ]
            )
        else:
            values = as_text(frame[name]).to_numpy()
            blocks.append((values[:, None] == np.asarray(levels[name])[None, :]).astype(np.float64))
    return np.hstack(blocks)


def correlation_similarity(real, synthetic) -> float:
    """1 - mean |corr(real) - corr(synthetic)| / 2 over pairs of encoded columns (1 = identical).

    Pairs within one categorical column's one-hot block are left out; a column that is constant in
    one table has correlation 0 there. Tables of fewer than 2 rows have no correlations: a
    ``DataError`` says so (``table_report`` then skips the measure).
    """
    _check_tables(real, synthetic)
    if min(len(real), len(synthetic)) < 2:
        raise DataError(
            f"correlations need 2 rows or more in each table (real {len(real)}, "
            f"synthetic {len(synthetic)})"
        )
    kinds = _kinds(real)
    levels = {
        n: sorted(as_text(real[n]).unique().tolist()) for n, k in kinds.items() if k != "numeric"
    }
    owner = []
    for i, (name, kind) in enumerate(kinds.items()):
        owner += [i] * (1 if kind == "numeric" else len(levels[name]))
    owner = np.asarray(owner)
    if len(kinds) < 2:
        return float("nan")

    def corr(frame):
        E = _encode_numeric(frame, kinds, levels)
        with np.errstate(invalid="ignore", divide="ignore"):
            C = np.corrcoef(E, rowvar=False)
        return np.nan_to_num(C, nan=0.0)

    diff = np.abs(corr(real) - corr(synthetic[list(real.columns)]))
    pairs = owner[:, None] < owner[None, :]
    return float(1.0 - diff[pairs].mean() / 2.0)


def _gbm_frame(frame, kinds: dict, levels: dict):
    """The float matrix gradient boosting reads: numbers as they are, categories as level codes (NaN if unseen)."""
    X = []
    for name, kind in kinds.items():
        if kind == "numeric":
            X.append(frame[name].to_numpy(dtype=np.float64))
        else:
            lookup = {v: i for i, v in enumerate(levels[name])}
            X.append(np.array([lookup.get(v, -1) for v in as_text(frame[name])], dtype=np.float64))
    X = np.column_stack(X)
    X[X == -1] = np.nan
    return X


def gbm_scores(
    train,
    test,
    label_column: str,
    seed: int = 0,
    max_iter: int = 100,
    positive_label=None,
    reference=None,
) -> dict:
    """Fit a gradient-boosting classifier on ``train``, score ``test``: ROC-AUC and average precision.

    The label column's classes (and, without ``positive_label``, its positive class) come from
    ``reference`` (default: the labels of ``train`` and ``test`` together); see ``binary_labels``.
    """
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import average_precision_score, roc_auc_score

    features = [c for c in test.columns if c != label_column]
    # a number with no value in the training rows tells the classifier nothing (and scikit-learn's
    # binning fails on it with a traceback)
    kinds = {
        name: kind
        for name, kind in _kinds(test[features]).items()
        if kind != "numeric" or np.isfinite(train[name].to_numpy(np.float64, na_value=np.nan)).any()
    }
    if not kinds:
        raise DataError(
            "the utility measure needs a feature with values in the training rows; every one is missing"
        )
    levels = {
        n: sorted(as_text(test[n]).unique().tolist()) for n, k in kinds.items() if k != "numeric"
    }
    if reference is None:
        reference = pd.concat([train[label_column], test[label_column]], ignore_index=True)
    y_train, y_test = (
        binary_labels(frame[label_column], positive_label, label_column, reference=reference)[0]
        for frame in (train, test)
    )
    if len(np.unique(y_train)) < 2 or len(np.unique(y_test)) < 2:
        raise DataError(
            _both_classes_needed(
                "the utility measure", label_column, y_train, y_test, reference, positive_label
            )
        )
    clf = HistGradientBoostingClassifier(
        random_state=seed,
        max_iter=max_iter,
        categorical_features=[k != "numeric" for k in kinds.values()],
    )
    clf.fit(_gbm_frame(train, kinds, levels), y_train)
    p = clf.predict_proba(_gbm_frame(test, kinds, levels))[:, 1]
    return {
        "roc_auc": float(roc_auc_score(y_test, p)),
        "average_precision": float(average_precision_score(y_test, p)),
    }


def _both_classes_needed(measure: str, label_column, y_train, y_test, reference, positive_label):
    """The one-line message for a measure that needs both classes in its training and test rows:
    how many rows of the positive class each holds, and what to do."""
    positive = binary_labels(reference, positive_label, label_column)[1]
    return (
        f"{measure} needs both classes of {label_column!r} in the training and test rows, got "
        f"{int(np.sum(y_train))} of {len(y_train)} training and {int(np.sum(y_test))} of "
        f"{len(y_test)} test rows of class {_show(positive)}: give more rows of the rarer class, or "
        "held-out rows that hold both"
    )


def utility(
    real_train,
    synthetic,
    real_test,
    label_column: str,
    seed: int = 0,
    max_iter: int = 100,
    positive_label=None,
) -> dict:
    """Train-on-synthetic-test-on-real beside train-on-real; or real vs real + synthetic for one-class sets.

    Returns ``{"mode": "tstr" | "augment", "real": {...}, "synthetic": {...}}`` where each holds
    ``roc_auc`` and ``average_precision`` on ``real_test``; in ``augment`` mode "synthetic" is the
    model trained on ``real_train`` plus the synthetic rows. The positive class is
    ``positive_label``, or the one ``binary_labels`` picks from the real rows' labels.
    """
    import pandas as pd

    for what, frame in (("real", real_train), ("synthetic", synthetic), ("test", real_test)):
        require_label_column(frame, label_column, f"the {what} table")
    reference = pd.concat([real_train[label_column], real_test[label_column]], ignore_index=True)
    args = (seed, max_iter, positive_label, reference)
    base = gbm_scores(real_train, real_test, label_column, *args)
    y_synthetic, _ = binary_labels(
        synthetic[label_column], positive_label, label_column, reference=reference
    )
    if len(np.unique(y_synthetic)) >= 2:
        return {
            "mode": "tstr",
            "real": base,
            "synthetic": gbm_scores(synthetic, real_test, label_column, *args),
        }
    both = pd.concat(
        [real_train, synthetic[list(real_train.columns)].astype(real_train.dtypes.to_dict())],
        ignore_index=True,
    )
    return {
        "mode": "augment",
        "real": base,
        "synthetic": gbm_scores(both, real_test, label_column, *args),
    }


def _distance_space(reference, kinds: dict):
    """Encoder to a space where distances are comparable: numbers robust-scaled, categories one-hot.

    A missing number sits at the median; where the reference has missing numbers in a column, a
    0/1 "is missing" feature follows it, so a gap and a value differ by 1, as two levels do."""
    stats, levels, flagged = {}, {}, set()
    for name, kind in kinds.items():
        if kind == "numeric":
            v = reference[name].to_numpy(dtype=np.float64, na_value=np.nan)
            if np.isnan(v).any():
                flagged.add(name)
            v = v[np.isfinite(v)]
            q1, q3 = np.percentile(v, [25, 75]) if len(v) else (0.0, 0.0)
            scale = q3 - q1 if q3 > q1 else (v.std() if len(v) and v.std() > 0 else 1.0)
            stats[name] = (float(np.median(v)) if len(v) else 0.0, float(scale))
        else:
            levels[name] = sorted(as_text(reference[name]).unique().tolist())

    def encode(frame):
        blocks = []
        for name, kind in kinds.items():
            if kind == "numeric":
                med, scale = stats[name]
                v = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
                absent = np.isnan(v)
                blocks.append(np.where(absent, 0.0, (v - med) / scale)[:, None])
                if name in flagged:
                    blocks.append(absent[:, None].astype(np.float64))
            else:
                values = as_text(frame[name]).to_numpy()
                blocks.append(
                    (values[:, None] == np.asarray(levels[name])[None, :]).astype(np.float64)
                    / np.sqrt(2)
                )
        return np.hstack(blocks)

    return encode


def nearest_distances(queries: np.ndarray, reference: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row (2-D float arrays)."""
    queries = np.asarray(queries, dtype=np.float64).reshape(len(queries), -1)
    reference = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    ref_sq = (reference**2).sum(axis=1)
    out = np.empty(len(queries))
    for start in range(0, len(queries), chunk):
        q = queries[start : start + chunk]
        d2 = (q**2).sum(axis=1)[:, None] + ref_sq[None, :] - 2.0 * (q @ reference.T)
        out[start : start + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def memorisation_summary(d_synth: np.ndarray, d_holdout: np.ndarray) -> dict:
    """Compare nearest-training distances of synthetic items with those of real held-out items.

    ``near_copies``: synthetic items closer to a training item than every real held-out item is.
    ``share_below_p5``: share of synthetic items closer than the 5th percentile of the held-out
    distances (about 0.05 when the generator does not copy; much more suggests memorisation).
    """
    floor = float(d_holdout.min())
    return {
        "median_distance_synthetic": float(np.median(d_synth)),
        "median_distance_holdout": float(np.median(d_holdout)),
        "distance_ratio": float(np.median(d_synth) / np.median(d_holdout))
        if np.median(d_holdout) > 0
        else float("nan"),
        "share_below_p5": float((d_synth < np.percentile(d_holdout, 5)).mean()),
        "near_copies": int((d_synth < floor).sum()),
    }


def privacy(real_train, synthetic, real_holdout) -> dict:
    """Exact copies of training rows, and distance to the closest training record vs real held-out rows."""
    if len(real_train) == 0 or len(real_holdout) == 0:
        raise DataError(
            f"the privacy measure needs real training and held-out rows, got {len(real_train)} "
            f"and {len(real_holdout)}: give more real rows, or held-out rows apart"
        )
    _check_tables(real_train, synthetic)
    columns = list(real_train.columns)
    kinds = _kinds(real_train)

    def key(f):
        return set(map(tuple, as_text(f[columns]).to_numpy().tolist()))

    train_rows = key(real_train)
    synth_keys = list(map(tuple, as_text(synthetic[columns]).to_numpy().tolist()))
    copies = sum(k in train_rows for k in synth_keys)
    holdout_keys = list(map(tuple, as_text(real_holdout[columns]).to_numpy().tolist()))
    encode = _distance_space(real_train, kinds)
    ref = encode(real_train)
    out = {
        "exact_copies": int(copies),
        "exact_copy_share": float(copies / len(synthetic)),
        "holdout_exact_copy_share": float(
            sum(k in train_rows for k in holdout_keys) / len(real_holdout)
        ),
    }
    out.update(
        memorisation_summary(
            nearest_distances(encode(synthetic[columns]), ref),
            nearest_distances(encode(real_holdout[columns]), ref),
        )
    )
    return out


def split_holdout(frame, fraction: float = 0.2, seed: int = 0):
    """(train, holdout): a random split of a table (stratified on nothing; fixed seed)."""
    order = np.random.default_rng(seed).permutation(len(frame))
    k = max(1, int(round(len(frame) * fraction)))
    return frame.iloc[order[k:]].reset_index(drop=True), frame.iloc[order[:k]].reset_index(
        drop=True
    )


TABLE_MEASURES = {  # a report's key for each measure: the name a printed report gives it
    "columns": "column similarity",
    "correlation_similarity": "correlation similarity",
    "label_tv": "TV of the label column",
    "by_label": "per-label similarity",
    "privacy": "privacy",
    "utility": "utility",
}


def table_report(
    real,
    synthetic,
    label_column: str | None = None,
    holdout=None,
    seed: int = 0,
    positive_label=None,
) -> dict:
    """Every table measure that can run, in one dict, and why the others could not.

    ``real`` is the data the generator learned from; ``holdout`` real rows it did not see (when
    None, 20% of ``real`` are held out as the baseline for privacy and as the test set for utility).
    With ``label_column`` (two-valued; ``positive_label`` names the class utility scores, by
    default the one ``binary_labels`` picks from ``real``), the column measures are also given for
    the rows of each label value present in the synthetic set, and utility is measured.

    A measure that cannot run on these rows (utility when its training or test rows hold one
    class only, as a rare class of a few rows may) is left out, and ``report["skipped"]`` maps its
    key (one of ``TABLE_MEASURES``: "columns", "utility", ...) to the one-line reason; it is empty
    when every measure ran. Bad inputs (not tables, different columns, a label column that is
    missing, not two-valued in ``real`` or holding other values elsewhere) raise ``DataError``
    before any measure, and so does a report in
    which no measure can run.
    """
    _check_tables(real, synthetic)
    synthetic = synthetic[list(real.columns)]
    others = {"synthetic": synthetic}  # tables whose labels must be real classes (or one of them)
    if holdout is None:
        train, holdout = split_holdout(real, 0.2, seed)
    else:
        _check_tables(real, holdout)
        train, others["held-out"] = real, holdout
    features = list(real.columns)
    if label_column is not None:
        require_label_column(real, label_column)
        truth, positive = binary_labels(real[label_column], positive_label, label_column)
        for what, frame in others.items():
            try:
                binary_labels(frame[label_column], positive, label_column, real[label_column])
            except DataError as error:
                raise DataError(f"the {what} rows: {error}") from None
        features.remove(label_column)  # the label's own distribution is reported apart
    report = {"rows_real": int(len(real)), "rows_synthetic": int(len(synthetic))}
    skipped = {}

    def measure(key, compute):
        try:
            report[key] = compute()
        except DataError as error:
            skipped[key] = str(error)

    measure("columns", lambda: column_similarity(real[features], synthetic[features]))
    if "columns" in report:
        cols = report["columns"]
        report["mean_ks"] = _mean([v for k, v in cols.values() if k == "KS"])
        report["mean_tv"] = _mean([v for k, v in cols.values() if k == "TV"])
    measure("correlation_similarity", lambda: correlation_similarity(real, synthetic))
    measure("privacy", lambda: privacy(train, synthetic, holdout))
    if label_column is not None:
        report.update(label_summary(label_column, positive, truth))
        measure(
            "label_tv",
            lambda: column_similarity(
                as_text(real[[label_column]]), as_text(synthetic[[label_column]])
            )[label_column][1],
        )
        measure("by_label", lambda: _by_label(real, synthetic, label_column))
        measure(
            "utility",
            lambda: utility(train, synthetic, holdout, label_column, seed, positive_label=positive),
        )
    if not any(key in report for key in TABLE_MEASURES):
        raise DataError(
            "no measure of the tables could run: "
            + "; ".join(f"{TABLE_MEASURES[key]}: {why}" for key, why in skipped.items())
        )
    report["skipped"] = skipped
    return report


def _by_label(real, synthetic, label_column: str) -> dict:
    """Mean KS and TV of the feature columns over the rows of each label value in ``synthetic``."""
    by_label = {}
    for value in synthetic[label_column].drop_duplicates().tolist():
        r = real[as_text(real[label_column]) == str(value)]
        s = synthetic[as_text(synthetic[label_column]) == str(value)]
        if len(r) and len(s):
            c = column_similarity(r.drop(columns=[label_column]), s.drop(columns=[label_column]))
            by_label[str(value)] = {
                "rows_real": int(len(r)),
                "rows_synthetic": int(len(s)),
                "mean_ks": _mean([v for k, v in c.values() if k == "KS"]),
                "mean_tv": _mean([v for k, v in c.values() if k == "TV"]),
            }
    return by_label


def _mean(values) -> float:
    """The mean, or NaN for no values (a table without numeric or without categorical columns)."""
    return float(np.mean(values)) if len(values) else float("nan")


def table_report_rows(report: dict) -> list[tuple[str, str]]:
    """``table_report`` as the ``(measure, value)`` rows ``synthkit evaluate`` prints; a measure
    that was skipped is printed where it would be, as ``skipped (reason)``."""
    skipped = report.get("skipped", {})

    def skip(key):
        return [(TABLE_MEASURES[key], f"skipped ({skipped[key]})")] if key in skipped else []

    rows = [("rows (real / synthetic)", f"{report['rows_real']} / {report['rows_synthetic']}")]
    if "columns" in report:
        for name, (kind, value) in report["columns"].items():
            rows.append((f"  {kind} {name}", _fmt(value)))
        rows += [
            ("mean KS (numeric)", _fmt(report["mean_ks"])),
            ("mean TV (categorical)", _fmt(report["mean_tv"])),
        ]
    rows += skip("columns")
    if "correlation_similarity" in report:
        rows.append(("correlation similarity", _fmt(report["correlation_similarity"])))
    rows += skip("correlation_similarity")
    if "anomaly_class" in report:
        rows.append(("label column", describe_labels(report, "real rows").partition(": ")[2]))
    if "label_tv" in report:
        rows.append(("TV of the label column", _fmt(report["label_tv"])))
    rows += skip("label_tv")
    for value, r in report.get("by_label", {}).items():
        rows.append(
            (
                f"label={value}: mean KS / TV",
                f"{_fmt(r['mean_ks'])} / {_fmt(r['mean_tv'])} "
                f"({r['rows_real']} real, {r['rows_synthetic']} synthetic rows)",
            )
        )
    rows += skip("by_label")
    if "privacy" in report:
        p = report["privacy"]
        rows += [
            (
                "exact copies of real rows",
                f"{p['exact_copies']} ({p['exact_copy_share']:.2%}; "
                f"real holdout: {p['holdout_exact_copy_share']:.2%})",
            ),
            (
                "DCR median synthetic / holdout",
                f"{_fmt(p['median_distance_synthetic'])} / {_fmt(p['median_distance_holdout'])}",
            ),
            ("closer than holdout p5", _fmt(p["share_below_p5"]) + " (about 0.05 expected)"),
        ]
    rows += skip("privacy")
    if "utility" in report:
        u = report["utility"]
        other = "synthetic (TSTR)" if u["mode"] == "tstr" else "real + synthetic"
        rows += [
            (
                "GBM AP real / " + other,
                f"{_fmt(u['real']['average_precision'])} / {_fmt(u['synthetic']['average_precision'])}",
            ),
            (
                "GBM ROC-AUC real / " + other,
                f"{_fmt(u['real']['roc_auc'])} / {_fmt(u['synthetic']['roc_auc'])}",
            ),
        ]
    rows += skip("utility")
    return rows
