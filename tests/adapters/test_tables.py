"""Dirty tables as they come, for detectors and generators alike (issue 29, item 3).

One table with the faults of a real insurance-claims file (an empty trailing column, the text
``None`` beside empty cells in one text column, dates as text, unique policy numbers, a constant column,
a high-cardinality text column, gaps in numbers and text), written to CSV and read back as a user
would (with synthkit's missing markers, where ``None`` is text): the built-in detectors fit it with their defaults, ``detect`` gives every cell back as it
came, saved models and streaming score it alike, generators give back its columns, and the
adapter's notes say what was done. Adult's ``?`` values too.
"""

from __future__ import annotations

from synthkit.io._cells import pandas_csv_options

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthkit
from synthkit.adapters import TableAdapter, adapter_from_dict
from synthkit.errors import DataError, ModelFileError
from synthkit.adapters._triage import MAX_LEVELS

from helpers import adult_sample

N = 240
NOTES = [
    "left out (no values): _c39",
    "left out (one value): country",
    "left out (identifier-like text): policy_number",
    "dates as numbers: incident_date",
    f"rare levels pooled: city (100 levels -> {MAX_LEVELS} + other)",
    "missing values as flags/levels: amount, authorities_contacted, incident_date",
]
FAST = {
    "diffusion": dict(epochs=1, batch_size=64, widths=(32,), steps=5, seed=0),
    "gan": dict(epochs=1, batch_size=60, seed=0),
}


def dirty_csv(path, n: int = N, seed: int = 0):
    """The dirty table as a CSV at ``path``, and as synthkit reads it back."""
    rng = np.random.default_rng(seed)
    dates = pd.Series(
        pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    )
    city = np.array([f"city{i}" for i in range(100)])[
        np.r_[np.arange(100), rng.integers(0, 100, n - 100)]
    ]
    frame = pd.DataFrame(
        {
            "policy_number": [f"POL-{i:06d}" for i in rng.permutation(900_000)[:n]],
            "amount": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 500.0, n).round(2)),
            "authorities_contacted": rng.choice(["Police", "Fire", "None", "Other", ""], n),
            "incident_date": dates.dt.strftime("%Y-%m-%d").where(rng.random(n) > 0.05, ""),
            "city": city,
            "country": "US",
            "vehicles": rng.integers(1, 4, n),
            "fraud_reported": rng.choice(["Y", "N"], n, p=[0.2, 0.8]),
            "_c39": "",
        }
    )
    frame.to_csv(path, index=False)
    return pd.read_csv(path, **pandas_csv_options())


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("dirty") / "claims.csv"
    return path, dirty_csv(path)


def test_the_csv_is_as_dirty_as_meant(table):
    _, df = table
    assert df["_c39"].isna().all() and df["authorities_contacted"].isna().any()  # empty cells
    assert (df["authorities_contacted"] == "None").any()  # the text None stays text
    assert (
        df["incident_date"].dropna().map(type).eq(str).all() and df["policy_number"].is_unique
    )  # text, any pandas


def test_notes_say_what_was_done(table):
    _, df = table
    adapter = TableAdapter(missing="model").fit(df)
    assert adapter.notes == NOTES
    names = adapter.feature_names
    assert (
        "incident_date" in names
        and "incident_date is missing" in names
        and "amount is missing" in names
    )
    assert sum(n.startswith("city") for n in names) == MAX_LEVELS + 1 and "city=(other)" in names
    assert not any(n.startswith(("policy_number", "_c39", "country")) for n in names)
    assert [c["name"] for c in adapter.input_columns] == list(df.columns)
    assert TableAdapter(missing="model").fit(df[["amount", "vehicles"]]).notes == [
        "missing values as flags/levels: amount"
    ]


@pytest.mark.parametrize("name", ["iforest", "knn", "lof", "ecod", "kmeans"])
def test_detectors_fit_with_their_defaults(name, table):
    _, df = table
    det = synthkit.get_detector(name).fit(df)
    assert det.missing == "model" and det.adapter_.notes == NOTES
    assert np.isfinite(det.decision_function(df)).all()


def test_detect_keeps_every_cell_and_reports_the_notes(table):
    from synthkit.detection._run import detect_in_memory

    _, df = table
    out = synthkit.detect(df, plugin="iforest")
    pd.testing.assert_frame_equal(out[list(df.columns)], df)
    result = detect_in_memory(df, plugin="iforest")
    assert result.summary["table_notes"] == NOTES
    gaps = int(df[["amount", "authorities_contacted", "incident_date"]].isna().any(axis=1).sum())
    assert result.summary["rows_imputed"] == gaps > 0


