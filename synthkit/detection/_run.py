"""The two ways a detect run goes: in memory, or streamed from a CSV or Parquet file.

``synthkit.api.run_detect`` chooses between them (``synthkit.api.detect_streams``).

- In memory (``detect_in_memory``): the data is loaded whole, the detector fitted on it (or on its
  normal class) and every row scored with ``synthkit.detection._scoring.score_rows`` (``score_frame``
  and the count of rows with imputed values, taken before the explanations encode the flagged rows
  again). When the rows scored are the rows fitted, their scores are the detector's
  ``decision_scores_``: nothing is scored twice.
- Streamed (``detect_streamed``): unless a model is given, the detector is fitted on a seeded
  sample of the file (``synthkit.streaming.sample_rows``); the whole file is then scored chunk by
  chunk (``synthkit.detection.score_file``), the rows going straight to the output.

Both save the detector (``save_model``) before any row is written, and write the rows last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthkit.errors import DataError
from synthkit.io._reading import as_data
from synthkit.adapters._labels import label_mask, require_label_column
from synthkit.io._model_dirs import model_for
from synthkit.detection._scoring import score_rows, training_scores


# Isolation Forest: ADBench's and PyOD's most robust unsupervised detector, linear in rows; the choice,
# against every combination tried on the 36 anomaly sets, is in benchmarks/README.md
TABLE_DETECTOR = "iforest"
IMAGE_DETECTOR = "autoencoder"


def default_detector(data) -> str:
    """The detector ``detect`` fits when none is named: Isolation Forest for tables, the autoencoder for images."""
    return TABLE_DETECTOR if as_data(data).is_table else IMAGE_DETECTOR


@dataclass
class DetectResult:
    """What a detect run produced: the scored frame (None when streamed: the rows went to the output),
    the detector, and the summary figures."""

    frame: pd.DataFrame | None
    detector: object
    summary: dict = field(default_factory=dict)
    truth: np.ndarray | None = (
        None  # 0/1 per row of ``frame`` (1 = anomaly class) when labels are known
    )


def progress_verbosity() -> int:
    """Keras verbosity for CLI progress: a live bar on a terminal, one line per epoch otherwise."""
    import sys

    return 1 if sys.stderr.isatty() or sys.stdout.isatty() else 2


def class_mask(labels, normal_class) -> np.ndarray:
    """The rows of ``labels`` in ``normal_class`` (the same label by ``synthkit.adapters._labels``' rule, so "1"
    matches the integer 1 and 1.0, "y" matches "Y"); an error when there are none."""
    labels = np.asarray(labels)
    mask = label_mask(labels, normal_class)
    if not mask.any():
        raise DataError(
            f"no rows of normal class {normal_class!r}; classes present: "
            f"{', '.join(map(str, np.unique(labels)[:20]))}"
        )
    return mask


def detect_in_memory(
    data,
    model=None,
    plugin=None,
    contamination=None,
    label_column=None,
    seed=None,
    normal_class=None,
    positive_label=None,
    output=None,
    save_model=None,
    progress: bool = False,
    params: dict | None = None,
    explain: int | None = None,
) -> DetectResult:
    """Fit a detector on ``data`` (unless ``model`` is given) and score all of it, held in memory."""
    from synthkit.evaluation.detection import detection_report, label_summary

    loaded = as_data(data)
    if explain and not loaded.is_table:
        raise DataError(
            "reasons name a table's columns; images have none: leave out --explain (explain=)"
        )
    features, out, truth, labels = detect_frames(loaded, label_column, normal_class, positive_label)
    scores = None
    if model is not None:
        detector = model_for(model, "detector", "detect")
    else:
        detector = new_detector(
            plugin or default_detector(loaded), contamination, seed, progress, params
        )
        if normal_class is None:
            detector.fit(features)
            scores = training_scores(detector, features)  # the rows scored are the rows fitted
        else:
            detector.fit(features[class_mask(loaded.labels, normal_class)])
    out, imputed = score_rows(detector, features, out, scores, explain=explain)
    missing = out["anomaly_score"].isna().to_numpy()
    dropped = int(missing.sum())
    if dropped:
        out = out[~missing].reset_index(drop=True)
        truth = None if truth is None else truth[~missing]
    summary = {
        "rows": int(len(out)),
        "flagged": int(out["is_anomaly"].sum()),
        "threshold": float(detector.threshold_),
        **threshold_summary(detector),
        "rows_dropped": dropped,
        "rows_imputed": imputed,
        "table_notes": table_notes(detector),
    }
    summary["flagged_share"] = summary["flagged"] / summary["rows"] if summary["rows"] else 0.0
    if normal_class is not None:
        summary["normal_class"] = (
            normal_class  # the rest are the anomalies (plots read it from attrs)
        )
    if labels is not None:
        summary.update(label_summary(*labels, truth))
    if truth is not None:
        summary.update(detection_report(truth, out["anomaly_score"].to_numpy()))
    if save_model is not None:
        detector.save(save_model)
    if output is not None:
        from synthkit.io._writing import write_table

        write_table(out, output)
    return DetectResult(out, detector, summary, truth)


def detect_streamed(
    path,
    model=None,
    plugin=None,
    contamination=None,
    label_column=None,
    seed=None,
    positive_label=None,
    output=None,
    chunksize=None,
    sample_rows=None,
    save_model=None,
    progress: bool = False,
    params: dict | None = None,
    explain: int | None = None,
) -> DetectResult:
    """Score the CSV or Parquet file ``path`` chunk by chunk, fitting first on a sample of it unless
    ``model`` is given; the result has no frame (the rows went to ``output``)."""
    from synthkit.detection._scoring import score_file

    bars = None if progress else False  # None: drawn when stderr is a terminal
    sampled = {}
    if model is not None:
        detector = model_for(model, "detector", "detect")
    else:
        detector, rows = _fit_on_sample(
            path,
            plugin or TABLE_DETECTOR,
            contamination,
            label_column,
            seed,
            chunksize,
            sample_rows,
            progress,
            params,
        )
        sampled = {"sampled_rows": rows, "sample_seed": 0 if seed is None else seed}
    if save_model is not None:
        detector.save(save_model)
    summary = score_file(
        path,
        detector,
        output,
        chunksize=chunksize,
        label_column=label_column,
        progress=bars,
        positive_label=positive_label,
        explain=explain,
    )
    share = {"flagged_share": summary["flagged"] / summary["rows"] if summary.get("rows") else 0.0}
    notes = {"table_notes": table_notes(detector)}
    return DetectResult(
        None, detector, {**sampled, **threshold_summary(detector), **share, **summary, **notes}
    )


def table_notes(model) -> list[str]:
    """What the model's table adapter did to the table's columns, one line per kind (none for images)."""
    return list(getattr(getattr(model, "adapter_", None), "notes", []))


def threshold_summary(detector) -> dict:
    """``threshold_method``: how the fitted ``detector`` chose ``threshold_`` ("quantile" of its
    contamination, or the "auto" rule's name; models saved before ``threshold_method_`` used a quantile)."""
    return {"threshold_method": getattr(detector, "threshold_method_", "quantile")}


def _fit_on_sample(
    path, plugin, contamination, label_column, seed, chunksize, sample_rows, progress, params
):
    """(a detector fitted on a seeded sample of ``sample_rows`` rows of ``path``, the rows it was fitted on).

    The sample's labels are left out and not used: ``score_file`` reads them all."""
    from synthkit import streaming

    n = streaming.DEFAULT_SAMPLE_ROWS if sample_rows is None else sample_rows
    frame = streaming.sample_rows(
        path, n, seed=seed, chunksize=chunksize, progress=None if progress else False
    )
    if label_column is not None:
        require_label_column(frame, label_column)
    leave_out = () if label_column is None else (label_column,)
    return fit_on_rows(frame, plugin, contamination, seed, progress, params, leave_out)


def fit_on_rows(
    frame, plugin=None, contamination=None, seed=None, progress=False, params=None, leave_out=()
):
    """(a new detector fitted on a sample's rows, the rows it was fitted on): the one fit of a
    streamed run and of ``synthkit.dask.fit_on_sample``. ``plugin`` defaults to the table default;
    the ``leave_out`` columns (a label) are not fitted on."""
    frame = frame.drop(columns=list(leave_out))
    detector = new_detector(plugin or TABLE_DETECTOR, contamination, seed, progress, params)
    return detector.fit(frame), len(frame)


def new_detector(
    plugin: str, contamination=None, seed=None, progress: bool = False, params: dict | None = None
):
    """An unfitted detector for a detect run: ``params``, plus ``contamination`` and ``seed`` when given
    (``seed`` where the plugin takes one) and, with ``progress``, Keras progress lines."""
    from synthkit.parameters import parameter_names
    from synthkit.registry import get_detector, get_registry

    params = dict(params or {})
    if contamination is not None:
        params["contamination"] = contamination
    names = parameter_names(get_registry().get("detectors", plugin))
    if seed is not None and "seed" in names:
        params["seed"] = seed
    if progress and "verbose" in names:
        params.setdefault("verbose", progress_verbosity())
    return get_detector(plugin, **params)


def detect_frames(loaded, label_column, normal_class, positive_label=None):
    """(features for the model, output frame, 0/1 truth or None, (label column, anomaly class) or None)."""
    from synthkit.evaluation.detection import binary_labels

    if loaded.is_table:
        frame = loaded.frame
        label_column = label_column or (
            loaded.label_column if loaded.label_column in frame.columns else None
        )
        if normal_class is not None:
            raise DataError("normal_class applies to labelled images; for tables use label_column")
        if label_column is None:
            if positive_label is not None:
                raise DataError(
                    "positive_label names the anomaly class of a label column; give label_column too"
                )
            return frame, frame.copy(), None, None
        require_label_column(frame, label_column)
        truth, positive = binary_labels(frame[label_column], positive_label, name=label_column)
        return frame.drop(columns=[label_column]), frame.copy(), truth, (label_column, positive)
    if positive_label is not None:
        raise DataError(
            "positive_label applies to a table's label column; for images use normal_class"
        )
    images = loaded.images
    paths = getattr(loaded, "paths", None)
    out = pd.DataFrame({"path": paths} if paths is not None else {"index": np.arange(len(images))})
    truth = None
    if loaded.labels is not None:
        out["label"] = loaded.labels
    if label_column is not None:
        raise DataError(
            "label_column applies to tables; image labels come from the dataset or the NPZ 'y' array"
        )
    if normal_class is not None:
        if loaded.labels is None:
            raise DataError(
                "normal_class needs labelled images (a dataset, or an NPZ with a 'y' array)"
            )
        truth = (~class_mask(loaded.labels, normal_class)).astype(int)
    return images, out, truth, None


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
        return detect_streamed(
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
    return detect_in_memory(
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

    from synthkit.io._outputs import check_output

    source = Path(str(data)) if isinstance(data, str) or hasattr(data, "__fspath__") else None
    check_output(
        output, overwrite=True, inputs={source} if source is not None and source.exists() else None
    )
