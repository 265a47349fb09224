"""What "the same label" means, and the check that a label column is there: one rule for every place
that compares a label a user gave with the labels in the data (detect's ``positive_label``, the image
``normal_class``, a conditional generator's ``label``/``y``, the row filter's class, evaluation).

The rule (``label_key``): two labels are the same when

- they are equal numbers, whatever their type or text: ``1``, ``1.0``, ``"1"``, ``"1.0"``, ``" 1 "``
  and ``np.int64(1)`` are one label, and so are ``0.5`` and ``"0.50"``;
- booleans are the numbers 1 and 0, as in Python, NumPy, pandas and scikit-learn (``True == 1``, and
  ``pos_label=1`` names the ``True`` class of a boolean target), and so is their text in any case:
  ``True``, ``"true"``, ``"TRUE"``, ``1`` and ``"1"`` are one label, ``False``, ``"false"`` and ``0``
  another. A "1/0" column that pandas reads as integers and a "True/False" one read as booleans are
  thus named the same way (``--positive-label 1`` or ``--positive-label true`` for either);
- other text is the same ignoring case and surrounding spaces: ``Y`` and ``y``, ``>50K`` and ``>50k``.

Nothing else is folded: ``"yes"`` is not ``True`` here (``binary_labels`` adds that meaning when it
picks a yes/no pair's anomaly class). Text is a number when Python's ``float`` reads it, so ``"1e3"``
is 1000, but ``"1_000"`` stays text.

This module imports only NumPy and ``synthkit.errors``, so any module may use it.
"""

from __future__ import annotations

import numpy as np

from synthkit.errors import DataError

_BOOL_TEXT = {"true": "1", "false": "0"}


def label_key(value) -> str:
    """The text two labels share when they are the same label (see the module's docstring):
    ``1``, ``1.0``, ``"1"``, ``"1.0"``, ``np.int64(1)``, ``True`` and ``"true"`` give ``"1"``;
    ``0.5`` and ``"0.50"`` give ``"0.5"``; ``" Y "`` and ``"y"`` give ``"y"``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_key(value)
    text = str(value).strip().casefold()
    if text in _BOOL_TEXT:
        return _BOOL_TEXT[text]
    if "_" in text:  # Python reads "1_0" as 10; a label with an underscore is text
        return text
    try:
        return str(int(text))  # exact for integers beyond a float's 53 bits
    except ValueError:
        pass
    try:
        return _float_key(float(text))
    except ValueError:
        return text


def _float_key(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def same_label(a, b) -> bool:
    """Whether ``a`` and ``b`` are the same label under ``label_key``'s rule."""
    return label_key(a) == label_key(b)


def label_index(value, classes) -> int:
    """The index of the class in ``classes`` (distinct labels) that ``value`` names, or -1 for none.

    A class is named when it is the same label (``label_key``). Where several classes are (a model
    fitted on ``"A"`` and ``"a"`` as two classes), the one equal to ``value`` in type and value wins,
    else the one with the same text; when that leaves none or several, ``value`` is ambiguous: a
    ``DataError`` listing them.
    """
    scalars = [c.item() if isinstance(c, np.generic) else c for c in classes]
    key = label_key(value)
    hits = [i for i, c in enumerate(scalars) if label_key(c) == key]
    if len(hits) <= 1:
        return hits[0] if hits else -1
    value = value.item() if isinstance(value, np.generic) else value
    for same in (lambda c: type(c) is type(value) and c == value, lambda c: str(c) == str(value)):
        exact = [i for i in hits if same(scalars[i])]
        if len(exact) == 1:
            return exact[0]
    raise DataError(
        f"label {value!r} names {len(hits)} classes that differ only in case, spaces or number format: "
        f"{', '.join(repr(scalars[i]) for i in hits)}; give one of them exactly"
    )


def label_mask(labels, value) -> np.ndarray:
    """Whether each of ``labels`` (one-dimensional) is the same label as ``value``; missing labels never are."""
    import pandas as pd  # imported here so that importing synthkit does not import pandas

    codes, uniques = pd.factorize(pd.Series(np.asarray(labels, dtype=object).ravel()))
    key = label_key(value)
    named = np.array([label_key(u) == key for u in uniques] + [False], dtype=bool)
    return named[codes]  # a missing label has code -1: the trailing False


def require_label_column(frame, name, what: str = "the data") -> None:
    """Raise the one-line ``DataError`` for a label column ``name`` that ``frame`` lacks, listing its columns."""
    if name not in frame.columns:
        raise DataError(
            f"label column {name!r} is not in {what}; columns: {', '.join(map(str, frame.columns))}"
        )
