"""Data adapters: the one place where user data becomes model arrays and back.

Rules every plugin can rely on:

- Tables (a pandas DataFrame, or a 2-D array treated as numeric columns) become 2-D float32 arrays:
  numeric columns standardised with the training mean and standard deviation (non-negative
  columns with skewness above 2, such as amounts and counts, are first log-transformed with
  ``log1p``, so that a long tail does not swamp every other feature), booleans as 0/1,
  categorical columns (object, string or category dtype) one-hot encoded over the training levels
  (at most ``MAX_LEVELS`` most frequent; rarer and unseen levels encode as all zeros).
- Images (arrays of shape (n, h, w) or (n, h, w, c)) become 4-D float32 arrays in [0, 1]: integer
  images, and float images whose maximum exceeds 1, are divided by 255; other float images are
  taken as already in [0, 1]. The scale is decided for each array given (``image_scale``), at fit
  and after, so uint8 and float images of the same pictures adapt alike whatever the model was
  fitted on; values are clipped to [0, 1]. ``inverse_transform(Z, like=X)`` returns images in the
  dtype, scale and shape of ``X`` (what ``denoise`` and ``reconstruct`` give back); without
  ``like``, in the training images' (what ``sample`` gives).
- Missing values and infinities follow the ``missing`` policy chosen at fit: ``"error"`` (the
  default: a clear error naming the columns), ``"impute"`` (median for numeric, most frequent level
  for categorical and boolean columns, learned at fit) or ``"drop"`` (rows are left out of fitting
  and get no score).

- Sparse matrices and arrays (scipy.sparse, as ``OneHotEncoder`` gives them in a Pipeline) are
  densified, up to ``MAX_SPARSE_VALUES`` values; larger ones are refused in one line. A 2-D array
  of dtype object is read as numbers where every value is one.

``inverse_transform`` decodes model arrays back to the input's columns, dtypes and levels:
numeric values are clipped to the training range, integer columns rounded, and float columns
rounded to the decimals their training values have (``decimals``: the fewest, 0 to
``MAX_DECIMALS``, that hold every value; None, no rounding, for values with more, and for schemas
saved before it was learned).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from synthkit.errors import DataError, DataTypeError, SchemaError

MAX_LEVELS = 100
SKEW_FOR_LOG = 2.0
MISSING_POLICIES = ("error", "impute", "drop")
MAX_SPARSE_VALUES = 2 ** 27  # a sparse input is densified up to this many values (1 GiB of float64)
MAX_DECIMALS = 6  # float columns with more decimals than this are not rounded on the way back


def make_adapter(X, missing: str = "error"):
    """A fitted-to-be adapter for X: TableAdapter for frames and 2-D arrays, ImageAdapter for images."""
    if missing not in MISSING_POLICIES:
        raise DataError(f"missing={missing!r} is not a policy; choose one of {', '.join(MISSING_POLICIES)}")
    if isinstance(X, pd.DataFrame):
        return TableAdapter(missing=missing)
    if isinstance(X, pd.Series):
        raise DataError("got a pandas Series; pass a DataFrame (df[[column]]) or a 2-D array")
    arr = _as_array(X)
    if arr.ndim == 1:
        raise DataError(_one_dimensional(arr))
    if arr.ndim == 2:
        return TableAdapter(missing=missing)
    if arr.ndim in (3, 4):
        return ImageAdapter(missing=missing)
    raise DataError(f"expected a table (2-D) or images (3-D or 4-D), got an array of shape {arr.shape}")


def _one_dimensional(arr: np.ndarray) -> str:
    return (f"expected a 2-D table, got a 1-D array of shape {arr.shape}; Reshape your data: "
            "X.reshape(-1, 1) for one column, X.reshape(1, -1) for one row")


def adapter_from_dict(d: dict):
    """Rebuild a fitted adapter from ``to_dict()`` output (a model manifest's schema)."""
    kind = d.get("kind")
    if kind == "table":
        return TableAdapter.from_dict(d)
    if kind == "image":
        return ImageAdapter.from_dict(d)
    raise SchemaError(f"unknown input schema kind {kind!r}")


def _as_array(X) -> np.ndarray:
    if isinstance(X, np.ndarray):
        return X
    if _is_sparse(X):
        return _densified(X)
    try:
        return np.asarray(X)
    except Exception as exc:
        raise DataError(f"cannot read the input as an array: {exc}") from None


def as_dense(X):
    """X unchanged, or densified if it is a scipy sparse matrix or array (see ``_densified``)."""
    return _densified(X) if _is_sparse(X) else X


def _is_sparse(X) -> bool:
    # a scipy sparse matrix cannot exist unless scipy.sparse was imported: no import here
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def _densified(X) -> np.ndarray:
    """A scipy sparse matrix or array as a dense numpy array, or a DataError if it is too large."""
    shape = tuple(int(v) for v in X.shape)
    size = int(np.prod(shape, dtype=np.float64))
    if size > MAX_SPARSE_VALUES:
        raise DataError(f"sparse input of shape {shape} is too large to densify ({size:,} values, at most "
                        f"{MAX_SPARSE_VALUES:,}); select fewer columns (OneHotEncoder(max_categories=...)) "
                        "or score fewer rows at a time")
    return np.asarray(X.toarray())


def _numeric_array(arr: np.ndarray) -> np.ndarray:
    """A 2-D array as numbers: numeric and boolean arrays as they are, object arrays of numbers as float64."""
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise DataError(f"Complex data not supported: the array has dtype {arr.dtype}; "
                        "split it into real and imaginary columns")
    if np.issubdtype(arr.dtype, np.number) or arr.dtype == bool:
        return arr
    if arr.dtype == object:
        try:
            return arr.astype(np.float64)
        except TypeError as exc:
            raise DataTypeError(f"a 2-D array must hold numbers: {exc}; "
                                "pass a DataFrame for mixed columns") from None
        except ValueError:
            pass
    raise DataError(f"a 2-D array must be numeric, got dtype {arr.dtype}; pass a DataFrame for mixed columns")


def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    return (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype))


