"""Scoring on a Dask cluster: each partition scored by ``scoring.score_frame``, as the streaming path does.

``detect(ddf, model)`` returns a lazy Dask DataFrame with the input's columns plus ``anomaly_score``,
``is_anomaly`` (and ``segment``); ``score_to_parquet`` writes it as one Parquet part per partition,
each renamed into place when complete (a retried partition rewrites its own temporary file), and
``_SUCCESS`` last, so a folder with ``_SUCCESS`` holds every row exactly once. ``read_input`` reads
CSV or Parquet files (a glob or a folder of parts) as one partition per file with the model's
dtypes. A model directory is loaded once per worker process and kept while its manifest is
unchanged. Dask runs on whatever scheduler is current: a user's ``distributed.Client`` included.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from synthkit.dask._models import import_dask, load, model_ref
from synthkit.errors import DataError, OutputFileError
from synthkit.io._writing import replace_into_place

SUCCESS = "_SUCCESS"
# names of files, not folders: an output folder named so would pass for the file it is not
FILE_SUFFIXES = (
    ".csv",
    ".csv.gz",
    ".tsv",
    ".parquet",
    ".pq",
    ".npz",
    ".npy",
    ".json",
    ".png",
    ".txt",
    ".gz",
    ".zip",
)


def _score_part(part: pd.DataFrame, ref, exclude: tuple, explain) -> pd.DataFrame:
    """One partition scored: model dtypes, ``score_frame``, rows without a score left out."""
    from synthkit import detection as scoring
    from synthkit import streaming

    detector = load(ref)
    chunk = streaming.normalise_chunk(part.copy(), detector.adapter_)
    missing = [c for c in exclude if c not in chunk.columns]
    if missing:
        raise DataError(
            f"column {missing[0]!r} is not in the data; columns: {', '.join(map(str, chunk.columns))}"
        )
    features = chunk.drop(columns=list(exclude)) if exclude else chunk
    if not len(chunk):
        return _empty_scored(chunk, detector, explain)
    out = scoring.score_frame(detector, features, chunk, explain=explain)
    scored = out["anomaly_score"].notna().to_numpy()
    return out if scored.all() else out[scored]


def _empty_scored(frame: pd.DataFrame, detector, explain) -> pd.DataFrame:
    """``frame`` with no rows and the score columns (the meta of ``detect``, or an empty partition)."""
    out = frame.iloc[:0].copy()
    out["anomaly_score"] = np.zeros(0, dtype=np.float64)
    out["is_anomaly"] = np.zeros(0, dtype=np.int64)
    if hasattr(detector, "segment"):
        out["segment"] = np.zeros(0, dtype=np.int64)
    for k in range(1, (explain or 0) + 1):
        out[f"reason_{k}"] = pd.Series([], dtype=object)
    return out


def detect(ddf, model, exclude=(), explain: int | None = None):
    """A lazy Dask DataFrame: the rows of ``ddf`` with ``anomaly_score``, ``is_anomaly`` (and ``segment``).

    ``model`` is a model directory (preferred: each worker process loads it once; it must be at the
    same path on every worker) or a fitted detector (sent to the workers with the graph).
    ``exclude`` names columns kept out of the features and carried to the output, such as a row id
    or a label column. Rows a ``missing="drop"`` model cannot score are left out, as when streaming.
    """
    dask, _ = import_dask()
    ref, detector = model_ref(model)
    exclude = tuple([exclude] if isinstance(exclude, str) else exclude)
    absent = [c for c in exclude if c not in ddf.columns]
    if absent:
        raise DataError(
            f"column {absent[0]!r} is not in the data; columns: {', '.join(map(str, ddf.columns))}"
        )
    from synthkit import streaming

    meta = _empty_scored(
        streaming.normalise_chunk(ddf._meta.copy(), detector.adapter_), detector, explain
    )
    carried = ref if isinstance(ref, str) else dask.delayed(ref, pure=True)
    return ddf.map_partitions(_score_part, carried, exclude, explain, meta=meta)


# -- writing -----------------------------------------------------------------------------------
def _part_name(i: int) -> str:
    return f"part-{i:05d}.parquet"


def _write_part(frame: pd.DataFrame, out_dir: str, i: int) -> tuple[int, int]:
    """Write one scored partition to a temporary file, then rename it to its part name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = _part_name(i)
    tmp = os.path.join(out_dir, f".{name}.tmp")  # one name per partition: a retry rewrites it
    try:
        named = any(n is not None for n in frame.index.names)  # a user's index (set_index) is kept
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=named), tmp)
        os.replace(tmp, os.path.join(out_dir, name))
    except OSError as exc:
        from synthkit.io._writing import write_error

        raise write_error(os.path.join(out_dir, name), exc) from None
    return len(frame), int(frame["is_anomaly"].sum())


