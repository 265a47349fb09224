"""How image models' default sizes follow the image size: the one rule every image plugin uses.

The built-in image defaults were chosen on 28x28 and 32x32 images (MNIST and colour patches). A
convolution's cost grows with the pixels, so larger images keep those defaults' cost per image
rather than their epochs:

- ``scaled_epochs(base, shape, n_images, batch_size, min_steps)``: ``base`` epochs up to 32x32
  pixels, and above that fewer in proportion to the pixels (a 64x64 image has four times as many:
  a quarter of the epochs). A small set makes few batches per epoch, so the epochs also give at
  least ``min_steps`` batches, scaled by the pixels in the same way: 300 images at 3 batches an
  epoch would otherwise train too few steps to learn anything. The channels do not count: they
  change only the first and last layers' cost.
  (The conv autoencoder's own floor, ``IMAGE_MIN_STEPS`` in ``synthkit_plugins/autoencoder/training.py``,
  is not scaled down by the pixels: it measured better with more steps on 64x64 colour images.)
- ``latent_size(shape)``: the conv autoencoder's bottleneck for ``latent_dim="auto"``: one code
  number for about every 24 values of an image (h * w * c), as a power of two from 32 to 128: 32 on
  MNIST's 28x28x1 and grey images up to 32x32, 128 on colour images from 28x28 and grey from 48x48.
- ``strided_layers(shape)``: how many stride-2 convolutions bring the short side to 8 pixels or
  fewer (at least two): 2 up to 32 pixels, 3 up to 64, 4 up to 128.
"""

from __future__ import annotations

import math

REFERENCE_PIXELS = 32 * 32
SMALLEST_MAP = 8


def scaled_epochs(
    base: int, shape, n_images: int = 0, batch_size: int = 1, min_steps: int = 0
) -> int:
    """``base`` epochs for images of up to 32x32 pixels, proportionally fewer above, and enough for
    ``min_steps`` batches of ``batch_size`` (scaled by the pixels too) on ``n_images`` images."""
    share = min(1.0, REFERENCE_PIXELS / max(int(shape[0]) * int(shape[1]), 1))
    epochs = max(1, round(int(base) * share))
    if min_steps and n_images:
        per_epoch = max(1, math.ceil(int(n_images) / int(batch_size)))
        epochs = max(epochs, math.ceil(int(min_steps) * share / per_epoch))
    return epochs


def latent_size(shape, values_per_code: int = 24, smallest: int = 32, largest: int = 128) -> int:
    """The conv autoencoder's default bottleneck for images of ``shape`` (h, w, c): a power of two
    near ``h * w * c / values_per_code``, between ``smallest`` and ``largest``."""
    values = int(shape[0]) * int(shape[1]) * (int(shape[2]) if len(shape) > 2 else 1)
    return int(min(largest, max(smallest, 2 ** round(math.log2(max(values, 1) / values_per_code)))))


def strided_layers(shape, minimum: int = 2) -> int:
    """Stride-2 convolutions that bring the short side of ``shape`` (h, w, ...) to 8 pixels or fewer."""
    short = min(int(shape[0]), int(shape[1]))
    return max(int(minimum), math.ceil(math.log2(max(short, 1) / SMALLEST_MAP)))