class TableAdapter:
    """Encodes a table to standardised float32 features and decodes generated rows back."""

    kind = "table"

    def __init__(self, missing: str = "error"):
        self.missing = missing
        self.columns: list[dict] = []
        self.from_array = False
        self.text_names = False  # fitted on a DataFrame whose column names are all strings
        self.n_affected = 0  # rows with missing values in the last fit or transform

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X) -> "TableAdapter":
        df = self._frame(X, fitting=True)
        if len(df) and df.shape[1] == 0:
            # worded as scikit-learn's check_array words it, which its estimator checks look for
            raise DataError(f"the table is empty: 0 feature(s) (shape={df.shape}) while a minimum of 1 is required; "
                            "give at least one column")
        if len(df) == 0 or df.shape[1] == 0:
            raise DataError(f"the table is empty ({len(df)} rows, {df.shape[1]} columns); give at least one row and column")
        bad = _missing_mask(df)
        self.n_affected = int(bad.any(axis=1).sum())
        self._check_missing(df, bad)
        clean = df[~bad.any(axis=1)] if self.missing == "drop" else df
        if len(clean) == 0:
            raise DataError("every row has a missing or infinite value; nothing is left to fit on")
        self.columns = [self._describe(name, clean[name]) for name in df.columns]
        if not self.feature_names:  # only text columns without a value: nothing to encode
            raise DataError(f"the table has no features to learn from: column(s) {', '.join(map(str, df.columns))} "
                            "hold no values (only missing ones); give at least one column with values")
        return self

    def _describe(self, name, s: pd.Series) -> dict:
        col = {"name": name, "dtype": str(s.dtype)}
        if pd.api.types.is_bool_dtype(s.dtype):
            valid = s.dropna().astype(bool)
            col.update(kind="bool", fill=bool(valid.mean() >= 0.5) if len(valid) else False)
        elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype):
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = values[np.isfinite(values)]
            if finite.size == 0:
                raise DataError(f"column {name!r} has no finite values")
            log = bool(finite.min() >= 0 and _skewness(finite) > SKEW_FOR_LOG)
            scaled = _symlog(finite) if log else finite
            with np.errstate(over="ignore", invalid="ignore"):
                mean, std = float(scaled.mean()), float(scaled.std())
            if not (np.isfinite(mean) and np.isfinite(std)):
                raise DataError(f"column {name!r} has values too large to scale (up to {np.abs(finite).max():.3g}); rescale it first")
            integer = bool(pd.api.types.is_integer_dtype(s.dtype))
            col.update(kind="numeric", log=log, mean=mean, std=std if std > 0 else 1.0,
                       min=float(finite.min()), max=float(finite.max()), median=float(np.median(finite)),
                       integer=integer, decimals=None if integer else _decimals(finite, s.dtype))
        elif _is_categorical(s):
            valid = s.dropna().astype(str)
            counts = valid.value_counts(sort=True)
            levels = sorted(counts.index[:MAX_LEVELS].tolist())
            if isinstance(s.dtype, pd.CategoricalDtype):
                categories = [str(c) for c in s.dtype.categories]
                col["categories"] = categories
                if len(categories) <= MAX_LEVELS:
                    levels = categories
            col.update(kind="categorical", levels=levels,
                       fill=str(counts.index[0]) if len(counts) else (levels[0] if levels else ""))
        elif pd.api.types.is_complex_dtype(s.dtype):
            raise DataError(f"Complex data not supported: column {name!r} has dtype {s.dtype}; "
                            "split it into real and imaginary columns")
        else:
            raise DataError(f"column {name!r} has dtype {s.dtype}, which synthkit cannot encode; "
                            "convert it to numbers, booleans or strings")
        return col

    def _check_missing(self, df: pd.DataFrame, bad: pd.DataFrame) -> None:
        if self.missing == "error" and bad.values.any():
            cols = [str(c) for c in df.columns[bad.any(axis=0).values]]
            raise DataError(f"{int(bad.any(axis=1).sum())} rows have missing or infinite values in columns "
                            f"{', '.join(cols)}; clean them, or choose missing='impute' or 'drop' "
                            "(CLI: --param missing=impute)")

    # -- transforming --------------------------------------------------------------------------
    @property
    def n_input_features(self) -> int:
        """Columns of the input (scikit-learn's ``n_features_in_``), before one-hot encoding."""
        return len(self.columns)

    @property
    def input_names(self) -> list[str] | None:
        """The input's column names (scikit-learn's ``feature_names_in_``); None for arrays and for
        DataFrames whose column names are not all strings."""
        return [str(c["name"]) for c in self.columns] if self.text_names and not self.from_array else None

    @property
    def feature_names(self) -> list[str]:
        names = []
        for col in self.columns:
            if col["kind"] == "categorical":
                names += [f"{col['name']}={level}" for level in col["levels"]]
            else:
                names.append(str(col["name"]))
        return names

    def transform(self, X, owner: str = "the model") -> tuple[np.ndarray, np.ndarray]:
        """Encode X; returns (features float32, kept) where ``kept`` marks rows that were encoded.

        ``owner`` names the estimator in the error for an array of the wrong width."""
        df = self._frame(X, fitting=False, owner=owner)
        self._check_schema(df)
        bad = _missing_mask(df)
        self.n_affected = int(bad.any(axis=1).sum())
        self._check_missing(df, bad)
        kept = ~bad.any(axis=1).to_numpy()
        if self.missing == "impute":
            kept = np.ones(len(df), dtype=bool)
        blocks = []
        for col in self.columns:
            s = df[col["name"]]
            if col["kind"] == "numeric":
                v = s.to_numpy(dtype=np.float64, na_value=np.nan)
                v = np.where(np.isfinite(v), v, col["median"])
                if col.get("log"):
                    v = _symlog(v)
                with np.errstate(over="ignore", invalid="ignore"):
                    z = (v - col["mean"]) / col["std"]
                blocks.append(np.clip(z, -1e6, 1e6)[:, None])
            elif col["kind"] == "bool":
                blocks.append(s.fillna(col["fill"]).astype(bool).to_numpy(dtype=np.float64)[:, None])
            else:
                values = s.astype(object).where(s.notna(), col["fill"]).astype(str).to_numpy()
                levels = np.asarray(col["levels"], dtype=object)
                blocks.append((values[:, None] == levels[None, :]).astype(np.float64))
        out = np.hstack(blocks).astype(np.float32) if blocks else np.zeros((len(df), 0), np.float32)
        return out[kept], kept

    def inverse_transform(self, Z: np.ndarray):
        """Decode model-space rows to a DataFrame (or a 2-D array for array input) with the input's schema."""
        Z = np.asarray(Z, dtype=np.float64)
        out, i = {}, 0
        for col in self.columns:
            if col["kind"] == "numeric":
                v = Z[:, i] * col["std"] + col["mean"]
                if col.get("log"):
                    v = np.sign(v) * np.expm1(np.minimum(np.abs(v), 700.0))
                v = np.clip(v, col["min"], col["max"])
                if col.get("integer"):
                    v = np.round(v)
                elif col.get("decimals") is not None:  # as many decimals as the training values had
                    with np.errstate(over="ignore", invalid="ignore"):
                        v = np.where(np.abs(v) < 2.0 ** 52, np.round(v, int(col["decimals"])), v)
                out[col["name"]] = v
                i += 1
            elif col["kind"] == "bool":
                out[col["name"]] = Z[:, i] > 0.5
                i += 1
            else:
                k = len(col["levels"])
                idx = Z[:, i:i + k].argmax(axis=1) if k else np.zeros(len(Z), int)
                out[col["name"]] = np.asarray(col["levels"], dtype=object)[idx] if k else np.full(len(Z), col["fill"])
                i += k
        df = pd.DataFrame(out)
        for col in self.columns:
            df[col["name"]] = _restore_dtype(df[col["name"]], col)
        if self.from_array:
            return df.to_numpy(dtype=np.dtype(self.columns[0]["dtype"]) if self.columns else np.float64)
        return df

    # -- schema --------------------------------------------------------------------------------
    def _frame(self, X, fitting: bool, owner: str = "the model") -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            if fitting:
                self.from_array = False
                self.text_names = all(isinstance(c, str) for c in X.columns)
            df = X
        else:
            arr = _as_array(X)
            if arr.ndim == 1:
                raise SchemaError(_one_dimensional(arr))
            if arr.ndim != 2:
                raise SchemaError(f"expected a 2-D table, got an array of shape {arr.shape}")
            arr = _numeric_array(arr)
            if fitting:
                self.from_array, self.text_names = True, False
            elif self.from_array and arr.shape[1] != len(self.columns):
                # worded as scikit-learn words it, which its estimator checks look for
                raise SchemaError(f"X has {arr.shape[1]} features, but {owner} is expecting {len(self.columns)} "
                                  "features as input")
            df = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        if df.columns.duplicated().any():
            dups = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
            raise DataError(f"duplicate column names: {', '.join(dups)}; rename them so each column is unique")
        if fitting and not all(isinstance(c, str) for c in df.columns):
            df = df.rename(columns=str)
        elif not fitting:
            df = df.rename(columns=str)
        return df

    def _check_schema(self, df: pd.DataFrame) -> None:
        expected = [c["name"] for c in self.columns]
        missing = [c for c in expected if c not in df.columns]
        extra = [str(c) for c in df.columns if c not in set(expected)]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing columns {', '.join(map(str, missing))}")
            if extra:
                parts.append(f"unexpected columns {', '.join(extra)}")
            raise SchemaError(f"the data does not match the model's schema: {'; '.join(parts)}")
        wrong = []
        for col in self.columns:
            s = df[col["name"]]
            numeric = (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
                       and not pd.api.types.is_complex_dtype(s.dtype))
            if col["kind"] == "numeric" and not numeric:
                wrong.append(f"{col['name']} ({s.dtype}, expected numeric)")
            elif col["kind"] == "bool" and not pd.api.types.is_bool_dtype(s.dtype):
                if not (s.dtype == object and s.dropna().map(lambda v: isinstance(v, (bool, np.bool_))).all()):
                    wrong.append(f"{col['name']} ({s.dtype}, expected bool)")
            elif col["kind"] == "categorical" and not _is_categorical(s):
                wrong.append(f"{col['name']} ({s.dtype}, expected categorical)")
        if wrong:
            raise SchemaError(f"the data does not match the model's schema: wrong dtypes in {', '.join(wrong)}")

    def to_dict(self) -> dict:
        return {"kind": "table", "missing": self.missing, "from_array": self.from_array,
                "text_names": self.text_names, "columns": self.columns}

    @classmethod
    def from_dict(cls, d: dict) -> "TableAdapter":
        self = cls(missing=d.get("missing", "error"))
        self.from_array = bool(d.get("from_array", False))
        self.text_names = bool(d.get("text_names", not self.from_array))  # older schemas: frames had text names
        self.columns = list(d["columns"])
        return self

    def describe(self) -> str:
        return f"table of {len(self.columns)} columns ({len(self.feature_names)} features)"