def test_error_policy_names_only_the_encoded_columns(table):
    _, df = table
    with pytest.raises(
        DataError, match="in columns amount, authorities_contacted, incident_date; clean them"
    ):
        synthkit.get_detector("iforest", missing="error").fit(df)
    clean = df.drop(columns=["amount", "authorities_contacted", "incident_date"])
    assert (
        synthkit.get_detector("iforest", missing="error")
        .fit(clean)
        .adapter_.notes[0]
        .startswith("left out")
    )


def test_saved_and_streamed_scores_match(table, tmp_path):
    from synthkit.detection._scoring import score_file

    path, df = table
    det = synthkit.get_detector("iforest").fit(df)
    det.save(tmp_path / "m")
    loaded = synthkit.load_model(tmp_path / "m")
    assert loaded.adapter_.notes == NOTES and loaded.adapter_.to_dict() == det.adapter_.to_dict()
    expected = det.decision_function(df)
    np.testing.assert_allclose(loaded.decision_function(df), expected)
    summary = score_file(path, tmp_path / "m", tmp_path / "scores.csv", chunksize=50)
    assert summary["rows"] == len(df) and summary["rows_imputed"] > 0
    scored = pd.read_csv(tmp_path / "scores.csv", **pandas_csv_options())
    np.testing.assert_allclose(scored["anomaly_score"], expected, rtol=1e-6)
    pd.testing.assert_frame_equal(scored[list(df.columns)], df)
    # left-out and text columns, cells as written, the text None included
    text = [
        "policy_number",
        "authorities_contacted",
        "incident_date",
        "city",
        "country",
        "fraud_reported",
        "_c39",
    ]
    as_text = dict(dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "scores.csv", **as_text)[text], pd.read_csv(path, **as_text)[text]
    )


@pytest.mark.parametrize("name", sorted(FAST))
def test_generators_give_back_the_columns(name, table):
    _, df = table
    gen = synthkit.get_generator(name, **FAST[name]).fit(df)
    assert gen.adapter_.notes == NOTES
    out = gen.sample(120, seed=0)
    assert list(out.columns) == list(df.columns) and out.dtypes.to_dict() == df.dtypes.to_dict()
    assert (
        (out["country"] == "US").all()
        and out["_c39"].isna().all()
        and out["policy_number"].isna().all()
    )
    dates = out["incident_date"].dropna()
    assert (
        len(dates)
        and (pd.to_datetime(dates, format="%Y-%m-%d").dt.strftime("%Y-%m-%d") == dates).all()
    )
    days = pd.to_datetime(df["incident_date"])
    assert pd.to_datetime(dates).between(days.min(), days.max()).all()
    assert set(out["city"]) <= set(df["city"])  # pooled ones drawn among the training values


def test_schema_round_trips_and_old_schemas_load(table):
    _, df = table
    adapter = TableAdapter(missing="model").fit(df)
    schema = json.loads(json.dumps(adapter.to_dict()))
    assert "\x00" not in json.dumps(schema["columns"], ensure_ascii=False)
    back = adapter_from_dict(schema)
    assert back.columns == adapter.columns and back.left_out == adapter.left_out
    np.testing.assert_array_equal(back.transform(df)[0], adapter.transform(df)[0])
    clean = df[["amount", "vehicles", "fraud_reported"]]
    old = (
        TableAdapter(missing="model").fit(clean).to_dict()
    )  # as schemas were written before: no new keys
    assert "left_out" not in old and not any(
        "other_level" in c or "date_format" in c for c in old["columns"]
    )
    assert (
        adapter_from_dict(old).left_out == []
        and adapter_from_dict(old).notes == TableAdapter(missing="model").fit(clean).notes
    )


def test_an_edited_left_out_column_is_refused_at_load(table, tmp_path):
    from synthkit.io._model_dirs import CHECKSUM, manifest_digest

    _, df = table
    synthkit.get_detector("ecod").fit(df).save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    manifest["schema"]["left_out"][0]["reason"] = "boring"
    manifest[CHECKSUM] = manifest_digest(manifest)
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="malformed 'left_out'"):
        synthkit.load_model(tmp_path / "m")


def test_the_rules_spare_what_they_should():
    """Numbers are never identifiers, short or repeating text is kept, and a table whose columns would
    all be left out keeps all but the empty ones; arrays are encoded as they are."""
    n = 60
    df = pd.DataFrame({"id": np.arange(n), "code": [f"c{i % 20}" for i in range(n)], "one": 1.0})
    adapter = TableAdapter().fit(df)
    assert adapter.notes == ["left out (one value): one"]
    assert TableAdapter().fit(pd.DataFrame({"t": [f"u{i}" for i in range(15)]})).notes == []
    assert TableAdapter().fit(pd.DataFrame({"k": [3] * 5})).notes == []
    assert TableAdapter().fit(np.ones((5, 2))).notes == []
    wide = pd.DataFrame({"w": [f"v{i % 3000}" for i in range(6000)]})
    assert len(TableAdapter().fit(wide).feature_names) == MAX_LEVELS + 1
    with pytest.raises(DataError, match="no features to learn from"):
        TableAdapter(missing="model").fit(pd.DataFrame({"a": [np.nan] * 4, "b": [None] * 4}))


