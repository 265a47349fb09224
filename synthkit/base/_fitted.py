"""The fitted-model base that detectors and generators share, and helpers for their fitted state.

A plugin's fitted state is what ``_get_state`` returns: numpy arrays and plain values, with Keras
networks as their weight arrays (``network_weights``/``restore_network``). Model directories
(``synthkit.io._model_dirs``) and pickles hold that state, never a Keras object.
"""

from __future__ import annotations

import numbers

import numpy as np

from synthkit.errors import NotFittedError
from synthkit.parameters import (
    check_annotated_types,
    check_missing_policy,
    check_parameter_constraints,
    check_seed,
    parameter_names,
)

PICKLE_FORMAT = 1  # version of the state __getstate__ writes


class FittedModel:
    """What detectors and generators share once fitted: the not-fitted check, the fitted state
    (``_get_state``/``_set_state``), model directories (``save``), pickling, and the checks of
    hyper-parameters (``_validate_params``) and of a restored state (``_check_state``).

    Pickling goes through the state that model directories hold:

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

        params = {
            k: v for k, v in vars(self).items() if not k.startswith("_") and not k.endswith("_")
        }
        state = {
            "synthkit_pickle": PICKLE_FORMAT,
            "synthkit_version": __version__,
            "params": params,
        }
        if hasattr(self, "adapter_"):
            fitted = dict(self._get_state())
            extra = {
                k: v for k, v in fitted_attributes(self).items() if k not in fitted and _plain(v)
            }
            state.update(schema=self.adapter_.to_dict(), fitted=fitted, extra=extra)
        return state

    def __setstate__(self, state: dict) -> None:
        if not (isinstance(state, dict) and "synthkit_pickle" in state):
            self.__dict__.update(state)  # a pickle written before this format: a plain __dict__
            return
        if state["synthkit_pickle"] > PICKLE_FORMAT:
            raise ValueError(
                f"this {type(self).__name__} was pickled by synthkit {state.get('synthkit_version')}, "
                "in a newer format than this synthkit reads; upgrade synthkit"
            )
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
        directory's parameters go through it at load. By default: the ``missing`` policy, the types
        the ``__init__`` annotations declare (text where a number is declared, a number or a list
        where text is), and the class's ``_parameter_constraints`` table (``synthkit.parameters``).
        Plugins extend it for checks that depend on the data's kind (call ``super()``)."""
        if "seed" in parameter_names(type(self)):
            check_seed(self.seed)  # one rule for every plugin, before its own checks
        check_missing_policy(getattr(self, "missing", "error"))
        check_annotated_types(self)
        check_parameter_constraints(self)

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

    def _check_is_fitted(self) -> None:
        """Raise NotFittedError unless ``fit`` (or a load) has run."""
        check_is_fitted(self)

    def save(self, path) -> None:
        """Write a model directory: a JSON manifest and the fitted state in non-executable files."""
        from synthkit.io._model_dirs import save_model

        save_model(self, path)

    def _get_state(self) -> dict:
        """Fitted state to save: by default every public trailing-underscore attribute."""
        return fitted_attributes(self)

    def _set_state(self, state: dict) -> None:
        """Restore what ``_get_state`` returned (after ``adapter_`` is set)."""
        for k, v in state.items():
            setattr(self, k, v)


def check_is_fitted(model) -> None:
    """Raise NotFittedError unless ``model`` (any detector or generator) has been fitted or loaded."""
    if getattr(model, "adapter_", None) is None:
        raise NotFittedError(f"this {type(model).__name__} is not fitted yet; call fit(X) first")


def fitted_attributes(model) -> dict:
    """A model's public trailing-underscore attributes (scikit-learn's fitted state), less the adapter
    and what the base classes derive from it (``n_features_in_``, ``feature_names_in_``)."""
    return {
        k: v
        for k, v in vars(model).items()
        if k.endswith("_") and not k.startswith("_") and k not in ("adapter_", "feature_names_in_")
    }


def network_weights(network, prefix: str) -> dict:
    """A Keras network's weights as state entries ``{prefix}0``, ``{prefix}1``, ..."""
    return {f"{prefix}{i}": np.asarray(w) for i, w in enumerate(network.get_weights())}


def pop_weights(state: dict, prefix: str) -> list:
    """Take the entries ``network_weights`` wrote under ``prefix`` out of ``state``, in order."""
    return [
        state.pop(f"{prefix}{i}") for i in range(sum(k.startswith(prefix) for k in list(state)))
    ]


def restore_network(network, weights: list, what: str) -> None:
    """Set a rebuilt network's weights from saved arrays, refusing ones of another count or shape."""
    expected = network.get_weights()
    if len(weights) != len(expected) or any(
        np.shape(w) != np.shape(e) for w, e in zip(weights, expected)
    ):
        raise ValueError(f"the saved {what} weights do not fit the network")
    network.set_weights(weights)


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


def finite_number(value) -> bool:
    """A real number (not a bool), finite."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and bool(np.isfinite(value))
    )


def bad_state(name: str, what: str):
    """The error for a fitted attribute that a restored state holds in an unusable form."""
    from synthkit.errors import ModelFileError

    return ModelFileError(f"the fitted attribute {name} {what}")
