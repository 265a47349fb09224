"""Class-conditional DCGAN for images: an AC-GAN (auxiliary classifier) in a keras.Model subclass.

Generator: (noise, one-hot class) -> dense -> 2 transposed convolutions (x2 up-sampling each) ->
sigmoid image in [0, 1]. Discriminator: 2 strided convolutions -> a real/fake logit and, when
conditional, a class head. Each ``train_step`` trains the discriminator on a real and a generated
batch, then the generator to fool it. Stabilisers (see the plugin README section for the why):

- auxiliary classifier (AC-GAN): the discriminator's class head learns on real images only, and the
  generator is trained to make its samples classified as the class asked for, so conditioning is
  learnt in a few epochs rather than inferred from the real/fake signal alone;
- one-sided label smoothing (real target 0.9);
- Adam with beta_1 = 0.5, and an exponential moving average (EMA) of the generator's weights,
  which is what ``sample`` uses.
"""

from __future__ import annotations

import contextlib
import math
import sys

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from synthkit.signals import interrupt_callback
from synthkit_plugins.gan.averaging import update_ema
from synthkit_plugins.gan.time_limit import TimeLimit


def build_generator(latent_dim: int, n_classes: int, shape, width: int = 32) -> keras.Model:
    h, w, c = shape
    bh, bw = math.ceil(h / 4), math.ceil(w / 4)
    z = keras.Input(shape=(latent_dim,), name="noise")
    inputs = [z]
    x = z
    if n_classes:
        label = keras.Input(shape=(n_classes,), name="label")
        inputs.append(label)
        x = layers.Concatenate()([z, label])
    x = layers.Dense(bh * bw * width * 2, use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((bh, bw, width * 2))(x)
    x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2DTranspose(c, 4, strides=2, padding="same", activation="sigmoid")(x)
    if (bh * 4, bw * 4) != (h, w):
        x = layers.Cropping2D(((0, bh * 4 - h), (0, bw * 4 - w)))(x)
    return keras.Model(inputs, x, name="generator")


def build_discriminator(n_classes: int, shape, width: int = 32) -> keras.Model:
    image = keras.Input(shape=tuple(shape), name="image")
    x = layers.Rescaling(2.0, offset=-1.0)(image)
    x = layers.Conv2D(width, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(width * 2, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    outputs = [layers.Dense(1, name="source")(x)]
    if n_classes:
        outputs.append(layers.Dense(n_classes, name="class")(x))
    return keras.Model(image, outputs, name="discriminator")


class ConditionalDCGAN(keras.Model):
    """AC-GAN: ``fit`` on images (and one-hot labels) trains D then G each step."""

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim: int,
        n_classes: int,
        seed: int | None = None,
        ema_decay: float = 0.995,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.n_classes = n_classes
        self.ema_decay = ema_decay
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.ema_generator = keras.models.clone_model(generator)
        self.ema_generator.set_weights(generator.get_weights())
        self.ema_step = tf.Variable(0.0, trainable=False, name="ema_step")
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("d_loss", "g_loss", "d_acc_real", "d_acc_fake")
        }

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def _gen_inputs(self, z, labels):
        return [z, labels] if self.n_classes else z

    def train_step(self, data):
        if self.n_classes:
            real, labels = data
        else:
            real, labels = data, None
        batch = tf.shape(real)[0]
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        cce = keras.losses.CategoricalCrossentropy(from_logits=True)

        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake = self.generator(self._gen_inputs(z, labels), training=True)
        with tf.GradientTape() as tape:
            out_real = self.discriminator(real, training=True)
            out_fake = self.discriminator(fake, training=True)
            src_real = out_real[0] if self.n_classes else out_real
            src_fake = out_fake[0] if self.n_classes else out_fake
            d_loss = bce(tf.fill(tf.shape(src_real), 0.9), src_real) + bce(
                tf.zeros_like(src_fake), src_fake
            )
            if self.n_classes:
                d_loss += cce(labels, out_real[1])
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake = self.generator(self._gen_inputs(z, labels), training=True)
            out = self.discriminator(fake, training=True)
            src = out[0] if self.n_classes else out
            g_loss = bce(tf.ones_like(src), src)
            if self.n_classes:
                g_loss += cce(labels, out[1])
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        update_ema(self.ema_generator, self.generator, self.ema_step, self.ema_decay)

        self.trackers["d_loss"].update_state(d_loss)
        self.trackers["g_loss"].update_state(g_loss)
        self.trackers["d_acc_real"].update_state(tf.reduce_mean(tf.cast(src_real > 0, tf.float32)))
        self.trackers["d_acc_fake"].update_state(tf.reduce_mean(tf.cast(src_fake < 0, tf.float32)))
        return {name: t.result() for name, t in self.trackers.items()}


def fit_image_gan(
    X: np.ndarray,
    codes,
    n_classes: int,
    *,
    epochs: int,
    batch_size: int,
    latent_dim: int,
    learning_rate: float,
    width: int,
    ema_decay: float,
    seed,
    verbose: int,
    max_seconds,
):
    """Train; returns (ema generator, history dict of per-epoch lists)."""
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    shape = X.shape[1:]
    gen = build_generator(latent_dim, n_classes, shape, width)
    disc = build_discriminator(n_classes, shape, width)
    gan = ConditionalDCGAN(gen, disc, latent_dim, n_classes, seed=seed, ema_decay=ema_decay)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
    )
    batch_size = int(min(batch_size, len(X)))
    if n_classes:
        onehot = np.eye(n_classes, dtype=np.float32)[codes]
        ds = tf.data.Dataset.from_tensor_slices((X, onehot))
    else:
        ds = tf.data.Dataset.from_tensor_slices(X)
    ds = ds.shuffle(len(X), seed=seed, reshuffle_each_iteration=True).batch(
        batch_size, drop_remainder=True
    )
    ds = ds.prefetch(tf.data.AUTOTUNE)
    with contextlib.redirect_stdout(sys.stderr):  # Keras's epoch lines: progress goes to stderr
        hist = gan.fit(
            ds,
            epochs=int(epochs),
            verbose=verbose,
            shuffle=False,
            callbacks=[TimeLimit(max_seconds), interrupt_callback()],
        )
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    return gan.ema_generator, history


def generate_images(
    generator, z: np.ndarray, codes, n_classes: int, batch_size: int = 500
) -> np.ndarray:
    inputs = [z, np.eye(n_classes, dtype=np.float32)[codes]] if n_classes else z
    return np.asarray(generator.predict(inputs, batch_size=batch_size, verbose=0))
