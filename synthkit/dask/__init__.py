"""
Scoring on a Dask cluster: each partition scored by ``scoring.score_frame``, as the streaming path does.

``detect(ddf, model)`` returns a lazy Dask DataFrame with the input's columns plus ``anomaly_score``,
``is_anomaly`` (and ``segment``); ``score_to_parquet`` writes it as one Parquet part per partition,
each renamed into place when complete (a retried partition rewrites its own temporary file), and
``_SUCCESS`` last, so a folder with ``_SUCCESS`` holds every row exactly once. ``read_input`` reads
CSV or Parquet files (a glob or a folder of parts) as one partition per file with the model's
dtypes. A model directory is loaded once per worker process and kept while its manifest is
unchanged. Dask runs on whatever scheduler is current: a user's ``distributed.Client`` included.

``_scoring`` scores partitions and writes the Parquet parts; ``_reading`` reads files as
partitions and fits on a sample of them; ``_sampling`` draws a generator's rows in seeded shards;
``_models`` is the one per-process cache of model directories the tasks load.
"""

from synthkit.dask._reading import fit_on_sample, input_files, read_input, sample_rows
from synthkit.dask._sampling import augment, shard_plan
from synthkit.dask._scoring import SUCCESS, check_out_dir, detect, score_to_parquet

__all__ = [
    "SUCCESS",
    "augment",
    "check_out_dir",
    "detect",
    "fit_on_sample",
    "input_files",
    "read_input",
    "sample_rows",
    "score_to_parquet",
    "shard_plan",
]
