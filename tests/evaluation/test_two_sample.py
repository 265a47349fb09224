"""The classifier two-sample test, the paired bootstrap and the augmentation check (synthkit.evaluation.two_sample)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthkit.errors import DataError
from synthkit.evaluation.two_sample import augmentation_gain, c2st_auc, paired_bootstrap


@pytest.fixture(autouse=True)
def one_thread():
    """Gradient boosting on one thread: on a few hundred rows, a shared machine's other jobs make
    OpenMP's thread start-up cost far more than it saves."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: F401  (loads OpenMP, so that it is limited)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _table(n, seed, shift=0.0, kinds=("a", "b", "c")):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(shift, 1.0, n),
            "count": rng.poisson(3, n),
            "kind": rng.choice(list(kinds), n, p=[0.6, 0.3, 0.1]),
            "flag": rng.random(n) < 0.3,
        }
    )


def test_c2st_near_half_for_one_distribution_and_near_one_for_shifted():
    real = _table(300, 0)
    same = c2st_auc(real, _table(300, 1), seed=0, max_iter=50)
    shifted = c2st_auc(real, _table(300, 2, shift=4.0), seed=0, max_iter=50)
    assert abs(same - 0.5) < 0.08
    assert shifted > 0.9


def test_c2st_sees_a_change_in_the_categories_alone():
    real = _table(300, 0)
    other = _table(
        300, 1, kinds=("c", "b", "a")
    )  # the same levels, the rare and the common swapped
    assert c2st_auc(real, other, seed=0) > 0.75


def test_c2st_balances_unequal_samples_and_is_seeded():
    real, synthetic = _table(60, 0), _table(400, 1, shift=2.0)
    first = c2st_auc(real, synthetic, seed=3, draws=2, max_iter=50)
    assert first == c2st_auc(real, synthetic, seed=3, draws=2, max_iter=50)
    assert first > 0.85  # 60 rows of each: still enough to see a shift of two deviations


def test_c2st_takes_arrays_and_refuses_samples_smaller_than_the_folds():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 3)), rng.normal(3.0, 1.0, size=(200, 3))
    assert c2st_auc(a, b) > 0.95
    with pytest.raises(DataError, match="at least 5 rows"):
        c2st_auc(a[:4], b)
    with pytest.raises(DataError, match="missing columns"):
        c2st_auc(_table(50, 0), _table(50, 1).drop(columns=["kind"]))


def test_paired_bootstrap_of_identical_scores_is_zero():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.1).astype(int)
    s = y + rng.normal(0, 1.0, 400)
    out = paired_bootstrap(y, s, s.copy(), n_boot=200, seed=0)
    assert out["change"] == 0.0 and out["low"] == 0.0 and out["high"] == 0.0
    assert out["resamples"] == 200


def test_paired_bootstrap_interval_brackets_a_real_gain_and_is_seeded():
    rng = np.random.default_rng(1)
    y = (rng.random(600) < 0.2).astype(int)
    noise = rng.normal(0, 1.0, 600)
    weak, strong = 0.5 * y + noise, 2.0 * y + noise
    out = paired_bootstrap(y, weak, strong, n_boot=300, seed=4)
    assert 0 < out["low"] <= out["change"] <= out["high"]
    assert out == paired_bootstrap(y, weak, strong, n_boot=300, seed=4)
    other = paired_bootstrap(
        y, strong, weak, n_boot=300, seed=4
    )  # swapped: the interval is mirrored
    assert other["high"] == pytest.approx(-out["low"]) and other["low"] == pytest.approx(
        -out["high"]
    )


def test_paired_bootstrap_fast_average_precision_matches_scikit_learn():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(2)
    y = (rng.random(300) < 0.15).astype(int)
    a = np.round(y + rng.normal(0, 1.0, 300), 1)  # rounded: ties, which count as one threshold
    b = y + rng.normal(0, 0.7, 300)
    fast = paired_bootstrap(y, a, b, n_boot=150, seed=5)
    slow = paired_bootstrap(
        y, a, b, n_boot=150, seed=5, metric=lambda t, s: average_precision_score(t, s)
    )
    assert fast == pytest.approx(slow, abs=1e-12)


def test_paired_bootstrap_refuses_bad_input():
    with pytest.raises(DataError, match="one value per row"):
        paired_bootstrap([0, 1, 1], [0.1, 0.2], [0.3, 0.4])
    with pytest.raises(DataError, match="both classes"):
        paired_bootstrap([1, 1, 1], [0.1, 0.2, 0.3], [0.3, 0.4, 0.5])


def _labelled(n, seed, rate):
    frame = _table(n, seed)
    rng = np.random.default_rng(seed + 100)
    frame["label"] = (
        (frame["amount"] + 1.5 * (frame["kind"] == "c") + rng.normal(0, 0.5, n)) > 1.8 + rate
    ).astype(int)
    return frame


def test_augmentation_gain_copies_of_real_rows_change_little_and_the_figures_agree():
    train, test = _labelled(1500, 0, 0.0), _labelled(1500, 1, 0.0)
    minority = train[train.label == 1]
    out = augmentation_gain(train, minority, test, "label", n_boot=200)
    assert out["ap_change"] == pytest.approx(out["ap_augmented"] - out["ap_real"])
    assert out["ap_change_lo"] <= out["ap_change"] <= out["ap_change_hi"]
    assert 0.3 < out["ap_real"] <= 1.0
    assert out == augmentation_gain(train, minority, test, "label", n_boot=200)


def test_augmentation_gain_drops_with_mislabelled_rows():
    train, test = _labelled(1500, 0, 0.0), _labelled(1500, 1, 0.0)
    far = train[
        (train.label == 0) & (train.amount < -0.5)
    ]  # majority rows far from every minority row...
    wrong = pd.concat([far] * 3, ignore_index=True).assign(
        label=1
    )  # ...called minority, three times over
    out = augmentation_gain(train, wrong, test, "label", n_boot=200)
    assert out["ap_change_hi"] < 0


def test_augmentation_gain_needs_the_label_in_every_table():
    train, test = _labelled(300, 0, 0.0), _labelled(300, 1, 0.0)
    with pytest.raises(DataError, match="label column 'label'"):
        augmentation_gain(train, train.drop(columns=["label"]), test, "label")


def test_augmentation_gain_copies_of_every_minority_row_are_the_same_as_reweighting_them():
    """One exact copy of each minority row gives a linear model the loss of weight 2 on them: the
    augmented and re-weighted models score alike, and both differ from the unweighted one."""
    train, test = _labelled(1500, 0, 0.5), _labelled(1500, 1, 0.5)
    copies = train[train.label == 1]
    out = augmentation_gain(
        train, copies, test, "label", n_boot=200, classifier="linear", reweighted=True
    )
    assert out["ap_reweighted"] == pytest.approx(out["ap_augmented"], abs=1e-3)
    assert abs(out["ap_change_vs_reweighted"]) < 1e-3
    assert out["reweight_change"] == pytest.approx(out["ap_reweighted"] - out["ap_real"])
    assert out["reweight_change_lo"] <= out["reweight_change"] <= out["reweight_change_hi"]
    gbm = augmentation_gain(train, copies, test, "label", n_boot=200, reweighted=True)
    assert gbm["ap_real"] != out["ap_real"]  # another model
    assert set(out) == set(gbm)


def test_augmentation_gain_refuses_an_unknown_classifier():
    train, test = _labelled(300, 0, 0.0), _labelled(300, 1, 0.0)
    with pytest.raises(DataError, match="gradient_boosting, linear"):
        augmentation_gain(train, train, test, "label", classifier="forest")
