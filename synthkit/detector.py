"""BaseDetector: the scikit-learn / PyOD detector contract that every detector plugin subclasses.

A plugin implements two methods on validated, adapted arrays (see ``synthkit.adapters``):

- ``_fit(self, X)``: learn from X (tables: 2-D float32, already encoded; images: 4-D float32
  (n, h, w, c) in [0, 1]);
- ``_score(self, X)``: return one anomaly score per row, higher = more anomalous.

Its ``__init__`` only stores hyper-parameters (``contamination`` among them), as in scikit-learn.
The base class gives the rest: validation and adaptation, ``fit``, ``decision_function``,
``threshold_`` from ``contamination``, ``predict`` (0/1), ``decision_scores_``, ``labels_``,
``n_features_in_`` and ``feature_names_in_``, ``get_params``/``set_params`` (``sklearn.base.clone``
and ``Pipeline`` work), pickling (pickle, joblib, ``copy.deepcopy``) and ``save``.

Labels follow PyOD, not scikit-learn: ``predict``, ``fit_predict`` and ``labels_`` give 1 for an
outlier and 0 for an inlier (scikit-learn's outlier detectors give -1 and +1), and
``decision_function`` is higher for more anomalous rows (scikit-learn's is negative for outliers);
``score_samples`` follows scikit-learn (higher = more normal). ``tests/test_sklearn_checks.py``
runs scikit-learn's ``check_estimator`` and lists the checks that this choice fails.

Pickling goes through the same fitted state as model directories (``FittedStateMixin``): a
plugin's ``_get_state``/``_set_state`` serve both, so Keras networks travel as weight arrays.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin

from synthkit.adapters import as_dense, make_adapter
from synthkit.errors import DataError, NotFittedError, PluginError

DEFAULT_CONTAMINATION = 0.1
PICKLE_FORMAT = 1  # version of the state __getstate__ writes


class FittedStateMixin:
    """Pickling for detectors and generators through the state that model directories hold.

    ``__getstate__`` keeps the hyper-parameters and, when fitted, the input schema
    (``adapter_.to_dict()``), what ``_get_state()`` returns (numpy arrays and plain values; Keras
    networks as their weight arrays) and any other public fitted attribute that is a plain value.
    ``__setstate__`` rebuilds the model from them with ``_set_state``, as loading a model directory
    does. So pickle, joblib and ``copy.deepcopy`` work for every plugin with identical scores and
    samples, and no Keras object is pickled. An unfitted estimator pickles as its parameters.
    """

    @classmethod
    def _upgrade_params(cls, params: dict) -> dict:
        """Saved hyper-parameters with renamed ones (``renamed_parameters``) under their current
        names, so that model directories and pickles written before a rename load, silently."""
        params = dict(params)
        for old, new in getattr(cls.__init__, "renamed_parameters", {}).items():
            if old in params:
                value = params.pop(old)
                params.setdefault(new, value)
        return params

    def __getstate__(self) -> dict:
        from synthkit import __version__

        params = {k: v for k, v in vars(self).items() if not k.startswith("_") and not k.endswith("_")}
        state = {"synthkit_pickle": PICKLE_FORMAT, "synthkit_version": __version__, "params": params}
        if hasattr(self, "adapter_"):
            fitted = dict(self._get_state())
            extra = {k: v for k, v in fitted_attributes(self).items() if k not in fitted and _plain(v)}
            state.update(schema=self.adapter_.to_dict(), fitted=fitted, extra=extra)
        return state

    def __setstate__(self, state: dict) -> None:
        if not (isinstance(state, dict) and "synthkit_pickle" in state):
            self.__dict__.update(state)  # a pickle written before this format: a plain __dict__
            return
        if state["synthkit_pickle"] > PICKLE_FORMAT:
            raise ValueError(f"this {type(self).__name__} was pickled by synthkit {state.get('synthkit_version')}, "
                             "in a newer format than this synthkit reads; upgrade synthkit")
        self.__dict__.update(self._upgrade_params(state["params"]))
        if "schema" in state:
            from synthkit.adapters import adapter_from_dict

            self._restore_fitted(adapter_from_dict(state["schema"]), dict(state["fitted"]))
            for k, v in state["extra"].items():
                if k not in vars(self):
                    setattr(self, k, v)

    def _validate_params(self, data_kind: str) -> None:
        """Refuse hyper-parameters that fit would refuse, for data of ``data_kind`` ("table" or
        "image"), with one PluginError (or DataError) and before anything trains; a model
        directory's parameters go through it at load. By default: the ``missing`` policy, and the
        types the ``__init__`` annotations declare (text where a number is declared, a number or a
        list where text is). Plugins that check every parameter in one place override it."""
        check_missing_policy(getattr(self, "missing", "error"))
        check_annotated_types(self)

    def _check_state(self) -> None:
        """Refuse a restored fitted state that could not be used (a model directory edited by hand):
        a SynthkitError naming the attribute. Called after a model directory is restored; plugins
        may extend it (call ``super()._check_state()``)."""

    def _restore_fitted(self, adapter, state: dict) -> None:
        """Set the adapter and a fitted state (from a model directory or a pickle), then the
        attributes scikit-learn derives from the input."""
        self.adapter_ = adapter
        self._set_state(state)
        self._set_input_attributes()

    def _set_input_attributes(self) -> None:
        """``n_features_in_`` and ``feature_names_in_`` as scikit-learn defines them, from the adapter.

        ``n_features_in_``: the input's columns (before one-hot encoding); for images the values
        per image (h * w * c). ``feature_names_in_``: the column names of a DataFrame whose names
        are all strings (absent otherwise).
        """
        self.n_features_in_ = int(self.adapter_.n_input_features)
        names = self.adapter_.input_names
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif "feature_names_in_" in vars(self):
            del self.feature_names_in_


def renamed_parameters(**renames):
    """Decorate ``__init__`` to accept old hyper-parameter names (``old="new"``) with a DeprecationWarning.

    The old name is not a parameter: the value is passed on under the new name, so ``get_params``,
    ``clone`` and ``set_params`` know only the new one, and ``inspect.signature`` (which scikit-learn
    reads) shows the decorated ``__init__``'s own signature. Saved models that hold an old name load
    without a warning (``_upgrade_params``).
    """
    def decorate(init):
        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    warnings.warn(f"{type(self).__name__}: the parameter {old}= is deprecated; use {new}= "
                                  "(same values)", DeprecationWarning, stacklevel=2)
                    if new in kwargs:
                        raise TypeError(f"got both {new}= and its deprecated name {old}=; give {new}= only")
                    kwargs[new] = kwargs.pop(old)
            init(self, *args, **kwargs)

        __init__.renamed_parameters = dict(renames)
        return __init__

    return decorate


def _plain(value) -> bool:
    """Whether a fitted attribute is plain data (numbers, text, numpy arrays, and lists and dicts of them)."""
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype != object or all(_plain(v) for v in value.ravel())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def check_missing_policy(missing) -> None:
    from synthkit.adapters import MISSING_POLICIES

    if not isinstance(missing, str) or missing not in MISSING_POLICIES:
        raise PluginError(f"missing={missing!r} is not a policy; choose one of {', '.join(MISSING_POLICIES)}")


_SIMPLE_TYPES = (int, float, str, bool, type(None))


@functools.lru_cache(maxsize=None)
def _annotated_types(cls) -> tuple:
    """(parameter, allowed types) for the ``__init__`` parameters annotated with int, float, str,
    bool, None or a union of them; others (unannotated, lists, anything else) are not checked."""
    import types
    import typing

    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation that does not evaluate: nothing to check against
        return ()
    out = []
    for name, hint in hints.items():
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        allowed = typing.get_args(hint) if union else (hint,)
        if name != "return" and all(t in _SIMPLE_TYPES for t in allowed):
            out.append((name, allowed))
    return tuple(out)


def _has_type(value, allowed: tuple) -> bool:
    import numbers

    if value is None:
        return type(None) in allowed
    if isinstance(value, (bool, np.bool_)):
        return bool in allowed or int in allowed  # True is 1, as Python and the plugins take it
    if isinstance(value, numbers.Real):
        return int in allowed or float in allowed  # 2.0 where an int is declared: the plugin decides
    if isinstance(value, str):
        return str in allowed
    return False


def check_annotated_types(model) -> None:
    """Refuse a parameter whose value does not have the type its ``__init__`` annotation declares
    (see ``_annotated_types``): one PluginError naming it."""
    for name, allowed in _annotated_types(type(model)):
        if name in vars(model) and not _has_type(getattr(model, name), allowed):
            names = {int: "an integer", float: "a number", str: "text", bool: "true or false", type(None): "None"}
            wanted = " or ".join(dict.fromkeys(names[t] for t in allowed))
            raise PluginError(f"{name} must be {wanted}, got {getattr(model, name)!r}")


def _finite_number(value) -> bool:
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and bool(np.isfinite(value))


def bad_state(name: str, what: str):
    """The error for a fitted attribute that a restored state holds in an unusable form."""
    from synthkit.errors import ModelFileError

    return ModelFileError(f"the fitted attribute {name} {what}")


class BaseDetector(FittedStateMixin, OutlierMixin, BaseEstimator):
    """Subclass me: implement ``_fit(X)`` and ``_score(X)``; users call ``fit`` and ``predict``.

    ``predict`` gives 1 for outliers and 0 for inliers (PyOD's labels, not scikit-learn's -1/+1).
    """

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
        contamination = self._contamination()
        X = as_dense(X)
        adapter = make_adapter(X, missing=getattr(self, "missing", "error"))
        self._validate_params(adapter.kind)  # every parameter, before the data is encoded or anything trains
        adapter.fit(X)
        Xa, _ = adapter.transform(X, owner=type(self).__name__)
        if len(Xa) == 0:
            raise DataError("no rows left to fit on")
        self.adapter_ = adapter
        self._set_input_attributes()
        self.n_rows_affected_ = int(adapter.n_affected)
        self._fit(Xa)
        scores = self._checked_scores(self._score_training(Xa), len(Xa))
        self.decision_scores_ = scores
        self.threshold_ = float(np.quantile(scores, 1.0 - contamination))
        self.labels_ = (scores > self.threshold_).astype(int)
        return self

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

    def save(self, path) -> None:
        """Write a model directory: a JSON manifest and the fitted state in non-executable files."""
        from synthkit.modeldir import save_model

        save_model(self, path)

    # -- helpers for plugins -------------------------------------------------------------------
    def _adapt(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Validate X against the fitted schema; return (adapted array, mask of rows kept)."""
        if not hasattr(self, "adapter_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")
        return self.adapter_.transform(as_dense(X), owner=type(self).__name__)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified, up to synthkit.adapters.MAX_SPARSE_VALUES values
        return tags

    def _validate_params(self, data_kind: str) -> None:
        super()._validate_params(data_kind)
        self._contamination()

    def _check_state(self) -> None:
        """``threshold_`` a finite number; ``decision_scores_`` finite and ``labels_`` 0/1, one per
        training row; ``n_rows_affected_`` a count."""
        super()._check_state()
        if not _finite_number(getattr(self, "threshold_", None)):
            raise bad_state("threshold_", f"must be a finite number, got {getattr(self, 'threshold_', None)!r}")
        n = None
        if "decision_scores_" in vars(self):
            scores = np.asarray(self.decision_scores_)
            if scores.ndim != 1 or scores.dtype.kind not in "fiu" or not np.isfinite(scores).all():
                raise bad_state("decision_scores_", "must be finite numbers, one per training row")
            n = len(scores)
        if "labels_" in vars(self):
            labels = np.asarray(self.labels_)
            if labels.ndim != 1 or labels.dtype.kind not in "biu" or not np.isin(labels, (0, 1)).all() \
                    or (n is not None and len(labels) != n):
                raise bad_state("labels_", "must be 0 or 1, one per training row")
        affected = vars(self).get("n_rows_affected_", 0)
        if isinstance(affected, (bool, np.bool_)) or not isinstance(affected, (int, np.integer)) or affected < 0:
            raise bad_state("n_rows_affected_", f"must be a count of rows, got {affected!r}")

    def _contamination(self) -> float:
        c = getattr(self, "contamination", DEFAULT_CONTAMINATION)
        if isinstance(c, bool) or not isinstance(c, (int, float, np.floating)) or not 0.0 < float(c) <= 0.5:
            raise PluginError(f"contamination must be a number in (0, 0.5], got {c!r}")
        return float(c)

    def _checked_scores(self, scores, n: int) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.shape != (n,):
            raise RuntimeError(f"{type(self).__name__}._score returned {scores.shape[0]} scores for {n} rows")
        if not np.isfinite(scores).all():
            raise DataError(f"{type(self).__name__} produced non-finite scores; the input may hold extreme values")
        return scores

    def _get_state(self) -> dict:
        """Fitted state to save: by default every public trailing-underscore attribute."""
        return fitted_attributes(self)

    def _set_state(self, state: dict) -> None:
        """Restore what ``_get_state`` returned (after ``adapter_`` is set)."""
        for k, v in state.items():
            setattr(self, k, v)


def fitted_attributes(model) -> dict:
    """A model's public trailing-underscore attributes (scikit-learn's fitted state), less the adapter
    and what the base classes derive from it (``n_features_in_``, ``feature_names_in_``)."""
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")
            and k not in ("adapter_", "feature_names_in_")}
