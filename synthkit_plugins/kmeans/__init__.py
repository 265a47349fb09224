"""The built-in ``kmeans`` detector plugin: distance to the nearest K-Means centroid."""

from synthkit import hookimpl


@hookimpl
def synthkit_register_detectors(register):
    from synthkit_plugins.kmeans.detector import KMeansDetector

    register("kmeans", KMeansDetector)
