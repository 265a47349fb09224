"""The MNIST feature classifier: the small CNN whose features image evaluation measures MNIST with.

Its weights ship beside this module (``mnist_classifier.npz``, float32 arrays and a little info,
no pickle), made by ``benchmarks/train_mnist_classifier.py``; the architecture is rebuilt in code
(``build_mnist_classifier``). Keras is imported when the classifier is first used.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from synthkit.errors import DataError, ModelFileError

CLASSIFIER_FILE = Path(__file__).parent / "mnist_classifier.npz"
CLASSIFIER_VERSION = 1
FEATURE_DIM = 128


def build_mnist_classifier():
    """The feature classifier's architecture: ``(model, features_model)``; features are 128-d."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    features = layers.Dense(FEATURE_DIM, activation="relu", name="features")(x)
    x = layers.Dropout(0.3)(features)
    logits = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, logits, name="mnist_classifier"), keras.Model(
        inputs, features, name="mnist_features"
    )


def save_classifier_weights(model, path, **info) -> None:
    """Write the classifier's weights (float32 arrays w0..wN) and JSON-able info to an npz file."""
    arrays = {f"w{i}": np.asarray(w, dtype=np.float32) for i, w in enumerate(model.get_weights())}
    arrays["version"] = np.array(CLASSIFIER_VERSION)
    for key, value in info.items():
        arrays[f"info_{key}"] = np.asarray(value)
    np.savez_compressed(path, **arrays)


@lru_cache(maxsize=2)
def load_mnist_classifier(path: str | None = None):
    """``(model, features_model, info)`` rebuilt in code with weights from the shipped npz (no pickle)."""
    path = Path(path) if path else CLASSIFIER_FILE
    if not path.is_file():
        raise ModelFileError(
            f"the MNIST feature classifier {path} is missing; "
            "recreate it with `python benchmarks/train_mnist_classifier.py`"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise ModelFileError(f"cannot read the MNIST feature classifier {path}: {exc}") from None
    if int(arrays.get("version", -1)) != CLASSIFIER_VERSION:
        raise ModelFileError(
            f"{path} is not a version-{CLASSIFIER_VERSION} synthkit MNIST classifier"
        )
    model, features = build_mnist_classifier()
    expected = model.get_weights()
    weights = [arrays.get(f"w{i}") for i in range(len(expected))]
    if any(w is None or w.shape != e.shape for w, e in zip(weights, expected)):
        raise ModelFileError(f"{path} does not fit the classifier architecture; retrain it")
    model.set_weights(weights)
    info = {
        k[5:]: arrays[k].item() for k in arrays if k.startswith("info_") and arrays[k].ndim == 0
    }
    return model, features, info


def mnist_images(images) -> np.ndarray:
    """Images as the classifier takes them, float32 (n, 28, 28, 1) in [0, 1]; other shapes are refused."""
    from synthkit.evaluation.images import as_unit_images

    arr = as_unit_images(images)
    if arr.shape[1:] != (28, 28, 1):
        raise DataError(
            f"the MNIST measures need 28x28 grey images, got shape {tuple(np.asarray(images).shape[1:])}"
        )
    return arr


def mnist_features(images, batch_size: int = 500) -> np.ndarray:
    """The classifier's 128-d features of each image."""
    _, features, _ = load_mnist_classifier()
    return np.asarray(
        features.predict(mnist_images(images), batch_size=batch_size, verbose=0), dtype=np.float64
    )


def mnist_predict(images, batch_size: int = 500) -> np.ndarray:
    """The classifier's predicted digit for each image."""
    model, _, _ = load_mnist_classifier()
    return np.asarray(model.predict(mnist_images(images), batch_size=batch_size, verbose=0)).argmax(
        axis=1
    )


class MnistFeatureModel:
    """The ``mnist`` dataset's feature model (see ``synthkit.Dataset.feature_model``): the classifier above."""

    name = "MNIST classifier features"

    def features(self, images) -> np.ndarray:
        """The classifier's 128-d features of each image."""
        return mnist_features(images)

    def predict(self, images) -> np.ndarray:
        """The classifier's predicted digit for each image."""
        return mnist_predict(images)
