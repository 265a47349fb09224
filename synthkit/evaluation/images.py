"""Quality of synthetic images against real ones, measured with a feature model.

A dataset may supply its feature model (``Dataset.feature_model``; the ``mnist`` dataset's is a
small classifier it ships), and ``image_report`` takes it as ``features=``, the model itself or
the name of the dataset. Without one, a feature model is trained on the real images
(``learned_features``: a classifier on their labels, with its held-out accuracy reported, else an
autoencoder). The measures:

- classifier accuracy on conditional samples against the labels asked for (when the feature
  model can ``predict`` classes);
- FID and KID (``frechet_distance``, ``kernel_distance``) on the feature model's features, each
  beside its real-vs-real reference (two random parts of the real set), and per class when both
  sets are labelled (images of one class against all classes is not a measure of quality);
- memorisation: pixel distance from each sample to its nearest training image, beside the same
  distance for real held-out images.
"""

from __future__ import annotations

import warnings

import numpy as np

from synthkit.errors import DataError
from synthkit.evaluation.rows import format_value as _fmt
from synthkit.evaluation.tables import memorisation_summary, nearest_distances
from synthkit.adapters._labels import label_key


def feature_model_of(source):
    """The feature model to measure images with: ``source`` itself when it has ``features``, else
    the feature model of the dataset ``source`` names (``mnist`` or ``mnist:test``).

    Raises ``DataError`` when there is none: no ``source``, a file, an unknown name, or a dataset
    without a feature model.
    """
    if source is not None and callable(getattr(source, "features", None)):
        return source
    from pathlib import Path

    from synthkit.registry import get_registry

    datasets = get_registry().entries("datasets")
    name = str(source).partition(":")[0] if isinstance(source, str) else None
    if source is None:
        why = "no features= was given"
    elif isinstance(source, str) and Path(source).exists():
        why = f"{source!r} is a file, not a dataset (name the dataset whose feature model measures it: --features)"
    elif name in datasets:
        model = datasets[name][0].feature_model()
        if model is not None:
            return model
        why = f"dataset {name!r} has none"
    else:
        why = f"{source!r} is neither a dataset nor a feature model"
    having = sorted(
        n for n, (dataset, _) in datasets.items() if dataset.feature_model() is not None
    )
    raise DataError(
        f"image evaluation needs a dataset with a feature model, and {why}: take the real images "
        f"from a dataset that has one ({', '.join(having) or 'none is installed'}), e.g. "
        '`synthkit evaluate mnist:test SYNTHETIC` or image_report(..., features="mnist")'
    )


def as_unit_images(images) -> np.ndarray:
    """Images as float32 (n, h, w, c) in [0, 1]: integers (and floats above 1) are divided by 255."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise DataError(
            f"images must be an array (n, height, width) or (n, height, width, channels), "
            f"got shape {tuple(np.asarray(images).shape)}"
        )
    if len(arr) == 0:
        raise DataError("no images given")
    out = arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer) or out.max() > 1.0:
        out = out / 255.0
    return np.clip(out, 0.0, 1.0)


def _same_shape(reference: np.ndarray, **others) -> None:
    """Refuse image sets whose image shape differs from the real images'."""
    for what, images in others.items():
        if images is not None and images.shape[1:] != reference.shape[1:]:
            raise DataError(
                f"the {what} images are {'x'.join(map(str, images.shape[1:]))}, the real ones "
                f"{'x'.join(map(str, reference.shape[1:]))}: compare images of one shape"
            )


def frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula)."""
    from scipy import linalg

    mu1, mu2 = f1.mean(axis=0), f2.mean(axis=0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    with (
        warnings.catch_warnings()
    ):  # dead ReLU features make the covariances singular; handled below
        warnings.simplefilter("ignore")
        covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        eps = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def kernel_distance(
    f1: np.ndarray, f2: np.ndarray, subsets: int = 20, subset_size: int = 1000, seed: int = 0
) -> float:
    """KID: unbiased MMD² with the cubic polynomial kernel, averaged over random subsets."""
    rng = np.random.default_rng(seed)
    d = f1.shape[1]
    m = min(subset_size, len(f1), len(f2))
    if m < 2:
        raise DataError("KID needs at least 2 images on each side")
    values = []
    for _ in range(subsets):
        x = f1[rng.choice(len(f1), m, replace=False)]
        y = f2[rng.choice(len(f2), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        values.append(
            (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean()
        )
    return float(np.mean(values))


def _features(model, images: np.ndarray) -> np.ndarray:
    """The feature model's features of unit images, as a float64 (n, d) array."""
    out = np.asarray(model.features(images), dtype=np.float64)
    if out.ndim != 2 or len(out) != len(images):
        raise DataError(
            f"the feature model gave features of shape {out.shape} for {len(images)} images; "
            "it must give one row per image"
        )
    return out


