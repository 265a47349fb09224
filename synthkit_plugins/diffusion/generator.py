"""DiffusionGenerator: the ``diffusion`` plugin's BaseGenerator, dispatching to the image part
(``image.py``: the latent autoencoder, the pixel denoiser, noise calibration and denoising) or the
table part (``table.py``: the quantile space, after TabDDPM, and its network).

Both share the diffusion itself (``model.py``): v-prediction on a cosine schedule, conditional on
the class with classifier-free guidance, sampled with DDIM from EMA weights. Images: the diffusion
runs on a denoising autoencoder's standardised latent grid. Sampling never uses the pixel
denoiser, so ``fit`` does not train it: the first ``denoise`` call does (or ``train_denoiser``, or
``denoiser="fit"``), from the training images kept in memory until then.
"""

from __future__ import annotations

import numbers

import numpy as np

from synthkit.base import bad_state, network_weights, pop_weights, restore_network
from synthkit.errors import DataError
from synthkit.base import BaseGenerator
from synthkit.adapters import scaled_epochs
from synthkit.parameters import SEED_MAX, Interval, Options
from synthkit_plugins.diffusion.denoising import DenoisingMixin
from synthkit_plugins.diffusion.fine_tuning import FineTuningMixin

KINDS = ("auto", "image", "table")
DENOISER_WHEN = ("lazy", "fit")  # the pixel denoiser trains at the first denoise() call, or in fit
DEFAULTS = {
    "image": {
        "epochs": 30,
        "train_steps": None,
        "ae_epochs": 5,
        "denoiser_epochs": 20,
        "batch_size": 128,
        "learning_rate": 2e-3,
        "steps": 20,
        "guidance": 1.5,
        "widths": (32, 64),
    },
    "table": {
        "epochs": None,
        "train_steps": 750,
        "ae_epochs": 0,
        "denoiser_epochs": 0,
        "batch_size": 512,
        "learning_rate": 1e-3,
        "steps": 50,
        "guidance": 1.0,
        "widths": (128,),
    },
}
# Images: each network's default epochs fall in proportion to the pixels above 32x32, and give at
# least these many batches on small sets (synthkit.adapters._image_sizes.scaled_epochs).
IMAGE_MIN_STEPS = {"epochs": 1000, "ae_epochs": 300, "denoiser_epochs": 0}
MAX_WIDTH = 8192  # a saved model's widths_ beyond this is refused before a network is built
TABLE_WIDTHS_BEFORE = (256,)  # table models saved before ``widths_`` was kept: the default then
IMAGE_ARRAYS = ("latent_mean_", "latent_std_", "noise_levels_", "noise_stats_", "latent_error_")
POSITIVE_INTEGER = Interval(int, 1, None)


class PositiveIntegers:
    """A ``_parameter_constraints`` alternative: one positive integer or a non-empty list of them."""

    def accepts(self, value) -> bool:
        values = (value,) if isinstance(value, (numbers.Number, str, bytes)) else value
        return (
            isinstance(values, (list, tuple, np.ndarray))
            and len(values) > 0
            and all(POSITIVE_INTEGER.accepts(v) for v in values)
        )

    def describe(self) -> str:
        return "a positive integer or a list of them"


