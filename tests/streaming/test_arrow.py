"""Streaming through pyarrow: the same values as pandas reads, typed by the model, and one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthkit
from synthkit import detection as scoring
from synthkit import streaming
from synthkit.cli._main import cli
from synthkit.errors import InputFileError, SchemaError


def awkward_table(n: int, seed: int = 0, multiline: bool = True) -> pd.DataFrame:
    """Missing values in every kind of column, and text that needs quoting (line breaks too)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(3, 1, n), 2),
            "x": rng.normal(size=n),
            "count": rng.poisson(3, n).astype(float),
            "shop": rng.choice(
                ["a,b", 'say "hi"', "7", "plain", "two\nlines" if multiline else "one"], n
            ),
            "online": pd.array(rng.random(n) < 0.3, dtype="boolean"),
        }
    )
    frame.loc[rng.choice(n, 20, replace=False), "count"] = np.nan
    frame.loc[rng.choice(n, 20, replace=False), "online"] = pd.NA
    frame.loc[rng.choice(n, 20, replace=False), "x"] = np.nan
    frame.loc[rng.choice(n, 20, replace=False), "shop"] = None
    return frame


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    train = awkward_table(1500, seed=1).astype({"count": "Int64"})
    return synthkit.get_detector("kmeans", n_clusters=3, seed=0, missing="impute").fit(train)


def in_memory(model, path) -> pd.DataFrame:
    """What the pandas path gives: the file read whole with pandas, scored in memory."""
    frame = pd.read_csv(path, dtype=streaming.schema_dtypes(model.adapter_))
    frame = streaming.normalise_chunk(frame, model.adapter_)
    return scoring.score_frame(model, frame, frame.copy())


@pytest.mark.parametrize("target", ["o.csv", "o.csv.gz", "o.parquet"])
@pytest.mark.parametrize("source", ["d.csv", "d.csv.gz", "d.parquet"])
def test_outputs_hold_the_pandas_paths_values(model, tmp_path, source, target):
    data = awkward_table(2000, seed=2)
    if source.endswith("parquet"):
        data.to_parquet(tmp_path / source, index=False)
    else:
        data.to_csv(tmp_path / source, index=False)
    expected = in_memory(model, tmp_path / source) if not source.endswith("parquet") else None
    summary = scoring.score_file(tmp_path / source, model, tmp_path / target, chunksize=333)
    got = (
        pd.read_parquet(tmp_path / target)
        if target.endswith("parquet")
        else pd.read_csv(tmp_path / target, dtype={"shop": str})
    )
    assert summary["rows"] == len(got) == 2000 and summary["rows_imputed"] > 0
    assert list(got.columns) == [*data.columns, "anomaly_score", "is_anomaly", "segment"]
    if expected is None:
        expected = scoring.score_frame(model, data, data.copy())
    np.testing.assert_allclose(
        got["anomaly_score"], expected["anomaly_score"], rtol=1e-5, atol=1e-6
    )
    assert (got["segment"].to_numpy() == expected["segment"].to_numpy()).all()
    for name in ("amount", "x", "count"):
        np.testing.assert_allclose(got[name].astype(float), data[name].astype(float), rtol=1e-12)
    assert got["shop"].isna().sum() == data["shop"].isna().sum() == 20
    assert (got["shop"].dropna().to_numpy() == data["shop"].dropna().to_numpy()).all()
    assert (got["online"].isna() == data["online"].isna()).all()
    assert (
        got["online"].dropna().astype(bool).to_numpy()
        == data["online"].dropna().astype(bool).to_numpy()
    ).all()
    if target.endswith("parquet"):
        import pyarrow.parquet as pq

        schema = pq.read_schema(tmp_path / target)
        assert (
            str(schema.field("count").type) == "int64"
            and str(schema.field("online").type) == "bool"
        )


def test_a_column_that_turns_fractional_later_still_writes_csv(model, tmp_path):
    data = awkward_table(900, seed=3).fillna({"count": 1.0})
    data.loc[799, "count"] = 2.5
    data.to_csv(tmp_path / "d.csv", index=False)
    scoring.score_file(tmp_path / "d.csv", model, tmp_path / "o.csv", chunksize=300)
    got = pd.read_csv(tmp_path / "o.csv")
    assert len(got) == 900 and got.columns[0] == "amount"  # one header only
    np.testing.assert_array_equal(got["count"], data["count"])


