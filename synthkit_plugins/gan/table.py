"""A CTGAN-style conditional GAN for tables, on the adapter's encoded columns: fitting and sampling.

``table_space`` turns rows into the GAN's representation (mode-specific normalisation),
``table_sampler`` draws the conditions and matching real rows (training-by-sampling), and
``table_model`` holds the networks and the Keras model whose ``train_step`` trains them (WGAN-GP,
PacGAN, a matching-aware critic).
Here ``fit_table_gan`` builds them and lets ``TableGAN.fit`` train, with callbacks that draw each
epoch's batches as it begins (``draw_epoch``: each pack of rows shares a label), keep the moving
average of the generator's weights (what ``generate_rows`` samples from: the last iterate of a
WGAN wanders, the average does not), stop at the time limit, and record the history.
"""

from __future__ import annotations

import contextlib
import sys

import keras
import numpy as np
import tensorflow as tf

from synthkit.signals import interrupt_callback
from synthkit_plugins.gan.averaging import WeightAverage
from synthkit_plugins.gan.table_model import TableGAN, build_critic, build_generator
from synthkit_plugins.gan.table_sampler import CondSampler, level_offsets
from synthkit_plugins.gan.table_space import TableSpace
from synthkit_plugins.gan.time_limit import TimeLimit


def fit_table_gan(
    X: np.ndarray,
    columns: list[dict],
    codes,
    n_classes: int,
    *,
    epochs: int,
    batch_size: int,
    noise_dim: int,
    learning_rate: float,
    pac: int = 10,
    max_modes: int = 10,
    ema_decay: float = 0.995,
    mismatch_weight: float = 0.3,
    seed=None,
    verbose: int = 0,
    max_seconds=None,
):
    """Train; returns (generator, TableSpace, CondSampler, offsets, history); the generator is the
    moving average of the trained one's weights (``ema_decay`` 0: the trained one itself)."""
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    rng = np.random.default_rng(seed)
    space = TableSpace.fit(columns, X, max_modes, seed, codes if n_classes > 1 else None)
    ks = space.discrete_sizes()
    codes = np.zeros(len(X), np.int64) if codes is None else np.asarray(codes, np.int64)
    sampler = CondSampler(space.levels(X), codes, ks, n_classes)
    offsets = level_offsets(ks)
    cond_dim = int(sum(ks))
    batch_size = max(pac, int(min(batch_size, len(X))) // pac * pac)
    generator = build_generator(noise_dim, cond_dim + n_classes, space.dim)
    critic = build_critic(cond_dim + n_classes, space.dim, pac)
    averaging = WeightAverage(generator, ema_decay)
    noise_seed = int(seed) if seed is not None else int(rng.integers(2**31))
    steps = max(1, len(X) // batch_size)
    gan = TableGAN(
        generator,
        critic,
        layout=space.layout(),
        discrete_spans=space.discrete_spans(),
        cond_spans=[(o, o + k) for o, k in zip(offsets, ks)],
        noise_dim=noise_dim,
        n_classes=n_classes,
        pac=pac,
        mismatch_weight=mismatch_weight,
        noise_seed=noise_seed,
        steps=steps,
        batch_size=batch_size,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9),
    )
    draws = EpochDraws(
        lambda: draw_epoch(X, space, sampler, offsets, n_classes, batch_size, steps, rng)
    )
    with contextlib.redirect_stdout(sys.stderr):  # Keras's epoch lines: progress goes to stderr
        hist = gan.fit(
            tf.data.Dataset.range(steps).repeat(),
            epochs=int(epochs),
            steps_per_epoch=steps,
            verbose=verbose,
            shuffle=False,
            callbacks=[draws, averaging, TimeLimit(max_seconds), interrupt_callback()],
        )
    history = {name: [float(v) for v in hist.history[name]] for name in gan.trackers}
    return averaging.averaged, space, sampler, offsets, history


def draw_epoch(
    X: np.ndarray,
    space: TableSpace,
    sampler: CondSampler,
    offsets: list[int],
    n_classes: int,
    batch_size: int,
    steps: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One epoch's real rows (in the GAN representation) and their condition vectors, ``steps``
    batches of ``batch_size``: the conditions and matching real rows drawn at once
    (training-by-sampling), sorted by label within each batch so that each run of ``pac`` rows
    the critic judges together shares the label (as far as the batch allows) and the rare
    label's rows are compared with their own kind."""
    labels, cols, lev = sampler.conditions(steps * batch_size, rng)
    order = np.argsort(
        np.arange(len(labels)) // batch_size * (n_classes + 1) + labels, kind="stable"
    )
    labels, cols, lev = labels[order], cols[order], lev[order]
    rows = sampler.real_rows(labels, cols, lev, rng)
    real = space.encode(X[rows], rng)
    return real, sampler.cond_matrix(cols, lev, n_classes, labels, offsets, int(sum(sampler.ks)))


class EpochDraws(keras.callbacks.Callback):
    """Gives the model each epoch's batches (``TableGAN.set_epoch``) as the epoch begins, from
    ``draw`` (which returns the rows and their conditions)."""

    def __init__(self, draw):
        super().__init__()
        self.draw = draw

    def on_epoch_begin(self, epoch, logs=None):
        self.model.set_epoch(*self.draw())


def generate_rows(
    generator,
    space: TableSpace,
    sampler: CondSampler,
    offsets,
    n_classes: int,
    n: int,
    codes,
    rng: np.random.Generator,
    noise_dim: int,
    n_adapter_cols: int,
) -> np.ndarray:
    """n adapter-encoded rows from the generator: levels drawn at their real frequency within each
    row's label (``codes``, or label 0 without labels), then decoded with ``rng``."""
    labels, cols, lev = sampler.conditions(
        n, rng, labels=codes if n_classes else np.zeros(n, np.int64), log_frequency=False
    )
    cond_dim = int(sum(sampler.ks))
    C = sampler.cond_matrix(cols, lev, n_classes, labels, offsets, cond_dim)
    z = np.hstack([rng.standard_normal((n, noise_dim)).astype(np.float32), C])
    raw = np.asarray(generator.predict(z, batch_size=2000, verbose=0))
    return space.decode(raw, rng, n_adapter_cols)
