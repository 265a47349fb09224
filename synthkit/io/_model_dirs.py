"""Model directories: a JSON manifest plus fitted state in non-executable files, with checksums.

Layout of a model directory::

    manifest.json   format, format_version, synthkit_version, kind, plugin, class, params,
                    schema (the adapter), state (JSON values), files (sha256 of each file) and
                    manifest_sha256 (sha256 of the manifest's own canonical JSON, less this key)
    state.npz       the fitted arrays (numpy, loaded with allow_pickle=False)

Nothing from the directory is executed at load: the class is looked up among the installed
plugins, never imported from a path in the manifest, and arrays load without pickle.

A manifest edited after saving fails its checksum. Directories saved before the manifest carried
one load without it, and every directory's values are validated at load all the same: the schema
(each column's kind, statistics and levels), the parameters (by the plugin's own checks, as fit
checks them), the fitted state (names, ``threshold_``, the scores and labels, and what the plugin's
``_check_state`` checks), and a detector must score a row of the schema's kind. Any failure is one
``ModelFileError`` line at load, not an error later mid-run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from synthkit.errors import ModelFileError, SynthkitError

FORMAT = "synthkit-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STATE = "state.npz"
CHECKSUM = "manifest_sha256"  # the manifest's own checksum (directories saved before it have none)


def save_model(model, path) -> None:
    """Save a fitted detector or generator to directory ``path`` (replaced atomically)."""
    from synthkit import __version__

    if not hasattr(model, "adapter_"):
        raise ModelFileError(f"this {type(model).__name__} is not fitted; fit it before saving")
    kind = model.model_kind
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
        raise ModelFileError(
            f"{path} exists and is not a synthkit model directory; choose another path"
        )
    from synthkit.io._writing import replace_into_place, temporary_folder, write_error

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(path, exc) from None
    tmp = temporary_folder(path)
    try:
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
        manifest[CHECKSUM] = manifest_digest(
            json.loads(json.dumps(manifest))
        )  # of the values as they load
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        replace_into_place(tmp, path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(
            exc, OSError
        ):  # a full disk, a folder that vanished: one line, nothing left behind
            raise write_error(path, exc) from None
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
        raise ModelFileError(
            f"{path} needs the {kind} {manifest['plugin']!r}, which is not installed "
            "(see `synthkit plugins`)"
        )
    cls = entries[manifest["plugin"]][0]
    if f"{cls.__module__}:{cls.__qualname__}" != manifest["class"]:
        raise ModelFileError(
            f"{path} was saved from class {manifest['class']}, but {manifest['plugin']!r} "
            f"is now {cls.__module__}:{cls.__qualname__}; re-fit and save the model"
        )
    for name, digest in manifest["files"].items():
        file = path / name
        if not file.is_file():
            raise ModelFileError(f"{path} is incomplete: {name} is missing")
        if _sha256(file) != digest:
            raise ModelFileError(
                f"{path} is corrupted: the checksum of {name} does not match the manifest"
            )
    try:
        with np.load(path / STATE, allow_pickle=False) as npz:
            state = {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise ModelFileError(f"{path} is corrupted: cannot read {STATE} ({exc})") from None
    overlap = sorted(set(state) & set(manifest["state"]))
    if overlap:
        raise ModelFileError(
            f"{path} is corrupted: the manifest's state repeats {overlap[0]!r} of {STATE}"
        )
    state.update(manifest["state"])
    _check_schema(path, manifest["schema"])
    _check_state_names(path, cls, state)
    model = _new_model(path, cls, manifest)
    try:
        model._restore_fitted(adapter_from_dict(manifest["schema"]), state)
    except SynthkitError as exc:
        raise ModelFileError(
            f"{path} cannot be restored by {manifest['plugin']!r}: {exc}"
        ) from None
    except Exception as exc:
        raise ModelFileError(
            f"{path} cannot be restored by {manifest['plugin']!r}: {type(exc).__name__}: {exc}"
        ) from None
    _check_restored(path, model, manifest)
    return model


def _new_model(path: Path, cls, manifest: dict):
    """The unfitted model with the manifest's parameters, which the plugin's checks accept."""
    from synthkit.parameters import parameter_names

    params = cls._upgrade_params(manifest["params"])
    unknown = sorted(set(params) - set(parameter_names(cls)))
    if unknown:
        raise ModelFileError(
            f"{path} is corrupted: the manifest's params name {', '.join(map(repr, unknown))}, "
            f"which {manifest['plugin']!r} does not have"
        )
    try:
        model = cls(**params)
        model._validate_params(manifest["schema"]["kind"])
    except SynthkitError as exc:
        raise ModelFileError(
            f"{path} is corrupted: the manifest's params are invalid: {exc}"
        ) from None
    except Exception as exc:
        raise ModelFileError(
            f"{path} is corrupted: the manifest's params are invalid: {type(exc).__name__}: {exc}"
        ) from None
    return model


def _check_state_names(path: Path, cls, state: dict) -> None:
    """Fitted attributes are public names that do not replace the class's methods or properties."""
    for name in state:
        if not (
            isinstance(name, str) and name.isidentifier() and not name.startswith("_")
        ) or hasattr(cls, name):
            raise ModelFileError(
                f"{path} is corrupted: its state holds {name!r}, which is not a fitted attribute"
            )


