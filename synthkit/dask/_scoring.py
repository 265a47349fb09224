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

import glob as _glob
import json
import os
import socket
import time
from pathlib import Path

import numpy as np
import pandas as pd

from synthkit.errors import DataError, InputFileError, OutputFileError, SynthkitError

SUCCESS = "_SUCCESS"
_MODELS: dict = {}  # (model directory, manifest mtime) -> detector, one load per worker process


def _import_dask():
    """The dask packages, or one line saying how to install them."""
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise SynthkitError(
            'scoring on Dask needs dask: pip install "synthkit[dask]" '
            '(or pip install "dask[dataframe,distributed]")'
        ) from None
    return dask, dd


# -- the model, on the client and on each worker ------------------------------------------------
def _model_ref(model):
    """What the tasks carry: the absolute path of a model directory, or a fitted detector."""
    from synthkit.base import check_is_fitted
    from synthkit.modeldir import model_for

    if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        path = os.path.abspath(os.fsdecode(model))
        detector = _load(path)
        return path, detector
    detector = model_for(model, "detector", "scoring")
    check_is_fitted(detector)
    return detector, detector


def _load(ref):
    """The detector ``ref`` names (cached per process for a directory); load failures say on which host."""
    if not isinstance(ref, str):
        return ref
    from synthkit.modeldir import model_for

    try:
        key = (ref, os.stat(os.path.join(ref, "manifest.json")).st_mtime_ns)
    except OSError:
        key = None
    detector = _MODELS.get(key) if key else None
    if detector is None:
        try:
            detector = model_for(ref, "detector", "scoring")
        except SynthkitError as exc:
            raise type(exc)(
                f"{exc} (read on host {socket.gethostname()}, pid {os.getpid()}); every Dask "
                "worker needs the model directory at the same path"
            ) from None
        if getattr(detector.adapter_, "kind", "table") != "table":
            raise DataError(
                f"the model was fitted on {detector.adapter_.describe()}; Dask scores tables only"
            )
        if key:
            for old in [k for k in _MODELS if k[0] == ref]:
                del _MODELS[old]  # a re-saved directory replaces its old model
            while len(_MODELS) >= 4:
                del _MODELS[
                    next(iter(_MODELS))
                ]  # at most four models per process, the oldest out first
            _MODELS[key] = detector
    return detector


def _score_part(part: pd.DataFrame, ref, exclude: tuple, explain) -> pd.DataFrame:
    """One partition scored: model dtypes, ``score_frame``, rows without a score left out."""
    from synthkit import scoring, streaming

    detector = _load(ref)
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
    dask, _ = _import_dask()
    ref, detector = _model_ref(model)
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

    with streaming._read_errors(Path(path)):
        if path.lower().endswith(streaming.PARQUET_SUFFIXES):
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pandas()
        return pd.read_csv(path, dtype=dtype or None)


def read_input(pattern, model):
    """CSV or Parquet files (a glob, a folder of parts or a file) as a Dask DataFrame, one partition per
    file, with the model's dtypes (categorical columns read as text from CSV; None: as read)."""
    _, dd = _import_dask()
    from synthkit import streaming

    files = input_files(pattern)
    dtype = {} if model is None else streaming.schema_dtypes(_model_ref(model)[1].adapter_)
    first = files[0]
    with streaming._read_errors(Path(first)):
        if first.lower().endswith(streaming.PARQUET_SUFFIXES):
            import pyarrow.parquet as pq

            meta = pq.read_schema(first).empty_table().to_pandas()
        else:
            meta = pd.read_csv(first, dtype=dtype or None, nrows=1000).iloc[:0]
    return dd.from_map(_read_file, files, dtype=dtype, meta=meta, enforce_metadata=False)


def sample_rows(ddf, n: int, seed: int | None = 0) -> pd.DataFrame:
    """A seeded uniform sample of ``n`` rows drawn across the partitions (bottom-k random keys, each
    partition keyed by ``default_rng([seed, partition])``), in partition and row order."""
    dask, _ = _import_dask()
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
    (``synthkit.detecting.TABLE_DETECTOR``); ``n_rows`` to streaming's sample size; the
    ``exclude`` columns (a label) are left out of the fit. Returns (detector, rows fitted on)."""
    from synthkit import streaming
    from synthkit.detecting import TABLE_DETECTOR, new_detector

    n = streaming.DEFAULT_SAMPLE_ROWS if n_rows is None else n_rows
    sample = sample_rows(ddf, n, 0 if seed is None else seed)
    detector = new_detector(plugin or TABLE_DETECTOR, contamination, seed, params=params)
    return detector.fit(sample.drop(columns=list(exclude))), len(sample)


def _bottom_keys(part: pd.DataFrame, n: int, seed: int, i: int) -> pd.DataFrame:
    keys = np.random.default_rng([seed, i]).random(len(part))
    keep = np.sort(np.argpartition(keys, n - 1)[:n]) if len(part) > n else np.arange(len(part))
    out = part.iloc[keep].copy()
    out["__key"], out["__part"], out["__row"] = keys[keep], i, keep
    return out


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
        from synthkit.io import write_error

        raise write_error(os.path.join(out_dir, name), exc) from None
    return len(frame), int(frame["is_anomaly"].sum())


def _ours(name: str) -> bool:
    """Whether ``name`` is a file ``score_to_parquet`` writes (a part, _SUCCESS, or their temporaries)."""
    return name in (SUCCESS, f".{SUCCESS}.tmp") or (
        name.startswith(("part-", ".part-")) and ".parquet" in name
    )


def check_out_dir(out_dir, overwrite: bool = False) -> Path:
    """Refuse an existing ``out_dir`` unless ``overwrite``, and then only a folder of scored parts."""
    out = Path(out_dir)
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
    dask, _ = _import_dask()
    out = check_out_dir(out_dir, overwrite)
    detector = _model_ref(model)[1]
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
        os.replace(tmp, out / SUCCESS)
    except BaseException:
        _remove_parts(out, created)
        raise
    summary["seconds"] = seconds = time.perf_counter() - started
    summary["rows_per_second"] = rows / seconds if seconds > 0 else float("nan")
    return summary


def _compute(tasks: list, progress: bool | None) -> tuple:
    """``dask.compute(*tasks)``, with distributed's progress bar when asked (None: when stderr is a terminal)."""
    import sys

    dask, _ = _import_dask()
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


