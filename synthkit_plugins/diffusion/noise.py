"""Image noise helpers (numpy only): corrupting, measuring and estimating Gaussian pixel noise.

Images here are float arrays (n, h, w, c) in [0, 1]. Noise is additive Gaussian with standard
deviation ``std`` in those units, then clipped back to [0, 1] (as any stored image is).

Noise-level estimation: the statistic is the median absolute value of the diagonal Haar detail
coefficients ``(x[i,j] - x[i,j+1] - x[i+1,j] + x[i+1,j+1]) / 2`` divided by 0.6745 (Donoho's MAD
estimator: for i.i.d. noise of std s these coefficients have std s, and clean images have few
large ones). Clipping at 0 and 1 biases it (on MNIST's black background half of the noise is
clipped away), so the generator calibrates it at fit: it measures the statistic on its training
images corrupted at a grid of known levels and inverts that monotone curve by interpolation.
"""

from __future__ import annotations

import numpy as np

from synthkit.errors import DataError

CALIBRATION_LEVELS = np.array([0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0])


def add_noise(X: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """X plus Gaussian noise of standard deviation ``std``, clipped to [0, 1]."""
    X = np.asarray(X, dtype=np.float32)
    return np.clip(X + np.float32(std) * rng.standard_normal(X.shape, dtype=np.float32), 0.0, 1.0)


def psnr(clean: np.ndarray, other: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of ``other`` against ``clean`` (both in [0, 1]), over all pixels."""
    mse = float(np.mean((np.asarray(clean, np.float64) - np.asarray(other, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(1.0 / mse))


def noise_statistic(X: np.ndarray) -> np.ndarray:
    """Per image: MAD of the diagonal Haar detail coefficients / 0.6745 (see the module docstring);
    0 for images of one pixel's height or width, which have no coefficient (``measurable``)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3:
        X = X[..., None]
    if not measurable(X):
        return np.zeros(len(X))
    d = (X[:, :-1, :-1] - X[:, :-1, 1:] - X[:, 1:, :-1] + X[:, 1:, 1:]) / 2.0
    return np.median(np.abs(d.reshape(len(X), -1)), axis=1) / 0.6745


def measurable(X: np.ndarray) -> bool:
    """Whether images X (n, h, w[, c]) hold 2 x 2 pixels, which the noise statistic needs."""
    return X.shape[1] >= 2 and X.shape[2] >= 2


def calibrate(
    X: np.ndarray, rng: np.random.Generator, n: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """(levels, statistics): the median statistic of up to ``n`` images of X at each known noise level."""
    X = np.asarray(X, dtype=np.float32)
    idx = rng.choice(len(X), min(n, len(X)), replace=False)
    ref = X[idx]
    stats = np.array(
        [float(np.median(noise_statistic(add_noise(ref, s, rng)))) for s in CALIBRATION_LEVELS]
    )
    return CALIBRATION_LEVELS.copy(), np.maximum.accumulate(stats)


def estimate_noise_std(X: np.ndarray, levels: np.ndarray, stats: np.ndarray) -> float:
    """The noise level of a batch of noisy images: its median statistic mapped through the
    calibration; images of one pixel's height or width are refused (give the level instead)."""
    if not measurable(np.asarray(X)):
        raise DataError(
            f"the noise level of {X.shape[1]} x {X.shape[2]} images cannot be estimated "
            "(that needs 2 x 2 pixels or more); give the level: denoise(images, noise_std=...)"
        )
    s = float(np.median(noise_statistic(X)))
    # strictly increasing for interpolation; flat stretches (a statistic that saturates) keep their first level
    keep = np.concatenate([[True], np.diff(stats) > 1e-9])
    return float(np.interp(s, stats[keep], levels[keep]))
