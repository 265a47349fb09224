"""detector.explain: each input column's part of a row's score, on a real table (thyroid's normal
rows, with a text column added), for every built-in detector and a third-party one; top_reasons,
the planted-anomaly check at small scale, and the bar chart."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthkit import get_detector
from synthkit.base._detector import BaseDetector
from synthkit.errors import DataError, SynthkitError
from synthkit.base._explaining import LATENT, explain, feature_groups, top_column, top_reasons
from synthkit.plots._figures import explanation_plot

DATA = Path(os.environ.get("SYNTHKIT_DATA_DIR", "")) / "anomaly" / "thyroid.npz"
EXACT = ("ecod", "kmeans", "autoencoder:decomposition")
FALLBACK = ("iforest", "knn", "lof", "autoencoder")
FAST_AE = dict(epochs=3, batch_size=32, n_estimators=1)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """600 normal thyroid rows, columns named, a text column (a one-hot group) and an index of its own."""
    if not os.environ.get("SYNTHKIT_DATA_DIR") or not DATA.is_file():
        pytest.skip(f"{DATA} is missing: set SYNTHKIT_DATA_DIR to the folder holding anomaly/")
    with np.load(DATA, allow_pickle=False) as d:
        X, y = d["X"], d["y"]
    df = pd.DataFrame(X[y == 0][:600], columns=["tsh", "t3", "tt4", "t4u", "fti", "tbg"])
    df["clinic"] = np.where(df["tsh"] > df["tsh"].median(), "north", "south")
    df.loc[df.index[::7], "clinic"] = "east"
    df.index = pd.Index(np.arange(len(df)) * 3 + 100, name="patient")
    return df


def fitted(name: str, table: pd.DataFrame):
    params = FAST_AE if name == "autoencoder" else {}
    return get_detector(name, seed=0, **params).fit(table)


def planted(table: pd.DataFrame, n: int = 20, seed: int = 0):
    """(table with n rows' known numeric column set to max + 1..2 ranges, their labels, the columns)."""
    rng = np.random.default_rng(seed)
    numeric = [c for c in table.columns if c != "clinic"]
    rows = table.index[np.sort(rng.permutation(len(table))[:n])]
    columns = np.asarray(numeric, dtype=object)[np.resize(np.arange(len(numeric)), n)]
    out = table.copy()
    for row, col in zip(rows, columns):
        lo, hi = table[col].min(), table[col].max()
        out.loc[row, col] = hi + rng.uniform(1, 2) * (hi - lo)
    return out, rows, columns


@pytest.mark.parametrize("name", ("ecod", "iforest", "ensemble"))
def test_index_and_columns_are_the_users(table, name):
    det = fitted(name, table)
    rows = table.iloc[10:40]
    e = det.explain(rows)
    assert list(e.index) == list(rows.index) and e.index.name == "patient"
    assert list(e.columns) == list(table.columns)  # the one-hot group is one column, "clinic"
    assert np.isfinite(e.to_numpy()).all()
    assert (det.explain(rows).to_numpy() == e.to_numpy()).all()  # deterministic


def test_one_hot_group_maps_to_its_column(table):
    det = fitted("ecod", table)
    groups = feature_groups(det.adapter_)
    assert [len(g) for g in groups] == [1] * 6 + [3]
    assert np.concatenate(groups).tolist() == list(range(len(det.adapter_.feature_names)))
    e = det.explain(table.iloc[:50])
    feature_parts = det._explain_features(det._adapt(table.iloc[:50])[0])
    assert np.allclose(e["clinic"], feature_parts[:, 6:].sum(axis=1))


@pytest.mark.parametrize("spec", EXACT + FALLBACK + ("ensemble",))
def test_contributions_add_up_to_the_score(table, spec):
    name, _, method = spec.partition(":")
    det = fitted(name, table)
    X, _, _ = planted(table)
    e = explain(det, X, method or "auto")
    scores = det.decision_function(X)
    sums = e.to_numpy().sum(axis=1)
    if spec in EXACT:  # exact decompositions: every row, and never negative
        assert np.allclose(sums, scores, rtol=1e-4, atol=1e-6)
        assert (e.to_numpy() >= -1e-9).all()
    else:  # proportional to ablation drops; rows no single column lowers (or scored <= 0) get zeros
        explained = np.abs(e.to_numpy()).sum(axis=1) > 0
        assert explained.mean() > 0.5
        assert np.allclose(sums[explained], scores[explained], rtol=1e-6, atol=1e-9)
        assert (e.to_numpy()[~explained] == 0).all()
    if (
        spec == "autoencoder:decomposition"
    ):  # the hybrid score's code distance is the extra, last column
        assert list(e.columns) == list(table.columns) + [LATENT] and (e[LATENT] > 0).all()


@pytest.mark.parametrize(
    "name", ("ecod", "kmeans", "knn", "lof", "iforest", "ensemble", "autoencoder")
)
def test_planted_column_is_ranked_first(table, name):
    X, rows, columns = planted(table, n=20, seed=1)
    det = fitted(name, X)
    top = top_column(det.explain(X.loc[rows])).to_numpy()
    assert np.mean(top == columns) >= 0.9, list(zip(top, columns))


class MeanDistance(BaseDetector):
    """A third-party detector: squared distance to the training mean, with no explain hook of its own."""

    def _fit(self, X):
        self.centre_ = X.mean(axis=0)

    def _score(self, X):
        return ((X - self.centre_) ** 2).sum(axis=1)


def test_third_party_detector_gets_the_fallback(table):
    X, rows, columns = planted(table, n=12, seed=2)
    det = MeanDistance(contamination=0.05).fit(X)
    e = det.explain(X.loc[rows])
    assert list(e.columns) == list(table.columns)
    assert (top_column(e).to_numpy() == columns).all()
    assert np.allclose(e.sum(axis=1), det.decision_function(X.loc[rows]))


def test_top_reasons_word_the_largest_shares():
    e = pd.DataFrame(
        {"amount": [6.0, 0.0, np.nan], "age": [3.0, 0.0, np.nan], "city": [1.0, 0.0, np.nan]},
        index=["a", "b", "c"],
    )
    r = top_reasons(e, 2)
    assert list(r.columns) == ["reason_1", "reason_2"] and list(r.index) == ["a", "b", "c"]
    assert r.loc["a"].tolist() == ["amount (60%)", "age (30%)"]
    assert r.loc["b"].tolist() == ["", ""] and r.loc["c"].tolist() == ["", ""]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(SynthkitError, match="number of reasons"):
            top_reasons(e, bad)


def test_dropped_rows_get_no_explanation(table):
    det = get_detector("ecod", missing="drop").fit(table)
    X = table.iloc[:5].copy()
    X.iloc[2, 0] = np.nan
    e = det.explain(X)
    assert e.iloc[2].isna().all() and np.isfinite(e.drop(index=X.index[2]).to_numpy()).all()


def test_latent_name_does_not_take_a_users_column(table):
    X = table.rename(columns={"tbg": LATENT})
    det = fitted("autoencoder", X)
    assert list(explain(det, X.iloc[:5], "decomposition").columns) == list(X.columns) + [
        LATENT + "_"
    ]
    assert list(det.explain(X.iloc[:5]).columns) == list(X.columns)  # the ablation, its default


def test_methods_are_checked(table):
    det = fitted("knn", table)
    with pytest.raises(DataError, match="no exact decomposition"):
        explain(det, table.iloc[:5], "decomposition")
    with pytest.raises(DataError, match="method must be one of"):
        explain(det, table.iloc[:5], "shapley")
    ecod = fitted("ecod", table)
    assert not np.allclose(
        explain(ecod, table.iloc[:20], "ablation"), ecod.explain(table.iloc[:20])
    )


def test_images_are_refused():
    images = np.random.default_rng(0).integers(0, 255, (40, 8, 8), dtype=np.uint8)
    det = get_detector("kmeans", n_clusters=2).fit(images)
    with pytest.raises(DataError, match="explain applies to tables"):
        det.explain(images)


def test_explanation_plot_writes_a_png(table, tmp_path):
    det = fitted("knn", table)
    X, rows, _ = planted(table, n=6)
    path = explanation_plot(
        det.explain(X.loc[rows]), tmp_path / "plots", scores=det.decision_function(X.loc[rows]), n=6
    )
    assert Path(path).name == "explanations.png"
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert Path(path).stat().st_size > 5000
