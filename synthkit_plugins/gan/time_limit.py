"""The Keras callback that ends a GAN's training after the epoch that crosses ``max_seconds``."""

from __future__ import annotations

import time

import keras


class TimeLimit(keras.callbacks.Callback):
    """Stop training at the end of the first epoch that ends more than ``seconds`` after training
    began (None: no limit)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self.seconds is not None and time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True
