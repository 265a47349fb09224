"""The detect run: fit or load a detector, score, threshold and explain, in memory or streamed.

``_run`` chooses the way a run goes (``run_detect``: in memory, or streamed from a CSV or Parquet
file) and holds the default detectors; ``_scoring`` turns a fitted detector's scores into the
output columns of a frame, or of a whole file chunk by chunk (``score_file``).
"""

from synthkit.detection._run import (
    IMAGE_DETECTOR,
    TABLE_DETECTOR,
    DetectResult,
    class_mask,
    default_detector,
    detect_streams,
    run_detect,
)
from synthkit.detection._scoring import StreamSummary, score_file, score_frame

__all__ = [
    "IMAGE_DETECTOR",
    "TABLE_DETECTOR",
    "DetectResult",
    "StreamSummary",
    "class_mask",
    "default_detector",
    "detect_streams",
    "run_detect",
    "score_file",
    "score_frame",
]
