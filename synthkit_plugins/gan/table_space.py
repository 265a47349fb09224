"""The table GAN's representation of rows: CTGAN's mode-specific normalisation (``TableSpace``).

Each numeric column gets a Bayesian Gaussian mixture (modes with weight below 0.5% dropped); a
value becomes (one-hot of a mode drawn from its posterior, alpha = (v - mean) / (4 std) of that
mode), and the generator emits tanh(alpha) and the mode. Booleans and categories are one-hot
levels. Unlike CTGAN, with a class label the mixture is fitted on a class-balanced draw of rows, so
the rare class's own modes survive: fitted on all rows, a rare class (the fraud rows of
``transactions``) got no mode of its own, and the GAN smeared its values between the common
class's modes.

Plain numpy: TensorFlow is not needed here.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

MODE_WEIGHT_MIN = 0.005
MIXTURE_ROWS = 5000  # rows each numeric column's Gaussian mixture is fitted on


class TableSpace:
    """Turns adapter-encoded rows (standardised numerics, 0/1 booleans, one-hot categories) into the
    GAN's representation and back. Plain data: ``to_dict``/``from_dict`` round-trip through JSON."""

    def __init__(self, blocks: list[dict]):
        self.blocks = blocks

    # -- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, columns: list[dict], X: np.ndarray, max_modes: int, seed, codes=None
    ) -> "TableSpace":
        """Fit each numeric column's mixture; ``codes`` (class per row), when given, makes each
        class weigh alike in the mixtures."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import BayesianGaussianMixture

        rng = np.random.default_rng(seed)
        rows = _mixture_rows(len(X), codes, rng)
        blocks = _skeleton(columns)
        for block in blocks:
            if block["kind"] != "numeric":
                continue
            fit_on = X[rows, block["src"]].astype(np.float64)
            n_modes = int(max(1, min(max_modes, len(np.unique(fit_on)))))
            means, stds, weights = [float(fit_on.mean())], [float(fit_on.std() or 1.0)], [1.0]
            if n_modes > 1:
                gm = BayesianGaussianMixture(
                    n_components=n_modes,
                    weight_concentration_prior_type="dirichlet_process",
                    weight_concentration_prior=0.001,
                    max_iter=100,
                    n_init=1,
                    random_state=int(rng.integers(2**31)),
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    gm.fit(fit_on[:, None])
                keep = gm.weights_ > MODE_WEIGHT_MIN
                if keep.any():
                    means = gm.means_[keep, 0].tolist()
                    stds = np.sqrt(gm.covariances_[keep].reshape(-1)).tolist()
                    weights = (gm.weights_[keep] / gm.weights_[keep].sum()).tolist()
            block.update(means=means, stds=[max(s, 1e-3) for s in stds], weights=weights)
        return cls(blocks)

    def problem(self, columns: list[dict]) -> str | None:
        """What makes these blocks unusable for the adapter ``columns`` (a model directory edited by
        hand): blocks that are not the ones ``fit`` lays out for them, or a numeric block's modes
        that are not finite means, positive spreads and weights summing to 1; None if usable."""
        if not isinstance(self.blocks, list) or not all(isinstance(b, dict) for b in self.blocks):
            return "must hold a list of blocks"
        expected = _skeleton(columns)
        if len(self.blocks) != len(expected):
            return (
                f"must hold {len(expected)} blocks for the schema's columns, got {len(self.blocks)}"
            )
        for i, (block, want) in enumerate(zip(self.blocks, expected)):
            if any(block.get(k) != v or type(block.get(k)) is not type(v) for k, v in want.items()):
                return f"has a block {i} that does not match the schema's column"
            if want["kind"] == "numeric" and not _modes_ok(block):
                return f"has a block {i} whose modes are not finite means, positive spreads and weights summing to 1"
        return None

    # -- layout ----------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Width of the GAN representation of a row."""
        return sum(1 + len(b["means"]) if b["kind"] == "numeric" else b["k"] for b in self.blocks)

    def layout(self) -> list[tuple[str, int, int]]:
        """(activation, start, end) spans of the GAN representation: 'tanh' or 'softmax'."""
        spans, i = [], 0
        for b in self.blocks:
            if b["kind"] == "numeric":
                spans += [("tanh", i, i + 1), ("softmax", i + 1, i + 1 + len(b["means"]))]
                i += 1 + len(b["means"])
            else:
                spans.append(("softmax", i, i + b["k"]))
                i += b["k"]
        return spans

    def discrete_spans(self) -> list[tuple[int, int]]:
        """(start, end) of each discrete column's one-hot in the GAN representation."""
        spans, i = [], 0
        for b in self.blocks:
            if b["kind"] == "numeric":
                i += 1 + len(b["means"])
            else:
                spans.append((i, i + b["k"]))
                i += b["k"]
        return spans

    def discrete_sizes(self) -> list[int]:
        """Number of levels of each discrete column, in order."""
        return [b["k"] for b in self.blocks if b["kind"] == "discrete"]

    def levels(self, X: np.ndarray) -> np.ndarray:
        """(n, n_discrete) level index of each discrete column in adapter-encoded rows."""
        out = []
        for b in self.blocks:
            if b["kind"] != "discrete":
                continue
            if b["bool"]:
                out.append((X[:, b["src"]] > 0.5).astype(np.int64))
            else:
                out.append(X[:, b["src"] : b["src"] + b["k"]].argmax(axis=1))
        return np.stack(out, axis=1) if out else np.zeros((len(X), 0), np.int64)

    # -- encoding ------------------------------------------------------------------------------
    def encode(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Adapter-encoded rows to the GAN representation; each value's mode is drawn from its posterior."""
        parts = []
        levels = self.levels(X)
        j = 0
        for b in self.blocks:
            if b["kind"] == "numeric":
                v = X[:, b["src"]].astype(np.float64)[:, None]
                mu, sd, w = (np.asarray(b[k])[None, :] for k in ("means", "stds", "weights"))
                logp = np.log(w) - np.log(sd) - 0.5 * ((v - mu) / sd) ** 2
                p = np.exp(logp - logp.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                mode = (
                    (p.cumsum(axis=1) < rng.random((len(v), 1))).sum(axis=1).clip(0, p.shape[1] - 1)
                )
                alpha = np.clip((v[:, 0] - mu[0, mode]) / (4 * sd[0, mode]), -0.99, 0.99)
                parts += [alpha[:, None], np.eye(p.shape[1])[mode]]
            else:
                parts.append(np.eye(b["k"])[levels[:, j]])
                j += 1
        return np.hstack(parts).astype(np.float32)

    def decode(self, G: np.ndarray, rng: np.random.Generator, n_adapter_cols: int) -> np.ndarray:
        """Raw generator outputs (pre-activation) to adapter-encoded rows; discrete parts are drawn
        from the softmax (Gumbel-max with ``rng``), alpha through tanh."""
        out = np.zeros((len(G), n_adapter_cols), np.float32)
        i = 0
        for b in self.blocks:
            if b["kind"] == "numeric":
                k = len(b["means"])
                alpha = np.tanh(G[:, i])
                mode = _gumbel_argmax(G[:, i + 1 : i + 1 + k], rng)
                out[:, b["src"]] = (
                    alpha * 4 * np.asarray(b["stds"])[mode] + np.asarray(b["means"])[mode]
                )
                i += 1 + k
            else:
                level = _gumbel_argmax(G[:, i : i + b["k"]], rng)
                if b["bool"]:
                    out[:, b["src"]] = level
                else:
                    out[np.arange(len(G)), b["src"] + level] = 1.0
                i += b["k"]
        return out

    def to_dict(self) -> dict:
        """The blocks as JSON-ready data (what a model directory holds)."""
        return {"blocks": self.blocks}

    @classmethod
    def from_dict(cls, d: dict) -> "TableSpace":
        """The space ``to_dict`` wrote."""
        return cls([dict(b) for b in d["blocks"]])


def _skeleton(columns: list[dict]) -> list[dict]:
    """The blocks of the adapter ``columns`` without their mixtures: numeric columns, booleans, and
    categories with at least one level, each at its first adapter column (``src``)."""
    blocks, src = [], 0
    for col in columns:
        if col["kind"] == "numeric":
            blocks.append({"kind": "numeric", "src": src})
            src += 1
        elif col["kind"] == "bool":
            blocks.append({"kind": "discrete", "src": src, "k": 2, "bool": True})
            src += 1
        else:
            k = len(col["levels"])
            if k:
                blocks.append({"kind": "discrete", "src": src, "k": k, "bool": False})
            src += k
    return blocks


def _modes_ok(block: dict) -> bool:
    """A numeric block's modes: as many finite means, positive spreads and non-negative weights
    (summing to 1), at least one."""
    lists = [block.get(k) for k in ("means", "stds", "weights")]
    if not all(isinstance(v, list) and v and all(_real(x) for x in v) for v in lists):
        return False
    means, stds, weights = (np.asarray(v, np.float64) for v in lists)
    return (
        len(means) == len(stds) == len(weights)
        and bool((stds > 0).all())
        and bool((weights >= 0).all())
        and bool(np.isclose(weights.sum(), 1.0))
    )


def _real(value) -> bool:
    """A finite real number, not a bool."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and bool(np.isfinite(value))
    )


def _mixture_rows(n: int, codes, rng: np.random.Generator) -> np.ndarray:
    """Rows the mixtures are fitted on: at most MIXTURE_ROWS; with two or more classes, drawn so
    that each class has the same expected share."""
    if codes is None or len(np.unique(codes)) < 2:
        return np.arange(n) if n <= MIXTURE_ROWS else rng.choice(n, MIXTURE_ROWS, replace=False)
    _, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    p = 1.0 / counts[inverse]
    return rng.choice(n, min(n, MIXTURE_ROWS), replace=True, p=p / p.sum())


def _gumbel_argmax(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row from the softmax of ``logits`` (the Gumbel-max trick)."""
    u = rng.random(logits.shape)
    return (logits - np.log(-np.log(np.clip(u, 1e-12, 1 - 1e-12)))).argmax(axis=1)
