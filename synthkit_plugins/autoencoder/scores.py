"""The autoencoder's anomaly scores (higher = more anomalous), computed from the inputs, the
members' reconstructions and the bottleneck codes, and the networks run in batches to get them.

Scores (parameter ``scoring``, called ``score`` before; ``score=`` is still accepted, with a
DeprecationWarning, and model directories saved with it load unchanged):

- ``mse``, ``l1``, ``bce``: mean squared, absolute or binary cross-entropy reconstruction error per
  sample (``bce`` only for data in [0, 1]);
- ``structural`` (images): the reconstruction residual smoothed with a Gaussian of 1 pixel, squared,
  and averaged over the worst 10% of pixels. Smoothing cancels the thin +/- fringes a slightly
  shifted or thicker stroke leaves, which plain squared error counts as damage; keeping the worst
  pixels scores a missing or extra stroke by its own size, not diluted by the background;
- ``relative`` (images): the structural score divided by the image's ink, its mean pixel value
  (plus ``RELATIVE_FLOOR``, so that a blank image does not divide by zero): the damage measured
  against how much there is to reconstruct. A normal image with many strokes (an 8) leaves a larger
  residual than one with few (a 1) however well it is modelled; dividing by the ink corrects for
  that input complexity, in the spirit of Serra et al. 2020;
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

How each image score compares on the MNIST one-class benchmark: benchmarks/README.md.
"""

from __future__ import annotations

import numpy as np

from synthkit.errors import DataError

SCORES = ("auto", "mse", "l1", "bce", "structural", "relative", "hybrid", "elbo")
STRUCTURAL_SIGMA = 1.0  # pixels: the Gaussian that smooths the residual for the structural score
STRUCTURAL_TOP = 0.1  # share of the worst pixels the structural score averages
RELATIVE_FLOOR = 0.02  # added to the mean pixel value the relative score divides by
MAX_REFERENCE_CODES = (
    10_000  # training codes kept for the hybrid score's nearest-neighbour part, all members
)
PREDICT_BATCH = 1024


