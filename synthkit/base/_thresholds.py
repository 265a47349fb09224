"""Thresholds from a detector's training scores alone, for ``contamination="auto"``: no assumed share.

Every rule is a function of a 1-D array of training scores (higher = more anomalous) that returns
a threshold; the rows above it are the anomalies. The rules never flag more than half the rows (a
threshold below the median is raised to it), and they flag nothing when the scores do not vary.

- ``mad``: median + k * MAD, the median absolute deviation scaled by 1.4826 (the standard deviation
  of a normal bulk), with k = 3 by default: Hampel's outlier rule.
- ``tukey``: Tukey's upper fence, Q3 + k * IQR (k = 1.5 by default).
- ``gmm``: a two-component Gaussian mixture; the rows whose posterior is higher for the component
  of higher mean.
- ``otsu``: Otsu's histogram threshold, the cut that maximises the variance between the two sides
  (PyThresh's ``HIST`` with Otsu's method).
- ``chauvenet``: Chauvenet's criterion: mean + z * sd, with z such that a normal sample of n rows
  expects half a row beyond it (PyThresh's ``CHAU``).

Each takes ``transform``: ``None`` (the raw scores) or ``"yeo-johnson"``, the Yeo-Johnson power
transform (after centring on the median and scaling by the IQR) whose power makes the quartiles
symmetric: monotone, it brings skewed scores (distances, tail log-probabilities) close to a
symmetric bulk, so that the normal-bulk rules fit them, and fitted on the quartiles, it is not
bent by the anomalies in the tail (a maximum-likelihood fit would make them look normal). A rule name with ``"_yj"`` appended means that transform
(``"mad_yj"``). ``threshold(scores, "auto")`` applies ``AUTO_RULE``, ``mad`` with k = 1.5: on the
scores of the default table detector (Isolation Forest), of the rules whose F1 is at least a fixed
contamination of 0.1's on half A of the benchmark's sets, the one whose flagged share lands within
3x of the true share on the most sets; confirmed on half B (``benchmarks/thresholds.py``, figures
in benchmarks/README.md). On tables with under 3% anomalies it still flags several times too many.
"""

from __future__ import annotations

import numpy as np

AUTO_RULE = "mad(k=1.5)"  # what "auto" applies: median + 1.5 MAD (see threshold)
MAD_TO_SD = 1.4826  # MAD * 1.4826 is the standard deviation of a normal distribution


def robust_scale(scores: np.ndarray) -> tuple[float, float]:
    """(median, a positive scale) of scores: the IQR, else the standard deviation, else 1."""
    q25, q50, q75 = np.quantile(scores, [0.25, 0.5, 0.75])
    scale = float(q75 - q25)
    if not scale > 0:
        scale = float(np.std(scores)) or 1.0
    return float(q50), scale


def yeo_johnson_lambda(z: np.ndarray) -> float:
    """The Yeo-Johnson power that makes the quartiles of ``z`` symmetric about their median (Bowley's
    skewness 0), searched in [-3, 3]: fitted on the bulk, so the anomalies in the tail do not bend it."""
    from scipy import stats

    q = np.quantile(z, [0.25, 0.5, 0.75])
    grid = np.linspace(-3.0, 3.0, 241)
    with np.errstate(all="ignore"):
        t = np.array([stats.yeojohnson(q, lmbda=lam) for lam in grid])
    skew = np.abs((t[:, 2] - 2 * t[:, 1] + t[:, 0]) / (t[:, 2] - t[:, 0]))
    skew[~np.isfinite(skew)] = np.inf
    return float(
        grid[int(np.argmin(np.where(np.isclose(skew, skew.min()), np.abs(grid - 1), np.inf)))]
    )


