"""The plots of a detection: run it, then save the figures that fit the data into a folder."""

from __future__ import annotations
from synthkit.plots._figures import (
    _pyplot,
    cluster_representatives,
    explanation_bars,
    most_anomalous,
    score_histogram,
    table_figure,
    tsne_plot,
)
import shutil
from pathlib import Path
import numpy as np
from synthkit.io._image_folders import image_rows
from synthkit.io._writing import replace_into_place
from synthkit.adapters._labels import require_label_column


# the files detection_plots may write (which of them depends on the detector and the data)
DETECTION_PLOTS = (
    "scores.png",
    "most_anomalous.png",
    "tsne.png",
    "clusters.png",
    "explanations.png",
)


def detection_plots(
    result,
    data,
    folder,
    *,
    detector=None,
    label_column=None,
    normal_class=None,
    positive_label=None,
    progress: bool = False,
) -> list[str]:
    """Write the diagnostic plots of a detection to ``folder``; return the file paths.

    ``result`` is one of:

    - a fitted detector (from ``get_detector(...).fit(X)`` or ``load_model``): ``data`` is scored
      with it, as ``synthkit.detect(data, model=detector, label_column=..., normal_class=...)`` would;
    - the DataFrame ``synthkit.detect`` returned (its scores, and the summary in
      ``attrs["synthkit"]``: threshold, label column and anomaly class, normal class), with the
      ``data`` it scored (for a table, ``data`` may be None: the frame holds the rows); pass the
      fitted detector as ``detector=`` for the plots that need it (t-SNE, clusters);
    - the ``DetectResult`` of ``synthkit.api.run_detect`` (what the CLI uses).

    ``data`` is anything ``synthkit.detect`` takes: a DataFrame, an image array, ``(images,
    labels)``, a file path or a dataset name.

    Always: ``scores.png`` (histogram, threshold marked, split by the known label when there is
    one) and ``most_anomalous.png`` (images as a grid, table rows as a table). Detectors with
    ``encode`` (autoencoders): ``tsne.png``, the bottleneck coloured by label when labels are
    known. Detectors with cluster centres (K-Means): ``clusters.png``, one row per cluster with the
    inputs nearest its centroid (images), or the rows nearest each centroid (tables). Tables:
    ``explanations.png``, the most anomalous rows' columns by their part of the score (``explain``).
    ``progress`` writes a line per plot to stderr (the t-SNE is the slow one).
    """
    import time

    import pandas as pd

    from synthkit.io._writing import save_figure

    frame, det, threshold, features, labels, truth = _plot_source(
        result, data, detector, label_column, normal_class, positive_label
    )
    plt = _pyplot()
    target = Path(folder)
    folder = _drawing_folder(target)
    try:
        scores = frame["anomaly_score"].to_numpy(dtype=float)
        is_images = not isinstance(features, pd.DataFrame)
        written = []

        def save(make, name, what=""):
            started = time.perf_counter()
            if progress:
                _say(f"plotting {name}{what} ...")
            fig = make()
            save_figure(fig, folder / name)
            plt.close(fig)
            written.append(str(target / name))
            if progress:
                _say(f"plotting {name}: done in {time.perf_counter() - started:.1f}s")

        unit = "images" if is_images else "rows"
        save(
            lambda: score_histogram(
                scores, threshold, truth, title=scores_title(det, len(scores), unit)
            ),
            "scores.png",
        )
        top = np.argsort(-np.where(np.isfinite(scores), scores, -np.inf), kind="stable")[
            :MOST_ANOMALOUS_ROWS
        ]
        explained = {}

        def explanation():
            """``det.explain`` of the most anomalous rows, once: most_anomalous.png picks its columns
            by it, explanations.png draws the first EXPLAINED_ROWS of them."""
            if "rows" not in explained:
                explained["rows"] = det.explain(features.iloc[top])
            return explained["rows"]

        explainable = det is not None and not is_images and hasattr(det, "explain")
        save(
            lambda: most_anomalous(
                scores,
                images=features if is_images else None,
                frame=None if is_images else frame.drop(columns=["is_anomaly"], errors="ignore"),
                n=MOST_ANOMALOUS_ROWS,
                explanation=explanation() if explainable else None,
            ),
            "most_anomalous.png",
        )
        if det is not None and hasattr(det, "encode"):
            n = min(len(scores), TSNE_MAX_POINTS)
            save(
                lambda: tsne_plot(
                    det.encode(features), labels, seed=0, max_points=TSNE_MAX_POINTS, unit=unit
                ),
                "tsne.png",
                f": t-SNE of {n:,} bottleneck codes",
            )
        if det is not None and hasattr(det, "cluster_centers_") and hasattr(det, "_distances"):

            def clusters():
                Xa, _ = det._adapt(features)
                distances = det._distances(Xa)
                return (
                    cluster_representatives(features, distances)
                    if is_images
                    else _cluster_table(frame, distances)
                )

            save(clusters, "clusters.png")
        if explainable:
            save(
                lambda: explanation_bars(
                    explanation().iloc[:EXPLAINED_ROWS], scores[top[:EXPLAINED_ROWS]]
                ),
                "explanations.png",
            )
        plt.close("all")
        if folder != target:
            replace_into_place(folder, target)  # a new folder appears whole, or not at all
    except BaseException:
        plt.close("all")
        if folder != target:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return written


