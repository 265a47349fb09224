"""Hyper-parameter checks that run in ``fit`` before anything trains, declared as data.

A plugin lists what each parameter may be in a class attribute, in the spirit of scikit-learn's
``_parameter_constraints``::

    _parameter_constraints = {
        "epochs": [Interval(int, 1, None), None],      # a positive integer, or None
        "ema_decay": [Interval(float, 0, 1)],           # a number in [0, 1]
        "kind": [Options({"auto", "table", "image"})],
        "verbose": [Interval(int, 0, None), bool],
    }

Each entry is a list of alternatives; a value passes when it satisfies one: ``None`` (the value
None), a Python type (``bool``, ``str``, ``dict``, ...), an ``Interval`` or an ``Options``. A
value that satisfies none is one ``PluginError`` naming the parameter and what it may be.
Parameters annotated in ``__init__`` with int, float, str, bool or None are also checked against
their annotation (``check_annotated_types``), so a plugin needs a table only for ranges and choices.
"""

from __future__ import annotations

import functools
import numbers
import warnings

import numpy as np

from synthkit.errors import PluginError

MISSING_POLICIES = ("error", "impute", "drop", "model")  # what an adapter does with missing values


class Interval:
    """Integers (``kind=int``, bools excluded) or real numbers (``kind=float``, NaN excluded)
    between ``low`` and ``high`` (None: unbounded); ``closed`` is "both", "left", "right" or "neither"."""

    def __init__(self, kind, low=None, high=None, closed: str = "both"):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if not isinstance(value, numbers.Real) or value != value:
            return False
        low_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        high_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return bool(low_ok and high_ok)

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        if (
            self.kind is int
            and self.high is None
            and self.low in (0, 1)
            and self.closed in ("both", "left")
        ):
            return "a positive integer" if self.low == 1 else "a non-negative integer"
        left_closed, right_closed = (
            self.closed in ("both", "left"),
            self.closed in ("both", "right"),
        )
        if self.high is None:
            return (
                what if self.low is None else f"{what} {'>=' if left_closed else '>'} {self.low:g}"
            )
        if self.low is None:
            return f"{what} {'<=' if right_closed else '<'} {self.high:g}"
        return f"{what} in {'[' if left_closed else '('}{self.low:g}, {self.high:g}{']' if right_closed else ')'}"


class Options:
    """One of a fixed set of values (text choices, usually)."""

    def __init__(self, values):
        self.values = tuple(values)

    def accepts(self, value) -> bool:
        return (
            isinstance(value, (str, numbers.Number))
            and not isinstance(value, (bool, np.bool_))
            and value in self.values
        )

    def describe(self) -> str:
        return (
            repr(self.values[0])
            if len(self.values) == 1
            else "one of " + ", ".join(map(str, self.values))
        )


_TYPE_NAMES = {
    bool: "true or false",
    str: "text",
    dict: "a mapping",
    list: "a list",
    tuple: "a list",
}


def _accepts(constraint, value) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        return (
            isinstance(value, (bool, np.bool_))
            if constraint is bool
            else isinstance(value, constraint)
        )
    return constraint.accepts(value)


def _describe(constraint) -> str:
    if constraint is None:
        return "null"
    if isinstance(constraint, type):
        return _TYPE_NAMES.get(constraint, constraint.__name__)
    return constraint.describe()