def _decimals(values: np.ndarray, dtype) -> int | None:
    """The fewest decimals (0 to MAX_DECIMALS) that hold every value, up to the float's own
    precision (2 for 19.99 and 5.5; float32's 0.1 counts as 0.1); None where more are needed."""
    eps = np.finfo(np.float32 if str(dtype) == "float32" else np.float64).eps
    values = values[np.abs(values) < 2.0 ** 52]  # larger floats hold no decimals
    tol = 16 * eps * np.abs(values)
    with np.errstate(over="ignore", invalid="ignore"):
        for d in range(MAX_DECIMALS + 1):
            if (np.abs(np.round(values, d) - values) <= tol).all():
                return d
    return None


def _skewness(v: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        centred = v - v.mean()
        sd = centred.std()
        return float((centred ** 3).mean() / sd ** 3) if sd > 0 and np.isfinite(sd) else 0.0


def _symlog(v: np.ndarray) -> np.ndarray:
    """sign(v) * log(1 + |v|): compresses heavy right tails, defined for any value."""
    return np.sign(v) * np.log1p(np.abs(v))


def _missing_mask(df: pd.DataFrame) -> pd.DataFrame:
    mask = df.isna()
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            mask[name] = ~np.isfinite(v)
    return mask


def _restore_dtype(s: pd.Series, col: dict) -> pd.Series:
    dtype = col["dtype"]
    if "categories" in col:
        return pd.Categorical(s.astype(str), categories=col["categories"])
    try:
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s


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
        arr = _as_array(X)
        if arr.ndim not in (3, 4):
            raise DataError(f"images must be (n, h, w) or (n, h, w, c), got shape {arr.shape}")
        if arr.shape[0] == 0:
            raise DataError("no images given; give at least one")
        self.squeeze = arr.ndim == 3
        self.shape = tuple(int(v) for v in (arr.shape[1:] if arr.ndim == 4 else (*arr.shape[1:], 1)))
        if 0 in self.shape:
            raise DataError(f"images of shape {tuple(arr.shape[1:])} hold no pixels; give images of height, width "
                            "and channels of at least 1")
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
        arr = _as_array(X)
        if arr.ndim == 3:
            arr = arr[..., None]
        if arr.ndim != 4 or tuple(arr.shape[1:]) != tuple(self.shape):
            raise SchemaError(f"the model expects images of shape {tuple(self.shape)}, got {tuple(_as_array(X).shape[1:])}")
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise DataError(f"images must be numeric, got dtype {arr.dtype}")
        out = arr.astype(np.float32)
        bad = ~np.isfinite(out).reshape(len(out), -1).all(axis=1)
        self.n_affected = int(bad.sum())
        if bad.any() and self.missing == "error":
            raise DataError(f"{int(bad.sum())} images have missing or infinite pixels; clean them, "
                            "or choose missing='impute' (pixels set to 0) or 'drop'")
        out = out / np.float32(image_scale(arr))  # this input's scale, not the training data's
        out = np.clip(np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
        kept = ~bad if self.missing == "drop" else np.ones(len(out), dtype=bool)
        return out[kept], kept

    def inverse_transform(self, Z: np.ndarray, like=None) -> np.ndarray:
        """Images in [0, 1] back to the training data's dtype, scale and shape; with ``like`` (the
        images a model was given) to that input's own dtype, scale and shape."""
        dtype, scale, squeeze = self.dtype, self.scale, self.squeeze
        if like is not None:
            arr = _as_array(like)
            dtype, scale, squeeze = str(arr.dtype), image_scale(arr), arr.ndim == 3
        Z = np.clip(np.asarray(Z, dtype=np.float32), 0.0, 1.0)
        Z = Z * np.float32(scale)
        Z = np.round(Z).astype(dtype) if np.issubdtype(np.dtype(dtype), np.integer) else Z.astype(dtype)
        return Z[..., 0] if squeeze else Z

    def to_dict(self) -> dict:
        return {"kind": "image", "missing": self.missing, "shape": list(self.shape),
                "squeeze": self.squeeze, "dtype": self.dtype, "scale": self.scale}

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
