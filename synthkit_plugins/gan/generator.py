"""GANGenerator: the ``gan`` plugin's BaseGenerator, dispatching to the image or the table GAN."""

from __future__ import annotations

import numpy as np

from synthkit.base import bad_state, network_weights, pop_weights, restore_network
from synthkit.errors import DataError, PluginError
from synthkit.base import BaseGenerator
from synthkit.adapters import scaled_epochs
from synthkit.parameters import SEED_MAX, Interval, Options

KINDS = ("auto", "image", "table")
IMAGE_MIN_STEPS = 1500  # epochs=None on images: at least this many batches (scaled_epochs)
DEFAULTS = {  # per kind: epochs, batch_size, latent_dim, learning_rate
    "image": {"epochs": 60, "batch_size": 128, "latent_dim": 64, "learning_rate": 4e-4},
    "table": {"epochs": 100, "batch_size": 500, "latent_dim": 128, "learning_rate": 2e-4},
}


class GANGenerator(BaseGenerator):
    """Conditional GAN: an AC-GAN DCGAN for images, a CTGAN-style WGAN-GP for tables.

    ``kind`` is ``auto`` (from the data), ``image`` or ``table``. ``epochs``, ``batch_size``,
    ``latent_dim`` and ``learning_rate`` default per kind (None); on images larger than 32x32
    pixels the default epochs fall in proportion to the pixels, and small image sets train at least
    ``IMAGE_MIN_STEPS`` batches (see ``synthkit.adapters._image_sizes``). ``max_seconds`` stops training
    after the epoch that crosses it. ``seed`` fixes the weights' initialisation and the training
    noise; ``sample(n, seed=...)`` with a given seed returns the same samples every time.
    ``ema_decay``: the generator used for sampling is an exponential moving average of the trained
    one's weights (0: the trained one). Images only: ``width`` (channels of the first convolution;
    the second has twice as many). Tables only: ``pac`` (rows the critic judges together),
    ``max_modes`` (Gaussian-mixture modes per column) and ``mismatch_weight`` (with labels: weight of
    the critic's real-rows-with-a-wrong-label term; 0 turns it off).
    """

    _parameter_constraints = {
        "kind": [Options(KINDS)],
        "epochs": [Interval(int, 1, None), None],
        "batch_size": [Interval(int, 1, None), None],
        "latent_dim": [Interval(int, 1, None), None],
        "width": [Interval(int, 1, None)],
        "pac": [Interval(int, 1, None)],
        "max_modes": [Interval(int, 1, None)],
        "ema_decay": [Interval(float, 0, 1, closed="left")],
        "mismatch_weight": [Interval(float, 0, None)],
        "learning_rate": [Interval(float, 0, None, closed="neither"), None],
        "max_seconds": [Interval(float, 0, None), None],
        "seed": [Interval(int, 0, SEED_MAX), None],
        "verbose": [Interval(int, 0, None), bool],
    }

    def __init__(
        self,
        kind: str = "auto",
        epochs: int | None = None,
        batch_size: int | None = None,
        latent_dim: int | None = None,
        learning_rate: float | None = None,
        width: int = 32,
        ema_decay: float = 0.995,
        pac: int = 10,
        max_modes: int = 10,
        mismatch_weight: float = 0.3,
        max_seconds: float | None = None,
        seed: int | None = 0,
        verbose: int = 0,
        missing: str = "model",
    ):
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

    def _epochs(self, kind: str, data_shape) -> int:
        """``epochs``, or its default: on images (``data_shape`` (n, h, w, c)) 60 up to 32x32
        pixels, proportionally fewer on larger ones, and at least IMAGE_MIN_STEPS batches
        (``synthkit.adapters._image_sizes.scaled_epochs``); on tables a fixed count."""
        if self.epochs is not None or kind != "image":
            return int(self._setting("epochs", kind))
        return scaled_epochs(
            DEFAULTS["image"]["epochs"],
            data_shape[1:],
            data_shape[0],
            int(self._setting("batch_size", kind)),
            IMAGE_MIN_STEPS,
        )

    def _validate_params(self, data_kind: str) -> None:
        """The parameter table (``_parameter_constraints``), then ``kind`` against the data's kind."""
        super()._validate_params(data_kind)
        if self.kind != "auto" and self.kind != data_kind:
            raise DataError(
                f"kind={self.kind!r} but the data is {'a table' if data_kind == 'table' else 'images'}; "
                "use kind=auto"
            )

    def _check_state(self) -> None:
        """The fitted kind, sizes, labels and history are usable (``_check_fitted_values``); for
        tables, the space, the condition offsets and the sampler's rows fit the schema."""
        super()._check_state()
        self._check_fitted_values()
        if self.kind_ == "table":
            self._check_table_state()

    def _check_fitted_values(self) -> None:
        """``kind_`` is the schema's, ``latent_dim_`` a positive and ``epochs_trained_`` a
        non-negative integer, ``n_classes_`` the number of ``classes_``, ``history_`` a dict of
        per-epoch numbers: what the networks are rebuilt from, so ``_set_state`` checks it first."""
        if self.kind_ != self.adapter_.kind:
            raise bad_state(
                "kind_", f"must be the schema's kind, {self.adapter_.kind!r}, got {self.kind_!r}"
            )
        for name, low in (("latent_dim_", 1), ("epochs_trained_", 0)):
            value = getattr(self, name)
            if not _integer(value) or value < low:
                raise bad_state(
                    name,
                    f"must be a {'positive' if low else 'non-negative'} integer, got {value!r}",
                )
        n_labels = 0 if self.classes_ is None else len(self.classes_)
        if not _integer(self.n_classes_) or self.n_classes_ != n_labels:
            raise bad_state(
                "n_classes_", f"must be the number of classes_, {n_labels}, got {self.n_classes_!r}"
            )

        def number(x):  # NaN counts: a diverged loss
            return isinstance(x, (int, float)) and not isinstance(x, bool)

        if not isinstance(self.history_, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(map(number, v))
            for k, v in self.history_.items()
        ):
            raise bad_state("history_", "must map loss names to their values per epoch")

    def _check_table_state(self) -> None:
        """The table space fits the schema's columns, ``offsets_`` are where its discrete columns'
        levels start, and the sampler holds a label and levels for each training row."""
        from synthkit_plugins.gan.table_sampler import CondSampler, level_offsets

        problem = self.space_.problem(self.adapter_.columns)
        if problem:
            raise bad_state("space_", problem)
        ks = self.space_.discrete_sizes()
        if self.offsets_ != level_offsets(ks):
            raise bad_state(
                "offsets_",
                f"must be where each discrete column's levels start, {level_offsets(ks)}",
            )
        s = self.sampler_
        problem = CondSampler.problem(s.levels, s.codes, s.ks, self.n_classes_)
        if s.ks != ks or problem:
            raise bad_state(
                "sampler_", problem or f"must sample the space's discrete columns, {ks} levels"
            )

    # -- the generator contract ----------------------------------------------------------------
    def _fit(self, X: np.ndarray, y) -> None:
        kind = self.adapter_.kind
        self.kind_ = kind
        self.n_classes_ = 0 if y is None else len(self.classes_)
        common = dict(
            epochs=self._epochs(kind, X.shape),
            batch_size=int(self._setting("batch_size", kind)),
            learning_rate=float(self._setting("learning_rate", kind)),
            seed=self.seed,
            verbose=int(self.verbose),
            max_seconds=self.max_seconds,
        )
        self.latent_dim_ = int(self._setting("latent_dim", kind))
        if kind == "image":
            from synthkit_plugins.gan.image import fit_image_gan

            self.generator_, self.history_ = fit_image_gan(
                X,
                y,
                self.n_classes_,
                latent_dim=self.latent_dim_,
                width=int(self.width),
                ema_decay=float(self.ema_decay),
                **common,
            )
        else:
            from synthkit_plugins.gan.table import fit_table_gan

            if int(self.pac) > len(X):
                raise DataError(
                    f"the table GAN needs at least pac={self.pac} rows, got {len(X)}; lower pac"
                )
            self.generator_, self.space_, self.sampler_, self.offsets_, self.history_ = (
                fit_table_gan(
                    X,
                    self.adapter_.columns,
                    y,
                    self.n_classes_,
                    noise_dim=self.latent_dim_,
                    pac=int(self.pac),
                    max_modes=int(self.max_modes),
                    ema_decay=float(self.ema_decay),
                    mismatch_weight=float(self.mismatch_weight),
                    **common,
                )
            )
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
        return generate_rows(
            self.generator_,
            self.space_,
            self.sampler_,
            self.offsets_,
            self.n_classes_,
            n,
            codes,
            rng,
            self.latent_dim_,
            len(self.adapter_.feature_names),
        )

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
        state = network_weights(self.generator_, "gen_w")
        state.update(
            kind_=self.kind_,
            n_classes_=self.n_classes_,
            latent_dim_=self.latent_dim_,
            history_=self.history_,
            epochs_trained_=self.epochs_trained_,
            n_features_in_=self.n_features_in_,
        )
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
        weights = pop_weights(state, "gen_w")
        for name in (
            "kind_",
            "n_classes_",
            "latent_dim_",
            "history_",
            "epochs_trained_",
            "n_features_in_",
        ):
            setattr(self, name, state.pop(name))
        self._restore_classes(state)
        self._check_fitted_values()
        if self.kind_ == "image":
            from synthkit_plugins.gan.image import build_generator

            self.generator_ = build_generator(
                self.latent_dim_, self.n_classes_, tuple(self.adapter_.shape), int(self.width)
            )
        else:
            from synthkit_plugins.gan.table_model import build_generator
            from synthkit_plugins.gan.table_sampler import CondSampler
            from synthkit_plugins.gan.table_space import TableSpace

            self.space_ = TableSpace.from_dict(state.pop("space_"))
            self.offsets_ = [int(v) for v in state.pop("offsets_")]
            ks = [int(k) for k in state.pop("sampler_ks_")]
            self.sampler_ = CondSampler(
                np.asarray(state.pop("sampler_levels_")),
                np.asarray(state.pop("sampler_codes_")),
                ks,
                self.n_classes_,
            )
            self.generator_ = build_generator(
                self.latent_dim_, int(sum(ks)) + self.n_classes_, self.space_.dim
            )
        restore_network(self.generator_, weights, "generator")


def _integer(value) -> bool:
    """An integer (numpy's too), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
