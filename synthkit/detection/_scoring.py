"""Scoring with a fitted detector: the output columns of a frame, and a whole file chunk by chunk.

``score_frame`` adds ``anomaly_score``, ``is_anomaly`` (0/1 by ``threshold_``; 0 where a row has no
score) and, for detectors with ``segment``, ``segment`` (-1 where a row has no score). Both paths
of ``synthkit.detect`` use it: in memory on the whole frame, streamed on each chunk
(``score_file``), so the columns are built one way.

``score_file`` reads a CSV or Parquet file in chunks (``synthkit.streaming._reading``) as Arrow tables,
scores each (converted to pandas for the detector) and appends its rows, as read, with the score
columns to a temporary file renamed to the output only when every chunk is written.
Memory holds one chunk at a time (plus one score per row when labels are given, to report ROC-AUC
at the end).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from synthkit.errors import DataError, InputFileError, SynthkitError
from synthkit.adapters._labels import require_label_column


# -- one frame ---------------------------------------------------------------------------------
def score_frame(
    detector,
    features,
    out: pd.DataFrame,
    scores: np.ndarray | None = None,
    explain: int | None = None,
) -> pd.DataFrame:
    """Add the score columns for the rows of ``features`` to ``out`` (one row each) and return it.

    ``scores`` are the detector's scores of these rows when they are known already (see
    ``training_scores``); by default ``detector.decision_function(features)``. ``out`` may be the
    very frame ``features`` is: every column is computed before any is added. ``explain`` (K):
    columns ``reason_1`` .. ``reason_K``, the flagged rows' largest contributions
    (``synthkit.base._explaining.reason_columns``; empty for the other rows).
    """
    return score_rows(detector, features, out, scores, explain)[0]


def score_rows(
    detector,
    features,
    out: pd.DataFrame,
    scores: np.ndarray | None = None,
    explain: int | None = None,
) -> tuple[pd.DataFrame, int]:
    """``score_frame``, and the number of rows of ``features`` whose missing values were filled in
    or flagged (``rows_imputed``), counted once every row is scored and before ``segment`` and
    the explanations encode rows again (the explanations only the flagged ones).

    Given ``scores`` (``training_scores``: the rows scored are the rows just fitted), the count
    is the fit's (``n_rows_affected_``): no row is encoded here to score them."""
    fitted = scores is not None
    if scores is None:
        scores = detector.decision_function(features)
    imputed = rows_imputed(detector, fitted)  # before anything below encodes rows again
    scored = ~np.isnan(scores)
    flags = np.where(scored, scores > detector.threshold_, 0).astype(np.int64)
    segments = None
    if hasattr(detector, "segment"):
        segments = np.full(len(scores), -1, dtype=np.int64)
        if scored.any():
            segments[scored] = detector.segment(features if scored.all() else features[scored])
    reasons = None
    if explain:
        from synthkit.base._explaining import reason_columns

        reasons = reason_columns(detector, features, flags == 1, explain)
    out["anomaly_score"] = scores
    out["is_anomaly"] = flags
    if segments is not None:
        out["segment"] = segments
    for name in () if reasons is None else reasons.columns:
        out[name] = reasons[name].to_numpy()
    return out, imputed


def rows_imputed(detector, fitted: bool = False) -> int:
    """Rows whose missing values ``detector`` filled in ("impute") or flagged ("model"); 0 under the
    other policies. Of the rows it encoded last, or with ``fitted`` of the rows it was fitted on
    (``n_rows_affected_``). The one rule of the summary's count, which ``score_rows`` reads right
    after the rows are scored: anything that encodes rows later (``segment``, the explanation of
    the flagged rows) replaces the adapter's count with its own."""
    adapter = getattr(detector, "adapter_", None)
    if getattr(adapter, "missing", "error") not in ("impute", "model"):
        return 0
    if fitted and "n_rows_affected_" in vars(detector):
        return int(detector.n_rows_affected_)
    return int(getattr(adapter, "n_affected", 0))


def training_scores(detector, features) -> np.ndarray:
    """The scores of the rows ``detector`` was just fitted on, ``features``: its ``decision_scores_``,
    laid out one per row with NaN for the rows ``missing="drop"`` left out of the fit.

    No second scoring: the rows are encoded again only to find the rows dropped, when there are
    some. These are the detector's scores of its training rows, which k-NN, LOF and the ensemble
    compute with each row left out of its own neighbours (PyOD's convention).
    """
    fitted = np.asarray(detector.decision_scores_, dtype=np.float64)
    if len(fitted) == len(features):
        return fitted
    _, kept = detector._adapt(features)
    scores = np.full(len(kept), np.nan)
    scores[kept] = fitted
    return scores


