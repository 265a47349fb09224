"""The autoencoder detector family: dense, convolutional, variational and denoising autoencoders,
as one scikit-learn estimator (hyper-parameters, fit, fine_tune, encode, reconstruct, saved state).

What it is made of: ``architecture`` (the kinds, ensembles of autoencoders trained side by side,
and the sizes resolved from the data), ``networks`` (the Keras networks), ``training`` (the loss,
the epoch schedule, early stopping, weight averaging, fine-tuning) and ``scores`` (the anomaly
scores that ``scoring`` selects).

TensorFlow loads only when a model is fitted or loaded, not when the plugin is registered.
"""

from __future__ import annotations

import numpy as np

from synthkit.base import (
    bad_state,
    finite_number,
    network_weights,
    pop_weights,
    restore_network,
)
from synthkit.base import BaseDetector
from synthkit.errors import DataError
from synthkit.parameters import (
    SEED_MAX,
    Interval,
    Options,
    check_fine_tune_arguments,
    renamed_parameters,
)
from synthkit_plugins.autoencoder import scores
from synthkit_plugins.autoencoder.architecture import (
    KINDS,
    LayerSizes,
    build_networks,
    member_count,
    model_input_shape,
    resolve_architecture,
    resolve_choices,
)
from synthkit_plugins.autoencoder.training import compile_model, train, train_last_layers

NETWORKS = (
    "model_",
    "encoder_model_",
    "decoder_model_",
)  # Keras models: saved as weights, rebuilt from arch_
AUTO = Options(("auto",))


