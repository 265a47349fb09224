"""BaseDetector: the scikit-learn / PyOD detector contract that every detector plugin subclasses.

A plugin implements two methods on validated, adapted arrays (see ``synthkit.adapters``):

- ``_fit(self, X)``: learn from X (tables: 2-D float32, already encoded; images: 4-D float32
  (n, h, w, c) in [0, 1]);
- ``_score(self, X)``: return one anomaly score per row, higher = more anomalous.

Its ``__init__`` only stores hyper-parameters (``contamination`` among them), as in scikit-learn.
The base class gives the rest: validation and adaptation, ``fit``, ``decision_function``,
``threshold_`` from ``contamination`` (the expected share of anomalies, or ``"auto"``: a rule on
the training scores alone, ``synthkit.base._thresholds``; ``threshold_method_`` names what was used),
``predict`` (0/1), ``decision_scores_``, ``labels_``, ``predict_proba`` (PyOD's: [P(normal),
P(anomaly)], by default the share of ``decision_scores_`` at or below a score), ``score`` (ROC-AUC
against a 0/1 ``y``, else the mean ``score_samples``, so ``cross_val_score`` needs no ``scoring=``),
``n_features_in_`` and ``feature_names_in_``, ``get_params``/``set_params`` (``sklearn.base.clone``
and ``Pipeline`` work), pickling (pickle, joblib, ``copy.deepcopy``) and ``save``. A table whose
columns cannot be matched by name (a DataFrame for a model fitted on an array, or the reverse) is
read by position with a ``UserWarning``, as scikit-learn does (``_by_position``).

Labels follow PyOD, not scikit-learn: ``predict``, ``fit_predict`` and ``labels_`` give 1 for an
outlier and 0 for an inlier, and ``decision_function`` is higher for more anomalous rows;
``score_samples`` follows scikit-learn (higher = more normal). scikit-learn's ``OutlierMixin``
promises -1 for outliers and +1 for inliers, so detectors do not claim it
(``sklearn.base.is_outlier_detector`` is False; ``1 - 2 * predict(X)`` converts), and
scikit-learn's ``check_estimator`` passes in full (``tests/base/test_sklearn_checks.py``).

Missing values follow the detector's ``missing`` parameter (``synthkit.adapters``): every built-in
detector defaults to ``"model"``, the generators' encoding (a number's gap is its median plus an "is
missing" flag column, a text gap a level of its own), so gaps are information a detector scores;
``"error"``, ``"impute"`` and ``"drop"`` stay available. On a DataFrame the adapter also leaves out
empty, one-valued and identifier columns, encodes text dates as numbers and pools rare levels
(``synthkit.adapters._triage``); ``adapter_.notes`` says what it did.

Pickling goes through the same fitted state as model directories (``synthkit.base._fitted.FittedModel``): a
plugin's ``_get_state``/``_set_state`` serve both, so Keras networks travel as weight arrays.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator

from synthkit.adapters import as_array, as_dense, label_mask, make_adapter
from synthkit.base._fitted import FittedModel, bad_state, finite_number
from synthkit.errors import DataError, PluginError, SchemaError
from synthkit.parameters import Interval, Options
from synthkit.signals import raise_if_interrupted

DEFAULT_CONTAMINATION = 0.1
CONTAMINATION = [Interval(float, 0, 0.5, closed="right"), Options(("auto",))]
MISSING_POLICIES = (
    "model",
    "error",
    "impute",
    "drop",
)  # a detector's; "model" the built-in detectors' default
PROBA_METHODS = (
    "empirical",
    "linear",
)  # predict_proba's readings of a score; the first is the default


class BaseDetector(FittedModel, BaseEstimator):
    """Subclass me: implement ``_fit(X)`` and ``_score(X)``; users call ``fit`` and ``predict``.

    ``predict`` gives 1 for outliers and 0 for inliers (PyOD's labels, not scikit-learn's -1/+1).
    """

    model_kind = "detector"
    _parameter_constraints = {"contamination": CONTAMINATION}

    def __init_subclass__(cls, **kwargs):
        """Every detector's parameter table holds ``contamination`` (a number or "auto"), so that its
        ``float`` annotation does not refuse "auto"."""
        super().__init_subclass__(**kwargs)
        cls._parameter_constraints = {
            "contamination": CONTAMINATION,
            **getattr(cls, "_parameter_constraints", {}),
        }

    def __init__(self, contamination: float = DEFAULT_CONTAMINATION):
        self.contamination = contamination

    # -- what plugins implement ----------------------------------------------------------------
    def _fit(self, X: np.ndarray) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _fit(X)")

    def _score(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement _score(X)")

    def _score_training(self, X: np.ndarray) -> np.ndarray:
        """Scores of the rows just fitted (``decision_scores_``); by default ``_score(X)``.

        Override where a training row would otherwise count as its own neighbour (k-NN, LOF).
        """
        return self._score(X)

    # -- the public contract -------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit on X (a DataFrame, a 2-D array or images); y is ignored (unsupervised)."""
        self._contamination()
        X = as_dense(X)
        adapter = make_adapter(X, missing=getattr(self, "missing", "error"))
        self._validate_params(
            adapter.kind
        )  # every parameter, before the data is encoded or anything trains
        adapter.fit(X)
        Xa, _ = adapter.transform(X, owner=type(self).__name__)
        if len(Xa) == 0:
            raise DataError("no rows left to fit on")
        self.adapter_ = adapter
        self._set_input_attributes()
        self.n_rows_affected_ = int(adapter.n_affected)
        self._fit(Xa)
        raise_if_interrupted()  # a Ctrl-C lost inside training ends the run here (synthkit.signals)
        self._process_decision_scores(self._checked_scores(self._score_training(Xa), len(Xa)))
        return self

    def _process_decision_scores(self, scores: np.ndarray, model=None) -> None:
        """The steps after fit, in one place (PyOD's ``_process_decision_scores``): the training
        ``scores`` become ``decision_scores_``, ``threshold_`` (at this detector's contamination,
        see ``_threshold_from``) and ``labels_`` on ``model`` (default: this detector; the ensemble
        passes its members)."""
        model = self if model is None else model
        model.decision_scores_ = scores
        model.threshold_ = self._threshold_from(scores, model)
        model.labels_ = (scores > model.threshold_).astype(int)

    def decision_function(self, X) -> np.ndarray:
        """Anomaly scores, higher = more anomalous; NaN for rows dropped by ``missing='drop'``."""
        Xa, kept = self._adapt(X)
        scores = np.full(len(kept), np.nan)
        if len(Xa):
            scores[kept] = self._checked_scores(self._score(Xa), len(Xa))
        return scores

    def predict(self, X) -> np.ndarray:
        """0 for inliers and 1 for outliers, by ``threshold_`` (rows without a score are 0).

        PyOD's labels: scikit-learn's outlier detectors give -1 for outliers and +1 for inliers
        (``1 - 2 * predict(X)`` converts)."""
        scores = self.decision_function(X)
        return np.where(np.isnan(scores), 0, scores > self.threshold_).astype(int)

    def fit_predict(self, X, y=None) -> np.ndarray:
        """Fit on X and return ``labels_``: 1 for the training rows above the threshold, else 0."""
        return self.fit(X).labels_

    def score_samples(self, X) -> np.ndarray:
        """scikit-learn's convention (higher = more normal): the negated decision function."""
        return -self.decision_function(X)

    def predict_proba(self, X, method: str = "empirical") -> np.ndarray:
        """Each row's score as a probability of being an anomaly: shape (n, 2), columns
        [P(normal), P(anomaly)], as PyOD's ``predict_proba`` (rows dropped by ``missing='drop'``: NaN).

        ``method="empirical"`` (the default): P(anomaly) is the share of the training scores
        (``decision_scores_``) at or below the row's score, their empirical distribution, which
        assumes nothing about the scores' scale or shape; a row scored above every training row
        gets 1, below every one 0, and ``predict`` flags about the rows above 1 - ``contamination``.
        ``method="linear"``: PyOD's default, the score min-max scaled by the lowest and highest
        training scores and clipped to [0, 1].
        """
        if method not in PROBA_METHODS:
            raise PluginError(
                f"method={method!r} is not a way to read scores as probabilities; choose one of "
                f"{', '.join(PROBA_METHODS)}"
            )
        scores = self.decision_function(X)
        train = np.sort(np.asarray(self.decision_scores_, dtype=np.float64))
        anomaly, scored = np.full(len(scores), np.nan), ~np.isnan(scores)
        if method == "empirical":
            anomaly[scored] = np.searchsorted(train, scores[scored], side="right") / len(train)
        else:
            low, span = train[0], train[-1] - train[0]
            anomaly[scored] = (
                np.clip((scores[scored] - low) / span, 0.0, 1.0)
                if span > 0
                else (scores[scored] > low).astype(np.float64)
            )
        return np.column_stack([1.0 - anomaly, anomaly])

    def score(self, X, y=None) -> float:
        """One number, higher = better, so that ``cross_val_score(det, X, y)`` and ``GridSearchCV``
        work without ``scoring=``.

        With ``y`` (one label per row, 1 for an anomaly and 0 for a normal row, read by synthkit's
        label rule: 1, 1.0, "1", True and "true" are 1): the ROC-AUC of ``decision_function(X)``
        against it, NaN with a warning where the rows hold one class only. Without ``y``: the mean
        of ``score_samples(X)`` (= -``decision_function``), higher = X looks more normal, as
        scikit-learn's density estimators score. Rows without a score (``missing='drop'``) are left out.
        """
        scores = self.decision_function(X)
        scored = ~np.isnan(scores)
        if y is None:
            return float(-scores[scored].mean()) if scored.any() else float("nan")
        truth = _anomaly_labels(y, len(scores))[scored]
        if len(np.unique(truth)) < 2:
            from sklearn.exceptions import UndefinedMetricWarning

            warnings.warn(
                f"y holds {'anomalies' if truth.any() else 'normal rows'} only, so ROC-AUC is "
                "undefined and score is NaN; split with StratifiedKFold, or KFold(shuffle=True)",
                UndefinedMetricWarning,
                stacklevel=2,
            )
            return float("nan")
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(truth, scores[scored]))

    def explain(self, X):
        """Each input column's part of each row's score: a DataFrame with X's index and one column per
        input column (see ``synthkit.base._explaining``)."""
        from synthkit.base._explaining import explain

        return explain(self, X)

    # -- helpers for plugins -------------------------------------------------------------------
    def _adapt(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Validate X against the fitted schema; return (adapted array, mask of rows kept)."""
        self._check_is_fitted()
        X = as_dense(X)
        if self.adapter_.kind == "table":
            X = self._by_position(X)
        return self.adapter_.transform(X, owner=type(self).__name__)

    def _by_position(self, X):
        """X as the table adapter reads it where scikit-learn would read its columns by position.

        A table is matched by column name when both it and the training data name their columns
        (a DataFrame with the same names, in any order; other names are a ``SchemaError`` naming
        them). Otherwise, as scikit-learn does, its columns are read by position: a DataFrame for a
        model fitted on an array, an array for one fitted on a DataFrame, and a DataFrame whose
        names differ from the training DataFrame's where one of the two has no text names. A
        ``UserWarning`` says so where one side has text column names (scikit-learn's "feature
        names") and the other has none; a table of another width is refused in scikit-learn's words.
        """
        import pandas as pd

        adapter, owner = self.adapter_, type(self).__name__
        fitted = [str(c["name"]) for c in adapter.input_columns]
        fitted_names = adapter.input_names is not None
        if isinstance(X, pd.DataFrame):
            named = any(isinstance(c, str) for c in X.columns)  # mixed names: matched by name
            if not adapter.from_array and (
                {str(c) for c in X.columns} == set(fitted) or (named and fitted_names)
            ):
                return X  # by name, as always
            table = X
        else:
            named, table = False, as_array(X)
            if adapter.from_array or table.ndim != 2:
                return X  # as fitted, or the adapter's error for a table of another shape
        if table.shape[1] != len(fitted):  # worded as scikit-learn words it
            raise SchemaError(
                f"X has {table.shape[1]} features, but {owner} is expecting {len(fitted)} features "
                "as input"
            )
        if named != fitted_names:
            shown = ", ".join(fitted[:5]) + (", ..." if len(fitted) > 5 else "")
            warnings.warn(
                f"X has feature names, but {owner} was fitted without feature names; its columns "
                "are read by position"
                if named
                else f"X does not have valid feature names, but {owner} was fitted with feature "
                f"names; its columns are read by position as {shown}",
                UserWarning,
                stacklevel=4,
            )
        if adapter.from_array:
            return table.to_numpy()
        if isinstance(table, pd.DataFrame):
            return table.set_axis(fitted, axis=1)
        return pd.DataFrame(table, columns=fitted).infer_objects()

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        # Two classes, normal and anomaly: predict_proba gives two columns and score(X, y) reads a
        # two-class y. scikit-learn's word for that is ClassifierTags(multi_class=False): its checks
        # read it for any estimator with predict_proba, and then give fit and score a two-class y.
        # It does not make a detector a classifier: is_classifier stays False (estimator_type is
        # None), and cross_val_score splits with KFold, not StratifiedKFold
        tags.classifier_tags = ClassifierTags(multi_class=False)
        tags.input_tags.sparse = True  # densified, up to synthkit.adapters.MAX_SPARSE_VALUES values
        tags.input_tags.allow_nan = (
            getattr(self, "missing", "error") != "error"
        )  # gaps are data, imputed or dropped
        return tags

    def _validate_params(self, data_kind: str) -> None:
        """``contamination``, the base checks, and ``missing`` one of a detector's policies."""
        self._contamination()
        super()._validate_params(data_kind)
        if getattr(self, "missing", "error") not in MISSING_POLICIES:
            raise PluginError(
                f"missing={self.missing!r} is not a detector's policy; choose one of "
                f"{', '.join(MISSING_POLICIES)}"
            )

    def _check_state(self) -> None:
        """``threshold_`` a finite number; ``decision_scores_`` finite and ``labels_`` 0/1, one per
        training row; ``threshold_`` within the training scores and ``labels_`` the rows above it,
        as fitting leaves them; ``n_rows_affected_`` a count; ``threshold_method_`` (absent from
        models saved before it) text."""
        super()._check_state()
        if not isinstance(vars(self).get("threshold_method_", ""), str):
            raise bad_state("threshold_method_", f"must be text, got {self.threshold_method_!r}")
        if not finite_number(getattr(self, "threshold_", None)):
            raise bad_state(
                "threshold_", f"must be a finite number, got {getattr(self, 'threshold_', None)!r}"
            )
        n = None
        if "decision_scores_" in vars(self):
            scores = np.asarray(self.decision_scores_)
            if scores.ndim != 1 or scores.dtype.kind not in "fiu" or not np.isfinite(scores).all():
                raise bad_state("decision_scores_", "must be finite numbers, one per training row")
            n = len(scores)
        if "labels_" in vars(self):
            labels = np.asarray(self.labels_)
            if (
                labels.ndim != 1
                or labels.dtype.kind not in "biu"
                or not np.isin(labels, (0, 1)).all()
                or (n is not None and len(labels) != n)
            ):
                raise bad_state("labels_", "must be 0 or 1, one per training row")
        if n:  # the threshold is one fitting could have set: within the training scores, and theirs
            scores = np.asarray(self.decision_scores_, dtype=np.float64)
            if not scores.min() <= self.threshold_ <= scores.max():
                raise bad_state(
                    "threshold_",
                    f"must lie within the training scores ({scores.min():.6g} to {scores.max():.6g}), "
                    f"got {self.threshold_!r}",
                )
            if "labels_" in vars(self) and not np.array_equal(
                np.asarray(self.labels_), (scores > self.threshold_).astype(int)
            ):
                raise bad_state("labels_", "must flag the training rows scored above threshold_")
        affected = vars(self).get("n_rows_affected_", 0)
        if (
            isinstance(affected, (bool, np.bool_))
            or not isinstance(affected, (int, np.integer))
            or affected < 0
        ):
            raise bad_state("n_rows_affected_", f"must be a count of rows, got {affected!r}")

    def _contamination(self) -> float | str:
        """``contamination`` checked: a number in (0, 0.5], or "auto"."""
        c = getattr(self, "contamination", DEFAULT_CONTAMINATION)
        if isinstance(c, str) and c == "auto":
            return "auto"
        if (
            isinstance(c, (bool, np.bool_))
            or not isinstance(c, (int, float, np.integer, np.floating))
            or not 0.0 < float(c) <= 0.5
        ):
            raise PluginError(
                f"contamination must be the expected share of anomalies, a number in (0, 0.5], or "
                f"'auto' for a threshold from the training scores alone; got {c!r}"
            )
        return float(c)

    def _threshold_from(self, scores: np.ndarray, model=None) -> float:
        """The threshold of training ``scores`` at this detector's ``contamination``: their (1 - c)
        quantile for a number, ``synthkit.base._thresholds.AUTO_RULE`` for "auto"; sets ``threshold_method_``
        ("quantile" or the rule's name) on ``model`` (default: this detector)."""
        from synthkit.base import _thresholds as thresholds

        c = self._contamination()
        method = "quantile" if c != "auto" else thresholds.AUTO_RULE
        (self if model is None else model).threshold_method_ = method
        if method == "quantile":
            return float(np.quantile(scores, 1.0 - c))
        return thresholds.threshold(scores, method)

    def _checked_scores(self, scores, n: int) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.shape != (n,):
            raise RuntimeError(
                f"{type(self).__name__}._score returned {scores.shape[0]} scores for {n} rows"
            )
        if not np.isfinite(scores).all():
            raise DataError(
                f"{type(self).__name__} produced non-finite scores; the input may hold extreme values"
            )
        return scores


def _anomaly_labels(y, n: int) -> np.ndarray:
    """``y`` as 0/1 (1 = anomaly), one per row of ``n``, by synthkit's label rule
    (``synthkit.adapters.label_mask``): 1, 1.0, "1", True and "true" are 1; 0 and its kin are 0."""
    import pandas as pd

    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise DataError(f"y must hold one label per row: got shape {y.shape} for {n} rows")
    missing = pd.isna(pd.Series(y, dtype=object)).to_numpy()
    if missing.any():
        raise DataError(
            f"y has missing labels in {int(missing.sum())} of {n} rows; fill them or drop those rows"
        )
    anomaly, normal = label_mask(y, 1), label_mask(y, 0)
    other = ~(anomaly | normal)
    if other.any():
        shown = ", ".join(repr(v) for v in pd.unique(pd.Series(y[other], dtype=object))[:10])
        raise DataError(
            f"y must be 1 for an anomaly and 0 for a normal row (or True/False); it also holds "
            f"{shown}: "
            "convert it first, e.g. (y == 'fraud'), or with synthkit.evaluation.binary_labels(y)[0]"
        )
    return anomaly.astype(np.int64)
