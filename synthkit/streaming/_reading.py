"""Streaming: CSV and Parquet files larger than memory, read and written chunk by chunk, and sampled.

Reading (``ChunkReader``) goes in chunks of ``chunksize`` rows: with the model's columns (scoring),
through pyarrow (``pyarrow.csv.open_csv``, ``ParquetFile.iter_batches``; ``synthkit.streaming._arrow``);
without them (sampling a file to fit on, whose types nothing fixes yet), pandas ``read_csv`` with
``chunksize``, which types each chunk afresh. Writing (``chunk_sink``) appends each chunk to a
temporary file beside the output (pyarrow's ``CSVWriter`` or one ``ParquetWriter``), renamed to the
output only when every chunk is written, so a failed or killed run leaves no file at the output
path. Scoring a file this way is ``synthkit.detection.score_file``.

Dtypes are fixed by the model's schema, not guessed chunk by chunk (``arrow_io.column_types``
when reading with pyarrow): categorical columns are read as strings (a chunk whose categories all look like numbers stays categorical), integer columns that
come back as floats because a chunk holds a missing value become nullable integers, float columns
stay floats and boolean columns holding a missing value become nullable booleans. So every chunk
passes the same schema check and the output has one type per column.

Fitting on a big file (``sample_rows``) draws a uniform random sample of rows without replacement
in one pass (each row gets a key from ``numpy.random.default_rng(seed)``; the rows with the smallest
keys are kept, so the sample depends on the seed only, not on the chunk size) and returns it in file
order. A file with no more rows than the sample size is returned whole.
"""

from __future__ import annotations

import gzip
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from synthkit.errors import DataError, InputFileError, SynthkitError, one_line
from synthkit.io._cells import check_header, pandas_csv_options
from synthkit.io._reading import check_input_path, check_separator

DEFAULT_CHUNKSIZE = 100_000
DEFAULT_SAMPLE_ROWS = 500_000
#: Fitting from a CSV or Parquet file larger than this reads a sample instead of the whole file.
SAMPLE_ABOVE_BYTES = 256 * 2**20
CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
STREAM_OUTPUT_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def is_streamable(path) -> bool:
    """Whether ``path`` is an existing CSV or Parquet file (the inputs that can be read in chunks)."""
    path = Path(str(path))
    name = path.name.lower()
    return path.is_file() and name.endswith(CSV_SUFFIXES + PARQUET_SUFFIXES)


def output_streamable(output) -> bool:
    """Whether an output path takes rows chunk by chunk (CSV and Parquet do; NPZ does not)."""
    return output is None or str(output).lower().endswith(STREAM_OUTPUT_SUFFIXES)


def is_large(path) -> bool:
    """Whether fitting from ``path`` should use a sample (file size above ``SAMPLE_ABOVE_BYTES``)."""
    return Path(path).stat().st_size > SAMPLE_ABOVE_BYTES


