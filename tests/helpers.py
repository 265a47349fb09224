"""Helpers that several test modules share: eager TensorFlow for tiny fits, edited model directories, bar images."""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from contextlib import contextmanager

import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from synthkit import BaseDetector, BaseGenerator, hookimpl
from synthkit.cli import cli


@contextmanager
def eager_tensorflow():
    """TensorFlow functions run eagerly inside the block: on a few rows one epoch takes about a
    second, not the several that tracing a training step costs; the same maths runs."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*run_functions_eagerly.*")
            yield
    finally:
        tf.config.run_functions_eagerly(False)


def edited_model_copy(saved, target, manifest_edit=None, array_edit=None):
    """A copy of model directory ``saved`` at ``target`` with its manifest's state or its arrays
    edited, the checksums recomputed (an edit by someone who knows the format)."""
    from synthkit.io._model_dirs import CHECKSUM, manifest_digest

    shutil.copytree(saved, target)
    manifest = json.loads((target / "manifest.json").read_text())
    if manifest_edit:
        manifest_edit(manifest["state"])
    if array_edit:
        with np.load(target / "state.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
        array_edit(arrays)
        np.savez(target / "state.npz", **arrays)
        manifest["files"]["state.npz"] = hashlib.sha256(
            (target / "state.npz").read_bytes()
        ).hexdigest()
    manifest[CHECKSUM] = manifest_digest(manifest)
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def bars(n=40, size=12, seed=0):
    """uint8 (n, size, size) images of one bright horizontal or vertical bar, and the bar's direction."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, size, size), np.uint8)
    y = rng.integers(0, 2, n)
    for i in range(n):
        pos = rng.integers(2, size - 2)
        if y[i] == 0:
            X[i, pos - 1 : pos + 1, 1:-1] = 255
        else:
            X[i, 1:-1, pos - 1 : pos + 1] = 255
    return X, y


def adult_sample(rows: int):
    """A seeded sample of ``rows`` rows of the real UCI Adult table, or a skip saying where it was looked for."""
    import os
    from pathlib import Path

    import pandas as pd
    import pytest

    path = Path(os.environ.get("SYNTHKIT_DATA_DIR", "")) / "tables" / "adult.csv.gz"
    if not os.environ.get("SYNTHKIT_DATA_DIR") or not path.is_file():
        pytest.skip(f"the UCI Adult table is not at {path} (set SYNTHKIT_DATA_DIR)")
    return pd.read_csv(path).sample(rows, random_state=0).reset_index(drop=True)


# -- a toy plugin: the smallest honest detector and generator ---------------------------------
class MeanDistance(BaseDetector):
    """Distance to the training mean: the smallest honest detector."""

    def __init__(self, contamination=0.1, scale=1.0):
        self.contamination = contamination
        self.scale = scale

    def _fit(self, X):
        self.center_ = X.reshape(len(X), -1).mean(axis=0)

    def _score(self, X):
        return self.scale * np.linalg.norm(X.reshape(len(X), -1) - self.center_, axis=1)


class Bootstrap(BaseGenerator):
    """Resamples training rows (per class when conditional), plus a little noise."""

    def __init__(self, noise=0.0):
        self.noise = noise

    def _fit(self, X, y):
        self.rows_ = X
        self.codes_ = np.zeros(len(X), int) if y is None else y

    def _sample(self, n, y, rng):
        if y is None:
            idx = rng.integers(0, len(self.rows_), n)
        else:
            idx = np.array([rng.choice(np.flatnonzero(self.codes_ == c)) for c in y])
        return self.rows_[idx] + self.noise * rng.standard_normal(self.rows_[idx].shape)


class ToyPlugin:
    @hookimpl
    def synthkit_register_detectors(self, register):
        register("meandist", MeanDistance)

    @hookimpl
    def synthkit_register_generators(self, register):
        register("bootstrap", Bootstrap)


# -- running the command line ----------------------------------------------------------------
def run(*args, env=None):
    return CliRunner().invoke(cli, list(map(str, args)), env=env)


def assert_clean_error(result, pattern: str):
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert pytest.importorskip("re").search(pattern, lines[0]), lines[0]


# -- images in every form a user holds them -----------------------------------------------------
SCALE = {"uint8": 255.0, "float [0, 1]": 1.0, "float [0, 255]": 255.0}
FORMS = {
    "uint8": lambda X: X,
    "float [0, 1]": lambda X: X.astype(np.float32) / 255,
    "float [0, 255]": lambda X: X.astype(np.float32),
}


def assert_same_pictures(outputs: dict, inputs: dict):
    """Each output has its input's dtype and shape, is in its input's scale, and shows the same
    pictures as the others (to uint8 rounding)."""
    unit = {}
    for form, out in outputs.items():
        assert out.dtype == inputs[form].dtype, (form, out.dtype)
        assert out.shape == inputs[form].shape, (form, out.shape)
        assert out.min() >= 0 and out.max() <= SCALE[form], (form, out.min(), out.max())
        unit[form] = out.astype(np.float64) / SCALE[form]
    reference = unit["uint8"]
    assert reference.max() > 0.2  # bright bars come back bright: not all near zero
    for form, u in unit.items():
        assert np.abs(u - reference).max() <= 1 / 255 + 1e-5, form


# -- the real anomaly sets --------------------------------------------------------------------
ANOMALY_DIR = Path(os.environ.get("SYNTHKIT_DATA_DIR", "")) / "anomaly"


def load_anomaly_set(name):
    path = ANOMALY_DIR / f"{name}.npz"
    if not path.is_file():
        pytest.skip(f"{path} is missing: set SYNTHKIT_DATA_DIR to the folder holding anomaly/")
    with np.load(path, allow_pickle=False) as d:
        return d["X"].astype(np.float64), d["y"].astype(int)
