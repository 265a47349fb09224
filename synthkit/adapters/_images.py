"""``ImageAdapter``: images of any dtype and scale to 4-D float32 arrays in [0, 1] and back."""

from __future__ import annotations
import numpy as np
from synthkit.adapters._arrays import as_array
from synthkit.errors import DataError, SchemaError


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
