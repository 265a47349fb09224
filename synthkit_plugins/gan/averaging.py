"""The exponential moving average of generator weights that both GANs (images and tables) sample from."""

from __future__ import annotations

import keras
import tensorflow as tf


def update_ema(averaged, trained, step: tf.Variable, ema_decay: float) -> None:
    """One EMA step of ``averaged``'s weights towards ``trained``'s, with warm-up: the decay grows as
    (1 + t) / (10 + t) up to ``ema_decay`` (t counts the updates in ``step``), so early, poor
    weights are forgotten quickly. ``ema_decay`` 0 copies the trained weights."""
    step.assign_add(1.0)
    decay = tf.minimum(ema_decay, (1.0 + step) / (10.0 + step))
    for ema_w, w in zip(averaged.weights, trained.weights):
        ema_w.assign(decay * ema_w + (1.0 - decay) * w)


class WeightAverage(keras.callbacks.Callback):
    """Keeps ``averaged``, a copy of the ``trained`` network whose weights follow the moving average
    of ``trained``'s (``update_ema``) after every training step; sampling uses it, since the last
    iterate of a GAN wanders and the average does not."""

    def __init__(self, trained: keras.Model, ema_decay: float):
        super().__init__()
        self.trained = trained
        self.ema_decay = float(ema_decay)
        self.averaged = keras.models.clone_model(trained)
        self.averaged.set_weights(trained.get_weights())
        self.updates = tf.Variable(0.0, trainable=False)
        self._update = tf.function(
            lambda: update_ema(self.averaged, self.trained, self.updates, self.ema_decay)
        )

    def on_train_batch_end(self, batch, logs=None):
        self._update()
