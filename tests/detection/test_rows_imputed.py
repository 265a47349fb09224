"""The summary's "rows with imputed values" on a real table with gaps: the rows scored that had a
missing value, whether or not the flagged rows are explained afterwards (``--explain``), in memory
and streamed, with scores from the fit or from ``decision_function``."""

from __future__ import annotations

import numpy as np
import pytest

import synthkit
from synthkit.detection._run import run_detect
from tests.helpers import adult_sample, run

LABEL = "class"


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    """1,500 real rows of UCI Adult with its "?" markers read as missing values (as a CSV with
    empty cells), and the number of rows with a gap in a feature column."""
    frame = adult_sample(1500).replace("?", np.nan)
    path = tmp_path_factory.mktemp("adult") / "adult.csv"
    frame.to_csv(path, index=False)
    gaps = frame.drop(columns=[LABEL]).isna().any(axis=1)
    assert 0 < gaps.sum() < len(frame)
    return path, frame, gaps.to_numpy()


def _explained_differently(frame, gaps):
    """The rows an explanation encodes again (the flagged ones) hold fewer gaps than all rows:
    the case where a count read after explaining differs."""
    flagged = frame["is_anomaly"].to_numpy() == 1
    assert flagged.any() and (frame.loc[flagged, "reason_1"] != "").all()
    assert int((flagged & gaps).sum()) != int(gaps.sum())


@pytest.mark.parametrize("plugin", ["iforest", "kmeans"])
def test_in_memory_count_is_the_same_with_and_without_explain(adult, plugin):
    path, _, gaps = adult
    plain = run_detect(path, plugin=plugin, label_column=LABEL, keep_rows=True, seed=0)
    explained = run_detect(
        path, plugin=plugin, label_column=LABEL, keep_rows=True, seed=0, explain=3
    )
    assert plain.frame is not None and explained.frame is not None  # in memory
    # the scores come from the fit (training_scores): no decision_function call
    assert plain.summary["rows_imputed"] == explained.summary["rows_imputed"] == int(gaps.sum())
    _explained_differently(explained.frame, gaps)


def test_in_memory_count_with_a_fitted_model(adult):
    """Scores from ``decision_function`` (a model given): the count is of the rows scored."""
    _, frame, gaps = adult
    model = synthkit.get_detector("iforest", seed=0).fit(frame.drop(columns=[LABEL]).iloc[:300])
    for explain in (None, 3):
        result = run_detect(frame, model=model, label_column=LABEL, explain=explain)
        assert result.summary["rows_imputed"] == int(gaps.sum()), explain
    _explained_differently(result.frame, gaps)


def test_streamed_count_is_the_same_with_and_without_explain(adult, tmp_path):
    path, _, gaps = adult
    counts = {}
    for explain in (None, 3):
        out = tmp_path / f"scores-{explain}.csv"
        result = run_detect(
            path, label_column=LABEL, chunksize=400, output=out, seed=0, explain=explain
        )
        assert result.frame is None  # streamed, chunk by chunk
        counts[explain] = result.summary["rows_imputed"]
    assert counts == {None: int(gaps.sum()), 3: int(gaps.sum())}
    import pandas as pd

    _explained_differently(pd.read_csv(tmp_path / "scores-3.csv", keep_default_na=False), gaps)


@pytest.mark.parametrize("streamed", [False, True])
def test_cli_summary_line(adult, tmp_path, streamed):
    path, _, gaps = adult
    args = ["detect", path, "--label-column", LABEL, "--explain", "3", "-o", tmp_path / "s.csv"]
    result = run(*args, *(["--chunksize", "400"] if streamed else []))
    assert result.exit_code == 0, result.output
    assert f"rows with imputed values: {int(gaps.sum())}\n" in result.output
