"""The table GAN's networks and its Keras model: a CTGAN-style WGAN-GP whose ``train_step`` trains
the critic, then the generator, on a batch of real rows and their condition vectors.

- Generator: CTGAN's residual layers (concat(x, relu(batchnorm(dense(x))))) from (noise,
  condition) to raw outputs; ``TableGAN`` activates them as the ``TableSpace`` layout says (tanh for
  alpha, a Gumbel-softmax for modes and levels) and penalises (cross-entropy) a row that does not
  show the level its condition asks for.
- WGAN-GP critic with PacGAN (``pac`` rows judged together, beside their conditions), Adam(2e-4,
  0.5, 0.9), as in CTGAN; unlike CTGAN, each pack holds rows of one label (``table.py`` sorts the
  rows by label within a batch), so the rare label's rows are compared with their own kind.
- A matching-aware critic (GAN-CLS, Reed et al. 2016), when there is a class label: real rows
  shown with a wrong label are a second kind of fake, weighted ``mismatch_weight``, so the critic
  must judge whether a row fits its label, not only whether it looks real (it raised the average
  precision of a classifier trained with added fraud rows, at a cost in the columns' KS; see
  benchmarks/README.md).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

HIDDEN = (256, 256)  # units of the generator's residual layers and of the critic's layers
GP_WEIGHT = 10.0  # weight of the WGAN-GP gradient penalty
GUMBEL_TEMPERATURE = 0.2


def build_generator(
    noise_dim: int, cond_dim: int, data_dim: int, hidden: tuple = HIDDEN
) -> keras.Model:
    """(noise, condition) -> raw outputs, through CTGAN's residual layers."""
    z = keras.Input(shape=(noise_dim + cond_dim,))
    x = z
    for units in hidden:  # CTGAN's residual layers: concat(x, relu(bn(dense(x))))
        h = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(layers.Dense(units)(x)))
        x = layers.Concatenate()([x, h])
    return keras.Model(z, layers.Dense(data_dim)(x), name="table_generator")


def build_critic(cond_dim: int, data_dim: int, pac: int, hidden: tuple = HIDDEN) -> keras.Model:
    """A pack of ``pac`` (row, condition) pairs, flattened -> one score."""
    inp = keras.Input(shape=(pac * (data_dim + cond_dim),))
    x = inp
    for units in hidden:
        x = layers.Dropout(0.5)(layers.LeakyReLU(0.2)(layers.Dense(units)(x)))
    return keras.Model(inp, layers.Dense(1)(x), name="table_critic")


