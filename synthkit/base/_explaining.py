"""Why a row was flagged: each input column's part of a detector's anomaly score (``detector.explain``).

``explain(detector, X)`` returns a DataFrame with X's index and one column per input column of
the fitted table (a one-hot group, and a column's missing flag, count as their column), holding
that column's contribution to the row's score. Every row's contributions add up to its score
(``decision_function(X)``), in one of two ways:

- exactly, where the detector decomposes its score over the encoded features: a plugin implements
  ``_explain_features(Xa)`` on adapted rows, returning an (n, n_features) array of per-feature
  contributions that add up to ``_score(Xa)``, or a pair (that array, {name: (n,) array}) whose
  extra terms belong to no column (the autoencoder's latent part), or None to use the fallback.
  A detector whose exact parts point less often at the unusual column than the fallback does
  (the autoencoder: an extreme input spreads its reconstruction error over the other features;
  see benchmarks/README.md) sets ``explain_method = "ablation"``, and ``explain(detector, X,
  method="decomposition")`` still gives its exact parts.
  The base sums each column's features; extra terms become columns after the input's.
- as a detector made of others combines them: it implements ``_explain_columns(Xa, groups,
  reference)``, returning what ``column_contributions`` returns (the ensemble: see its docstring);
- by the fallback, for any other detector, third-party ones included: each column in turn is set
  to its training median (numbers), most frequent level (text) or majority value (booleans), and
  its contribution is the drop of the score, clipped at 0, scaled with the others so that the row's
  contributions add up to its score (proportional to the drops). A row whose score is not positive,
  or that no single column's change lowers, gets zeros. Deterministic: no sampling.

Rows that ``missing='drop'`` leaves without a score get NaN. Images have no columns to attribute
to: ``explain`` refuses them. ``top_reasons`` words the largest contributions ("amount (62%)"), and
``reason_columns`` gives them for the flagged rows of a detect run (``synthkit detect --explain K``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthkit.errors import DataError

MAX_ABLATION_VALUES = (
    4_000_000  # encoded values scored at once by the fallback (rows x columns x features)
)
METHODS = ("auto", "decomposition", "ablation")
LATENT = "(latent)"  # the name of the autoencoder's latent term, lengthened until no input column holds it


def explain(detector, X, method: str = "auto") -> pd.DataFrame:
    """Each input column's contribution to each row's anomaly score (see the module docstring).

    ``method``: ``"auto"`` (the detector's ``explain_method`` where it names one, else its exact
    decomposition where it has one, else the ablation), ``"decomposition"`` or ``"ablation"``."""
    from synthkit.adapters import as_dense

    if method not in METHODS:
        raise DataError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    detector._check_is_fitted()
    adapter = detector.adapter_
    if getattr(adapter, "kind", None) != "table":
        raise DataError(
            "explain applies to tables (one contribution per column); images have no columns: "
            "compare reconstruct(X) with X, or explain a table of image features"
        )
    X = as_dense(X)
    Xa, kept = detector._adapt(X)
    names = [c["name"] for c in adapter.input_columns]
    groups = feature_groups(adapter)
    values, extra = (
        column_contributions(detector, Xa, groups, reference_row(adapter), method)
        if len(Xa)
        else (np.zeros((0, len(names))), {})
    )
    labels = _user_labels(X, names)
    out = np.full((len(kept), len(names) + len(extra)), np.nan)
    out[kept] = np.column_stack(
        [values] + [np.asarray(v, np.float64).reshape(-1, 1) for v in extra.values()]
    )
    taken = {str(n) for n in labels}
    columns = labels + [_free_name(name, taken) for name in extra]
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(kept))
    return pd.DataFrame(out, index=index, columns=columns)


def feature_groups(adapter) -> list[np.ndarray]:
    """For each input column of a fitted table adapter, the positions of its encoded features: one
    for a number or boolean, one per level for text, plus its missing flag where it has one."""
    position = {c["name"]: i for i, c in enumerate(adapter.input_columns)}
    groups = [[] for _ in position]
    at = 0
    for col in adapter.columns:
        width = len(col["levels"]) if col["kind"] == "categorical" else 1
        groups[position[col.get("missing_of", col["name"])]] += range(at, at + width)
        at += width
    return [np.asarray(g, dtype=np.int64) for g in groups]


def reference_row(adapter) -> np.ndarray:
    """The encoded features of a typical row, which the fallback moves each column to: a number's
    training median, a text column's most frequent level, a boolean's majority value, no missing flag."""
    from synthkit.adapters._tables import _symlog

    parts = []
    for col in adapter.columns:
        if "missing_of" in col:
            parts.append([0.0])
        elif col["kind"] == "numeric":
            v = float(_symlog(np.float64(col["median"]))) if col.get("log") else col["median"]
            parts.append([(v - col["mean"]) / col["std"]])
        elif col["kind"] == "bool":
            parts.append([float(bool(col["fill"]))])
        else:
            parts.append([float(level == col["fill"]) for level in col["levels"]])
    return np.asarray([v for p in parts for v in p], dtype=np.float32)


def column_contributions(
    detector, Xa: np.ndarray, groups, reference: np.ndarray, method: str = "auto"
) -> tuple[np.ndarray, dict]:
    """(n, columns) contributions of adapted rows Xa and the extra terms, by ``method`` (see
    ``explain``). ``reference`` is the typical row in Xa's encoding (an ensemble passes its members' own)."""
    if method == "auto":
        method = getattr(detector, "explain_method", "auto")
    combined = getattr(detector, "_explain_columns", None)
    if method != "ablation" and callable(combined):
        return combined(Xa, groups, reference)
    hook = getattr(detector, "_explain_features", None)
    found = hook(Xa) if method != "ablation" and callable(hook) else None
    if found is None and method == "decomposition":
        raise DataError(
            f"{type(detector).__name__} has no exact decomposition of its score; "
            "use method='ablation' (or 'auto')"
        )
    if found is None:
        return ablation(detector, Xa, groups, reference), {}
    features, extra = found if isinstance(found, tuple) else (found, {})
    features = np.asarray(features, dtype=np.float64).reshape(len(Xa), -1)
    return np.column_stack([features[:, g].sum(axis=1) for g in groups]), dict(extra)


def ablation(detector, Xa: np.ndarray, groups, reference: np.ndarray) -> np.ndarray:
    """The fallback: each column's score drop when set to the typical row's value, clipped at 0,
    scaled so that a row's contributions add up to its score (zeros where it is not positive or
    no column lowers it)."""
    Xa = np.asarray(Xa, dtype=np.float32)
    n, width = len(Xa), max(Xa[0].size, 1)
    chunk = max(1, MAX_ABLATION_VALUES // (width * (len(groups) + 1)))
    out = np.zeros((n, len(groups)))
    for start in range(0, n, chunk):
        rows = Xa[start : start + chunk]
        m = len(rows)
        variants = np.repeat(rows[None], len(groups) + 1, axis=0)  # variant 0: the row as it is
        for j, g in enumerate(groups, start=1):
            variants[j][:, g] = reference[g]
        scores = detector._checked_scores(
            detector._score(variants.reshape(-1, *rows.shape[1:])), len(variants) * m
        )
        scores = scores.reshape(len(groups) + 1, m)
        drops = np.maximum(scores[0][None, :] - scores[1:], 0.0).T
        total, base = drops.sum(axis=1), scores[0]
        scale = np.where((total > 0) & (base > 0), base / np.where(total > 0, total, 1.0), 0.0)
        out[start : start + m] = drops * scale[:, None]
    return out


def top_reasons(explanation: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Columns ``reason_1`` .. ``reason_k``: for each row its ``k`` largest positive contributions
    as text, the column's name and its share of the row's positive contributions ("amount (62%)");
    empty where a row has fewer (or no score)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DataError(f"the number of reasons must be a whole number of at least 1, got {k!r}")
    values = explanation.to_numpy(dtype=np.float64, na_value=np.nan)
    positive = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    total = positive.sum(axis=1)
    order = np.argsort(-positive, axis=1, kind="stable")[:, :k]
    names = [str(c) for c in explanation.columns]
    reasons = np.full((len(values), int(k)), "", dtype=object)
    for i, (row, t) in enumerate(zip(order, total)):
        for r, j in enumerate(row):
            if positive[i, j] > 0:
                reasons[i, r] = f"{names[j]} ({100 * positive[i, j] / t:.0f}%)"
    return pd.DataFrame(
        reasons, index=explanation.index, columns=[f"reason_{r + 1}" for r in range(int(k))]
    )


def check_reasons(k: int, n_columns: int) -> None:
    """Refuse asking for more reasons than there are columns to name (each reason is one column)."""
    if int(k) > n_columns:
        raise DataError(
            f"--explain {k} (explain={k}) asks for more reasons than the {n_columns} column"
            f"{'s' if n_columns != 1 else ''} the model scores; give at most {n_columns}"
        )


def reason_columns(detector, features, rows: np.ndarray, k: int) -> pd.DataFrame:
    """``reason_1`` .. ``reason_k`` (``top_reasons``) for the rows of ``features`` that ``rows`` marks
    (the flagged ones: only they are explained), and "" for the others; one row per feature row.
    ``k`` is at most the model's number of input columns (``check_reasons``)."""
    top_reasons(pd.DataFrame(np.zeros((0, 1))), k)  # checks k before anything is scored
    if getattr(getattr(detector, "adapter_", None), "kind", None) != "table":
        raise DataError(
            "reasons name a table's columns; images have none: leave out --explain (explain=)"
        )
    check_reasons(k, len(detector.adapter_.input_columns))
    rows = np.asarray(rows, dtype=bool)
    out = pd.DataFrame(
        {f"reason_{i}": np.full(len(rows), "", dtype=object) for i in range(1, int(k) + 1)}
    )
    if rows.any():
        chosen = (
            features[rows] if isinstance(features, pd.DataFrame) else np.asarray(features)[rows]
        )
        reasons = top_reasons(detector.explain(chosen), k)
        out.loc[rows, list(out.columns)] = reasons.to_numpy(dtype=object)
    return out


def top_column(explanation: pd.DataFrame) -> pd.Series:
    """The column with the largest contribution in each row (NaN rows: None)."""
    values = explanation.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(values).any(axis=1)
    best = np.argmax(np.where(np.isfinite(values), values, -np.inf), axis=1)
    columns = np.asarray(list(explanation.columns), dtype=object)
    return pd.Series(np.where(finite, columns[best], None), index=explanation.index, dtype=object)


def _user_labels(X, names: list) -> list:
    """The input's own column labels in the model's order (a DataFrame's non-text labels stay as given)."""
    if isinstance(X, pd.DataFrame):
        own = {str(c): c for c in X.columns}
        return [own.get(str(n), n) for n in names]
    return list(names)


def _free_name(name: str, taken: set) -> str:
    """``name``, lengthened with underscores until no input column holds it."""
    while name in taken:
        name += "_"
    taken.add(name)
    return name
