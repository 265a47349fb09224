"""Two-sample and paired measures of synthetic tables: can a classifier tell them apart, and does adding them help.

- ``c2st_auc``: the classifier two-sample test. A gradient-boosting classifier (scikit-learn's
  HistGradientBoostingClassifier, categories native) learns to separate real rows from synthetic
  ones under stratified cross-validation; its ROC-AUC is 0.5 when it cannot (the two samples look
  alike) and 1 when it always can.
- ``paired_bootstrap``: a percentile interval for the change of a score (average precision by
  default) between two models scored on the same test rows, resampling the rows once for both.
- ``augmentation_gain``: the downstream check of synthetic minority rows: the same model (gradient
  boosting, or a linear one) trained on real rows only and on real plus synthetic rows, both scored
  on a real test split, with the paired-bootstrap interval of the change in average precision; and,
  when asked, beside the same model trained on the real rows with the classes re-weighted instead.

They complement ``synthkit.evaluation.tables`` (which holds the column, correlation, utility and
privacy measures) and read tables the same way: numbers as numbers, booleans and everything else
as categories.
"""

from __future__ import annotations

import numpy as np

from synthkit.errors import DataError
from synthkit.evaluation.tables import _both_classes_needed, _check_tables, _kinds, as_text

MAX_NATIVE_LEVELS = (
    255  # the most categories HistGradientBoostingClassifier takes natively (its max_bins)
)


def _encoder(frames, columns):
    """A function from a table to the float matrix gradient boosting reads, and the categorical mask.

    Categories become level codes over the levels seen in ``frames`` (unseen ones NaN, as missing);
    a column with more levels than the classifier takes natively is given as ordinal codes instead.
    """
    import pandas as pd

    kinds = _kinds(frames[0][columns])
    levels = {}
    for name, kind in kinds.items():
        if kind != "numeric":
            both = pd.concat([as_text(f[name]) for f in frames], ignore_index=True)
            levels[name] = {v: i for i, v in enumerate(sorted(both.unique().tolist()))}
    mask = [
        kind != "numeric" and len(levels[name]) <= MAX_NATIVE_LEVELS for name, kind in kinds.items()
    ]

    def encode(frame):
        blocks = []
        for name, kind in kinds.items():
            if kind == "numeric":
                blocks.append(frame[name].to_numpy(dtype=np.float64, na_value=np.nan))
            else:
                lookup = levels[name]
                blocks.append(
                    np.array(
                        [lookup.get(v, np.nan) for v in as_text(frame[name])], dtype=np.float64
                    )
                )
        return np.column_stack(blocks)

    return encode, mask


