"""Keras sub-networks for the autoencoder plugin, keras-io style: encoders and decoders built
separately, then joined; the variational autoencoder is a ``keras.Model`` subclass with its own
``train_step``/``test_step`` and loss trackers.

This module imports Keras at the top: the plugin imports it only when a model is built.
"""

from __future__ import annotations

import functools
import math

import keras
import numpy as np
from keras import layers, ops

EPS = 1e-7


# -- dense (tables, or flattened images) ----------------------------------------------------------
def dense_encoder(
    n_features: int,
    hidden_units,
    latent_dim: int,
    dropout: float = 0.0,
    outputs: int = 1,
    members: int = 1,
):
    """``outputs=1``: one bottleneck; ``outputs=2``: (z_mean, z_log_var) for the VAE.

    ``members`` > 1 (one output only): that many independent encoders side by side on the same
    input (``MemberDense`` layers), their codes concatenated member by member, ``latent_dim`` each.
    """
    inputs = keras.Input(shape=(n_features,), name="features")
    if members == 1:
        dense, x = layers.Dense, inputs
    else:
        dense = functools.partial(MemberDense, int(members))
        x = layers.Reshape((1, n_features), name="enc_members")(inputs)  # broadcast to every member
    for i, units in enumerate(hidden_units):
        x = dense(int(units), activation="relu", name=f"enc_dense_{i}")(x)
        if dropout:
            x = layers.Dropout(float(dropout), name=f"enc_dropout_{i}")(x)
    if members == 1:
        return keras.Model(inputs, _heads(x, latent_dim, outputs), name="encoder")
    codes = dense(int(latent_dim), name="bottleneck")(x)
    return keras.Model(
        inputs,
        layers.Reshape((int(members) * int(latent_dim),), name="codes")(codes),
        name="encoder",
    )


def dense_decoder(
    n_features: int, hidden_units, latent_dim: int, output_activation: str | None, members: int = 1
):
    """``members`` > 1: member m decodes its slice of the concatenated codes; the reconstructions
    are concatenated member by member, shape (n, members * n_features)."""
    inputs = keras.Input(shape=(int(latent_dim) * int(members),), name="code")
    if members == 1:
        dense, x = layers.Dense, inputs
    else:
        dense = functools.partial(MemberDense, int(members))
        x = layers.Reshape((int(members), int(latent_dim)), name="dec_members")(inputs)
    for i, units in enumerate(reversed(list(hidden_units))):
        x = dense(int(units), activation="relu", name=f"dec_dense_{i}")(x)
    x = dense(n_features, activation=output_activation, name="reconstruction")(x)
    if members > 1:
        x = layers.Reshape((int(members) * n_features,), name="reconstructions")(x)
    return keras.Model(inputs, x, name="decoder")


class MemberDense(layers.Layer):
    """``members`` independent dense layers side by side, in one batched matrix product.

    Input (batch, members, in) (or (batch, 1, in), shared by all), output (batch, members, units):
    member m applies only its own kernel ``kernel[m]``, Glorot-uniform for its (in, units) shape,
    and bias. Training an ensemble of small networks this way costs little more than one network
    on a CPU, and less than a separate branch of layers per member.
    """

    def __init__(self, members: int, units: int, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.members = int(members)
        self.units = int(units)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        limit = math.sqrt(6.0 / (fan_in + self.units))
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.members, fan_in, self.units),
            initializer=keras.initializers.RandomUniform(-limit, limit),
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.members, self.units), initializer="zeros"
        )

    def call(self, x):
        if x.shape[1] == 1:  # one input for all members
            y = ops.einsum("bi,mio->bmo", x[:, 0], self.kernel)
        else:
            y = ops.einsum("bmi,mio->bmo", x, self.kernel)
        return self.activation(y + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.members, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "members": self.members,
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
        }