def _drawing_folder(target: Path) -> Path:
    """Where the plots are drawn: ``target`` when it exists already (each figure is written
    atomically), else a temporary folder beside it (``.NAME.PID.xxxx.part``), renamed to ``target``
    when every plot is drawn, so a killed run leaves no half-drawn folder; a later run removes
    the temporary a SIGKILLed one left."""
    from synthkit.io._writing import temporary_folder, write_error

    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(target, exc) from None
    return temporary_folder(target)


TSNE_MAX_POINTS = 2000  # the t-SNE embeds a seeded random sample of this many (its title says so)


EXPLAINED_ROWS = 10  # the most anomalous rows whose contributions explanations.png draws
MOST_ANOMALOUS_ROWS = 20  # the rows most_anomalous.png draws (their explanation picks its columns)


def scores_title(det, n: int, unit: str = "rows") -> str:
    """The title of scores.png: what was scored, "iforest scores of 20,000 rows"."""
    name = detector_name(det)
    return f"{name + ' ' if name else 'anomaly '}scores of {n:,} {unit}"


def detector_name(det) -> str | None:
    """The name ``det``'s class is registered under ("iforest"), else its class name; None for none."""
    if det is None:
        return None
    from synthkit.registry import get_registry

    for name, (obj, _) in get_registry().entries("detectors").items():
        if obj is type(det):
            return name
    return type(det).__name__