def _check_restored(path: Path, model, manifest: dict) -> None:
    """The restored model's fitted values pass the plugin's ``_check_state``, and it can be used:
    the schema decodes a row, and a detector scores that row with a finite score."""
    try:
        model._check_state()
    except SynthkitError as exc:
        raise ModelFileError(f"{path} is corrupted: {exc}") from None
    except Exception as exc:
        raise ModelFileError(
            f"{path} is corrupted: its fitted state is malformed ({type(exc).__name__}: {exc})"
        ) from None
    adapter = model.adapter_
    try:
        if adapter.kind == "image":
            row = adapter.inverse_transform(np.zeros((1, *adapter.shape), np.float32))
        else:
            row = adapter.inverse_transform(np.zeros((1, len(adapter.feature_names))))
        if model.model_kind == "detector":
            scores = model.decision_function(row)
            if np.shape(scores) != (1,) or not np.isfinite(scores).all():
                raise ValueError(f"got {scores!r}")
    except Exception as exc:
        what = f"{type(exc).__name__}: {exc}" if not isinstance(exc, SynthkitError) else str(exc)
        raise ModelFileError(
            f"{path} cannot be restored by {manifest['plugin']!r}: a row of its schema cannot be "
            f"scored ({what})"
        ) from None
    finally:
        adapter.n_affected = 0


def manifest_digest(manifest: dict) -> str:
    """sha256 of the manifest's canonical JSON (sorted keys, no spaces, ASCII), less its checksum."""
    rest = {k: v for k, v in manifest.items() if k != CHECKSUM}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def read_manifest(path: Path) -> dict:
    """The validated manifest of model directory ``path``."""
    if not path.exists():
        raise ModelFileError(f"no model directory at {path}")
    if not path.is_dir():
        raise ModelFileError(
            f"{path} is a file, not a model directory (save with --save-model DIR)"
        )
    file = path / MANIFEST
    if not file.is_file():
        raise ModelFileError(f"{path} is not a synthkit model directory: it has no {MANIFEST}")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is corrupted: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(
            f"{path} is not a synthkit model directory: its manifest is of another format"
        )
    version = manifest.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written in model format {version!r}, newer than this synthkit reads "
            f"({FORMAT_VERSION}); upgrade synthkit"
        )
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(
            f"{path} is corrupted: the manifest's format_version {version!r} is not a version"
        )
    if CHECKSUM in manifest and manifest[CHECKSUM] != manifest_digest(manifest):
        raise ModelFileError(
            f"{path} is corrupted: {MANIFEST} was changed after it was saved (its {CHECKSUM} does "
            "not match); re-fit and save the model"
        )
    required = {
        "kind": str,
        "plugin": str,
        "class": str,
        "params": dict,
        "schema": dict,
        "state": dict,
        "files": dict,
        "synthkit_version": str,
    }
    for key, typ in required.items():
        if not isinstance(manifest.get(key), typ):
            raise ModelFileError(
                f"{path} is corrupted: the manifest's {key!r} is missing or malformed"
            )
    if manifest["kind"] not in ("detector", "generator"):
        raise ModelFileError(f"{path} is corrupted: unknown model kind {manifest['kind']!r}")
    if set(manifest["files"]) != {STATE} or not all(
        isinstance(v, str) for v in manifest["files"].values()
    ):
        raise ModelFileError(f"{path} is corrupted: the manifest lists unexpected files")
    if not all(isinstance(k, str) for k in manifest["params"]):
        raise ModelFileError(f"{path} is corrupted: the manifest's 'params' is malformed")
    return manifest