def _as_frame(data, what: str):
    """A DataFrame as given, or a 2-D array as a DataFrame with columns x0, x1, ..."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    array = np.asarray(data)
    if array.ndim != 2:
        raise DataError(f"the {what} rows must be a table or a 2-D array, got shape {array.shape}")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def c2st_auc(
    real, synthetic, seed: int = 0, folds: int = 5, draws: int = 1, max_iter: int = 100
) -> float:
    """Classifier two-sample test: cross-validated ROC-AUC of a model told to separate real from synthetic rows.

    ``real`` and ``synthetic`` are tables with the same columns (or 2-D arrays of the same width).
    The larger sample is cut to the size of the smaller by a seeded random draw, so that both
    classes weigh the same; with ``draws`` > 1 that is done that many times (seeds ``seed``,
    ``seed + 1``, ...) and the AUCs averaged. Each draw: ``folds``-fold stratified cross-validation
    of a HistGradientBoostingClassifier (categories native; its minimum leaf size scaled down for
    samples too small for the default of 20, so that they can still be split), the mean of the
    folds' ROC-AUC. About 0.5: the classifier cannot tell the samples apart; 1: it always can.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    real, synthetic = _as_frame(real, "real"), _as_frame(synthetic, "synthetic")
    _check_tables(real, synthetic)
    for name, value in (("folds", folds), ("draws", draws), ("max_iter", max_iter)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < (2 if name == "folds" else 1)
        ):
            raise DataError(
                f"{name} must be an integer of at least {2 if name == 'folds' else 1}, got {value!r}"
            )
    size = min(len(real), len(synthetic))
    if size < folds:
        raise DataError(
            f"the two-sample test needs at least {folds} rows in each sample (one per fold), "
            f"got {len(real)} real and {len(synthetic)} synthetic; pass more rows or fewer folds"
        )
    columns = list(real.columns)
    synthetic = synthetic[columns]
    encode, mask = _encoder([real, synthetic], columns)
    A, B = encode(real), encode(synthetic)
    aucs = []
    for draw in range(draws):
        rng = np.random.default_rng(seed + draw)
        a = A[rng.permutation(len(A))[:size]] if len(A) > size else A
        b = B[rng.permutation(len(B))[:size]] if len(B) > size else B
        X, y = np.vstack([a, b]), np.r_[np.zeros(size, int), np.ones(size, int)]
        fold_aucs = []
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed + draw).split(
            X, y
        ):
            leaf = int(min(20, max(3, len(train) // 10)))
            clf = HistGradientBoostingClassifier(
                random_state=seed + draw,
                max_iter=max_iter,
                min_samples_leaf=leaf,
                categorical_features=mask if any(mask) else None,
            )
            clf.fit(X[train], y[train])
            fold_aucs.append(roc_auc_score(y[test], clf.predict_proba(X[test])[:, 1]))
        aucs.append(float(np.mean(fold_aucs)))
    return float(np.mean(aucs))


def paired_bootstrap(
    y_true, scores_a, scores_b, metric=None, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> dict:
    """Percentile interval of ``metric(b) - metric(a)``, both scored on the same resampled rows.

    ``y_true`` holds 0/1 labels, ``scores_a`` and ``scores_b`` the two models' scores for the same
    rows. Each of the ``n_boot`` seeded resamples draws the rows with replacement once and scores
    both models on it, so the interval reflects the change, not the two scores' separate noise.
    ``metric(y, scores)`` defaults to average precision; resamples holding one class only are
    skipped (``resamples`` counts the ones used). Returns ``a``, ``b``, ``change`` (on all rows),
    ``low`` and ``high`` (the interval at ``level``) and ``resamples`` (the ones used).
    """
    from sklearn.metrics import average_precision_score

    metric = average_precision_score if metric is None else metric
    y = np.asarray(y_true).astype(int).ravel()
    a, b = np.asarray(scores_a, np.float64).ravel(), np.asarray(scores_b, np.float64).ravel()
    if not len(y) == len(a) == len(b):
        raise DataError(
            f"labels and scores must have one value per row: got {len(y)}, {len(a)} and {len(b)}"
        )
    if set(np.unique(y).tolist()) != {0, 1}:
        raise DataError("the paired bootstrap needs 0/1 labels holding both classes")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise DataError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0 < level < 1:
        raise DataError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
    rng = np.random.default_rng(seed)
    fast = (
        metric is average_precision_score
    )  # the same figure, a chunk of resamples at once, as row counts
    changes, used = [], 0
    for start in range(0, int(n_boot), 128):
        draws = [rng.integers(0, len(y), len(y)) for _ in range(min(128, int(n_boot) - start))]
        draws = [rows for rows in draws if y[rows].min() != y[rows].max()]
        used += len(draws)
        if fast and draws:
            W = np.stack([np.bincount(rows, minlength=len(y)) for rows in draws]).astype(np.float64)
            changes += list(
                _weighted_average_precision(y, b, W) - _weighted_average_precision(y, a, W)
            )
        elif draws:
            changes += [metric(y[rows], b[rows]) - metric(y[rows], a[rows]) for rows in draws]
    if not changes:
        raise DataError(
            "every bootstrap resample held one class only; the test rows need more of the rarer class"
        )
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(changes, [tail, 100 - tail])
    base, other = float(metric(y, a)), float(metric(y, b))
    return {
        "a": base,
        "b": other,
        "change": other - base,
        "low": float(low),
        "high": float(high),
        "resamples": used,
    }


def _weighted_average_precision(y, scores, W) -> np.ndarray:
    """Average precision (scikit-learn's step-wise definition, ties as one threshold) for each row of
    weights ``W`` (one weight per test row: how often a resample drew it)."""
    order = np.argsort(-scores, kind="mergesort")
    ranked, positive = scores[order], y[order].astype(np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1]  # the first row of each distinct score
    Wo = W[:, order]
    tp = np.add.reduceat(Wo * positive, starts, axis=1).cumsum(axis=1)
    fp = np.add.reduceat(Wo * (1.0 - positive), starts, axis=1).cumsum(axis=1)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    recall_step = np.diff(np.concatenate([np.zeros((len(W), 1)), tp], axis=1), axis=1) / tp[:, -1:]
    return (recall_step * precision).sum(axis=1)


CLASSIFIERS = ("gradient_boosting", "linear")


def _fit_weighted(model, X, y, sample_weight=None):
    """Fit a downstream model, ``sample_weight`` going to its classifier (a pipeline's last
    step)."""
    if sample_weight is None:
        return model.fit(X, y)
    key = f"{model.steps[-1][0]}__sample_weight" if hasattr(model, "steps") else "sample_weight"
    return model.fit(X, y, **{key: sample_weight})


def _downstream_model(classifier: str, mask: list, seed: int, max_iter: int):
    """The classifier of the downstream check: gradient boosting (categories native), or a linear
    one (logistic regression on standardised numbers and one-hot categories, missing values imputed)."""
    if classifier == "gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            random_state=seed, max_iter=max_iter, categorical_features=mask if any(mask) else None
        )
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [i for i, is_category in enumerate(mask) if not is_category]
    categories = [i for i, is_category in enumerate(mask) if is_category]
    columns = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categories,
            ),
        ]
    )
    return make_pipeline(columns, LogisticRegression(max_iter=1000, random_state=seed))


