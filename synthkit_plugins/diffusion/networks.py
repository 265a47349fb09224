"""Keras networks of the diffusion plugin: the noise-level/class embedding, the U-Net (images, on
the autoencoder's latent grid), the residual MLP (tables, after TabDDPM) and the small convolutional
denoising autoencoder whose bottleneck the image diffusion runs in, and the full-resolution pixel
denoiser behind ``denoise``.

Every denoiser takes ``[x_t, t, y]``: the noisy input, the diffusion time ``t`` in [0, 1] (shape
(n, 1)) and the class code ``y`` (shape (n,); code ``n_classes`` is the "no label" class used for
classifier-free guidance, and the only class of an unconditional model). It predicts ``v``.

This module imports Keras at the top; the plugin imports it only when a model is built.
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops


class SinusoidalEmbedding(layers.Layer):
    """Transformer-style sinusoidal features of the diffusion time t in [0, 1] (scaled by 1000)."""

    def __init__(self, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)

    def call(self, t):
        half = self.dim // 2
        freqs = ops.exp(-math.log(10000.0) * ops.arange(half, dtype="float32") / half)
        args = ops.cast(t, "float32") * 1000.0 * ops.expand_dims(freqs, 0)
        return ops.concatenate([ops.sin(args), ops.cos(args)], axis=-1)


def _embedding(t_in, y_in, n_classes: int, dim: int):
    """Time embedding (sinusoid -> MLP) plus a learned class embedding (n_classes + 1 rows)."""
    e = SinusoidalEmbedding(dim, name="time_sinusoid")(t_in)
    e = layers.Dense(dim, activation="swish", name="time_dense_0")(e)
    e = layers.Dense(dim, name="time_dense_1")(e)
    c = layers.Embedding(n_classes + 1, dim, name="class_embedding")(y_in)
    return layers.Activation("swish", name="embedding")(layers.Add(name="time_plus_class")([e, c]))


def _groups(width: int) -> int:
    for g in (8, 4, 2, 1):
        if width % g == 0:
            return g
    return 1


def _res_block(x, emb, width: int, name: str):
    """GroupNorm-swish-conv, plus the projected embedding, GroupNorm-swish-conv, residual skip."""
    skip = x if x.shape[-1] == width else layers.Conv2D(width, 1, name=f"{name}_skip")(x)
    h = layers.GroupNormalization(_groups(x.shape[-1]), name=f"{name}_norm0")(x)
    h = layers.Activation("swish")(h)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv0")(h)
    e = layers.Dense(width, name=f"{name}_emb")(emb)
    h = layers.Add()([h, layers.Reshape((1, 1, width))(e)])
    h = layers.GroupNormalization(_groups(width), name=f"{name}_norm1")(h)
    h = layers.Activation("swish")(h)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv1")(h)
    return layers.Add(name=f"{name}_out")([skip, h])


def build_unet(
    shape, n_classes: int, widths=(64, 128), blocks: int = 2, emb_dim: int = 128
) -> keras.Model:
    """A U-Net v-predictor on (h, w, c) inputs; h and w must be divisible by 2 ** (len(widths) - 1).

    Down path: per level ``blocks`` residual blocks (time and class embedding added in each), then a
    strided convolution; a middle pair of blocks; the up path mirrors it with skip concatenations
    and nearest-neighbour up-sampling. The output convolution starts at zero.
    """
    h, w, c = (int(v) for v in shape)
    x_in = keras.Input(shape=(h, w, c), name="x_t")
    t_in = keras.Input(shape=(1,), name="t")
    y_in = keras.Input(shape=(), dtype="int32", name="y")
    emb = _embedding(t_in, y_in, n_classes, emb_dim)
    x = layers.Conv2D(int(widths[0]), 3, padding="same", name="in_conv")(x_in)
    skips = []
    for i, width in enumerate(widths):
        if i > 0:
            x = layers.Conv2D(int(width), 3, strides=2, padding="same", name=f"down_{i}")(x)
        for b in range(blocks):
            x = _res_block(x, emb, int(width), f"d{i}_{b}")
            skips.append(x)
    x = _res_block(x, emb, int(widths[-1]), "mid_0")
    x = _res_block(x, emb, int(widths[-1]), "mid_1")
    for i in reversed(range(len(widths))):
        for b in range(blocks):
            x = layers.Concatenate()([x, skips.pop()])
            x = _res_block(x, emb, int(widths[i]), f"u{i}_{b}")
        if i > 0:
            x = layers.UpSampling2D(2, name=f"up_{i}")(x)
    x = layers.GroupNormalization(_groups(int(widths[0])), name="out_norm")(x)
    x = layers.Activation("swish")(x)
    out = layers.Conv2D(c, 3, padding="same", kernel_initializer="zeros", name="out_conv")(x)
    return keras.Model([x_in, t_in, y_in], out, name="unet")


def build_mlp(
    n_features: int, n_classes: int, width: int = 256, blocks: int = 3, emb_dim: int = 128
) -> keras.Model:
    """TabDDPM-style denoiser for table rows: a residual MLP with the embedding added to its input."""
    x_in = keras.Input(shape=(int(n_features),), name="x_t")
    t_in = keras.Input(shape=(1,), name="t")
    y_in = keras.Input(shape=(), dtype="int32", name="y")
    emb = _embedding(t_in, y_in, n_classes, emb_dim)
    h = layers.Dense(width, name="in_dense")(x_in)
    h = layers.Add()([h, layers.Dense(width, name="in_emb")(emb)])
    for b in range(blocks):
        r = layers.LayerNormalization(name=f"block{b}_norm")(h)
        r = layers.Dense(width * 2, activation="swish", name=f"block{b}_dense0")(r)
        r = layers.Dense(width, name=f"block{b}_dense1")(r)
        h = layers.Add(name=f"block{b}_out")([h, r])
    h = layers.Activation("swish")(layers.LayerNormalization(name="out_norm")(h))
    out = layers.Dense(int(n_features), kernel_initializer="zeros", name="out_dense")(h)
    return keras.Model([x_in, t_in, y_in], out, name="mlp")


def latent_grid(shape, downsample: int = 4, multiple: int = 8):
    """(padding, latent (h, w)): images are zero-padded to a multiple of ``multiple`` pixels."""
    h, w, _ = (int(v) for v in shape)
    ph, pw = (-h) % multiple, (-w) % multiple
    pad = ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2))
    return pad, ((h + ph) // downsample, (w + pw) // downsample)


def build_autoencoder(shape, latent_channels: int = 4, width: int = 16):
    """(encoder, decoder): strided convolutions (``width``, then 2x and 4x as many channels) down
    to a (h/4, w/4, ``latent_channels``) grid, and transposed convolutions back up to a sigmoid
    image; zero padding to a multiple of 8 pixels on the way in, cropped off on the way out. Kept
    narrow at full resolution: on two CPU cores the 32x32 layers dominate the cost."""
    h, w, c = (int(v) for v in shape)
    pad, (lh, lw) = latent_grid(shape)
    x_in = keras.Input(shape=(h, w, c), name="image")
    x = layers.ZeroPadding2D(pad, name="pad")(x_in)
    x = layers.Conv2D(width, 3, strides=2, padding="same", activation="swish", name="enc_conv0")(x)
    x = layers.Conv2D(
        width * 2, 3, strides=2, padding="same", activation="swish", name="enc_conv1"
    )(x)
    x = layers.Conv2D(width * 4, 3, padding="same", activation="swish", name="enc_conv2")(x)
    z = layers.Conv2D(int(latent_channels), 1, name="latent")(x)
    encoder = keras.Model(x_in, z, name="encoder")
    z_in = keras.Input(shape=(lh, lw, int(latent_channels)), name="latent")
    x = layers.Conv2D(width * 4, 3, padding="same", activation="swish", name="dec_conv0")(z_in)
    x = layers.Conv2DTranspose(
        width * 2, 3, strides=2, padding="same", activation="swish", name="dec_up0"
    )(x)
    x = layers.Conv2DTranspose(
        width, 3, strides=2, padding="same", activation="swish", name="dec_up1"
    )(x)
    x = layers.Conv2D(width, 3, padding="same", activation="swish", name="dec_conv1")(x)
    x = layers.Conv2D(c, 3, padding="same", activation="sigmoid", name="dec_out")(x)
    x = layers.Cropping2D(pad, name="crop")(x)
    decoder = keras.Model(z_in, x, name="decoder")
    return encoder, decoder


def build_pixel_denoiser(shape, width: int = 16):
    """A two-level U-Net at full resolution for ``denoise``: it takes the noisy image with a map of
    its noise level as one more channel (FFDNet's trick: one network for every level) and returns
    the clean image. Two 3x3 convolutions at full size, three at half size, one transposed
    convolution back up joined with the full-size features; odd sizes are padded and cropped."""
    h, w, c = (int(v) for v in shape)
    pad = ((0, h % 2), (0, w % 2))
    x_in = keras.Input(shape=(h, w, c + 1), name="noisy_and_level")
    x = layers.ZeroPadding2D(pad, name="px_pad")(x_in) if h % 2 or w % 2 else x_in
    a = layers.Conv2D(width, 3, padding="same", activation="swish", name="px_conv0")(x)
    a = layers.Conv2D(width, 3, padding="same", activation="swish", name="px_conv1")(a)
    b = layers.Conv2D(width * 2, 3, strides=2, padding="same", activation="swish", name="px_down")(
        a
    )
    b = layers.Conv2D(width * 2, 3, padding="same", activation="swish", name="px_mid0")(b)
    b = layers.Conv2D(width * 2, 3, padding="same", activation="swish", name="px_mid1")(b)
    u = layers.Conv2DTranspose(
        width, 3, strides=2, padding="same", activation="swish", name="px_up"
    )(b)
    u = layers.Concatenate(name="px_skip")([u, a])
    u = layers.Conv2D(width, 3, padding="same", activation="swish", name="px_conv2")(u)
    out = layers.Conv2D(c, 3, padding="same", activation="sigmoid", name="px_out")(u)
    if h % 2 or w % 2:
        out = layers.Cropping2D(pad, name="px_crop")(out)
    return keras.Model(x_in, out, name="pixel_denoiser")


def weighted_layers(model) -> list:
    """The layers holding weights, input to output."""
    return [layer for layer in model.layers if layer.weights]
