"""The built-in ``ensemble`` detector plugin: registered detectors combined by name."""

from synthkit import hookimpl


@hookimpl
def synthkit_register_detectors(register):
    from synthkit_plugins.ensemble.detector import EnsembleDetector

    register("ensemble", EnsembleDetector)