def augmentation_gain(
    real_train,
    synthetic,
    real_test,
    label_column: str,
    positive_label=None,
    seed: int = 0,
    max_iter: int = 100,
    n_boot: int = 1000,
    level: float = 0.95,
    classifier: str = "gradient_boosting",
    reweighted: bool = False,
) -> dict:
    """Average precision on ``real_test`` of a model trained on ``real_train``, and on it plus ``synthetic``.

    ``classifier``: ``"gradient_boosting"`` (HistGradientBoostingClassifier, ``max_iter``
    iterations, categories native, ``seed``) or ``"linear"`` (logistic regression on standardised
    numbers and one-hot categories). All three tables hold ``label_column``; ``positive_label`` is
    the class scored (default: the one ``binary_labels`` picks from the real rows' labels). Returns
    ``ap_real``, ``ap_augmented``, ``ap_change`` and its paired-bootstrap interval ``ap_change_lo``
    / ``ap_change_hi`` (see ``paired_bootstrap``; ``n_boot`` resamples of the test rows, at
    ``level``).

    ``reweighted=True`` also trains the model on the real rows alone with each class weighted by
    its rows with the synthetic ones over its real rows: the same class balance as the augmented
    rows, without new rows. It adds ``ap_reweighted``, ``reweight_change`` (reweighted minus
    real) and ``ap_change_vs_reweighted`` (augmented minus reweighted), each change with its
    ``_lo`` / ``_hi`` interval: an augmentation earns its keep only where it beats re-weighting.
    """
    import pandas as pd

    from synthkit.evaluation.detection import binary_labels

    if classifier not in CLASSIFIERS:
        raise DataError(f"classifier must be one of {', '.join(CLASSIFIERS)}, got {classifier!r}")
    for what, frame in (
        ("real training", real_train),
        ("synthetic", synthetic),
        ("test", real_test),
    ):
        if not isinstance(frame, pd.DataFrame) or label_column not in frame.columns:
            raise DataError(
                f"the {what} rows must be a table holding the label column {label_column!r}"
            )
    columns = list(real_train.columns)
    _check_tables(real_train, synthetic)
    if sorted(map(str, real_test.columns)) != sorted(map(str, columns)):
        raise DataError(
            f"the test rows must have the training rows' columns: {', '.join(map(str, columns))}"
        )
    augmented = pd.concat(
        [real_train, synthetic[columns].astype(real_train.dtypes.to_dict())], ignore_index=True
    )
    reference = pd.concat([real_train[label_column], real_test[label_column]], ignore_index=True)

    def labels(f):
        return binary_labels(f[label_column], positive_label, label_column, reference=reference)[0]

    y_train, y_test = labels(real_train), labels(real_test)
    if len(np.unique(y_train)) < 2 or len(np.unique(y_test)) < 2:
        raise DataError(
            _both_classes_needed(
                "the downstream check", label_column, y_train, y_test, reference, positive_label
            )
        )
    features = [c for c in columns if c != label_column]
    encode, mask = _encoder([real_train, synthetic, real_test], features)
    X_test = encode(real_test)

    def test_scores(frame, weights=None):
        model = _downstream_model(classifier, mask, seed, max_iter)
        _fit_weighted(model, encode(frame), labels(frame), weights)
        return model.predict_proba(X_test)[:, 1]

    real, more = test_scores(real_train), test_scores(augmented)

    def change(a, b, prefix):
        boot = paired_bootstrap(y_test, a, b, n_boot=n_boot, seed=seed, level=level)
        return boot, {
            prefix: boot["change"],
            f"{prefix}_lo": boot["low"],
            f"{prefix}_hi": boot["high"],
        }

    boot, out = change(real, more, "ap_change")
    out = {"ap_real": boot["a"], "ap_augmented": boot["b"], **out}
    if reweighted:
        real_counts = np.bincount(y_train, minlength=2).astype(np.float64)
        all_counts = np.bincount(labels(augmented), minlength=2).astype(np.float64)
        weighted = test_scores(real_train, (all_counts / real_counts)[y_train])
        boot, figures = change(real, weighted, "reweight_change")
        out.update(ap_reweighted=boot["b"], **figures)
        out.update(change(weighted, more, "ap_change_vs_reweighted")[1])
    return out
