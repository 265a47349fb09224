"""The models Dask tasks carry: a model directory's path or a fitted model, and the one
per-process cache that loads a directory once per worker while its manifest is unchanged."""

from __future__ import annotations

import os
import socket

from synthkit.errors import DataError, SynthkitError

MAX_CACHED = 4  # models kept per process, the oldest out first
_MODELS: dict = {}  # (model directory, manifest mtime, kind) -> model


def import_dask():
    """The dask packages, or one line saying how to install them."""
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise SynthkitError(
            'scoring on Dask needs dask: pip install "synthkit[dask]" '
            '(or pip install "dask[dataframe,distributed]")'
        ) from None
    return dask, dd


def model_ref(model, kind: str = "detector"):
    """(what the tasks carry, the model): a model directory's absolute path, or a fitted model."""
    from synthkit.base import check_is_fitted
    from synthkit.io import model_for

    if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        path = os.path.abspath(os.fsdecode(model))
        return path, load(path, kind)
    fitted = model_for(model, kind, JOBS[kind])
    check_is_fitted(fitted)
    return fitted, fitted


JOBS = {"detector": "scoring", "generator": "augment"}


def load(ref, kind: str = "detector"):
    """The model ``ref`` names: itself, or a table model loaded from a directory once per process
    (a re-saved directory is loaded again); a load failure says on which host."""
    if not isinstance(ref, str):
        return ref
    from synthkit.io import model_for

    try:
        key = (ref, os.stat(os.path.join(ref, "manifest.json")).st_mtime_ns, kind)
    except OSError:
        key = None
    if key in _MODELS:
        return _MODELS[key]
    try:
        model = model_for(ref, kind, JOBS[kind])
    except SynthkitError as exc:
        raise type(exc)(
            f"{exc} (read on host {socket.gethostname()}, pid {os.getpid()}); every Dask "
            "worker needs the model directory at the same path"
        ) from None
    if kind == "detector" and getattr(model.adapter_, "kind", "table") != "table":
        raise DataError(
            f"the model was fitted on {model.adapter_.describe()}; Dask scores tables only"
        )
    if key:
        for old in [k for k in _MODELS if k[0] == ref]:
            del _MODELS[old]  # a re-saved directory replaces its old model
        while len(_MODELS) >= MAX_CACHED:
            del _MODELS[next(iter(_MODELS))]
        _MODELS[key] = model
    return model