# -- a file, chunk by chunk --------------------------------------------------------------------
@dataclass
class StreamSummary:
    """What a streamed scoring run did (the keys of ``as_dict`` match ``api.run_detect``'s summary)."""

    rows: int = 0
    flagged: int = 0
    threshold: float = float("nan")
    rows_dropped: int = 0
    rows_imputed: int = 0
    rows_read: int = 0
    seconds: float = 0.0
    report: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The summary as ``synthkit.detect`` reports it, with the rate of rows read per second."""
        out = {
            "rows": self.rows,
            "flagged": self.flagged,
            "threshold": self.threshold,
            "rows_dropped": self.rows_dropped,
            "rows_imputed": self.rows_imputed,
            "rows_read": self.rows_read,
            "seconds": self.seconds,
            "rows_per_second": self.rows_read / self.seconds if self.seconds > 0 else float("nan"),
        }
        out.update(self.report)
        return out


def score_file(
    path,
    detector,
    output=None,
    chunksize: int | None = None,
    label_column: str | None = None,
    progress: bool | None = None,
    positive_label=None,
    explain: int | None = None,
) -> dict:
    """Score the CSV or Parquet file ``path`` with a fitted detector, chunk by chunk.

    ``detector`` is a fitted detector or a model directory. Rows go to ``output`` (.csv, .csv.gz or
    .parquet; written atomically; None to keep only the summary) with ``anomaly_score``,
    ``is_anomaly`` and, for segmenting detectors, ``segment``. ``label_column`` names a two-valued
    column kept out of the features and used for ROC-AUC, with ``positive_label`` (or the default
    rule of ``synthkit.evaluation.detection.binary_labels``, applied to the whole file) as its
    anomaly class. ``progress``: draw progress on stderr (default: when stderr is a terminal).
    ``explain`` (K) adds ``reason_1`` .. ``reason_K`` for the flagged rows (``score_frame``).
    Returns the summary dict (rows, flagged, threshold, rows_dropped, rows_imputed, seconds,
    rows_per_second, and the label column, anomaly class and detection report when labels are given).
    """
    from synthkit import streaming
    from synthkit.io._model_dirs import model_for
    from synthkit.evaluation.detection import binary_labels, detection_report, label_summary

    detector = model_for(detector, "detector", "scoring")
    from synthkit.base._fitted import check_is_fitted

    check_is_fitted(detector)
    adapter = detector.adapter_
    if getattr(adapter, "kind", "table") != "table":
        raise DataError(
            f"the model was fitted on {adapter.describe()}; a table file cannot be scored with it"
        )
    path = Path(path)
    if not streaming.is_streamable(path):
        raise InputFileError(
            f"cannot stream {path}: give an existing .csv, .csv.gz or .parquet file"
        )
    if positive_label is not None and label_column is None:
        raise DataError(
            "positive_label names the anomaly class of a label column; give label_column too"
        )
    columns = [
        c
        for c in adapter.columns + list(getattr(adapter, "left_out", []))
        if c["name"] != label_column
    ]
    reader = streaming.ChunkReader(
        path, streaming.DEFAULT_CHUNKSIZE if chunksize is None else chunksize, columns=columns
    )
    summary = StreamSummary(threshold=float(detector.threshold_))
    label_values: list = []  # the label values met so far (at most two); chunks keep int8 codes into it
    label_codes, kept_scores = [], []
    bar = streaming.Progress("scoring", enabled=progress)
    started = time.perf_counter()
    with streaming.catch_interrupts(), streaming.chunk_sink(output) as sink:
        for table in reader.tables():
            if not table.num_rows:
                continue
            first_row = reader.rows_read - table.num_rows
            with streaming.read_errors(path, first_row):
                chunk = table.to_pandas()
            chunk = streaming.normalise_chunk(chunk, adapter)
            if label_column is not None:
                require_label_column(chunk, label_column)
            features = chunk.drop(columns=[label_column]) if label_column is not None else chunk
            try:  # the score columns go to a frame of their own, joined to the rows as read (Arrow)
                scored, imputed = score_rows(
                    detector, features, pd.DataFrame(index=chunk.index), explain=explain
                )
            except SynthkitError as exc:
                raise type(exc)(f"rows {first_row + 1}-{reader.rows_read}: {exc}") from None
            summary.rows_imputed += imputed
            missing = scored["anomaly_score"].isna().to_numpy()
            if missing.any():
                chunk, scored, table = chunk[~missing], scored[~missing], table.filter(~missing)
                summary.rows_dropped += int(missing.sum())
            if label_column is not None:
                label_codes.append(_label_codes(chunk[label_column], label_values, label_column))
                kept_scores.append(scored["anomaly_score"].to_numpy())
            summary.rows += len(scored)
            summary.flagged += int(scored["is_anomaly"].sum())
            if sink is not None:
                sink.write(streaming.scored_rows(table, chunk, scored))
            bar.update(reader.rows_read, reader.fraction_done)
        summary.rows_read = reader.rows_read
        if summary.rows_read == 0:
            raise DataError(f"{path} has no rows to score")
        if (
            label_column is not None and summary.rows
        ):  # inside the sink: a label error leaves no output
            labels = pd.Categorical.from_codes(
                np.concatenate(label_codes), pd.Index(label_values, dtype=object)
            )
            truth, positive = binary_labels(pd.Series(labels), positive_label, name=label_column)
            summary.report = {
                **label_summary(label_column, positive, truth),
                **detection_report(truth, np.concatenate(kept_scores)),
            }
    summary.seconds = time.perf_counter() - started
    bar.update(reader.rows_read, 1.0, force=True)
    bar.close()
    return summary.as_dict()


def _label_codes(labels: pd.Series, seen: list, name) -> np.ndarray:
    """A chunk's labels as int8 codes into ``seen``, the values met so far (extended here).

    The anomaly class is chosen once the whole file is read; a missing value or a third value
    stops the run at the chunk it is in, with the message ``binary_labels`` gives.
    """
    from synthkit.evaluation.detection import binary_labels

    if labels.isna().any():
        binary_labels(labels, name=name)  # raises: missing values
    codes, uniques = pd.factorize(labels)
    index = []
    for value in uniques:
        value = value.item() if isinstance(value, np.generic) else value
        if value not in seen:
            seen.append(value)
        index.append(seen.index(value))
    if len(seen) > 2:
        binary_labels(pd.Series(seen, dtype=object), name=name)  # raises: more than two values
    return np.asarray(index, dtype=np.int8)[codes]
