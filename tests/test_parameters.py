"""synthkit.parameters: hyper-parameter constraints declared as data and checked in ``fit``, and
the one rule for seeds, on the rules themselves and through a plugin."""

from __future__ import annotations

import numpy as np
import pytest

from synthkit.errors import PluginError
from synthkit.parameters import (
    SEED_MAX,
    Interval,
    Options,
    check_parameter_constraints,
    check_seed,
    parameter_names,
)


@pytest.mark.parametrize(
    "interval,accepted,refused",
    [
        (Interval(int, 1, None), [1, 7, np.int64(3)], [0, -1, 1.5, True, "2", None]),
        (Interval(float, 0, 1, closed="neither"), [0.5, 1e-9], [0, 1, float("nan"), "0.5"]),
        (Interval(float, 0, 0.5, closed="right"), [0.5, 0.25], [0, 0.51]),
        (Interval(float, None, None), [-1e300, 0.0, 3], [float("nan"), False]),
    ],
)
def test_an_interval_accepts_numbers_of_its_kind_within_its_bounds(interval, accepted, refused):
    assert all(interval.accepts(v) for v in accepted)
    assert not any(interval.accepts(v) for v in refused)


def test_intervals_and_options_describe_themselves_for_the_error_message():
    assert Interval(int, 1, None).describe() == "a positive integer"
    assert Interval(int, 0, None).describe() == "a non-negative integer"
    assert "one of" in Options(["mean", "max"]).describe()
    assert Options(["auto"]).describe() == "'auto'"


def test_options_accept_only_their_values_and_never_booleans():
    options = Options(["mean", "max", 1])
    assert options.accepts("mean") and options.accepts(1)
    assert not options.accepts("MEAN") and not options.accepts(True) and not options.accepts(None)


@pytest.mark.parametrize("seed", [None, 0, 1, SEED_MAX, np.int32(5)])
def test_seeds_from_zero_to_two_to_the_32_are_accepted(seed):
    check_seed(seed)


@pytest.mark.parametrize("seed", [-1, SEED_MAX + 1, 99999999999999999999, 1.0, "3", True])
def test_other_seeds_are_one_plugin_error_naming_the_range(seed):
    with pytest.raises(PluginError, match=r"seed must be an integer in \[0, 4294967295\]"):
        check_seed(seed)


class Estimator:
    _parameter_constraints = {
        "n_estimators": [Interval(int, 1, None)],
        "method": [Options(["mean", "max"])],
        "contamination": [Interval(float, 0, 0.5, closed="right"), Options(["auto"])],
    }

    def __init__(self, n_estimators=10, method="mean", contamination="auto", *args, **kwargs):
        self.n_estimators, self.method, self.contamination = n_estimators, method, contamination


def test_parameter_names_are_the_signature_as_get_params_sees_it():
    assert parameter_names(Estimator) == ["n_estimators", "method", "contamination"]


def test_a_value_that_meets_any_alternative_passes_and_others_name_what_is_wanted():
    check_parameter_constraints(Estimator(contamination=0.1))
    check_parameter_constraints(Estimator(contamination="auto"))
    with pytest.raises(PluginError, match=r"contamination must be .* or 'auto', got 0\.9"):
        check_parameter_constraints(Estimator(contamination=0.9))
    with pytest.raises(PluginError, match=r"n_estimators must be a positive integer, got 0"):
        check_parameter_constraints(Estimator(n_estimators=0))


def test_a_plugin_checks_its_parameters_in_fit_not_in_init():
    import synthkit

    detector = synthkit.get_detector(
        "iforest", n_estimators=0
    )  # stored as given, like scikit-learn
    assert detector.get_params()["n_estimators"] == 0
    with pytest.raises(PluginError, match="n_estimators must be a positive integer"):
        detector.fit(np.random.default_rng(0).normal(size=(50, 3)))
