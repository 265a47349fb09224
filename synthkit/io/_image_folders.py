"""Folders of PNG and JPEG images as input, and as output for generated images.

Input: every ``.png``, ``.jpg`` and ``.jpeg`` file under the folder, found recursively and read in
path order; the first-level subfolder names are the labels when the images lie in subfolders, and
there are no labels when they lie flat. Images become one ``(n, h, w, c)`` uint8 array (c = 1 for
grayscale, 3 for colour; an alpha channel is dropped); images of other sizes are resized to the most
common size, and a note on stderr says so. Output: one PNG per image, in a subfolder per label, made
in a temporary folder beside the target and renamed at the end.

PIL (Pillow) decodes the files: it reads PNG and JPEG without importing TensorFlow.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from synthkit.errors import DataError, InputFileError, OutputFileError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def image_files(folder: Path) -> list[Path]:
    """The image files under ``folder`` (recursively, hidden entries skipped), in path order."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            Path(root) / f
            for f in sorted(files)
            if not f.startswith(".") and f.lower().endswith(IMAGE_SUFFIXES)
        ]
    return sorted(found, key=lambda p: p.relative_to(folder).parts)


MAX_IMAGE_SIDE = (
    4096  # pixels: a 4096 x 4096 colour image is 48 MiB; larger asks are refused, not tried
)


