"""User arrays as numpy arrays: sparse ones densified within a bound, object arrays read as
numbers, and the message for a 1-D array where a table was expected. Shared by the table and
image adapters, below both."""

from __future__ import annotations

import sys

import numpy as np

from synthkit.errors import DataError, DataTypeError

MAX_SPARSE_VALUES = 2**27  # a sparse input is densified up to this many values (1 GiB of float64)


def one_dimensional(arr: np.ndarray) -> str:
    return (
        f"expected a 2-D table, got a 1-D array of shape {arr.shape}; Reshape your data: "
        "X.reshape(-1, 1) for one column, X.reshape(1, -1) for one row"
    )


def as_array(X) -> np.ndarray:
    if isinstance(X, np.ndarray):
        return X
    if is_sparse(X):
        return densified(X)
    try:
        return np.asarray(X)
    except Exception as exc:
        raise DataError(f"cannot read the input as an array: {exc}") from None


def as_dense(X):
    """X unchanged, or densified if it is a scipy sparse matrix or array (see ``densified``)."""
    return densified(X) if is_sparse(X) else X


def is_sparse(X) -> bool:
    # a scipy sparse matrix cannot exist unless scipy.sparse was imported: no import here
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def densified(X) -> np.ndarray:
    """A scipy sparse matrix or array as a dense numpy array, or a DataError if it is too large."""
    shape = tuple(int(v) for v in X.shape)
    size = int(np.prod(shape, dtype=np.float64))
    if size > MAX_SPARSE_VALUES:
        raise DataError(
            f"sparse input of shape {shape} is too large to densify ({size:,} values, at most "
            f"{MAX_SPARSE_VALUES:,}); select fewer columns (OneHotEncoder(max_categories=...)) "
            "or score fewer rows at a time"
        )
    return np.asarray(X.toarray())


def numeric_array(arr: np.ndarray) -> np.ndarray:
    """A 2-D array as numbers: numeric and boolean arrays as they are, object arrays of numbers as float64."""
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise DataError(
            f"Complex data not supported: the array has dtype {arr.dtype}; "
            "split it into real and imaginary columns"
        )
    if np.issubdtype(arr.dtype, np.number) or arr.dtype == bool:
        return arr
    if arr.dtype == object:
        try:
            return arr.astype(np.float64)
        except TypeError as exc:
            raise DataTypeError(
                f"a 2-D array must hold numbers: {exc}; pass a DataFrame for mixed columns"
            ) from None
        except ValueError:
            pass
    raise DataError(
        f"a 2-D array must be numeric, got dtype {arr.dtype}; pass a DataFrame for mixed columns"
    )
