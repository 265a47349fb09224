"""Data adapters: the one place where user data becomes model arrays and back.

Rules every plugin can rely on:

- Tables (a pandas DataFrame, or a 2-D array treated as numeric columns) become 2-D float32 arrays:
  numeric columns standardised with the training mean and standard deviation (non-negative
  columns with skewness above 2, such as amounts and counts, are first log-transformed with
  ``log1p``, so that a long tail does not swamp every other feature), booleans as 0/1 (an object
  column of True/False values, with missing ones as CSV readers give them, is boolean too),
  categorical columns (object, string or category dtype) one-hot encoded over the training levels
  (unseen levels encode as all zeros; a column with more than ``MAX_LEVELS`` levels keeps the most
  frequent and pools the rest, and unseen ones, into one "other" level). A DataFrame's empty,
  one-valued and identifier columns are left out and its text dates become numbers
  (``synthkit.table_triage``; ``TableAdapter.notes`` says what was done).
- Images (arrays of shape (n, h, w) or (n, h, w, c)) become 4-D float32 arrays in [0, 1]: integer
  images, and float images whose maximum exceeds 1, are divided by 255; other float images are
  taken as already in [0, 1]. The scale is decided for each array given (``image_scale``), at fit
  and after, so uint8 and float images of the same pictures adapt alike whatever the model was
  fitted on; values are clipped to [0, 1]. ``inverse_transform(Z, like=X)`` returns images in the
  dtype, scale and shape of ``X`` (what ``denoise`` and ``reconstruct`` give back); without
  ``like``, in the training images' (what ``sample`` gives).
- Missing values and infinities follow the ``missing`` policy chosen at fit: ``"error"`` (the
  adapter's own default: a clear error naming the columns), ``"impute"`` (median for numeric, most frequent level
  for categorical and boolean columns, learned at fit), ``"drop"`` (rows are left out of fitting
  and get no score) or ``"model"`` (tables: missing values are
  data. A numeric or boolean column with missing values at fit gets one more encoded column, a
  boolean flag "value missing", and its value is encoded with the median or most frequent value
  filled in, its statistics fitted on the present values; a categorical column gets one more
  level, missing. ``inverse_transform`` puts missing values back where a flag is on (> 0.5) or
  the missing level is chosen, in the column's training dtype and with the marker its missing
  values had (None or NaN in object columns), so a generator reproduces which columns go missing
  and how often. Infinities are still an error, and so are missing pixels; a column without
  missing values at fit imputes those new rows bring). Detectors take all four; the built-in
  generators and detectors default to ``"model"``.

- Sparse matrices and arrays (scipy.sparse, as ``OneHotEncoder`` gives them in a Pipeline) are
  densified, up to ``MAX_SPARSE_VALUES`` values; larger ones are refused in one line. A 2-D array
  of dtype object is read as numbers where every value is one.

``inverse_transform`` decodes model arrays back to the input's columns, dtypes and levels:
numeric values are clipped to the training range, integer columns rounded, and float columns
rounded to the decimals their training values have (``decimals``: the fewest, 0 to
``MAX_DECIMALS``, that hold every value; None, no rounding, for values with more, and for schemas
saved before it was learned).

The table adapter lives in ``synthkit.table_adapter`` and is re-exported here; reading arrays
(dense, numeric, 2-D) is ``synthkit.arrays``, below both.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from synthkit.arrays import MAX_SPARSE_VALUES, as_array, as_dense, one_dimensional
from synthkit.errors import DataError, SchemaError
from synthkit.parameters import MISSING_POLICIES
from synthkit.table_adapter import (
    MAX_DECIMALS,
    MAX_LEVELS,
    MISSING_LEVEL,
    SKEW_FOR_LOG,
    TableAdapter,
)

__all__ = [
    "MAX_DECIMALS",
    "MAX_LEVELS",
    "MAX_SPARSE_VALUES",
    "MISSING_LEVEL",
    "MISSING_POLICIES",
    "SKEW_FOR_LOG",
    "ImageAdapter",
    "TableAdapter",
    "adapter_from_dict",
    "as_dense",
    "image_scale",
    "make_adapter",
]


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


def image_scale(arr: np.ndarray) -> float:
    """The full-scale value of an image array: 255 for integers and for floats above 1, else 1.

    Decided for each array given, at fit and at every later call, so that a model fitted on uint8
    images reads float images in [0, 1] (and the other way round) as the same pictures."""
    arr = np.asarray(arr)
    if np.issubdtype(arr.dtype, np.integer):
        return 255.0
    finite = arr[np.isfinite(arr)] if np.issubdtype(arr.dtype, np.floating) else arr
    return 255.0 if finite.size and float(finite.max()) > 1.0 else 1.0


class ImageAdapter:
    """Scales images to float32 (n, h, w, c) in [0, 1] and back to the input's dtype and shape."""

    kind = "image"

    def __init__(self, missing: str = "error"):
        self.missing = missing
        self.shape: tuple[int, int, int] | None = None
        self.squeeze = False
        self.dtype = "uint8"
        self.scale = 255.0
        self.n_affected = 0

    def fit(self, X) -> "ImageAdapter":
        arr = as_array(X)
        if arr.ndim not in (3, 4):
            raise DataError(f"images must be (n, h, w) or (n, h, w, c), got shape {arr.shape}")
        if arr.shape[0] == 0:
            raise DataError("no images given; give at least one")
        self.squeeze = arr.ndim == 3
        self.shape = tuple(
            int(v) for v in (arr.shape[1:] if arr.ndim == 4 else (*arr.shape[1:], 1))
        )
        if 0 in self.shape:
            raise DataError(
                f"images of shape {tuple(arr.shape[1:])} hold no pixels; give images of height, width "
                "and channels of at least 1"
            )
        self.dtype = str(arr.dtype)
        self.scale = image_scale(arr)
        self.transform(arr)
        return self

    @property
    def n_input_features(self) -> int:
        """Values per image, h * w * c (``n_features_in_`` of an image model)."""
        return int(np.prod(self.shape))

    input_names = None

    def transform(self, X, owner: str = "the model") -> tuple[np.ndarray, np.ndarray]:
        arr = as_array(X)
        if arr.ndim == 3:
            arr = arr[..., None]
        if arr.ndim != 4 or tuple(arr.shape[1:]) != tuple(self.shape):
            raise SchemaError(
                f"the model expects images of shape {tuple(self.shape)}, got {tuple(as_array(X).shape[1:])}"
            )
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise DataError(f"images must be numeric, got dtype {arr.dtype}")
        out = arr.astype(np.float32)
        bad = ~np.isfinite(out).reshape(len(out), -1).all(axis=1)
        self.n_affected = int(bad.sum())
        if bad.any() and self.missing in (
            "error",
            "model",
        ):  # "model" learns missing values of tables only
            raise DataError(
                f"{int(bad.sum())} images have missing or infinite pixels; clean them, "
                "or choose missing='impute' (pixels set to 0) or 'drop'"
            )
        out = out / np.float32(image_scale(arr))  # this input's scale, not the training data's
        out = np.clip(np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
        kept = ~bad if self.missing == "drop" else np.ones(len(out), dtype=bool)
        return out[kept], kept

    def inverse_transform(self, Z: np.ndarray, like=None) -> np.ndarray:
        """Images in [0, 1] back to the training data's dtype, scale and shape; with ``like`` (the
        images a model was given) to that input's own dtype, scale and shape."""
        dtype, scale, squeeze = self.dtype, self.scale, self.squeeze
        if like is not None:
            arr = as_array(like)
            dtype, scale, squeeze = str(arr.dtype), image_scale(arr), arr.ndim == 3
        Z = np.clip(np.asarray(Z, dtype=np.float32), 0.0, 1.0)
        Z = Z * np.float32(scale)
        Z = (
            np.round(Z).astype(dtype)
            if np.issubdtype(np.dtype(dtype), np.integer)
            else Z.astype(dtype)
        )
        return Z[..., 0] if squeeze else Z

    def to_dict(self) -> dict:
        return {
            "kind": "image",
            "missing": self.missing,
            "shape": list(self.shape),
            "squeeze": self.squeeze,
            "dtype": self.dtype,
            "scale": self.scale,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ImageAdapter":
        self = cls(missing=d.get("missing", "error"))
        self.shape = tuple(d["shape"])
        self.squeeze = bool(d["squeeze"])
        self.dtype = d["dtype"]
        self.scale = float(d.get("scale", 255.0))
        return self

    def describe(self) -> str:
        h, w, c = self.shape
        return f"images {h}x{w}x{c}"
