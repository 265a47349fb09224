"""The plugin API: the hooks a synthkit plugin package implements."""

import pluggy

hookspec = pluggy.HookspecMarker("synthkit")
hookimpl = pluggy.HookimplMarker("synthkit")


@hookspec
def synthkit_register_detectors(register):
    """Register detectors: call ``register(name, cls)`` with a ``synthkit.BaseDetector`` subclass."""


@hookspec
def synthkit_register_generators(register):
    """Register generators: call ``register(name, cls)`` with a ``synthkit.BaseGenerator`` subclass."""


@hookspec
def synthkit_register_datasets(register):
    """Register datasets: call ``register(name, obj)`` with a ``synthkit.Dataset`` instance."""


@hookspec
def synthkit_register_commands(cli):
    """Add click commands to the ``synthkit`` command group ``cli``."""