class AutoencoderDetector(BaseDetector):
    """A Keras autoencoder (encoder, bottleneck, decoder) trained to reconstruct normal data.

    Parameters: ``kind`` (see ``architecture``); ``hidden_units`` (dense layers of the encoder,
    mirrored in the decoder; ``"auto"`` scales them with the number of features); ``filters``
    (convolution channels, one strided layer each; ``"auto"``: 16, 32, ... for as many layers as
    bring the short side to 8 pixels or fewer, see ``synthkit.adapters._image_sizes``); ``latent_dim``
    (bottleneck size, ``"auto"``: on images from 32 to 128 with the image's values,
    ``synthkit.adapters._image_sizes.latent_size``; about a quarter of the features for tables, between 2
    and 32); ``noise_std`` (denoising kind); ``beta`` (VAE weight of the KL term); ``scoring`` (the
    anomaly score; see ``scores``; ``score=`` is its deprecated name); ``n_neighbors`` (hybrid score);
    ``epochs`` (``"auto"``: 40 full passes on images up to 32x32 pixels, proportionally fewer on
    larger ones, and at least 400 batches; on tables 20 rounds of 25 batches, 500
    optimizer steps whatever the size; ``n_epochs_`` holds how many ran before early stopping),
    ``batch_size``, ``learning_rate``;
    ``trim`` (loss truncation: the share of each batch's worst-reconstructed rows left out of the
    loss, so outliers hidden in unlabelled training data are not learned; ``"auto"``: 0.2 on
    tables, 0 on images and for the VAE); ``validation_split`` and ``patience``
    for early stopping on the validation loss (best weights restored); ``average_weights``: the
    share of the last epochs whose end-of-epoch weights are averaged into the final model
    (stochastic weight averaging; 0 keeps the weights early stopping restores, the best epoch's);
    ``dropout`` (dense encoder); ``n_estimators`` (autoencoders trained side by side whose scores
    are averaged; ``"auto"``: 5 on tables, 1 on images and for the VAE);
    ``seed`` (same seed, same model); ``verbose`` (0 silent, 1 bar, 2 one line per epoch).
    """

    # explain: the ablation (synthkit.base._explaining), which names the unusual column more often than the
    # exact split of the reconstruction error, still given by explain(det, X, method="decomposition")
    explain_method = "ablation"

    _parameter_constraints = {
        "kind": [Options(KINDS)],
        "scoring": [Options(scores.SCORES)],
        "epochs": [Interval(int, 1, None), AUTO],
        "batch_size": [Interval(int, 1, None)],
        "n_neighbors": [Interval(int, 1, None)],
        "n_estimators": [Interval(int, 1, None), AUTO],
        "learning_rate": [Interval(float, 0, None, closed="neither")],
        "beta": [Interval(float, 0, None, closed="neither")],
        "noise_std": [Interval(float, 0, None)],
        "validation_split": [Interval(float, 0, 1, closed="left")],
        "average_weights": [Interval(float, 0, 1)],
        "trim": [AUTO, Interval(float, 0, 0.5, closed="left")],
        "dropout": [Interval(float, 0, 1, closed="left")],
        "filters": [LayerSizes("filters"), AUTO],
        "hidden_units": [LayerSizes("hidden_units"), AUTO],
        "latent_dim": [Interval(int, 1, None), AUTO],
        "patience": [Interval(int, 0, None)],
        "seed": [Interval(int, 0, SEED_MAX), None],
        "verbose": [Interval(int, 0, None), bool],
    }

    # ``score`` was ``scoring``'s name; as an attribute it hid the estimator's ``score`` method from
    # scikit-learn (cross_val_score, Pipeline). ``score=`` still works, with a DeprecationWarning.
    @renamed_parameters(score="scoring")
    def __init__(
        self,
        kind: str = "auto",
        hidden_units="auto",
        filters="auto",
        latent_dim="auto",
        noise_std: float = 0.2,
        beta: float = 1.0,
        scoring: str = "auto",
        n_neighbors: int = 5,
        epochs="auto",
        batch_size: int = 64,
        trim="auto",
        n_estimators="auto",
        learning_rate: float = 1e-3,
        validation_split: float = 0.1,
        patience: int = 5,
        average_weights: float = 0.4,
        dropout: float = 0.0,
        contamination: float = 0.1,
        seed: int | None = 0,
        verbose: int = 0,
        missing: str = "model",
    ):
        self.kind = kind
        self.hidden_units = hidden_units
        self.filters = filters
        self.latent_dim = latent_dim
        self.noise_std = noise_std
        self.beta = beta
        self.scoring = scoring
        self.n_neighbors = n_neighbors
        self.epochs = epochs
        self.batch_size = batch_size
        self.trim = trim
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.validation_split = validation_split
        self.patience = patience
        self.average_weights = average_weights
        self.dropout = dropout
        self.contamination = contamination
        self.seed = seed
        self.verbose = verbose
        self.missing = missing

    # -- parameters ----------------------------------------------------------------------------
    def _validate_params(self, data_kind: str) -> None:
        """Each parameter on its own (the constraints table), then the combinations that cannot
        train or score on data of ``data_kind`` (``architecture.resolve_choices``)."""
        super()._validate_params(data_kind)
        resolve_choices(self, data_kind == "image")

    def _check_state(self) -> None:
        """The resolved architecture (``arch_``) names a known kind and score, with sizes that fit the
        data; ``history_`` is a dict of losses; the hybrid score's scales are positive."""
        super()._check_state()
        arch = self.arch_
        shape = [int(v) for v in getattr(self.adapter_, "shape", None) or ()] or [
            len(self.adapter_.feature_names)
        ]

        def sizes(v):
            return isinstance(v, list) and all(
                isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in v
            )

        def number(v, lo, hi):
            return isinstance(v, (int, float)) and finite_number(v) and lo <= v < hi

        problems = {
            "kind": arch.get("kind") in KINDS[1:],
            "backbone": arch.get("backbone") in ("dense", "conv"),
            "score": arch.get("score") in scores.SCORES[1:],
            "input_shape": arch.get("input_shape") == shape,
            "latent_dim": sizes([arch.get("latent_dim")]),
            "hidden_units": sizes(arch.get("hidden_units")),
            "filters": sizes(arch.get("filters")),
            "unit_range": isinstance(arch.get("unit_range"), bool),
            "trim": number(arch.get("trim", 0.0), 0.0, 0.5),
            "members": sizes([arch.get("members", 1)]),
            "noise_std": number(arch.get("noise_std", 0.0), 0.0, np.inf),
        }
        wrong = [k for k, ok in problems.items() if not ok]
        if wrong:
            raise bad_state("arch_", f"has a malformed {', '.join(wrong)}")
        if not isinstance(self.history_, dict) or not all(
            isinstance(k, str) for k in self.history_
        ):
            raise bad_state("history_", "must map loss names to their values per epoch")
        scales = np.asarray(self.score_scales_)
        if scales.dtype.kind not in "fiu" or not np.isfinite(scales).all() or (scales <= 0).any():
            raise bad_state("score_scales_", "must be positive numbers")
        if not isinstance(vars(self).get("unfrozen_layers_", []), list):
            raise bad_state("unfrozen_layers_", "must be a list of layer names")

    # -- fitting -------------------------------------------------------------------------------
    def _build(self) -> None:
        """The networks of ``arch_``, fresh, compiled with the fit's learning rate."""
        self.encoder_model_, self.decoder_model_, self.model_ = build_networks(
            self.arch_, self.dropout, self.beta, self.seed
        )
        self._model_shape = model_input_shape(self.arch_)
        compile_model(self.model_, self.arch_, float(self.learning_rate))

    def _model_input(self, X: np.ndarray) -> np.ndarray:
        """X shaped as the joined model's input, float32."""
        return X.reshape(len(X), *self._model_shape).astype(np.float32, copy=False)

    def _fit(self, X: np.ndarray) -> None:
        """Resolve the architecture for X, build the networks, train them, and keep the score's references."""
        import keras

        if self.seed is not None:
            keras.utils.set_random_seed(int(self.seed))
        self.arch_ = resolve_architecture(self, X.shape[1:])
        self._build()
        self.history_ = train(
            self.model_, self._model_input(X), self.arch_, self, self.epochs, int(self.batch_size)
        )
        self._fit_score_reference(X)

    @property
    def n_epochs_(self) -> int:
        """Epochs (rounds, with ``epochs="auto"`` on tables) the fit ran before early stopping."""
        return len(dict(self.history_).get("loss", []))

    def _fit_score_reference(self, X: np.ndarray) -> None:
        """What the hybrid score needs from the training data: reference codes and scales."""
        if self.arch_["score"] != "hybrid":
            self.reference_codes_ = np.zeros(
                (0, member_count(self.arch_) * self.arch_["latent_dim"]), np.float32
            )
            self.score_scales_ = np.ones(2)
            return
        codes, R = self._encode_decode(X)
        self.reference_codes_, self.score_scales_, self._reference_rows = scores.hybrid_reference(
            X, R, codes, self.arch_.get("trim", 0.0), self.n_neighbors, self.seed
        )

    # -- scoring -------------------------------------------------------------------------------
    def _codes(self, X: np.ndarray) -> np.ndarray:
        """Bottleneck codes of adapted rows X (the posterior mean for the VAE)."""
        out = scores.predict_in_batches(self.encoder_model_, self._model_input(X))
        return np.asarray(out[0] if isinstance(out, (list, tuple)) else out)

    def _encode_decode(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(codes, each member's reconstructions, shape (n, members, *X.shape[1:])) from one
        encoder pass: the decoder runs on the codes (the posterior mean for the VAE), which is what
        the joined model computes at inference."""
        codes = self._codes(X).astype(np.float32, copy=False)
        R = np.asarray(scores.predict_in_batches(self.decoder_model_, codes))
        return codes, R.reshape(len(X), member_count(self.arch_), *X.shape[1:])

    def _score(self, X: np.ndarray) -> np.ndarray:
        """Anomaly scores of adapted rows X by the resolved score (``arch_["score"]``)."""
        how = self.arch_["score"]
        if how == "elbo":
            out = scores.predict_in_batches(self.encoder_model_, self._model_input(X))
            z_mean, z_log_var = (np.asarray(o, np.float64) for o in out)
            R = scores.predict_in_batches(self.decoder_model_, z_mean.astype(np.float32))
            return scores.negative_elbo(
                X, R, z_mean, z_log_var, self.arch_["unit_range"], float(self.beta)
            )
        codes, R = self._encode_decode(X)
        if how != "hybrid":
            return scores.member_errors(X, R, how).mean(axis=1)
        return scores.hybrid_score(
            X, R, codes, self.reference_codes_, self.score_scales_, self.n_neighbors
        )

    def _score_training(self, X: np.ndarray) -> np.ndarray:
        """``decision_scores_``: for the hybrid score, a training row that is a reference code is
        not its own neighbour (the rule its scale was measured by); new rows count every code."""
        rows = vars(self).pop("_reference_rows", None)  # set by the fit just made, for these rows
        if self.arch_["score"] != "hybrid" or rows is None:
            return self._score(X)
        codes, R = self._encode_decode(X)
        own = scores.own_reference_positions(rows, np.arange(len(X)))
        return scores.hybrid_score(
            X, R, codes, self.reference_codes_, self.score_scales_, self.n_neighbors, own
        )

    def _explain_features(self, X: np.ndarray):
        """Each feature's part of the table score's reconstruction term and, for the hybrid score and
        the VAE, the latent part (code distance, KL term), which add up to ``_score(X)`` (see
        ``synthkit.base._explaining``)."""
        from synthkit.base import LATENT

        how = self.arch_["score"]
        if how == "elbo":
            out = scores.predict_in_batches(self.encoder_model_, self._model_input(X))
            z_mean, z_log_var = (np.asarray(o, np.float64) for o in out)
            R = scores.predict_in_batches(self.decoder_model_, z_mean.astype(np.float32))
            part, latent = scores.explained_elbo(
                X, R, z_mean, z_log_var, self.arch_["unit_range"], float(self.beta)
            )
        elif how == "hybrid":
            codes, R = self._encode_decode(X)
            part, latent = scores.explained_hybrid(
                X, R, codes, self.reference_codes_, self.score_scales_, self.n_neighbors
            )
        elif how in ("mse", "l1", "bce"):
            return scores.feature_errors(X, self._encode_decode(X)[1], how).mean(axis=1)
        else:  # the image scores: explain refuses images before this
            return None
        return part, {LATENT: latent}

    # -- extras --------------------------------------------------------------------------------
    def encode(self, X) -> np.ndarray:
        """Bottleneck features, shape (n, latent_dim) (the posterior mean for the VAE); for an
        ensemble the members' codes side by side, shape (n, n_estimators * latent_dim)."""
        return self._codes(self._adapt(X)[0])

    def reconstruct(self, X) -> np.ndarray:
        """Reconstructions: of tables, in the adapted space (standardised features); of images, in
        the dtype, scale and shape of ``X`` (uint8 in, uint8 0..255 out; floats in [0, 1] in, floats
        in [0, 1] out), whatever the training images were. For an ensemble the mean of the members'
        reconstructions."""
        R = self._encode_decode(self._adapt(X)[0])[1].mean(axis=1)
        return self.adapter_.inverse_transform(R, like=X) if self.adapter_.kind == "image" else R

    def fine_tune(
        self,
        X,
        unfreeze_last: int | None = 2,
        epochs: int = 10,
        learning_rate: float | None = None,
        batch_size: int | None = None,
    ):
        """Retrain on new data X with all but the last ``unfreeze_last`` weight layers frozen.

        Layers count from the input to the output through encoder and decoder (the decoder's
        output layer is the last; in an ensemble each layer holds that layer of every member).
        ``unfreeze_last=None`` (or more than the number of layers) retrains all of them; 0 is an
        error (it would retrain nothing), as for every synthkit ``fine_tune``. The learning rate
        defaults to a tenth of the fit's. Afterwards the scores, threshold and the hybrid score's
        references are those of X: the model now describes X as normal.
        ``history_`` gains the fine-tuning losses under ``fine_tune``. Returns self.
        """
        Xa, _ = self._adapt(X)
        if len(Xa) == 0:
            raise DataError("no rows to fine-tune on")
        check_fine_tune_arguments(unfreeze_last, epochs)
        lr = float(learning_rate) if learning_rate is not None else float(self.learning_rate) / 10
        tuned, self.unfrozen_layers_ = train_last_layers(
            self.model_,
            self._model_input(Xa),
            self.arch_,
            self,
            unfreeze_last,
            epochs,
            lr,
            batch_size or self.batch_size,
        )
        self.history_ = {
            **{k: v for k, v in self.history_.items() if k != "fine_tune"},
            "fine_tune": tuned,
        }
        self._fit_score_reference(Xa)
        tuned_scores = self._checked_scores(self._score_training(Xa), len(Xa))
        self._process_decision_scores(tuned_scores)
        return self

    # -- saving --------------------------------------------------------------------------------
    def _get_state(self) -> dict:
        """Every public fitted attribute (``n_rows_affected_`` and ``unfrozen_layers_`` included),
        with the Keras networks as their weight arrays."""
        state = {k: v for k, v in super()._get_state().items() if k not in NETWORKS}
        state.update(network_weights(self.encoder_model_, "encoder_weight_"))
        state.update(network_weights(self.decoder_model_, "decoder_weight_"))
        state["score_scales_"] = np.asarray(self.score_scales_, np.float64)
        return state

    def _set_state(self, state: dict) -> None:
        """Restore the fitted attributes, then rebuild the networks from ``arch_`` and set their weights."""
        state = dict(state)
        encoder, decoder = (
            pop_weights(state, "encoder_weight_"),
            pop_weights(state, "decoder_weight_"),
        )
        super()._set_state(state)
        self.arch_ = dict(self.arch_)
        self._build()
        restore_network(self.encoder_model_, encoder, "encoder")
        restore_network(self.decoder_model_, decoder, "decoder")
