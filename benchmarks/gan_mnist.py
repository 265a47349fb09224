"""Issue 4's MNIST targets for the ``gan`` plugin, on 2 CPU cores.

Trains the class-conditional GAN on the first 8,000 digits of the real MNIST test split with the
plugin's default settings, samples 1,000 (100 per digit), and prints: fit + sample time,
accuracy of synthkit's MNIST classifier on the samples against the digit asked for, FID/KID against
the last 2,000 digits beside the real-vs-real baseline (1,000 of the training digits vs the same
2,000), and the memorisation check (nearest training image vs real held-out images).

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/gan_mnist.py [--param epochs=30] [--grid g.png]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--param", action="append", default=[], help="plugin parameter key=value (JSON value)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--grid", default=None, help="write a sample grid (one row per digit) to this PNG"
    )
    args = parser.parse_args()
    params = {k: json.loads(v) for k, _, v in (p.partition("=") for p in args.param)}

    import numpy as np

    import synthkit
    from synthkit import evaluation as ev

    images, labels = synthkit.load_dataset("mnist:test")
    train_x, train_y, test_x = images[:8000], labels[:8000], images[8000:]
    load = os.getloadavg()
    gen = synthkit.get_generator("gan", seed=args.seed, **params)
    started = time.perf_counter()
    gen.fit(train_x, train_y)
    fit_s = time.perf_counter() - started
    asked = np.repeat(np.arange(10), 100)
    samples = gen.sample(1000, y=asked, seed=args.seed)
    total_s = time.perf_counter() - started

    mnist = ev.feature_model_of(
        "mnist"
    )  # the mnist dataset's feature model: its shipped classifier
    f_test = mnist.features(ev.as_unit_images(test_x))
    f_synth = mnist.features(ev.as_unit_images(samples))
    rng = np.random.default_rng(args.seed)
    base_idx = rng.choice(
        8000, 1000, replace=False
    )  # 1,000 other real digits (not in the last 2,000)
    f_base = mnist.features(ev.as_unit_images(train_x[base_idx]))
    fid, fid_base = ev.frechet_distance(f_synth, f_test), ev.frechet_distance(f_base, f_test)
    kid, kid_base = ev.kernel_distance(f_synth, f_test), ev.kernel_distance(f_base, f_test)
    acc = float((mnist.predict(ev.as_unit_images(samples)) == asked).mean())
    mem = ev.memorisation_summary(
        ev.nearest_distances(ev.as_unit_images(samples), ev.as_unit_images(train_x)),
        ev.nearest_distances(ev.as_unit_images(test_x), ev.as_unit_images(train_x)),
    )
    h = gen.history_
    rows = [
        ("load average at start (1/5/15 min)", " / ".join(f"{v:.2f}" for v in load), ""),
        ("epochs trained", str(gen.epochs_trained_), ""),
        ("fit + sample 1,000 (s)", f"{total_s:.1f} (fit {fit_s:.1f})", "<= 600"),
        ("classifier accuracy on asked digit", f"{acc:.3f}", ">= 0.95"),
        ("FID vs last 2,000 (synthetic)", f"{fid:.3f}", ""),
        ("FID vs last 2,000 (1,000 real)", f"{fid_base:.3f}", ""),
        ("FID ratio synthetic / real", f"{fid / fid_base:.2f}", "<= 3"),
        ("KID synthetic / real", f"{kid:.4f} / {kid_base:.4f}", ""),
        (
            "nearest-train L2 median synth / holdout",
            f"{mem['median_distance_synthetic']:.3f} / {mem['median_distance_holdout']:.3f}",
            "",
        ),
        ("samples closer than holdout p5", f"{mem['share_below_p5']:.3f}", "about 0.05"),
        ("near copies (closer than any holdout)", str(mem["near_copies"]), "0"),
        ("last epoch d_loss / g_loss", f"{h['d_loss'][-1]:.3f} / {h['g_loss'][-1]:.3f}", ""),
        (
            "last epoch D acc real / fake",
            f"{h['d_acc_real'][-1]:.3f} / {h['d_acc_fake'][-1]:.3f}",
            "~0.5 = balance",
        ),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'value':<24}  target")
    for name, value, target in rows:
        print(f"{name:<{w}}  {value:<24}  {target}")
    print("params:", {k: v for k, v in gen.get_params().items()})
    if args.grid:
        from synthkit.io._writing import save_figure
        from synthkit.plots._figures import image_grid

        save_figure(image_grid(samples, asked), args.grid)
        print("wrote", args.grid)


if __name__ == "__main__":
    main()