def check_image_size(size) -> None:
    """Refuse an image size (height, width) that is not two whole numbers from 1 to MAX_IMAGE_SIDE."""
    if size is None:
        return
    try:
        h, w = size
        ok = all(
            not isinstance(v, bool) and int(v) == v and 1 <= v <= MAX_IMAGE_SIDE for v in (h, w)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise DataError(
            f"--image-size {' '.join(map(str, size)) if isinstance(size, (tuple, list)) else size} "
            f"(image_size=) must be a height and a width, each from 1 to {MAX_IMAGE_SIDE} pixels"
        )


def read_image_folder(
    folder, size=None, skip_bad: bool = False
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """(images ``(n, h, w, c)`` uint8, labels from the first-level subfolders or None, relative paths).

    ``size`` (height, width) resizes every image to it (default: the most common size); ``skip_bad``
    leaves out files that do not decode, with a note on stderr, instead of stopping at the first.
    """
    from PIL import Image, UnidentifiedImageError

    check_image_size(size)
    folder = Path(folder)
    files = image_files(folder)
    if not files:
        raise InputFileError(
            f"{folder} is a folder with no PNG or JPEG images; give a folder of .png/.jpg files "
            "(in one subfolder per label, or flat), or a CSV, Parquet, NPZ or IDX file"
        )
    relative = [f.relative_to(folder) for f in files]
    nested = [len(r.parts) > 1 for r in relative]
    if any(nested) and not all(nested):
        flat = next(r for r, n in zip(relative, nested) if not n)
        raise InputFileError(
            f"{folder} has images both in subfolders and at its top ({flat}); put every image "
            "in a label subfolder, or all of them flat"
        )
    arrays, kept, bad = [], [], []
    for path, rel in zip(files, relative):
        try:
            with Image.open(path) as img:
                img.load()
                arrays.append(_as_array(img))
            kept.append(rel)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            if not skip_bad:
                raise InputFileError(
                    f"cannot read image {path}: {_reason(exc)}; remove or replace the file, "
                    "or pass --skip-bad-files (skip_bad_files=True)"
                ) from None
            bad.append(rel.as_posix())
    if bad:
        print(
            f"note: skipped {len(bad)} unreadable image file{'s' if len(bad) > 1 else ''} in {folder}: "
            f"{', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''}",
            file=sys.stderr,
        )
    if not arrays:
        raise InputFileError(f"{folder} holds no readable PNG or JPEG images")
    if any(a.shape[2] == 3 for a in arrays):
        arrays = [np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a for a in arrays]
    sizes = Counter(a.shape[:2] for a in arrays)
    target = (
        tuple(size) if size is not None else max(sizes, key=lambda s: (sizes[s], s))
    )  # ties: the larger
    others = len(arrays) - sizes.get(target, 0)
    if others:
        why = "as asked" if size is not None else "the most common size"
        print(
            f"note: {others} of {len(arrays)} images in {folder} resized to {target[0]}x{target[1]} "
            f"(height x width), {why}",
            file=sys.stderr,
        )
        arrays = [a if a.shape[:2] == target else _resize(a, target) for a in arrays]
    labels = np.array([r.parts[0] for r in kept]) if all(nested) else None
    return np.stack(arrays), labels, [r.as_posix() for r in kept]


def _as_array(img) -> np.ndarray:
    """One decoded image as ``(h, w, c)`` uint8: grayscale keeps one channel, anything else becomes RGB."""
    if img.mode in ("1", "L", "LA"):
        return np.asarray(img.convert("L"), dtype=np.uint8)[:, :, None]
    if img.mode.startswith(("I", "F")):  # 16-bit or float grayscale
        values = np.asarray(img, dtype=np.float64)
        values = values / 257.0 if values.size and values.max() > 255 else values
        return np.clip(values, 0, 255).round().astype(np.uint8)[:, :, None]
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _resize(array: np.ndarray, size) -> np.ndarray:
    from PIL import Image

    mode = "L" if array.shape[2] == 1 else "RGB"
    img = Image.fromarray(array[:, :, 0] if mode == "L" else array, mode=mode)
    out = np.asarray(img.resize((size[1], size[0]), Image.Resampling.BILINEAR), dtype=np.uint8)
    return out[:, :, None] if mode == "L" else out


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- output ------------------------------------------------------------------------------------
def is_folder_output(output) -> bool:
    """Whether ``output`` names a folder of images: it ends with a slash or is an existing folder."""
    text = str(output)
    return text.endswith(("/", os.sep)) or Path(text).is_dir()


def check_image_folder_output(output, overwrite: bool = False, inputs: set | None = None) -> Path:
    """Validate a folder output for images before any work: an existing one needs ``overwrite``."""
    path = Path(output)
    if inputs and any(
        path.resolve() == Path(i).resolve()
        or Path(i).resolve() in path.resolve().parents
        or path.resolve() in Path(i).resolve().parents
        for i in inputs
    ):
        raise OutputFileError(
            f"refusing to write images into or over the input {path}; choose another folder"
        )
    if path.exists() and not path.is_dir():
        raise OutputFileError(f"cannot write images to {path}: it is a file; give a folder")
    if path.exists() and not overwrite:
        raise OutputFileError(f"{path} already exists; remove it or pass --overwrite")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise OutputFileError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputFileError(f"cannot write {path}: folder {parent} is not writable")
    return path


def write_image_folder(images, labels, output) -> None:
    """Write ``images`` as PNGs (a subfolder per label, or flat), into a temporary folder renamed to ``output``."""
    from PIL import Image

    from synthkit.io._writing import replace_into_place, temporary_folder, write_error

    path = Path(output).resolve()
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, :, :, None]
    if images.dtype != np.uint8:
        scale = 255.0 if images.size and float(np.nanmax(images)) <= 1.0 else 1.0
        images = (
            np.clip(np.nan_to_num(images.astype(np.float64) * scale), 0, 255)
            .round()
            .astype(np.uint8)
        )
    tmp = temporary_folder(path, shown=output)
    try:
        width = len(str(max(len(images) - 1, 0)))
        for i, image in enumerate(images):
            folder = tmp / _safe_name(labels[i]) if labels is not None else tmp
            folder.mkdir(exist_ok=True)
            pixels = image[:, :, 0] if image.shape[2] == 1 else image[:, :, :3]
            Image.fromarray(pixels).save(folder / f"{i:0{width}d}.png", format="PNG")
        replace_into_place(tmp, path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise write_error(output, exc) from None
        raise


def _safe_name(label) -> str:
    name = str(label).replace("/", "_").replace(os.sep, "_").strip()
    return name if name not in ("", ".", "..") else "_"


def image_rows(frame, loaded) -> np.ndarray | None:
    """Where a scored frame's rows sit in ``loaded.images``: its ``index`` column, or its ``path`` column
    matched to ``loaded.paths``; None when it has neither (it scores a table)."""
    if "index" in frame.columns:
        return frame["index"].to_numpy()
    if "path" not in frame.columns or getattr(loaded, "paths", None) is None:
        return None
    position = {p: i for i, p in enumerate(loaded.paths)}
    missing = [p for p in frame["path"].astype(str) if p not in position]
    if missing:
        raise DataError(
            f"the frame scores image {missing[0]!r}, which the data does not hold; give the folder "
            "it was scored from"
        )
    return np.array([position[p] for p in frame["path"].astype(str)], dtype=np.int64)
