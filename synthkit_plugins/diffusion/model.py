"""Diffusion training and sampling: the forward process, the ``keras.Model`` that learns the reverse
process (keras-io DDIM style: ``train_step``, metric trackers, EMA weights), the denoising
autoencoder of the latent image model, the trainer of the pixel denoiser, the DDIM sampler
with classifier-free guidance, and the retraining of a network's last layers (fine-tuning).

Forward process (continuous time, cosine schedule)
--------------------------------------------------
For a diffusion time t in [0, 1], the angle ``a(t) = a_min + t * (a_max - a_min)`` with
``a_min = acos(0.98)`` and ``a_max = acos(0.02)``; the signal rate is ``alpha(t) = cos a(t)`` and the
noise rate ``sigma(t) = sin a(t)`` (so alpha² + sigma² = 1: variance preserving). A noisy sample is
``x_t = alpha(t) x_0 + sigma(t) eps`` with eps ~ N(0, I). This is the cosine schedule of Nichol &
Dhariwal (2021) in its continuous form, clipped so that t = 0 keeps a little noise and t = 1 a
little signal (keras-io "Denoising Diffusion Implicit Models").

Reverse process
---------------
The network predicts ``v = alpha eps - sigma x_0`` (v-prediction, Salimans & Ho 2022), from which
``x_0 = alpha x_t - sigma v`` and ``eps = sigma x_t + alpha v``. The loss is the mean squared error
on v. During training, a share ``label_dropout`` of the labels is replaced by the "no label" code,
so one network learns both the conditional and the unconditional model (classifier-free guidance,
Ho & Salimans 2022). Sampling uses an exponential moving average (EMA) of the weights.

DDIM (Song et al. 2021, eta = 0): from t_i to t_{i+1} < t_i,
``x_{t_{i+1}} = alpha_{i+1} x_0_hat + sigma_{i+1} eps_hat``; with guidance w the prediction is
``v = v_uncond + w (v_cond - v_uncond)`` (w = 1: plain conditional; w = 0: unconditional).
"""

from __future__ import annotations

import math
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from synthkit.signals import interrupt_callback

MAX_SIGNAL_RATE = 0.98
MIN_SIGNAL_RATE = 0.02
_A_MIN = math.acos(MAX_SIGNAL_RATE)
_A_MAX = math.acos(MIN_SIGNAL_RATE)


def rates(t):
    """(alpha, sigma) of the cosine schedule at diffusion times t in [0, 1] (numpy or tensors)."""
    if isinstance(t, np.ndarray) or np.isscalar(t):
        angle = _A_MIN + np.asarray(t, dtype=np.float64) * (_A_MAX - _A_MIN)
        return np.cos(angle), np.sin(angle)
    angle = _A_MIN + t * (_A_MAX - _A_MIN)
    return ops.cos(angle), ops.sin(angle)


def time_for_alpha(alpha: float) -> float:
    """The diffusion time whose signal rate is ``alpha`` (clipped to the schedule's range)."""
    alpha = float(np.clip(alpha, MIN_SIGNAL_RATE, MAX_SIGNAL_RATE))
    return (math.acos(alpha) - _A_MIN) / (_A_MAX - _A_MIN)


class DiffusionModel(keras.Model):
    """Learns the reverse process with a v-predicting ``network([x_t, t, y])``; keeps an EMA copy."""

    def __init__(
        self,
        network,
        ema_network,
        n_classes: int,
        label_dropout: float = 0.1,
        ema_decay: float = 0.999,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.network = network
        self.ema_network = ema_network
        self.n_classes = int(n_classes)
        self.label_dropout = float(label_dropout) if n_classes else 0.0
        self.ema_decay = float(ema_decay)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.x0_loss_tracker = keras.metrics.Mean(name="x0_loss")

    @property
    def metrics(self):
        return [self.loss_tracker, self.x0_loss_tracker]

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def _noised(self, x, y):
        n = ops.shape(x)[0]
        t = keras.random.uniform((n, 1), seed=self.seed_generator)
        eps = keras.random.normal(ops.shape(x), seed=self.seed_generator)
        shape = (n,) + (1,) * (len(x.shape) - 1)
        alpha, sigma = rates(ops.reshape(t, shape))
        x_t = alpha * x + sigma * eps
        v = alpha * eps - sigma * x
        y = ops.cast(y, "int32")
        if self.label_dropout > 0:
            drop = keras.random.uniform((n,), seed=self.seed_generator) < self.label_dropout
            y = ops.where(drop, ops.full_like(y, self.n_classes), y)
        return x_t, t, y, v, alpha, sigma

    def train_step(self, data):
        x, y = data
        x_t, t, y, v, alpha, sigma = self._noised(x, y)
        with tf.GradientTape() as tape:
            v_hat = self.network([x_t, t, y], training=True)
            loss = ops.mean(ops.square(v - v_hat))
        grads = tape.gradient(loss, self.network.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.network.trainable_weights))
        for w, ew in zip(self.network.weights, self.ema_network.weights):
            ew.assign(self.ema_decay * ew + (1.0 - self.ema_decay) * w)
        x0_hat = alpha * x_t - sigma * v_hat
        self.loss_tracker.update_state(loss)
        self.x0_loss_tracker.update_state(ops.mean(ops.square(x - x0_hat)))
        return {m.name: m.result() for m in self.metrics}