def _say(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def _plot_source(result, data, detector, label_column, normal_class, positive_label):
    """(scored frame, detector or None, threshold or None, features the detector takes, labels for
    colouring or None, 0/1 truth or None) from any form ``detection_plots`` accepts."""
    import pandas as pd

    from synthkit.detection._run import run_detect
    from synthkit.detection._run import DetectResult
    from synthkit.io._reading import as_data
    from synthkit.errors import DataError

    if isinstance(result, DetectResult):
        loaded = as_data(data)
        features, labels = _plot_inputs(result.frame, result.detector, loaded)
        return (
            result.frame,
            result.detector,
            result.detector.threshold_,
            features,
            labels,
            result.truth,
        )
    if isinstance(result, pd.DataFrame):
        return _frame_source(result, data, detector, label_column, normal_class, positive_label)
    if hasattr(result, "decision_function") and hasattr(result, "adapter_"):
        if data is None:
            raise DataError("give the data to score and plot beside the fitted detector")
        loaded = as_data(data)
        scored = run_detect(
            loaded,
            model=result,
            label_column=label_column,
            normal_class=normal_class,
            positive_label=positive_label,
        )
        features, labels = _plot_inputs(scored.frame, result, loaded)
        return scored.frame, result, result.threshold_, features, labels, scored.truth
    raise DataError(
        f"cannot plot a {type(result).__name__}: give a fitted detector, or the DataFrame "
        "synthkit.detect returned"
    )


def _frame_source(frame, data, detector, label_column, normal_class, positive_label):
    from synthkit.detection._run import class_mask
    from synthkit.io._reading import as_data
    from synthkit.errors import DataError
    from synthkit.evaluation.detection import binary_labels

    if "anomaly_score" not in frame.columns:
        raise DataError(
            "this DataFrame has no anomaly_score column: give the one synthkit.detect returned, "
            "or a fitted detector and the data"
        )
    summary = frame.attrs.get("synthkit", {})
    threshold = detector.threshold_ if detector is not None else summary.get("threshold")
    loaded = None if data is None else as_data(data)
    if loaded is not None and not loaded.is_table:
        index = image_rows(frame, loaded)
        if index is None:
            raise DataError("this frame scores a table, but data holds images")
        images = np.asarray(loaded.images)
        if len(index) and index.max() >= len(images):
            raise DataError(
                f"the frame scores {index.max() + 1} or more images, data holds {len(images)}"
            )
        labels = frame["label"].to_numpy() if "label" in frame.columns else None
        truth = None
        normal_class = summary.get("normal_class") if normal_class is None else normal_class
        if normal_class is not None and labels is not None:
            truth = (~class_mask(labels, normal_class)).astype(int)
        return frame, detector, threshold, images[index], labels, truth
    if (
        loaded is None
        and {"index", "path"} & set(frame.columns)
        and "anomaly_score" in frame.columns
        and set(frame.columns)
        <= {"index", "path", "label", "anomaly_score", "is_anomaly", "segment"}
    ):
        raise DataError("this frame scores images: give the images as data")
    label_column = label_column or summary.get("label_column")
    truth = None
    if label_column is not None:
        require_label_column(frame, label_column, "the frame")
        positive = positive_label if positive_label is not None else summary.get("anomaly_class")
        truth, _ = binary_labels(frame[label_column], positive, name=label_column)
    if detector is not None:
        columns = [c["name"] for c in detector.adapter_.input_columns]
        missing = [str(c) for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"the frame lacks the detector's columns {', '.join(missing)}")
        features = frame[columns]
    else:
        features = frame.drop(columns=["anomaly_score", "is_anomaly", "segment"], errors="ignore")
    _, labels = _plot_inputs(frame, None, None, features=features)
    return frame, detector, threshold, features, labels, truth


def _cluster_table(frame, distances, per_cluster: int = 3):
    assign = distances.argmin(axis=1)
    picks, names = [], []
    for k in range(distances.shape[1]):
        members = np.flatnonzero(assign == k)
        nearest = members[np.argsort(distances[members, k], kind="stable")][:per_cluster]
        picks += nearest.tolist()
        names += [k] * len(nearest)
    view = (
        frame.iloc[picks]
        .drop(columns=["anomaly_score", "is_anomaly", "segment"], errors="ignore")
        .copy()
    )
    view.insert(0, "cluster", names)
    return table_figure(
        view,
        title="K-Means cluster representatives (rows nearest each centroid)",
        max_rows=len(view),
        lead=1,
    )


def _plot_inputs(frame, det, loaded, features=None):
    """(features the detector takes, labels for colouring or None) of a scored frame and its data."""
    import pandas as pd

    if features is None and loaded is not None and not loaded.is_table:
        images = np.asarray(loaded.images)
        rows = image_rows(frame, loaded)
        if rows is not None and len(frame) != len(images):
            images = images[rows]
        return images, (frame["label"].to_numpy() if "label" in frame.columns else None)
    if features is None:
        columns = [c["name"] for c in det.adapter_.input_columns]
        features = (
            frame[columns] if all(c in frame.columns for c in columns) else loaded.frame[columns]
        )
    known = set(features.columns) if isinstance(features, pd.DataFrame) else set()
    labels = None
    for c in frame.columns:  # a label column kept beside the features (e.g. is_fraud)
        if c not in known | {"anomaly_score", "is_anomaly", "segment"} and frame[c].nunique() <= 20:
            labels = frame[c].to_numpy()
            break
    return features, labels
