"""A small real colour image folder: square patches of the two photographs scikit-learn ships.

``sklearn.datasets.load_sample_images`` holds two real photographs (427x640 RGB JPEGs installed
with scikit-learn, nothing downloaded): a Chinese temple and a flower. Patches cut from each at
seeded random places make a two-class colour set, ``china`` and ``flower``, laid out the way
``keras.utils.image_dataset_from_directory`` expects and ``synthkit`` reads an image folder::

    OUT/china/000.png ...
    OUT/flower/000.png ...

The same arguments write the same files, byte for byte. Run it as::

    python -m synthkit_datasets.make_photo_patches my_images/ [--size 32] [--per-class 150] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

CLASSES = ("china", "flower")


def photo_patches(
    per_class: int = 150, size: int = 32, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, size, size, 3), labels ``china``/``flower``): ``per_class`` patches of each
    photograph, their top-left corners drawn uniformly with ``seed``."""
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images  # china.jpg, flower.jpg: in CLASSES' order
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for name, photo in zip(CLASSES, photos):
        if size > min(photo.shape[:2]):
            raise ValueError(
                f"--size {size} is larger than the photographs ({photo.shape[0]}x{photo.shape[1]})"
            )
        rows = rng.integers(0, photo.shape[0] - size + 1, per_class)
        cols = rng.integers(0, photo.shape[1] - size + 1, per_class)
        images += [photo[r : r + size, c : c + size] for r, c in zip(rows, cols)]
        labels += [name] * per_class
    return np.stack(images).astype(np.uint8), np.array(labels)


def write_photo_folder(out, per_class: int = 150, size: int = 32, seed: int = 0) -> Path:
    """Write ``photo_patches(...)`` as ``out/<class>/<index>.png``; ``out`` must not hold images yet."""
    from PIL import Image

    out = Path(out)
    images, labels = photo_patches(per_class, size, seed)
    for name in CLASSES:
        (out / name).mkdir(parents=True, exist_ok=True)
        if any((out / name).iterdir()):
            raise FileExistsError(f"{out / name} is not empty; write to a new folder")
    width = len(str(per_class - 1))
    for i, (image, name) in enumerate(zip(images, labels)):
        Image.fromarray(image).save(out / name / f"{i % per_class:0{width}d}.png")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the folder to create")
    parser.add_argument(
        "--size", type=int, default=32, help="patch height and width in pixels (default 32)"
    )
    parser.add_argument(
        "--per-class", type=int, default=150, help="patches of each photograph (default 150)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the patch positions (default 0)"
    )
    args = parser.parse_args(argv)
    try:
        out = write_photo_folder(args.out, args.per_class, args.size, args.seed)
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {2 * args.per_class} {args.size}x{args.size} patches to {out}/{{{','.join(CLASSES)}}}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
