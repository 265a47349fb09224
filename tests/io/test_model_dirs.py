"""Model directories: save and load round trips for detectors and generators, corrupted directories refused, unregistered classes not saved."""

from __future__ import annotations

from helpers import Bootstrap, MeanDistance
import json
import numpy as np
import pandas as pd
import pytest
import synthkit
from synthkit.errors import (
    ModelFileError,
    SchemaError,
)


# -- model directories -------------------------------------------------------------------------
def test_save_load_round_trip(toy, toy_table, tmp_path):
    det = MeanDistance(contamination=0.05, scale=2.0).fit(toy_table)
    det.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["plugin"] == "meandist" and manifest["format_version"] == 1
    assert manifest["params"] == {"contamination": 0.05, "scale": 2.0}
    again = synthkit.load_model(tmp_path / "m")
    np.testing.assert_allclose(again.decision_function(toy_table), det.decision_function(toy_table))
    assert again.threshold_ == det.threshold_
    with pytest.raises(SchemaError, match="missing columns"):
        again.decision_function(toy_table.drop(columns=["kind"]))


def test_generator_save_load(toy, toy_table, tmp_path):
    gen = Bootstrap().fit(toy_table.drop(columns=["kind"]), toy_table["kind"])
    gen.save(tmp_path / "g")
    again = synthkit.load_model(tmp_path / "g")
    pd.testing.assert_frame_equal(again.sample(10, y="b", seed=1), gen.sample(10, y="b", seed=1))
    assert isinstance(again.classes_, np.ndarray) and list(again.classes_) == list(gen.classes_)
    np.testing.assert_array_equal(again.class_freq_, gen.class_freq_)


def test_corrupted_model_directories(toy, toy_table, tmp_path):
    MeanDistance().fit(toy_table).save(tmp_path / "m")
    state = tmp_path / "m" / "state.npz"
    state.write_bytes(state.read_bytes()[:-10])
    with pytest.raises(ModelFileError, match="checksum"):
        synthkit.load_model(tmp_path / "m")
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(ModelFileError, match="another format"):
        synthkit.load_model(tmp_path / "f")
    with pytest.raises(ModelFileError, match="no model directory"):
        synthkit.load_model(tmp_path / "absent")


def test_unregistered_class_cannot_be_saved(registry, toy_table, tmp_path):
    with pytest.raises(ModelFileError, match="not a registered detector"):
        MeanDistance().fit(toy_table).save(tmp_path / "m")
