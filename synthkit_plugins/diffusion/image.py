"""The image half of the diffusion plugin: the latent autoencoder, the pixel denoiser, the noise
calibration and denoising.

Latent diffusion: a small convolutional denoising autoencoder maps each image to a (h/4, w/4,
``latent_channels``) grid (28x28 MNIST: zero-padded to 32x32, an 8x8x4 latent); a U-Net learns the
reverse diffusion process on the standardised latents. ``denoise`` uses a separate small
full-resolution U-Net told the noise level: the latent code is too coarse to keep strokes sharp,
so the autoencoder alone denoises blurrily. Sampling never uses that pixel denoiser.

Images here are the adapter's float arrays (n, h, w, c) in [0, 1].
"""

from __future__ import annotations

import numpy as np

from synthkit.base import restore_network
from synthkit_plugins.diffusion import model as dm
from synthkit_plugins.diffusion import networks

# The pixel denoiser trains on small batches with a cosine-decayed rate: on MNIST that gained more
# PSNR than larger batches at a constant rate (the gain as benchmarks/diffusion_mnist.py measures it).
DENOISER_BATCH = 32
PREDICT_BATCH = 500


def fit_autoencoder(
    X: np.ndarray,
    latent_channels: int,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    rng: np.random.Generator,
    seed,
    max_seconds,
    verbose: int,
) -> tuple:
    """(encoder, decoder, losses): the latent denoising autoencoder, trained on ``X``."""
    encoder, decoder = networks.build_autoencoder(X.shape[1:], latent_channels)
    trainer = dm.DenoisingTrainer(dm.chained(encoder, decoder), seed=seed)
    trainer.compile(optimizer=dm.make_optimizer(learning_rate))
    history = dm.train(
        trainer,
        X,
        None,
        epochs,
        batch_size,
        rng,
        max_seconds=max_seconds,
        verbose=verbose,
        name="autoencoder",
    )
    return encoder, decoder, history.get("loss", [])


def encode(encoder, X: np.ndarray) -> np.ndarray:
    """The latent codes of images."""
    return np.asarray(encoder.predict(X, batch_size=PREDICT_BATCH, verbose=0), dtype=np.float32)


def decode(decoder, Z: np.ndarray) -> np.ndarray:
    """Images from latent codes."""
    return np.asarray(decoder.predict(Z, batch_size=PREDICT_BATCH, verbose=0), dtype=np.float32)


def latent_scale(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) of latent codes per channel: the diffusion runs on codes standardised by them."""
    axes = tuple(range(Z.ndim - 1))
    return Z.mean(axis=axes).astype(np.float32), np.maximum(Z.std(axis=axes), 1e-6).astype(
        np.float32
    )


def standardise(Z: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Latent codes as the diffusion sees them."""
    return ((Z - mean) / std).astype(np.float32)


def build_denoiser(shape, n_classes: int, widths: tuple):
    """The U-Net that predicts v on the standardised latent grid."""
    return networks.build_unet(shape, n_classes, widths=widths)


