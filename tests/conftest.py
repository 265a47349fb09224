"""Shared fixtures: the real MNIST folder (skip or, under CI, fail when absent) and a clean registry."""

from __future__ import annotations

import numpy as np
import pandas as pd

import os
from pathlib import Path

import pytest

# Read at import, before any fixture changes the environment.
REAL_DATA_DIR = os.environ.get("SYNTHKIT_DATA_DIR", "")
REQUIRE_MNIST = os.environ.get("SYNTHKIT_REQUIRE_MNIST", "").strip().lower() in {"1", "true", "yes"}
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def real_mnist_dir(monkeypatch) -> Path:
    """The ``mnist/`` folder holding the real MNIST test split under ``$SYNTHKIT_DATA_DIR``.

    Skips the test, saying why, when ``SYNTHKIT_DATA_DIR`` is unset or its ``mnist/`` folder lacks
    the test split; fails instead when ``SYNTHKIT_REQUIRE_MNIST=1`` (as .ci/run sets), so that a
    wrong path cannot pass as a skip. ``SYNTHKIT_DATA_DIR`` is re-set to its absolute path.
    """

    def missing(reason: str):
        if REQUIRE_MNIST:
            pytest.fail(f"{reason}, and SYNTHKIT_REQUIRE_MNIST=1 requires the real MNIST files")
        pytest.skip(reason)

    root = REAL_DATA_DIR.strip()
    if not root:
        missing("SYNTHKIT_DATA_DIR is unset: set it to the folder holding mnist/t10k-*-ubyte.gz")
    root_path = Path(root).expanduser().absolute()
    folder = root_path / "mnist"
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        if not ((folder / f"{name}.gz").is_file() or (folder / name).is_file()):
            missing(f"the real MNIST test split is not in {folder}: {name}.gz is missing")
    monkeypatch.setenv("SYNTHKIT_DATA_DIR", str(root_path))
    return folder


@pytest.fixture
def registry(monkeypatch):
    """A fresh process-wide registry with the installed entry points, discarded after the test."""
    from synthkit import registry as registry_module

    fresh = registry_module.Registry()
    fresh.load_entry_points()
    monkeypatch.setattr(registry_module, "_registry", fresh)
    return fresh


@pytest.fixture
def toy(registry):
    from helpers import ToyPlugin

    registry.register_plugin(ToyPlugin(), name="toy")
    return registry


@pytest.fixture
def toy_table():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n).round(2),
            "count": rng.integers(0, 10, n),
            "kind": rng.choice(["a", "b", "c"], n).astype(object),
            "flag": rng.random(n) < 0.3,
        }
    )
    df.loc[:4, "amount"] = 1e4  # five obvious outliers
    return df
