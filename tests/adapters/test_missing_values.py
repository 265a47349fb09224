"""missing="model", the generators' default: missing values are data that generators learn and
reproduce, per column and at the real rate (issue 17, item 4); "error" stays, infinities refused.

One GAN and one diffusion model are fitted once (module fixture) on a table whose numeric column is
20% missing, categorical column 10% and boolean column 30%, and reused by the rate, dtype and model
directory tests.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthkit
from synthkit.adapters import TableAdapter, adapter_from_dict, make_adapter
from synthkit.errors import DataError, ModelFileError, PluginError

N_REAL, N_SYNTH = 800, 2000
RATES = {"x": 0.2, "c": 0.1, "b": 0.3}  # missing share of each column the table is drawn with
FITS = {  # few epochs, as small as reproduces the rates on these 800 rows (tolerance: test_missing_rates)
    "gan": dict(epochs=30, batch_size=100, learning_rate=1e-3, seed=0),
    "diffusion": dict(epochs=30, batch_size=64, widths=(64,), steps=20, learning_rate=2e-3, seed=0),
}


def holed_table(n: int = N_REAL, seed: int = 0) -> pd.DataFrame:
    """A float column with NaN, a text column with None, a True/False column with None (object dtype,
    as a CSV reader gives booleans with gaps) and an integer column without missing values."""
    rng = np.random.default_rng(seed)
    gaps = {name: rng.random(n) < rate for name, rate in RATES.items()}
    return pd.DataFrame(
        {
            "x": np.where(gaps["x"], np.nan, rng.normal(10, 2, n).round(2)),
            "c": pd.Series(
                np.where(gaps["c"], None, rng.choice(["red", "green", "blue"], n)), dtype=object
            ),
            "b": pd.Series(np.where(gaps["b"], None, rng.random(n) < 0.4), dtype=object),
            "k": rng.integers(0, 5, n),
        }
    )


@pytest.fixture(scope="module")
def fitted():
    table = holed_table()
    return table, {
        name: synthkit.get_generator(name, **params).fit(table) for name, params in FITS.items()
    }


@pytest.mark.parametrize("name", sorted(FITS))
def test_missing_rates(name, fitted):
    """Each column's sampled missing share is within 4 standard deviations of the real one, the
    standard deviation being that of the difference of two independent binomial shares (the real
    table's N_REAL rows and the N_SYNTH sampled ones): a generator whose rate were exactly right
    would miss it in fewer than 1 run in 10,000. Leaving the flags out (nothing missing) or an
    untrained network (about half missing) is far outside it; the column without gaps has none."""
    table, models = fitted
    out = models[name].sample(N_SYNTH, seed=0)
    for column in RATES:
        p, q = table[column].isna().mean(), out[column].isna().mean()
        sd = np.sqrt(p * (1 - p) * (1 / N_REAL + 1 / N_SYNTH))
        assert abs(q - p) <= 4 * sd, (name, column, p, q, 4 * sd)
    assert not out["k"].isna().any()


@pytest.mark.parametrize("name", sorted(FITS))
def test_dtypes_and_markers_are_kept(name, fitted):
    table, models = fitted
    out = models[name].sample(300, seed=1)
    assert list(out.columns) == list(table.columns)
    assert out.dtypes.to_dict() == table.dtypes.to_dict()
    assert all(v is None for v in out["c"][out["c"].isna()])  # the training column's marker, None
    assert set(out["c"].dropna()) <= {"red", "green", "blue"}
    assert all(isinstance(v, bool) or v is None for v in out["b"])
    assert out["k"].between(table["k"].min(), table["k"].max()).all()
    features = models[name].adapter_.feature_names
    assert {"x is missing", "b is missing", "c is missing"} <= set(
        features
    ) and "k is missing" not in features


def test_model_directory_keeps_the_flags(fitted, tmp_path):
    """A saved model loads with the same flags and missing level and samples the same rows; the
    manifest lists the input columns only, the flags as keys of their column."""
    table, models = fitted
    gen = models["gan"]
    gen.save(tmp_path / "m")
    loaded = synthkit.load_model(tmp_path / "m")
    assert loaded.adapter_.columns == gen.adapter_.columns
    pd.testing.assert_frame_equal(loaded.sample(200, seed=4), gen.sample(200, seed=4))
    schema = json.loads((tmp_path / "m" / "manifest.json").read_text())["schema"]
    assert [c["name"] for c in schema["columns"]] == list(table.columns)
    assert schema["columns"][0]["missing_flag"] == "x is missing"
    assert (
        "\x00" not in "".join(schema["columns"][1]["levels"])
        and "missing_level" in schema["columns"][1]
    )


def test_an_edited_flag_is_refused_at_load(fitted, tmp_path):
    from synthkit.io._model_dirs import CHECKSUM, manifest_digest

    fitted[1]["gan"].save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    manifest["schema"]["columns"][0]["missing_flag"] = "c"  # the name of another column
    manifest[CHECKSUM] = manifest_digest(manifest)
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="malformed 'missing_flag'"):
        synthkit.load_model(tmp_path / "m")


def test_error_policy_still_raises_and_infinities_always_do():
    table = holed_table(50)
    with pytest.raises(
        DataError, match="rows have missing or infinite values in columns x, c, b.*'model'"
    ):
        synthkit.get_generator("gan", missing="error").fit(table)
    table.loc[3, "x"] = np.inf
    for name in FITS:
        with pytest.raises(
            DataError, match="^1 rows have infinite values in columns x; replace them"
        ):
            synthkit.get_generator(name).fit(table)


def test_detectors_model_missing_values_by_default():
    """Detectors take "model", the built-in ones by default (issue 29): a gap is a flag column they
    score, so a row with a gap scores differently from the same row with the median filled in."""
    table = holed_table(50)[["x", "k"]]
    det = synthkit.get_detector("knn")
    assert det.missing == "model"
    det.fit(table)
    assert "x is missing" in det.adapter_.feature_names
    row = pd.DataFrame({"x": [np.nan, table["x"].median()], "k": [2, 2]})
    scores = det.decision_function(row)
    assert np.isfinite(scores).all() and scores[0] != scores[1]
    with pytest.raises((PluginError, DataError), match="missing='ignore' is not a"):
        synthkit.get_detector("knn", missing="ignore").fit(table)


def test_adapter_round_trip_of_every_missing_dtype():
    """Encoding then decoding gives back every column, its dtype and where its values are missing:
    float NaN, nullable Int64 and boolean, pandas strings, categories, and object columns with
    None or NaN; the schema survives JSON."""
    rng = np.random.default_rng(1)
    n = 40

    def gap():
        return rng.random(n) < 0.3

    df = pd.DataFrame(
        {
            "f": np.where(gap(), np.nan, rng.normal(size=n)).round(3),
            "i": pd.array(np.where(gap(), None, rng.integers(0, 9, n)), dtype="Int64"),
            "none": pd.Series(np.where(gap(), None, rng.choice(["a", "b"], n)), dtype=object),
            "nan": pd.Series(
                np.where(gap(), np.nan, rng.choice(["a", "b"], n).astype(object)), dtype=object
            ),
            "cat": pd.Categorical(np.where(gap(), None, rng.choice(["u", "v"], n))),
            "s": pd.Series(np.where(gap(), None, rng.choice(["p", "q"], n)), dtype="string"),
            "nb": pd.array(np.where(gap(), None, rng.random(n) < 0.5), dtype="boolean"),
            "ob": pd.Series(np.where(gap(), None, rng.random(n) < 0.5), dtype=object),
        }
    )
    adapter = adapter_from_dict(json.loads(json.dumps(make_adapter(df, "model").fit(df).to_dict())))
    Z, kept = adapter.transform(df)
    assert kept.all() and Z.shape[1] == len(adapter.feature_names)
    back = adapter.inverse_transform(Z)
    assert back.dtypes.to_dict() == df.dtypes.to_dict()
    pd.testing.assert_frame_equal(back.isna(), df.isna())
    assert all(v is None for v in back["none"][back["none"].isna()])
    assert all(isinstance(v, float) for v in back["nan"][back["nan"].isna()])
    pd.testing.assert_frame_equal(
        back[["i", "none", "cat", "s", "nb", "ob"]], df[["i", "none", "cat", "s", "nb", "ob"]]
    )


def test_transform_of_new_rows_sets_the_flags():
    """New rows' missing values set their column's flag; in a column that had none at fit they are imputed."""
    train = pd.DataFrame(
        {"x": [1.0, np.nan, 3.0, 5.0], "y": [1.0, 2.0, 3.0, 4.0], "t": ["a", None, "b", "a"]}
    )
    adapter = TableAdapter(missing="model").fit(train)
    assert adapter.feature_names == ["x", "x is missing", "y", "t=a", "t=b", "t is missing"]
    Z, kept = adapter.transform(
        pd.DataFrame({"x": [np.nan, 2.0], "y": [np.nan, 1.0], "t": [None, "b"]})
    )
    assert kept.all()
    np.testing.assert_array_equal(Z[:, [1, 3, 4, 5]], [[1, 0, 0, 1], [0, 0, 1, 0]])
    assert (
        np.isfinite(Z).all() and adapter.inverse_transform(Z)["y"].notna().all()
    )  # y imputed, not missing


def test_cli_augment_models_missing_values_by_default(tmp_path):
    """`synthkit augment` on a CSV with gaps works without --param missing, and the rows it writes have gaps."""
    from synthkit.cli._main import cli

    holed_table(200).to_csv(tmp_path / "holed.csv", index=False)
    out = tmp_path / "synthetic.csv"
    result = CliRunner().invoke(
        cli,
        [
            "augment",
            str(tmp_path / "holed.csv"),
            "-n",
            "300",
            "-o",
            str(out),
            "--param",
            "epochs=1",
            "--param",
            "batch_size=100",
            "--seed",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    synthetic = pd.read_csv(out)
    assert list(synthetic.columns) == ["x", "c", "b", "k"]
    assert synthetic[["x", "c", "b"]].isna().any().all() and not synthetic["k"].isna().any()
    result = CliRunner().invoke(
        cli, ["augment", str(tmp_path / "holed.csv"), "-n", "5", "--param", "missing=error"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        "choose missing='model' (gaps as data: a flag or a level), 'impute' or 'drop'"
        in result.stderr
    )


def test_cli_evaluate_reports_on_tables_with_gaps(fitted, tmp_path):
    from synthkit.cli._main import cli

    table, models = fitted
    table.to_csv(tmp_path / "real.csv", index=False)
    models["gan"].sample(400, seed=2).to_csv(tmp_path / "synthetic.csv", index=False)
    result = CliRunner().invoke(
        cli, ["evaluate", str(tmp_path / "real.csv"), str(tmp_path / "synthetic.csv")]
    )
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert all(f" {column}  " in result.output for column in ("KS x", "TV c", "TV b", "KS k"))


def test_evaluation_measures_are_finite_with_gaps():
    """Distances to the closest record and correlations are numbers on tables with gaps, and a gap counts as a difference."""
    from synthkit.evaluation.tables import (
        correlation_similarity,
        nearest_distances,
        privacy,
        split_holdout,
    )

    table = holed_table(600)
    train, rest = split_holdout(table, 0.5, seed=1)
    report = privacy(train, rest.iloc[:100], rest.iloc[100:])
    assert np.isfinite(
        [report["median_distance_synthetic"], report["median_distance_holdout"]]
    ).all()
    assert np.isfinite(correlation_similarity(train, rest))
    from synthkit.evaluation.tables import _distance_space, _kinds

    encode = _distance_space(train, _kinds(train))
    row = train.iloc[[0]].copy()
    row["x"] = 1.0
    gap = row.copy()
    gap["x"] = np.nan
    assert nearest_distances(encode(gap), encode(row))[0] > 0
