"""The exponential moving average of generator weights that both GANs (images and tables) sample from."""

from __future__ import annotations

import tensorflow as tf


def update_ema(averaged, trained, step: tf.Variable, ema_decay: float) -> None:
    """One EMA step of ``averaged``'s weights towards ``trained``'s, with warm-up: the decay grows as
    (1 + t) / (10 + t) up to ``ema_decay`` (t counts the updates in ``step``), so early, poor
    weights are forgotten quickly. ``ema_decay`` 0 copies the trained weights."""
    step.assign_add(1.0)
    decay = tf.minimum(ema_decay, (1.0 + step) / (10.0 + step))
    for ema_w, w in zip(averaged.weights, trained.weights):
        ema_w.assign(decay * ema_w + (1.0 - decay) * w)