def corrupt(x, max_noise: float, seed_generator):
    """(noisy copies, their noise std per image): clipped Gaussian noise of a standard deviation
    drawn per image uniformly from [0, ``max_noise``]."""
    n = ops.shape(x)[0]
    std = keras.random.uniform((n, 1, 1, 1), maxval=max_noise, seed=seed_generator)
    return ops.clip(x + std * keras.random.normal(ops.shape(x), seed=seed_generator), 0.0, 1.0), std


def with_level(noisy, std):
    """The pixel denoiser's input: the noisy images with their noise std as one more channel."""
    if isinstance(noisy, np.ndarray):
        level = np.broadcast_to(np.asarray(std, np.float32), noisy.shape[:-1] + (1,))
        return np.concatenate([noisy.astype(np.float32), level], axis=-1)
    return ops.concatenate([noisy, ops.ones_like(noisy[..., :1]) * std], axis=-1)


def chained(encoder, decoder):
    """encoder -> decoder as one model (sharing their layers)."""
    x = keras.Input(shape=tuple(encoder.input_shape[1:]))
    return keras.Model(x, decoder(encoder(x)))


class DenoisingTrainer(keras.Model):
    """Trains ``network`` to return clean images (in [0, 1]) from copies corrupted as in
    ``corrupt``; with ``level_input`` the network also gets the noise std as one more channel
    (``with_level``). Used for the latent autoencoder (``chained(encoder, decoder)``) and for the
    pixel denoiser.

    The loss is binary cross-entropy per pixel: with a sigmoid output and mean squared error the
    mostly black MNIST pictures saturated the autoencoder's output at 0 and training stalled at an
    all-black reconstruction from the second epoch; the pixel denoiser stalled the same way on
    small data, and on MNIST squared error gained it next to nothing."""

    def __init__(
        self, network, level_input: bool = False, max_noise: float = 0.5, seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.network = network
        self.level_input = bool(level_input)
        self.max_noise = float(max_noise)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, x, training=False):
        return self.network(x, training=training)

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        noisy, std = corrupt(x, self.max_noise, self.seed_generator)
        inputs = with_level(noisy, std) if self.level_input else noisy
        with tf.GradientTape() as tape:
            r = ops.clip(self.network(inputs, training=True), 1e-6, 1.0 - 1e-6)
            loss = -ops.mean(x * ops.log(r) + (1.0 - x) * ops.log(1.0 - r))
        weights = self.network.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        self.loss_tracker.update_state(loss)
        return {m.name: m.result() for m in self.metrics}


# Small tables train several epochs per ``model.fit`` call, as each call has a fixed cost: at least
# MIN_STEPS_PER_CALL batches, unless its rows would then hold over MAX_VALUES_PER_CALL values.
MIN_STEPS_PER_CALL, MAX_VALUES_PER_CALL = 256, 2**25


