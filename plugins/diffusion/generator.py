"""DiffusionGenerator: the ``diffusion`` plugin's BaseGenerator, for images and for tables.

Images (latent diffusion): a small convolutional denoising autoencoder maps each image to a
(h/4, w/4, ``latent_channels``) grid (28x28 MNIST: zero-padded to 32x32, an 8x8x4 latent); a U-Net
learns the reverse diffusion process on the standardised latents, conditional on the class with
classifier-free guidance; samples are drawn with DDIM and decoded. ``denoise`` uses a separate
small full-resolution U-Net told the noise level (the latent autoencoder, trained on noisy inputs
too, caps the reconstruction at about 21 dB PSNR on MNIST: too blurry for denoising). Sampling never
uses that pixel denoiser, so ``fit`` does not train it: the first ``denoise`` call does (or
``train_denoiser``, or ``denoiser="fit"``), from the training images kept in memory until then.

Tables (after TabDDPM): numeric columns are mapped to normal scores through their empirical
quantiles; booleans and the one-hot codes of categorical columns become -1/+1 (Gaussian diffusion
on one-hot codes); a residual MLP learns the reverse process, conditional on the label column, with
rare classes over-sampled during training. Generated rows are mapped back, and the table adapter
restores the columns, dtypes, category levels and ranges.
"""

from __future__ import annotations

import numbers

import numpy as np

from synthkit.errors import DataError, NotFittedError, PluginError
from synthkit.generator import BaseGenerator

KINDS = ("auto", "image", "table")
DENOISER_WHEN = ("lazy", "fit")  # the pixel denoiser trains at the first denoise() call, or in fit
DEFAULTS = {
    "image": {"epochs": 30, "ae_epochs": 5, "denoiser_epochs": 20, "batch_size": 128, "learning_rate": 2e-3,
              "steps": 20, "guidance": 1.5, "widths": (32, 64)},
    "table": {"epochs": 60, "ae_epochs": 0, "denoiser_epochs": 0, "batch_size": 256, "learning_rate": 1e-3,
              "steps": 50, "guidance": 1.0, "widths": (256,)},
}
N_QUANTILES = 1001
# The pixel denoiser trains on batches of 32 with a cosine-decayed rate: on MNIST at noise std 0.3,
# 5 epochs of 128 at a constant rate gained +8.9 dB, 15 epochs of 64 with the decay +9.7 dB, and 20
# epochs of 32 with the decay +10.3 dB (172 s on 2 cores).
DENOISER_BATCH = 32


