"""A uniform sample of a file's rows in one pass, for fitting before the whole file is scored."""

from __future__ import annotations
from synthkit.streaming._progress import Progress
from synthkit.streaming._reading import DEFAULT_CHUNKSIZE, DEFAULT_SAMPLE_ROWS, ChunkReader
import numpy as np
import pandas as pd
from synthkit.errors import DataError


# -- fitting on a sample -----------------------------------------------------------------------
def sample_rows(
    path,
    n: int = DEFAULT_SAMPLE_ROWS,
    seed: int | None = 0,
    chunksize: int | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """A seeded uniform sample of ``n`` rows of a CSV or Parquet file, drawn in one pass, in file order.

    Each row gets a key from ``numpy.random.default_rng(seed)`` in file order and the ``n`` rows with
    the smallest keys are kept (reservoir sampling by bottom-k keys), so the same seed gives the same
    rows whatever the chunk size. A file of at most ``n`` rows comes back whole.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DataError(f"the sample size must be a positive number of rows, got {n!r}")
    rng = np.random.default_rng(0 if seed is None else seed)
    reader = ChunkReader(path, DEFAULT_CHUNKSIZE if chunksize is None else chunksize)
    bar = Progress("sampling", enabled=progress)
    reservoir: pd.DataFrame | None = None
    keys = np.zeros(0)
    for chunk in reader:
        chunk_keys = rng.random(len(chunk))
        chunk.index = pd.RangeIndex(reader.rows_read - len(chunk), reader.rows_read)
        if reservoir is not None and len(reservoir) >= n:
            take = chunk_keys < keys.max()
            chunk, chunk_keys = chunk[take], chunk_keys[take]
            if not len(chunk):
                bar.update(reader.rows_read, reader.fraction_done)
                continue
        merged = chunk if reservoir is None else pd.concat([reservoir, chunk])
        keys = chunk_keys if reservoir is None else np.concatenate([keys, chunk_keys])
        if len(merged) > n:
            best = np.argpartition(keys, n - 1)[:n]
            merged, keys = merged.iloc[best], keys[best]
        reservoir = merged
        bar.update(reader.rows_read, reader.fraction_done)
    bar.close()
    if reservoir is None or not len(reservoir):
        raise DataError(f"{path} has no rows to fit on")
    order = np.argsort(reservoir.index.to_numpy(), kind="stable")
    return reservoir.iloc[order].reset_index(drop=True)
