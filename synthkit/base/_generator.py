"""BaseGenerator: the contract every generator plugin subclasses.

A plugin implements, on adapted arrays (see ``synthkit.adapters``):

- ``_fit(self, X, y)``: learn from X; ``y`` is None, or int codes 0..k-1 into ``self.classes_``
  (whose training shares are in ``self.class_freq_``);
- ``_sample(self, n, y, rng)``: return n rows (tables: 2-D, in the encoded space) or images (4-D in
  [0, 1]); ``y`` is None or int codes of the classes asked for; ``rng`` a numpy Generator.

Users call ``fit(X, y=None)`` and ``sample(n, y=None, seed=None)`` (``num_rows=`` is ``n`` as SDV
spells it); tables in give DataFrames out
with the same columns, dtypes and category levels; images come back in the input's dtype and shape.
Fitted generators pickle (pickle, joblib) through ``_get_state``/``_set_state``, as model
directories save them (see ``synthkit.base._fitted.FittedModel``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from synthkit.adapters import as_dense, make_adapter
from synthkit.base._fitted import FittedModel, bad_state, fitted_attributes
from synthkit.errors import DataError, PluginError
from synthkit.signals import raise_if_interrupted
from synthkit.adapters._labels import label_index
from synthkit.parameters import check_seed


MAX_SAMPLES = 10_000_000  # the most rows or images one augment call makes


def check_n(n) -> int:
    """``n`` as the number of samples an augment run makes: an integer from 1 to ``MAX_SAMPLES``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_SAMPLES:
        raise PluginError(f"n must be an integer from 1 to {MAX_SAMPLES:,}, got {n!r}")
    return int(n)


