"""Scored chunks written as they come (CSV or Parquet, renamed into place at the end), and
SIGTERM turned into a clean stop so the temporary file goes."""

from __future__ import annotations
from synthkit.streaming._reading import STREAM_OUTPUT_SUFFIXES
from contextlib import contextmanager
from synthkit.errors import OutputFileError
from synthkit.io._writing import atomic_path


# -- writing in chunks -------------------------------------------------------------------------
def scored_rows(table, frame, scored):
    """A chunk's rows as read (``table``, Arrow) with ``scored``'s columns after ``frame``'s (``arrow_io``)."""
    from synthkit.streaming._arrow import scored_table

    return scored_table(table, frame, scored)


@contextmanager
def chunk_sink(output):
    """An atomic chunk writer for ``output`` (or one that discards rows when output is None); its
    ``write`` takes an Arrow table or a DataFrame."""

    if output is None:
        yield None
        return
    name = str(output).lower()
    if not name.endswith(STREAM_OUTPUT_SUFFIXES):
        raise OutputFileError(f"cannot stream rows to {output}: use .csv, .csv.gz or .parquet")
    with atomic_path(output) as tmp:
        from synthkit.io._writing import CsvSink
        from synthkit.streaming._arrow import ParquetSink

        sink = (
            ParquetSink(tmp) if name.endswith(".parquet") else CsvSink(tmp, gz=name.endswith(".gz"))
        )
        try:
            yield sink
        finally:
            sink.close()
