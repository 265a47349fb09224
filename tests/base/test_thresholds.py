"""contamination="auto": the rules of synthkit.base._thresholds, and detectors that fit, save and reload with it."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import synthkit
from synthkit.base import _thresholds as thresholds
from synthkit.errors import PluginError, SynthkitError

RULES = [f"{name}{suffix}" for name in thresholds.RULES for suffix in ("", "_yj")]


def outlier_scores(n: int = 2000, n_out: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores of a normal bulk and a few rows far above it, and which rows those are."""
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.normal(0, 1, n - n_out), rng.normal(12, 1, n_out)])
    truth = np.zeros(n, dtype=bool)
    truth[n - n_out :] = True
    return scores, truth


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_finds_far_outliers_and_few_others(rule):
    scores, truth = outlier_scores()
    flagged = scores > thresholds.threshold(scores, rule)
    assert flagged[truth].mean() == 1.0
    assert flagged[~truth].mean() < 0.05


@pytest.mark.parametrize("rule", RULES)
def test_rules_are_unchanged_by_a_monotone_rescaling_and_flag_at_most_half(rule):
    scores, _ = outlier_scores()
    scores = np.exp(scores / 4)  # skewed, positive: distances look like this
    flagged = scores > thresholds.threshold(scores, rule)
    again = 10 * scores + 3 > thresholds.threshold(10 * scores + 3, rule)
    assert (flagged == again).all() and 0 < flagged.mean() <= 0.5


@pytest.mark.parametrize("rule", RULES)
def test_constant_scores_flag_nothing(rule):
    scores = np.full(50, 2.5)
    assert not (scores > thresholds.threshold(scores, rule)).any()


def test_mad_and_tukey_match_their_formulas():
    scores, _ = outlier_scores()
    med = np.median(scores)
    mad = 1.4826 * np.median(np.abs(scores - med))
    above = scores[scores > med + 3 * mad]
    assert thresholds.threshold(scores, "mad") < above.min() and (
        scores <= thresholds.threshold(scores, "mad")
    ).sum() == len(scores) - len(above)
    q1, q3 = np.quantile(scores, [0.25, 0.75])
    fence = q3 + 1.5 * (q3 - q1)
    assert ((scores > thresholds.threshold(scores, "tukey")) == (scores > fence)).all()


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown threshold rule"):
        thresholds.threshold(np.arange(10.0), "median")


def table(n: int = 400, n_out: int = 12, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (n - n_out, 3)), rng.normal(0, 1, (n_out, 3)) + 8])
    truth = np.r_[np.zeros(n - n_out), np.ones(n_out)].astype(int)
    return pd.DataFrame(X, columns=["a", "b", "c"]), truth


@pytest.mark.parametrize("name", ["iforest", "ecod", "ensemble"])
def test_auto_through_fit_and_predict(name):
    X, truth = table()
    det = synthkit.get_detector(name, contamination="auto").fit(X)
    assert det.threshold_method_ == thresholds.AUTO_RULE
    assert det.threshold_ == thresholds.threshold(det.decision_scores_, thresholds.AUTO_RULE)
    assert (det.labels_ == (det.decision_scores_ > det.threshold_)).all()
    assert (
        det.predict(X) == det.labels_
    ).all() or name == "ensemble"  # the ensemble's k-NN leaves a row out at fit
    assert (
        det.labels_[truth == 1].all() and det.labels_[truth == 0].mean() < 0.3
    )  # skewed scores: a normal tail is flagged too
    assert det.contamination == "auto" and det.get_params()["contamination"] == "auto"


@pytest.mark.parametrize("name", ["iforest", "knn"])
def test_a_fixed_contamination_keeps_the_quantile(name):
    X, _ = table()
    det = synthkit.get_detector(name, contamination=0.05).fit(X)
    assert det.threshold_method_ == "quantile"
    assert det.threshold_ == float(np.quantile(det.decision_scores_, 0.95))
    assert det.labels_.mean() == pytest.approx(0.05, abs=0.005)
    assert synthkit.get_detector(name, contamination=0.1).fit(X).threshold_ == float(
        np.quantile(det.decision_scores_, 0.9)
    )


def test_the_default_table_detector_thresholds_by_the_auto_rule_and_others_by_0_1():
    """Isolation Forest defaults to contamination="auto", as in scikit-learn; the rest keep 0.1."""
    X, _ = table()
    det = synthkit.get_detector("iforest").fit(X)
    assert det.contamination == "auto" and det.threshold_method_ == thresholds.AUTO_RULE
    assert synthkit.get_detector("knn").contamination == 0.1


def test_ensemble_members_record_the_ensemble_method():
    X, _ = table()
    det = synthkit.get_detector("ensemble", contamination="auto").fit(X)
    assert {m.threshold_method_ for m in det.members_} == {thresholds.AUTO_RULE}


@pytest.mark.parametrize(
    "value", ["automatic", "AUTO", 0.7, 0, -0.1, True, None, [0.1], float("nan")]
)
def test_invalid_contamination_is_refused_before_training(value, monkeypatch):
    det = synthkit.get_detector("iforest", contamination=value)
    monkeypatch.setattr(
        type(det), "_fit", lambda self, X: pytest.fail("trained with an invalid contamination")
    )
    with pytest.raises(PluginError, match="contamination must be .*'auto'") as info:
        det.fit(table()[0])
    assert isinstance(info.value, SynthkitError)