# -- generation --------------------------------------------------------------------------------
_GENERATORS: dict = {}  # (model directory, manifest mtime) -> generator, one load per worker process


def _load_generator(ref):
    """The generator ``ref`` names: itself, or a model directory loaded once per process."""
    if not isinstance(ref, str):
        return ref
    from synthkit.modeldir import model_for

    key = (ref, os.stat(os.path.join(ref, "manifest.json")).st_mtime_ns)
    if key not in _GENERATORS:
        try:
            _GENERATORS.clear()  # one generator per process is kept: shards of one run share it
            _GENERATORS[key] = model_for(ref, "generator", "augment")
        except SynthkitError as exc:
            raise type(exc)(
                f"{exc} (read on host {socket.gethostname()}, pid {os.getpid()}); every Dask "
                "worker needs the model directory at the same path"
            ) from None
    return _GENERATORS[key]


def shard_plan(n: int, shards: int, seed: int | None) -> list[tuple[int, int]]:
    """(rows, seed) per shard: ``n`` split as evenly as possible, seeds spawned from ``seed``."""
    sizes = [len(part) for part in np.array_split(np.arange(n), shards)]
    seeds = [
        int(s.generate_state(1)[0])
        for s in np.random.SeedSequence(0 if seed is None else seed).spawn(shards)
    ]
    return [(size, s) for size, s in zip(sizes, seeds) if size]


def _sample_shard(ref, size: int, shard_seed: int, label, label_column) -> pd.DataFrame:
    """One shard's rows, drawn on a worker."""
    frame = _load_generator(ref).sample(size, y=label, seed=shard_seed)
    if label_column is not None:
        frame.insert(len(frame.columns), label_column, np.full(len(frame), label))
    return frame


def augment(
    model, n: int, shards: int | None = None, seed: int | None = 0, label=None, label_column=None
):
    """``n`` synthetic rows of a fitted table generator, drawn in seeded shards on the workers.

    A lazy Dask DataFrame with one partition per shard. ``model`` is a model directory (each worker
    process loads it once; the same path on every worker) or a fitted generator. ``shards`` defaults
    to the current client's number of workers (1 without a client). Shard i draws its share of ``n``
    with the i-th seed spawned from ``seed`` (``numpy.random.SeedSequence``), so the same seed and
    shard count give the same rows, whichever worker draws them. ``label`` picks the class of a
    conditional generator; ``label_column`` adds it as a column.
    """
    from synthkit.api import _match_label, check_n
    from synthkit.base import check_is_fitted
    from synthkit.modeldir import model_for

    dask, dd = _import_dask()
    n = check_n(n)
    if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        ref = os.path.abspath(os.fsdecode(model))
        generator = _load_generator(ref)
    else:
        ref = generator = model_for(model, "generator", "augment")
        check_is_fitted(generator)
    if getattr(generator.adapter_, "kind", "table") != "table":
        raise DataError("synthkit.dask.augment draws table rows; for images use synthkit.augment")
    if label is not None and getattr(generator, "classes_", None) is not None:
        label = _match_label(label, generator.classes_)
    if shards is None:
        shards = _workers()
    if (
        isinstance(shards, bool)
        or not isinstance(shards, (int, np.integer))
        or not 1 <= shards <= n
    ):
        raise DataError(f"shards must be a whole number from 1 to n ({n}), got {shards!r}")
    meta = _sample_shard(generator, 1, 0, label, label_column).iloc[:0]
    carried = ref if isinstance(ref, str) else dask.delayed(ref, pure=True)
    parts = [
        dask.delayed(_sample_shard, pure=True)(carried, size, s, label, label_column)
        for size, s in shard_plan(n, int(shards), seed)
    ]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _workers() -> int:
    """The current distributed client's number of workers, or 1."""
    try:
        from distributed import get_client

        return max(1, len(get_client().scheduler_info()["workers"]))
    except (ImportError, ValueError):
        return 1
