"""An ensemble of registered detectors: each member's scores normalised on the training rows, then combined.

Detectors of different families fail on different tables (ADBench; Han et al. 2022): distances
(k-NN, LOF) miss what isolation or tail probabilities find, and the reverse. Members are looked up
by name in the registry, third-party detectors included, and fit on the same adapted rows. Each
member's scores are put on one scale by the median and interquartile range of what it says of the
training rows scored as new rows (its ``decision_function`` of them: a k-NN's kept training rows
then count themselves among their neighbours, as in PyOD), so that no member dominates by its
units, and combined by ``combine``:

- ``"mean"``: the mean of the normalised scores;
- ``"rank"``: the mean of each score's rank among the member's ``decision_scores_`` (their
  empirical CDF), a bounded scale on which one member's extreme scores count no more than the others' ranks;
- ``"max"``: the largest normalised score, so a row one member finds far out stays far out.

Screening: training data holds the very anomalies to be found, and a detector that keeps the
training rows as its reference of normality (k-NN) then finds an anomaly's near copies among them
and scores it low (masking). With ``screen``, a first-pass ensemble of those detectors (mean of
normalised scores) ranks the training rows, and the members named in ``screened`` are fitted on
all but the ``screen_share`` of rows it ranks highest; every training row is still scored.

The defaults are the configuration chosen on half of 21 anomaly sets and confirmed on the other
half: mean distance to the 10 nearest screened training rows, and ECOD, combined by ``max``; the
screen is k-NN (mean distance to 5), ECOD and Isolation Forest, holding out 10% of the rows. It
was the table default until it lost to Isolation Forest on unseen tables (where k-NN fails, ``max``
passes the failure through) and for its cost, quadratic in rows; see benchmarks/README.md.
"""

from __future__ import annotations

import re

import numpy as np

from synthkit.base import BaseDetector
from synthkit.errors import PluginError
from synthkit.parameters import Interval, Options
from synthkit.base import robust_scale

DEFAULT_MEMBERS = ("knn", "ecod")
DEFAULT_MEMBER_PARAMS = {"knn": {"method": "mean", "n_neighbors": 10}}
DEFAULT_SCREEN = ("knn", "ecod", "iforest")
DEFAULT_SCREEN_PARAMS = {"knn": {"method": "mean"}}
COMBINE = ("mean", "rank", "max")
MEMBER_PREFIX = "member{}__"
MEMBER_KEY = re.compile(r"member\d+__")


