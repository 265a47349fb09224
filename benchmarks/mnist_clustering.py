"""K-Means on MNIST: raw pixels against the convolutional autoencoder's bottleneck.

Both use the kmeans plugin (k = 10, same seed), once with ``features="raw"`` and once with
``features="autoencoder"``; NMI and ARI of the clusters against the digit labels, and seconds.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/mnist_clustering.py [--n 10000] [--ae-epochs 10]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main():
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    import synthkit
    from synthkit.api import get_detector

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="test")
    ap.add_argument("--n", type=int, default=10000, help="images used (the first n of the split)")
    ap.add_argument("--ae-epochs", type=int, default=10)
    ap.add_argument("--latent-dim", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    images, labels = synthkit.load_dataset(f"mnist:{args.split}")
    images, labels = images[: args.n], labels[: args.n]
    print(f"mnist:{args.split}, {len(images)} images, k=10, seed {args.seed}")
    print(f"{'features':<34}{'NMI':>8}{'ARI':>8}{'seconds':>9}")
    for name, params in (
        ("raw pixels", {"features": "raw"}),
        (
            f"autoencoder bottleneck ({args.latent_dim}-d)",
            {
                "features": "autoencoder",
                "ae_epochs": args.ae_epochs,
                "ae_latent_dim": args.latent_dim,
            },
        ),
    ):
        t = time.perf_counter()
        det = get_detector("kmeans", n_clusters=10, n_init=10, seed=args.seed, **params).fit(images)
        seg = det.segment(images)
        seconds = time.perf_counter() - t
        print(
            f"{name:<34}{normalized_mutual_info_score(labels, seg):>8.4f}{adjusted_rand_score(labels, seg):>8.4f}"
            f"{seconds:>9.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
