"""BaseGenerator's contract on a toy plugin: the table schema round trip, conditional sampling and augment, image dtypes, SDV's num_rows."""

from __future__ import annotations

from helpers import Bootstrap
import numpy as np
import pandas as pd
import pytest
import synthkit
from synthkit.errors import (
    PluginError,
    SynthkitError,
)


# -- generator contract ------------------------------------------------------------------------
def test_generator_round_trips_schema(toy, toy_table):
    gen = Bootstrap(noise=0.01).fit(toy_table)
    out = gen.sample(50, seed=3)
    assert list(out.columns) == list(toy_table.columns)
    assert out.dtypes.to_dict() == toy_table.dtypes.to_dict()
    assert set(out["kind"]) <= {"a", "b", "c"}
    assert (out["count"] >= 0).all() and (out["count"] == out["count"].round()).all()
    pd.testing.assert_frame_equal(out, gen.sample(50, seed=3))


def test_conditional_generator_and_augment(toy, toy_table):
    labelled = toy_table.assign(is_fraud=(np.arange(len(toy_table)) % 10 == 0).astype(int))
    rows = synthkit.augment(
        labelled, plugin="bootstrap", n=40, label_column="is_fraud", label=1, seed=0
    )
    assert list(rows.columns) == list(labelled.columns)
    assert (rows["is_fraud"] == 1).all() and rows["is_fraud"].dtype == labelled["is_fraud"].dtype
    with pytest.raises(SynthkitError, match="not among the classes"):
        synthkit.augment(labelled, plugin="bootstrap", n=5, label_column="is_fraud", label=7)


def test_image_generator_keeps_dtype(toy):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 6, 6), dtype=np.uint8)
    labels = np.repeat([3, 5, 7], 10)
    gen = Bootstrap().fit(images, labels)
    out = gen.sample(12, y=5, seed=1)
    assert out.shape == (12, 6, 6) and out.dtype == np.uint8
    assert all(any((o == images[i]).all() for i in range(10, 20)) for o in out)


def test_sample_takes_num_rows_as_sdv_spells_it(toy):
    table = synthkit.load_dataset("transactions").head(1000)
    gen = Bootstrap(noise=0.01).fit(table)
    pd.testing.assert_frame_equal(gen.sample(num_rows=25, seed=4), gen.sample(25, seed=4))
    rows = gen.sample(num_rows=5, seed=1)
    assert len(rows) == 5 and list(rows.columns) == list(table.columns)
    with pytest.raises(PluginError, match=r"^give n or num_rows \(its SDV name\), not both: .*$"):
        gen.sample(10, num_rows=10)
    assert issubclass(PluginError, SynthkitError)
    with pytest.raises(PluginError, match=r"^num_rows must be a positive integer, got 0$"):
        gen.sample(num_rows=0)
    with pytest.raises(PluginError, match=r"^say how many samples to make"):
        gen.sample()