def test_clone_and_pickle_keep_auto():
    X, _ = table()
    det = synthkit.get_detector("kmeans", contamination="auto")
    assert clone(det).contamination == "auto"
    det.fit(X)
    copy = pickle.loads(pickle.dumps(det))
    assert copy.contamination == "auto" and copy.threshold_method_ == det.threshold_method_
    assert copy.threshold_ == det.threshold_ and (copy.predict(X) == det.predict(X)).all()


def test_a_model_saved_with_auto_reloads(tmp_path):
    X, _ = table()
    det = synthkit.get_detector("ecod", contamination="auto").fit(X)
    det.save(tmp_path / "m")
    loaded = synthkit.load_model(tmp_path / "m")
    assert loaded.contamination == "auto" and loaded.threshold_method_ == thresholds.AUTO_RULE
    assert loaded.threshold_ == det.threshold_ and (loaded.predict(X) == det.predict(X)).all()


def test_a_model_saved_before_threshold_method_reloads(tmp_path):
    from helpers import edited_model_copy

    X, _ = table()
    det = synthkit.get_detector("iforest").fit(X)
    det.save(tmp_path / "m")
    edited_model_copy(
        tmp_path / "m", tmp_path / "old", manifest_edit=lambda state: state.pop("threshold_method_")
    )
    loaded = synthkit.load_model(tmp_path / "old")
    assert "threshold_method_" not in vars(loaded) and loaded.threshold_ == det.threshold_
    summary = synthkit.detect(X, model=loaded).attrs["synthkit"]
    assert summary["threshold_method"] == "quantile"


def test_detect_takes_auto_and_reports_the_share_flagged():
    X, _ = table()
    summary = synthkit.detect(X, plugin="iforest", contamination="auto").attrs["synthkit"]
    assert summary["threshold_method"] == thresholds.AUTO_RULE
    assert summary["flagged_share"] == pytest.approx(summary["flagged"] / summary["rows"])
    fixed = synthkit.detect(X, plugin="iforest", contamination=0.05).attrs["synthkit"]
    assert fixed["threshold_method"] == "quantile" and fixed["flagged_share"] == pytest.approx(
        0.05, abs=0.005
    )
    default = synthkit.detect(X, plugin="knn").attrs["synthkit"]
    assert default["threshold_method"] == "quantile" and default["flagged_share"] == pytest.approx(
        0.1, abs=0.005
    )
    assert (
        synthkit.detect(X).attrs["synthkit"]["threshold_method"] == thresholds.AUTO_RULE
    )  # the table default


def test_the_cli_says_an_auto_share_is_an_estimate(tmp_path):
    """The default run thresholds by the auto rule; its summary says how far to trust the flagged count."""
    from click.testing import CliRunner

    from synthkit.cli._main import cli

    X, _ = table()
    X.to_csv(tmp_path / "t.csv", index=False)
    auto = CliRunner().invoke(
        cli, ["detect", str(tmp_path / "t.csv"), "-o", str(tmp_path / "a.csv")]
    )
    assert auto.exit_code == 0, auto.output
    assert (
        f"(auto: {thresholds.AUTO_RULE})" in auto.output
        and "estimated from the scores alone" in auto.output
    )
    fixed = CliRunner().invoke(cli, ["detect", str(tmp_path / "t.csv"), "--contamination", "0.05"])
    assert fixed.exit_code == 0, fixed.output
    assert "estimated from the scores alone" not in fixed.output


@pytest.mark.parametrize(
    "edit, what",
    [
        (lambda state: state.update(threshold_=-1e300), "threshold_"),
        (lambda state: state.update(threshold_=1e300), "threshold_"),
    ],
)
def test_a_threshold_fitting_could_not_have_set_is_refused(tmp_path, edit, what):
    """A model directory edited (checksums recomputed) to flag every row, or none, does not load."""
    from helpers import edited_model_copy

    X, _ = table()
    synthkit.get_detector("iforest").fit(X).save(tmp_path / "m")
    edited_model_copy(tmp_path / "m", tmp_path / "bad", manifest_edit=edit)
    with pytest.raises(SynthkitError, match=what):
        synthkit.load_model(tmp_path / "bad")


def test_labels_that_disagree_with_the_threshold_are_refused(tmp_path):
    from helpers import edited_model_copy

    X, _ = table()
    synthkit.get_detector("knn").fit(X).save(tmp_path / "m")

    def flag_all(arrays):
        arrays["labels_"] = np.ones_like(arrays["labels_"])

    edited_model_copy(tmp_path / "m", tmp_path / "bad", array_edit=flag_all)
    with pytest.raises(SynthkitError, match="labels_"):
        synthkit.load_model(tmp_path / "bad")


def test_a_schema_mean_outside_its_column_is_refused(tmp_path):
    """A mean of 1e300 would give every row the same score; a schema fitting could not give is refused."""
    import json

    from synthkit.io._model_dirs import CHECKSUM, manifest_digest

    X, _ = table()
    synthkit.get_detector("iforest").fit(X).save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    column = next(c for c in manifest["schema"]["columns"] if c["kind"] == "numeric")
    column["mean"] = 1e300
    manifest[CHECKSUM] = manifest_digest(manifest)
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SynthkitError, match="mean outside the range"):
        synthkit.load_model(tmp_path / "m")
