"""Your own images, end to end from the shell: a folder of real colour patches, default settings.

Writes the two-class folder of photograph patches (``synthkit_datasets.make_photo_patches``), then
runs and times, each as its own ``synthkit`` process:

1. ``detect FOLDER --plugin autoencoder --normal-class china``: one-class detection (fit on the
   china patches, score all; flower patches are the anomalies), ROC-AUC as detect prints it;
2. ``augment FOLDER --plugin gan -n N --label flower -o out/ --grid grid.png``, and the same with
   ``--plugin diffusion``;
3. ``evaluate FOLDER out/`` for each: the feature classifier's held-out accuracy, the accuracy of
   the generated flowers, and the per-class FID beside its real-vs-real reference.

Prints a markdown table (seconds are the whole command's wall time, start-up included)::

    python benchmarks/image_folders.py --size 64 --per-class 1000     # 2,000 64x64 RGB images
    python benchmarks/image_folders.py --size 32 --per-class 150      # the README's example folder
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def synthkit(*args) -> tuple[float, str]:
    """(seconds, stdout + stderr) of one ``synthkit`` command; stops the run when it fails."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "synthkit", *map(str, args)], capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"synthkit {' '.join(map(str, args))} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout + done.stderr


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    return match.group(1) if match else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("-n", type=int, default=200, help="images each generator makes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--generators",
        nargs="*",
        default=["gan", "diffusion"],
        help="the generators to run (none: detection only)",
    )
    parser.add_argument(
        "--keep", type=Path, help="write the folders and grids here instead of a temporary folder"
    )
    args = parser.parse_args()
    from synthkit_datasets.make_photo_patches import write_photo_folder

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        images = write_photo_folder(work / "images", args.per_class, args.size, args.seed)
        print(f"{2 * args.per_class} images {args.size}x{args.size}x3 in {images}", file=sys.stderr)
        rows = []
        seconds, out = synthkit(
            "detect",
            images,
            "--plugin",
            "autoencoder",
            "--normal-class",
            "china",
            "-o",
            work / "scores.csv",
            "--overwrite",
            "--seed",
            args.seed,
        )
        rows.append(
            (
                "detect --plugin autoencoder --normal-class china",
                f"{seconds:.0f}",
                f"ROC-AUC {found(r'ROC-AUC: ([0-9.]+)', out)}, average precision "
                f"{found(r'average precision: ([0-9.]+)', out)}",
            )
        )
        for plugin in args.generators:
            target = work / f"out_{plugin}"
            seconds, out = synthkit(
                "augment",
                images,
                "--plugin",
                plugin,
                "-n",
                args.n,
                "--label",
                "flower",
                "-o",
                f"{target}/",
                "--grid",
                work / f"grid_{plugin}.png",
                "--overwrite",
                "--seed",
                args.seed,
            )
            rows.append(
                (
                    f"augment --plugin {plugin} -n {args.n} --label flower",
                    f"{seconds:.0f}",
                    f"generated in {found(r'time: ([0-9.]+s)', out)} of it",
                )
            )
            seconds, out = synthkit("evaluate", images, f"{target}/", "--seed", args.seed)
            rows.append(
                (
                    f"evaluate (the {plugin} images)",
                    f"{seconds:.0f}",
                    f"feature classifier held-out accuracy {found(r'held-out accuracy ([0-9.]+)', out)}; "
                    f"generated flowers read as flowers {found(r'classifier accuracy on labels +([0-9.]+)', out)}; "
                    f"FID {found(r'class flower +([0-9.]+)', out)} (real vs real "
                    f"{found(r'class flower +[0-9.]+ +.real vs real: ([0-9.]+)', out)})",
                )
            )
    print(f"| step ({2 * args.per_class} images, {args.size}x{args.size} RGB) | seconds | result |")
    print("| --- | --- | --- |")
    for step, seconds, result in rows:
        print(f"| `{step}` | {seconds} | {result} |")


if __name__ == "__main__":
    main()
