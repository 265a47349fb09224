"""The autoencoder detector family: dense, convolutional, variational and denoising autoencoders.

Kinds (parameter ``kind``):

- ``dense``: fully connected encoder and decoder (tables; images are flattened);
- ``conv``: strided convolutions down, transposed convolutions up (images only);
- ``vae``: a variational autoencoder (convolutional for images, dense for tables);
- ``denoising``: Gaussian noise (``noise_std``) on the inputs during training, clean targets
  (convolutional for images, dense for tables);
- ``auto`` (default): ``conv`` for images, ``dense`` for tables.

Ensembles (parameter ``n_estimators``, dense backbone only): that many autoencoders of the same
shape trained side by side in one Keras model (``networks.MemberDense``: each layer holds every
member's weights and applies them in one batched product), each from its own initial weights and
with its own (trimmed) loss; they see the same batches and stop early together. Each member scores
a row as a single network would, and the ensemble's score is the mean. Averaging removes much of a
single network's dependence on its random start, as in autoencoder ensembles for outlier detection
(Chen et al. 2017). ``auto``: 5 on tables, 1 on images and for the VAE.

Scores (higher = more anomalous), parameter ``scoring`` (called ``score`` before; ``score=`` is still
accepted, with a DeprecationWarning, and model directories saved with it load unchanged):

- ``mse``, ``l1``, ``bce``: mean squared, absolute or binary cross-entropy reconstruction error per
  sample (``bce`` only for data in [0, 1]);
- ``structural`` (images): the reconstruction residual smoothed with a Gaussian of 1 pixel, squared,
  and averaged over the worst 10% of pixels. Smoothing cancels the thin +/- fringes a slightly
  shifted or thicker stroke leaves, which plain squared error counts as damage; keeping the worst
  pixels scores a missing or extra stroke by its own size, not diluted by the background. On the
  MNIST one-class benchmark it lifts the mean ROC-AUC from 0.960 (squared error) to 0.978;
- ``relative`` (images): the structural score divided by the image's ink, its mean pixel value
  (plus ``RELATIVE_FLOOR``, so that a blank image does not divide by zero): the damage measured
  against how much there is to reconstruct. A normal image with many strokes (an 8) leaves a larger
  residual than one with few (a 1) however well it is modelled; dividing by the ink corrects for
  that input complexity, in the spirit of Serra et al. 2020. On the MNIST one-class benchmark it
  lifts the mean ROC-AUC from 0.979 (structural) to 0.990;
- ``hybrid``: the mean squared reconstruction error plus the mean distance of the bottleneck code
  to its ``n_neighbors`` nearest training codes, each divided by its median on the training data so
  the two parts weigh alike whatever the data's scale; with ``trim`` > 0 the reference codes leave
  out the ``trim`` share of training rows reconstructed worst, as the loss did. In an ensemble each
  member measures both parts in its own code space, with its own medians and its own random share
  of the ``MAX_REFERENCE_CODES`` reference codes;
- ``elbo`` (VAE): the negative evidence lower bound at the posterior mean, per feature:
  (reconstruction negative log-likelihood of the decoded posterior mean + KL(q(z|x) || N(0, I)))
  divided by the number of features. Deterministic: no sampling at scoring time;
- ``auto``: ``elbo`` for the VAE; otherwise ``relative`` for images and ``hybrid`` for tables.

TensorFlow loads only when a model is fitted or loaded, not when the plugin is registered.
"""

from __future__ import annotations

import numpy as np

from synthkit.base import bad_state
from synthkit.detector import BaseDetector
from synthkit.parameters import renamed_parameters
from synthkit.errors import DataError, NotFittedError, PluginError