def test_unseen_levels_of_a_pooled_column_are_other_and_bad_dates_missing(table):
    _, df = table
    adapter = TableAdapter(missing="model").fit(df)
    row = df.iloc[[0]].copy()
    row["city"], row["incident_date"] = "Atlantis", "not a date"
    Z = pd.Series(adapter.transform(row)[0][0], index=adapter.feature_names)
    assert Z["city=(other)"] == 1 and Z["incident_date is missing"] == 1


def test_adult_question_marks(tmp_path):
    """Adult's '?' is a level of its own as read by default; read as missing, it is modelled as missing."""
    df = adult_sample(400)
    assert (df == "?").any().any()
    out = synthkit.detect(df, plugin="iforest")
    pd.testing.assert_frame_equal(out[list(df.columns)], df)
    holed = df.replace("?", np.nan)
    det = synthkit.get_detector("knn").fit(holed)
    gaps = [c for c in df.columns if holed[c].isna().any()]
    assert det.adapter_.notes[-1] == f"missing values as flags/levels: {', '.join(gaps)}"
    assert np.isfinite(det.decision_function(holed)).all()
    gen = synthkit.get_generator("diffusion", **FAST["diffusion"]).fit(holed)
    assert list(gen.sample(50, seed=0).columns) == list(df.columns)


def test_cli_detect_and_augment_run_on_the_dirty_csv(table, tmp_path):
    from synthkit.cli._main import cli

    path, df = table
    result = CliRunner().invoke(
        cli, ["detect", str(path), "--plugin", "iforest", "-o", str(tmp_path / "s.csv")]
    )
    assert result.exit_code == 0, result.output
    assert all(f"note: {line}" in result.stderr for line in NOTES), result.stderr
    result = CliRunner().invoke(
        cli,
        [
            "augment",
            str(path),
            "--plugin",
            "diffusion",
            "-n",
            "50",
            "-o",
            str(tmp_path / "g.csv"),
            "--param",
            "epochs=1",
            "--param",
            "steps=5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "note: left out (identifier-like text): policy_number" in result.stderr
    assert list(pd.read_csv(tmp_path / "g.csv").columns) == list(df.columns)


def test_spikes_of_float_columns_come_back_exactly_through_float32():
    """A float column's atoms (values 1% of its rows or more hold) survive float32 model space:
    decoding snaps a value within float32 precision of one to it, and leaves other values alone."""
    rng = np.random.default_rng(0)
    spike, zero = -0.0980213567, 0.0
    values = np.where(rng.random(500) < 0.5, spike, rng.normal(3.0, 2.0, 500))
    values[:40] = zero
    df = pd.DataFrame({"v": values, "w": rng.normal(size=500)})
    adapter = TableAdapter().fit(df)
    v = next(c for c in adapter.columns if c["name"] == "v")
    assert v["atoms"] == [spike, zero] and "atoms" in v and v["decimals"] is None
    back = adapter.inverse_transform(adapter.transform(df)[0])
    np.testing.assert_array_equal(back["v"][values == spike], spike)
    np.testing.assert_array_equal(back["v"][values == zero], zero)
    other = (values != spike) & (values != zero)
    np.testing.assert_allclose(back["v"][other], values[other], rtol=1e-5)
    assert (back["v"][other] != spike).all()
    rounded = TableAdapter().fit(pd.DataFrame({"v": np.round(values, 2)}))
    assert "atoms" not in rounded.columns[0]  # rounding to its decimals already gives them back


def test_an_atom_outside_its_columns_range_is_refused_at_load(tmp_path):
    from synthkit.io._model_dirs import CHECKSUM, manifest_digest

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"v": np.where(rng.random(200) < 0.5, 0.123456789, rng.normal(size=200))})
    synthkit.get_detector("ecod").fit(df).save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    manifest["schema"]["columns"][0]["atoms"] = [1e300]
    manifest[CHECKSUM] = manifest_digest(manifest)
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="malformed 'atoms'"):
        synthkit.load_model(tmp_path / "m")


def test_decoding_a_wide_table_warns_nothing():
    """Generated rows of a wide table (the MVTec sets' 512 features, some constant and left out)
    are built whole: pandas once warned on stderr that the frame was highly fragmented."""
    import warnings

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(60, 300)), columns=[f"x{i}" for i in range(300)])
    df["flat"] = 1.5
    adapter = TableAdapter().fit(df)
    assert [c["name"] for c in adapter.left_out] == ["flat"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = adapter.inverse_transform(adapter.transform(df)[0])
    assert list(back.columns) == list(df.columns) and (back["flat"] == 1.5).all()
    assert back.dtypes.to_dict() == df.dtypes.to_dict()