def predict_in_batches(model, X: np.ndarray):
    """Outputs of ``model`` on X in batches, as numpy (a list for several outputs).

    A direct call rather than ``model.predict``: no per-call tracing, which dominates on small data.
    """
    parts = []
    for start in range(0, len(X), PREDICT_BATCH):
        out = model(X[start : start + PREDICT_BATCH], training=False)
        parts.append(
            [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]
        )
    if not parts:
        raise DataError("no rows to run the model on")
    merged = [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
    return merged if len(merged) > 1 else merged[0]


def reconstruction_errors(X: np.ndarray, R: np.ndarray, how: str) -> np.ndarray:
    """Per-sample error of the reconstructions R of X: ``how`` is mse, l1, bce, structural or relative."""
    if how == "structural":
        return structural_error(X, R)
    if how == "relative":
        return structural_error(X, R) / (X.reshape(len(X), -1).mean(axis=1) + RELATIVE_FLOOR)
    X = X.reshape(len(X), -1).astype(np.float64)
    R = R.reshape(len(R), -1).astype(np.float64)
    if how == "l1":
        return np.abs(X - R).mean(axis=1)
    if how == "bce":
        R = np.clip(R, 1e-7, 1 - 1e-7)
        return -(X * np.log(R) + (1 - X) * np.log(1 - R)).mean(axis=1)
    return ((X - R) ** 2).mean(axis=1)


def feature_errors(X: np.ndarray, R: np.ndarray, how: str) -> np.ndarray:
    """Each feature's part of ``reconstruction_errors`` (mse, l1 or bce) of rows X (n, features) and
    the members' reconstructions R (n, members, features): (n, members, features), summing over the
    features to each member's error."""
    X = X.reshape(len(X), 1, -1).astype(np.float64)
    R = R.reshape(len(R), R.shape[1], -1).astype(np.float64)
    if how == "l1":
        part = np.abs(X - R)
    elif how == "bce":
        R = np.clip(R, 1e-7, 1 - 1e-7)
        part = -(X * np.log(R) + (1 - X) * np.log(1 - R))
    else:
        part = (X - R) ** 2
    return part / X.shape[2]


def explained_hybrid(
    X: np.ndarray,
    R: np.ndarray,
    codes: np.ndarray,
    reference_codes: np.ndarray,
    scales,
    n_neighbors: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``hybrid_score`` of new rows split into (each feature's part of the reconstruction term
    (n, features), the k-NN code term (n,)), which add up to it."""
    rec_scale, knn_scale = np.reshape(scales, (2, -1))
    part = (feature_errors(X, R, "mse") / rec_scale[None, :, None]).mean(axis=1)
    return part, (knn_distances(reference_codes, codes, n_neighbors, R.shape[1]) / knn_scale).mean(
        axis=1
    )


def explained_elbo(
    X: np.ndarray,
    R: np.ndarray,
    z_mean: np.ndarray,
    z_log_var: np.ndarray,
    unit_range: bool,
    beta: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``negative_elbo`` split into (each feature's reconstruction term (n, features), the weighted
    KL term (n,)), which add up to it."""
    R = R.reshape(len(R), 1, -1)
    part = (
        feature_errors(X, R, "bce")[:, 0] if unit_range else 0.5 * feature_errors(X, R, "mse")[:, 0]
    )
    kl = -0.5 * (1.0 + z_log_var - z_mean**2 - np.exp(z_log_var)).sum(axis=1)
    return part, float(beta) * kl / X[0].size


def member_errors(X: np.ndarray, R: np.ndarray, how: str) -> np.ndarray:
    """Per-sample errors of each member's reconstructions R (n, members, ...): (n, members)."""
    return np.stack([reconstruction_errors(X, R[:, m], how) for m in range(R.shape[1])], axis=1)


def structural_error(X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Per image (n, h, w, c): the residual smoothed over height and width, squared, averaged over
    the worst ``STRUCTURAL_TOP`` share of its values (see the module docstring)."""
    from scipy.ndimage import gaussian_filter

    D = X.astype(np.float64) - R.reshape(X.shape).astype(np.float64)
    D = (
        gaussian_filter(D, sigma=(0, STRUCTURAL_SIGMA, STRUCTURAL_SIGMA, 0)).reshape(len(X), -1)
        ** 2
    )
    k = max(1, int(round(STRUCTURAL_TOP * D.shape[1])))
    return np.partition(D, D.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


def knn_distances(
    reference_codes: np.ndarray,
    codes: np.ndarray,
    n_neighbors: int,
    members: int,
    own: np.ndarray | None = None,
) -> np.ndarray:
    """Mean distance of each row's code to its ``n_neighbors`` nearest reference codes, in each
    member's own code space: (n, members). ``own`` (n, members): where a row is itself one of a
    member's reference codes, its position there (-1 where not); that code is left out of the row's
    neighbours, as PyOD's KNN leaves a training row out of its own (for ``decision_scores_``)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(int(n_neighbors), len(reference_codes))
    if k < 1:
        return np.zeros((len(codes), members))
    fetch = min(k + 1, len(reference_codes)) if own is not None else k
    out = []
    for m, (ref, mine) in enumerate(
        zip(np.split(reference_codes, members, axis=1), np.split(codes, members, axis=1))
    ):
        # brute force: exact like a tree, and several times faster on low-dimensional codes
        dist, idx = (
            NearestNeighbors(n_neighbors=fetch, algorithm="brute")
            .fit(ref)
            .kneighbors(mine.astype(np.float32))
        )
        if own is not None:  # the row's own code out; the next nearest in (none left: distance 0)
            dist = np.sort(np.where(idx == own[:, m : m + 1], np.inf, dist), axis=1)[:, :k]
            finite = np.isfinite(dist)
            out.append(np.where(finite, dist, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1))
        else:
            out.append(dist.mean(axis=1))
    return np.stack(out, axis=1)


def own_reference_positions(reference_rows: list, rows: np.ndarray) -> np.ndarray:
    """(len(rows), members): each training row's position among a member's reference rows, or -1."""
    out = np.full((len(rows), len(reference_rows)), -1, dtype=np.int64)
    for m, picked in enumerate(reference_rows):
        at = np.searchsorted(picked, rows)
        found = (at < len(picked)) & (picked[np.minimum(at, len(picked) - 1)] == rows)
        out[found, m] = at[found]
    return out


def hybrid_reference(
    X: np.ndarray, R: np.ndarray, codes: np.ndarray, trim: float, n_neighbors: int, seed
) -> tuple[np.ndarray, np.ndarray, list]:
    """(reference codes, scales, reference rows) that the hybrid score takes from the training rows
    X, their members' reconstructions R and their codes: each member's random share of the kept
    rows' codes, the median of each part (reconstruction error, k-NN distance) per member over the
    kept rows, shape (2, members), scored by the training rule (a row is not its own neighbour),
    and each member's reference rows (sorted indices into X)."""
    members = R.shape[1]
    latent = codes.shape[1] // members
    rec = member_errors(X, R, "mse")
    keep = np.arange(len(X))
    if trim:  # the rows the network reconstructs worst are no references of normal codes either
        mean_rec = rec.mean(axis=1)
        keep = np.flatnonzero(mean_rec <= np.quantile(mean_rec, 1.0 - trim))
    # at most MAX_REFERENCE_CODES in all, so that an ensemble scores as fast as one network:
    # each member keeps its own random share of the rows, in its own columns
    rng = np.random.default_rng(seed)
    picks = [
        np.sort(keep[rng.permutation(len(keep))[: MAX_REFERENCE_CODES // members]])
        for _ in range(members)
    ]
    reference_codes = np.hstack(
        [codes[rows, m * latent : (m + 1) * latent] for m, rows in enumerate(picks)]
    )
    knn = knn_distances(
        reference_codes, codes[keep], n_neighbors, members, own_reference_positions(picks, keep)
    )
    scales = np.array([[_positive_median(v) for v in part.T] for part in (rec, knn)])
    return reference_codes, scales, picks


def hybrid_score(
    X: np.ndarray,
    R: np.ndarray,
    codes: np.ndarray,
    reference_codes: np.ndarray,
    scales,
    n_neighbors: int,
    own: np.ndarray | None = None,
) -> np.ndarray:
    """The hybrid score: each member's squared reconstruction error and k-NN code distance, each
    divided by its training median (``hybrid_reference``), summed, averaged over the members.
    ``own``: the training rule, see ``knn_distances``."""
    rec_scale, knn_scale = np.reshape(scales, (2, -1))
    rec = member_errors(X, R, "mse") / rec_scale
    knn = knn_distances(reference_codes, codes, n_neighbors, R.shape[1], own) / knn_scale
    return (rec + knn).mean(axis=1)


def negative_elbo(
    X: np.ndarray,
    R: np.ndarray,
    z_mean: np.ndarray,
    z_log_var: np.ndarray,
    unit_range: bool,
    beta: float,
) -> np.ndarray:
    """The VAE's negative ELBO per feature at the posterior mean (``z_mean``, decoded as R)."""
    n = X[0].size
    if unit_range:
        rec = reconstruction_errors(X, R, "bce") * n
    else:
        rec = 0.5 * reconstruction_errors(X, R, "mse") * n
    kl = -0.5 * (1.0 + z_log_var - z_mean**2 - np.exp(z_log_var)).sum(axis=1)
    return (rec + float(beta) * kl) / n


def _positive_median(values: np.ndarray) -> float:
    """The median of ``values``, or where it is not positive their mean, at least 1e-12."""
    m = float(np.median(values)) if len(values) else 1.0
    return m if m > 1e-12 else max(float(np.mean(values)) if len(values) else 1.0, 1e-12)