KINDS = ("auto", "dense", "conv", "vae", "denoising")
SCORES = ("auto", "mse", "l1", "bce", "structural", "relative", "hybrid", "elbo")
STRUCTURAL_SIGMA = 1.0  # pixels: the Gaussian that smooths the residual for the structural score
STRUCTURAL_TOP = 0.1  # share of the worst pixels the structural score averages
RELATIVE_FLOOR = 0.02  # added to the mean pixel value the relative score divides by
MAX_REFERENCE_CODES = 10_000  # training codes kept for the hybrid score's nearest-neighbour part, all members
PREDICT_BATCH = 1024
IMAGE_EPOCHS = 40  # epochs="auto" on images
TABLE_ROUNDS, TABLE_ROUND_STEPS = 20, 25  # epochs="auto" on tables: 20 rounds of 25 batches
TABLE_TRIM = 0.2  # trim="auto" on tables: share of each batch's worst rows left out of the loss
TABLE_MEMBERS = 5  # n_estimators="auto" on tables: autoencoders trained side by side, scores averaged
NETWORKS = ("model_", "encoder_model_", "decoder_model_")  # Keras models: saved as weights, rebuilt from arch_


class AutoencoderDetector(BaseDetector):
    """A Keras autoencoder (encoder, bottleneck, decoder) trained to reconstruct normal data.

    Parameters: ``kind`` (see the module docstring); ``hidden_units`` (dense layers of the encoder,
    mirrored in the decoder; ``"auto"`` scales them with the number of features); ``filters``
    (convolution channels, one strided layer each); ``latent_dim`` (bottleneck size, ``"auto"``:
    32 for images, about a quarter of the features for tables, between 2 and 32); ``noise_std``
    (denoising kind); ``beta`` (VAE weight of the KL term); ``scoring`` (the anomaly score; see
    the module docstring; ``score=`` is its deprecated name); ``n_neighbors`` (hybrid score);
    ``epochs`` (``"auto"``: 40 full passes on images; on tables 20 rounds of 25 batches, 500
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

    # ``score`` was ``scoring``'s name; as an attribute it hid the estimator's ``score`` method from
    # scikit-learn (cross_val_score, Pipeline). ``score=`` still works, with a DeprecationWarning.
    @renamed_parameters(score="scoring")
    def __init__(self, kind: str = "auto", hidden_units="auto", filters=(16, 32), latent_dim="auto",
                 noise_std: float = 0.2, beta: float = 1.0, scoring: str = "auto", n_neighbors: int = 5,
                 epochs="auto", batch_size: int = 64, trim="auto", n_estimators="auto",
                 learning_rate: float = 1e-3,
                 validation_split: float = 0.1, patience: int = 5, average_weights: float = 0.4,
                 dropout: float = 0.0,
                 contamination: float = 0.1, seed: int | None = 0, verbose: int = 0, missing: str = "error"):
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
    def _check_params(self, is_image: bool) -> None:
        if self.kind not in KINDS:
            raise PluginError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "conv" and not is_image:
            raise PluginError("kind='conv' needs images; for tables use kind='dense' (or 'auto')")
        if self.scoring not in SCORES:
            raise PluginError(f"scoring must be one of {', '.join(SCORES)}, got {self.scoring!r}")
        if self.scoring == "elbo" and self.kind != "vae":
            raise PluginError("scoring='elbo' needs kind='vae'; pick mse, l1, bce or hybrid for other kinds")
        for name in ("epochs", "batch_size", "n_neighbors", "n_estimators"):
            v = getattr(self, name)
            if name in ("epochs", "n_estimators") and v == "auto":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                also = " or 'auto'" if name in ("epochs", "n_estimators") else ""
                raise PluginError(f"{name} must be a positive integer{also}, got {v!r}")
        for name in ("learning_rate", "beta"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise PluginError(f"{name} must be a positive number, got {v!r}")
        if isinstance(self.noise_std, bool) or not isinstance(self.noise_std, (int, float)) or self.noise_std < 0:
            raise PluginError(f"noise_std must be a number >= 0, got {self.noise_std!r}")
        if not isinstance(self.validation_split, (int, float)) or not 0 <= self.validation_split < 1:
            raise PluginError(f"validation_split must be in [0, 1), got {self.validation_split!r}")
        if isinstance(self.average_weights, bool) or not isinstance(self.average_weights, (int, float)) \
                or not 0 <= self.average_weights <= 1:
            raise PluginError(f"average_weights must be in [0, 1], got {self.average_weights!r}")
        if self.trim != "auto" and (isinstance(self.trim, bool) or not isinstance(self.trim, (int, float))
                                    or not 0 <= self.trim < 0.5):
            raise PluginError(f"trim must be 'auto' or a number in [0, 0.5), got {self.trim!r}")
        if not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise PluginError(f"dropout must be in [0, 1), got {self.dropout!r}")
        self._layer_sizes(self.filters, "filters")
        if self.hidden_units != "auto":
            self._layer_sizes(self.hidden_units, "hidden_units")
        if self.latent_dim != "auto" and (isinstance(self.latent_dim, bool)
                                          or not isinstance(self.latent_dim, (int, np.integer)) or self.latent_dim < 1):
            raise PluginError(f"latent_dim must be a positive integer or 'auto', got {self.latent_dim!r}")

    def _validate_params(self, data_kind: str) -> None:
        self._check_params(data_kind == "image")  # its own messages first
        super()._validate_params(data_kind)

    def _check_state(self) -> None:
        """The resolved architecture (``arch_``) names a known kind and score, with sizes that fit the
        data; ``history_`` is a dict of losses; the hybrid score's scales are positive."""
        super()._check_state()
        arch = self.arch_
        shape = [int(v) for v in getattr(self.adapter_, "shape", None) or ()] or [len(self.adapter_.feature_names)]
        sizes = lambda v: isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in v)
        number = lambda v, lo, hi: (isinstance(v, (int, float)) and not isinstance(v, bool)
                                    and bool(np.isfinite(v)) and lo <= v < hi)
        problems = {
            "kind": arch.get("kind") in KINDS[1:],
            "backbone": arch.get("backbone") in ("dense", "conv"),
            "score": arch.get("score") in SCORES[1:],
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
        if not isinstance(self.history_, dict) or not all(isinstance(k, str) for k in self.history_):
            raise bad_state("history_", "must map loss names to their values per epoch")
        scales = np.asarray(self.score_scales_)
        if scales.dtype.kind not in "fiu" or not np.isfinite(scales).all() or (scales <= 0).any():
            raise bad_state("score_scales_", "must be positive numbers")
        if not isinstance(vars(self).get("unfrozen_layers_", []), list):
            raise bad_state("unfrozen_layers_", "must be a list of layer names")

    @staticmethod
    def _layer_sizes(value, name: str) -> list[int]:
        if isinstance(value, str):  # from the CLI: --param filters=16,32
            value = [v for v in value.replace(" ", "").split(",") if v]
        try:
            sizes = [int(v) for v in value]
        except (TypeError, ValueError):
            raise PluginError(f"{name} must be a list of positive integers (CLI: {name}=64,32), got {value!r}") from None
        if not sizes or any(s < 1 for s in sizes):
            raise PluginError(f"{name} must be a non-empty list of positive integers, got {value!r}")
        return sizes

    def _architecture(self, input_shape, unit_range: bool) -> dict:
        """Resolved sizes for data of ``input_shape`` (stored in the model, rebuilt on load)."""
        is_image = len(input_shape) == 3
        n = int(np.prod(input_shape))
        kind = self.kind if self.kind != "auto" else ("conv" if is_image else "dense")
        backbone = "conv" if is_image and kind != "dense" else "dense"
        if self.latent_dim == "auto":
            latent = 32 if is_image else int(np.clip(round(n / 4), 2, 32))
        else:
            latent = int(self.latent_dim)
        if self.hidden_units == "auto":
            first = int(np.clip(2 ** round(np.log2(max(n, 1))), 16, 256))
            hidden = [first, max(first // 2, latent)]
        else:
            hidden = self._layer_sizes(self.hidden_units, "hidden_units")
        if self.scoring != "auto":
            score = self.scoring
        else:
            score = "elbo" if kind == "vae" else ("relative" if is_image else "hybrid")
        if self.trim == "auto":
            trim = 0.0 if is_image or kind == "vae" else TABLE_TRIM
        else:
            trim = float(self.trim)
        if trim and kind == "vae":
            raise PluginError("trim applies to the reconstruction loss; use trim=0 with kind='vae'")
        if self.n_estimators == "auto":
            members = 1 if is_image or kind == "vae" else TABLE_MEMBERS
        else:
            members = int(self.n_estimators)
        if members > 1 and (backbone != "dense" or kind == "vae"):
            raise PluginError("n_estimators > 1 needs a dense, non-variational autoencoder (tables, or "
                              "kind='dense' on images); use n_estimators=1 otherwise")
        if score in ("structural", "relative") and not is_image:
            raise PluginError(f"scoring={score!r} needs images; use hybrid, mse or l1 for tables")
        if score == "bce" and not unit_range:
            raise PluginError("scoring='bce' needs data in [0, 1] (images); use mse, l1 or hybrid for tables")
        return {"kind": kind, "backbone": backbone, "input_shape": [int(v) for v in input_shape],
                "latent_dim": latent, "hidden_units": hidden, "filters": self._layer_sizes(self.filters, "filters"),
                "unit_range": bool(unit_range), "score": score, "trim": trim, "members": members,
                "noise_std": float(self.noise_std) if kind == "denoising" else 0.0}

    # -- building ------------------------------------------------------------------------------
    def _build(self, arch: dict):
        import keras

        from synthkit_plugins.autoencoder import networks as nets

        shape, kind, latent = arch["input_shape"], arch["kind"], arch["latent_dim"]
        heads = 2 if kind == "vae" else 1
        if arch["backbone"] == "conv":
            self.encoder_model_ = nets.conv_encoder(shape, arch["filters"], latent, outputs=heads)
            self.decoder_model_ = nets.conv_decoder(shape, arch["filters"], latent)
        else:
            n = int(np.prod(shape))
            members = _members(arch)
            self.encoder_model_ = nets.dense_encoder(n, arch["hidden_units"], latent, float(self.dropout),
                                                     outputs=heads, members=members)
            self.decoder_model_ = nets.dense_decoder(n, arch["hidden_units"], latent,
                                                     "sigmoid" if arch["unit_range"] else None, members=members)
        model_shape = shape if arch["backbone"] == "conv" else [int(np.prod(shape))]
        if kind == "vae":
            self.model_ = nets.VAE(self.encoder_model_, self.decoder_model_, bernoulli=arch["unit_range"],
                                   beta=float(self.beta), seed=self.seed, name="vae")
            self.model_(np.zeros((1, *model_shape), np.float32))
        else:
            self.model_ = nets.autoencoder(self.encoder_model_, self.decoder_model_, model_shape,
                                           noise_std=arch["noise_std"], seed=self.seed)
        self._compile(float(self.learning_rate))
        self._model_shape = model_shape

    def _compile(self, learning_rate: float) -> None:
        import keras

        optimizer = keras.optimizers.Adam(learning_rate)
        if self.arch_["kind"] == "vae":
            self.model_.compile(optimizer=optimizer)
        else:
            from synthkit_plugins.autoencoder.networks import trimmed_loss

            bernoulli, trim, members = self.arch_["unit_range"], self.arch_.get("trim", 0.0), _members(self.arch_)
            if trim or members > 1:
                loss = trimmed_loss(trim, bernoulli, members)
            else:
                loss = "binary_crossentropy" if bernoulli else "mse"
            self.model_.compile(optimizer=optimizer, loss=loss)

    def _model_input(self, X: np.ndarray) -> np.ndarray:
        return X.reshape(len(X), *self._model_shape).astype(np.float32, copy=False)

    # -- training ------------------------------------------------------------------------------
    def _train(self, X: np.ndarray, epochs, batch_size: int) -> dict:
        """Fit the network on X with a validation split; ``epochs="auto"`` (see _schedule)."""
        import keras

        from synthkit_plugins.autoencoder.networks import WeightAveraging

        X = self._model_input(X)
        n_val = int(len(X) * float(self.validation_split)) if len(X) >= 20 else 0
        order = np.random.default_rng(self.seed).permutation(len(X))
        train, val = X[order[n_val:]], X[order[:n_val]]
        batch_size = int(min(batch_size, len(train)))
        epochs, steps = self._schedule(epochs)
        callbacks = []
        if n_val and self.patience:
            callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=int(self.patience),
                                                           restore_best_weights=True))
        averaged = int(round(float(self.average_weights) * epochs))
        if averaged:
            callbacks.append(WeightAveraging(start=epochs - averaged + 1))
        target = (lambda a: (a,)) if self.arch_["kind"] == "vae" else (lambda a: (a, a))
        fit = dict(validation_data=target(val) if n_val else None, epochs=epochs, callbacks=callbacks,
                   verbose=int(self.verbose))
        if steps:
            history = self.model_.fit(self._batch_stream(target(train), batch_size), steps_per_epoch=steps,
                                      shuffle=False, **fit)
        else:
            history = self.model_.fit(*target(train), batch_size=batch_size, shuffle=True, **fit)
        return {k: [float(v) for v in vals] for k, vals in history.history.items()}

    def _schedule(self, epochs) -> tuple[int, int | None]:
        """(epochs, batches per epoch; None for full passes over the data).

        ``epochs="auto"`` on images: IMAGE_EPOCHS full passes. On tables: TABLE_ROUNDS rounds of
        TABLE_ROUND_STEPS batches each, drawn from the reshuffled rows, so training takes 500
        optimizer steps whatever the table's size: a table of a hundred rows is cycled through
        many times, a large one is sampled. An autoencoder learns the bulk of the data before it
        learns its outliers; a fixed short schedule stops in that window, and a fixed number of
        rounds keeps early stopping and weight averaging meaningful on tiny tables.
        """
        if epochs != "auto":
            return int(epochs), None
        if len(self.arch_["input_shape"]) == 3:
            return IMAGE_EPOCHS, None
        return TABLE_ROUNDS, TABLE_ROUND_STEPS

    def _batch_stream(self, arrays: tuple, batch_size: int):
        """An endless tf.data stream of shuffled batches of ``arrays`` (reshuffled every pass)."""
        import tensorflow as tf

        seed = None if self.seed is None else int(self.seed)
        return (tf.data.Dataset.from_tensor_slices(arrays)
                .shuffle(len(arrays[0]), seed=seed, reshuffle_each_iteration=True)
                .repeat().batch(batch_size).prefetch(tf.data.AUTOTUNE))

    def _fit(self, X: np.ndarray) -> None:
        import keras

        is_image = X.ndim == 4
        self._check_params(is_image)
        if self.seed is not None:
            keras.utils.set_random_seed(int(self.seed))
        unit_range = is_image  # images are in [0, 1]; tables are standardised
        self.arch_ = self._architecture(X.shape[1:], unit_range)
        self._build(self.arch_)
        self.history_ = self._train(X, self.epochs, int(self.batch_size))
        self._fit_score_reference(X)

    @property
    def n_epochs_(self) -> int:
        """Epochs (rounds, with ``epochs="auto"`` on tables) the fit ran before early stopping."""
        return len(dict(self.history_).get("loss", []))

    def _fit_score_reference(self, X: np.ndarray) -> None:
        """What the hybrid score needs from the training data: reference codes and scales."""
        if self.arch_["score"] != "hybrid":
            self.reference_codes_ = np.zeros((0, _members(self.arch_) * self.arch_["latent_dim"]), np.float32)
            self.score_scales_ = np.ones(2)
            return
        codes, R = self._encode_decode(X)
        rec = self._member_errors(X, R, "mse")
        keep = np.arange(len(X))
        trim = self.arch_.get("trim", 0.0)
        if trim:  # the rows the network reconstructs worst are no references of normal codes either
            mean_rec = rec.mean(axis=1)
            keep = np.flatnonzero(mean_rec <= np.quantile(mean_rec, 1.0 - trim))
        # at most MAX_REFERENCE_CODES in all, so that an ensemble scores as fast as one network:
        # each member keeps its own random share of the rows, in its own columns
        members, latent = _members(self.arch_), self.arch_["latent_dim"]
        rng = np.random.default_rng(self.seed)
        picks = [np.sort(keep[rng.permutation(len(keep))[:MAX_REFERENCE_CODES // members]]) for _ in range(members)]
        self.reference_codes_ = np.hstack([codes[rows, m * latent:(m + 1) * latent] for m, rows in enumerate(picks)])
        knn = self._knn_distances(codes[keep], exclude_self=True)
        self.score_scales_ = np.array([[_positive_median(v) for v in part.T] for part in (rec, knn)])

    # -- scoring -------------------------------------------------------------------------------
    def _codes(self, X: np.ndarray) -> np.ndarray:
        out = _predict(self.encoder_model_, self._model_input(X))
        return np.asarray(out[0] if isinstance(out, (list, tuple)) else out)

    def _encode_decode(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(codes, each member's reconstructions, shape (n, members, *X.shape[1:])) from one
        encoder pass: the decoder runs on the codes (the posterior mean for the VAE), which is what
        the joined model computes at inference."""
        codes = self._codes(X).astype(np.float32, copy=False)
        R = np.asarray(_predict(self.decoder_model_, codes))
        return codes, R.reshape(len(X), _members(self.arch_), *X.shape[1:])

    def _reconstruct_array(self, X: np.ndarray) -> np.ndarray:
        return self._encode_decode(X)[1].mean(axis=1)

    def _member_errors(self, X: np.ndarray, R: np.ndarray, how: str) -> np.ndarray:
        """Per-sample errors of each member's reconstructions R (n, members, ...): (n, members)."""
        return np.stack([self._errors(X, R[:, m], how) for m in range(R.shape[1])], axis=1)

    @staticmethod
    def _errors(X: np.ndarray, R: np.ndarray, how: str) -> np.ndarray:
        if how == "structural":
            return _structural_error(X, R)
        if how == "relative":
            return _structural_error(X, R) / (X.reshape(len(X), -1).mean(axis=1) + RELATIVE_FLOOR)
        X = X.reshape(len(X), -1).astype(np.float64)
        R = R.reshape(len(R), -1).astype(np.float64)
        if how == "l1":
            return np.abs(X - R).mean(axis=1)
        if how == "bce":
            R = np.clip(R, 1e-7, 1 - 1e-7)
            return -(X * np.log(R) + (1 - X) * np.log(1 - R)).mean(axis=1)
        return ((X - R) ** 2).mean(axis=1)

    def _knn_distances(self, codes: np.ndarray, exclude_self: bool = False) -> np.ndarray:
        """Mean distance of each row's code to its ``n_neighbors`` nearest reference codes, in
        each member's own code space: (n, members)."""
        from sklearn.neighbors import NearestNeighbors

        members = _members(self.arch_)
        k = min(int(self.n_neighbors) + int(exclude_self), len(self.reference_codes_))
        if k < 1:
            return np.zeros((len(codes), members))
        out = []
        for ref, own in zip(np.split(self.reference_codes_, members, axis=1), np.split(codes, members, axis=1)):
            # brute force: exact like a tree, and several times faster on low-dimensional codes
            # (100k queries against 2,000 codes in 8 dimensions: 0.34 s against 1.9 s)
            dist, _ = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(ref).kneighbors(own.astype(np.float32))
            out.append((dist[:, 1:] if exclude_self and k > 1 else dist).mean(axis=1))
        return np.stack(out, axis=1)

    def _score(self, X: np.ndarray) -> np.ndarray:
        how = self.arch_["score"]
        if how == "elbo":
            return self._negative_elbo(X)
        codes, R = self._encode_decode(X)
        if how != "hybrid":
            return self._member_errors(X, R, how).mean(axis=1)
        rec_scale, knn_scale = np.reshape(self.score_scales_, (2, -1))
        rec = self._member_errors(X, R, "mse") / rec_scale
        knn = self._knn_distances(codes) / knn_scale
        return (rec + knn).mean(axis=1)

    def _negative_elbo(self, X: np.ndarray) -> np.ndarray:
        out = _predict(self.encoder_model_, self._model_input(X))
        z_mean, z_log_var = (np.asarray(o, np.float64) for o in out)
        R = _predict(self.decoder_model_, z_mean.astype(np.float32))
        n = X[0].size
        if self.arch_["unit_range"]:
            rec = self._errors(X, R, "bce") * n
        else:
            rec = 0.5 * self._errors(X, R, "mse") * n
        kl = -0.5 * (1.0 + z_log_var - z_mean ** 2 - np.exp(z_log_var)).sum(axis=1)
        return (rec + float(self.beta) * kl) / n

    # -- extras --------------------------------------------------------------------------------
    def encode(self, X) -> np.ndarray:
        """Bottleneck features, shape (n, latent_dim) (the posterior mean for the VAE); for an
        ensemble the members' codes side by side, shape (n, n_estimators * latent_dim)."""
        Xa = self._adapted(X)
        return self._codes(Xa)

    def reconstruct(self, X) -> np.ndarray:
        """Reconstructions: of tables, in the adapted space (standardised features); of images, in
        the dtype, scale and shape of ``X`` (uint8 in, uint8 0..255 out; floats in [0, 1] in, floats
        in [0, 1] out), whatever the training images were. For an ensemble the mean of the members'
        reconstructions."""
        Xa = self._adapted(X)
        R = self._reconstruct_array(Xa)
        return self.adapter_.inverse_transform(R, like=X) if self.adapter_.kind == "image" else R

    def fine_tune(self, X, unfreeze_last: int | None = 2, epochs: int = 10, learning_rate: float | None = None,
                  batch_size: int | None = None):
        """Retrain on new data X with all but the last ``unfreeze_last`` weight layers frozen.

        Layers count from the input to the output through encoder and decoder (the decoder's
        output layer is the last; in an ensemble each layer holds that layer of every member).
        ``unfreeze_last=None`` (or more than the number of layers) retrains all of them; 0 is an
        error (it would retrain nothing), as for every synthkit ``fine_tune``. The learning rate
        defaults to a tenth of the fit's. Afterwards the scores, threshold and the hybrid score's
        references are those of X: the model now describes X as normal.
        ``history_`` gains the fine-tuning losses under ``fine_tune``. Returns self.
        """
        from synthkit_plugins.autoencoder.networks import trainable_layers

        Xa = self._adapted(X)
        if len(Xa) == 0:
            raise DataError("no rows to fine-tune on")
        check_unfreeze_last(unfreeze_last)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise PluginError(f"epochs must be a positive integer, got {epochs!r}")
        import keras

        if self.seed is not None:
            keras.utils.set_random_seed(int(self.seed) + 1)
        layers = trainable_layers(self.model_)
        k = len(layers) if unfreeze_last is None else min(int(unfreeze_last), len(layers))
        for i, layer in enumerate(layers):
            layer.trainable = i >= len(layers) - k
        lr = float(learning_rate) if learning_rate is not None else float(self.learning_rate) / 10
        self._compile(lr)
        tuned = self._train(Xa, int(epochs), int(batch_size or self.batch_size))
        for layer in layers:
            layer.trainable = True
        self._compile(float(self.learning_rate))
        self.history_ = {**{k_: v for k_, v in self.history_.items() if k_ != "fine_tune"}, "fine_tune": tuned}
        self.unfrozen_layers_ = [layer.name for layer in layers[len(layers) - k:]]
        self._fit_score_reference(Xa)
        scores = self._checked_scores(self._score(Xa), len(Xa))
        self.decision_scores_ = scores
        self.threshold_ = float(np.quantile(scores, 1.0 - self._contamination()))
        self.labels_ = (scores > self.threshold_).astype(int)
        return self

    def _adapted(self, X) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")
        Xa, _ = self._adapt(X)
        return Xa

    # -- saving --------------------------------------------------------------------------------
    def _get_state(self) -> dict:
        """Every public fitted attribute (``n_rows_affected_`` and ``unfrozen_layers_`` included),
        with the Keras networks as their weight arrays."""
        state = {k: v for k, v in super()._get_state().items() if k not in NETWORKS}
        state.update({f"encoder_weight_{i}": np.asarray(w) for i, w in enumerate(self.encoder_model_.get_weights())})
        state.update({f"decoder_weight_{i}": np.asarray(w) for i, w in enumerate(self.decoder_model_.get_weights())})
        state["score_scales_"] = np.asarray(self.score_scales_, np.float64)
        return state

    def _set_state(self, state: dict) -> None:
        state = dict(state)
        enc = [state.pop(f"encoder_weight_{i}") for i in range(sum(k.startswith("encoder_weight_") for k in state))]
        dec = [state.pop(f"decoder_weight_{i}") for i in range(sum(k.startswith("decoder_weight_") for k in state))]
        for k, v in state.items():
            setattr(self, k, v)
        self.arch_ = dict(self.arch_)
        self._build(self.arch_)
        self.encoder_model_.set_weights(enc)
        self.decoder_model_.set_weights(dec)


def check_unfreeze_last(value) -> None:
    """``fine_tune``'s ``unfreeze_last``: a positive number of layers, or None for all of them."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
        raise PluginError(f"unfreeze_last must be a positive integer (the last layers to retrain), or None "
                          f"to retrain all layers, got {value!r}")


def _predict(model, X: np.ndarray):
    """Outputs of ``model`` on X in batches, as numpy (a list for several outputs).

    A direct call rather than ``model.predict``: no per-call tracing, which dominates on small data.
    """
    parts = []
    for start in range(0, len(X), PREDICT_BATCH):
        out = model(X[start:start + PREDICT_BATCH], training=False)
        parts.append([np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)])
    if not parts:
        raise DataError("no rows to run the model on")
    merged = [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
    return merged if len(merged) > 1 else merged[0]


def _structural_error(X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Per image (n, h, w, c): the residual smoothed over height and width, squared, averaged over
    the worst ``STRUCTURAL_TOP`` share of its values (see the module docstring)."""
    from scipy.ndimage import gaussian_filter

    D = X.astype(np.float64) - R.reshape(X.shape).astype(np.float64)
    D = gaussian_filter(D, sigma=(0, STRUCTURAL_SIGMA, STRUCTURAL_SIGMA, 0)).reshape(len(X), -1) ** 2
    k = max(1, int(round(STRUCTURAL_TOP * D.shape[1])))
    return np.partition(D, D.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


def _members(arch: dict) -> int:
    """Autoencoders in the model (``n_estimators``); saved models from before it held one."""
    return int(arch.get("members", 1))


def _positive_median(values: np.ndarray) -> float:
    m = float(np.median(values)) if len(values) else 1.0
    return m if m > 1e-12 else max(float(np.mean(values)) if len(values) else 1.0, 1e-12)