def run_cli(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def one_line(code, output, *needles):
    lines = output.strip().splitlines()
    assert (
        code == 1
        and len(lines) == 1
        and lines[0].startswith("Error: ")
        and "Traceback" not in output
    ), output
    for needle in needles:
        assert needle in lines[0], output


def test_wrong_values_are_one_line_errors_naming_column_and_rows(model, tmp_path):
    data = awkward_table(1200, seed=4, multiline=False)
    data.to_csv(tmp_path / "d.csv", index=False)
    rows = (tmp_path / "d.csv").read_text().splitlines()
    model.save(tmp_path / "m")
    bad = rows.copy()
    bad[1100] = "12.5,oops," + bad[1100].split(",", 2)[2]
    (tmp_path / "x.csv").write_text("\n".join(bad) + "\n")
    with pytest.raises(
        SchemaError, match=r"column 'x' holds 'oops' after row \d+, expected numeric"
    ):
        scoring.score_file(tmp_path / "x.csv", model, tmp_path / "o.csv", chunksize=200)
    code, out = run_cli(
        "detect",
        tmp_path / "x.csv",
        "--model",
        tmp_path / "m",
        "-o",
        tmp_path / "o.csv",
        "--chunksize",
        200,
    )
    one_line(code, out, "column 'x'", "after row")
    bad = rows.copy()
    bad[700] += ",1,2"
    (tmp_path / "r.csv").write_text("\n".join(bad) + "\n")
    code, out = run_cli(
        "detect",
        tmp_path / "r.csv",
        "--model",
        tmp_path / "m",
        "-o",
        tmp_path / "o.parquet",
        "--chunksize",
        200,
    )
    one_line(code, out, "cannot read", "after row ", "Expected 5 columns, got 7")
    assert out.split("after row ")[1].split(":")[0] in (
        "400",
        "600",
    )  # its chunk's start, or the one before
    (tmp_path / "u.csv").write_bytes(
        "\n".join(rows[:5]).encode().replace(b"plain", b"pl\xffin") + b"\n"
    )
    code, out = run_cli(
        "detect", tmp_path / "u.csv", "--model", tmp_path / "m", "-o", tmp_path / "o.csv"
    )
    one_line(code, out, "cannot read", "column 'shop'", "UTF8", "UTF-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "m", "r.csv", "u.csv", "x.csv"]


def test_a_label_column_that_changes_type_is_one_line(model, tmp_path):
    data = awkward_table(1000, seed=5, multiline=False).assign(label=0)
    data.to_csv(tmp_path / "d.csv", index=False)
    rows = (tmp_path / "d.csv").read_text().splitlines()
    rows[950] = rows[950].rsplit(",", 1)[0] + ",maybe"
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(InputFileError, match="column 'label'.*one type throughout"):
        scoring.score_file(tmp_path / "d.csv", model, label_column="label", chunksize=100)


def test_parquet_with_a_pandas_index_writes_its_columns(model, tmp_path):
    data = awkward_table(500, seed=6)
    data.index = pd.Index(np.arange(500) * 3, name="row")
    data.to_parquet(tmp_path / "d.parquet")
    scoring.score_file(tmp_path / "d.parquet", model, tmp_path / "o.csv", chunksize=128)
    got = pd.read_csv(tmp_path / "o.csv")
    assert (
        list(got.columns) == [*data.columns, "anomaly_score", "is_anomaly", "segment"]
        and len(got) == 500
    )


def test_chunks_have_exactly_chunksize_rows(model, tmp_path):
    awkward_table(1000, seed=7).to_csv(tmp_path / "d.csv", index=False)
    reader = streaming.ChunkReader(tmp_path / "d.csv", 300, columns=model.adapter_.columns)
    sizes = [len(chunk) for chunk in reader]
    assert sizes == [300, 300, 300, 100] and reader.rows_read == 1000
    assert reader.fraction_done is None or reader.fraction_done <= 1.0


def test_a_csv_written_with_its_index_names_the_column_as_pandas_does(model, tmp_path):
    awkward_table(50, seed=8).to_csv(tmp_path / "d.csv")
    with pytest.raises(SchemaError, match="unexpected columns Unnamed: 0"):
        scoring.score_file(tmp_path / "d.csv", model)