def parameter_names(cls) -> list[str]:
    """The hyper-parameters of an estimator class, as scikit-learn's get_params sees them."""
    import inspect

    sig = inspect.signature(cls.__init__)
    return [
        p.name
        for p in sig.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def check_parameter_constraints(model) -> None:
    """Refuse a hyper-parameter that satisfies none of its ``_parameter_constraints`` alternatives."""
    for name, alternatives in getattr(type(model), "_parameter_constraints", {}).items():
        value = getattr(model, name)
        if not any(_accepts(c, value) for c in alternatives):
            wanted = " or ".join(_describe(c) for c in alternatives)
            raise PluginError(f"{name} must be {wanted}, got {value!r}")


def check_fine_tune_arguments(unfreeze_last, epochs) -> None:
    """``fine_tune``'s ``unfreeze_last`` (a positive number of layers, or None for all of them) and
    ``epochs`` (a positive integer), one meaning for every plugin: a PluginError naming the one that is not."""
    positive = Interval(int, 1, None)
    if unfreeze_last is not None and not positive.accepts(unfreeze_last):
        raise PluginError(
            f"unfreeze_last must be a positive integer (the last layers to retrain), or None "
            f"to retrain all layers, got {unfreeze_last!r}"
        )
    if not positive.accepts(epochs):
        raise PluginError(f"epochs must be a positive integer, got {epochs!r}")


SEED_MAX = (
    2**32 - 1
)  # numpy's RandomState and scikit-learn's random_state take seeds in [0, 2**32 - 1]


def check_seed(seed, name: str = "seed") -> None:
    """The one rule for seeds everywhere (every detector, generator, ``sample`` and the CLI's --seed):
    None or a whole number in [0, 2**32 - 1]; anything else is one PluginError."""
    if seed is None:
        return
    if (
        isinstance(seed, (bool, np.bool_))
        or not isinstance(seed, numbers.Integral)
        or not 0 <= seed <= SEED_MAX
    ):
        none = "" if name.startswith("-") else " or null"  # a CLI option given is a number
        raise PluginError(
            f"{name} must be an integer in [0, {SEED_MAX}] (0 to 2**32 - 1){none}, got {seed!r}"
        )


def check_missing_policy(missing) -> None:
    """Refuse a ``missing`` value that is not one of the adapters' policies."""
    if not isinstance(missing, str) or missing not in MISSING_POLICIES:
        raise PluginError(
            f"missing={missing!r} is not a policy; choose one of {', '.join(MISSING_POLICIES)}"
        )


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
    if value is None:
        return type(None) in allowed
    if isinstance(value, (bool, np.bool_)):
        return bool in allowed or int in allowed  # True is 1, as Python and the plugins take it
    if isinstance(value, numbers.Real):
        return (
            int in allowed or float in allowed
        )  # 2.0 where an int is declared: the constraints decide
    if isinstance(value, str):
        return str in allowed
    return False


def check_annotated_types(model) -> None:
    """Refuse a parameter whose value does not have the type its ``__init__`` annotation declares
    (see ``_annotated_types``): one PluginError naming it. Parameters with ``_parameter_constraints``
    are left to those, whose message says more."""
    constrained = getattr(type(model), "_parameter_constraints", {})
    for name, allowed in _annotated_types(type(model)):
        if (
            name in vars(model)
            and name not in constrained
            and not _has_type(getattr(model, name), allowed)
        ):
            names = {
                int: "an integer",
                float: "a number",
                str: "text",
                bool: "true or false",
                type(None): "None",
            }
            wanted = " or ".join(dict.fromkeys(names[t] for t in allowed))
            raise PluginError(f"{name} must be {wanted}, got {getattr(model, name)!r}")


def renamed_parameters(**renames):
    """Decorate ``__init__`` to accept old hyper-parameter names (``old="new"``) with a DeprecationWarning.

    The old name is not a parameter: the value is passed on under the new name, so ``get_params``,
    ``clone`` and ``set_params`` know only the new one, and ``inspect.signature`` (which scikit-learn
    reads) shows the decorated ``__init__``'s own signature. Saved models that hold an old name load
    without a warning (``FittedModel._upgrade_params``).
    """

    def decorate(init):
        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    warnings.warn(
                        f"{type(self).__name__}: the parameter {old}= is deprecated; use {new}= "
                        "(same values)",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    if new in kwargs:
                        raise TypeError(
                            f"got both {new}= and its deprecated name {old}=; give {new}= only"
                        )
                    kwargs[new] = kwargs.pop(old)
            init(self, *args, **kwargs)

        __init__.renamed_parameters = dict(renames)
        return __init__

    return decorate
