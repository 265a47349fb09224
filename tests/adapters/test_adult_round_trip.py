"""Mixed real columns round-trip (issue 17, item 3): on the UCI Adult table, with its "?" unknown
markers, a 42-level text column and small-range integers, gan and diffusion samples come back with
the same columns and dtypes, only training levels ("?" among them), integers in range, and
`synthkit evaluate` reports on them. Tiny fits: the form of the rows is tested, not their quality.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthkit
from helpers import adult_sample

FITS = {  # one epoch: the adapter's decoding is what is tested
    "gan": dict(epochs=1, batch_size=500, max_modes=3, seed=0),
    "diffusion": dict(epochs=1, batch_size=256, widths=(32,), steps=5, seed=0),
}
UNKNOWN = ("workclass", "occupation", "native-country")  # the columns holding "?"


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return adult_sample(1000)


@pytest.fixture(scope="module")
def samples(adult):
    return {
        name: synthkit.get_generator(name, **params).fit(adult).sample(1000, seed=0)
        for name, params in FITS.items()
    }


def test_the_table_is_as_described(adult):
    """What the round trip is about: "?" without spaces, many levels, a small-range integer column."""
    assert all((adult[c] == "?").any() for c in UNKNOWN)
    text = adult.select_dtypes(exclude="number")
    assert text.shape[1] == 9
    assert not text.apply(lambda s: s.str.startswith(" ").any()).any()
    assert adult["native-country"].nunique() > 30 and adult["education-num"].dtype == np.int64


@pytest.mark.parametrize("name", sorted(FITS))
def test_samples_keep_columns_dtypes_levels_and_ranges(name, adult, samples):
    out = samples[name]
    assert list(out.columns) == list(adult.columns)
    assert out.dtypes.to_dict() == adult.dtypes.to_dict()
    assert not out.isna().any().any()
    for column in adult.select_dtypes(exclude="number"):
        assert set(out[column]) <= set(adult[column]), column
    assert all((out[c] == "?").any() for c in UNKNOWN)
    for column in adult.select_dtypes("number"):
        assert out[column].between(adult[column].min(), adult[column].max()).all(), column
    assert set(out["education-num"]) <= set(range(1, 17))


@pytest.mark.parametrize("name", sorted(FITS))
def test_evaluate_reports_on_them(name, adult, samples, tmp_path):
    from synthkit.cli._main import cli

    adult.to_csv(tmp_path / "real.csv", index=False)
    samples[name].to_csv(tmp_path / "synthetic.csv", index=False)
    result = CliRunner().invoke(
        cli,
        [
            "evaluate",
            str(tmp_path / "real.csv"),
            str(tmp_path / "synthetic.csv"),
            "--label-column",
            "class",
        ],
    )
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "TV native-country" in result.output and "KS education-num" in result.output
    assert "GBM ROC-AUC" in result.output
