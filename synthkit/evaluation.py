"""Quality of synthetic data: tables and images, plus the ``synthkit evaluate`` command.

Tables (pandas DataFrames with the same columns):

- ``column_similarity``: Kolmogorov-Smirnov statistic per numeric column, total variation distance
  per categorical or boolean column (0 = same distribution, 1 = disjoint);
- ``correlation_similarity``: 1 - mean |difference| / 2 of the correlation matrices of the encoded
  columns (Spearman ranks for numbers, one-hot for categories), 1 = same pairwise structure;
- ``utility``: gradient boosting (scikit-learn's HistGradientBoostingClassifier) trained on
  synthetic rows and tested on real ones (TSTR) beside real-on-real (TRTR); when the synthetic rows
  hold one class only (an augmentation set), real versus real + synthetic training instead;
- ``privacy``: share of exact copies of real rows, and the distance to the closest real record
  (DCR) of synthetic rows beside the same distance for real held-out rows.

Images (arrays (n, 28, 28) or (n, 28, 28, 1), uint8 or floats in [0, 1]):

- classifier accuracy on conditional samples against the labels asked for;
- FID and KID on the 128 features of a small MNIST classifier that synthkit trains and ships
  (``synthkit/data/mnist_classifier.npz``, made by ``benchmarks/train_mnist_classifier.py``), each
  beside its real-vs-real reference (two random parts of the real set), and per class when both
  sets are labelled (digits of one class against all ten is not a measure of quality);
- memorisation: pixel distance from each sample to its nearest training image, beside the same
  distance for real held-out images.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import click
import numpy as np

from synthkit.errors import DataError, ModelFileError, SynthkitError

CLASSIFIER_FILE = Path(__file__).parent / "data" / "mnist_classifier.npz"
CLASSIFIER_VERSION = 1
FEATURE_DIM = 128


# =============================================================================================
# Tables
# =============================================================================================
def _kinds(frame) -> dict:
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
    import pandas as pd

    for what, frame in (("real", real), ("synthetic", synthetic)):
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"the {what} data must be a table (DataFrame), got {type(frame).__name__}")
        if len(frame) == 0:
            raise DataError(f"the {what} table is empty")
    missing = [str(c) for c in real.columns if c not in synthetic.columns]
    extra = [str(c) for c in synthetic.columns if c not in real.columns]
    if missing or extra:
        parts = ([f"missing columns {', '.join(missing)}"] if missing else []) + \
                ([f"unexpected columns {', '.join(extra)}"] if extra else [])
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
                raise DataError(f"column {name!r} has no finite values in the {'real' if len(a) == 0 else 'synthetic'} table")
            out[name] = ("KS", float(ks_2samp(a, b).statistic))
        else:
            p = a.astype(str).value_counts(normalize=True)
            q = b.astype(str).value_counts(normalize=True)
            levels = p.index.union(q.index)
            out[name] = ("TV", float(0.5 * np.abs(p.reindex(levels, fill_value=0) - q.reindex(levels, fill_value=0)).sum()))
    return out


def _encode_numeric(frame, kinds: dict, levels: dict) -> np.ndarray:
    """Numbers as ranks (Spearman), booleans and categories one-hot over ``levels``."""
    from scipy.stats import rankdata

    blocks = []
    for name, kind in kinds.items():
        if kind == "numeric":
            blocks.append(rankdata(frame[name].to_numpy(dtype=np.float64))[:, None])
        else:
            values = frame[name].astype(str).to_numpy()
            blocks.append((values[:, None] == np.asarray(levels[name])[None, :]).astype(np.float64))
    return np.hstack(blocks)


def correlation_similarity(real, synthetic) -> float:
    """1 - mean |corr(real) - corr(synthetic)| / 2 over pairs of encoded columns (1 = identical).

    Pairs within one categorical column's one-hot block are left out; a column that is constant in
    one table has correlation 0 there.
    """
    _check_tables(real, synthetic)
    kinds = _kinds(real)
    levels = {n: sorted(real[n].astype(str).unique().tolist()) for n, k in kinds.items() if k != "numeric"}
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
    X = []
    for name, kind in kinds.items():
        if kind == "numeric":
            X.append(frame[name].to_numpy(dtype=np.float64))
        else:
            lookup = {v: i for i, v in enumerate(levels[name])}
            X.append(np.array([lookup.get(v, -1) for v in frame[name].astype(str)], dtype=np.float64))
    X = np.column_stack(X)
    X[X == -1] = np.nan
    return X


def gbm_scores(train, test, label_column: str, seed: int = 0, max_iter: int = 100, positive_label=None,
               reference=None) -> dict:
    """Fit a gradient-boosting classifier on ``train``, score ``test``: ROC-AUC and average precision.

    The label column's classes (and, without ``positive_label``, its positive class) come from
    ``reference`` (default: the labels of ``train`` and ``test`` together); see ``binary_labels``.
    """
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import average_precision_score, roc_auc_score

    from synthkit.metrics import binary_labels

    features = [c for c in test.columns if c != label_column]
    kinds = _kinds(test[features])
    levels = {n: sorted(test[n].astype(str).unique().tolist()) for n, k in kinds.items() if k != "numeric"}
    if reference is None:
        reference = pd.concat([train[label_column], test[label_column]], ignore_index=True)
    y_train, y_test = (binary_labels(frame[label_column], positive_label, label_column, reference=reference)[0]
                       for frame in (train, test))
    if len(np.unique(y_train)) < 2 or len(np.unique(y_test)) < 2:
        raise DataError(f"the utility measure needs both classes of {label_column!r} in the training and test rows")
    clf = HistGradientBoostingClassifier(random_state=seed, max_iter=max_iter,
                                         categorical_features=[k != "numeric" for k in kinds.values()])
    clf.fit(_gbm_frame(train, kinds, levels), y_train)
    p = clf.predict_proba(_gbm_frame(test, kinds, levels))[:, 1]
    return {"roc_auc": float(roc_auc_score(y_test, p)), "average_precision": float(average_precision_score(y_test, p))}


def utility(real_train, synthetic, real_test, label_column: str, seed: int = 0, max_iter: int = 100,
            positive_label=None) -> dict:
    """Train-on-synthetic-test-on-real beside train-on-real; or real vs real + synthetic for one-class sets.

    Returns ``{"mode": "tstr" | "augment", "real": {...}, "synthetic": {...}}`` where each holds
    ``roc_auc`` and ``average_precision`` on ``real_test``; in ``augment`` mode "synthetic" is the
    model trained on ``real_train`` plus the synthetic rows. The positive class is
    ``positive_label``, or the one ``binary_labels`` picks from the real rows' labels.
    """
    import pandas as pd

    from synthkit.metrics import binary_labels

    for what, frame in (("real", real_train), ("synthetic", synthetic), ("test", real_test)):
        if label_column not in frame.columns:
            raise DataError(f"label column {label_column!r} is not in the {what} table")
    reference = pd.concat([real_train[label_column], real_test[label_column]], ignore_index=True)
    args = (seed, max_iter, positive_label, reference)
    base = gbm_scores(real_train, real_test, label_column, *args)
    y_synthetic, _ = binary_labels(synthetic[label_column], positive_label, label_column, reference=reference)
    if len(np.unique(y_synthetic)) >= 2:
        return {"mode": "tstr", "real": base, "synthetic": gbm_scores(synthetic, real_test, label_column, *args)}
    both = pd.concat([real_train, synthetic[list(real_train.columns)].astype(real_train.dtypes.to_dict())],
                     ignore_index=True)
    return {"mode": "augment", "real": base, "synthetic": gbm_scores(both, real_test, label_column, *args)}


def _distance_space(reference, kinds: dict):
    """Encoder to a space where distances are comparable: numbers robust-scaled, categories one-hot."""
    stats, levels = {}, {}
    for name, kind in kinds.items():
        if kind == "numeric":
            v = reference[name].to_numpy(dtype=np.float64)
            q1, q3 = np.percentile(v, [25, 75])
            scale = q3 - q1 if q3 > q1 else (v.std() or 1.0)
            stats[name] = (float(np.median(v)), float(scale))
        else:
            levels[name] = sorted(reference[name].astype(str).unique().tolist())

    def encode(frame):
        blocks = []
        for name, kind in kinds.items():
            if kind == "numeric":
                med, scale = stats[name]
                blocks.append(((frame[name].to_numpy(dtype=np.float64) - med) / scale)[:, None])
            else:
                values = frame[name].astype(str).to_numpy()
                blocks.append((values[:, None] == np.asarray(levels[name])[None, :]).astype(np.float64) / np.sqrt(2))
        return np.hstack(blocks).astype(np.float32)

    return encode


def nearest_distances(queries: np.ndarray, reference: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row (2-D float arrays)."""
    queries = np.asarray(queries, dtype=np.float64).reshape(len(queries), -1)
    reference = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    ref_sq = (reference ** 2).sum(axis=1)
    out = np.empty(len(queries))
    for start in range(0, len(queries), chunk):
        q = queries[start:start + chunk]
        d2 = (q ** 2).sum(axis=1)[:, None] + ref_sq[None, :] - 2.0 * (q @ reference.T)
        out[start:start + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def _memorisation_summary(d_synth: np.ndarray, d_holdout: np.ndarray) -> dict:
    """Compare nearest-training distances of synthetic items with those of real held-out items.

    ``near_copies``: synthetic items closer to a training item than every real held-out item is.
    ``share_below_p5``: share of synthetic items closer than the 5th percentile of the held-out
    distances (about 0.05 when the generator does not copy; much more suggests memorisation).
    """
    floor = float(d_holdout.min())
    return {
        "median_distance_synthetic": float(np.median(d_synth)),
        "median_distance_holdout": float(np.median(d_holdout)),
        "distance_ratio": float(np.median(d_synth) / np.median(d_holdout)) if np.median(d_holdout) > 0 else float("nan"),
        "share_below_p5": float((d_synth < np.percentile(d_holdout, 5)).mean()),
        "near_copies": int((d_synth < floor).sum()),
    }


def privacy(real_train, synthetic, real_holdout) -> dict:
    """Exact copies of training rows, and distance to the closest training record vs real held-out rows."""
    _check_tables(real_train, synthetic)
    columns = list(real_train.columns)
    kinds = _kinds(real_train)
    key = lambda f: set(map(tuple, f[columns].astype(str).to_numpy().tolist()))  # noqa: E731
    train_rows = key(real_train)
    synth_keys = list(map(tuple, synthetic[columns].astype(str).to_numpy().tolist()))
    copies = sum(k in train_rows for k in synth_keys)
    holdout_keys = list(map(tuple, real_holdout[columns].astype(str).to_numpy().tolist()))
    encode = _distance_space(real_train, kinds)
    ref = encode(real_train)
    out = {
        "exact_copies": int(copies),
        "exact_copy_share": float(copies / len(synthetic)),
        "holdout_exact_copy_share": float(sum(k in train_rows for k in holdout_keys) / len(real_holdout)),
    }
    out.update(_memorisation_summary(nearest_distances(encode(synthetic[columns]), ref),
                                     nearest_distances(encode(real_holdout[columns]), ref)))
    return out


def split_holdout(frame, fraction: float = 0.2, seed: int = 0):
    """(train, holdout): a random split of a table (stratified on nothing; fixed seed)."""
    order = np.random.default_rng(seed).permutation(len(frame))
    k = max(1, int(round(len(frame) * fraction)))
    return frame.iloc[order[k:]].reset_index(drop=True), frame.iloc[order[:k]].reset_index(drop=True)


def table_report(real, synthetic, label_column: str | None = None, holdout=None, seed: int = 0,
                 positive_label=None) -> dict:
    """Every table measure in one dict.

    ``real`` is the data the generator learned from; ``holdout`` real rows it did not see (when
    None, 20% of ``real`` are held out as the baseline for privacy and as the test set for utility).
    With ``label_column`` (two-valued; ``positive_label`` names the class utility scores, by
    default the one ``binary_labels`` picks from ``real``), the column measures are also given for
    the rows of each label value present in the synthetic set, and utility is measured.
    """
    _check_tables(real, synthetic)
    synthetic = synthetic[list(real.columns)]
    if holdout is None:
        train, holdout = split_holdout(real, 0.2, seed)
    else:
        _check_tables(real, holdout)
        train = real
    if label_column is not None and label_column not in real.columns:
        raise DataError(f"label column {label_column!r} is not in the data; columns: {', '.join(map(str, real.columns))}")
    if label_column is not None:
        from synthkit.metrics import binary_labels, label_summary

        truth, positive = binary_labels(real[label_column], positive_label, label_column)
    if label_column is not None:  # the label's own distribution is reported apart from the features'
        cols = column_similarity(real.drop(columns=[label_column]), synthetic.drop(columns=[label_column]))
        label_tv = column_similarity(real[[label_column]].astype(str), synthetic[[label_column]].astype(str))
    else:
        cols = column_similarity(real, synthetic)
    report = {
        "rows_real": int(len(real)),
        "rows_synthetic": int(len(synthetic)),
        "columns": cols,
        "mean_ks": _mean([v for k, v in cols.values() if k == "KS"]),
        "mean_tv": _mean([v for k, v in cols.values() if k == "TV"]),
        "correlation_similarity": correlation_similarity(real, synthetic),
        "privacy": privacy(train, synthetic, holdout),
    }
    if label_column is not None:
        report.update(label_summary(label_column, positive, truth))
        report["label_tv"] = label_tv[label_column][1]
        by_label = {}
        for value in synthetic[label_column].drop_duplicates().tolist():
            r = real[real[label_column].astype(str) == str(value)]
            s = synthetic[synthetic[label_column].astype(str) == str(value)]
            if len(r) and len(s):
                c = column_similarity(r.drop(columns=[label_column]), s.drop(columns=[label_column]))
                by_label[str(value)] = {"rows_real": int(len(r)), "rows_synthetic": int(len(s)),
                                        "mean_ks": _mean([v for k, v in c.values() if k == "KS"]),
                                        "mean_tv": _mean([v for k, v in c.values() if k == "TV"])}
        report["by_label"] = by_label
        report["utility"] = utility(train, synthetic, holdout, label_column, seed, positive_label=positive)
    return report


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


# =============================================================================================
# Images: the shipped MNIST classifier
# =============================================================================================
def build_mnist_classifier():
    """The feature classifier's architecture: ``(model, features_model)``; features are 128-d."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    features = layers.Dense(FEATURE_DIM, activation="relu", name="features")(x)
    x = layers.Dropout(0.3)(features)
    logits = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, logits, name="mnist_classifier"), keras.Model(inputs, features, name="mnist_features")


def save_classifier_weights(model, path, **info) -> None:
    """Write the classifier's weights (float32 arrays w0..wN) and JSON-able info to an npz file."""
    arrays = {f"w{i}": np.asarray(w, dtype=np.float32) for i, w in enumerate(model.get_weights())}
    arrays["version"] = np.array(CLASSIFIER_VERSION)
    for key, value in info.items():
        arrays[f"info_{key}"] = np.asarray(value)
    np.savez_compressed(path, **arrays)


@lru_cache(maxsize=2)
def load_mnist_classifier(path: str | None = None):
    """``(model, features_model, info)`` rebuilt in code with weights from the shipped npz (no pickle)."""
    path = Path(path) if path else CLASSIFIER_FILE
    if not path.is_file():
        raise ModelFileError(f"the MNIST feature classifier {path} is missing; "
                             "recreate it with `python benchmarks/train_mnist_classifier.py`")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise ModelFileError(f"cannot read the MNIST feature classifier {path}: {exc}") from None
    if int(arrays.get("version", -1)) != CLASSIFIER_VERSION:
        raise ModelFileError(f"{path} is not a version-{CLASSIFIER_VERSION} synthkit MNIST classifier")
    model, features = build_mnist_classifier()
    expected = model.get_weights()
    weights = [arrays.get(f"w{i}") for i in range(len(expected))]
    if any(w is None or w.shape != e.shape for w, e in zip(weights, expected)):
        raise ModelFileError(f"{path} does not fit the classifier architecture; retrain it")
    model.set_weights(weights)
    info = {k[5:]: arrays[k].item() for k in arrays if k.startswith("info_") and arrays[k].ndim == 0}
    return model, features, info


def as_unit_images(images) -> np.ndarray:
    """Images as float32 (n, 28, 28, 1) in [0, 1]: integers (and floats above 1) are divided by 255."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[1:] != (28, 28, 1):
        raise DataError(f"the MNIST measures need 28x28 grey images, got shape {tuple(np.asarray(images).shape[1:])}")
    if len(arr) == 0:
        raise DataError("no images given")
    out = arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer) or out.max() > 1.0:
        out = out / 255.0
    return np.clip(out, 0.0, 1.0)


def mnist_features(images, batch_size: int = 500) -> np.ndarray:
    """The classifier's 128-d features of each image."""
    _, features, _ = load_mnist_classifier()
    return np.asarray(features.predict(as_unit_images(images), batch_size=batch_size, verbose=0), dtype=np.float64)


def mnist_predict(images, batch_size: int = 500) -> np.ndarray:
    """The classifier's predicted digit for each image."""
    model, _, _ = load_mnist_classifier()
    return np.asarray(model.predict(as_unit_images(images), batch_size=batch_size, verbose=0)).argmax(axis=1)


def frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula)."""
    from scipy import linalg

    mu1, mu2 = f1.mean(axis=0), f2.mean(axis=0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    with warnings.catch_warnings():  # dead ReLU features make the covariances singular; handled below
        warnings.simplefilter("ignore")
        covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        eps = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def kernel_distance(f1: np.ndarray, f2: np.ndarray, subsets: int = 20, subset_size: int = 1000, seed: int = 0) -> float:
    """KID: unbiased MMD² with the cubic polynomial kernel, averaged over random subsets."""
    rng = np.random.default_rng(seed)
    d = f1.shape[1]
    m = min(subset_size, len(f1), len(f2))
    if m < 2:
        raise DataError("KID needs at least 2 images on each side")
    values = []
    for _ in range(subsets):
        x = f1[rng.choice(len(f1), m, replace=False)]
        y = f2[rng.choice(len(f2), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        values.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                      - 2 * kxy.mean())
    return float(np.mean(values))


def image_report(real, synthetic, labels=None, train=None, holdout=None, real_labels=None, seed: int = 0) -> dict:
    """Measures of ``synthetic`` images against ``real`` ones.

    - ``classifier_accuracy``: with ``labels`` (the class asked for, one per synthetic image), the
      share the shipped classifier reads as that class;
    - ``fid`` and ``kid``: against every real image; ``fid_reference`` and ``kid_reference``: the
      same measures between two parts of ``real`` drawn at random (seeded): ``m`` real images, as
      many as there are synthetic ones but at most half, against the others. FID grows as sets get
      smaller, so read it against this reference: a generator as good as real data scores about
      the reference (``fid_ratio`` = fid / fid_reference about 1 or below);
    - ``by_class``: with ``labels`` and ``real_labels``, for each class in both, the synthetic
      images of that class against the real ones of that class, each with its own reference;
      ``fid_per_class`` and ``kid_per_class`` (and their ``_reference``) are the means over those
      classes. Images of one class compared with all ten classes score a large FID however good
      they are, so these are the measures to read when labels are known;
    - ``memorisation``: when ``train`` (the generator's training images) and ``holdout`` (real
      images it did not see) are given.
    """
    real_u, synth_u = as_unit_images(real), as_unit_images(synthetic)
    if len(real_u) < 4 or len(synth_u) < 2:
        raise DataError("FID needs at least 4 real and 2 synthetic images")
    fr, fs = mnist_features(real_u), mnist_features(synth_u)
    rng = np.random.default_rng(seed)
    report = {"images_real": int(len(real_u)), "images_synthetic": int(len(synth_u))}
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != len(synth_u):
            raise DataError(f"got {len(labels)} labels for {len(synth_u)} synthetic images")
        try:
            asked = labels.astype(float).astype(int)
        except (TypeError, ValueError):
            raise DataError("labels of MNIST samples must be the digits 0-9") from None
        report["classifier_accuracy"] = float((mnist_predict(synth_u) == asked).mean())
    report.update(_distances_with_reference(fr, fs, rng))
    if labels is not None and real_labels is not None:
        real_labels = np.asarray(real_labels)
        if len(real_labels) != len(real_u):
            raise DataError(f"got {len(real_labels)} labels for {len(real_u)} real images")
        report.update(_per_class(fr, fs, real_labels, labels, rng))
    if train is not None and holdout is not None:
        tr = as_unit_images(train)
        report["memorisation"] = _memorisation_summary(nearest_distances(synth_u, tr),
                                                       nearest_distances(as_unit_images(holdout), tr))
    return report


def _distances_with_reference(fr: np.ndarray, fs: np.ndarray, rng) -> dict:
    """FID and KID of synthetic features ``fs`` against real ``fr``, and the real-vs-real reference:
    ``m = min(len(fs), len(fr) // 2)`` real images drawn at random against the other real ones."""
    m = min(len(fs), len(fr) // 2)
    order = rng.permutation(len(fr))
    part, rest = fr[order[:m]], fr[order[m:]]
    fid, ref = frechet_distance(fr, fs), frechet_distance(part, rest)
    return {"fid": fid, "kid": kernel_distance(fr, fs), "fid_reference": ref,
            "kid_reference": kernel_distance(part, rest), "fid_ratio": fid / ref if ref > 0 else float("nan"),
            "reference_images": [int(m), int(len(rest))]}


def _per_class(fr, fs, real_labels, labels, rng) -> dict:
    """Per class in both label sets: FID and KID with their references (see ``image_report``)."""
    from synthkit.metrics import label_key

    real_keys = np.array([label_key(v) for v in real_labels])
    synth_keys = np.array([label_key(v) for v in labels])
    by_class, skipped = {}, []
    for key, first in sorted(dict(zip(synth_keys[::-1], labels[::-1])).items(),
                             key=lambda kv: (len(kv[0]), kv[0])):
        r, s = fr[real_keys == key], fs[synth_keys == key]
        if len(r) < 4 or len(s) < 2:
            skipped.append(str(first))
            continue
        d = _distances_with_reference(r, s, rng)
        by_class[str(first)] = {"images_real": int(len(r)), "images_synthetic": int(len(s)), **d}
    out = {"by_class": by_class, "classes_skipped": skipped}
    if by_class:
        for name in ("fid", "kid", "fid_reference", "kid_reference"):
            out[f"{name.split('_')[0]}_per_class{'_reference' if 'reference' in name else ''}"] = float(
                np.mean([c[name] for c in by_class.values()]))
        ref = out["fid_per_class_reference"]
        out["fid_per_class_ratio"] = out["fid_per_class"] / ref if ref > 0 else float("nan")
    return out


# =============================================================================================
# The `synthkit evaluate` command
# =============================================================================================
def _format_table(rows) -> str:
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def table_report_rows(report: dict) -> list[tuple[str, str]]:
    rows = [("rows (real / synthetic)", f"{report['rows_real']} / {report['rows_synthetic']}")]
    for name, (kind, value) in report["columns"].items():
        rows.append((f"  {kind} {name}", _fmt(value)))
    rows += [("mean KS (numeric)", _fmt(report["mean_ks"])), ("mean TV (categorical)", _fmt(report["mean_tv"])),
             ("correlation similarity", _fmt(report["correlation_similarity"]))]
    if "anomaly_class" in report:
        from synthkit.metrics import describe_labels

        rows.append(("label column", describe_labels(report, "real rows").partition(": ")[2]))
    if "label_tv" in report:
        rows.append(("TV of the label column", _fmt(report["label_tv"])))
    for value, r in report.get("by_label", {}).items():
        rows.append((f"label={value}: mean KS / TV", f"{_fmt(r['mean_ks'])} / {_fmt(r['mean_tv'])} "
                                                      f"({r['rows_real']} real, {r['rows_synthetic']} synthetic rows)"))
    p = report["privacy"]
    rows += [("exact copies of real rows", f"{p['exact_copies']} ({p['exact_copy_share']:.2%}; "
                                           f"real holdout: {p['holdout_exact_copy_share']:.2%})"),
             ("DCR median synthetic / holdout", f"{_fmt(p['median_distance_synthetic'])} / "
                                                f"{_fmt(p['median_distance_holdout'])}"),
             ("closer than holdout p5", _fmt(p["share_below_p5"]) + " (about 0.05 expected)")]
    if "utility" in report:
        u = report["utility"]
        other = "synthetic (TSTR)" if u["mode"] == "tstr" else "real + synthetic"
        rows += [("GBM AP real / " + other, f"{_fmt(u['real']['average_precision'])} / {_fmt(u['synthetic']['average_precision'])}"),
                 ("GBM ROC-AUC real / " + other, f"{_fmt(u['real']['roc_auc'])} / {_fmt(u['synthetic']['roc_auc'])}")]
    return rows


def image_report_rows(report: dict) -> list[tuple[str, str]]:
    """The classifier accuracy first, then FID and KID, each beside its real-vs-real reference (per
    class when both sets are labelled), then memorisation."""
    rows = [("images (real / synthetic)", f"{report['images_real']} / {report['images_synthetic']}")]
    if "classifier_accuracy" in report:
        rows.append(("classifier accuracy on labels", _fmt(report["classifier_accuracy"])))
    by_class = report.get("by_class") or {}
    if by_class:
        rows.append((f"FID per class (mean of {len(by_class)})",
                     _with_reference(report["fid_per_class"], report["fid_per_class_reference"])))
        for name, c in by_class.items():
            rows.append((f"  class {name}", _with_reference(c["fid"], c["fid_reference"]) +
                         f"; {c['images_real']} real, {c['images_synthetic']} synthetic"))
        rows.append(("KID per class (mean)", _with_reference(report["kid_per_class"],
                                                             report["kid_per_class_reference"], ratio=False)))
        if report.get("classes_skipped"):
            rows.append(("  classes too small to compare", ", ".join(report["classes_skipped"])))
    else:
        rows.append(("FID (MNIST classifier features)", _with_reference(report["fid"], report["fid_reference"])))
        rows.append(("KID", _with_reference(report["kid"], report["kid_reference"], ratio=False)))
        if "classifier_accuracy" in report and "by_class" not in report:
            rows.append(("  note", "REAL has no labels: FID and KID compare with every class"))
        elif "classes_skipped" in report:
            rows.append(("  note", "no class has 4 real and 2 synthetic images: FID and KID compare with every class"))
    if "memorisation" in report:
        m = report["memorisation"]
        rows += [("nearest-train distance synth / holdout", f"{_fmt(m['median_distance_synthetic'])} / "
                                                           f"{_fmt(m['median_distance_holdout'])}"),
                 ("closer than holdout p5", _fmt(m["share_below_p5"]) + " (about 0.05 expected)"),
                 ("near copies", str(m["near_copies"]))]
    return rows


def _with_reference(value: float, reference: float, ratio: bool = True) -> str:
    text = f"{_fmt(value)}  (real vs real: {_fmt(reference)}"
    if ratio and reference > 0:
        text += f"; ratio {value / reference:.2f}"
    return text + ")"


@click.command("evaluate")
@click.argument("real")
@click.argument("synthetic")
@click.option("--label-column", default=None, help="Tables: a two-valued label column (per-label similarity and "
                                                   "GBM utility).")
@click.option("--positive-label", default=None, metavar="VALUE",
              help="The --label-column value GBM utility scores as positive (default: the yes value of a "
                   "yes/no pair, else the rarer value in REAL).")
@click.option("--holdout", default=None, help="Real rows or images the generator did not see (default: 20% of REAL for "
                                              "tables; no memorisation check for images).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the holdout split, of the real-vs-real reference draw and of the measures.")
@click.option("--verbose", "-v", is_flag=True,
              help="Also show TensorFlow's own start-up lines, log messages and warnings (stderr).")
def evaluate(real, synthetic, label_column, positive_label, holdout, seed, verbose):
    """Quality of a SYNTHETIC set against REAL data (each a file or a dataset name).

    Images: the classifier accuracy on the labels asked for, then FID and KID beside their
    real-vs-real reference, per class when both sets are labelled (a dataset such as mnist:test,
    or an NPZ with a 'y' array, as `synthkit augment --label` writes).
    """
    from synthkit.quiet import quiet_tensorflow

    quiet_tensorflow(verbose)
    from synthkit.io import read_input

    try:
        real_d, synth_d = read_input(real), read_input(synthetic)
        hold_d = read_input(holdout) if holdout else None
        if real_d.is_table != synth_d.is_table or (hold_d is not None and hold_d.is_table != real_d.is_table):
            raise DataError("REAL and SYNTHETIC must both be tables or both be images")
        if real_d.is_table:
            if positive_label is not None and label_column is None:
                raise DataError("--positive-label names a class of --label-column; give --label-column too")
            report = table_report(real_d.frame, synth_d.frame, label_column=label_column,
                                  holdout=None if hold_d is None else hold_d.frame, seed=seed,
                                  positive_label=positive_label)
            rows = table_report_rows(report)
        else:
            if label_column is not None or positive_label is not None:
                raise DataError("--label-column applies to tables; image labels come from the NPZ 'y' array")
            report = image_report(real_d.images, synth_d.images, labels=synth_d.labels,
                                  train=real_d.images if hold_d is not None else None,
                                  holdout=None if hold_d is None else hold_d.images,
                                  real_labels=real_d.labels, seed=seed)
            rows = image_report_rows(report)
    except SynthkitError as exc:
        raise click.ClickException(" ".join(str(exc).split())) from None
    click.echo(_format_table([("measure", "value")] + rows))
