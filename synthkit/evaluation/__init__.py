"""Quality measures: of synthetic tables and images, and of detection against known labels.

One module per job: ``tables``, ``images`` and ``detection``, and ``rows`` for printing. The
names users call are re-exported here (``from synthkit import evaluation as ev``;
``ev.table_report(...)``). Importing this package loads numpy only: scipy, scikit-learn and pandas
load inside the measures, and image models come from the datasets (``Dataset.feature_model``).
"""

from synthkit.evaluation.detection import (
    binary_labels,
    describe_labels,
    detection_report,
    label_summary,
    precision_at_k,
)
from synthkit.evaluation.images import (
    as_unit_images,
    feature_model_of,
    frechet_distance,
    image_report,
    image_report_rows,
    kernel_distance,
)
from synthkit.evaluation.rows import format_table, format_value
from synthkit.evaluation.tables import (
    TABLE_MEASURES,
    column_similarity,
    correlation_similarity,
    gbm_scores,
    memorisation_summary,
    nearest_distances,
    privacy,
    split_holdout,
    table_report,
    table_report_rows,
    utility,
)
from synthkit.adapters._labels import label_key

__all__ = [
    "TABLE_MEASURES",
    "as_unit_images",
    "binary_labels",
    "column_similarity",
    "correlation_similarity",
    "describe_labels",
    "detection_report",
    "feature_model_of",
    "format_table",
    "format_value",
    "frechet_distance",
    "gbm_scores",
    "image_report",
    "image_report_rows",
    "kernel_distance",
    "label_key",
    "label_summary",
    "memorisation_summary",
    "nearest_distances",
    "precision_at_k",
    "privacy",
    "split_holdout",
    "table_report",
    "table_report_rows",
    "utility",
]
