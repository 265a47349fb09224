"""Train the small MNIST CNN whose features synthkit's FID/KID use; write synthkit_datasets/mnist/mnist_classifier.npz.

Protocol (issue 4): train on the first 8,000 digits of the real MNIST test split, evaluate on the
last 2,000, fixed seed. The architecture lives in
``synthkit_datasets.mnist.features.build_mnist_classifier`` (the mnist dataset's feature model);
the npz holds only float32 weights and the measured accuracy (no pickle, nothing executable).

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/train_mnist_classifier.py
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "-o", "--output", default=None, help="default: synthkit_datasets/mnist/mnist_classifier.npz"
    )
    args = parser.parse_args()

    import keras
    import numpy as np

    import synthkit
    from synthkit_datasets.mnist.features import (
        CLASSIFIER_FILE,
        build_mnist_classifier,
        save_classifier_weights,
    )

    images, labels = synthkit.load_dataset("mnist:test")
    x = images.astype("float32")[..., None] / 255.0
    x_train, y_train, x_test, y_test = x[:8000], labels[:8000], x[8000:], labels[8000:]
    keras.utils.set_random_seed(args.seed)
    model, _ = build_mnist_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    # light augmentation (random shifts of up to 2 pixels) so features do not hinge on exact position
    rng = np.random.default_rng(args.seed)
    for epoch in range(args.epochs):
        shifted = np.empty_like(x_train)
        dx, dy = rng.integers(-2, 3, len(x_train)), rng.integers(-2, 3, len(x_train))
        for i in range(len(x_train)):
            shifted[i] = np.roll(np.roll(x_train[i], dy[i], axis=0), dx[i], axis=1)
        use = shifted if epoch % 2 else x_train
        h = model.fit(use, y_train, batch_size=128, epochs=1, shuffle=True, verbose=0)
        acc = model.evaluate(x_test, y_test, verbose=0)[1]
        print(
            f"epoch {epoch + 1}/{args.epochs}  loss {h.history['loss'][0]:.4f}  test accuracy {acc:.4f}",
            flush=True,
        )
    test_acc = float(model.evaluate(x_test, y_test, verbose=0)[1])
    out = args.output or CLASSIFIER_FILE
    save_classifier_weights(
        model,
        out,
        test_accuracy=test_acc,
        train_images=8000,
        test_images=2000,
        epochs=args.epochs,
        seed=args.seed,
    )
    print(f"test accuracy on the last 2,000 test-split digits: {test_acc:.4f}")
    print(
        f"train time: {time.perf_counter() - started:.1f}s  wrote {out} ({os.path.getsize(out) / 1024:.0f} KiB)"
    )


if __name__ == "__main__":
    main()
