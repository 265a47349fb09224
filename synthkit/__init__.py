"""synthkit: plugin-based anomaly detection and synthetic data on Keras.

The public API is re-exported here. Heavy modules (scikit-learn, pandas, TensorFlow) load lazily,
so ``import synthkit`` and ``synthkit --help`` stay fast.
"""

from synthkit.errors import SynthkitError
from synthkit.hookspecs import hookimpl
from synthkit.quiet import quiet_retracing as _quiet_retracing

_quiet_retracing()  # Keras makes new tf.functions per model: any loop over models would warn of retracing

__version__ = "0.1.0"

_LAZY = {
    "BaseDetector": "synthkit.base",
    "BaseGenerator": "synthkit.base",
    "Dataset": "synthkit.dataset",
    "get_detector": "synthkit.api",
    "get_generator": "synthkit.api",
    "load_model": "synthkit.api",
    "load_dataset": "synthkit.api",
    "detect": "synthkit.api",
    "augment": "synthkit.api",
}

__all__ = ["SynthkitError", "hookimpl", "__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'synthkit' has no attribute {name!r}")