def transformed(scores, transform: str | None = None) -> np.ndarray:
    """The scores under ``transform`` (None or "yeo-johnson"), an increasing function of them."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if transform is None:
        return scores
    if transform != "yeo-johnson":
        raise ValueError(f"transform must be None or 'yeo-johnson', got {transform!r}")
    from scipy import stats

    centre, scale = robust_scale(scores)
    z = np.clip(
        (scores - centre) / scale, -1e3, 1e3
    )  # a few huge scores must not overflow the power
    if np.ptp(z) == 0:
        return z
    with np.errstate(all="ignore"):
        out = stats.yeojohnson(z, lmbda=yeo_johnson_lambda(z))
    return out if np.isfinite(out).all() else z


def cut(scores: np.ndarray, values: np.ndarray, limit: float) -> float:
    """The threshold on ``scores`` that flags the rows whose ``values`` (the scores, or an increasing
    transform of them) exceed ``limit``, never below the median: the largest score not flagged."""
    median = float(np.median(scores))
    kept = scores[~(values > limit)]
    return max(median, float(kept.max())) if len(kept) else median


def mad(scores, k: float = 3.0, transform: str | None = None) -> float:
    """Median + k * 1.4826 * MAD (the IQR / 1.349 where the MAD is 0)."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    v = transformed(s, transform)
    centre = np.median(v)
    spread = MAD_TO_SD * np.median(np.abs(v - centre))
    if not spread > 0:
        spread = float(np.subtract(*np.quantile(v, [0.75, 0.25]))) / 1.349
    return cut(s, v, centre + k * spread) if spread > 0 else float(s.max())


def tukey(scores, k: float = 1.5, transform: str | None = None) -> float:
    """Tukey's upper fence, Q3 + k * IQR."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    v = transformed(s, transform)
    q25, q75 = np.quantile(v, [0.25, 0.75])
    return cut(s, v, q75 + k * (q75 - q25)) if q75 > q25 else float(s.max())


def gmm(scores, transform: str | None = None, seed: int = 0) -> float:
    """Rows more likely under the higher-mean component of a two-component Gaussian mixture."""
    from sklearn.mixture import GaussianMixture

    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    v = transformed(s, transform)
    if np.ptp(v) == 0:
        return float(s.max())
    unit = (v - v.mean()) / v.std()
    mix = GaussianMixture(2, random_state=seed).fit(unit[:, None])
    means = mix.means_.ravel()
    ordered = np.sort(unit)
    start = int(
        np.searchsorted(ordered, means.min())
    )  # the posterior is not monotone in the far low tail
    above = np.flatnonzero(mix.predict_proba(ordered[start:, None])[:, int(np.argmax(means))] > 0.5)
    if not len(above):
        return float(s.max())
    return cut(s, unit, float(np.nextafter(ordered[start + above[0]], -np.inf)))


def otsu(scores, bins: int = 256, transform: str | None = None) -> float:
    """Otsu's threshold: the histogram cut with the largest between-class variance."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    v = transformed(s, transform)
    if np.ptp(v) == 0:
        return float(s.max())
    counts, edges = np.histogram(v, bins=bins)
    mids = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)[:-1].astype(float)
    w1 = len(v) - w0
    m0 = np.cumsum(counts * mids)[:-1] / np.maximum(w0, 1)
    m1 = ((counts * mids).sum() - np.cumsum(counts * mids)[:-1]) / np.maximum(w1, 1)
    between = w0 * w1 * (m0 - m1) ** 2
    return cut(s, v, float(edges[1:-1][int(np.argmax(between))]))


def chauvenet(scores, transform: str | None = None) -> float:
    """Chauvenet's criterion: mean + z * sd, where a normal sample of n rows expects half a row above z."""
    from scipy import stats

    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    v = transformed(s, transform)
    sd = float(v.std())
    if not sd > 0:
        return float(s.max())
    return cut(s, v, float(v.mean()) + float(stats.norm.isf(0.5 / len(v))) * sd)


RULES = {"mad": mad, "tukey": tukey, "gmm": gmm, "otsu": otsu, "chauvenet": chauvenet}


def threshold(scores, rule: str = "auto", **options) -> float:
    """The threshold of ``rule`` (a name in ``RULES``, ``"_yj"`` appended for the Yeo-Johnson
    transform, or ``"auto"``, also named ``AUTO_RULE``) on the training ``scores``."""
    if rule in ("auto", AUTO_RULE):
        rule, options = "mad", {"k": 1.5, **options}
    name = rule
    base, yj = (name[:-3], True) if name.endswith("_yj") else (name, False)
    if base not in RULES:
        raise ValueError(
            f"unknown threshold rule {rule!r}; rules: {', '.join(RULES)} (each also with '_yj')"
        )
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) == 0 or not np.isfinite(scores).all():
        raise ValueError("a threshold needs at least one score, all finite")
    return float(RULES[base](scores, transform="yeo-johnson" if yj else None, **options))
