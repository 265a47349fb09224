"""CSV and Parquet files larger than memory: read and written chunk by chunk, sampled in one pass.

``_reading`` decides which files stream and reads them in chunks with the model's dtypes;
``_arrow`` is the pyarrow CSV and Parquet reader and writers under it; ``_writing`` writes scored
chunks and turns SIGTERM into a clean stop; ``_sampling`` draws a uniform sample in one pass to fit
on; ``_progress`` draws the progress line on a terminal.
"""

from synthkit.streaming._progress import Progress
from synthkit.streaming._reading import (
    CSV_SUFFIXES,
    DEFAULT_CHUNKSIZE,
    DEFAULT_SAMPLE_ROWS,
    PARQUET_SUFFIXES,
    SAMPLE_ABOVE_BYTES,
    ChunkReader,
    is_large,
    is_streamable,
    normalise_chunk,
    output_streamable,
    read_errors,
    schema_dtypes,
)
from synthkit.streaming._sampling import sample_rows
from synthkit.signals import catch_interrupts
from synthkit.streaming._writing import chunk_sink, scored_rows

__all__ = [
    "CSV_SUFFIXES",
    "DEFAULT_CHUNKSIZE",
    "DEFAULT_SAMPLE_ROWS",
    "PARQUET_SUFFIXES",
    "SAMPLE_ABOVE_BYTES",
    "ChunkReader",
    "Progress",
    "chunk_sink",
    "is_large",
    "is_streamable",
    "normalise_chunk",
    "output_streamable",
    "read_errors",
    "sample_rows",
    "schema_dtypes",
    "scored_rows",
    "catch_interrupts",
]