def _ours(name: str) -> bool:
    """Whether ``name`` is a file ``score_to_parquet`` writes (a part, _SUCCESS, or their temporaries)."""
    return name in (SUCCESS, f".{SUCCESS}.tmp") or (
        name.startswith(("part-", ".part-")) and ".parquet" in name
    )


def check_out_dir(out_dir, overwrite: bool = False) -> Path:
    """Refuse a file's name (``FILE_SUFFIXES``: the parts go to a folder, which ``scores.csv`` would
    be), and an existing ``out_dir`` unless ``overwrite``, and then only a folder of scored parts.
    The CLI calls it before any data is read or a cluster started."""
    out = Path(out_dir)
    name = out.name.lower()
    suffix = next((x for x in FILE_SUFFIXES if name.endswith(x) and len(name) > len(x)), None)
    if suffix is not None:
        raise OutputFileError(
            f"{out} is a file name ({suffix}), but the Dask engine writes a folder of Parquet parts: "
            f"give a folder, such as {out.with_name(out.name[: -len(suffix)])}"
        )
    if out.exists():
        if not out.is_dir():
            raise OutputFileError(f"{out} is a file; give a folder for the Parquet parts")
        if not overwrite:
            raise OutputFileError(
                f"{out} exists; pass --overwrite (overwrite=True) or choose another folder"
            )
        foreign = sorted(n for n in os.listdir(out) if not _ours(n))
        if foreign:
            raise OutputFileError(
                f"{out} holds {foreign[0]!r}, which is not a scored part; choose another folder"
            )
    return out


def score_to_parquet(
    ddf,
    model,
    out_dir,
    overwrite: bool = False,
    exclude=(),
    explain: int | None = None,
    progress: bool | None = None,
) -> dict:
    """Score ``ddf`` with ``model`` (see ``detect``) into ``out_dir``: ``part-00000.parquet`` .. one per
    partition, then ``_SUCCESS`` (JSON: rows, flagged, parts). A failed run leaves no ``_SUCCESS``
    and removes the parts it wrote. Returns the summary (rows, flagged, parts, seconds, rows_per_second).
    ``progress``: distributed's progress bar while the parts are written (default: on a terminal)."""
    dask, _ = import_dask()
    out = check_out_dir(out_dir, overwrite)
    detector = model_ref(model)[1]
    scored = detect(ddf, model, exclude=exclude, explain=explain)
    started = time.perf_counter()
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in sorted(os.listdir(out), key=lambda n: n != SUCCESS):
            os.remove(out / name)  # _SUCCESS first; check_out_dir allowed only our own files here
    except OSError as exc:
        raise OutputFileError(f"cannot write to {out}: {exc.strerror or exc}") from None
    parts = scored.to_delayed()
    writes = [dask.delayed(_write_part)(p, str(out.absolute()), i) for i, p in enumerate(parts)]
    try:
        counts = _compute(writes, progress)
        rows, flagged = sum(c[0] for c in counts), sum(c[1] for c in counts)
        summary = {
            "rows": rows,
            "flagged": flagged,
            "parts": len(counts),
            "threshold": float(detector.threshold_),
        }
        tmp = out / f".{SUCCESS}.tmp"
        tmp.write_text(json.dumps(summary, sort_keys=True))
        replace_into_place(tmp, out / SUCCESS)
    except BaseException:
        _remove_parts(out, created)
        raise
    summary["seconds"] = seconds = time.perf_counter() - started
    summary["rows_per_second"] = rows / seconds if seconds > 0 else float("nan")
    return summary


def _compute(tasks: list, progress: bool | None) -> tuple:
    """``dask.compute(*tasks)``, with distributed's progress bar when asked (None: when stderr is a terminal)."""
    import sys

    dask, _ = import_dask()
    if progress or (progress is None and sys.stderr.isatty()):
        try:
            from distributed import get_client, progress as progress_bar

            client = get_client()
        except (ImportError, ValueError):  # no distributed client: the plain compute
            return dask.compute(*tasks)
        futures = client.compute(tasks)
        progress_bar(futures)
        return tuple(client.gather(futures))
    return dask.compute(*tasks)


def _remove_parts(out: Path, created: bool) -> None:
    """After a failure: remove the parts written so far (and the folder, if this run made it)."""
    try:
        for name in os.listdir(out):
            if _ours(name):
                os.remove(out / name)
        if created:
            os.rmdir(out)
    except OSError:
        pass  # a task still running may write after this; without _SUCCESS the folder is incomplete