class DiffusionGenerator(BaseGenerator):
    """Denoising diffusion (v-prediction, cosine schedule, DDIM sampling, classifier-free guidance).

    ``kind`` is ``auto`` (from the data), ``image`` or ``table``. Settings left at None take the
    per-kind defaults in ``DEFAULTS``: ``epochs`` (diffusion training), ``ae_epochs`` (images: the
    autoencoder), ``denoiser_epochs`` (images: the pixel denoiser behind ``denoise``; 0 leaves it
    out, and ``denoise`` then decodes the denoising autoencoder's code), ``denoiser`` (images: when
    the pixel denoiser trains; ``"lazy"``, the default: at the first ``denoise`` call, on the
    training images, which the model keeps in memory until then, never in a model directory or a
    pickle; ``"fit"``: during ``fit``, so that a model saved or pickled straight after fitting can
    denoise), ``batch_size``,
    ``learning_rate``, ``steps`` (DDIM steps when sampling),
    ``guidance`` (classifier-free guidance weight: 1 = plain conditional, larger = closer to the
    class) and ``widths`` (images: U-Net channels per level; tables: ``(width,)`` of the MLP).
    ``latent_channels``: channels of the image latent. ``label_dropout``: share of training labels
    replaced by "no label". ``ema_decay``: of the sampling weights. ``denoise_steps``: DDIM steps of
    the latent diffusion refinement in ``denoise`` (0, the default: the pixel denoiser).
    ``max_seconds`` caps each training stage (it stops after the epoch that crosses it). ``seed`` fixes the
    initialisation and training noise; ``sample(n, seed=...)`` with a seed repeats exactly.
    """

    def __init__(self, kind: str = "auto", epochs: int | None = None, ae_epochs: int | None = None,
                 denoiser_epochs: int | None = None, denoiser: str = "lazy", batch_size: int | None = None,
                 learning_rate: float | None = None, steps: int | None = None, guidance: float | None = None,
                 widths=None, latent_channels: int = 4, label_dropout: float = 0.1,
                 ema_decay: float = 0.995, denoise_steps: int = 0, max_seconds: float | None = None,
                 seed: int | None = 0, verbose: int = 0, missing: str = "error"):
        self.kind = kind
        self.epochs = epochs
        self.ae_epochs = ae_epochs
        self.denoiser_epochs = denoiser_epochs
        self.denoiser = denoiser
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.steps = steps
        self.guidance = guidance
        self.widths = widths
        self.latent_channels = latent_channels
        self.label_dropout = label_dropout
        self.ema_decay = ema_decay
        self.denoise_steps = denoise_steps
        self.max_seconds = max_seconds
        self.seed = seed
        self.verbose = verbose
        self.missing = missing

    # -- settings ------------------------------------------------------------------------------
    def _setting(self, name: str, kind: str | None = None):
        value = getattr(self, name)
        return DEFAULTS[kind or self.kind_][name] if value is None else value

    def _check(self, kind: str) -> None:
        if self.kind not in KINDS:
            raise PluginError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if not isinstance(self.denoiser, str) or self.denoiser not in DENOISER_WHEN:
            raise PluginError(f"denoiser must be one of {', '.join(DENOISER_WHEN)} (when the pixel denoiser "
                              f"trains), got {self.denoiser!r}")
        if self.kind != "auto" and self.kind != kind:
            raise DataError(f"kind={self.kind!r} but the data is {'a table' if kind == 'table' else 'images'}; "
                            "use kind=auto")
        for name in ("epochs", "batch_size", "steps", "latent_channels"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
                raise PluginError(f"{name} must be a positive integer, got {v!r}")
        for name in ("ae_epochs", "denoiser_epochs", "denoise_steps"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0):
                raise PluginError(f"{name} must be a non-negative integer, got {v!r}")
        widths = self._setting("widths", kind)
        widths = (widths,) if isinstance(widths, (numbers.Number, str, bytes)) else widths
        if not isinstance(widths, (list, tuple, np.ndarray)) or not len(widths) or any(
                isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1 for w in widths):
            raise PluginError(f"widths must be positive integers, got {self.widths!r}")
        _number("label_dropout", self.label_dropout, 0.0, 1.0)
        _number("ema_decay", self.ema_decay, 0.0, 1.0)
        _number("guidance", self.guidance, none=True)
        _number("learning_rate", self.learning_rate, lo_open=True, none=True)
        _number("max_seconds", self.max_seconds, hi_open=False, none=True)
        _check_seed_and_verbose(self.seed, self.verbose)

    def _widths(self) -> tuple:
        w = self._setting("widths")
        return (int(w),) if isinstance(w, (int, np.integer)) else tuple(int(v) for v in w)

    # -- the generator contract ----------------------------------------------------------------
    def _fit(self, X: np.ndarray, y) -> None:
        from synthkit_plugins.diffusion import model as dm

        kind = self.adapter_.kind
        self._check(kind)
        self.kind_ = kind
        self.n_classes_ = 0 if y is None else len(self.classes_)
        codes = np.zeros(len(X), np.int32) if y is None else y.astype(np.int32)
        dm.set_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.history_ = {}
        self.pixel_denoiser_ = None
        self._denoiser_images = None
        if kind == "image":
            data = self._fit_autoencoder(X, rng)
            if int(self._setting("denoiser_epochs")):
                if self.denoiser == "fit":
                    self._fit_pixel_denoiser(X, rng)
                else:  # sampling never uses it: trained by the first denoise() call, from these
                    self._denoiser_images = _to_uint8(X)
            weights = None
        else:
            self._table_layout()
            data = self._fit_table_space(X, rng)
            weights = None
            if self.n_classes_ > 1:
                counts = np.bincount(codes, minlength=self.n_classes_).astype(np.float64)
                w = counts[codes] ** -0.5  # training-by-sampling: rare classes drawn more often
                weights = w / w.sum()
        self.data_lo_ = data.min(axis=0).astype(np.float32)
        self.data_hi_ = data.max(axis=0).astype(np.float32)
        self._build_denoiser(data.shape[1:])
        self.ema_network_.set_weights(self.network_.get_weights())
        trainer = dm.DiffusionModel(self.network_, self.ema_network_, self.n_classes_,
                                    label_dropout=float(self.label_dropout), ema_decay=float(self.ema_decay),
                                    seed=self.seed)
        trainer.compile(optimizer=dm.make_optimizer(float(self._setting("learning_rate"))))
        dm.train(trainer, data, codes, int(self._setting("epochs")), int(self._setting("batch_size")), rng,
                 weights=weights, max_seconds=self.max_seconds, verbose=int(self.verbose), name="diffusion",
                 history=self.history_)
        if kind == "image":
            self._calibrate_denoising(X, rng)
        self.epochs_trained_ = len(self.history_.get("loss", []))

    def _build_denoiser(self, shape) -> None:
        from synthkit_plugins.diffusion import networks

        if self.kind_ == "image":
            build = lambda: networks.build_unet(shape, self.n_classes_, widths=self._widths())  # noqa: E731
        else:
            build = lambda: networks.build_mlp(shape[0], self.n_classes_, width=self._widths()[0])  # noqa: E731
        self.network_ = build()
        self.ema_network_ = build()
        self._predict = None

    def _sample(self, n: int, y, rng: np.random.Generator) -> np.ndarray:
        codes = self._sample_codes(n, y, rng)
        shape = tuple(self.data_lo_.shape)
        noise = rng.standard_normal((n, *shape)).astype(np.float32)
        Z = self._reverse(noise, codes, steps=int(self._setting("steps")), guidance=float(self._setting("guidance")))
        return self._decode(Z)

    def _sample_codes(self, n: int, y, rng) -> np.ndarray:
        if not self.n_classes_:
            return np.zeros(n, np.int32)
        if y is not None:
            return np.asarray(y, dtype=np.int32)
        return rng.choice(self.n_classes_, n, p=self.class_freq_).astype(np.int32)

    def _reverse(self, x_init, codes, steps: int, guidance: float, t_start: float = 1.0) -> np.ndarray:
        from synthkit_plugins.diffusion import model as dm

        if getattr(self, "_predict", None) is None:
            self._predict = dm.make_predictor(self.ema_network_)
        return dm.ddim_sample(self._predict, x_init, codes, self.n_classes_, steps, guidance=guidance,
                              t_start=t_start, lo=self.data_lo_, hi=self.data_hi_)

    def _decode(self, Z: np.ndarray) -> np.ndarray:
        if self.kind_ == "image":
            latents = Z * self.latent_std_ + self.latent_mean_
            return np.asarray(self.decoder_.predict(latents, batch_size=500, verbose=0), dtype=np.float32)
        return self._from_table_space(Z)

    # -- images: autoencoder and denoising -----------------------------------------------------
    def _fit_autoencoder(self, X: np.ndarray, rng) -> np.ndarray:
        from synthkit_plugins.diffusion import model as dm
        from synthkit_plugins.diffusion import networks

        self.encoder_, self.decoder_ = networks.build_autoencoder(X.shape[1:], int(self.latent_channels))
        dae = dm.DenoisingTrainer(dm.chained(self.encoder_, self.decoder_), seed=self.seed)
        dae.compile(optimizer=dm.make_optimizer(float(self._setting("learning_rate"))))
        ae_history = dm.train(dae, X, None, int(self._setting("ae_epochs")), int(self._setting("batch_size")), rng,
                              max_seconds=self.max_seconds, verbose=int(self.verbose), name="autoencoder")
        self.history_["ae_loss"] = ae_history.get("loss", [])
        Z = self._encode(X)
        axes = tuple(range(Z.ndim - 1))
        self.latent_mean_ = Z.mean(axis=axes).astype(np.float32)
        self.latent_std_ = np.maximum(Z.std(axis=axes), 1e-6).astype(np.float32)
        return ((Z - self.latent_mean_) / self.latent_std_).astype(np.float32)

    def _fit_pixel_denoiser(self, X: np.ndarray, rng, epochs: int | None = None) -> None:
        from synthkit_plugins.diffusion import model as dm
        from synthkit_plugins.diffusion import networks

        epochs = int(self._setting("denoiser_epochs") if epochs is None else epochs)
        if not epochs:
            return
        self.pixel_denoiser_ = networks.build_pixel_denoiser(X.shape[1:])
        trainer = dm.DenoisingTrainer(self.pixel_denoiser_, level_input=True, seed=self.seed)
        batch = min(DENOISER_BATCH, len(X))
        trainer.compile(optimizer=dm.make_optimizer(float(self._setting("learning_rate")),
                                                    decay_steps=epochs * max(1, len(X) // batch)))
        h = dm.train(trainer, X, None, epochs, batch, rng, max_seconds=self.max_seconds,
                     verbose=int(self.verbose), name="pixel denoiser")
        self.history_["denoiser_loss"] = h.get("loss", [])

    def train_denoiser(self, X=None, epochs: int | None = None):
        """Train the pixel denoiser behind ``denoise`` now (``denoiser_epochs`` epochs, or
        ``epochs``), on clean images ``X`` (any dtype: uint8, floats in [0, 1] or [0, 255]) or, by
        default, on the training images the model kept since ``fit`` for it. ``denoise`` calls it
        the first time it needs the denoiser; call it yourself to train it on other clean images,
        or before saving a model meant for denoising. Returns self."""
        from synthkit_plugins.diffusion import model as dm

        if not hasattr(self, "adapter_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")
        if self.kind_ != "image":
            raise DataError("the pixel denoiser works on images; this model was fitted on a table")
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1):
            raise PluginError(f"epochs must be a positive integer, got {epochs!r}")
        if X is not None:
            Xa = self._image_input(X)
        elif getattr(self, "_denoiser_images", None) is not None:
            Xa = self._denoiser_images.astype(np.float32) / np.float32(255)
        else:
            raise DataError("this model no longer holds its training images (it was saved, pickled or copied "
                            "before its pixel denoiser was trained); give clean images: train_denoiser(X)")
        epochs = int(self._setting("denoiser_epochs") if epochs is None else epochs)
        if not epochs:
            raise PluginError("denoiser_epochs=0 leaves the pixel denoiser out; pass epochs=N to train it")
        dm.set_seed(self.seed)  # the same denoiser whenever it is trained
        self._fit_pixel_denoiser(Xa, np.random.default_rng(None if self.seed is None else [int(self.seed), 1]),
                                 epochs=epochs)
        self._denoiser_images = None
        return self

    def _encode(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.encoder_.predict(X, batch_size=500, verbose=0), dtype=np.float32)

    def _calibrate_denoising(self, X: np.ndarray, rng) -> None:
        """Noise statistic per known level (for estimation) and the relative latent error of the
        encoder per level (for the diffusion refinement's starting time)."""
        from synthkit_plugins.diffusion import noise

        self.noise_levels_, self.noise_stats_ = noise.calibrate(X, rng)
        ref = X[rng.choice(len(X), min(256, len(X)), replace=False)]
        batch = np.concatenate([ref] + [noise.add_noise(ref, s, rng) for s in self.noise_levels_])
        z = ((self._encode(batch) - self.latent_mean_) / self.latent_std_).reshape(len(self.noise_levels_) + 1, len(ref), -1)
        errors = ((z[1:] - z[:1]) ** 2).mean(axis=(1, 2))
        self.latent_error_ = np.maximum.accumulate(errors.astype(np.float64))

    def estimate_noise_std(self, X_noisy) -> float:
        """The standard deviation (in [0, 1] pixel units) of the Gaussian noise in ``X_noisy``."""
        from synthkit_plugins.diffusion import noise

        Xa = self._image_input(X_noisy)
        return noise.estimate_noise_std(Xa, self.noise_levels_, self.noise_stats_)

    def _image_input(self, X) -> np.ndarray:
        if not hasattr(self, "adapter_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")
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
        the autoencoder path (about 4 dB less on MNIST) until ``train_denoiser(clean_images)``.
        """
        import warnings

        from synthkit_plugins.diffusion import model as dm

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
                warnings.warn("this diffusion model was saved, pickled or copied before its pixel denoiser was "
                              "trained, so it denoises with its latent autoencoder (blurrier); train the "
                              "denoiser with train_denoiser(clean_images), or fit with denoiser='fit' before "
                              "saving", UserWarning, stacklevel=2)
        if steps == 0 and self.pixel_denoiser_ is not None:
            out = self.pixel_denoiser_.predict(dm.with_level(Xa, noise_std), batch_size=500, verbose=0)
            return self.adapter_.inverse_transform(np.asarray(out, dtype=np.float32), like=X_noisy)
        Z = self._encode(Xa)
        if steps > 0 and noise_std > 0:
            rel = float(np.interp(noise_std, self.noise_levels_, self.latent_error_))
            alpha = 1.0 / np.sqrt(1.0 + rel)
            t = dm.time_for_alpha(alpha)
            x_t = (alpha * (Z - self.latent_mean_) / self.latent_std_).astype(np.float32)
            codes = np.full(len(Z), self.n_classes_, np.int32)
            Zn = self._reverse(x_t, codes, steps=steps, guidance=1.0, t_start=t)
            Z = Zn * self.latent_std_ + self.latent_mean_
        out = np.asarray(self.decoder_.predict(Z, batch_size=500, verbose=0), dtype=np.float32)
        return self.adapter_.inverse_transform(out, like=X_noisy)

    # -- fine-tuning ---------------------------------------------------------------------------
    def fine_tune(self, X, y=None, unfreeze_last: int | None = 2, epochs: int = 5, learning_rate: float | None = None,
                  seed: int | None = None):
        """Retrain only the last ``unfreeze_last`` weighted layers on new data ``X`` (labels ``y``
        among the fitted classes, or None: the "no label" class). ``unfreeze_last=None`` retrains
        all layers; 0 is an error (it would retrain nothing), as for the autoencoder's ``fine_tune``.

        Images: the autoencoder's last layers (decoder) with the denoising loss, the pixel
        denoiser's last layers, then the U-Net's last layers on the new latents. Tables: the MLP's last layers. The sampling (EMA) weights
        are set to the fine-tuned weights. ``history_`` gains ``finetune_*`` entries.
        """
        from synthkit_plugins.diffusion import model as dm

        if not hasattr(self, "adapter_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")
        if unfreeze_last is not None and (isinstance(unfreeze_last, bool) or not isinstance(unfreeze_last, (int, np.integer))
                                          or unfreeze_last < 1):
            raise PluginError(f"unfreeze_last must be a positive integer (the last layers to retrain), or None "
                              f"to retrain all layers, got {unfreeze_last!r}")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise PluginError(f"epochs must be a positive integer, got {epochs!r}")
        last = None if unfreeze_last is None else int(unfreeze_last)
        Xa, kept = self.adapter_.transform(X)
        if len(Xa) == 0:
            raise DataError("no rows left to fine-tune on")
        codes = np.full(len(Xa), self.n_classes_, np.int32)
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(kept):
                raise DataError(f"y must hold one label per row: got {y.shape} for {len(kept)} rows")
            codes = self._codes(int(kept.sum()), y[kept]).astype(np.int32)
        seed = self.seed if seed is None else seed
        dm.set_seed(seed)
        rng = np.random.default_rng(seed)
        lr = float(learning_rate if learning_rate is not None else self._setting("learning_rate")) / 2
        batch = int(self._setting("batch_size"))
        if self.kind_ == "image":
            ae_layers = _weighted(self.encoder_) + _weighted(self.decoder_)
            _freeze_all_but(ae_layers, last)
            dae = dm.DenoisingTrainer(dm.chained(self.encoder_, self.decoder_), seed=seed)
            dae.compile(optimizer=dm.make_optimizer(lr))
            h = dm.train(dae, Xa, None, int(epochs), batch, rng, verbose=int(self.verbose), name="fine-tune autoencoder")
            self.history_["finetune_ae_loss"] = h.get("loss", [])
            _freeze_all_but(ae_layers, len(ae_layers))
            if self.pixel_denoiser_ is not None:
                px_layers = _weighted(self.pixel_denoiser_)
                _freeze_all_but(px_layers, last)
                trainer = dm.DenoisingTrainer(self.pixel_denoiser_, level_input=True, seed=seed)
                trainer.compile(optimizer=dm.make_optimizer(lr))
                h = dm.train(trainer, Xa, None, int(epochs), batch, rng, verbose=int(self.verbose),
                             name="fine-tune pixel denoiser")
                self.history_["finetune_denoiser_loss"] = h.get("loss", [])
                _freeze_all_but(px_layers, len(px_layers))
            data = ((self._encode(Xa) - self.latent_mean_) / self.latent_std_).astype(np.float32)
        else:
            data = self._to_table_space(Xa, rng)
        net_layers = _weighted(self.network_)
        _freeze_all_but(net_layers, last)
        trainer = dm.DiffusionModel(self.network_, self.ema_network_, self.n_classes_,
                                    label_dropout=float(self.label_dropout) if y is not None else 0.0,
                                    ema_decay=0.0, seed=seed)
        trainer.compile(optimizer=dm.make_optimizer(lr))
        h = dm.train(trainer, data, codes, int(epochs), batch, rng, verbose=int(self.verbose), name="fine-tune diffusion")
        self.history_["finetune_loss"] = h.get("loss", [])
        _freeze_all_but(net_layers, len(net_layers))
        self.ema_network_.set_weights(self.network_.get_weights())
        self._predict = None
        return self

    # -- tables: the diffusion space -----------------------------------------------------------
    def _table_layout(self) -> None:
        """Per adapter column: (kind, start, width) in the encoded feature vector."""
        layout, i = [], 0
        for col in self.adapter_.columns:
            width = len(col["levels"]) if col["kind"] == "categorical" else 1
            layout.append((col["kind"], i, width))
            i += width
        self._layout = layout

    def _fit_table_space(self, X: np.ndarray, rng) -> np.ndarray:
        numeric = [s for k, s, _ in self._layout if k == "numeric"]
        probs = np.linspace(0.0, 1.0, N_QUANTILES)
        self.quantiles_ = (np.quantile(X[:, numeric], probs, axis=0).T.astype(np.float64) if numeric
                           else np.zeros((0, N_QUANTILES)))
        return self._to_table_space(X, rng)

    def _to_table_space(self, X: np.ndarray, rng) -> np.ndarray:
        from scipy.special import ndtri

        out = np.empty_like(X, dtype=np.float32)
        n = len(X)
        for kind, s, w in self._layout:
            if kind == "numeric":
                # normal scores of the ranks, ties broken at random (quantile transform)
                ranks = np.lexsort((rng.random(n), X[:, s])).argsort()
                out[:, s] = ndtri((ranks + 0.5) / n)
            else:
                out[:, s:s + w] = X[:, s:s + w] * 2.0 - 1.0
        return out

    def _from_table_space(self, Z: np.ndarray) -> np.ndarray:
        from scipy.special import ndtr

        out = np.empty_like(Z, dtype=np.float32)
        probs = np.linspace(0.0, 1.0, N_QUANTILES)
        q = 0
        for kind, s, w in self._layout:
            if kind == "numeric":
                out[:, s] = np.interp(ndtr(Z[:, s]), probs, self.quantiles_[q])
                q += 1
            elif kind == "bool":
                out[:, s] = (Z[:, s] > 0).astype(np.float32)
            else:
                out[:, s:s + w] = (Z[:, s:s + w] + 1.0) / 2.0
        return out

    # -- saving --------------------------------------------------------------------------------
    def _get_state(self) -> dict:
        state = {f"net_w{i}": np.asarray(w) for i, w in enumerate(self.network_.get_weights())}
        state.update({f"ema_w{i}": np.asarray(w) for i, w in enumerate(self.ema_network_.get_weights())})
        state.update(kind_=self.kind_, n_classes_=self.n_classes_, history_=self.history_,
                     epochs_trained_=self.epochs_trained_, n_features_in_=self.n_features_in_,
                     data_lo_=self.data_lo_, data_hi_=self.data_hi_)
        state.update(self._classes_state())
        if self.kind_ == "image":
            ae = self.encoder_.get_weights() + self.decoder_.get_weights()
            state.update({f"ae_w{i}": np.asarray(w) for i, w in enumerate(ae)})
            if self.pixel_denoiser_ is not None:
                state.update({f"px_w{i}": np.asarray(w) for i, w in enumerate(self.pixel_denoiser_.get_weights())})
            for name in ("latent_mean_", "latent_std_", "noise_levels_", "noise_stats_", "latent_error_"):
                state[name] = np.asarray(getattr(self, name))
        else:
            state["quantiles_"] = self.quantiles_
        return state

    def _set_state(self, state: dict) -> None:
        from synthkit_plugins.diffusion import networks

        def weights(prefix):
            return [state.pop(f"{prefix}{i}") for i in range(sum(k.startswith(prefix) for k in list(state)))]

        net, ema, ae, px = weights("net_w"), weights("ema_w"), weights("ae_w"), weights("px_w")
        self.kind_ = state.pop("kind_")
        self.n_classes_ = int(state.pop("n_classes_"))
        self.history_ = state.pop("history_")
        self.epochs_trained_ = int(state.pop("epochs_trained_"))
        self.n_features_in_ = int(state.pop("n_features_in_"))
        self.data_lo_ = np.asarray(state.pop("data_lo_"), np.float32)
        self.data_hi_ = np.asarray(state.pop("data_hi_"), np.float32)
        self._restore_classes(state)
        if self.kind_ == "image":
            for name in ("latent_mean_", "latent_std_", "noise_levels_", "noise_stats_", "latent_error_"):
                setattr(self, name, np.asarray(state.pop(name)))
            self.encoder_, self.decoder_ = networks.build_autoencoder(tuple(self.adapter_.shape), int(self.latent_channels))
            n_enc = len(self.encoder_.get_weights())
            if len(ae) != n_enc + len(self.decoder_.get_weights()):
                raise ValueError("the saved autoencoder weights do not fit the network")
            self.encoder_.set_weights(ae[:n_enc])
            self.decoder_.set_weights(ae[n_enc:])
        else:
            self._table_layout()
            self.quantiles_ = np.asarray(state.pop("quantiles_"), np.float64)
        self.pixel_denoiser_ = None
        if px:
            self.pixel_denoiser_ = networks.build_pixel_denoiser(tuple(self.adapter_.shape))
            if len(px) != len(self.pixel_denoiser_.get_weights()):
                raise ValueError("the saved pixel denoiser weights do not fit the network")
            self.pixel_denoiser_.set_weights(px)
        self._build_denoiser(self.data_lo_.shape)
        if len(net) != len(self.network_.get_weights()) or len(ema) != len(net):
            raise ValueError("the saved diffusion weights do not fit the network")
        self.network_.set_weights(net)
        self.ema_network_.set_weights(ema)


def _to_uint8(X: np.ndarray) -> np.ndarray:
    """Images in [0, 1] as uint8 0..255 (a quarter of float32's memory; exact for uint8 sources)."""
    return np.round(np.clip(X, 0.0, 1.0) * 255).astype(np.uint8)


def _weighted(model) -> list:
    return [layer for layer in model.layers if layer.weights]


def _freeze_all_but(layers: list, last: int | None) -> None:
    """Only the last ``last`` layers trainable (None: all)."""
    last = len(layers) if last is None else last
    for i, layer in enumerate(layers):
        layer.trainable = i >= len(layers) - last


def _number(name: str, value, lo: float = 0.0, hi: float = float("inf"), lo_open: bool = False,
            hi_open: bool = True, none: bool = False) -> None:
    """Refuse a parameter that is not a real number in the range (a string, a list, NaN): one
    PluginError before training, not a ValueError from float() mid-fit."""
    if value is None and none:
        return
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value
    if ok:
        v = float(value)
        ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        span = f"a number >= {lo:g}" if hi == float("inf") and not lo_open else (
            f"a number > {lo:g}" if hi == float("inf") else f"a number in {left}{lo:g}, {hi:g}{right}")
        raise PluginError(f"{name} must be {span}{' or null' if none else ''}, got {value!r}")


def _check_seed_and_verbose(seed, verbose) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise PluginError(f"seed must be a non-negative integer or null, got {seed!r}")
    if not isinstance(verbose, (int, np.integer)) or verbose < 0:
        raise PluginError(f"verbose must be a non-negative integer, got {verbose!r}")