def standardisation(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation of X (1 where a feature is constant)."""
    shift = X.mean(axis=0)
    unit = X.std(axis=0)
    unit[~(unit > 0)] = 1.0
    return shift, unit


def robust_z(scores: np.ndarray) -> np.ndarray:
    """Scores on the scale of their own median and IQR (see ``robust_scale``)."""
    centre, scale = robust_scale(scores)
    return (scores - centre) / scale


class EnsembleDetector(BaseDetector):
    """Registered detectors combined by name; higher = more anomalous, as for any detector.

    - ``members``: detector names (default: knn and ecod).
    - ``member_params``: per member name, a dict of its parameters (``{"knn": {"n_neighbors": 10}}``);
      ``None`` means ``DEFAULT_MEMBER_PARAMS`` (knn: ``method="mean"``, ``n_neighbors=10``) and ``{}``
      every member's own defaults. Every member gets the ensemble's ``seed`` unless its parameters
      say otherwise.
    - ``combine``: ``mean``, ``rank`` or ``max`` (default; see the module docstring).
    - ``screen``: detector names for the first pass (default: knn, ecod, iforest), or ``()`` for no
      screening; ``screen_params`` their parameters as ``member_params`` (``None``: knn with
      ``method="mean"``); ``screen_share``: the share of training rows held out (0.1);
      ``screened``: the members fitted without them (default: knn; names that are not members are
      ignored, and without a screened member the screen does not run).

    After fit, ``members_`` holds the fitted members (each with its own ``decision_scores_`` and,
    at the ensemble's contamination, ``threshold_``), ``member_scores_`` their normalised training
    scores, one column per member, and ``screened_out_`` marks the training rows held out. A
    screened member works on the adapted features standardised on the rows it was fitted on
    (``member_shift_``, ``member_unit_``); score with the ensemble, not with it alone.
    """

    _parameter_constraints = {
        "combine": [Options(COMBINE)],
        "screen_share": [Interval(float, 0, 0.5, closed="left")],
    }

    def __init__(
        self,
        members=DEFAULT_MEMBERS,
        member_params=None,
        combine: str = "max",
        screen=DEFAULT_SCREEN,
        screen_params=None,
        screen_share: float = 0.1,
        screened=("knn",),
        contamination: float = 0.1,
        seed: int | None = 0,
        missing: str = "model",
    ):
        self.members = members
        self.member_params = member_params
        self.combine = combine
        self.screen = screen
        self.screen_params = screen_params
        self.screen_share = screen_share
        self.screened = screened
        self.contamination = contamination
        self.seed = seed
        self.missing = missing

    # -- fitting -------------------------------------------------------------------------------
    def _new_members(self, names, params, what: str = "members") -> list:
        """Unfitted detectors named ``names`` (the ``members`` or the ``screen``), checked before anything trains."""
        from synthkit.parameters import parameter_names
        from synthkit.registry import get_detector
        from synthkit.registry import get_registry

        if (
            isinstance(names, str)
            or not isinstance(names, (list, tuple))
            or not names
            or not all(isinstance(n, str) for n in names)
        ):
            raise PluginError(f"{what} must be a non-empty list of detector names, got {names!r}")
        if "ensemble" in names:
            raise PluginError(
                f"an ensemble cannot be its own member; list other detectors in {what}"
            )
        if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
            raise PluginError(
                f"{what.rstrip('s')}_params must map names to parameter dicts, got {params!r}"
            )
        stray = sorted(set(params) - set(names))
        if stray:
            raise PluginError(
                f"{what.rstrip('s')}_params names {', '.join(stray)}, which are not in {what} "
                f"({', '.join(names)})"
            )
        made = []
        for name in names:
            own = dict(params.get(name, {}))
            if "seed" in parameter_names(get_registry().get("detectors", name)):
                own.setdefault("seed", self.seed)
            made.append(get_detector(name, **own))
        return made

    def _checked_screen(self) -> tuple[list, float]:
        """The screening detectors (empty for none, or when no member is screened) and the share held out."""
        share = self.screen_share
        screened = self.screened
        if (
            isinstance(screened, str)
            or not isinstance(screened, (list, tuple))
            or not all(isinstance(n, str) for n in screened)
        ):
            raise PluginError(f"screened must be a list of member names, got {screened!r}")
        screen = self.screen
        if (
            screen is None
            or (isinstance(screen, (list, tuple)) and len(screen) == 0)
            or not set(screened) & set(self.members)
        ):
            return [], 0.0
        params = DEFAULT_SCREEN_PARAMS if self.screen_params is None else self.screen_params
        if params is DEFAULT_SCREEN_PARAMS:
            params = {k: v for k, v in params.items() if k in screen}
        return self._new_members(screen, params, "screen"), float(share)

    def _fit(self, X: np.ndarray) -> None:
        params = DEFAULT_MEMBER_PARAMS if self.member_params is None else self.member_params
        if params is DEFAULT_MEMBER_PARAMS and isinstance(self.members, (list, tuple)):
            params = {k: v for k, v in params.items() if k in self.members}
        members = self._new_members(self.members, params)
        screen, share = self._checked_screen()
        for member in (
            members + screen
        ):  # members are fitted through _fit, so fit's checks are made here
            member._validate_params("image" if X.ndim == 4 else "table")
        held_out = np.zeros(len(X), dtype=bool)
        if screen and share > 0 and len(X) >= 4:
            first = np.stack(
                [robust_z(self._fit_member(det, X, held_out)) for det in screen], axis=1
            ).mean(axis=1)
            held_out = first > np.quantile(first, 1.0 - share)
        self.screened_out_ = held_out
        shifts, units, train_scores, scales = [], [], [], []
        for name, member in zip(self.members, members):
            rows = held_out if name in self.screened else np.zeros(len(X), dtype=bool)
            shift, unit = np.zeros(X.shape[1:]), np.ones(X.shape[1:])
            if rows.any():
                numeric = self._standardised_features(X.shape[1:])
                shift[numeric], unit[numeric] = standardisation(X[~rows][:, numeric])
            Xm = (X - shift) / unit
            train_scores.append(self._fit_member(member, Xm, rows))
            scales.append(robust_scale(member._checked_scores(member._score(Xm), len(X))))
            shifts.append(shift)
            units.append(unit)
        self.members_ = members
        self.member_shift_ = np.stack(shifts)
        self.member_unit_ = np.stack(units)
        self.member_centre_ = np.array([c for c, _ in scales])
        self.member_scale_ = np.array([s for _, s in scales])
        self.member_train_scores_ = np.stack(train_scores, axis=1)
        self.member_scores_ = self._normalised(self.member_train_scores_)

    def _fit_member(self, member, X: np.ndarray, held_out: np.ndarray) -> np.ndarray:
        """Fit ``member`` on the rows not ``held_out``; return its scores of every training row."""
        self._share_schema(member)
        member._fit(X[~held_out])
        scores = np.empty(len(X))
        scores[~held_out] = member._checked_scores(
            member._score_training(X[~held_out]), int((~held_out).sum())
        )
        if held_out.any():
            scores[held_out] = member._checked_scores(
                member._score(X[held_out]), int(held_out.sum())
            )
        self._process_decision_scores(scores, member)
        return scores

    def _standardised_features(self, shape) -> np.ndarray:
        """Mask of the adapted features the adapter standardised (numeric table columns), which a
        screened member has standardised again on its rows; one-hot and boolean indicators, and
        image pixels, stay as they are."""
        adapter = self.adapter_
        if getattr(adapter, "kind", None) != "table":
            return np.zeros(shape, dtype=bool)
        mask = []
        for col in adapter.columns:
            width = len(col["levels"]) if col["kind"] == "categorical" else 1
            mask += [col["kind"] == "numeric"] * width
        return np.asarray(mask, dtype=bool)

    def _share_schema(self, member) -> None:
        """A member works on the ensemble's adapted rows, so it shares the ensemble's schema."""
        member.adapter_ = self.adapter_
        member._set_input_attributes()
        member.n_rows_affected_ = 0

    # -- scoring -------------------------------------------------------------------------------
    def _normalised(self, raw: np.ndarray) -> np.ndarray:
        if self.combine == "rank":
            train = np.sort(self.member_train_scores_, axis=0)
            return np.stack(
                [
                    np.searchsorted(train[:, j], raw[:, j], side="right") / len(train)
                    for j in range(raw.shape[1])
                ],
                axis=1,
            )
        return (raw - self.member_centre_) / self.member_scale_

    def _combined(self, normalised: np.ndarray) -> np.ndarray:
        return normalised.max(axis=1) if self.combine == "max" else normalised.mean(axis=1)

    def _member_raw(self, X: np.ndarray) -> np.ndarray:
        """Every member's own scores of adapted rows X, one column per member."""
        return np.stack(
            [
                m._checked_scores(m._score((X - shift) / unit), len(X))
                for m, shift, unit in zip(self.members_, self.member_shift_, self.member_unit_)
            ],
            axis=1,
        )

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._combined(self._normalised(self._member_raw(X)))

    def _score_training(self, X: np.ndarray) -> np.ndarray:
        return self._combined(self.member_scores_)

    def _explain_columns(
        self, X: np.ndarray, groups, reference: np.ndarray
    ) -> tuple[np.ndarray, dict]:
        """The members' explanations combined as their scores are: each member's contributions (its
        own exact ones, or the ablation fallback, on its own standardised features) scaled to add up
        to its normalised score, then their mean (``mean``, ``rank``) or those of the member with the
        largest normalised score (``max``); they add up to the ensemble's score."""
        from synthkit.base import column_contributions

        normalised = self._normalised(self._member_raw(X))
        parts, extras = [], {}
        for member, shift, unit in zip(self.members_, self.member_shift_, self.member_unit_):
            values, extra = column_contributions(
                member, (X - shift) / unit, groups, (reference - shift) / unit
            )
            parts.append((values, extra))
            extras.update({name: None for name in extra})
        names = list(extras)
        stacked = []
        for (values, extra), z in zip(parts, normalised.T):
            full = np.column_stack(
                [values] + [np.asarray(extra.get(n, np.zeros(len(X))), np.float64) for n in names]
            )
            total = full.sum(axis=1)
            stacked.append(
                full * np.where(total != 0, z / np.where(total != 0, total, 1.0), 0.0)[:, None]
            )
        stacked = np.stack(stacked, axis=1)  # (n, members, columns + extras)
        out = (
            stacked[np.arange(len(X)), normalised.argmax(axis=1)]
            if self.combine == "max"
            else stacked.mean(axis=1)
        )
        return out[:, : len(groups)], {n: out[:, len(groups) + i] for i, n in enumerate(names)}

    # -- saving --------------------------------------------------------------------------------
    def _get_state(self) -> dict:
        state = {k: v for k, v in super()._get_state().items() if k != "members_"}
        for i, member in enumerate(self.members_):
            prefix = MEMBER_PREFIX.format(i)
            state.update({prefix + k: v for k, v in member._get_state().items()})
            state[prefix + "params"] = member.get_params(deep=False)
        return state

    def _set_state(self, state: dict) -> None:
        from synthkit.registry import get_detector
        from synthkit.registry import get_registry

        super()._set_state({k: v for k, v in state.items() if not MEMBER_KEY.match(k)})
        self.members_ = []
        for i, name in enumerate(self.members):
            prefix = MEMBER_PREFIX.format(i)
            member_state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            params = (
                get_registry().get("detectors", name)._upgrade_params(member_state.pop("params"))
            )
            member = get_detector(name, **params)
            self._share_schema(member)
            member._set_state(member_state)
            member._set_input_attributes()
            self.members_.append(member)
