"""Parameter checks shared by the classic detectors: one-line PluginErrors that name the parameter."""

from __future__ import annotations

import numpy as np

from synthkit.errors import PluginError


def positive_int(name: str, value) -> int:
    """``value`` as an int >= 1, or a PluginError saying what ``name`` must be."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise PluginError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def choice(name: str, value, allowed: tuple) -> str:
    """``value`` if it is one of ``allowed``, or a PluginError listing them."""
    if value not in allowed:
        raise PluginError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value
