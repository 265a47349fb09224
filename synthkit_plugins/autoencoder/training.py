"""Training an autoencoder's Keras model: the loss it is compiled with, the epoch schedule, early
stopping and weight averaging, and fine-tuning with all but its last layers frozen.

The functions read the training hyper-parameters (``validation_split``, ``patience``,
``average_weights``, ``learning_rate``, ``seed``, ``verbose``) from the AutoencoderDetector passed
as ``params``. Keras loads when they run, not when this module is imported.
"""

from __future__ import annotations

import math

import numpy as np

from synthkit.adapters import scaled_epochs
from synthkit.signals import interrupt_callback
from synthkit_plugins.autoencoder.architecture import member_count

IMAGE_EPOCHS = 40  # epochs="auto" on images up to 32x32 pixels (fewer above: scaled_epochs) ...
IMAGE_MIN_STEPS = 400  # ... and at least this many batches at any size (as rounds of batches)
TABLE_ROUNDS, TABLE_ROUND_STEPS = 20, 25  # epochs="auto" on tables: 20 rounds of 25 batches


def compile_model(model, arch: dict, learning_rate: float) -> None:
    """Compile ``model`` with Adam and its loss: the VAE's own; otherwise the reconstruction loss,
    trimmed (``trim``) or per member where ``arch`` asks for it."""
    import keras

    optimizer = keras.optimizers.Adam(learning_rate)
    if arch["kind"] == "vae":
        model.compile(optimizer=optimizer)
        return
    from synthkit_plugins.autoencoder.networks import trimmed_loss

    bernoulli, trim, members = arch["unit_range"], arch.get("trim", 0.0), member_count(arch)
    if trim or members > 1:
        loss = trimmed_loss(trim, bernoulli, members)
    else:
        loss = "binary_crossentropy" if bernoulli else "mse"
    model.compile(optimizer=optimizer, loss=loss)


def schedule(epochs, arch: dict, n_rows: int = 0, batch_size: int = 1) -> tuple[int, int | None]:
    """(epochs, batches per epoch; None for full passes over the data) for ``n_rows`` training rows.

    ``epochs="auto"`` on images: IMAGE_EPOCHS full passes up to 32x32 pixels, proportionally fewer
    above (``synthkit.adapters._image_sizes.scaled_epochs``). Where those passes make fewer than
    IMAGE_MIN_STEPS batches of ``batch_size`` (a few hundred images, or larger images), as many
    rounds of batches drawn from the reshuffled images as would have been passes, together
    IMAGE_MIN_STEPS batches: shorter training stops while the reconstructions are still blurred
    for every image alike. On tables: TABLE_ROUNDS rounds of
    TABLE_ROUND_STEPS batches each, drawn from the reshuffled rows, so training takes
    TABLE_ROUNDS * TABLE_ROUND_STEPS optimizer steps whatever the table's size: a table of a
    hundred rows is cycled through many times, a large one is sampled. An autoencoder learns the
    bulk of the data before it learns its outliers; a fixed short schedule stops in that window,
    and a fixed number of rounds keeps early stopping and weight averaging meaningful on tiny tables.
    """
    if epochs != "auto":
        return int(epochs), None
    if len(arch["input_shape"]) == 3:
        passes = scaled_epochs(IMAGE_EPOCHS, arch["input_shape"])
        if n_rows and passes * math.ceil(n_rows / batch_size) < IMAGE_MIN_STEPS:
            return passes, math.ceil(IMAGE_MIN_STEPS / passes)
        return passes, None
    return TABLE_ROUNDS, TABLE_ROUND_STEPS


def batch_stream(arrays: tuple, batch_size: int, seed):
    """An endless tf.data stream of shuffled batches of ``arrays`` (reshuffled every pass)."""
    import tensorflow as tf

    seed = None if seed is None else int(seed)
    return (
        tf.data.Dataset.from_tensor_slices(arrays)
        .shuffle(len(arrays[0]), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def train(model, X: np.ndarray, arch: dict, params, epochs, batch_size: int) -> dict:
    """Fit ``model`` on X (shaped as its input) with a validation split; ``epochs="auto"`` (see
    ``schedule``). Returns the losses per epoch, by name."""
    import keras

    from synthkit_plugins.autoencoder.networks import WeightAveraging

    n_val = int(len(X) * float(params.validation_split)) if len(X) >= 20 else 0
    order = np.random.default_rng(params.seed).permutation(len(X))
    train_rows, val = X[order[n_val:]], X[order[:n_val]]
    batch_size = int(min(batch_size, len(train_rows)))
    epochs, steps = schedule(epochs, arch, len(train_rows), batch_size)
    callbacks = [interrupt_callback()]
    if n_val and params.patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=int(params.patience), restore_best_weights=True
            )
        )
    averaged = int(round(float(params.average_weights) * epochs))
    if averaged:
        callbacks.append(WeightAveraging(start=epochs - averaged + 1))
    target = (lambda a: (a,)) if arch["kind"] == "vae" else (lambda a: (a, a))
    fit = dict(
        validation_data=target(val) if n_val else None,
        epochs=epochs,
        callbacks=callbacks,
        verbose=int(params.verbose),
    )
    if steps:
        history = model.fit(
            batch_stream(target(train_rows), batch_size, params.seed),
            steps_per_epoch=steps,
            shuffle=False,
            **fit,
        )
    else:
        history = model.fit(*target(train_rows), batch_size=batch_size, shuffle=True, **fit)
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def train_last_layers(
    model,
    X: np.ndarray,
    arch: dict,
    params,
    unfreeze_last,
    epochs: int,
    learning_rate: float,
    batch_size: int,
) -> tuple[dict, list[str]]:
    """Retrain ``model`` on X (shaped as its input) with all but its last ``unfreeze_last`` weight
    layers frozen (None: none frozen), then leave every layer trainable and the model compiled with
    the fit's learning rate. Returns (the losses per epoch, the names of the retrained layers)."""
    import keras

    from synthkit_plugins.autoencoder.networks import trainable_layers

    if params.seed is not None:
        keras.utils.set_random_seed(int(params.seed) + 1)
    layers = trainable_layers(model)
    k = len(layers) if unfreeze_last is None else min(int(unfreeze_last), len(layers))
    for i, layer in enumerate(layers):
        layer.trainable = i >= len(layers) - k
    compile_model(model, arch, learning_rate)
    history = train(model, X, arch, params, int(epochs), int(batch_size))
    for layer in layers:
        layer.trainable = True
    compile_model(model, arch, float(params.learning_rate))
    return history, [layer.name for layer in layers[len(layers) - k :]]