class DiffusionGenerator(DenoisingMixin, FineTuningMixin, BaseGenerator):
    """Denoising diffusion (v-prediction, cosine schedule, DDIM sampling, classifier-free guidance).

    ``kind`` is ``auto`` (from the data), ``image`` or ``table``. Settings left at None take the
    per-kind defaults in ``DEFAULTS`` (on images larger than 32x32 pixels, the three epoch counts
    fall in proportion to the pixels, and give at least ``IMAGE_MIN_STEPS`` batches): ``epochs`` (diffusion training), ``ae_epochs`` (images: the
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
    ``class_quantiles`` (tables): map each class's numbers through its own quantiles rather than the
    whole table's. ``max_seconds`` caps each training stage (it stops after the epoch, or on small
    tables the group of epochs, that crosses it). ``seed`` fixes the
    initialisation and training noise; ``sample(n, seed=...)`` with a seed repeats exactly.

    ``denoise``, ``estimate_noise_std`` and ``train_denoiser`` come from ``DenoisingMixin``
    (``denoising.py``), ``fine_tune`` from ``FineTuningMixin`` (``fine_tuning.py``).
    """

    _parameter_constraints = {
        "kind": [Options(KINDS)],
        "epochs": [POSITIVE_INTEGER, None],
        "train_steps": [POSITIVE_INTEGER, None],
        "ae_epochs": [Interval(int, 0, None), None],
        "denoiser_epochs": [Interval(int, 0, None), None],
        "denoiser": [Options(DENOISER_WHEN)],
        "batch_size": [POSITIVE_INTEGER, None],
        "learning_rate": [Interval(float, 0, None, closed="neither"), None],
        "steps": [POSITIVE_INTEGER, None],
        "guidance": [Interval(float, 0, None), None],
        "widths": [PositiveIntegers(), None],
        "latent_channels": [POSITIVE_INTEGER],
        "label_dropout": [Interval(float, 0, 1, closed="left")],
        "ema_decay": [Interval(float, 0, 1, closed="left")],
        "class_quantiles": [bool],
        "denoise_steps": [Interval(int, 0, None)],
        "max_seconds": [Interval(float, 0, None), None],
        "seed": [Interval(int, 0, SEED_MAX), None],
        "verbose": [Interval(int, 0, None), bool],
    }

    def __init__(
        self,
        kind: str = "auto",
        epochs: int | None = None,
        train_steps: int | None = None,
        ae_epochs: int | None = None,
        denoiser_epochs: int | None = None,
        denoiser: str = "lazy",
        batch_size: int | None = None,
        learning_rate: float | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        widths=None,
        latent_channels: int = 4,
        label_dropout: float = 0.1,
        ema_decay: float = 0.995,
        denoise_steps: int = 0,
        class_quantiles: bool = False,
        max_seconds: float | None = None,
        seed: int | None = 0,
        verbose: int = 0,
        missing: str = "model",
    ):
        self.kind = kind
        self.epochs = epochs
        self.train_steps = train_steps
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
        self.class_quantiles = class_quantiles
        self.max_seconds = max_seconds
        self.seed = seed
        self.verbose = verbose
        self.missing = missing

    # -- settings ------------------------------------------------------------------------------
    def _setting(self, name: str):
        """A setting's value, or the fitted kind's default when it is None; on images the default
        epochs of each network fall with the pixels above 32x32 (``IMAGE_MIN_STEPS``)."""
        value = getattr(self, name)
        if value is not None:
            return value
        if self.kind_ == "image" and name in IMAGE_MIN_STEPS:
            return scaled_epochs(
                DEFAULTS["image"][name],
                self.adapter_.shape,
                getattr(self, "n_images_", 0),
                int(self._setting("batch_size")),
                IMAGE_MIN_STEPS[name],
            )
        return DEFAULTS[self.kind_][name]

    def _epochs(self, n_rows: int) -> int:
        """``epochs``, or its default: for images a fixed count; for tables the epochs that make
        ``train_steps`` batches, so that a table's training costs the same whatever its rows."""
        if self.epochs is not None or self.kind_ == "image":
            return int(self._setting("epochs"))
        from synthkit_plugins.diffusion import model as dm

        per_epoch = dm.steps_per_epoch(n_rows, int(self._setting("batch_size")))
        return max(1, -(-int(self._setting("train_steps")) // per_epoch))

    def _widths(self) -> tuple:
        """``widths`` (or its default) as a tuple of ints."""
        w = self._setting("widths")
        return (int(w),) if isinstance(w, (int, np.integer)) else tuple(int(v) for v in w)

    def _validate_params(self, data_kind: str) -> None:
        """The parameter table (``_parameter_constraints``), then ``kind`` against the data's kind."""
        super()._validate_params(data_kind)
        if self.kind != "auto" and self.kind != data_kind:
            raise DataError(
                f"kind={self.kind!r} but the data is {'a table' if data_kind == 'table' else 'images'}; "
                "use kind=auto"
            )

    # -- the generator contract ----------------------------------------------------------------
    def _fit(self, X: np.ndarray, y) -> None:
        from synthkit_plugins.diffusion import model as dm

        self.kind_ = self.adapter_.kind
        self.n_images_ = int(len(X))
        self.n_classes_ = 0 if y is None else len(self.classes_)
        codes = np.zeros(len(X), np.int32) if y is None else y.astype(np.int32)
        dm.set_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.history_ = {}
        self.pixel_denoiser_ = None
        self._denoiser_images = None
        if self.kind_ == "image":
            data, weights = self._fit_latent_space(X, rng), None
        else:
            data, weights = self._fit_quantile_space(X, codes, rng, y is not None)
        self.data_lo_ = data.min(axis=0).astype(np.float32)
        self.data_hi_ = data.max(axis=0).astype(np.float32)
        self.widths_ = self._widths()
        self._build_denoiser(data.shape[1:])
        self.ema_network_.set_weights(self.network_.get_weights())
        trainer = dm.DiffusionModel(
            self.network_,
            self.ema_network_,
            self.n_classes_,
            label_dropout=float(self.label_dropout),
            ema_decay=float(self.ema_decay),
            seed=self.seed,
        )
        epochs = self._epochs(len(data))
        # tables: the rate decays to 0 over the whole training (a fixed budget of batches allows it)
        decay = epochs * dm.steps_per_epoch(len(data), int(self._setting("batch_size")))
        trainer.compile(
            optimizer=dm.make_optimizer(
                float(self._setting("learning_rate")), decay if self.kind_ == "table" else None
            )
        )
        dm.train(
            trainer,
            data,
            codes,
            epochs,
            int(self._setting("batch_size")),
            rng,
            weights=weights,
            max_seconds=self.max_seconds,
            verbose=int(self.verbose),
            name="diffusion",
            history=self.history_,
        )
        if self.kind_ == "image":
            from synthkit_plugins.diffusion import image

            self.noise_levels_, self.noise_stats_, self.latent_error_ = image.calibrate_denoising(
                self.encoder_, X, self.latent_mean_, self.latent_std_, rng
            )
        self.epochs_trained_ = len(self.history_.get("loss", []))

    def _fit_latent_space(self, X: np.ndarray, rng) -> np.ndarray:
        """Images: train the autoencoder (and, with ``denoiser="fit"``, the pixel denoiser, else keep
        the images for it); the standardised latents the diffusion trains on."""
        from synthkit_plugins.diffusion import image

        self.encoder_, self.decoder_, self.history_["ae_loss"] = image.fit_autoencoder(
            X,
            int(self.latent_channels),
            epochs=int(self._setting("ae_epochs")),
            batch_size=int(self._setting("batch_size")),
            learning_rate=float(self._setting("learning_rate")),
            rng=rng,
            seed=self.seed,
            max_seconds=self.max_seconds,
            verbose=int(self.verbose),
        )
        Z = image.encode(self.encoder_, X)
        self.latent_mean_, self.latent_std_ = image.latent_scale(Z)
        if int(self._setting("denoiser_epochs")):
            if self.denoiser == "fit":
                self._fit_pixel_denoiser(X, rng, int(self._setting("denoiser_epochs")))
            else:  # sampling never uses it: trained by the first denoise() call, from these
                self._denoiser_images = image.to_uint8(X)
        return image.standardise(Z, self.latent_mean_, self.latent_std_)

    def _fit_quantile_space(self, X: np.ndarray, codes: np.ndarray, rng, y_given: bool) -> tuple:
        """Tables: the column layout and quantiles; (the rows the diffusion trains on, their
        training-by-sampling weights)."""
        from synthkit_plugins.diffusion import table

        self._layout = table.table_layout(self.adapter_.columns)
        self.class_groups_ = table.class_groups(
            codes, self.n_classes_, bool(self.class_quantiles) and y_given
        )
        groups = (
            table.row_groups(codes, self.class_groups_)
            if self.n_classes_
            else np.zeros(len(X), np.int64)
        )
        self.quantiles_ = table.fit_quantiles(X, self._layout, groups, self.n_classes_ + 1)
        return table.to_quantile_space(X, self._layout, rng, groups), table.class_weights(
            codes, self.n_classes_
        )

    def _build_denoiser(self, shape) -> None:
        """The v-predicting network and its EMA copy: a U-Net on latents, an MLP on table rows."""
        from synthkit_plugins.diffusion import image, table

        if self.kind_ == "image":

            def build():
                return image.build_denoiser(shape, self.n_classes_, self.widths_)
        else:

            def build():
                return table.build_denoiser(shape[0], self.n_classes_, self.widths_)

        self.network_ = build()
        self.ema_network_ = build()
        self._predict = None

    def _sample(self, n: int, y, rng: np.random.Generator) -> np.ndarray:
        codes = self._sample_codes(n, y, rng)
        shape = tuple(self.data_lo_.shape)
        noise = rng.standard_normal((n, *shape)).astype(np.float32)
        Z = self._reverse(
            noise,
            codes,
            steps=int(self._setting("steps")),
            guidance=float(self._setting("guidance")),
        )
        return self._decode(Z, codes)

    def _sample_codes(self, n: int, y, rng) -> np.ndarray:
        """The class codes to sample: those asked for, or drawn at the training frequencies."""
        if not self.n_classes_:
            return np.zeros(n, np.int32)
        if y is not None:
            return np.asarray(y, dtype=np.int32)
        return rng.choice(self.n_classes_, n, p=self.class_freq_).astype(np.int32)

    def _reverse(
        self, x_init, codes, steps: int, guidance: float, t_start: float = 1.0
    ) -> np.ndarray:
        """DDIM with the EMA network, from ``x_init`` at ``t_start`` to clean data (in the diffusion's space)."""
        from synthkit_plugins.diffusion import model as dm

        if getattr(self, "_predict", None) is None:
            self._predict = dm.make_predictor(self.ema_network_)
        return dm.ddim_sample(
            self._predict,
            x_init,
            codes,
            self.n_classes_,
            steps,
            guidance=guidance,
            t_start=t_start,
            lo=self.data_lo_,
            hi=self.data_hi_,
        )

    def _decode(self, Z: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Samples of the diffusion's space in the adapter's encoding."""
        if self.kind_ == "image":
            from synthkit_plugins.diffusion import image

            return image.decode(self.decoder_, Z * self.latent_std_ + self.latent_mean_)
        from synthkit_plugins.diffusion import table

        groups = table.row_groups(codes, self.class_groups_) if self.n_classes_ else None
        return table.from_quantile_space(Z, self._layout, self.quantiles_, groups)

    # -- saving --------------------------------------------------------------------------------
    def _get_state(self) -> dict:
        state = {
            **network_weights(self.network_, "net_w"),
            **network_weights(self.ema_network_, "ema_w"),
        }
        state.update(
            kind_=self.kind_,
            n_classes_=self.n_classes_,
            history_=self.history_,
            epochs_trained_=self.epochs_trained_,
            n_features_in_=self.n_features_in_,
            n_images_=self.n_images_,
            data_lo_=self.data_lo_,
            data_hi_=self.data_hi_,
            widths_=np.asarray(self.widths_, np.int64),
        )
        state.update(self._classes_state())
        if self.kind_ == "image":
            from synthkit_plugins.diffusion import image

            state.update(image.autoencoder_weights(self.encoder_, self.decoder_))
            if self.pixel_denoiser_ is not None:
                state.update(network_weights(self.pixel_denoiser_, "px_w"))
            state.update({name: np.asarray(getattr(self, name)) for name in IMAGE_ARRAYS})
        else:
            state["quantiles_"], state["class_groups_"] = (
                self.quantiles_,
                np.asarray(self.class_groups_, np.int64),
            )
        return state

    def _set_state(self, state: dict) -> None:
        from synthkit_plugins.diffusion import image, table

        net, ema, ae, px = (
            pop_weights(state, prefix) for prefix in ("net_w", "ema_w", "ae_w", "px_w")
        )
        self.kind_, self.history_ = state.pop("kind_"), state.pop("history_")
        if self.kind_ != self.adapter_.kind:  # before the per-kind state is read
            raise bad_state(
                "kind_", f"must be the schema's kind ({self.adapter_.kind!r}), got {self.kind_!r}"
            )
        self.n_classes_, self.epochs_trained_, self.n_features_in_ = (
            int(state.pop(name)) for name in ("n_classes_", "epochs_trained_", "n_features_in_")
        )
        self.n_images_ = int(state.pop("n_images_", 0))  # 0 in models saved before it was kept
        self.data_lo_, self.data_hi_ = (
            np.asarray(state.pop(name), np.float32) for name in ("data_lo_", "data_hi_")
        )
        widths = tuple(int(w) for w in np.asarray(state.pop("widths_", ()), np.int64).ravel())
        self.widths_ = widths or (TABLE_WIDTHS_BEFORE if self.kind_ == "table" else self._widths())
        if not all(0 < w <= MAX_WIDTH for w in self.widths_):  # before a network is built that wide
            raise bad_state(
                "widths_", f"must be widths from 1 to {MAX_WIDTH}, got {self.widths_!r}"
            )
        self._restore_classes(state)
        classes = 0 if self.classes_ is None else len(self.classes_)
        if self.n_classes_ != classes:  # before the networks are built for that many classes
            raise bad_state(
                "n_classes_", f"must be the number of classes ({classes}), got {self.n_classes_!r}"
            )
        self.pixel_denoiser_ = None
        if self.kind_ == "image":
            for name in IMAGE_ARRAYS:
                setattr(self, name, np.asarray(state.pop(name)))
            shape = tuple(self.adapter_.shape)
            self.encoder_, self.decoder_ = image.restore_autoencoder(
                ae, shape, int(self.latent_channels)
            )
            if px:
                self.pixel_denoiser_ = image.restore_pixel_denoiser(px, shape)
        else:
            self._layout = table.table_layout(self.adapter_.columns)
            self.quantiles_ = np.asarray(state.pop("quantiles_"), np.float64)
            if (
                self.quantiles_.ndim == 2
            ):  # saved before per-class quantiles: one group, the whole table's
                self.quantiles_ = self.quantiles_[None]
            self.class_groups_ = np.asarray(
                state.pop("class_groups_", np.zeros(self.n_classes_)), np.int64
            )
        self._build_denoiser(self.data_lo_.shape)
        restore_network(self.network_, net, "diffusion")
        restore_network(self.ema_network_, ema, "diffusion")

    def _check_state(self) -> None:
        """A count of epochs, finite data bounds, and finite per-kind arrays (non-decreasing
        quantiles; positive latent scales). ``_set_state`` checks ``kind_`` against the schema and
        ``n_classes_`` against the classes, before it builds the networks."""
        super()._check_state()
        if self.epochs_trained_ < 0:
            raise bad_state(
                "epochs_trained_", f"must be a count of epochs, got {self.epochs_trained_!r}"
            )
        if not (
            np.isfinite(self.data_lo_).all()
            and np.isfinite(self.data_hi_).all()
            and self.data_lo_.shape == self.data_hi_.shape
            and (self.data_lo_ <= self.data_hi_).all()
        ):
            raise bad_state(
                "data_lo_", "and data_hi_ must be finite bounds of one shape, low <= high"
            )
        if self.kind_ == "table":
            q, groups = self.quantiles_, self.class_groups_
            if q.ndim != 3 or not np.isfinite(q).all() or (np.diff(q, axis=2) < 0).any():
                raise bad_state(
                    "quantiles_", "must be a 3-D array of finite, non-decreasing quantiles"
                )
            if groups.shape != (self.n_classes_,) or (groups < 0).any() or (groups >= len(q)).any():
                raise bad_state(
                    "class_groups_", f"must hold one quantile group (0 to {len(q) - 1}) per class"
                )
            return
        for name in IMAGE_ARRAYS:
            if not np.isfinite(np.asarray(getattr(self, name), dtype=np.float64)).all():
                raise bad_state(name, "must hold finite numbers")
        if (np.asarray(self.latent_std_) <= 0).any():
            raise bad_state("latent_std_", "must be positive")
