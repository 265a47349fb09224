"""Feature models learnt from the real images, for image evaluation when no dataset supplies one.

FID and KID need features. A dataset may ship its own (``Dataset.feature_model``: MNIST's
classifier); for any other images ``learned_feature_model(real, real_labels)`` trains one:

- **labelled real images** (two or more classes, each with at least ``MIN_PER_CLASS`` images): a
  small CNN classifier, trained on a stratified 80% of them. Its held-out accuracy on the other 20%
  is reported beside the figures, so the user knows what the features are worth (an accuracy near
  chance means features that barely tell the classes apart). Its features are the penultimate
  layer; ``predict`` gives the class, so the accuracy of conditional samples is measured too;
- **otherwise** (no labels, one class, classes too small): a small convolutional autoencoder
  trained on the real images; the features are its bottleneck codes, and its held-out
  reconstruction error is reported instead.

Both nets scale with the image: strided 3x3 convolutions (32, 64, 128, ... channels) until the
feature map is 8 pixels or fewer on its short side (at least two). Training is seeded and fixed in
length (``EPOCHS``), so the same images and seed give the same features. Keras is imported here
only, when such a model is trained.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from synthkit.errors import DataError

EPOCHS = 15  # full passes over the training part, for either net
BATCH_SIZE = 64
HOLDOUT_SHARE = 0.2
MIN_PER_CLASS = 5  # per class, for a stratified held-out part with at least one image of each
FEATURE_DIM = 128


def conv_widths(shape) -> list[int]:
    """Channels of the strided convolutions for images of ``shape``: 32, 64, ... (at most 128), one
    layer for each ``synthkit.adapters._image_sizes.strided_layers``."""
    from synthkit.adapters._image_sizes import strided_layers

    return [min(32 * 2**i, 128) for i in range(strided_layers(shape))]


def learned_feature_model(images: np.ndarray, labels=None, seed: int = 0):
    """A feature model trained on ``images`` (float32 (n, h, w, c) in [0, 1]): the classifier when
    ``labels`` give two or more classes of at least ``MIN_PER_CLASS`` images, else the autoencoder."""
    if len(images) < 10:
        raise DataError(
            f"a feature model is trained on the real images, and {len(images)} are too few: "
            "give at least 10, or a dataset with its own feature model (--features)"
        )
    if labels is not None:
        classes, counts = np.unique(np.asarray(labels).astype(str), return_counts=True)
        if len(classes) >= 2 and counts.min() >= MIN_PER_CLASS:
            print(
                f"note: training a classifier on the {len(images)} real images' {len(classes)} labels "
                "for the features FID and KID are measured on",
                file=sys.stderr,
            )
            return ClassifierFeatures(images, labels, seed)
    print(
        f"note: training an autoencoder on the {len(images)} real images for the features FID and KID are "
        "measured on (no labels with two or more classes to train a classifier on)",
        file=sys.stderr,
    )
    return AutoencoderFeatures(images, seed)


def _split(n: int, strata, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices: ``HOLDOUT_SHARE`` held out, stratified by ``strata`` when given."""
    from sklearn.model_selection import train_test_split

    return train_test_split(
        np.arange(n), test_size=HOLDOUT_SHARE, random_state=seed, stratify=strata
    )


def _encoder(x, shape):
    """The shared trunk: strided convolutions (``conv_widths``), then global pooling and a dense layer."""
    from keras import layers

    for i, width in enumerate(conv_widths(shape)):
        x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu", name=f"conv_{i}")(
            x
        )
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return layers.Dense(FEATURE_DIM, activation="relu", name="features")(x)


def _fit(model, x, y, loss) -> None:
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    model.fit(x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, shuffle=True, verbose=0)


def _predict(model, images) -> np.ndarray:
    return np.asarray(model.predict(images, batch_size=500, verbose=0))


class ClassifierFeatures:
    """A small CNN trained on the real images' labels: penultimate-layer features, and ``predict``
    giving the label. ``holdout_accuracy`` is its accuracy on the real images it did not train on."""

    def __init__(self, images: np.ndarray, labels, seed: int = 0):
        import keras
        from keras import layers

        labels = np.asarray(labels)
        keys = labels.astype(str)
        self.classes_, codes = np.unique(keys, return_inverse=True)
        self._values = {key: labels[np.flatnonzero(keys == key)[0]] for key in self.classes_}
        train, held = _split(len(images), codes, seed)
        keras.utils.set_random_seed(int(seed))
        inputs = keras.Input(shape=images.shape[1:], name="image")
        features = _encoder(inputs, images.shape[1:3])
        logits = layers.Dense(len(self.classes_), name="logits")(
            layers.Dropout(0.3, name="dropout")(features)
        )
        self._model = keras.Model(inputs, logits, name="real_image_classifier")
        self._features = keras.Model(inputs, features, name="real_image_features")
        _fit(
            self._model,
            images[train],
            codes[train],
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        self.holdout_accuracy = float(
            (_predict(self._model, images[held]).argmax(axis=1) == codes[held]).mean()
        )
        self.holdout_images = int(len(held))
        self.majority_share = float(np.bincount(codes[held]).max() / len(held))
        self.name = "classifier trained on REAL"
        self.quality = (
            f"{len(self.classes_)} classes; held-out accuracy {self.holdout_accuracy:.3f} on {len(held)} "
            f"images (majority class: {self.majority_share:.3f})"
        )

    def features(self, images) -> np.ndarray:
        return _predict(self._features, images)

    def predict(self, images) -> np.ndarray:
        """The label (as REAL spells it) the classifier reads in each image."""
        keys = self.classes_[_predict(self._model, images).argmax(axis=1)]
        return np.array([self._values[k] for k in keys], dtype=object)


class AutoencoderFeatures:
    """A small convolutional autoencoder trained on the real images; features are its codes.
    ``holdout_error`` is its mean squared reconstruction error on the real images it did not train on."""

    def __init__(self, images: np.ndarray, seed: int = 0):
        import keras
        from keras import layers

        train, held = _split(len(images), None, seed)
        keras.utils.set_random_seed(int(seed))
        h, w, c = images.shape[1:]
        inputs = keras.Input(shape=(h, w, c), name="image")
        code = _encoder(inputs, (h, w))
        widths = conv_widths((h, w))
        scale = 2 ** len(widths)
        gh, gw = math.ceil(h / scale), math.ceil(w / scale)
        x = layers.Dense(gh * gw * widths[-1], activation="relu", name="dec_dense")(code)
        x = layers.Reshape((gh, gw, widths[-1]), name="dec_reshape")(x)
        for i, width in enumerate(reversed(widths)):
            x = layers.Conv2DTranspose(
                width, 3, strides=2, padding="same", activation="relu", name=f"dec_{i}"
            )(x)
        x = layers.Cropping2D(((0, gh * scale - h), (0, gw * scale - w)), name="dec_crop")(x)
        outputs = layers.Conv2D(c, 3, padding="same", activation="sigmoid", name="reconstruction")(
            x
        )
        self._model = keras.Model(inputs, outputs, name="real_image_autoencoder")
        self._features = keras.Model(inputs, code, name="real_image_codes")
        _fit(self._model, images[train], images[train], "mse")
        self.holdout_error = float(
            ((_predict(self._model, images[held]) - images[held]) ** 2).mean()
        )
        self.holdout_images = int(len(held))
        self.name = "autoencoder trained on REAL"
        self.quality = (
            f"no labels to train a classifier on; held-out reconstruction MSE {self.holdout_error:.4f} "
            f"on {len(held)} images"
        )

    def features(self, images) -> np.ndarray:
        return _predict(self._features, images)
