"""GANGenerator: the ``gan`` plugin's BaseGenerator, dispatching to the image or the table GAN."""

from __future__ import annotations

import numbers

import numpy as np

from synthkit.errors import DataError, PluginError
from synthkit.generator import BaseGenerator

KINDS = ("auto", "image", "table")
DEFAULTS = {  # per kind: epochs, batch_size, latent_dim, learning_rate
    "image": {"epochs": 60, "batch_size": 128, "latent_dim": 64, "learning_rate": 4e-4},
    "table": {"epochs": 100, "batch_size": 500, "latent_dim": 128, "learning_rate": 2e-4},
}


class GANGenerator(BaseGenerator):
    """Conditional GAN: an AC-GAN DCGAN for images, a CTGAN-style WGAN-GP for tables.

    ``kind`` is ``auto`` (from the data), ``image`` or ``table``. ``epochs``, ``batch_size``,
    ``latent_dim`` and ``learning_rate`` default per kind (None). ``max_seconds`` stops training
    after the epoch that crosses it. ``seed`` fixes the weights' initialisation and the training
    noise; ``sample(n, seed=...)`` with a given seed returns the same samples every time.
    ``ema_decay``: the generator used for sampling is an exponential moving average of the trained
    one's weights (0: the trained one). Images only: ``width`` (channels of the first convolution;
    the second has twice as many). Tables only: ``pac`` (rows the critic judges together),
    ``max_modes`` (Gaussian-mixture modes per column) and ``mismatch_weight`` (with labels: weight of
    the critic's real-rows-with-a-wrong-label term; 0 turns it off).
    """

    def __init__(self, kind: str = "auto", epochs: int | None = None, batch_size: int | None = None,
                 latent_dim: int | None = None, learning_rate: float | None = None, width: int = 32,
                 ema_decay: float = 0.995, pac: int = 10, max_modes: int = 10, mismatch_weight: float = 0.3,
                 max_seconds: float | None = None, seed: int | None = 0, verbose: int = 0, missing: str = "error"):
        self.kind = kind
        self.epochs = epochs
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.learning_rate = learning_rate
        self.width = width
        self.ema_decay = ema_decay
        self.pac = pac
        self.max_modes = max_modes
        self.mismatch_weight = mismatch_weight
        self.max_seconds = max_seconds
        self.seed = seed
        self.verbose = verbose
        self.missing = missing

    def _setting(self, name: str, kind: str):
        value = getattr(self, name)
        return DEFAULTS[kind][name] if value is None else value

    def _check(self, kind: str) -> None:
        if self.kind not in KINDS:
            raise PluginError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind != "auto" and self.kind != kind:
            raise DataError(f"kind={self.kind!r} but the data is {'a table' if kind == 'table' else 'images'}; "
                            "use kind=auto")
        for name in ("epochs", "batch_size", "latent_dim", "width", "pac", "max_modes"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
                raise PluginError(f"{name} must be a positive integer, got {v!r}")
        _number("ema_decay", self.ema_decay, 0.0, 1.0)
        _number("mismatch_weight", self.mismatch_weight)
        _number("learning_rate", self.learning_rate, lo_open=True, none=True)
        _number("max_seconds", self.max_seconds, hi_open=False, none=True)
        _check_seed_and_verbose(self.seed, self.verbose)

    # -- the generator contract ----------------------------------------------------------------
    def _fit(self, X: np.ndarray, y) -> None:
        kind = self.adapter_.kind
        self._check(kind)
        self.kind_ = kind
        self.n_classes_ = 0 if y is None else len(self.classes_)
        common = dict(epochs=int(self._setting("epochs", kind)), batch_size=int(self._setting("batch_size", kind)),
                      learning_rate=float(self._setting("learning_rate", kind)), seed=self.seed,
                      verbose=int(self.verbose), max_seconds=self.max_seconds)
        self.latent_dim_ = int(self._setting("latent_dim", kind))
        if kind == "image":
            from synthkit_plugins.gan.image import fit_image_gan

            self.generator_, self.history_ = fit_image_gan(X, y, self.n_classes_, latent_dim=self.latent_dim_,
                                                           width=int(self.width), ema_decay=float(self.ema_decay),
                                                           **common)
        else:
            from synthkit_plugins.gan.table import fit_table_gan

            if int(self.pac) > len(X):
                raise DataError(f"the table GAN needs at least pac={self.pac} rows, got {len(X)}; lower pac")
            self.generator_, self.space_, self.sampler_, self.offsets_, self.history_ = fit_table_gan(
                X, self.adapter_.columns, y, self.n_classes_, noise_dim=self.latent_dim_, pac=int(self.pac),
                max_modes=int(self.max_modes), ema_decay=float(self.ema_decay),
                mismatch_weight=float(self.mismatch_weight), **common)
        self.epochs_trained_ = len(self.history_["g_loss"])

    def _sample(self, n: int, y, rng: np.random.Generator) -> np.ndarray:
        if self.kind_ == "image":
            from synthkit_plugins.gan.image import generate_images

            z = rng.standard_normal((n, self.latent_dim_)).astype(np.float32)
            codes = None
            if self.n_classes_:
                codes = y if y is not None else rng.choice(self.n_classes_, n, p=self.class_freq_)
            return generate_images(self.generator_, z, codes, self.n_classes_)
        from synthkit_plugins.gan.table import generate_rows

        codes = None
        if self.n_classes_:
            codes = y if y is not None else rng.choice(self.n_classes_, n, p=self.class_freq_)
        return generate_rows(self.generator_, self.space_, self.sampler_, self.offsets_, self.n_classes_, n, codes,
                             rng, self.latent_dim_, len(self.adapter_.feature_names))

    def sample_images(self, per_class: int = 10, seed: int | None = None):
        """A matplotlib figure of generated images, one row per class (or a plain grid if unconditional)."""
        from synthkit.plots import image_grid

        if getattr(self, "kind_", None) != "image":
            raise PluginError("sample_images draws images; this generator was fitted on a table")
        if self.classes_ is None:
            return image_grid(self.sample(per_class * 10, seed=seed), per_row=per_class)
        labels = np.repeat(self.classes_, per_class)
        return image_grid(self.sample(len(labels), y=labels, seed=seed), labels, per_row=per_class)

    # -- saving --------------------------------------------------------------------------------
    def _get_state(self) -> dict:
        state = {f"gen_w{i}": np.asarray(w) for i, w in enumerate(self.generator_.get_weights())}
        state.update(kind_=self.kind_, n_classes_=self.n_classes_, latent_dim_=self.latent_dim_,
                     history_=self.history_, epochs_trained_=self.epochs_trained_,
                     n_features_in_=self.n_features_in_)
        state.update(self._classes_state())
        if self.kind_ == "table":
            state["space_"] = self.space_.to_dict()
            state["offsets_"] = [int(v) for v in self.offsets_]
            s = self.sampler_
            state["sampler_levels_"] = s.levels
            state["sampler_codes_"] = s.codes
            state["sampler_ks_"] = [int(k) for k in s.ks]
        return state

    def _set_state(self, state: dict) -> None:
        weights = [state.pop(f"gen_w{i}") for i in range(sum(k.startswith("gen_w") for k in state))]
        self.kind_ = state.pop("kind_")
        self.n_classes_ = int(state.pop("n_classes_"))
        self.latent_dim_ = int(state.pop("latent_dim_"))
        self.history_ = state.pop("history_")
        self.epochs_trained_ = int(state.pop("epochs_trained_"))
        self.n_features_in_ = int(state.pop("n_features_in_"))
        self._restore_classes(state)
        if self.kind_ == "image":
            from synthkit_plugins.gan.image import build_generator

            self.generator_ = build_generator(self.latent_dim_, self.n_classes_, tuple(self.adapter_.shape), int(self.width))
        else:
            from synthkit_plugins.gan.table import CondSampler, TableSpace, build_networks

            self.space_ = TableSpace.from_dict(state.pop("space_"))
            self.offsets_ = [int(v) for v in state.pop("offsets_")]
            ks = [int(k) for k in state.pop("sampler_ks_")]
            self.sampler_ = CondSampler(np.asarray(state.pop("sampler_levels_")), np.asarray(state.pop("sampler_codes_")),
                                        ks, self.n_classes_)
            self.generator_, _ = build_networks(self.latent_dim_, int(sum(ks)) + self.n_classes_, self.space_.dim,
                                                (256, 256), int(self.pac))
        if len(weights) != len(self.generator_.get_weights()):
            raise ValueError("the saved generator weights do not fit the network")
        self.generator_.set_weights(weights)


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
