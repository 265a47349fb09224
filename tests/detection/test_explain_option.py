"""`synthkit detect --explain K`, `--contamination auto` and the explanation plot, on real tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthkit
from synthkit.cli._main import cli
from synthkit.base import _thresholds as thresholds
from synthkit.errors import DataError


@pytest.fixture(scope="module")
def table():
    """3,000 real rows of transactions (is_fraud kept as the label column)."""
    from synthkit.io._reading import as_data

    return as_data("transactions").frame.iloc[:3000].reset_index(drop=True)


def test_api_reasons_for_flagged_rows_only(table):
    out = synthkit.detect(table, plugin="ecod", label_column="is_fraud", explain=2)
    flagged = out["is_anomaly"] == 1
    assert list(out.columns[-2:]) == ["reason_1", "reason_2"]
    assert (out.loc[~flagged, ["reason_1", "reason_2"]] == "").all().all()
    columns = set(table.columns) - {"is_fraud"}
    names = out.loc[flagged, "reason_1"].str.extract(r"^(.*) \((\d+)%\)$")
    assert names[0].isin(columns).all() and names[1].astype(int).between(1, 100).all()
    # reason_1 is the column with the largest contribution of the detector's own explanation
    model = synthkit.get_detector("ecod").fit(table.drop(columns=["is_fraud"]))
    rows = table.drop(columns=["is_fraud"])[flagged.to_numpy()].iloc[:20]
    best = model.explain(rows).idxmax(axis=1)
    assert (names[0].iloc[:20].to_numpy() == best.to_numpy()).all()


def test_cli_explain_and_auto_threshold(table, tmp_path):
    table.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(
        cli,
        [
            "detect",
            str(tmp_path / "t.csv"),
            "--label-column",
            "is_fraud",
            "--plugin",
            "ecod",
            "--contamination",
            "auto",
            "--explain",
            "3",
            "-o",
            str(out),
            "--plot",
            str(tmp_path / "plots"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"(auto: {thresholds.AUTO_RULE})" in result.output
    scores = pd.read_csv(out, keep_default_na=False)
    assert {"reason_1", "reason_2", "reason_3"} <= set(scores.columns)
    share = scores["is_anomaly"].mean()
    assert f"({share:.1%})" in result.output
    assert (scores.loc[scores["is_anomaly"] == 1, "reason_1"] != "").all()
    assert (tmp_path / "plots" / "explanations.png").stat().st_size > 0
    model = synthkit.get_detector("ecod", contamination="auto").fit(
        table.drop(columns=["is_fraud"])
    )
    assert model.threshold_method_ == thresholds.AUTO_RULE
    assert np.isclose(
        float(result.output.split("threshold: ")[1].split()[0]), model.threshold_, rtol=1e-5
    )


def test_streamed_detect_gives_the_same_reasons(table, tmp_path):
    table.to_csv(tmp_path / "t.csv", index=False)
    common = [
        "detect",
        str(tmp_path / "t.csv"),
        "--label-column",
        "is_fraud",
        "--plugin",
        "kmeans",
        "--explain",
        "2",
    ]
    runner = CliRunner()
    assert (
        runner.invoke(
            cli, common + ["--save-model", str(tmp_path / "m"), "-o", str(tmp_path / "a.csv")]
        ).exit_code
        == 0
    )
    result = runner.invoke(
        cli,
        [
            "detect",
            str(tmp_path / "t.csv"),
            "--label-column",
            "is_fraud",
            "--explain",
            "2",
            "--model",
            str(tmp_path / "m"),
            "--chunksize",
            "700",
            "-o",
            str(tmp_path / "b.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    a, b = (pd.read_csv(tmp_path / f, keep_default_na=False) for f in ("a.csv", "b.csv"))
    pd.testing.assert_series_equal(a["reason_1"], b["reason_1"])


def test_bad_explain_values_are_one_line_errors(table, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        cli, ["detect", "transactions", "--explain", "0", "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(
        cli,
        ["detect", "transactions", "--contamination", "sometimes", "-o", str(tmp_path / "x.csv")],
    )
    assert result.exit_code == 2 and "neither a number" in result.output
    assert not (tmp_path / "x.csv").exists()
    images = np.random.default_rng(0).random((20, 8, 8, 1)).astype(np.float32)
    with pytest.raises(DataError, match="images have none"):
        synthkit.detect(images, plugin="kmeans", explain=2)
