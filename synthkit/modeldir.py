"""Model directories: a JSON manifest plus fitted state in non-executable files, with checksums.

Layout of a model directory::

    manifest.json   format, format_version, synthkit_version, kind, plugin, class, params,
                    schema (the adapter), state (JSON values) and files (sha256 of each file)
    state.npz       the fitted arrays (numpy, loaded with allow_pickle=False)

Nothing from the directory is executed at load: the class is looked up among the installed
plugins, never imported from a path in the manifest, and arrays load without pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from synthkit.errors import ModelFileError

FORMAT = "synthkit-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STATE = "state.npz"


def save_model(model, path) -> None:
    """Save a fitted detector or generator to directory ``path`` (replaced atomically)."""
    from synthkit import __version__
    from synthkit.detector import BaseDetector

    if not hasattr(model, "adapter_"):
        raise ModelFileError(f"this {type(model).__name__} is not fitted; fit it before saving")
    kind = "detector" if isinstance(model, BaseDetector) else "generator"
    plugin = _registered_name(kind, type(model))
    arrays, values = {}, {}
    for key, value in model._get_state().items():
        if isinstance(value, np.ndarray) and value.dtype != object:
            arrays[key] = value
        else:
            values[key] = _jsonable(value, f"fitted attribute {key!r}")
    params = {k: _jsonable(v, f"parameter {k!r}") for k, v in model.get_params(deep=False).items()}
    path = Path(path)
    if path.exists() and not (path / MANIFEST).is_file():
        raise ModelFileError(f"{path} exists and is not a synthkit model directory; choose another path")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes 0700; the directory gets the usual permissions
        np.savez(tmp / STATE, **arrays)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "synthkit_version": __version__,
            "kind": kind,
            "plugin": plugin,
            "class": f"{type(model).__module__}:{type(model).__qualname__}",
            "params": params,
            "schema": model.adapter_.to_dict(),
            "state": values,
            "files": {STATE: _sha256(tmp / STATE)},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_model(path):
    """Load a model directory written by ``save``; every failure is one clear ModelFileError."""
    from synthkit.adapters import adapter_from_dict
    from synthkit.registry import get_registry

    path = Path(path)
    manifest = read_manifest(path)
    kind = manifest["kind"]
    registry = get_registry()
    entries = registry.entries(kind + "s")
    if manifest["plugin"] not in entries:
        raise ModelFileError(f"{path} needs the {kind} {manifest['plugin']!r}, which is not installed "
                             "(see `synthkit plugins`)")
    cls = entries[manifest["plugin"]][0]
    if f"{cls.__module__}:{cls.__qualname__}" != manifest["class"]:
        raise ModelFileError(f"{path} was saved from class {manifest['class']}, but {manifest['plugin']!r} "
                             f"is now {cls.__module__}:{cls.__qualname__}; re-fit and save the model")
    for name, digest in manifest["files"].items():
        file = path / name
        if not file.is_file():
            raise ModelFileError(f"{path} is incomplete: {name} is missing")
        if _sha256(file) != digest:
            raise ModelFileError(f"{path} is corrupted: the checksum of {name} does not match the manifest")
    try:
        with np.load(path / STATE, allow_pickle=False) as npz:
            state = {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise ModelFileError(f"{path} is corrupted: cannot read {STATE} ({exc})") from None
    state.update(manifest["state"])
    _check_schema(path, manifest["schema"])
    try:
        model = cls(**cls._upgrade_params(manifest["params"]))
        model._restore_fitted(adapter_from_dict(manifest["schema"]), state)
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{path} cannot be restored by {manifest['plugin']!r}: {type(exc).__name__}: {exc}") from None
    return model


def read_manifest(path: Path) -> dict:
    """The validated manifest of model directory ``path``."""
    if not path.exists():
        raise ModelFileError(f"no model directory at {path}")
    if not path.is_dir():
        raise ModelFileError(f"{path} is a file, not a model directory (save with --save-model DIR)")
    file = path / MANIFEST
    if not file.is_file():
        raise ModelFileError(f"{path} is not a synthkit model directory: it has no {MANIFEST}")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is corrupted: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a synthkit model directory: its manifest is of another format")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{path} was written in model format {version!r}, newer than this synthkit reads "
                             f"({FORMAT_VERSION}); upgrade synthkit")
    required = {"kind": str, "plugin": str, "class": str, "params": dict, "schema": dict, "state": dict, "files": dict}
    for key, typ in required.items():
        if not isinstance(manifest.get(key), typ):
            raise ModelFileError(f"{path} is corrupted: the manifest's {key!r} is missing or malformed")
    if manifest["kind"] not in ("detector", "generator"):
        raise ModelFileError(f"{path} is corrupted: unknown model kind {manifest['kind']!r}")
    if set(manifest["files"]) != {STATE} or not all(isinstance(v, str) for v in manifest["files"].values()):
        raise ModelFileError(f"{path} is corrupted: the manifest lists unexpected files")
    return manifest


_NUMBER = (int, float)
_COLUMN_KEYS = {
    "numeric": {"mean": _NUMBER, "std": _NUMBER, "min": _NUMBER, "max": _NUMBER, "median": _NUMBER},
    "bool": {"fill": bool},
    "categorical": {"levels": list, "fill": str},
}


def _check_schema(path: Path, schema: dict) -> None:
    """Refuse a manifest whose input schema is malformed, before it can fail later mid-run."""
    def bad(what: str):
        raise ModelFileError(f"{path} is corrupted: the manifest's schema {what}")

    kind = schema.get("kind")
    if kind == "image":
        shape = schema.get("shape")
        if not (isinstance(shape, list) and len(shape) == 3
                and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
            bad("has a malformed image shape")
        if not isinstance(schema.get("scale", 255.0), _NUMBER) or not isinstance(schema.get("dtype"), str):
            bad("has a malformed image scale or dtype")
        try:
            np.dtype(schema["dtype"])
        except TypeError:
            bad(f"names an unknown dtype {schema['dtype']!r}")
        return
    if kind != "table":
        bad(f"has unknown kind {kind!r}")
    columns = schema.get("columns")
    if not isinstance(columns, list) or not columns:
        bad("lists no columns")
    names = set()
    for col in columns:
        if not isinstance(col, dict) or not isinstance(col.get("name"), str) or not isinstance(col.get("dtype"), str):
            bad("has a column without a name or dtype")
        if col["name"] in names:
            bad(f"lists column {col['name']!r} twice")
        names.add(col["name"])
        keys = _COLUMN_KEYS.get(col.get("kind"))
        if keys is None:
            bad(f"gives column {col['name']!r} an unknown kind {col.get('kind')!r}")
        for key, typ in keys.items():
            value = col.get(key)
            if not isinstance(value, typ) or (typ is _NUMBER and (isinstance(value, bool) or not np.isfinite(value))):
                bad(f"has a malformed {key!r} for column {col['name']!r}")
        if col["kind"] == "categorical" and not all(isinstance(v, str) for v in col["levels"]):
            bad(f"has non-text levels for column {col['name']!r}")
        if col["kind"] == "numeric" and col["std"] <= 0:
            bad(f"has a non-positive scale for column {col['name']!r}")


def _registered_name(kind: str, cls) -> str:
    from synthkit.registry import get_registry

    for name, (obj, _) in get_registry().entries(kind + "s").items():
        if obj is cls:
            return name
    raise ModelFileError(f"{cls.__name__} is not a registered {kind}; register it through a synthkit plugin "
                         "so that it can be loaded again")


def _jsonable(value, what: str):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise ModelFileError(f"cannot save {what} of type {type(value).__name__}: the plugin must return numpy "
                             "arrays or JSON values from _get_state") from None
    return value


def _sha256(file: Path) -> str:
    h = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
