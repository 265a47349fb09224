"""The built-in classic detectors: ``iforest``, ``knn``, ``lof`` and ``ecod``, one module each.

They need no TensorFlow and fit in seconds; they are the baselines users expect beside the deep
models, and members of different families for the ``ensemble`` detector.
"""

from synthkit import hookimpl


@hookimpl
def synthkit_register_detectors(register):
    from synthkit_plugins.classic.ecod import ECODDetector
    from synthkit_plugins.classic.iforest import IsolationForestDetector
    from synthkit_plugins.classic.knn import KNNDetector
    from synthkit_plugins.classic.lof import LOFDetector

    register("iforest", IsolationForestDetector)
    register("knn", KNNDetector)
    register("lof", LOFDetector)
    register("ecod", ECODDetector)
