"""Where the ``mnist`` dataset's files are, reading them, and downloading them when they are absent.

Where the files are looked for, split by split, first match wins:

1. ``$SYNTHKIT_DATA_DIR/mnist/``: the IDX files ``train-images-idx3-ubyte.gz``,
   ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``
   (gzipped or not), or a ``mnist.npz`` with the keys ``x_train``, ``y_train``, ``x_test`` and
   ``y_test``. A folder holding only the ``t10k-*`` files serves only the ``test`` split.
   When ``SYNTHKIT_DATA_DIR`` is unset this step is skipped.
2. The Keras cache, ``$KERAS_HOME/datasets/mnist.npz`` (when ``KERAS_HOME`` is set), then
   ``~/.keras/datasets/mnist.npz``. The files are read with numpy; TensorFlow is never imported.
3. A download of ``mnist.npz`` from Google's Keras dataset bucket into the Keras cache (the first
   of the folders above), checked against its SHA-256 (``download``). ``MnistDataset`` only
   downloads when ``load`` asks for a split that steps 1 and 2 do not have, and never when
   ``SYNTHKIT_OFFLINE`` is set to ``1`` (or ``true``/``yes``/``on``).

Loaded arrays are cached in memory per process (keyed on the files' resolved paths, sizes and
modification times), read-only. Importing this module is cheap (a few standard-library modules);
numpy is imported on loading.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from synthkit.errors import InputFileError


#: Where ``mnist.npz`` is downloaded from and its SHA-256: the file Keras' ``mnist.load_data`` uses.
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

SPLITS = ("train", "test")
IMAGE_SHAPE = (28, 28)
N_CLASSES = 10

_IDX_PREFIX = {"train": "train", "test": "t10k"}
_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
NPZ_NAME = "mnist.npz"
_DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20
_TRUE = {"1", "true", "yes", "on"}


# ----------------------------------------------------------------------------- where the files are


def _data_dir() -> Path | None:
    """``$SYNTHKIT_DATA_DIR/mnist``, or None when the variable is unset or empty."""
    root = os.environ.get("SYNTHKIT_DATA_DIR", "").strip()
    if not root:
        return None
    return Path(root).expanduser().absolute() / "mnist"


def keras_dirs() -> list[Path]:
    """The Keras cache folders to read ``mnist.npz`` from; the first is where a download goes."""
    dirs = []
    keras_home = os.environ.get("KERAS_HOME", "").strip()
    if keras_home:
        dirs.append(Path(keras_home).expanduser().absolute() / "datasets")
    dirs.append(Path(os.path.expanduser("~")).absolute() / ".keras" / "datasets")
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def offline() -> bool:
    """Whether ``SYNTHKIT_OFFLINE`` forbids downloading."""
    return os.environ.get("SYNTHKIT_OFFLINE", "").strip().lower() in _TRUE


def _idx_names(split: str) -> tuple[str, str]:
    """The IDX file names (without ``.gz``) of a split's images and labels."""
    prefix = _IDX_PREFIX[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find_file(folder: Path, name: str) -> Path | None:
    """``folder/name.gz`` or, failing that, ``folder/name``."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _npz_has_split(path: Path, split: str) -> bool:
    """Whether an existing ``mnist.npz`` claims ``split``.

    A readable archive claims the splits whose two arrays it holds; an unreadable one claims every
    split, so that ``load`` reports it as a broken file rather than as missing.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return True
    return {f"x_{split}.npy", f"y_{split}.npy"} <= names


def find_source(split: str):
    """Where ``split`` can be loaded from without downloading: a tuple, or None.

    ``("idx", images_path, labels_path)`` or ``("npz", path)``.
    """
    folder = _data_dir()
    if folder is not None and folder.is_dir():
        images_name, labels_name = _idx_names(split)
        images, labels = _find_file(folder, images_name), _find_file(folder, labels_name)
        if images is not None and labels is not None:
            return ("idx", images, labels)
        npz = folder / NPZ_NAME
        if npz.is_file() and _npz_has_split(npz, split):
            return ("npz", npz)
    for keras_dir in keras_dirs():
        npz = keras_dir / NPZ_NAME
        if npz.is_file() and _npz_has_split(npz, split):
            return ("npz", npz)
    return None


def _file_key(path: Path) -> tuple[str, int, int]:
    """The cache key of a file: its resolved path, size and modification time."""
    resolved = path.resolve()
    stat = resolved.stat()
    return str(resolved), stat.st_size, stat.st_mtime_ns


# ------------------------------------------------------------------------------------- reading


def _parse_idx(path: str, expected_magic: int):
    """Parse one MNIST IDX file (synthkit.io._reading.read_idx) and check it holds MNIST images or labels."""
    from synthkit.io import read_idx

    array = read_idx(path)
    what, ndim = ("images", 3) if expected_magic == _IMAGES_MAGIC else ("labels", 1)
    if array.ndim != ndim:
        raise InputFileError(
            f"{path} is not an MNIST {what} file: it holds a {array.ndim}-D array, expected "
            f"{ndim}-D; check that the file is not swapped or corrupted"
        )
    if ndim == 3 and tuple(array.shape[1:]) != IMAGE_SHAPE:
        raise InputFileError(
            f"MNIST images file {path} holds {array.shape[1]}x{array.shape[2]} images, expected 28x28"
        )
    array.flags.writeable = False
    return array


def _check_pair(images, labels, where: str):
    """Validate and convert one split's arrays: uint8 (n, 28, 28) images, int64 (n,) labels."""
    import numpy as np

    if images.ndim != 3 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise InputFileError(
            f"MNIST images in {where} have shape {images.shape}, expected (n, 28, 28)"
        )
    if labels.ndim != 1:
        raise InputFileError(f"MNIST labels in {where} have shape {labels.shape}, expected (n,)")
    if len(images) != len(labels):
        raise InputFileError(
            f"MNIST data in {where} has {len(images)} images but {len(labels)} labels; "
            "the files do not belong together"
        )
    if images.dtype != np.uint8:
        if images.dtype.kind not in "iu" or (
            images.size and (images.min() < 0 or images.max() > 255)
        ):
            raise InputFileError(
                f"MNIST images in {where} are {images.dtype}, expected bytes (uint8 0-255)"
            )
        images = images.astype(np.uint8)
    if labels.dtype.kind not in "iu":
        raise InputFileError(f"MNIST labels in {where} are {labels.dtype}, expected integers 0-9")
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise InputFileError(
            f"MNIST labels in {where} range {labels.min()}..{labels.max()}, expected 0-9"
        )
    labels = labels.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


@functools.lru_cache(maxsize=8)
def _load_idx(images_key: tuple[str, int, int], labels_key: tuple[str, int, int]):
    """The checked arrays of a pair of IDX files, cached on the files' keys."""
    images = _parse_idx(images_key[0], _IMAGES_MAGIC)
    labels = _parse_idx(labels_key[0], _LABELS_MAGIC)
    return _check_pair(images, labels, f"{images_key[0]} and {labels_key[0]}")


class _NotNpz(Exception):
    """``np.load`` gave a single array: the file is an .npy, not an .npz archive."""


@functools.lru_cache(maxsize=8)
def _load_npz(npz_key: tuple[str, int, int], split: str):
    """The checked arrays of one split of a ``mnist.npz``, cached on the file's key; errors name the file."""
    import numpy as np

    path = npz_key[0]
    try:
        with open(path, "rb") as fh:
            archive = np.load(fh, allow_pickle=False)
            if not hasattr(archive, "files"):  # a single .npy array, not an .npz archive
                raise _NotNpz
            with archive:
                images, labels = archive[f"x_{split}"], archive[f"y_{split}"]
    except _NotNpz:
        raise InputFileError(
            f"MNIST file {path} is a single .npy array, not an .npz archive with the keys "
            "x_train, y_train, x_test, y_test"
        ) from None
    except KeyError as exc:
        raise InputFileError(
            f"MNIST file {path} has no {_one_line(exc)}: expected the keys x_train, y_train, "
            "x_test, y_test"
        ) from exc
    except Exception as exc:  # BadZipFile, OSError, EOFError, ValueError (pickled objects), ...
        raise InputFileError(
            f"cannot read MNIST file {path}: {_one_line(exc) or type(exc).__name__} "
            "(the file is corrupted or truncated; delete or replace it)"
        ) from exc
    return _check_pair(images, labels, path)


def load_source(source, split: str):
    """The cached, read-only ``(images, labels)`` of ``split`` from a ``find_source`` tuple."""
    if source[0] == "idx":
        return _load_idx(_file_key(source[1]), _file_key(source[2]))
    return _load_npz(_file_key(source[1]), split)


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line, for error messages."""
    return " ".join(str(exc).split())


# ------------------------------------------------------------------------------------ download


def _open_url(url: str):
    """Open ``url`` for reading bytes (a file-like object with ``read(n)``); tests replace this."""
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "synthkit"})
    return urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT_S)


class DownloadFailed(Exception):
    """Why a download failed, in one line; ``MnistDataset`` turns it into DatasetNotFoundError."""


def download(dest: Path) -> None:
    """Download ``mnist.npz`` to ``dest`` through a temporary file, checking its SHA-256.

    Raises ``DownloadFailed`` on any failure, leaving no file behind.
    """
    import hashlib
    import http.client
    import tempfile

    tmp_name = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(
            dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False
        ) as tmp:
            tmp_name = tmp.name
            response = _open_url(MNIST_URL)
            try:
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    digest.update(chunk)
                    tmp.write(chunk)
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()
        if digest.hexdigest() != MNIST_SHA256:
            raise DownloadFailed(
                f"the download from {MNIST_URL} is corrupted: SHA-256 {digest.hexdigest()}, "
                f"expected {MNIST_SHA256}"
            )
        os.replace(tmp_name, dest)
        tmp_name = None
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError is an OSError
        raise DownloadFailed(
            f"downloading {MNIST_URL} to {dest} failed: {_one_line(exc) or type(exc).__name__}"
        ) from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def where_to_put(split: str | None = None) -> str:
    """One clause telling where to put the files of ``split`` (both splits when None)."""
    if split is None:
        names = [n for s in SPLITS for n in _idx_names(s)]
    else:
        names = list(_idx_names(split))
    files = ", ".join(f"{n}.gz" for n in names[:-1]) + f" and {names[-1]}.gz"
    folder = _data_dir()
    now = str(folder) if folder is not None else "unset"
    return (
        f"put {files} (or mnist.npz) in $SYNTHKIT_DATA_DIR/mnist/ (now: {now}) "
        f"or mnist.npz in {keras_dirs()[0]}{os.sep}"
    )