# -- convolutional (images) ----------------------------------------------------------------------
def conv_encoder(shape, filters, latent_dim: int, outputs: int = 1):
    """Strided 3x3 convolutions (each halves height and width), then a dense bottleneck."""
    inputs = keras.Input(shape=tuple(shape), name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv2D(
            int(f), 3, strides=2, padding="same", activation="relu", name=f"enc_conv_{i}"
        )(x)
    x = layers.Flatten(name="enc_flatten")(x)
    return keras.Model(inputs, _heads(x, latent_dim, outputs), name="encoder")


def conv_decoder(shape, filters, latent_dim: int):
    """Dense to a small feature map, transposed convolutions back up, cropped to the input size."""
    h, w, c = (int(v) for v in shape)
    scale = 2 ** len(filters)
    gh, gw = math.ceil(h / scale), math.ceil(w / scale)
    filters = list(filters)
    inputs = keras.Input(shape=(int(latent_dim),), name="code")
    x = layers.Dense(gh * gw * int(filters[-1]), activation="relu", name="dec_dense")(inputs)
    x = layers.Reshape((gh, gw, int(filters[-1])), name="dec_reshape")(x)
    for i, f in enumerate(reversed(filters)):
        x = layers.Conv2DTranspose(
            int(f), 3, strides=2, padding="same", activation="relu", name=f"dec_deconv_{i}"
        )(x)
    if gh * scale != h or gw * scale != w:
        x = layers.Cropping2D(((0, gh * scale - h), (0, gw * scale - w)), name="dec_crop")(x)
    outputs = layers.Conv2D(c, 3, padding="same", activation="sigmoid", name="reconstruction")(x)
    return keras.Model(inputs, outputs, name="decoder")


def _heads(x, latent_dim: int, outputs: int):
    if outputs == 1:
        return layers.Dense(int(latent_dim), name="bottleneck")(x)
    z_mean = layers.Dense(int(latent_dim), name="z_mean")(x)
    z_log_var = layers.Dense(int(latent_dim), name="z_log_var", kernel_initializer="zeros")(x)
    return [z_mean, z_log_var]


# -- joined models ---------------------------------------------------------------------------------
def autoencoder(
    encoder, decoder, input_shape, noise_std: float = 0.0, seed=None, name: str = "autoencoder"
):
    """encoder -> decoder; with ``noise_std`` > 0 a GaussianNoise layer corrupts the inputs during
    training only (a denoising autoencoder: noisy inputs, clean targets)."""
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = (
        layers.GaussianNoise(float(noise_std), seed=seed, name="corrupt")(inputs)
        if noise_std
        else inputs
    )
    return keras.Model(inputs, decoder(encoder(x)), name=name)


def bernoulli_nll(x, r):
    """Elementwise binary cross-entropy of data x in [0, 1] under reconstruction r (clipped)."""
    r = ops.clip(r, EPS, 1.0 - EPS)
    return -(x * ops.log(r) + (1.0 - x) * ops.log(1.0 - r))


def trimmed_loss(trim: float, bernoulli: bool, members: int = 1):
    """The batch's reconstruction loss (binary cross-entropy if ``bernoulli``, else squared error),
    averaged over its best-reconstructed ``1 - trim`` share of rows only (loss truncation).

    The rows left out get no gradient in that step: on an unlabelled table the outliers are the
    rows the network reconstructs worst, so it does not learn to reconstruct them. With
    ``members`` > 1, ``y_pred`` holds the members' reconstructions concatenated (see
    ``dense_decoder``): each member leaves out its own worst rows, and the members' losses are
    averaged, so each member trains as it would alone.
    """
    keep = 1.0 - float(trim)

    def loss(y_true, y_pred):
        n = ops.shape(y_true)[0]
        y_true = ops.reshape(y_true, (n, 1, -1))
        y_pred = ops.reshape(y_pred, (n, int(members), -1))
        per = bernoulli_nll(y_true, y_pred) if bernoulli else ops.square(y_true - y_pred)
        per = ops.mean(per, axis=2)  # (rows, members)
        k = ops.maximum(1, ops.cast(ops.ceil(keep * ops.cast(n, "float32")), "int32"))
        return ops.mean(ops.sort(per, axis=0)[:k])

    loss.__name__ = f"trimmed_{'bce' if bernoulli else 'mse'}"
    return loss


class Sampling(layers.Layer):
    """z = z_mean + exp(z_log_var / 2) * eps, eps ~ N(0, I) (the reparameterisation trick)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


class VAE(keras.Model):
    """A variational autoencoder (Kingma & Welling 2014), after the keras-io example.

    Loss per sample = reconstruction negative log-likelihood summed over features (Bernoulli, i.e.
    binary cross-entropy, for data in [0, 1]; unit-variance Gaussian, 0.5 * squared error, otherwise)
    + ``beta`` * KL(q(z|x) || N(0, I)). ``call`` returns the reconstruction of the posterior mean.
    """

    def __init__(self, encoder, decoder, bernoulli: bool, beta: float = 1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.bernoulli = bool(bernoulli)
        self.beta = float(beta)
        self.sampler = Sampling(seed=seed, name="sampling")
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    def build(self, input_shape=None):  # the encoder and decoder are built functional models
        self.built = True

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, x, training=False):
        z_mean, _ = self.encoder(x, training=training)
        return self.decoder(z_mean, training=training)

    def per_sample_losses(self, x, sample: bool = True):
        """(reconstruction NLL, KL) per sample; ``sample=False`` decodes the posterior mean."""
        z_mean, z_log_var = self.encoder(x)
        z = self.sampler([z_mean, z_log_var]) if sample else z_mean
        r = self.decoder(z)
        axes = tuple(range(1, len(x.shape)))
        if self.bernoulli:
            rec = ops.sum(bernoulli_nll(x, r), axis=axes)
        else:
            rec = 0.5 * ops.sum(ops.square(x - r), axis=axes)
        kl = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)
        return rec, kl

    def _update(self, rec, kl):
        total = ops.mean(rec + self.beta * kl)
        self.total_loss_tracker.update_state(total)
        self.reconstruction_loss_tracker.update_state(ops.mean(rec))
        self.kl_loss_tracker.update_state(ops.mean(kl))
        return total

    def train_step(self, data):
        import tensorflow as tf

        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            rec, kl = self.per_sample_losses(x)
            total = ops.mean(rec + self.beta * kl)
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self._update(rec, kl)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        rec, kl = self.per_sample_losses(x)
        self._update(rec, kl)
        return {m.name: m.result() for m in self.metrics}


class WeightAveraging(keras.callbacks.Callback):
    """Stochastic weight averaging (Izmailov et al. 2018): from epoch ``start`` (1-based) on, keep
    the running mean of the weights at each epoch's end, and leave the model holding that mean when
    training ends. If training ends before ``start`` (early stopping), the model is left as it is."""

    def __init__(self, start: int):
        super().__init__()
        self.start = int(start)
        self.sums = None
        self.count = 0

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 < self.start:
            return
        weights = self.model.get_weights()
        if self.sums is None:
            self.sums = [np.array(w, np.float64) for w in weights]
        else:
            for total, w in zip(self.sums, weights):
                total += w
        self.count += 1

    def on_train_end(self, logs=None):
        if self.count:
            self.model.set_weights([(total / self.count).astype(np.float32) for total in self.sums])


def trainable_layers(model) -> list:
    """The layers holding weights, input to output, flattening nested sub-models."""
    out = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out += trainable_layers(layer)
        elif layer.weights:
            out.append(layer)
    return out
