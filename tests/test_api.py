"""The Python API: synthkit.detect with a label column and the scores it fitted on, load_dataset, and the lazy top-level names."""

from __future__ import annotations
import types
import numpy as np
import pytest
import synthkit


# -- API ---------------------------------------------------------------------------------------
def test_detect_api_with_label_column(toy_table):
    labelled = toy_table.assign(label=(np.arange(len(toy_table)) < 5).astype(int))
    out = synthkit.detect(
        labelled, plugin="kmeans", contamination=0.05, label_column="label", seed=0, n_clusters=3
    )
    assert list(out.columns) == [*labelled.columns, "anomaly_score", "is_anomaly", "segment"]
    summary = out.attrs["synthkit"]
    assert summary["roc_auc"] > 0.9 and summary["rows"] == len(toy_table)


def test_detect_scores_the_rows_it_fitted_with_decision_scores(toy_table):
    """Fitted on the very rows it scores, detect reports decision_scores_ and labels_ (PyOD's training
    scores: for k-NN each row is left out of its own neighbours) instead of scoring them again."""
    from synthkit.detection._run import run_detect

    result = run_detect(toy_table, plugin="knn")
    det = result.detector
    np.testing.assert_array_equal(result.frame["anomaly_score"], det.decision_scores_)
    np.testing.assert_array_equal(result.frame["is_anomaly"], det.labels_)
    assert not np.allclose(
        det.decision_function(toy_table), det.decision_scores_
    )  # each row its own neighbour
    holed = toy_table.astype({"count": float})
    holed.loc[[7, 40], "count"] = np.nan
    dropped = run_detect(holed, plugin="knn", missing="drop")
    assert dropped.summary["rows_dropped"] == 2 and len(dropped.frame) == len(toy_table) - 2
    np.testing.assert_array_equal(dropped.frame["anomaly_score"], dropped.detector.decision_scores_)
    np.testing.assert_array_equal(dropped.frame["amount"], holed.drop(index=[7, 40])["amount"])
    kmeans = run_detect(
        holed, plugin="kmeans", n_clusters=3, missing="drop", seed=0
    )  # segments still computed
    np.testing.assert_array_equal(
        kmeans.frame["segment"], kmeans.detector.segment(holed.drop(index=[7, 40]))
    )


def test_load_dataset_transactions():
    df = synthkit.load_dataset("transactions")
    assert len(df) == 20_000 and df["is_fraud"].isin([0, 1]).all()
    assert 0.01 <= df["is_fraud"].mean() <= 0.02
    kinds = {str(t) for t in df.dtypes}
    assert {"float64", "int64", "bool", "object"} <= kinds


def test_kmeans_on_transactions_finds_fraud():
    out = synthkit.detect("transactions", plugin="kmeans", contamination=0.02, seed=0)
    assert out.attrs["synthkit"]["roc_auc"] > 0.75
    assert out["segment"].between(0, 7).all()


def test_lazy_top_level_exports():
    assert isinstance(synthkit.__version__, str)
    with pytest.raises(AttributeError):
        synthkit.does_not_exist  # noqa: B018
    assert isinstance(types.ModuleType, type)