class BaseGenerator(FittedModel, BaseEstimator):
    """Subclass me: implement ``_fit(X, y)`` and ``_sample(n, y, rng)``; users call fit and sample."""

    model_kind = "generator"

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _fit(X, y)")

    def _sample(self, n: int, y: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement _sample(n, y, rng)")

    def fit(self, X, y=None):
        """Fit on X; y (one label per row) makes the model conditional on it."""
        X = as_dense(X)
        adapter = make_adapter(X, missing=getattr(self, "missing", "error"))
        self._validate_params(
            adapter.kind
        )  # every parameter, before the data is encoded or anything trains
        adapter.fit(X)
        Xa, kept = adapter.transform(X)
        if len(Xa) == 0:
            raise DataError("no rows left to fit on")
        codes = None
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(kept):
                raise DataError(
                    f"y must hold one label per row: got {y.shape} for {len(kept)} rows"
                )
            y = y[kept]
            if _has_missing(y):
                raise DataError("y has missing labels; drop those rows or fill them")
            self.classes_, codes = np.unique(y, return_inverse=True)
            self.class_freq_ = np.bincount(codes, minlength=len(self.classes_)) / len(codes)
        else:
            self.classes_, self.class_freq_ = None, None
        self.adapter_ = adapter
        self._set_input_attributes()
        self._fit(Xa, codes)
        raise_if_interrupted()  # a Ctrl-C lost inside training ends the run here (synthkit.signals)
        return self

    def sample(
        self, n: int | None = None, y=None, seed: int | None = None, *, num_rows: int | None = None
    ):
        """n synthetic rows or images; y is one class for all, or one per sample.

        ``num_rows`` is ``n`` as SDV spells it (``sample(num_rows=100)``); give one of the two."""
        self._check_is_fitted()
        name = "n"
        if num_rows is not None:
            if n is not None:
                raise PluginError(
                    f"give n or num_rows (its SDV name), not both: got n={n!r} and num_rows={num_rows!r}"
                )
            n, name = num_rows, "num_rows"
        elif n is None:
            raise PluginError("say how many samples to make: sample(n), or sample(num_rows=n)")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise PluginError(f"{name} must be a positive integer, got {n!r}")
        check_seed(seed)
        codes = self._codes(int(n), y)
        rng = np.random.default_rng(seed)
        Z = np.asarray(self._sample(int(n), codes, rng))
        if len(Z) != n:
            raise RuntimeError(f"{type(self).__name__}._sample returned {len(Z)} samples for n={n}")
        if (
            self.adapter_.kind == "table"
        ):  # rng draws the values pooled into a column's "other" level
            return self.adapter_.inverse_transform(Z, rng=rng)
        return self.adapter_.inverse_transform(Z)

    def _validate_params(self, data_kind: str) -> None:
        """The plugin's ``_check(data_kind)`` where it has one (the convention of the built-in
        generators: every parameter checked in one place), then the base checks."""
        check = getattr(self, "_check", None)
        if callable(check):
            check(data_kind)
        super()._validate_params(data_kind)

    def _check_state(self) -> None:
        """``classes_`` and ``class_freq_``: None, or one share per class, summing to 1."""
        super()._check_state()
        classes, freq = getattr(self, "classes_", None), getattr(self, "class_freq_", None)
        if classes is None and freq is None:
            return
        classes, freq = np.asarray(classes), np.asarray(freq)
        if (
            classes.ndim != 1
            or not len(classes)
            or len(classes) != len(np.unique(classes.astype(str)))
        ):
            raise bad_state("classes_", "must be distinct labels, at least one")
        if (
            freq.shape != classes.shape
            or freq.dtype.kind not in "fiu"
            or not np.isfinite(freq).all()
            or (freq < 0).any()
            or not np.isclose(freq.sum(), 1.0)
        ):
            raise bad_state("class_freq_", "must hold one share per class, summing to 1")

    def _codes(self, n: int, y) -> np.ndarray | None:
        if y is None:
            return None
        if self.classes_ is None:
            raise PluginError(
                "this generator was fitted without labels; sample without y, or fit with y"
            )
        y = np.asarray(y)
        y = np.full(n, y.item(), dtype=y.dtype) if y.ndim == 0 else y
        if len(y) != n:
            raise PluginError(f"y must be one label or {n} labels, got {len(y)}")
        codes, uniques = _distinct(y)
        index = np.array([label_index(v, self.classes_) for v in uniques], dtype=np.int64)
        unknown = sorted({str(v) for v, i in zip(uniques, index) if i < 0})
        if unknown:
            raise PluginError(
                f"label {', '.join(unknown)} was not seen in fit; known labels: "
                f"{', '.join(str(c) for c in self.classes_)}"
            )
        return index[codes]

    def _get_state(self) -> dict:
        """Fitted state to save: by default every public trailing-underscore attribute."""
        state = {
            k: v for k, v in fitted_attributes(self).items() if k not in ("classes_", "class_freq_")
        }
        return {**state, **self._classes_state()}

    def _set_state(self, state: dict) -> None:
        """Restore what ``_get_state`` returned (after ``adapter_`` is set)."""
        state = dict(state)
        self._restore_classes(state)
        for k, v in state.items():
            setattr(self, k, v)

    def _classes_state(self) -> dict:
        """``classes_`` and ``class_freq_`` in a saveable form (text labels as a list of strings,
        since model directories hold no pickled object arrays); nothing when fitted without y."""
        if self.classes_ is None:
            return {}
        text = self.classes_.dtype.kind in "OUS"
        return {
            "classes_": [str(c) for c in self.classes_] if text else np.asarray(self.classes_),
            "classes_is_text_": text,
            "class_freq_": np.asarray(self.class_freq_, dtype=np.float64),
        }

    def _restore_classes(self, state: dict) -> None:
        """Pop what ``_classes_state`` wrote from ``state`` and set ``classes_`` and ``class_freq_``."""
        if "classes_" not in state:
            self.classes_, self.class_freq_ = None, None
            return
        classes = state.pop("classes_")
        self.classes_ = (
            np.asarray(classes, dtype=object)
            if state.pop("classes_is_text_", False)
            else np.asarray(classes)
        )
        self.class_freq_ = np.asarray(state.pop("class_freq_"), dtype=np.float64)


def _distinct(y: np.ndarray) -> tuple[np.ndarray, list]:
    """(codes, distinct values) of the labels ``y``, so that each distinct label is looked up once."""
    seen: dict = {}
    codes = np.array([seen.setdefault((type(v), v), len(seen)) for v in y.tolist()], dtype=np.int64)
    return codes, [v for _, v in seen]


def _has_missing(y: np.ndarray) -> bool:
    if y.dtype.kind == "f":
        return bool(np.isnan(y).any())
    if y.dtype == object:
        return any(v is None or (isinstance(v, float) and np.isnan(v)) for v in y)
    return False
