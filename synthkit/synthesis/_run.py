"""The augment run: fit or load a generator, check ``n`` and the label against the data and the
model, sample, and filter the samples when asked."""

from __future__ import annotations
import numpy as np
import pandas as pd
from synthkit.detection._run import (
    progress_verbosity,
)
from synthkit.errors import DataError
from synthkit.base._generator import check_n
from synthkit.io._reading import as_data
from synthkit.adapters._labels import label_index, label_mask, require_label_column
from synthkit.io._model_dirs import model_for
from synthkit.parameters import parameter_names
from synthkit.registry import get_generator, get_registry

# Tables: the diffusion generator, nearest the held-back real rows of small classes on average over
# benchmarks/tabular_synthesis.py's suite (benchmarks/README.md); images: the GAN, as before.
TABLE_GENERATOR = "diffusion"
IMAGE_GENERATOR = "gan"


def default_generator(data) -> str:
    """The generator ``augment`` fits when none is named: diffusion for tables, the GAN for images."""
    return TABLE_GENERATOR if as_data(data).is_table else IMAGE_GENERATOR


def run_augment(
    data,
    plugin=None,
    n=1000,
    label_column=None,
    label=None,
    seed=None,
    model=None,
    progress: bool = False,
    filter: bool = False,
    filter_model=None,
    **params,
):
    """``augment`` returning ``(samples, labels or None, generator, filter report or None)`` (used by
    the CLI); the report is ``RowFilter.run``'s: generated, rejected_implausible, rejected_copies,
    rounds, threshold, distance_floor."""
    n = check_n(n)
    loaded = as_data(data)
    if loaded.is_table:
        frame = loaded.frame
        label_column = label_column or (loaded.label_column if label is not None else None)
        if label is not None and label_column is None:
            raise DataError("label needs label_column (the column to condition on)")
        if label_column is not None:
            require_label_column(frame, label_column)
        if label_column is not None and label is None:
            raise DataError(
                f"the generator is conditional on {label_column!r}: pass label (e.g. --label 1)"
            )
        X = frame.drop(columns=[label_column]) if label_column else frame
        y = frame[label_column].to_numpy() if label_column else None
    else:
        if label_column is not None:
            raise DataError(
                "label_column applies to tables; image labels come from the dataset or the NPZ 'y' array"
            )
        X, y = loaded.images, loaded.labels
        if label is not None and y is None:
            raise DataError("label needs labelled images (a dataset, or an NPZ with a 'y' array)")
    if model is not None:
        generator = model_for(model, "generator", "augment")
        X = _check_matches_model(generator, X, loaded, label_column)
    else:
        if label is not None and y is not None:
            _match_label(label, _classes_of(y), seen="in the data")
        plugin = plugin or default_generator(loaded)
        cls = get_registry().get("generators", plugin)
        names = parameter_names(cls)
        if seed is not None and "seed" in names:
            params["seed"] = seed
        if progress and "verbose" in names:
            params.setdefault("verbose", progress_verbosity())
        generator = get_generator(plugin, **params)
    row_filter = _fitted_filter(
        filter, filter_model, X, y, label, seed, progress
    )  # before the generator trains
    if model is None:
        generator.fit(X, y)
    if label is not None and getattr(generator, "classes_", None) is not None:
        label = _match_label(label, generator.classes_)
    report = None
    if row_filter is None:
        samples = generator.sample(n, y=label, seed=seed)
    else:
        samples, report = row_filter.run(lambda k, s: generator.sample(k, y=label, seed=s), n, seed)
    labels = None if label is None else np.full(n, label)
    if loaded.is_table and label_column is not None:
        samples.insert(
            list(loaded.frame.columns).index(label_column),
            label_column,
            pd.Series(labels, dtype=loaded.frame[label_column].dtype)
            if _castable(labels, loaded.frame[label_column].dtype)
            else labels,
        )
    return samples, labels, generator, report


def _fitted_filter(filter, filter_model, X, y, label, seed, progress):
    """A ``RowFilter`` fitted on ``X`` and the rows of class ``label`` (every row without one), or None."""
    if not filter and filter_model is None:
        return None
    from synthkit.synthesis._filter import RowFilter

    in_class = None
    if label is not None and y is not None:
        in_class = label_mask(y, label)
    return RowFilter(model=filter_model, seed=seed, progress=progress).fit(X, in_class)


def _match_label(label, classes, seen="seen in fit"):
    """The class that is the same label as ``label`` (``synthkit.adapters._labels``: a CLI string such as "1" matches the
    integer class 1, "y" the class "Y")."""
    i = label_index(label, classes)
    if i >= 0:
        c = list(classes)[i]
        return c.item() if isinstance(c, np.generic) else c
    shown = ", ".join(map(str, list(classes)[:20])) + (
        f" ... ({len(classes)} in all)" if len(classes) > 20 else ""
    )
    raise DataError(f"label {label!r} is not among the classes {seen}: {shown}")


def _classes_of(y) -> list:
    """The distinct labels of ``y`` (missing ones left out), sorted as text where they do not sort."""
    values = pd.unique(pd.Series(np.asarray(y, dtype=object)).dropna())
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _check_matches_model(generator, X, loaded, label_column):
    """Refuse an INPUT whose kind (table or images), columns or image shape differ from what the
    saved generator was fitted on: it would be ignored, and the samples would not be like it.
    Returns X, less the dataset's own label column when the model was fitted without it."""
    from synthkit.errors import SchemaError

    from synthkit.base._fitted import check_is_fitted

    check_is_fitted(generator)
    adapter = generator.adapter_
    made = ("a " if adapter.kind == "table" else "") + adapter.describe()
    if adapter.kind != ("table" if loaded.is_table else "image"):
        given = "a table" if loaded.is_table else f"images of shape {tuple(np.shape(X)[1:])}"
        raise SchemaError(
            f"the model makes {made}, but INPUT {loaded.name} holds {given}; "
            "give the data the model was fitted on (or one like it)"
        )
    if adapter.kind == "image":
        shape = tuple(np.shape(X)[1:])
        shape = shape if len(shape) == 3 else (*shape, 1)
        if tuple(shape) != tuple(adapter.shape):
            raise SchemaError(
                f"the model makes {made}, but INPUT {loaded.name} holds images of shape "
                f"{tuple(np.shape(X)[1:])}"
            )
        return X
    names = {str(c["name"]) for c in adapter.input_columns}
    known = loaded.label_column
    if label_column is None and known in X.columns and known not in names:
        X = X.drop(columns=[known])  # the dataset's label column; the model was fitted without it
    try:
        adapter._check_schema(adapter._frame(X, fitting=False))
    except SchemaError as exc:
        extra = [str(c) for c in X.columns if str(c) not in names]
        hint = ""
        if (
            label_column is None
            and len(extra) == 1
            and getattr(generator, "classes_", None) is not None
        ):
            hint = (
                f"; if {extra[0]!r} is the column the model is conditional on, give it as label_column "
                f"(--label-column {extra[0]})"
            )
        raise SchemaError(
            f"INPUT {loaded.name} does not match the saved model: "
            f"{str(exc).split(': ', 1)[-1]}{hint}"
        ) from None
    return X


def _castable(values, dtype) -> bool:
    try:
        pd.Series(values).astype(dtype)
        return True
    except (TypeError, ValueError):
        return False
