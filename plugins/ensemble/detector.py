"""An ensemble of registered detectors: each member's scores normalised on the training rows, then combined.

Detectors of different families fail on different tables (ADBench; Han et al. 2022): distances
(k-NN, LOF) miss what isolation or tail probabilities find, and the reverse. Members are looked up
by name in the registry, third-party detectors included, and fit on the same adapted rows. Each
member's scores are put on one scale by the median and interquartile range of its own training
scores, so that no member dominates by its units, and combined by ``combine``:

- ``"mean"``: the mean of the normalised scores;
- ``"rank"``: the mean of each score's rank among the member's training scores (its empirical
  CDF), a bounded scale on which one member's extreme scores count no more than the others' ranks;
- ``"max"``: the largest normalised score, so a row one member finds far out stays far out.
"""

from __future__ import annotations

import re

import numpy as np

from synthkit.detector import BaseDetector
from synthkit.errors import PluginError

DEFAULT_MEMBERS = ("iforest", "knn", "autoencoder")
COMBINE = ("mean", "rank", "max")
MEMBER_PREFIX = "member{}__"
MEMBER_KEY = re.compile(r"member\d+__")


def robust_scale(train_scores: np.ndarray) -> tuple[float, float]:
    """(median, IQR) of the training scores; the standard deviation, or 1, where the IQR is 0."""
    q25, q50, q75 = np.quantile(train_scores, [0.25, 0.5, 0.75])
    scale = float(q75 - q25)
    if not scale > 0:
        scale = float(np.std(train_scores)) or 1.0
    return float(q50), scale


class EnsembleDetector(BaseDetector):
    """Registered detectors combined by name; higher = more anomalous, as for any detector.

    ``members``: detector names (default: iforest, knn and autoencoder). ``member_params``: per
    member name, a dict of its parameters (``{"knn": {"n_neighbors": 10}}``); every member gets the
    ensemble's ``seed`` unless its parameters say otherwise. ``combine``: ``mean``, ``rank`` or
    ``max`` (see the module docstring). After fit, ``members_`` holds the fitted members (each
    with its own ``decision_scores_`` and, at the ensemble's contamination, ``threshold_``) and
    ``member_scores_`` their normalised training scores, one column per member.
    """

    def __init__(self, members=DEFAULT_MEMBERS, member_params=None, combine: str = "mean",
                 contamination: float = 0.1, seed: int | None = 0, missing: str = "error"):
        self.members = members
        self.member_params = member_params
        self.combine = combine
        self.contamination = contamination
        self.seed = seed
        self.missing = missing

    # -- fitting -------------------------------------------------------------------------------
    def _new_members(self) -> list:
        """Unfitted members, every name and parameter checked before anything trains."""
        from synthkit.api import get_detector, parameter_names
        from synthkit.registry import get_registry

        names = self.members
        if isinstance(names, str) or not isinstance(names, (list, tuple)) or not names \
                or not all(isinstance(n, str) for n in names):
            raise PluginError(f"members must be a non-empty list of detector names, got {names!r}")
        if "ensemble" in names:
            raise PluginError("an ensemble cannot be its own member; list other detectors")
        params = self.member_params or {}
        if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
            raise PluginError(f"member_params must map member names to parameter dicts, got {params!r}")
        stray = sorted(set(params) - set(names))
        if stray:
            raise PluginError(f"member_params names {', '.join(stray)}, which are not members ({', '.join(names)})")
        if self.combine not in COMBINE:
            raise PluginError(f"combine must be one of {', '.join(COMBINE)}, got {self.combine!r}")
        made = []
        for name in names:
            own = dict(params.get(name, {}))
            if "seed" in parameter_names(get_registry().get("detectors", name)):
                own.setdefault("seed", self.seed)
            made.append(get_detector(name, **own))
        return made

    def _fit(self, X: np.ndarray) -> None:
        members = self._new_members()
        scales, train_scores = [], []
        for member in members:
            self._share_schema(member)
            member._fit(X)
            scores = member._checked_scores(member._score_training(X), len(X))
            member.decision_scores_ = scores
            member.threshold_ = float(np.quantile(scores, 1.0 - self._contamination()))
            member.labels_ = (scores > member.threshold_).astype(int)
            scales.append(robust_scale(scores))
            train_scores.append(scores)
        self.members_ = members
        self.member_centre_ = np.array([c for c, _ in scales])
        self.member_scale_ = np.array([s for _, s in scales])
        self.member_train_scores_ = np.stack(train_scores, axis=1)
        self.member_scores_ = self._normalised(self.member_train_scores_)

    def _share_schema(self, member) -> None:
        """A member works on the ensemble's adapted rows, so it shares the ensemble's schema."""
        member.adapter_ = self.adapter_
        member._set_input_attributes()
        member.n_rows_affected_ = 0

    # -- scoring -------------------------------------------------------------------------------
    def _normalised(self, raw: np.ndarray) -> np.ndarray:
        if self.combine == "rank":
            train = np.sort(self.member_train_scores_, axis=0)
            return np.stack([np.searchsorted(train[:, j], raw[:, j], side="right") / len(train)
                             for j in range(raw.shape[1])], axis=1)
        return (raw - self.member_centre_) / self.member_scale_

    def _combined(self, normalised: np.ndarray) -> np.ndarray:
        return normalised.max(axis=1) if self.combine == "max" else normalised.mean(axis=1)

    def _score(self, X: np.ndarray) -> np.ndarray:
        raw = np.stack([m._checked_scores(m._score(X), len(X)) for m in self.members_], axis=1)
        return self._combined(self._normalised(raw))

    def _score_training(self, X: np.ndarray) -> np.ndarray:
        return self._combined(self.member_scores_)

    # -- saving --------------------------------------------------------------------------------
    def _get_state(self) -> dict:
        state = {k: v for k, v in super()._get_state().items() if k != "members_"}
        for i, member in enumerate(self.members_):
            prefix = MEMBER_PREFIX.format(i)
            state.update({prefix + k: v for k, v in member._get_state().items()})
            state[prefix + "params"] = member.get_params(deep=False)
        return state

    def _set_state(self, state: dict) -> None:
        from synthkit.api import get_detector
        from synthkit.registry import get_registry

        super()._set_state({k: v for k, v in state.items() if not MEMBER_KEY.match(k)})
        self.members_ = []
        for i, name in enumerate(self.members):
            prefix = MEMBER_PREFIX.format(i)
            member_state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            params = get_registry().get("detectors", name)._upgrade_params(member_state.pop("params"))
            member = get_detector(name, **params)
            self._share_schema(member)
            member._set_state(member_state)
            member._set_input_attributes()
            self.members_.append(member)