def image_report(
    real,
    synthetic,
    labels=None,
    train=None,
    holdout=None,
    real_labels=None,
    seed: int = 0,
    features=None,
) -> dict:
    """Measures of ``synthetic`` images against ``real`` ones.

    - ``features``: the feature model (see ``synthkit.Dataset.feature_model``), or the name of the
      dataset whose feature model to use (``"mnist"``); None trains one on ``real`` (see
      ``synthkit.evaluation.learned_features``): a classifier when ``real_labels`` give two or more
      classes, with its held-out accuracy in ``feature_model_quality`` and
      ``feature_model_holdout_accuracy``, else an autoencoder;
    - ``classifier_accuracy``: with ``labels`` (the class asked for, one per synthetic image) and a
      feature model that can ``predict``, the share it reads as that class;
    - ``fid`` and ``kid``: against every real image; ``fid_reference`` and ``kid_reference``: the
      same measures between two parts of ``real`` drawn at random (seeded): ``m`` real images, as
      many as there are synthetic ones but at most half, against the others. FID grows as sets get
      smaller, so read it against this reference: a generator as good as real data scores about
      the reference (``fid_ratio`` = fid / fid_reference about 1 or below);
    - ``by_class``: with ``labels`` and ``real_labels``, for each class in both, the synthetic
      images of that class against the real ones of that class, each with its own reference;
      ``fid_per_class`` and ``kid_per_class`` (and their ``_reference``) are the means over those
      classes. Images of one class compared with all classes score a large FID however good they
      are, so these are the measures to read when labels are known;
    - ``memorisation``: when ``train`` (the generator's training images) and ``holdout`` (real
      images it did not see) are given.
    """
    real_u, synth_u = as_unit_images(real), as_unit_images(synthetic)
    _same_shape(real_u, synthetic=synth_u)
    if len(real_u) < 4 or len(synth_u) < 2:
        raise DataError("FID needs at least 4 real and 2 synthetic images")
    if real_labels is not None:
        real_labels = np.asarray(real_labels)
        if len(real_labels) != len(real_u):
            raise DataError(f"got {len(real_labels)} labels for {len(real_u)} real images")
    if features is None:
        from synthkit.evaluation.learned_features import learned_feature_model

        model = learned_feature_model(real_u, real_labels, seed)
    else:
        model = feature_model_of(features)
    fr, fs = _features(model, real_u), _features(model, synth_u)
    rng = np.random.default_rng(seed)
    report = {
        "images_real": int(len(real_u)),
        "images_synthetic": int(len(synth_u)),
        "feature_model": str(getattr(model, "name", "") or type(model).__name__),
    }
    if getattr(model, "quality", None):
        report["feature_model_quality"] = str(model.quality)
    for name in ("holdout_accuracy", "holdout_error"):
        if getattr(model, name, None) is not None:
            report[f"feature_model_{name}"] = float(getattr(model, name))
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != len(synth_u):
            raise DataError(f"got {len(labels)} labels for {len(synth_u)} synthetic images")
        if callable(getattr(model, "predict", None)):
            read = np.asarray(model.predict(synth_u))
            report["classifier_accuracy"] = float(
                np.mean([label_key(a) == label_key(r) for a, r in zip(labels, read)])
            )
    report.update(_distances_with_reference(fr, fs, rng))
    if labels is not None and real_labels is not None:
        report.update(_per_class(fr, fs, real_labels, labels, rng))
    if train is not None and holdout is not None:
        tr, ho = as_unit_images(train), as_unit_images(holdout)
        _same_shape(real_u, training=tr, holdout=ho)
        report["memorisation"] = memorisation_summary(
            nearest_distances(synth_u, tr), nearest_distances(ho, tr)
        )
    return report


