"""The Python API: look up plugins, load data and models, and run the two main jobs."""

from __future__ import annotations
from synthkit.detection._run import detect_streams, run_detect
from synthkit.io._cells import reading_missing_as
from synthkit.synthesis._run import (
    IMAGE_GENERATOR,
    TABLE_GENERATOR,
    default_generator,
    run_augment,
)


from synthkit.detection._run import (
    IMAGE_DETECTOR,
    TABLE_DETECTOR,
    DetectResult,
    class_mask,
    default_detector,
)
from synthkit.io._reading import as_data
from synthkit.io._model_dirs import model_for
from synthkit.parameters import parameter_names
from synthkit.registry import get_detector, get_generator, get_registry

__all__ = [
    "get_detector",
    "get_generator",
    "load_model",
    "load_dataset",
    "default_detector",
    "default_generator",
    "detect",
    "run_detect",
    "detect_streams",
    "augment",
    "run_augment",
    "as_data",
    "DetectResult",
    "TABLE_DETECTOR",
    "IMAGE_DETECTOR",
    "TABLE_GENERATOR",
    "IMAGE_GENERATOR",
    "model_for",
    "class_mask",
    "parameter_names",
]


def load_model(path):
    """Load a detector or generator saved with ``save(path)``."""
    from synthkit.io._model_dirs import load_model as _load

    return _load(path)


def load_dataset(name: str, split: str | None = None):
    """A registered dataset: a DataFrame for tables, ``(images, labels)`` for images.

    ``name`` may carry the split as ``"mnist:test"``.
    """
    base, _, inline_split = name.partition(":")
    return get_registry().get("datasets", base).load(split or inline_split or None)


# -- detect ------------------------------------------------------------------------------------
def detect(
    data,
    plugin: str | None = None,
    contamination: float | str | None = None,
    label_column: str | None = None,
    seed: int | None = None,
    normal_class=None,
    model=None,
    positive_label=None,
    output=None,
    chunksize: int | None = None,
    sample_rows: int | None = None,
    save_model=None,
    explain: int | None = None,
    na_values=None,
    **params,
):
    """Fit a detector on ``data`` and score every row: ``anomaly_score``, ``is_anomaly`` (and ``segment``).

    ``plugin`` names the detector; by default ``iforest`` for tables and ``autoencoder`` for
    images (``default_detector``). ``contamination`` is the expected share of anomalies, which sets
    the threshold (None: the detector's own, ``"auto"`` for ``iforest`` and 0.1 for the other
    built-in ones), or ``"auto"``, a threshold from the training scores alone
    (``synthkit.base._thresholds``); the summary gives ``flagged_share``
    and ``threshold_method``. ``explain`` (K) adds ``reason_1`` .. ``reason_K`` to the flagged rows:
    their K columns with the largest part of the score and its share, e.g. "amount (62%)"
    (``detector.explain``; tables only).
    ``data`` is a DataFrame, a 2-D array, an image array, ``(images, labels)``, a file path or a
    dataset name. ``label_column`` names a two-valued column (1/0,
    booleans, Y/N, yes/no, ``>50K``/``<=50K``, ...) that is kept out of the features and used to
    report ROC-AUC; datasets with a known label (``transactions``: ``is_fraud``) use it by default.
    ``positive_label`` names its anomaly class (default: the yes value of a yes/no pair, else the
    rarer value; see ``synthkit.evaluation.detection.binary_labels``); the summary then names it.
    For images, ``normal_class`` fits on that class only and scores everything, with the other
    classes as the anomalies. ``model`` is a fitted detector (or a model directory) to score with
    instead of fitting. ``output`` (.csv, .csv.gz, .parquet or .npz) receives the scored rows,
    written atomically; ``save_model`` a model directory of the detector, saved before the rows.

    Returns the scored DataFrame, its summary in ``result.attrs["synthkit"]``. When the rows scored
    are the rows fitted (no ``model``, no ``normal_class``) their scores are the detector's
    ``decision_scores_``, which k-NN, LOF and the ensemble compute with each row left out of its own
    neighbours (PyOD's convention).

    A CSV or Parquet file with an ``output`` is streamed instead when ``detect_streams`` says so:
    with ``model``, ``chunksize`` or ``sample_rows``, or a file over 256 MiB, unless
    ``normal_class`` is given or ``output`` is .npz. Without ``model`` the detector is then fitted on a seeded sample of
    ``sample_rows`` rows (default 500,000; ``seed``, default 0), and the file is scored in chunks
    of ``chunksize`` rows (default 100,000), in flat memory: the rows go to ``output`` only and
    the summary dict is returned (the keys of ``attrs["synthkit"]``,
    plus ``rows_read``, ``seconds``, ``rows_per_second`` and, after a sample fit, ``sampled_rows``
    and ``sample_seed``). Without ``output`` the rows come back as a DataFrame, in memory.

    ``na_values``: the CSV cells read as missing, as pandas' ``na_values`` with
    ``keep_default_na=False`` (default: ``synthkit.io.MISSING_TEXT``, pandas' list without
    ``"None"``, which stays text). Give the same list when scoring with a saved model.
    """
    with reading_missing_as(na_values):
        result = run_detect(
            data,
            plugin=plugin,
            contamination=contamination,
            label_column=label_column,
            seed=seed,
            normal_class=normal_class,
            model=model,
            positive_label=positive_label,
            output=output,
            chunksize=chunksize,
            sample_rows=sample_rows,
            save_model=save_model,
            keep_rows=True,
            explain=explain,
            **params,
        )
    if result.frame is None:
        return result.summary
    result.frame.attrs["synthkit"] = result.summary
    return result.frame


# -- augment -----------------------------------------------------------------------------------
def augment(
    data,
    plugin: str | None = None,
    n: int = 1000,
    label_column: str | None = None,
    label=None,
    seed: int | None = None,
    model=None,
    filter: bool = False,
    filter_model=None,
    na_values=None,
    **params,
):
    """Fit a generator on ``data`` (or use ``model``) and return ``n`` synthetic rows or images.

    ``plugin`` names the generator; by default ``diffusion`` for tables and ``gan`` for images
    (``default_generator``).

    ``n`` is an integer from 1 to ``synthkit.base.MAX_SAMPLES`` (10,000,000), checked before anything trains, as
    are ``label`` (a class of the data) and, with ``model``, that ``data`` is like the data the model
    was fitted on (a table with its columns, or images of its shape).

    Tables: a DataFrame with the input's columns; with ``label_column`` the generator is
    conditional on that column and ``label`` picks the class of every row. Images: an array in the
    input's dtype and shape; with labels known (a dataset, ``(images, labels)`` or an NPZ 'y')
    ``label`` picks the class.

    ``filter=True`` keeps only samples that pass ``synthkit.synthesis.RowFilter``: a detector fitted
    on the real rows of the class (or ``filter_model``, a fitted detector or model directory, which
    implies ``filter``) scores them within its threshold, and none is an exact or near copy of a
    training row; more are sampled, in up to 10 rounds, until ``n`` pass, else a ``DataError``.
    ``run_augment`` returns the filter's counts.

    ``na_values``: the CSV cells read as missing, as pandas' ``na_values`` with
    ``keep_default_na=False`` (default: ``synthkit.io.MISSING_TEXT``, pandas' list without
    ``"None"``, which stays text).
    """
    with reading_missing_as(na_values):
        return run_augment(
            data,
            plugin=plugin,
            n=n,
            label_column=label_column,
            label=label,
            seed=seed,
            model=model,
            filter=filter,
            filter_model=filter_model,
            **params,
        )[0]
