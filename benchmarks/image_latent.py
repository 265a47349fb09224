"""The conv autoencoder's bottleneck size and epochs on colour images: one-class ROC-AUC.

The image defaults ``latent_dim="auto"`` and ``epochs="auto"`` were first chosen on MNIST. This
script asks what colour images want: on the photograph patches
(``synthkit_datasets.make_photo_patches``, 1,000 per class by default) it fits the autoencoder
detector with each ``latent_dim`` and ``epochs`` on 70% of one class's patches (seeded split), and
scores the other 30% beside as many patches of the other class (the anomalies). Everything else is
default.

The two normal classes are the two halves: a rule is picked with ``china`` as the normal class
and confirmed with ``flower``. Prints a markdown table of ROC-AUC and fit seconds::

    python benchmarks/image_latent.py --sizes 32 64 --latent 16 32 64 128 --epochs auto 40
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def one_class_auc(images, labels, normal: str, latent, epochs, seed: int) -> tuple[float, float]:
    """(ROC-AUC, fit seconds) of the autoencoder fitted on 70% of the ``normal`` class."""
    from sklearn.metrics import roc_auc_score

    import synthkit

    rng = np.random.default_rng(seed)
    inside = np.flatnonzero(labels == normal)
    outside = np.flatnonzero(labels != normal)
    order = rng.permutation(inside)
    cut = int(0.7 * len(order))
    train, held = order[:cut], order[cut:]
    anomalies = rng.choice(outside, len(held), replace=False)
    detector = synthkit.get_detector("autoencoder", latent_dim=latent, epochs=epochs, seed=seed)
    start = time.perf_counter()
    detector.fit(images[train])
    seconds = time.perf_counter() - start
    test = np.concatenate([held, anomalies])
    scores = detector.decision_function(images[test])
    return float(
        roc_auc_score(np.r_[np.zeros(len(held)), np.ones(len(anomalies))], scores)
    ), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument(
        "--latent",
        nargs="+",
        default=["16", "32", "64", "128"],
        help="latent_dim values (integers, or auto)",
    )
    parser.add_argument(
        "--epochs", nargs="+", default=["auto"], help="epochs values (integers, or auto)"
    )
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from synthkit_datasets.make_photo_patches import CLASSES, photo_patches

    latents = [value if value == "auto" else int(value) for value in args.latent]
    epoch_counts = [value if value == "auto" else int(value) for value in args.epochs]
    print(
        "| size | latent_dim | epochs | "
        + " | ".join(
            f"AUC, {c} normal ({'pick' if i == 0 else 'confirm'})" for i, c in enumerate(CLASSES)
        )
        + " | fit s |"
    )
    print("|---|---|---|" + "---|" * len(CLASSES) + "---|")
    for size in args.sizes:
        images, labels = photo_patches(args.per_class, size, args.seed)
        for latent in latents:
            for epochs in epoch_counts:
                results = [
                    one_class_auc(images, labels, normal, latent, epochs, args.seed)
                    for normal in CLASSES
                ]
                aucs = " | ".join(f"{auc:.3f}" for auc, _ in results)
                seconds = " / ".join(f"{s:.0f}" for _, s in results)
                print(f"| {size}x{size}x3 | {latent} | {epochs} | {aucs} | {seconds} |", flush=True)


if __name__ == "__main__":
    main()