def fit_pixel_denoiser(
    X: np.ndarray,
    epochs: int,
    learning_rate: float,
    rng: np.random.Generator,
    seed,
    max_seconds,
    verbose: int,
) -> tuple:
    """(network, losses): the full-resolution denoiser behind ``denoise``, trained on clean ``X``."""
    network = networks.build_pixel_denoiser(X.shape[1:])
    trainer = dm.DenoisingTrainer(network, level_input=True, seed=seed)
    batch = min(DENOISER_BATCH, len(X))
    trainer.compile(
        optimizer=dm.make_optimizer(learning_rate, decay_steps=epochs * max(1, len(X) // batch))
    )
    history = dm.train(
        trainer,
        X,
        None,
        epochs,
        batch,
        rng,
        max_seconds=max_seconds,
        verbose=verbose,
        name="pixel denoiser",
    )
    return network, history.get("loss", [])


def to_uint8(X: np.ndarray) -> np.ndarray:
    """Images in [0, 1] as uint8 0..255 (a quarter of float32's memory; exact for uint8 sources)."""
    return np.round(np.clip(X, 0.0, 1.0) * 255).astype(np.uint8)


def calibrate_denoising(
    encoder,
    X: np.ndarray,
    latent_mean: np.ndarray,
    latent_std: np.ndarray,
    rng: np.random.Generator,
) -> tuple:
    """(noise levels, noise statistic per level, relative latent error per level): the first two
    estimate an unknown noise level, the third sets where the latent refinement of ``denoise``
    starts."""
    from synthkit_plugins.diffusion import noise

    levels, stats = noise.calibrate(X, rng)
    ref = X[rng.choice(len(X), min(256, len(X)), replace=False)]
    batch = np.concatenate([ref] + [noise.add_noise(ref, s, rng) for s in levels])
    z = standardise(encode(encoder, batch), latent_mean, latent_std).reshape(
        len(levels) + 1, len(ref), -1
    )
    errors = ((z[1:] - z[:1]) ** 2).mean(axis=(1, 2))
    return levels, stats, np.maximum.accumulate(errors.astype(np.float64))


def denoise_pixels(pixel_denoiser, X: np.ndarray, noise_std: float) -> np.ndarray:
    """Clean images from the pixel denoiser, told the noise level."""
    return np.asarray(
        pixel_denoiser.predict(dm.with_level(X, noise_std), batch_size=PREDICT_BATCH, verbose=0),
        dtype=np.float32,
    )


def denoise_latents(
    X: np.ndarray,
    noise_std: float,
    steps: int,
    encoder,
    decoder,
    latent_mean: np.ndarray,
    latent_std: np.ndarray,
    noise_levels: np.ndarray,
    latent_error: np.ndarray,
    refine,
) -> np.ndarray:
    """Clean images through the latent autoencoder. With ``steps`` > 0 the code is taken as a
    diffusion sample at the level that matches the encoder's calibrated error at ``noise_std``, and
    ``refine(x_t, t_start)`` (DDIM of the unconditional model) takes it to time 0 before decoding."""
    Z = encode(encoder, X)
    if steps > 0 and noise_std > 0:
        rel = float(np.interp(noise_std, noise_levels, latent_error))
        alpha = 1.0 / np.sqrt(1.0 + rel)
        x_t = (alpha * (Z - latent_mean) / latent_std).astype(np.float32)
        Z = refine(x_t, dm.time_for_alpha(alpha)) * latent_std + latent_mean
    return decode(decoder, Z)


def fine_tune_denoisers(
    encoder,
    decoder,
    pixel_denoiser,
    X: np.ndarray,
    last: int | None,
    learning_rate: float,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    seed,
    verbose: int,
) -> dict:
    """Retrain the last ``last`` weighted layers of the autoencoder and, when there is one, of the
    pixel denoiser on clean ``X``; their losses as ``history_`` entries."""
    retrain = dict(
        last=last,
        X=X,
        y=None,
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
        learning_rate=learning_rate,
        verbose=verbose,
    )
    losses = {
        "finetune_ae_loss": dm.retrain_last_layers(
            dm.DenoisingTrainer(dm.chained(encoder, decoder), seed=seed),
            networks.weighted_layers(encoder) + networks.weighted_layers(decoder),
            name="fine-tune autoencoder",
            **retrain,
        )
    }
    if pixel_denoiser is not None:
        losses["finetune_denoiser_loss"] = dm.retrain_last_layers(
            dm.DenoisingTrainer(pixel_denoiser, level_input=True, seed=seed),
            networks.weighted_layers(pixel_denoiser),
            name="fine-tune pixel denoiser",
            **retrain,
        )
    return losses


def autoencoder_weights(encoder, decoder) -> dict:
    """The autoencoder's weights as state entries ``ae_w0``, ``ae_w1``, ...: the encoder's, then the decoder's."""
    return {
        f"ae_w{i}": np.asarray(w)
        for i, w in enumerate(encoder.get_weights() + decoder.get_weights())
    }


def restore_autoencoder(weights: list, shape, latent_channels: int) -> tuple:
    """(encoder, decoder) rebuilt with the weights ``autoencoder_weights`` saved."""
    encoder, decoder = networks.build_autoencoder(shape, latent_channels)
    n_encoder = len(encoder.get_weights())
    restore_network(encoder, weights[:n_encoder], "autoencoder")
    restore_network(decoder, weights[n_encoder:], "autoencoder")
    return encoder, decoder


def restore_pixel_denoiser(weights: list, shape):
    """The pixel denoiser rebuilt with saved weights."""
    network = networks.build_pixel_denoiser(shape)
    restore_network(network, weights, "pixel denoiser")
    return network
