"""The denoising methods of DiffusionGenerator's image models: ``train_denoiser``, ``estimate_noise_std``
and ``denoise``, with the lazy training of the pixel denoiser they share with ``fit``.

No TensorFlow at import: the registry imports the estimator, and with it this module, without it.
"""

from __future__ import annotations

import warnings

import numpy as np

from synthkit.errors import DataError, PluginError
from synthkit.parameters import Interval


class DenoisingMixin:
    """``denoise`` and its pixel denoiser for DiffusionGenerator (which provides ``_setting``,
    ``_reverse`` and the fitted image attributes: ``encoder_``, ``decoder_``, ``latent_mean_``, ...).

    The pixel denoiser trains in ``fit`` with ``denoiser="fit"``; otherwise ``fit`` keeps the
    training images as uint8 in ``_denoiser_images`` (never saved or pickled) and the first
    ``denoise`` that needs the denoiser trains it on them.
    """

    def _fit_pixel_denoiser(self, X: np.ndarray, rng: np.random.Generator, epochs: int) -> None:
        """Train the pixel denoiser on clean images ``X`` (adapted); its losses go to ``history_``."""
        from synthkit_plugins.diffusion import image

        self.pixel_denoiser_, self.history_["denoiser_loss"] = image.fit_pixel_denoiser(
            X,
            epochs,
            float(self._setting("learning_rate")),
            rng,
            seed=self.seed,
            max_seconds=self.max_seconds,
            verbose=int(self.verbose),
        )

    def train_denoiser(self, X=None, epochs: int | None = None):
        """Train the pixel denoiser behind ``denoise`` now (``denoiser_epochs`` epochs, or
        ``epochs``), on clean images ``X`` (any dtype: uint8, floats in [0, 1] or [0, 255]) or, by
        default, on the training images the model kept since ``fit`` for it. ``denoise`` calls it
        the first time it needs the denoiser; call it yourself to train it on other clean images,
        or before saving a model meant for denoising. Returns self."""
        from synthkit_plugins.diffusion import model as dm

        self._check_is_fitted()
        if self.kind_ != "image":
            raise DataError("the pixel denoiser works on images; this model was fitted on a table")
        if epochs is not None and not Interval(int, 1, None).accepts(epochs):
            raise PluginError(f"epochs must be a positive integer, got {epochs!r}")
        if X is not None:
            Xa = self._image_input(X)
        elif getattr(self, "_denoiser_images", None) is not None:
            Xa = self._denoiser_images.astype(np.float32) / np.float32(255)
        else:
            raise DataError(
                "this model no longer holds its training images (it was saved, pickled or copied "
                "before its pixel denoiser was trained); give clean images: train_denoiser(X)"
            )
        epochs = int(self._setting("denoiser_epochs") if epochs is None else epochs)
        if not epochs:
            raise PluginError(
                "denoiser_epochs=0 leaves the pixel denoiser out; pass epochs=N to train it"
            )
        dm.set_seed(self.seed)  # the same denoiser whenever it is trained
        self._fit_pixel_denoiser(
            Xa, np.random.default_rng(None if self.seed is None else [int(self.seed), 1]), epochs
        )
        self._denoiser_images = None
        return self

    def estimate_noise_std(self, X_noisy) -> float:
        """The standard deviation (in [0, 1] pixel units) of the Gaussian noise in ``X_noisy``."""
        from synthkit_plugins.diffusion import noise

        Xa = self._image_input(X_noisy)
        return noise.estimate_noise_std(Xa, self.noise_levels_, self.noise_stats_)

    def _image_input(self, X) -> np.ndarray:
        """Images given to denoise, adapted; refused on an unfitted or a table model, or when empty."""
        self._check_is_fitted()
        if self.kind_ != "image":
            raise DataError("denoise works on images; this model was fitted on a table")
        Xa, _ = self.adapter_.transform(X)
        if len(Xa) == 0:
            raise DataError("no images to denoise")
        return Xa

    def denoise(self, X_noisy, noise_std: float | None = None, steps: int | None = None):
        """Denoised copies of noisy images, in the dtype, scale and shape given (uint8 in, uint8
        0..255 out; floats in [0, 1] in, floats in [0, 1] out), whatever the training images were.

        ``noise_std``: standard deviation of the Gaussian noise in [0, 1] pixel units (0.3 = 30% of
        the full range); estimated from the images when None (see ``estimate_noise_std``). By
        default the pixel denoiser, given the level, returns the clean images. With ``steps``
        (default ``denoise_steps``) > 0, or without a pixel denoiser (``denoiser_epochs=0``), the
        denoising autoencoder maps each image to a latent code; with steps > 0 the code is then
        treated as a diffusion sample at the noise level that matches the encoder's measured error
        at ``noise_std`` and refined by that many DDIM steps of the unconditional model
        (SDEdit-style), before decoding.

        The first call that needs the pixel denoiser trains it (see ``train_denoiser``). A model
        saved or pickled before that holds no training images to train it on: it warns and uses
        the blurrier autoencoder path until ``train_denoiser(clean_images)``.
        """
        from synthkit_plugins.diffusion import image

        Xa = self._image_input(X_noisy)
        if noise_std is None:
            noise_std = self.estimate_noise_std(X_noisy)
        noise_std = float(noise_std)
        if not np.isfinite(noise_std) or noise_std < 0:
            raise DataError(f"noise_std must be a non-negative number, got {noise_std!r}")
        steps = int(self.denoise_steps if steps is None else steps)
        if steps == 0 and self.pixel_denoiser_ is None and int(self._setting("denoiser_epochs")):
            if getattr(self, "_denoiser_images", None) is not None:
                self.train_denoiser()
            else:
                warnings.warn(
                    "this diffusion model was saved, pickled or copied before its pixel denoiser was "
                    "trained, so it denoises with its latent autoencoder (blurrier); train the "
                    "denoiser with train_denoiser(clean_images), or fit with denoiser='fit' before "
                    "saving",
                    UserWarning,
                    stacklevel=2,
                )
        if steps == 0 and self.pixel_denoiser_ is not None:
            out = image.denoise_pixels(self.pixel_denoiser_, Xa, noise_std)
        else:
            out = image.denoise_latents(
                Xa,
                noise_std,
                steps,
                self.encoder_,
                self.decoder_,
                self.latent_mean_,
                self.latent_std_,
                self.noise_levels_,
                self.latent_error_,
                refine=lambda x_t, t_start: self._reverse(
                    x_t,
                    np.full(len(x_t), self.n_classes_, np.int32),
                    steps=steps,
                    guidance=1.0,
                    t_start=t_start,
                ),
            )
        return self.adapter_.inverse_transform(out, like=X_noisy)