# -- reading in chunks -------------------------------------------------------------------------
class ChunkReader:
    """Iterate a CSV or Parquet file as DataFrames of at most ``chunksize`` rows.

    ``columns`` (the model adapter's column descriptions) types the model's columns and reads
    through pyarrow; ``tables`` gives the chunks as Arrow tables. Without it, CSV is read by pandas
    with ``dtype``. ``fraction_done`` estimates progress: bytes read over file size for CSV, rows
    over the row count in the metadata for Parquet. Every read error becomes a one-line
    ``SynthkitError`` (``InputFileError``; ``SchemaError`` for a model column's wrong value).
    """

    def __init__(
        self, path, chunksize: int = DEFAULT_CHUNKSIZE, dtype: dict | None = None, columns=None
    ):
        self.path = Path(path)
        if (
            isinstance(chunksize, bool)
            or not isinstance(chunksize, (int, np.integer))
            or chunksize < 1
        ):
            raise DataError(f"chunksize must be a positive number of rows, got {chunksize!r}")
        self.chunksize = int(chunksize)
        self.dtype = dtype or {}
        self.columns = None if columns is None else list(columns)
        self.rows_read = 0
        self.total_rows: int | None = None
        check_input_path(self.path)  # a named pipe would block the read: refused first
        self.size = self.path.stat().st_size
        self._raw = None

    @property
    def fraction_done(self) -> float | None:
        if self.total_rows:
            return min(self.rows_read / self.total_rows, 1.0)
        if self._raw is not None and self.size:
            try:
                return min(self._raw.tell() / self.size, 1.0)
            except (OSError, ValueError):
                return None
        return None

    def __iter__(self):
        """DataFrames; with ``columns``, read through pyarrow (``tables``) and converted one by one."""
        name = self.path.name.lower()
        if self.columns is None and not name.endswith(PARQUET_SUFFIXES):
            try:
                yield from self._csv(gz=name.endswith(".gz"))
            finally:
                self._close()
            return
        for table in self.tables():
            with read_errors(self.path, self.rows_read):
                frame = table.to_pandas()
            yield frame

    def tables(self):
        """Arrow tables of ``chunksize`` rows, the model's columns typed as ``synthkit.streaming._arrow`` says."""
        from synthkit.streaming import _arrow as arrow_io

        columns = self.columns or []
        name = self.path.name.lower()
        try:
            if name.endswith(PARQUET_SUFFIXES):
                import pyarrow as pa

                chunks = (pa.Table.from_batches([batch]) for batch in self._parquet())
            else:
                chunks = self._arrow_csv(name.endswith(".gz"), arrow_io.column_types(columns))
            for table in chunks:
                yield arrow_io.conform(table, columns)
        finally:
            self._close()

    def _close(self):
        """Close the raw file under the reader (its position is the CSV progress)."""
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    def _arrow_csv(self, gz: bool, types: dict):
        """CSV chunks through pyarrow's streaming reader; a bad value or row is one SynthkitError."""
        import pyarrow as pa

        from synthkit.streaming import _arrow as arrow_io

        if not self.size:
            raise InputFileError(f"{self.path} is empty")
        with read_errors(self.path):
            block, names = arrow_io.probe(self.path, gz, self.chunksize)
        check_header(self.path)
        with read_errors(self.path, arrow=(names, types)):
            self._raw = pa.OSFile(str(self.path))
            reader = arrow_io.open_csv(
                pa.CompressedInputStream(self._raw, "gzip") if gz else self._raw, block, types
            )
        names = reader.schema.names
        check_separator(self.path, names)
        chunks = arrow_io.rebatch(reader, self.chunksize)
        while True:
            with read_errors(self.path, self.rows_read, arrow=(names, types)):
                try:
                    table = next(chunks)
                except StopIteration:
                    return
            self.rows_read += table.num_rows
            yield table

    def _csv(self, gz: bool):
        self._raw = open(self.path, "rb")
        handle = gzip.GzipFile(fileobj=self._raw) if gz else self._raw
        with read_errors(self.path):  # dtypes of columns absent from the file are ignored
            reader = pd.read_csv(
                handle, chunksize=self.chunksize, dtype=self.dtype or None, **pandas_csv_options()
            )
        with reader:
            while True:
                with read_errors(self.path, self.rows_read):
                    try:
                        chunk = next(reader)
                    except StopIteration:
                        return
                if not self.rows_read:
                    check_separator(self.path, chunk.columns)
                    check_header(self.path)
                self.rows_read += len(chunk)
                yield chunk

    def _parquet(self):
        import pyarrow.parquet as pq

        with read_errors(self.path):
            pf = pq.ParquetFile(self.path)
            self.total_rows = pf.metadata.num_rows
            batches = pf.iter_batches(batch_size=self.chunksize)
        while True:
            with read_errors(self.path, self.rows_read):
                try:
                    batch = next(batches)
                except StopIteration:
                    return
            self.rows_read += batch.num_rows
            yield batch


@contextmanager
def read_errors(path: Path, row: int | None = None, arrow: tuple | None = None):
    """Turn whatever pandas, pyarrow, gzip or the OS raises on a bad file into one InputFileError
    (``arrow``: the CSV's column names and model types, to name a value of the wrong type)."""
    where = f" after row {row}" if row else ""
    try:
        yield
    except SynthkitError:
        raise
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{path} is empty") from None
    except Exception as exc:
        pyarrow = type(exc).__module__.startswith("pyarrow")
        if arrow and pyarrow:
            from synthkit.streaming._arrow import conversion_error

            known = conversion_error(exc, *arrow, path, row)
            if known is not None:
                raise known from None
            if "Empty CSV file" in str(exc):
                raise InputFileError(f"{path} is empty") from None
        if pyarrow or isinstance(
            exc,
            (
                OSError,
                ValueError,
                TypeError,
                UnicodeDecodeError,
                EOFError,
                zlib.error,
                pd.errors.ParserError,
            ),
        ):
            raise InputFileError(f"cannot read {path}{where}: {one_line(exc)}") from None
        raise


# -- dtypes from the model's schema ------------------------------------------------------------
def schema_dtypes(adapter) -> dict:
    """The dtypes to read CSV columns with, from a fitted table adapter: categorical columns, text
    dates and text columns left out as strings."""
    columns = list(getattr(adapter, "columns", [])) + list(getattr(adapter, "left_out", []))
    return {
        col["name"]: str
        for col in columns
        if col.get("kind") == "categorical"
        or "date_format" in col
        or (col.get("kind") == "left_out" and col.get("dtype") in ("object", "string", "str"))
    }


def normalise_chunk(chunk: pd.DataFrame, adapter) -> pd.DataFrame:
    """Give each model column the same dtype in every chunk (see the module notes)."""
    for col in getattr(adapter, "columns", []):
        name = col["name"]
        if name not in chunk.columns or isinstance(chunk[name], pd.DataFrame):
            continue  # the schema check names missing and duplicate columns
        s = chunk[name]
        kind = col.get("kind")
        if "date_format" in col:
            continue  # text dates: the adapter reads them
        if (
            kind == "numeric"
            and pd.api.types.is_numeric_dtype(s.dtype)
            and not pd.api.types.is_bool_dtype(s.dtype)
        ):
            if col.get("integer"):
                if pd.api.types.is_float_dtype(s.dtype):
                    try:
                        chunk[name] = s.astype("Int64")
                    except (TypeError, ValueError):
                        pass  # fractional values: left as floats, still numeric
            elif not pd.api.types.is_float_dtype(s.dtype):
                chunk[name] = s.astype(np.float64)
        elif kind == "bool" and s.dtype == object:
            try:
                chunk[name] = s.astype("boolean")
            except (TypeError, ValueError):
                pass  # the schema check reports the column
    return chunk
