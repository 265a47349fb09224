"""Which adapter fits the data: ``make_adapter`` at fit, ``adapter_from_dict`` when a model loads."""

from __future__ import annotations
from synthkit.adapters._images import ImageAdapter


import pandas as pd

from synthkit.adapters._arrays import as_array, one_dimensional
from synthkit.errors import DataError, SchemaError
from synthkit.parameters import MISSING_POLICIES
from synthkit.adapters._tables import (
    TableAdapter,
)


def make_adapter(X, missing: str = "error"):
    """A fitted-to-be adapter for X: TableAdapter for frames and 2-D arrays, ImageAdapter for images."""
    if missing not in MISSING_POLICIES:
        raise DataError(
            f"missing={missing!r} is not a policy; choose one of {', '.join(MISSING_POLICIES)}"
        )
    if isinstance(X, pd.DataFrame):
        return TableAdapter(missing=missing)
    if isinstance(X, pd.Series):
        raise DataError("got a pandas Series; pass a DataFrame (df[[column]]) or a 2-D array")
    arr = as_array(X)
    if arr.ndim == 1:
        raise DataError(one_dimensional(arr))
    if arr.ndim == 2:
        return TableAdapter(missing=missing)
    if arr.ndim in (3, 4):
        return ImageAdapter(missing=missing)
    raise DataError(
        f"expected a table (2-D) or images (3-D or 4-D), got an array of shape {arr.shape}"
    )


def adapter_from_dict(d: dict):
    """Rebuild a fitted adapter from ``to_dict()`` output (a model manifest's schema)."""
    kind = d.get("kind")
    if kind == "table":
        return TableAdapter.from_dict(d)
    if kind == "image":
        return ImageAdapter.from_dict(d)
    raise SchemaError(f"unknown input schema kind {kind!r}")
