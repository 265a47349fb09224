"""The Python API: look up plugins, load data and models, and run the two main jobs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthkit.detecting import (
    IMAGE_DETECTOR,
    TABLE_DETECTOR,
    DetectResult,
    class_mask,
    default_detector,
    progress_verbosity,
)
from synthkit.errors import DataError
from synthkit.generator import check_n
from synthkit.io import as_data
from synthkit.labels import label_index, label_mask, require_label_column
from synthkit.modeldir import model_for
from synthkit.parameters import parameter_names
from synthkit.registry import get_detector, get_generator, get_registry

__all__ = [
    "get_detector",
    "get_generator",
    "load_model",
    "load_dataset",
    "default_detector",
    "detect",
    "run_detect",
    "detect_streams",
    "augment",
    "run_augment",
    "as_data",
    "DetectResult",
    "TABLE_DETECTOR",
    "IMAGE_DETECTOR",
    "model_for",
    "class_mask",
    "parameter_names",
]


def load_model(path):
    """Load a detector or generator saved with ``save(path)``."""
    from synthkit.modeldir import load_model as _load

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
    **params,
):
    """Fit a detector on ``data`` and score every row: ``anomaly_score``, ``is_anomaly`` (and ``segment``).

    ``plugin`` names the detector; by default ``iforest`` for tables and ``autoencoder`` for
    images (``default_detector``). ``contamination`` is the expected share of anomalies, which sets
    the threshold (None: the detector's own, ``"auto"`` for ``iforest`` and 0.1 for the other
    built-in ones), or ``"auto"``, a threshold from the training scores alone
    (``synthkit.thresholds``); the summary gives ``flagged_share``
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
    """
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


def run_detect(
    data,
    plugin=None,
    contamination=None,
    label_column=None,
    seed=None,
    normal_class=None,
    model=None,
    progress: bool = False,
    positive_label=None,
    output=None,
    chunksize=None,
    sample_rows=None,
    save_model=None,
    keep_rows: bool = False,
    explain: int | None = None,
    **params,
) -> DetectResult:
    """``detect`` returning a ``DetectResult`` (used by the CLI and the plots); ``progress`` shows
    Keras progress lines and, on a terminal, the bars of a streamed run. ``keep_rows``: the caller
    wants the scored rows back, so a file is streamed only when they go to ``output``."""
    from synthkit import detecting

    if output is not None:
        _check_detect_output(data, output)
    if (output is not None or not keep_rows) and detect_streams(
        data,
        output,
        model=model,
        chunksize=chunksize,
        sample_rows=sample_rows,
        normal_class=normal_class,
    ):
        return detecting.detect_streamed(
            data,
            model=model,
            plugin=plugin,
            contamination=contamination,
            label_column=label_column,
            seed=seed,
            positive_label=positive_label,
            output=output,
            chunksize=chunksize,
            sample_rows=sample_rows,
            save_model=save_model,
            progress=progress,
            params=params,
            explain=explain,
        )
    return detecting.detect_in_memory(
        data,
        model=model,
        plugin=plugin,
        contamination=contamination,
        label_column=label_column,
        seed=seed,
        normal_class=normal_class,
        positive_label=positive_label,
        output=output,
        save_model=save_model,
        progress=progress,
        params=params,
        explain=explain,
    )


def detect_streams(
    data, output=None, model=None, chunksize=None, sample_rows=None, normal_class=None
) -> bool:
    """Whether ``detect`` streams ``data``: a CSV or Parquet file, an output that takes rows chunk by
    chunk (.csv, .csv.gz, .parquet or None), no ``normal_class``, and a ``model`` to score with, a
    ``chunksize`` or ``sample_rows``, or a file over ``streaming.SAMPLE_ABOVE_BYTES``."""
    from synthkit import streaming

    if not (isinstance(data, str) or hasattr(data, "__fspath__")) or not streaming.is_streamable(
        data
    ):
        return False
    return (
        streaming.output_streamable(output)
        and normal_class is None
        and (
            model is not None
            or chunksize is not None
            or sample_rows is not None
            or streaming.is_large(data)
        )
    )


def _check_detect_output(data, output) -> None:
    """Refuse, before anything is fitted, an output that cannot be written or that is the input file."""
    from pathlib import Path

    from synthkit.io import check_output

    source = Path(str(data)) if isinstance(data, str) or hasattr(data, "__fspath__") else None
    check_output(
        output, overwrite=True, inputs={source} if source is not None and source.exists() else None
    )


# -- augment -----------------------------------------------------------------------------------
def augment(
    data,
    plugin: str = "gan",
    n: int = 1000,
    label_column: str | None = None,
    label=None,
    seed: int | None = None,
    model=None,
    filter: bool = False,
    filter_model=None,
    **params,
):
    """Fit a generator on ``data`` (or use ``model``) and return ``n`` synthetic rows or images.

    ``n`` is an integer from 1 to ``synthkit.generator.MAX_SAMPLES`` (10,000,000), checked before anything trains, as
    are ``label`` (a class of the data) and, with ``model``, that ``data`` is like the data the model
    was fitted on (a table with its columns, or images of its shape).

    Tables: a DataFrame with the input's columns; with ``label_column`` the generator is
    conditional on that column and ``label`` picks the class of every row. Images: an array in the
    input's dtype and shape; with labels known (a dataset, ``(images, labels)`` or an NPZ 'y')
    ``label`` picks the class.

    ``filter=True`` keeps only samples that pass ``synthkit.filtering.RowFilter``: a detector fitted
    on the real rows of the class (or ``filter_model``, a fitted detector or model directory, which
    implies ``filter``) scores them within its threshold, and none is an exact or near copy of a
    training row; more are sampled, in up to 10 rounds, until ``n`` pass, else a ``DataError``.
    ``run_augment`` returns the filter's counts.
    """
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


def run_augment(
    data,
    plugin="gan",
    n=1000,
    label_column=None,
    label=None,
    seed=None,
    model=None,
    progress: bool = False,
    filter: bool = False,
    filter_model=None,
    **params,
):
    """``augment`` returning ``(samples, labels or None, generator, filter report or None)`` (used by
    the CLI); the report is ``RowFilter.run``'s: generated, rejected_implausible, rejected_copies,
    rounds, threshold, distance_floor."""
    n = check_n(n)
    loaded = as_data(data)
    if loaded.is_table:
        frame = loaded.frame
        label_column = label_column or (loaded.label_column if label is not None else None)
        if label is not None and label_column is None:
            raise DataError("label needs label_column (the column to condition on)")
        if label_column is not None:
            require_label_column(frame, label_column)
        if label_column is not None and label is None:
            raise DataError(
                f"the generator is conditional on {label_column!r}: pass label (e.g. --label 1)"
            )
        X = frame.drop(columns=[label_column]) if label_column else frame
        y = frame[label_column].to_numpy() if label_column else None
    else:
        if label_column is not None:
            raise DataError(
                "label_column applies to tables; image labels come from the dataset or the NPZ 'y' array"
            )
        X, y = loaded.images, loaded.labels
        if label is not None and y is None:
            raise DataError("label needs labelled images (a dataset, or an NPZ with a 'y' array)")
    if model is not None:
        generator = model_for(model, "generator", "augment")
        X = _check_matches_model(generator, X, loaded, label_column)
    else:
        if label is not None and y is not None:
            _match_label(label, _classes_of(y), seen="in the data")
        cls = get_registry().get("generators", plugin)
        names = parameter_names(cls)
        if seed is not None and "seed" in names:
            params["seed"] = seed
        if progress and "verbose" in names:
            params.setdefault("verbose", progress_verbosity())
        generator = get_generator(plugin, **params)
    row_filter = _fitted_filter(
        filter, filter_model, X, y, label, seed, progress
    )  # before the generator trains
    if model is None:
        generator.fit(X, y)
    if label is not None and getattr(generator, "classes_", None) is not None:
        label = _match_label(label, generator.classes_)
    report = None
    if row_filter is None:
        samples = generator.sample(n, y=label, seed=seed)
    else:
        samples, report = row_filter.run(lambda k, s: generator.sample(k, y=label, seed=s), n, seed)
    labels = None if label is None else np.full(n, label)
    if loaded.is_table and label_column is not None:
        samples.insert(
            list(loaded.frame.columns).index(label_column),
            label_column,
            pd.Series(labels, dtype=loaded.frame[label_column].dtype)
            if _castable(labels, loaded.frame[label_column].dtype)
            else labels,
        )
    return samples, labels, generator, report


def _fitted_filter(filter, filter_model, X, y, label, seed, progress):
    """A ``RowFilter`` fitted on ``X`` and the rows of class ``label`` (every row without one), or None."""
    if not filter and filter_model is None:
        return None
    from synthkit.filtering import RowFilter

    in_class = None
    if label is not None and y is not None:
        in_class = label_mask(y, label)
    return RowFilter(model=filter_model, seed=seed, progress=progress).fit(X, in_class)


def _match_label(label, classes, seen="seen in fit"):
    """The class that is the same label as ``label`` (``synthkit.labels``: a CLI string such as "1" matches the
    integer class 1, "y" the class "Y")."""
    i = label_index(label, classes)
    if i >= 0:
        c = list(classes)[i]
        return c.item() if isinstance(c, np.generic) else c
    shown = ", ".join(map(str, list(classes)[:20])) + (
        f" ... ({len(classes)} in all)" if len(classes) > 20 else ""
    )
    raise DataError(f"label {label!r} is not among the classes {seen}: {shown}")


def _classes_of(y) -> list:
    """The distinct labels of ``y`` (missing ones left out), sorted as text where they do not sort."""
    values = pd.unique(pd.Series(np.asarray(y, dtype=object)).dropna())
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _check_matches_model(generator, X, loaded, label_column):
    """Refuse an INPUT whose kind (table or images), columns or image shape differ from what the
    saved generator was fitted on: it would be ignored, and the samples would not be like it.
    Returns X, less the dataset's own label column when the model was fitted without it."""
    from synthkit.errors import SchemaError

    from synthkit.base import check_is_fitted

    check_is_fitted(generator)
    adapter = generator.adapter_
    made = ("a " if adapter.kind == "table" else "") + adapter.describe()
    if adapter.kind != ("table" if loaded.is_table else "image"):
        given = "a table" if loaded.is_table else f"images of shape {tuple(np.shape(X)[1:])}"
        raise SchemaError(
            f"the model makes {made}, but INPUT {loaded.name} holds {given}; "
            "give the data the model was fitted on (or one like it)"
        )
    if adapter.kind == "image":
        shape = tuple(np.shape(X)[1:])
        shape = shape if len(shape) == 3 else (*shape, 1)
        if tuple(shape) != tuple(adapter.shape):
            raise SchemaError(
                f"the model makes {made}, but INPUT {loaded.name} holds images of shape "
                f"{tuple(np.shape(X)[1:])}"
            )
        return X
    names = {str(c["name"]) for c in adapter.input_columns}
    known = loaded.label_column
    if label_column is None and known in X.columns and known not in names:
        X = X.drop(columns=[known])  # the dataset's label column; the model was fitted without it
    try:
        adapter._check_schema(adapter._frame(X, fitting=False))
    except SchemaError as exc:
        extra = [str(c) for c in X.columns if str(c) not in names]
        hint = ""
        if (
            label_column is None
            and len(extra) == 1
            and getattr(generator, "classes_", None) is not None
        ):
            hint = (
                f"; if {extra[0]!r} is the column the model is conditional on, give it as label_column "
                f"(--label-column {extra[0]})"
            )
        raise SchemaError(
            f"INPUT {loaded.name} does not match the saved model: "
            f"{str(exc).split(': ', 1)[-1]}{hint}"
        ) from None
    return X


def _castable(values, dtype) -> bool:
    try:
        pd.Series(values).astype(dtype)
        return True
    except (TypeError, ValueError):
        return False
