"""DiffusionGenerator's ``fine_tune``: retrain the last layers of a fitted model on new data.

No TensorFlow at import: the registry imports the estimator, and with it this module, without it.
"""

from __future__ import annotations

import numpy as np

from synthkit.errors import DataError
from synthkit.parameters import check_fine_tune_arguments


class FineTuningMixin:
    """``fine_tune`` for DiffusionGenerator (which provides ``_setting``, ``_codes`` and the
    fitted networks: ``network_``, ``ema_network_`` and, for images, ``encoder_``, ``decoder_``,
    ``pixel_denoiser_``)."""

    def fine_tune(
        self,
        X,
        y=None,
        unfreeze_last: int | None = 2,
        epochs: int = 5,
        learning_rate: float | None = None,
        seed: int | None = None,
    ):
        """Retrain only the last ``unfreeze_last`` weighted layers on new data ``X`` (labels ``y``
        among the fitted classes, or None: the "no label" class). ``unfreeze_last=None`` retrains
        all layers; 0 is an error (it would retrain nothing), as for the autoencoder's ``fine_tune``.

        Images: the autoencoder's last layers (decoder) with the denoising loss, the pixel
        denoiser's last layers, then the U-Net's last layers on the new latents. Tables: the MLP's
        last layers. The sampling (EMA) weights are set to the fine-tuned weights. ``history_``
        gains ``finetune_*`` entries.
        """
        from synthkit_plugins.diffusion import image, table
        from synthkit_plugins.diffusion import model as dm
        from synthkit_plugins.diffusion.networks import weighted_layers

        self._check_is_fitted()
        check_fine_tune_arguments(unfreeze_last, epochs)
        last = None if unfreeze_last is None else int(unfreeze_last)
        Xa, kept = self.adapter_.transform(X)
        if len(Xa) == 0:
            raise DataError("no rows left to fine-tune on")
        codes = np.full(len(Xa), self.n_classes_, np.int32)
        if y is not None:
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(kept):
                raise DataError(
                    f"y must hold one label per row: got {y.shape} for {len(kept)} rows"
                )
            codes = self._codes(int(kept.sum()), y[kept]).astype(np.int32)
        seed = self.seed if seed is None else seed
        dm.set_seed(seed)
        rng = np.random.default_rng(seed)
        lr = (
            float(learning_rate if learning_rate is not None else self._setting("learning_rate"))
            / 2
        )
        retrain = dict(
            epochs=int(epochs),
            batch_size=int(self._setting("batch_size")),
            rng=rng,
            learning_rate=lr,
            verbose=int(self.verbose),
        )
        if self.kind_ == "image":
            self.history_.update(
                image.fine_tune_denoisers(
                    self.encoder_,
                    self.decoder_,
                    self.pixel_denoiser_,
                    Xa,
                    last,
                    seed=seed,
                    **retrain,
                )
            )
            data = image.standardise(
                image.encode(self.encoder_, Xa), self.latent_mean_, self.latent_std_
            )
        else:
            groups = table.row_groups(codes, self.class_groups_) if self.n_classes_ else None
            data = table.to_quantile_space(Xa, self._layout, rng, groups)
        trainer = dm.DiffusionModel(
            self.network_,
            self.ema_network_,
            self.n_classes_,
            label_dropout=float(self.label_dropout) if y is not None else 0.0,
            ema_decay=0.0,
            seed=seed,
        )
        self.history_["finetune_loss"] = dm.retrain_last_layers(
            trainer,
            weighted_layers(self.network_),
            last,
            data,
            codes,
            name="fine-tune diffusion",
            **retrain,
        )
        self.ema_network_.set_weights(self.network_.get_weights())
        self._predict = None
        return self
