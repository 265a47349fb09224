"""The registry: built-in and in-process plugins, unknown names and parameters, broken hooks, threads on first use."""

from __future__ import annotations

from helpers import Bootstrap, MeanDistance


import pytest

import synthkit
from synthkit import hookimpl
from synthkit.errors import (
    PluginError,
)


def test_an_in_process_plugin_registers_and_unregisters(toy):
    assert toy.entries("detectors")["meandist"] == (MeanDistance, "toy")
    assert isinstance(synthkit.get_generator("bootstrap"), Bootstrap)
    toy.unregister_plugin("toy")
    assert "meandist" not in toy.entries("detectors") and "bootstrap" not in toy.entries(
        "generators"
    )
    with pytest.raises(PluginError, match="unknown detector 'meandist'"):
        synthkit.get_detector("meandist")
    assert "kmeans" in toy.entries("detectors")  # the installed plugins stay


# -- registry ----------------------------------------------------------------------------------
def test_builtins_register_through_entry_points(registry):
    assert {"kmeans", "autoencoder"} <= set(registry.entries("detectors"))
    assert {"mnist", "transactions"} <= set(registry.entries("datasets"))
    assert registry.infos["kmeans"].package == "synthkit"


def test_in_process_plugin_is_usable(toy):
    det = synthkit.get_detector("meandist", scale=2.0)
    assert isinstance(det, MeanDistance) and det.scale == 2.0
    assert "meandist" in toy.infos["toy"].registered["detectors"]


def test_unknown_plugin_and_parameter_errors(toy):
    with pytest.raises(PluginError, match="unknown detector 'nope'.*meandist"):
        synthkit.get_detector("nope")
    with pytest.raises(
        PluginError, match="unknown parameter bogus.*valid parameters: contamination, scale"
    ):
        synthkit.get_detector("meandist", bogus=1)


def test_broken_hook_is_isolated_and_reported(registry):
    class Broken:
        @hookimpl
        def synthkit_register_detectors(self, register):
            register("half", MeanDistance)
            raise RuntimeError("boom")

    class NotADetector:
        @hookimpl
        def synthkit_register_detectors(self, register):
            register("wrong", dict)

    registry.register_plugin(Broken(), name="broken")
    registry.register_plugin(NotADetector(), name="wrongbase")
    with pytest.warns(UserWarning):
        names = set(registry.entries("detectors"))
    assert "half" not in names and "wrong" not in names and "kmeans" in names
    failures = {f.name: f.error for f in registry.failures}
    assert "boom" in failures["broken"]
    assert "not a subclass of synthkit.BaseDetector" in failures["wrongbase"]


def test_registry_under_threads_on_first_use(monkeypatch):
    """Threads that ask a fresh process for a detector at once all get it (a Dask worker with 2+ threads)."""
    import threading
    import time

    from synthkit import registry as registry_module

    monkeypatch.setattr(registry_module, "_registry", None)
    load = registry_module.Registry.load_entry_points

    def slow_load(self):  # widen the window in which other threads ask while entry points load
        time.sleep(0.2)
        load(self)

    monkeypatch.setattr(registry_module.Registry, "load_entry_points", slow_load)
    barrier, results = threading.Barrier(4), []

    def ask(i):
        barrier.wait()
        try:
            if i % 2:
                results.append(type(synthkit.get_detector("kmeans")).__name__)
            else:
                results.append(sorted(registry_module.get_registry().entries("detectors")))
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 4 and not [r for r in results if isinstance(r, Exception)], results
    assert all("kmeans" in r or r == "KMeansDetector" for r in results), results
    registry = registry_module.get_registry()
    assert "kmeans" in registry.entries("detectors")  # nothing empty was cached for later callers