class TableGAN(keras.Model):
    """WGAN-GP on (row, condition) batches: each training step runs one critic step and one
    generator step on one batch of the epoch's real rows and condition vectors, and tracks their
    losses and the critic's mean score of real and generated packs.

    An epoch's ``steps`` batches of ``batch_size`` rows are drawn beforehand (``set_epoch``, from
    a callback at the start of each epoch); ``fit`` runs on the batch numbers (``0 .. steps - 1``,
    repeated), so the input pipeline is TensorFlow's own: a Python generator in it (``from_generator``)
    made every training step much slower.

    ``layout`` and ``discrete_spans`` describe the generator's outputs (``TableSpace``),
    ``cond_spans`` where each discrete column's levels sit in the condition vector (the first
    ``cond_dim`` entries; the ``n_classes`` label entries follow). ``noise_seed`` seeds the
    generator of the noise, the Gumbel draws and the penalty's mixing weights.
    """

    def __init__(
        self,
        generator,
        critic,
        *,
        layout,
        discrete_spans,
        cond_spans,
        noise_dim: int,
        n_classes: int,
        pac: int,
        mismatch_weight: float,
        noise_seed: int,
        steps: int,
        batch_size: int,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.critic = critic
        self.layout = tuple(layout)
        self.discrete_spans = tuple(discrete_spans)
        self.cond_spans = tuple(cond_spans)
        self.noise_dim = noise_dim
        self.cond_dim = sum(e - s for s, e in cond_spans)
        self.data_dim = sum(e - s for _, s, e in layout)
        self.pac = pac
        self.mismatch_weight = mismatch_weight
        self.use_mismatch = n_classes > 1 and mismatch_weight > 0
        self.full_cond = self.cond_dim + n_classes
        self.noise = tf.random.Generator.from_seed(noise_seed)
        self.epoch_rows = tf.Variable(tf.zeros((steps, batch_size, self.data_dim)), trainable=False)
        self.epoch_conditions = tf.Variable(
            tf.zeros((steps, batch_size, self.full_cond)), trainable=False
        )
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("d_loss", "g_loss", "critic_real", "critic_fake")
        }

    @property
    def metrics(self):
        """The trackers, which Keras resets at each epoch and reports in the history."""
        return list(self.trackers.values())

    def compile(self, d_optimizer, g_optimizer):
        """The critic's and the generator's optimizers. No XLA, which Keras otherwise turns on where
        there is a GPU and which changes the numbers a seed gives."""
        super().compile(jit_compile=False)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def _activate(self, raw):
        """Raw generator outputs to a row: tanh for alpha, a Gumbel-softmax for modes and levels."""
        parts = []
        for act, s, e in self.layout:
            if act == "tanh":
                parts.append(tf.tanh(raw[:, s:e]))
            else:
                u = self.noise.uniform(tf.shape(raw[:, s:e]), 1e-10, 1.0 - 1e-10)
                parts.append(
                    tf.nn.softmax((raw[:, s:e] - tf.math.log(-tf.math.log(u))) / GUMBEL_TEMPERATURE)
                )
        return tf.concat(parts, axis=1)

    def _packed(self, rows, cond):
        """Rows beside their conditions, ``pac`` consecutive ones per critic input."""
        return tf.reshape(
            tf.concat([rows, cond], axis=1), (-1, self.pac * (self.data_dim + self.full_cond))
        )

    def _penalty(self, real_packs, fake_packs):
        """WGAN-GP: the critic's gradient norm, pushed to 1, at a random point between each real and
        fake pack."""
        a = self.noise.uniform((tf.shape(real_packs)[0], 1))
        mix = a * real_packs + (1 - a) * fake_packs
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(mix)
            d_mix = self.critic(mix, training=True)
        grad = gp_tape.gradient(d_mix, mix)
        return tf.reduce_mean((tf.norm(grad + 1e-12, axis=1) - 1.0) ** 2)

    def _noise_and(self, cond):
        """Generator inputs: fresh noise beside the conditions."""
        return tf.concat([self.noise.normal((tf.shape(cond)[0], self.noise_dim)), cond], axis=1)

    def set_epoch(self, rows, conditions) -> None:
        """The next epoch's real rows and their condition vectors, ``steps * batch_size`` of each,
        batch after batch."""
        self.epoch_rows.assign(rows.reshape(self.epoch_rows.shape))
        self.epoch_conditions.assign(conditions.reshape(self.epoch_conditions.shape))

    def train_step(self, batch):
        real, cond = tf.gather(self.epoch_rows, batch), tf.gather(self.epoch_conditions, batch)
        n = tf.shape(real)[0]
        fake = self._activate(self.generator(self._noise_and(cond), training=True))
        with tf.GradientTape() as tape:
            real_packs, fake_packs = self._packed(real, cond), self._packed(fake, cond)
            d_real = self.critic(real_packs, training=True)
            d_fake = self.critic(fake_packs, training=True)
            d_loss = (
                tf.reduce_mean(d_fake)
                - tf.reduce_mean(d_real)
                + GP_WEIGHT * self._penalty(real_packs, fake_packs)
            )
            if (
                self.use_mismatch
            ):  # real rows shown with the next label count as fake (matching-aware critic)
                wrong = tf.concat(
                    [cond[:, : self.cond_dim], tf.roll(cond[:, self.cond_dim :], 1, axis=1)], axis=1
                )
                wrong_packs = self._packed(real, wrong)
                d_wrong = self.critic(wrong_packs, training=True)
                d_loss += self.mismatch_weight * (
                    tf.reduce_mean(d_wrong)
                    - tf.reduce_mean(d_real)
                    + GP_WEIGHT * self._penalty(real_packs, wrong_packs)
                )
        grads = tape.gradient(d_loss, self.critic.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.critic.trainable_weights))

        with tf.GradientTape() as tape:
            raw = self.generator(self._noise_and(cond), training=True)
            d_fake = self.critic(self._packed(self._activate(raw), cond), training=True)
            g_loss = -tf.reduce_mean(d_fake) + self._condition_loss(raw, cond) / tf.cast(
                n, tf.float32
            )
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        for name, value in (
            ("d_loss", d_loss),
            ("g_loss", g_loss),
            ("critic_real", tf.reduce_mean(d_real)),
            ("critic_fake", tf.reduce_mean(d_fake)),
        ):
            self.trackers[name].update_state(value)
        return {name: t.result() for name, t in self.trackers.items()}

    def _condition_loss(self, raw, cond):
        """Summed cross-entropy between each row's raw level logits and the level its condition asks
        for (only the column the condition picked counts)."""
        loss = 0.0
        for (s, e), (cs, ce) in zip(self.discrete_spans, self.cond_spans):
            target = cond[:, cs:ce]
            chosen = tf.reduce_sum(target, axis=1)
            loss += tf.reduce_sum(
                tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=raw[:, s:e]) * chosen
            )
        return loss
