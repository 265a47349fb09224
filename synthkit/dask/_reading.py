"""Files read as Dask partitions with a model's dtypes, and fitting on a sample of them."""

from __future__ import annotations
import glob as _glob
import os
from pathlib import Path
import numpy as np
import pandas as pd
from synthkit.io._cells import pandas_csv_options
from synthkit.dask._models import import_dask, model_ref
from synthkit.errors import DataError, InputFileError


# -- reading -----------------------------------------------------------------------------------
def input_files(pattern) -> list[str]:
    """The CSV or Parquet files of a glob, a folder of parts or one file, sorted by name."""
    from synthkit import streaming

    text = os.fspath(pattern)
    if os.path.isdir(text):
        suffixes = streaming.CSV_SUFFIXES + streaming.PARQUET_SUFFIXES
        files = [
            os.path.join(text, n)
            for n in os.listdir(text)
            if n.lower().endswith(suffixes) and not n.startswith((".", "_"))
        ]
    else:
        files = _glob.glob(text)
    files = sorted(f for f in files if os.path.isfile(f))
    if not files:
        raise InputFileError(
            f"no CSV or Parquet files match {text}; give a glob such as 'data/*.parquet' "
            "or a folder of parts"
        )
    kinds = {f.lower().endswith(streaming.PARQUET_SUFFIXES) for f in files}
    if len(kinds) > 1:
        raise InputFileError(f"{text} matches both CSV and Parquet files; give a glob for one kind")
    return files


def _read_file(path: str, dtype: dict) -> pd.DataFrame:
    """One input file as a DataFrame; any read error is one InputFileError naming the file."""
    from synthkit import streaming

    with streaming.read_errors(Path(path)):
        if path.lower().endswith(streaming.PARQUET_SUFFIXES):
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pandas()
        return pd.read_csv(path, dtype=dtype or None, **pandas_csv_options())


def read_input(pattern, model):
    """CSV or Parquet files (a glob, a folder of parts or a file) as a Dask DataFrame, one partition per
    file, with the model's dtypes (categorical columns read as text from CSV; None: as read)."""
    _, dd = import_dask()
    from synthkit import streaming

    files = input_files(pattern)
    dtype = {} if model is None else streaming.schema_dtypes(model_ref(model)[1].adapter_)
    first = files[0]
    with streaming.read_errors(Path(first)):
        if first.lower().endswith(streaming.PARQUET_SUFFIXES):
            import pyarrow.parquet as pq

            meta = pq.read_schema(first).empty_table().to_pandas()
        else:
            meta = pd.read_csv(first, dtype=dtype or None, nrows=1000, **pandas_csv_options()).iloc[
                :0
            ]
    return dd.from_map(_read_file, files, dtype=dtype, meta=meta, enforce_metadata=False)


def sample_rows(ddf, n: int, seed: int | None = 0) -> pd.DataFrame:
    """A seeded uniform sample of ``n`` rows drawn across the partitions (bottom-k random keys, each
    partition keyed by ``default_rng([seed, partition])``), in partition and row order."""
    dask, _ = import_dask()
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DataError(f"the sample size must be a positive number of rows, got {n!r}")
    picks = [
        dask.delayed(_bottom_keys)(p, int(n), 0 if seed is None else int(seed), i)
        for i, p in enumerate(ddf.to_delayed())
    ]
    picked = [p for p in dask.compute(*picks) if len(p)]
    if not picked:
        raise DataError("the input has no rows to fit on")
    rows = pd.concat(picked)
    if len(rows) > n:
        rows = rows.iloc[np.argpartition(rows["__key"].to_numpy(), n - 1)[:n]]
    return (
        rows.sort_values(["__part", "__row"])
        .drop(columns=["__key", "__part", "__row"])
        .reset_index(drop=True)
    )


def fit_on_sample(
    ddf,
    plugin: str | None = None,
    n_rows: int | None = None,
    seed: int | None = None,
    contamination=None,
    params: dict | None = None,
    exclude=(),
):
    """A detector fitted on a seeded sample of a Dask DataFrame's rows, ready for ``detect`` or
    ``score_to_parquet``: the one call for "fit on a sample, then score on the cluster", as
    ``synthkit detect --engine dask`` does. ``plugin`` defaults to the table default
    (``synthkit.detection.TABLE_DETECTOR``); ``n_rows`` to streaming's sample size; the
    ``exclude`` columns (a label) are left out of the fit. Returns (detector, rows fitted on)."""
    from synthkit import streaming
    from synthkit.detection._run import fit_on_rows

    n = streaming.DEFAULT_SAMPLE_ROWS if n_rows is None else n_rows
    sample = sample_rows(ddf, n, 0 if seed is None else seed)
    return fit_on_rows(sample, plugin, contamination, seed, params=params, leave_out=exclude)


def _bottom_keys(part: pd.DataFrame, n: int, seed: int, i: int) -> pd.DataFrame:
    keys = np.random.default_rng([seed, i]).random(len(part))
    keep = np.sort(np.argpartition(keys, n - 1)[:n]) if len(part) > n else np.arange(len(part))
    out = part.iloc[keep].copy()
    out["__key"], out["__part"], out["__row"] = keys[keep], i, keep
    return out
