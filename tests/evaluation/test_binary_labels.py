"""Labels as users write them: ``binary_labels`` and its use in detect, streamed scoring and evaluate."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthkit
from synthkit.errors import DataError
from synthkit.evaluation.detection import binary_labels

from helpers import assert_clean_error, run


# -- the one function ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "values, positive",
    [
        (["Y", "N", "N", "Y"], "Y"),
        (["yes", "no", "no", "no"], "yes"),
        (["No", "YES", "No", "No"], "YES"),
        (["true", "false", "false", "false"], "true"),
        (["False", "TRUE", "False", "False"], "TRUE"),
        ([True, False, False, False], True),
        ([1, 0, 0, 0], 1),
        ([1.0, 0.0, 0.0, 0.0], 1.0),
        (["1", "0", "0", "0"], "1"),
        ([">50K", "<=50K", "<=50K", "<=50K"], ">50K"),
        (["fraud", "legit", "legit", "legit"], "fraud"),
    ],
)
def test_value_styles(values, positive):
    truth, chosen = binary_labels(pd.Series(values, name="c"))
    assert chosen == positive and type(chosen) is type(positive)
    assert truth.tolist() == [int(v == positive) for v in values]


def test_yes_value_wins_even_when_common():
    # a yes/no pair names its positive class whatever the counts: 1 stays the anomaly class
    truth, chosen = binary_labels(pd.Series([1, 1, 1, 0], dtype="int64"))
    assert chosen == 1 and truth.tolist() == [1, 1, 1, 0]
    truth, chosen = binary_labels(pd.Series(np.array([True, True, False])))
    assert chosen is True and truth.tolist() == [1, 1, 0]


def test_minority_rule_and_tie_rule():
    # not a yes/no pair: the rarer value; 1/-1 (scikit-learn's outlier convention) gives -1
    assert binary_labels(pd.Series([1, -1, 1, 1]))[1] == -1
    assert binary_labels(pd.Series(["legit", "chargeback", "legit"]))[1] == "chargeback"
    assert binary_labels(pd.Series(["<=50K", ">50K", "<=50K"]))[1] == ">50K"
    # a tie: the value whose text sorts last, whatever the order of the rows
    assert binary_labels(pd.Series(["a", "b", "b", "a"]))[1] == "b"
    assert binary_labels(pd.Series(["b", "a"]))[1] == "b"
    truth, chosen = binary_labels(pd.Series([2, 1]))
    assert chosen == 2 and truth.tolist() == [1, 0]


def test_positive_label_override_is_matched_robustly():
    ints = pd.Series([1, 0, 0, 1], name="fraud")
    truth, chosen = binary_labels(ints, positive_label="0")  # the CLI gives a string
    assert chosen == 0 and truth.tolist() == [0, 1, 1, 0]
    assert binary_labels(ints, positive_label="1")[1] == 1
    assert binary_labels(ints, positive_label="1.0")[1] == 1
    assert binary_labels(pd.Series([1.0, 0.0]), positive_label="1")[1] == 1.0
    assert binary_labels(pd.Series([True, False]), positive_label="false")[1] is False
    assert binary_labels(pd.Series([True, False]), positive_label="yes")[1] is True
    assert binary_labels(pd.Series(["Y", "N", "N"]), positive_label="n")[1] == "N"
    assert binary_labels(pd.Series([">50K", "<=50K"]), positive_label="<=50K")[1] == "<=50K"
    assert binary_labels(pd.Series(["Y", "N", "N"]), positive_label="N")[0].tolist() == [0, 1, 1]


def test_positive_label_not_a_value():
    with pytest.raises(
        DataError,
        match=r"positive label '2' is not a value of label column 'c'; "
        r"its values are 1, 0$",
    ):
        binary_labels(pd.Series([1, 0], name="c"), positive_label="2")


def test_more_than_two_values_are_listed():
    with pytest.raises(DataError) as info:
        binary_labels(pd.Series(["Y", "N", "maybe", "N"], name="fraud_reported"))
    message = str(info.value)
    assert "\n" not in message and message.startswith(
        "label column 'fraud_reported' must have two values"
    )
    assert "found 3: 'N', 'Y', 'maybe'" in message  # the commonest first
    with pytest.raises(DataError) as info:
        binary_labels(pd.Series(np.arange(30) % 25, name="code"))
    message = str(info.value)
    assert message.endswith(
        "found 25: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (25 values in all)"
    )  # the first ten


def test_one_value_and_missing_values():
    with pytest.raises(
        DataError, match=r"label column 'c' has one value only \('N'\); it needs two"
    ):
        binary_labels(pd.Series(["N", "N", "N"], name="c"))
    with pytest.raises(DataError, match=r"label column 'c' has missing values in 1 of 3 rows"):
        binary_labels(pd.Series(["Y", None, "N"], name="c"))
    with pytest.raises(DataError, match=r"has missing values in 2 of 4 rows"):
        binary_labels(pd.Series([1.0, np.nan, 0.0, np.nan], name="c"))


def test_reference_classes_for_one_class_sets():
    real = pd.Series(["N", "Y", "N", "N"])
    truth, chosen = binary_labels(pd.Series(["Y", "Y"]), reference=real)  # an augmentation set
    assert chosen == "Y" and truth.tolist() == [1, 1]
    assert binary_labels(pd.Series(["N"]), reference=real)[0].tolist() == [0]
    with pytest.raises(
        DataError, match=r"label column 'c' holds 'maybe', not one of the reference classes"
    ):
        binary_labels(pd.Series(["Y", "maybe"], name="c"), reference=real)


# -- the Python API ------------------------------------------------------------------------------
def _yn_table(n=200, anomalies=20, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "colour": rng.choice(["red", "blue"], n),
            "fraud_reported": np.where(np.arange(n) < anomalies, "Y", "N"),
        }
    )
    df.loc[: anomalies - 1, ["x", "y"]] += 6
    return df


def test_detect_api_with_yn_labels():
    out = synthkit.detect(
        _yn_table(), plugin="kmeans", label_column="fraud_reported", seed=0, n_clusters=2
    )
    summary = out.attrs["synthkit"]
    assert summary["label_column"] == "fraud_reported" and summary["anomaly_class"] == "Y"
    assert summary["anomaly_class_share"] == pytest.approx(0.1)
    assert summary["roc_auc"] > 0.9
    flipped = synthkit.detect(
        _yn_table(),
        plugin="kmeans",
        label_column="fraud_reported",
        positive_label="N",
        seed=0,
        n_clusters=2,
    ).attrs["synthkit"]
    assert flipped["anomaly_class"] == "N" and flipped["roc_auc"] == pytest.approx(
        1 - summary["roc_auc"]
    )
    assert list(out.columns[:4]) == [
        "x",
        "y",
        "colour",
        "fraud_reported",
    ]  # the labels come back as written


def test_detect_api_errors():
    frame = _yn_table()
    with pytest.raises(DataError, match="positive_label names the anomaly class of a label column"):
        synthkit.detect(frame.drop(columns="fraud_reported"), plugin="kmeans", positive_label="Y")
    with pytest.raises(DataError, match=r"must have two values .* found 3: 'N', 'unknown', 'Y'"):
        synthkit.detect(
            frame.assign(
                fraud_reported=frame["fraud_reported"].where(frame.index < 150, "unknown")
            ),
            plugin="kmeans",
            label_column="fraud_reported",
        )


ADULT = (
    Path(os.environ.get("SYNTHKIT_DATA_DIR", "datasets")).expanduser() / "tables" / "adult.csv.gz"
)


def test_real_adult_income_labels():
    if not ADULT.is_file():
        pytest.skip(
            f"the UCI Adult table is not at {ADULT} (set SYNTHKIT_DATA_DIR to the folder holding tables/)"
        )
    adult = pd.read_csv(ADULT).sample(2000, random_state=0).reset_index(drop=True)
    assert set(adult["class"]) == {"<=50K", ">50K"}
    out = synthkit.detect(
        adult, plugin="kmeans", label_column="class", positive_label=">50K", seed=0
    )
    summary = out.attrs["synthkit"]
    share = (adult["class"] == ">50K").mean()
    assert summary["label_column"] == "class" and summary["anomaly_class"] == ">50K"
    assert summary["anomaly_class_share"] == pytest.approx(share) and 0.15 < share < 0.35
    assert 0.0 <= summary["roc_auc"] <= 1.0 and "class" in out.columns and len(out) == 2000
    # without --positive-label the rarer class, >50K, is the anomaly class too; "<=50K" flips the scores
    default = synthkit.detect(adult, plugin="kmeans", label_column="class", seed=0).attrs[
        "synthkit"
    ]
    assert default["anomaly_class"] == ">50K" and default["roc_auc"] == pytest.approx(
        summary["roc_auc"]
    )
    low = synthkit.detect(
        adult, plugin="kmeans", label_column="class", positive_label="<=50K", seed=0
    )
    assert low.attrs["synthkit"]["roc_auc"] == pytest.approx(1 - summary["roc_auc"])


# -- the CLI -------------------------------------------------------------------------------------
@pytest.fixture
def yn_csv(tmp_path):
    path = tmp_path / "claims.csv"
    _yn_table().to_csv(path, index=False)
    return path


def test_cli_detect_names_the_anomaly_class(yn_csv):
    result = run(
        "detect",
        yn_csv,
        "--plugin",
        "kmeans",
        "--label-column",
        "fraud_reported",
        "--param",
        "n_clusters=2",
        "--seed",
        "0",
    )
    assert result.exit_code == 0, result.output
    assert "label column: fraud_reported, anomaly class: 'Y' (10.0% of rows)" in result.stdout
    assert float(result.stdout.split("ROC-AUC: ")[1].split()[0]) > 0.9
    result = run(
        "detect",
        yn_csv,
        "--plugin",
        "kmeans",
        "--label-column",
        "fraud_reported",
        "--positive-label",
        "n",
        "--param",
        "n_clusters=2",
        "--seed",
        "0",
    )
    assert result.exit_code == 0, result.output
    assert "anomaly class: 'N' (90.0% of rows)" in result.stdout


def test_cli_detect_label_errors(yn_csv, tmp_path):
    assert_clean_error(
        run(
            "detect",
            yn_csv,
            "--plugin",
            "kmeans",
            "--label-column",
            "fraud_reported",
            "--positive-label",
            "maybe",
        ),
        r"^Error: positive label 'maybe' is not a value of label column 'fraud_reported'; "
        r"its values are 'Y', 'N'$",
    )
    three = tmp_path / "three.csv"
    frame = _yn_table()
    frame.loc[100:, "fraud_reported"] = "unsure"
    frame.to_csv(three, index=False)
    assert_clean_error(
        run(
            "detect",
            three,
            "--plugin",
            "kmeans",
            "--label-column",
            "fraud_reported",
            "-o",
            tmp_path / "o.csv",
        ),
        r"label column 'fraud_reported' must have two values .* found 3: 'unsure', 'N', 'Y'$",
    )
    assert not (tmp_path / "o.csv").exists()


def test_cli_saved_model_keeps_the_label_out_of_the_features(yn_csv, tmp_path):
    model = tmp_path / "model"
    fitted = run(
        "detect",
        yn_csv,
        "--plugin",
        "kmeans",
        "--label-column",
        "fraud_reported",
        "--param",
        "n_clusters=2",
        "--seed",
        "0",
        "--save-model",
        model,
        "-o",
        tmp_path / "a.csv",
    )
    assert fitted.exit_code == 0, fitted.output
    columns = [c["name"] for c in synthkit.load_model(model).adapter_.columns]
    assert columns == ["x", "y", "colour"]
    # streamed in chunks of 30 rows: the anomaly class is chosen on the whole file, not per chunk
    scored = run(
        "detect",
        yn_csv,
        "--model",
        model,
        "--label-column",
        "fraud_reported",
        "--chunksize",
        "30",
        "-o",
        tmp_path / "b.csv",
    )
    assert scored.exit_code == 0, scored.output
    assert "label column: fraud_reported, anomaly class: 'Y' (10.0% of rows)" in scored.stdout

    def roc(out):
        return out.split("ROC-AUC: ")[1].split()[0]

    assert roc(scored.stdout) == roc(fitted.stdout)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
    # a third value in a later chunk stops the run with the values listed, and leaves no output
    frame = _yn_table()
    frame.loc[150:, "fraud_reported"] = "unsure"
    frame.to_csv(tmp_path / "three.csv", index=False)
    assert_clean_error(
        run(
            "detect",
            tmp_path / "three.csv",
            "--model",
            model,
            "--label-column",
            "fraud_reported",
            "--chunksize",
            "30",
            "-o",
            tmp_path / "c.csv",
        ),
        r"must have two values .* found 3: 'Y', 'N', 'unsure'$",
    )
    assert not (tmp_path / "c.csv").exists()


def test_cli_evaluate_names_the_positive_class(yn_csv, tmp_path):
    frame = _yn_table(400, anomalies=60)
    real, synth = tmp_path / "real.csv", tmp_path / "synth.csv"
    frame.to_csv(real, index=False)
    _yn_table(300, anomalies=40, seed=1).to_csv(synth, index=False)
    result = run("evaluate", real, synth, "--label-column", "fraud_reported")
    assert result.exit_code == 0, result.output
    assert "fraud_reported, anomaly class: 'Y' (15.0% of real rows)" in result.stdout
    assert "GBM ROC-AUC real / synthetic (TSTR)" in result.stdout
    result = run(
        "evaluate", real, synth, "--label-column", "fraud_reported", "--positive-label", "N"
    )
    assert result.exit_code == 0, result.output
    assert "anomaly class: 'N' (85.0% of real rows)" in result.stdout
    assert_clean_error(
        run(
            "evaluate", real, synth, "--label-column", "fraud_reported", "--positive-label", "maybe"
        ),
        r"^Error: positive label 'maybe' is not a value of label column 'fraud_reported'",
    )
    frame.loc[:9, "fraud_reported"] = "unsure"
    frame.to_csv(real, index=False)
    assert_clean_error(
        run("evaluate", real, synth, "--label-column", "fraud_reported"),
        r"must have two values .* found 3: 'N', 'Y', 'unsure'$",
    )
