"""What a plugin subclasses: the detector and generator contracts, and the fitted state they share.

``BaseDetector`` (scikit-learn and PyOD's contract: ``fit``, ``decision_function``, ``predict``,
``threshold_``, ``labels_``), ``BaseGenerator`` (``fit``, ``sample``) and ``Dataset`` (re-exported
from ``synthkit.dataset``, which the registry needs below this package). ``FittedModel`` holds what
both estimators share: parameters, pickling and ``save``. The rules a detector's fitted state
follows live here too: thresholds from training scores (``_thresholds``) and each column's part of
a score (``_explaining``).
"""

from synthkit.base._detector import BaseDetector
from synthkit.base._explaining import LATENT, column_contributions
from synthkit.base._fitted import (
    FittedModel,
    bad_state,
    check_is_fitted,
    finite_number,
    network_weights,
    pop_weights,
    restore_network,
)
from synthkit.base._generator import MAX_SAMPLES, BaseGenerator, check_n
from synthkit.base._thresholds import robust_scale
from synthkit.dataset import Dataset

__all__ = [
    "LATENT",
    "MAX_SAMPLES",
    "BaseDetector",
    "BaseGenerator",
    "Dataset",
    "FittedModel",
    "bad_state",
    "check_is_fitted",
    "check_n",
    "column_contributions",
    "finite_number",
    "network_weights",
    "pop_weights",
    "restore_network",
    "robust_scale",
]
