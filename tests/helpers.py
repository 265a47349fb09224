"""Helpers that several test modules share: eager TensorFlow for tiny fits, edited model directories, bar images."""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from contextlib import contextmanager

import numpy as np


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
