"""Every input cell comes out as it went in (issue 32, item 2), on the real UCI Adult table: the
text ``None`` stays text, columns that share a name are refused, unnamed columns are named alike,
in-memory and streamed outputs write the same bytes, and ``na_values`` chooses what is missing."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import adult_sample, run

import synthkit
from synthkit.io import MISSING_TEXT, reading_missing_as
from synthkit.io._cells import missing_text


@pytest.fixture(scope="module")
def adult_csv(tmp_path_factory):
    """2,000 real Adult rows whose unknown work class ("?") reads "None", as a real claims table
    writes "no authority contacted", plus a boolean column."""
    frame = adult_sample(2000)
    frame["workclass"] = frame["workclass"].replace("?", "None")
    frame["high_income"] = frame["class"].eq(">50K")
    path = tmp_path_factory.mktemp("cells") / "adult.csv"
    frame.to_csv(path, index=False)
    return path


def read_cells(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_none_is_text_and_in_memory_and_streamed_outputs_are_the_same_bytes(adult_csv, tmp_path):
    assert "None" not in MISSING_TEXT
    memory, streamed, model = tmp_path / "m.csv", tmp_path / "s.csv", tmp_path / "model"
    first = run(
        "detect", str(adult_csv), "--seed", "0", "--save-model", str(model), "-o", str(memory)
    )
    assert first.exit_code == 0, first.output
    second = run("detect", str(adult_csv), "--model", str(model), "-o", str(streamed))
    assert second.exit_code == 0, second.output
    assert memory.read_bytes() == streamed.read_bytes()
    cells, source = read_cells(memory), read_cells(adult_csv)
    assert (cells["workclass"] == "None").sum() == (source["workclass"] == "None").sum() > 0
    pd.testing.assert_frame_equal(cells[source.columns], source)  # every input cell, as it came


def test_the_generators_learn_none_as_a_value(adult_csv, tmp_path):
    out = tmp_path / "synthetic.csv"
    args = ["augment", str(adult_csv), "--plugin", "gan", "-n", "400", "--seed", "0"]
    result = run(*args, "--param", "epochs=2", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert (read_cells(out)["workclass"] == "None").any()


def test_columns_that_share_a_name_are_refused_on_both_paths(adult_csv, tmp_path):
    lines = adult_csv.read_text().splitlines()
    names = lines[0].split(",")
    names[-1] = "age"
    dup = tmp_path / "dup.csv"
    dup.write_text("\n".join([",".join(names), *lines[1:]]) + "\n")
    model = tmp_path / "model"
    assert run("detect", str(adult_csv), "--save-model", str(model)).exit_code == 0
    for extra in ([], ["--model", str(model)]):
        result = run("detect", str(dup), *extra, "-o", str(tmp_path / f"o{len(extra)}.csv"))
        assert result.exit_code == 1
        assert "columns 1 and 16 are both named 'age'; rename one" in result.output


def test_an_unnamed_column_is_named_alike_on_both_paths_and_said(adult_csv, tmp_path):
    lines = adult_csv.read_text().splitlines()
    unnamed = tmp_path / "unnamed.csv"
    unnamed.write_text("\n".join([lines[0].rsplit(",", 1)[0] + ",", *lines[1:]]) + "\n")
    memory, streamed, model = tmp_path / "m.csv", tmp_path / "s.csv", tmp_path / "model"
    with pytest.warns(UserWarning, match="column 16 has no name; it is read and written back"):
        first = run("detect", str(unnamed), "--save-model", str(model), "-o", str(memory))
    assert first.exit_code == 0, first.output
    second = run("detect", str(unnamed), "--model", str(model), "-o", str(streamed))
    assert second.exit_code == 0, second.output
    assert memory.read_bytes() == streamed.read_bytes()
    assert "Unnamed: 15" in read_cells(memory).columns


def test_na_values_chooses_the_missing_cells_and_is_scoped_to_its_call(tmp_path):
    frame = adult_sample(2000)
    path = tmp_path / "adult.csv"
    frame.to_csv(path, index=False)
    unknown = int(frame.eq("?").any(axis=1).sum())
    assert unknown > 0
    default = synthkit.detect(str(path), seed=0).attrs["synthkit"]
    assert default["rows_imputed"] == 0  # "?" is a level of its own by default
    chosen = synthkit.detect(str(path), seed=0, na_values=["", "?"]).attrs["synthkit"]
    assert chosen["rows_imputed"] == unknown
    assert missing_text() == MISSING_TEXT  # the choice ended with the call
    result = run("detect", str(path), "--na-values", ",?", "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.output
    assert f"rows with imputed values: {unknown}" in result.output
    assert missing_text() == MISSING_TEXT


def test_na_values_must_be_text():
    with pytest.raises(synthkit.SynthkitError, match="na_values must be a string or a list"):
        with reading_missing_as([1, 2]):
            pass