_NUMBER = (int, float)
_COLUMN_KEYS = {
    "numeric": {"mean": _NUMBER, "std": _NUMBER, "min": _NUMBER, "max": _NUMBER, "median": _NUMBER},
    "bool": {"fill": bool},
    "categorical": {"levels": list, "fill": str},
}
_IMAGE_SCALES = (1.0, 255.0)  # what ImageAdapter.fit chooses


def _check_schema(path: Path, schema: dict) -> None:
    """Refuse a manifest whose input schema is malformed, before it can fail later mid-run: every
    value the adapter reads is checked (keys it does not read are ignored)."""
    from synthkit.adapters import MAX_DECIMALS
    from synthkit.parameters import MISSING_POLICIES

    def bad(what: str):
        raise ModelFileError(f"{path} is corrupted: the manifest's schema {what}")

    def flag(key: str, default):
        if not isinstance(schema.get(key, default), bool):
            bad(f"has a malformed {key!r}")

    if schema.get("missing", "error") not in MISSING_POLICIES:
        bad(f"has an unknown missing policy {schema.get('missing')!r}")
    kind = schema.get("kind")
    if kind == "image":
        shape = schema.get("shape")
        if not (
            isinstance(shape, list)
            and len(shape) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
        ):
            bad("has a malformed image shape")
        scale = schema.get("scale", 255.0)
        if (
            isinstance(scale, bool)
            or scale not in _IMAGE_SCALES
            or not isinstance(schema.get("dtype"), str)
        ):
            bad("has a malformed image scale or dtype")
        try:
            dtype = np.dtype(schema["dtype"])
        except TypeError:
            bad(f"names an unknown dtype {schema['dtype']!r}")
        if not (np.issubdtype(dtype, np.number) or dtype.kind == "b") or np.issubdtype(
            dtype, np.complexfloating
        ):
            bad(f"names a dtype images cannot have, {schema['dtype']!r}")
        if "squeeze" not in schema:
            bad("has a malformed 'squeeze'")
        flag("squeeze", None)
        return
    if kind != "table":
        bad(f"has unknown kind {kind!r}")
    flag("from_array", False)
    flag("text_names", True)
    columns = schema.get("columns")
    if not isinstance(columns, list) or not columns:
        bad("lists no columns")
    names = set()
    for i, col in enumerate(columns):
        if (
            not isinstance(col, dict)
            or not isinstance(col.get("name"), str)
            or not isinstance(col.get("dtype"), str)
        ):
            bad("has a column without a name or dtype")
        name = col["name"]
        if name in names:
            bad(f"lists column {name!r} twice")
        names.add(name)
        if schema.get("from_array") and name != f"x{i}":
            bad(f"names column {i} of an array {name!r}, not 'x{i}'")
        try:
            pd.api.types.pandas_dtype(col["dtype"])
        except (TypeError, ValueError):
            bad(f"gives column {name!r} an unknown dtype {col['dtype']!r}")
        keys = _COLUMN_KEYS.get(col["kind"]) if isinstance(col.get("kind"), str) else None
        if keys is None:
            bad(f"gives column {name!r} an unknown kind {col.get('kind')!r}")
        for key, typ in keys.items():
            value = col.get(key)
            if not isinstance(value, typ) or (
                typ is _NUMBER and (isinstance(value, bool) or not np.isfinite(value))
            ):
                bad(f"has a malformed {key!r} for column {name!r}")
        if col["kind"] == "numeric":
            if col["std"] <= 0:
                bad(f"has a non-positive scale for column {name!r}")
            if not col["min"] <= col["median"] <= col["max"]:
                bad(f"has a range that does not hold its median for column {name!r}")
            low, high = (col["min"], col["max"])
            if col.get("log") is True:  # the mean and scale are of log1p-transformed values
                low, high = (float(np.sign(v) * np.log1p(abs(v))) for v in (low, high))
            slack = 1e-9 * (1.0 + abs(low) + abs(high))
            if not low - slack <= col["mean"] <= high + slack:
                bad(f"has a mean outside the range of column {name!r}")
            for key in ("log", "integer"):
                if not isinstance(col.get(key, False), bool):
                    bad(f"has a malformed {key!r} for column {name!r}")
            atoms = col.get("atoms", [])
            if not isinstance(atoms, list) or not all(
                isinstance(v, _NUMBER) and not isinstance(v, bool) and col["min"] <= v <= col["max"]
                for v in atoms
            ):
                bad(f"has malformed 'atoms' (values outside its range) for column {name!r}")
            decimals = col.get("decimals")
            if decimals is not None and (
                isinstance(decimals, bool)
                or not isinstance(decimals, int)
                or not 0 <= decimals <= MAX_DECIMALS
            ):
                bad(f"has a malformed 'decimals' for column {name!r}")
        if col["kind"] == "categorical":
            levels = col["levels"]
            if not all(isinstance(v, str) for v in levels) or len(set(levels)) != len(levels):
                bad(f"has non-text or repeated levels for column {name!r}")
            categories = col.get("categories", [])
            if not (
                isinstance(categories, list)
                and all(isinstance(v, str) for v in categories)
                and len(set(categories)) == len(categories)
            ):
                bad(f"has malformed categories for column {name!r}")
            if "categories" in col and not set(levels) <= set(categories):
                bad(f"has levels outside its categories for column {name!r}")
            pooled, counts = col.get("pooled", []), col.get("pooled_counts", [])
            if not (
                isinstance(pooled, list)
                and isinstance(counts, list)
                and len(pooled) == len(counts)
                and all(isinstance(v, str) for v in pooled)
                and all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts)
            ):
                bad(f"has malformed pooled levels for column {name!r}")
    _check_left_out(schema, names, len(columns), bad)