def _distances_with_reference(fr: np.ndarray, fs: np.ndarray, rng) -> dict:
    """FID and KID of synthetic features ``fs`` against real ``fr``, and the real-vs-real reference:
    ``m = min(len(fs), len(fr) // 2)`` real images drawn at random against the other real ones."""
    m = min(len(fs), len(fr) // 2)
    order = rng.permutation(len(fr))
    part, rest = fr[order[:m]], fr[order[m:]]
    fid, ref = frechet_distance(fr, fs), frechet_distance(part, rest)
    return {
        "fid": fid,
        "kid": kernel_distance(fr, fs),
        "fid_reference": ref,
        "kid_reference": kernel_distance(part, rest),
        "fid_ratio": fid / ref if ref > 0 else float("nan"),
        "reference_images": [int(m), int(len(rest))],
    }


def _per_class(fr, fs, real_labels, labels, rng) -> dict:
    """Per class in both label sets: FID and KID with their references (see ``image_report``)."""
    real_keys = np.array([label_key(v) for v in real_labels])
    synth_keys = np.array([label_key(v) for v in labels])
    by_class, skipped = {}, []
    for key, first in sorted(
        dict(zip(synth_keys[::-1], labels[::-1])).items(), key=lambda kv: (len(kv[0]), kv[0])
    ):
        r, s = fr[real_keys == key], fs[synth_keys == key]
        if len(r) < 4 or len(s) < 2:
            skipped.append(str(first))
            continue
        d = _distances_with_reference(r, s, rng)
        by_class[str(first)] = {"images_real": int(len(r)), "images_synthetic": int(len(s)), **d}
    out = {"by_class": by_class, "classes_skipped": skipped}
    if by_class:
        for name in ("fid", "kid", "fid_reference", "kid_reference"):
            out[f"{name.split('_')[0]}_per_class{'_reference' if 'reference' in name else ''}"] = (
                float(np.mean([c[name] for c in by_class.values()]))
            )
        ref = out["fid_per_class_reference"]
        out["fid_per_class_ratio"] = out["fid_per_class"] / ref if ref > 0 else float("nan")
    return out


def image_report_rows(report: dict) -> list[tuple[str, str]]:
    """The classifier accuracy first, then FID and KID, each beside its real-vs-real reference (per
    class when both sets are labelled), then memorisation."""
    rows = [
        ("images (real / synthetic)", f"{report['images_real']} / {report['images_synthetic']}")
    ]
    if "feature_model_quality" in report:
        rows.append((f"features: {report['feature_model']}", report["feature_model_quality"]))
    if "classifier_accuracy" in report:
        rows.append(("classifier accuracy on labels", _fmt(report["classifier_accuracy"])))
    by_class = report.get("by_class") or {}
    if by_class:
        rows.append(
            (
                f"FID per class (mean of {len(by_class)})",
                _with_reference(report["fid_per_class"], report["fid_per_class_reference"]),
            )
        )
        for name, c in by_class.items():
            rows.append(
                (
                    f"  class {name}",
                    _with_reference(c["fid"], c["fid_reference"])
                    + f"; {c['images_real']} real, {c['images_synthetic']} synthetic",
                )
            )
        rows.append(
            (
                "KID per class (mean)",
                _with_reference(
                    report["kid_per_class"], report["kid_per_class_reference"], ratio=False
                ),
            )
        )
        if report.get("classes_skipped"):
            rows.append(("  classes too small to compare", ", ".join(report["classes_skipped"])))
    else:
        rows.append(
            (
                f"FID ({report['feature_model']})",
                _with_reference(report["fid"], report["fid_reference"]),
            )
        )
        rows.append(("KID", _with_reference(report["kid"], report["kid_reference"], ratio=False)))
        if "classifier_accuracy" in report and "by_class" not in report:
            rows.append(("  note", "REAL has no labels: FID and KID compare with every class"))
        elif "classes_skipped" in report:
            rows.append(
                (
                    "  note",
                    "no class has 4 real and 2 synthetic images: FID and KID compare with every class",
                )
            )
    if "memorisation" in report:
        m = report["memorisation"]
        rows += [
            (
                "nearest-train distance synth / holdout",
                f"{_fmt(m['median_distance_synthetic'])} / {_fmt(m['median_distance_holdout'])}",
            ),
            ("closer than holdout p5", _fmt(m["share_below_p5"]) + " (about 0.05 expected)"),
            ("near copies", str(m["near_copies"])),
        ]
    return rows


def _with_reference(value: float, reference: float, ratio: bool = True) -> str:
    """``value  (real vs real: reference; ratio r)``, the way every distance is printed."""
    text = f"{_fmt(value)}  (real vs real: {_fmt(reference)}"
    if ratio and reference > 0:
        text += f"; ratio {value / reference:.2f}"
    return text + ")"
