"""Synthetic rows checked against the real data: a plausibility detector and a privacy floor (augment --filter).

``RowFilter`` keeps a generated row (or image) when both hold:

- **plausible**: a detector scores it at or below its ``threshold_``. By default the table or
  image detector (``synthkit.detection._run.default_detector``) is fitted on the real rows of the class
  asked for with ``contamination=0.1``, so the threshold is the 90th percentile of those rows'
  scores: a kept row scores no worse than nine real rows in ten. A fitted detector or a model directory (``model``,
  ``--filter-model DIR``) is used as it is, with its own threshold.
- **not a near copy**: it is not an exact copy of a training row (every value the same, as text for
  tables, every pixel for images), and its distance to the closest training row is not below the
  **distance floor**. The floor is the ``floor_quantile`` (0.05) quantile of the real rows' own
  leave-one-out distances: each real row of the class to its closest *other* training row. A kept
  row is then no closer to a training row than 95% of the real rows are to one another, which is
  "closer than real rows are to each other" without letting one pair of near-duplicate real rows
  (often at distance 0) set the bar; it is the 5th percentile that ``synthkit evaluate`` compares
  synthetic rows with (``closer than holdout p5``). "Training rows" are all the rows the generator
  learned from (every class), since a copy of any of them leaks it.

Distances are those of ``synthkit.evaluation.tables.privacy``, independent of any detector: numbers
robust-scaled (median, interquartile range of the training rows), levels one-hot (a missing
number is a flag column and the median); images as their pixels in [0, 1].

``run(sample, n, seed)`` samples in rounds until ``n`` rows pass: the first round asks for ``n``
rows, each later one for what is still missing divided by the pass rate so far (with a margin, and
at most ``MAX_FACTOR`` times what is missing); round ``r`` samples with seed ``seed`` for ``r = 0``
and one derived from ``(seed, r)`` after, so the same seed gives the same rows. After
``max_rounds`` rounds without ``n`` passing it stops with a ``DataError`` that says how many passed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synthkit.errors import DataError, PluginError, SchemaError
from synthkit.base._generator import MAX_SAMPLES

MAX_ROUNDS = 10
MAX_FACTOR = 10  # a round samples at most this many times the rows still missing
MARGIN = 1.2  # a later round asks for this much more than the pass rate so far says it needs
FLOOR_QUANTILE = 0.05
CONTAMINATION = 0.1  # the default detector's threshold: the real rows' 90th percentile score, whatever its own default


class RowFilter:
    """Fit on the training rows and the mask of the class asked for; ``run`` gives rows that pass and a report."""

    def __init__(
        self,
        model=None,
        seed: int | None = None,
        progress: bool = False,
        floor_quantile: float = FLOOR_QUANTILE,
        max_rounds: int = MAX_ROUNDS,
    ):
        self.model = model
        self.seed = seed
        self.progress = progress
        self.floor_quantile = floor_quantile
        self.max_rounds = max_rounds

    def fit(self, training, in_class=None):
        """Fit (or load) the detector on ``training[in_class]`` and measure the distance floor.

        ``training`` is a feature table (DataFrame) or an image array, ``in_class`` a boolean mask
        of its rows in the class the samples will have (None: every row)."""
        from synthkit.detection._run import default_detector, new_detector
        from synthkit.io._model_dirs import model_for

        q, rounds = self.floor_quantile, self.max_rounds
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0.0 <= q < 1.0:
            raise PluginError(f"floor_quantile must be a number in [0, 1), got {q!r}")
        if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
            raise PluginError(f"max_rounds must be a positive integer, got {rounds!r}")
        is_table = isinstance(training, pd.DataFrame)
        if not is_table:
            training = np.asarray(training)
        in_class = np.ones(len(training), bool) if in_class is None else np.asarray(in_class, bool)
        if in_class.sum() < 2:
            raise DataError(
                f"the filter compares samples with the real rows of their class, and there are "
                f"{int(in_class.sum())}; give at least 2 (or augment without filter)"
            )
        real = training[in_class] if not is_table else training[in_class].reset_index(drop=True)
        if self.model is not None:
            detector = model_for(self.model, "detector", "the augment filter (filter_model)")
            try:
                detector.decision_function(
                    real[:1] if not is_table else real.iloc[:1]
                )  # it takes these rows
            except SchemaError as exc:
                raise SchemaError(
                    f"the filter model was fitted on other data: {exc}; give a detector fitted on "
                    "the features of INPUT (without its label column)"
                ) from None
        else:
            detector = new_detector(
                default_detector(real),
                CONTAMINATION,
                seed=self.seed,
                progress=self.progress,
                params={"missing": "impute"},
            ).fit(real)
        self.detector_ = detector
        self.threshold_ = float(detector.threshold_)
        self.encode_ = _table_space(training) if is_table else _pixels
        self.reference_ = self.encode_(training)
        self.keys_ = set(_keys(training, self.reference_))
        self.real_distances_ = _leave_one_out(self.reference_, np.flatnonzero(in_class))
        self.floor_ = float(np.quantile(self.real_distances_, q))
        return self

    def check(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """(plausible, near copy): one boolean per row of ``rows``."""
        from synthkit.evaluation.tables import nearest_distances

        scores = np.asarray(self.detector_.decision_function(rows), dtype=np.float64)
        plausible = np.isfinite(scores) & (scores <= self.threshold_)
        encoded = self.encode_(rows)
        copies = np.array([k in self.keys_ for k in _keys(rows, encoded)], dtype=bool)
        near = copies | (nearest_distances(encoded, self.reference_) < self.floor_)
        return plausible, near

    def run(self, sample, n: int, seed: int | None = None):
        """``(rows, report)``: the first ``n`` generated rows that pass, from ``sample(k, seed)`` calls."""
        if not hasattr(self, "detector_"):
            from synthkit.errors import NotFittedError

            raise NotFittedError(
                "this RowFilter is not fitted: call fit(training, in_class) before run"
            )
        kept, generated, implausible, copies, passed = [], 0, 0, 0, 0
        for r in range(self.max_rounds):
            missing = n - passed
            k = n if r == 0 else _round_size(missing, passed / generated)
            rows = sample(k, round_seed(seed, r))
            plausible, near = self.check(rows)
            ok = plausible & ~near
            generated += k
            implausible += int((~plausible).sum())
            copies += int((plausible & near).sum())
            passed += int(ok.sum())
            if ok.any():
                kept.append(
                    rows[ok]
                    if not isinstance(rows, pd.DataFrame)
                    else rows[ok].reset_index(drop=True)
                )
            if passed >= n:
                break
        report = {
            "generated": generated,
            "rejected_implausible": implausible,
            "rejected_copies": copies,
            "passed": passed,
            "kept": min(n, passed),
            "rounds": r + 1,
            "threshold": self.threshold_,
            "distance_floor": self.floor_,
            "floor_quantile": float(self.floor_quantile),
        }
        if passed < n:
            raise DataError(
                f"only {passed} of the {n} rows asked for passed the filter after {r + 1} rounds ({generated} "
                f"generated: {implausible} implausible by the detector, {copies} copies or near copies of "
                f"training rows); ask for fewer rows, train the generator longer or on more real rows of the "
                f"class, or give a looser detector with filter_model (--filter-model DIR, e.g. one fitted "
                f"with a smaller contamination)"
            )
        if isinstance(kept[0], pd.DataFrame):
            return pd.concat(kept, ignore_index=True).iloc[:n].reset_index(drop=True), report
        return np.concatenate(kept)[:n], report


def _round_size(missing: int, rate: float) -> int:
    """How many rows a later round samples: what is missing over the pass rate, with a margin, capped."""

    cap = missing * MAX_FACTOR
    wanted = cap if rate <= 0 else math.ceil(missing * MARGIN / rate)
    return int(max(1, min(wanted, cap, MAX_SAMPLES)))


def round_seed(seed: int | None, r: int) -> int | None:
    """The seed of round ``r``: ``seed`` itself first, then one derived from ``(seed, r)`` (None stays None)."""
    if seed is None or r == 0:
        return seed
    return int(np.random.SeedSequence([int(seed), r]).generate_state(1)[0])


def summary_line(report: dict) -> str:
    """The report as the one line ``synthkit augment --filter`` prints."""
    return (
        f"filter: {report['generated']} generated in {report['rounds']} round(s), "
        f"{report['rejected_implausible']} rejected as implausible (score > {report['threshold']:.4g}), "
        f"{report['rejected_copies']} as near copies (distance < {report['distance_floor']:.4g}), "
        f"{report['passed']} passed, {report['kept']} kept"
    )


# -- distances ---------------------------------------------------------------------------------
def _table_space(reference: pd.DataFrame):
    """Encoder of tables with ``reference``'s columns: the distance space of ``synthkit evaluate``'s privacy figures."""
    from synthkit.evaluation.tables import _distance_space, _kinds

    encode = _distance_space(reference, _kinds(reference))
    return encode


def _pixels(images) -> np.ndarray:
    """Images as rows of pixels in [0, 1] (integer images, and float images above 1, divided by 255)."""
    images = np.asarray(images)
    flat = images.reshape(len(images), -1).astype(np.float64)
    if images.dtype.kind in "iub" or (flat.size and np.nanmax(flat) > 1.0):
        flat = flat / 255.0
    return flat


def _keys(rows, encoded) -> list:
    """One hashable key per row: its values as text (tables) or its pixel bytes (images)."""
    if isinstance(rows, pd.DataFrame):
        from synthkit.evaluation.tables import as_text

        return list(map(tuple, as_text(rows).to_numpy().tolist()))
    return [row.tobytes() for row in encoded]


def _leave_one_out(reference: np.ndarray, rows: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Distance from each of ``reference[rows]`` to its closest other reference row."""
    ref_sq = (reference**2).sum(axis=1)
    out = np.empty(len(rows))
    for start in range(0, len(rows), chunk):
        idx = rows[start : start + chunk]
        q = reference[idx]
        d2 = ref_sq[idx][:, None] + ref_sq[None, :] - 2.0 * (q @ reference.T)
        d2[np.arange(len(idx)), idx] = np.inf
        out[start : start + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out