class _EpochLosses(keras.callbacks.Callback):
    """Inside one ``model.fit`` over several epochs' rows: the mean losses of each epoch's
    ``steps`` batches (the trackers are reset at every epoch's end)."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps, self.epochs = int(steps), []

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % self.steps == 0:
            self.epochs.append({k: float(np.asarray(v)) for k, v in (logs or {}).items()})
            for metric in self.model.metrics:
                metric.reset_state()


def steps_per_epoch(n_rows: int, batch_size: int) -> int:
    """The batches ``train`` makes of one epoch (the last partial batch is left out)."""
    return max(1, int(n_rows) // int(min(batch_size, n_rows)))


def train(
    model,
    X,
    y,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    weights=None,
    max_seconds=None,
    verbose: int = 0,
    name: str = "diffusion",
    history=None,
) -> dict:
    """Epoch loop around ``model.fit``: each epoch draws a seeded order of the rows (with
    ``weights``, a weighted resample with replacement: training-by-sampling for rare classes), logs
    the mean losses, and stops after the ``model.fit`` call that crosses ``max_seconds``. Epochs of
    fewer than ``MIN_STEPS_PER_CALL`` batches are grouped into one call (within
    ``MAX_VALUES_PER_CALL``), in the same order of batches as one call per epoch would take."""
    history = {} if history is None else history
    n = len(X)
    batch_size = int(min(batch_size, n))
    steps = steps_per_epoch(n, batch_size)
    epoch_values = steps * batch_size * max(1, int(np.prod(X.shape[1:])))
    per_call = max(1, min(-(-MIN_STEPS_PER_CALL // steps), MAX_VALUES_PER_CALL // epoch_values))
    started = time.perf_counter()
    epoch = 0
    while epoch < int(epochs):
        orders = []
        for _ in range(min(per_call, int(epochs) - epoch)):
            order = (
                rng.permutation(n) if weights is None else rng.choice(n, n, replace=True, p=weights)
            )
            orders.append(order[: steps * batch_size])
        order = np.concatenate(orders)
        args = (X[order],) if y is None else (X[order], y[order])
        losses = _EpochLosses(steps)
        model.fit(
            *args,
            batch_size=batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[losses, interrupt_callback()],
        )
        for logs in losses.epochs:
            epoch += 1
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
            if verbose:
                text = "  ".join(f"{k}: {v:.4f}" for k, v in logs.items())
                print(
                    f"{name} epoch {epoch}/{epochs}  {text}  ({time.perf_counter() - started:.0f}s)",
                    file=sys.stderr,
                    flush=True,
                )
        if max_seconds is not None and time.perf_counter() - started >= float(max_seconds):
            break
    return history


def make_predictor(network):
    """A compiled ``(x_t, t, y) -> v`` function of ``network``."""

    @tf.function(reduce_retracing=True)
    def predict(x_t, t, y):
        return network([x_t, t, y], training=False)

    return predict


def ddim_sample(
    predict,
    noise: np.ndarray,
    y: np.ndarray,
    null_class: int,
    steps: int,
    guidance: float = 1.0,
    t_start: float = 1.0,
    lo=None,
    hi=None,
    batch_size: int = 1000,
) -> np.ndarray:
    """Run DDIM (eta = 0) from time ``t_start`` to 0 in ``steps`` steps.

    ``noise`` is the start: Gaussian noise at ``t_start`` = 1, or a sample already at the level of
    ``t_start``. ``y`` holds the class codes (``null_class`` for unconditional). ``guidance`` != 1
    mixes in the unconditional prediction (classifier-free guidance). The predicted x_0 is clipped
    to [lo, hi] per feature.
    """
    out = np.empty_like(noise, dtype=np.float32)
    times = np.linspace(float(t_start), 0.0, int(steps) + 1)
    guided = float(guidance) != 1.0 and bool(np.any(y != null_class))
    for s in range(0, len(noise), batch_size):
        x = noise[s : s + batch_size].astype(np.float32)
        yb = y[s : s + batch_size].astype(np.int32)
        m = len(x)
        y_in = np.concatenate([yb, np.full(m, null_class, np.int32)]) if guided else yb
        for i in range(int(steps)):
            a, sg = rates(times[i])
            a_next, s_next = rates(times[i + 1])
            x_in = np.concatenate([x, x]) if guided else x
            t_in = np.full((len(x_in), 1), times[i], np.float32)
            v = np.asarray(predict(tf.constant(x_in), tf.constant(t_in), tf.constant(y_in)))
            if guided:
                v = v[m:] + float(guidance) * (v[:m] - v[m:])
            x0 = a * x - sg * v
            if lo is not None:
                x0 = np.clip(x0, lo, hi)
            eps = (x - a * x0) / sg
            x = (a_next * x0 + s_next * eps).astype(np.float32)
            if i == int(steps) - 1:
                x = x0.astype(np.float32)
        out[s : s + batch_size] = x
    return out


def freeze_all_but(layers: list, last: int | None) -> None:
    """Only the last ``last`` of ``layers`` trainable (None: all)."""
    last = len(layers) if last is None else last
    for i, layer in enumerate(layers):
        layer.trainable = i >= len(layers) - last


def retrain_last_layers(
    trainer,
    layers: list,
    last: int | None,
    X,
    y,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    learning_rate: float,
    verbose: int,
    name: str,
) -> list:
    """Train ``trainer`` with only the last ``last`` of its network's weighted ``layers`` trainable
    (None: all), then make them all trainable again; the losses per epoch (fine-tuning)."""
    freeze_all_but(layers, last)
    trainer.compile(optimizer=make_optimizer(learning_rate))
    history = train(trainer, X, y, epochs, batch_size, rng, verbose=verbose, name=name)
    freeze_all_but(layers, None)
    return history.get("loss", [])


def set_seed(seed) -> None:
    """Seed Python, numpy and Keras (None: leave them), so that the same seed trains the same networks."""
    if seed is not None:
        keras.utils.set_random_seed(int(seed))


def make_optimizer(learning_rate: float, decay_steps: int | None = None):
    """AdamW with gradient clipping; with ``decay_steps`` the rate follows a cosine decay to 0 over
    that many steps."""
    rate = float(learning_rate)
    if decay_steps:
        rate = keras.optimizers.schedules.CosineDecay(rate, int(decay_steps))
    return keras.optimizers.AdamW(learning_rate=rate, weight_decay=1e-4, clipnorm=1.0)