def _check_left_out(schema: dict, names: set, n_encoded: int, bad) -> None:
    """The schema's ``left_out`` columns (absent from schemas saved before them): each named apart
    from the others, with a dtype, a known reason and its own place among the input columns."""
    from synthkit.adapters._triage import MISSING_MARKERS
    from synthkit.adapters._triage import LEFT_OUT_REASONS

    left = schema.get("left_out", [])
    if not isinstance(left, list) or (left and schema.get("from_array")):
        bad("has a malformed 'left_out'")
    places = set()
    for entry in left:
        index = entry.get("index") if isinstance(entry, dict) else None
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("dtype"), str)
            and entry.get("kind") == "left_out"
            and entry.get("reason") in LEFT_OUT_REASONS
            and isinstance(index, int)
            and not isinstance(index, bool)
            and 0 <= index < n_encoded + len(left)
            and index not in places
            and entry["name"] not in names
            and entry.get("missing_value", "none") in MISSING_MARKERS
        ):
            bad("has a malformed 'left_out' column")
        try:
            pd.api.types.pandas_dtype(entry["dtype"])
        except (TypeError, ValueError):
            bad(f"gives column {entry['name']!r} an unknown dtype {entry['dtype']!r}")
        places.add(index)
        names.add(entry["name"])


def _registered_name(kind: str, cls) -> str:
    from synthkit.registry import get_registry

    for name, (obj, _) in get_registry().entries(kind + "s").items():
        if obj is cls:
            return name
    raise ModelFileError(
        f"{cls.__name__} is not a registered {kind}; register it through a synthkit plugin "
        "so that it can be loaded again"
    )


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
        raise ModelFileError(
            f"cannot save {what} of type {type(value).__name__}: the plugin must return numpy "
            "arrays or JSON values from _get_state"
        ) from None
    return value


def _sha256(file: Path) -> str:
    h = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_for(model, wanted: str, job: str):
    """``model`` (a fitted object or a model directory) checked to be a ``wanted`` ("detector" or
    "generator") before it is used: the directory's manifest is read first, so a generator given to
    ``detect`` (or a detector to ``augment``) is one clear error, not a stray exception."""
    from synthkit.errors import PluginError

    if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        path = Path(model.decode() if isinstance(model, bytes) else model)
        manifest = read_manifest(path)
        if manifest["kind"] != wanted:
            raise ModelFileError(
                f"{path} holds a {manifest['kind']} ({manifest['plugin']!r}); "
                f"{job} needs a {wanted} model"
            )
        return load_model(path)
    method = "decision_function" if wanted == "detector" else "sample"
    if not hasattr(model, method):
        raise PluginError(
            f"model is a {type(model).__name__}, not a {wanted}; {job} needs a fitted {wanted} "
            "or a model directory"
        )
    return model
