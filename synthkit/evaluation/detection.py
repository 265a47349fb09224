"""Detection quality against known labels, and the one reader of those labels (``binary_labels``)."""

from __future__ import annotations

import numpy as np

from synthkit.errors import DataError
from synthkit.adapters._labels import label_index, label_key


def detection_report(y_true, scores) -> dict:
    """ROC-AUC, average precision and precision at k (k = number of true anomalies).

    ``y_true`` is 1 for anomalies and 0 for normal rows; ``scores`` are anomaly scores (higher =
    more anomalous). Rows with a NaN score are left out. Returns an empty dict when only one class
    is present, since the measures are then undefined.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y_true = np.asarray(y_true).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    keep = ~np.isnan(scores)
    y_true, scores = y_true[keep], scores[keep]
    if len(np.unique(y_true)) < 2:
        return {}
    return {
        "roc_auc": float(roc_auc_score(y_true, scores)),
        "average_precision": float(average_precision_score(y_true, scores)),
        "precision_at_k": precision_at_k(y_true, scores),
    }


def precision_at_k(y_true, scores, k: int | None = None) -> float:
    """Share of true anomalies among the k highest scores (k defaults to the number of anomalies)."""
    y_true = np.asarray(y_true).astype(int)
    k = int(y_true.sum()) if k is None else int(k)
    if k <= 0:
        return float("nan")
    top = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:k]
    return float(y_true[top].mean())


# -- labels as users write them ----------------------------------------------------------------
_YES = frozenset({"1", "true", "t", "yes", "y"})
_NO = frozenset({"0", "false", "f", "no", "n"})
_SHOWN = 10  # values listed in an error message


def binary_labels(
    values, positive_label=None, name=None, reference=None
) -> tuple[np.ndarray, object]:
    """``(truth, positive)``: a two-valued label column as 0/1 (1 = anomaly), and the anomaly value.

    This is the one place where synthkit reads labels (``detect``, streamed scoring, ``evaluate``).
    ``values`` is a pandas Series (or anything ``pd.Series`` takes) with exactly two distinct values
    of any kind: 1/0 (ints, floats, strings), booleans, Y/N, yes/no, true/false (any case),
    ``>50K``/``<=50K``, fraud/legit... The anomaly (positive) class is:

    - ``positive_label`` when given: the same label by ``synthkit.adapters._labels``' rule, used everywhere
      (equal numbers whatever their type or text, so "1" matches 1 and 1.0; booleans as 1 and 0,
      so "true" matches True; other text ignoring case and spaces, so "y" matches "Y"), else the
      same yes/no meaning ("yes" matches True or "Y");
    - else, for a yes/no pair (1/0, true/false, yes/no, y/n, t/f in any case, booleans, 1.0/0.0),
      the yes value;
    - else the rarer value; on a tie, the value whose text sorts last.

    ``reference``: a label column (e.g. the real table's) whose two values are the classes, and
    from which the positive class is chosen; ``values`` must then hold only those values, but may
    hold one of them only. ``name`` (default: the Series name) is used in error messages.

    Raises ``DataError`` (one line) for missing values, one value, more than two values (listing
    them), and a ``positive_label`` that is not one of the two values.
    """
    import pandas as pd

    s = values if isinstance(values, pd.Series) else pd.Series(values)
    name = s.name if name is None else name
    what = "the labels" if name is None else f"label column {name!r}"
    codes, uniques = _label_codes(s, what)
    if reference is None:
        classes, counts = uniques, np.bincount(codes, minlength=len(uniques))
        _check_two(classes, counts, what)
        index = np.arange(len(classes))
    else:
        ref = reference if isinstance(reference, pd.Series) else pd.Series(reference)
        ref_codes, classes = _label_codes(ref, what)
        counts = np.bincount(ref_codes, minlength=len(classes))
        _check_two(classes, counts, what)
        index = np.array([_match(u, classes) for u in uniques], dtype=np.int64)
        unknown = [u for u, i in zip(uniques, index) if i < 0]
        if unknown:
            raise DataError(
                f"{what} holds {_values(unknown)}, not one of the reference classes {_values(classes)}"
            )
    positive = _positive(classes, counts, positive_label, what)
    truth = (index[codes] == positive).astype(np.int64) if len(codes) else np.zeros(0, np.int64)
    return truth, classes[positive]


def label_summary(name, positive, truth) -> dict:
    """The summary entries naming a label column and its anomaly class (and that class's share)."""
    truth = np.asarray(truth)
    return {
        "label_column": name,
        "anomaly_class": positive,
        "anomaly_class_share": float(truth.mean()) if len(truth) else float("nan"),
    }


def describe_labels(summary: dict, rows: str = "rows") -> str:
    """``label column: fraud, anomaly class: 'Y' (12.3% of rows)`` from ``label_summary`` entries."""
    return (
        f"label column: {summary['label_column']}, anomaly class: {_show(summary['anomaly_class'])} "
        f"({summary['anomaly_class_share']:.1%} of {rows})"
    )


def _label_codes(s, what: str):
    """(codes, distinct values as Python scalars) of a label Series; missing values are an error."""
    import pandas as pd

    missing = int(s.isna().sum())
    if missing:
        raise DataError(
            f"{what} has missing values in {missing} of {len(s)} rows; fill them or drop those rows"
        )
    codes, uniques = pd.factorize(s)
    return codes, [u.item() if isinstance(u, np.generic) else u for u in uniques]


def _check_two(classes, counts, what: str) -> None:
    """Refuse a label column without exactly two values, listing the commonest ones it has."""
    if len(classes) == 2:
        return
    if not classes:
        raise DataError(
            f"{what} has no rows; it needs two values (the anomaly class and the normal class)"
        )
    if len(classes) == 1:
        raise DataError(
            f"{what} has one value only ({_show(classes[0])}); it needs two "
            "(the anomaly class and the normal class)"
        )
    order = sorted(range(len(classes)), key=lambda i: -counts[i])  # the commonest first
    shown = _values([classes[i] for i in order[:_SHOWN]])
    more = f", ... ({len(classes)} values in all)" if len(classes) > _SHOWN else ""
    raise DataError(
        f"{what} must have two values (the anomaly class and the normal class), "
        f"found {len(classes)}: {shown}{more}"
    )


def _match(value, classes) -> int:
    """The index of the class ``value`` names, or -1: the same label (``synthkit.adapters._labels.label_index``),
    else the same yes/no meaning (True, 1, "y", "yes")."""
    i = label_index(value, classes)
    if i >= 0:
        return i

    def meaning(v):
        return "yes" if label_key(v) in _YES else "no" if label_key(v) in _NO else None

    hits = [
        i
        for i, c in enumerate(classes)
        if meaning(value) is not None and meaning(c) == meaning(value)
    ]
    return hits[0] if len(hits) == 1 else -1


def _positive(classes, counts, positive_label, what: str) -> int:
    """The index of the anomaly class: ``positive_label``, else the yes of a yes/no pair, else the rarer."""
    if positive_label is not None:
        i = _match(positive_label, classes)
        if i < 0:
            raise DataError(
                f"positive label {_show(positive_label)} is not a value of {what}; "
                f"its values are {_values(classes)}"
            )
        return i
    keys = [label_key(c) for c in classes]
    for i in (0, 1):
        if keys[i] in _YES and keys[1 - i] in _NO:
            return i
    if counts[0] != counts[1]:
        return int(np.argmin(counts))
    return 0 if str(classes[0]) > str(classes[1]) else 1


def _show(value) -> str:
    """A label value quoted for a message, numpy scalars as Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, (str, bool, int, float)) else repr(str(value))


def _values(values) -> str:
    """Label values quoted and joined with commas, for a message."""
    return ", ".join(_show(v) for v in values)
