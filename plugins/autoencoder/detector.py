"""The autoencoder detector: anomaly score = per-sample reconstruction error."""

from __future__ import annotations

import numpy as np

from synthkit.detector import BaseDetector
from synthkit.errors import PluginError

KINDS = ("auto", "dense")


class AutoencoderDetector(BaseDetector):
    """A Keras autoencoder (encoder, bottleneck, decoder) trained to reconstruct normal data.

    The score of a row is its mean reconstruction error: binary cross-entropy for data in [0, 1]
    (images), mean squared error otherwise (standardised tables). Adam optimiser; early stopping
    on a ``validation_split`` share of the rows, restoring the best weights.
    """

    def __init__(self, kind: str = "auto", hidden_units=(64, 32), latent_dim: int = 8, epochs: int = 50,
                 batch_size: int = 128, learning_rate: float = 1e-3, validation_split: float = 0.1,
                 patience: int = 5, dropout: float = 0.0, contamination: float = 0.1, seed: int | None = 0,
                 verbose: int = 0, missing: str = "error"):
        self.kind = kind
        self.hidden_units = hidden_units
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_split = validation_split
        self.patience = patience
        self.dropout = dropout
        self.contamination = contamination
        self.seed = seed
        self.verbose = verbose
        self.missing = missing

    # -- building ------------------------------------------------------------------------------
    def _resolved_kind(self) -> str:
        if self.kind not in KINDS:
            raise PluginError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        return "dense"

    def _build(self, n_features: int, unit_range: bool):
        import keras

        from synthkit_plugins.autoencoder.networks import dense_decoder, dense_encoder

        self.encoder_model_ = dense_encoder(n_features, self.hidden_units, self.latent_dim, self.dropout)
        self.decoder_model_ = dense_decoder(n_features, self.hidden_units, self.latent_dim,
                                            "sigmoid" if unit_range else None)
        inputs = keras.Input(shape=(n_features,))
        self.model_ = keras.Model(inputs, self.decoder_model_(self.encoder_model_(inputs)), name="autoencoder")
        self.model_.compile(optimizer=keras.optimizers.Adam(self.learning_rate),
                            loss="binary_crossentropy" if unit_range else "mse")

    # -- the detector contract -----------------------------------------------------------------
    def _fit(self, X: np.ndarray) -> None:
        import keras

        self._resolved_kind()
        if self.seed is not None:
            keras.utils.set_random_seed(int(self.seed))
        X = X.reshape(len(X), -1)
        self.unit_range_ = bool(X.min() >= 0.0 and X.max() <= 1.0)
        self._build(X.shape[1], self.unit_range_)
        n_val = int(len(X) * float(self.validation_split)) if len(X) >= 20 else 0
        order = np.random.default_rng(self.seed).permutation(len(X))
        train, val = X[order[n_val:]], X[order[:n_val]]
        callbacks = []
        if n_val:
            callbacks.append(keras.callbacks.EarlyStopping(patience=int(self.patience), restore_best_weights=True))
        history = self.model_.fit(train, train, validation_data=(val, val) if n_val else None,
                                  epochs=int(self.epochs), batch_size=int(self.batch_size), shuffle=True,
                                  callbacks=callbacks, verbose=int(self.verbose))
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}

    def _score(self, X: np.ndarray) -> np.ndarray:
        X = X.reshape(len(X), -1)
        R = self.model_.predict(X, batch_size=1024, verbose=0)
        if self.unit_range_:
            eps = 1e-7
            R = np.clip(R, eps, 1 - eps)
            return -(X * np.log(R) + (1 - X) * np.log(1 - R)).mean(axis=1)
        return ((X - R) ** 2).mean(axis=1)

    # -- extras --------------------------------------------------------------------------------
    def encode(self, X) -> np.ndarray:
        """Bottleneck features of each row."""
        Xa, _ = self._adapt(X)
        return self.encoder_model_.predict(Xa.reshape(len(Xa), -1), batch_size=1024, verbose=0)

    def reconstruct(self, X) -> np.ndarray:
        """Reconstructions in the adapted space (standardised features, or images in [0, 1])."""
        Xa, _ = self._adapt(X)
        R = self.model_.predict(Xa.reshape(len(Xa), -1), batch_size=1024, verbose=0)
        return R.reshape(Xa.shape)

    # -- saving --------------------------------------------------------------------------------
    def _get_state(self) -> dict:
        state = {f"weight_{i}": w for i, w in enumerate(self.model_.get_weights())}
        state.update(unit_range_=self.unit_range_, history_=self.history_, threshold_=self.threshold_,
                     decision_scores_=self.decision_scores_, labels_=self.labels_,
                     n_features_in_=self.n_features_in_)
        return state

    def _set_state(self, state: dict) -> None:
        weights = [state.pop(f"weight_{i}") for i in range(sum(k.startswith("weight_") for k in state))]
        for k, v in state.items():
            setattr(self, k, v)
        self.unit_range_ = bool(self.unit_range_)
        self._build(int(self.n_features_in_), self.unit_range_)
        self.model_.set_weights(weights)
