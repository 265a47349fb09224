"""Reading inputs (files and dataset names) and writing outputs atomically.

Inputs: CSV, Parquet, NPZ and MNIST IDX files, or a registered dataset name (``mnist``,
``mnist:test``, ``transactions``). Outputs: CSV, Parquet, NPZ and PNG, chosen by suffix, written to a
temporary file in the target folder and renamed at the end, so a failed or killed run leaves no
partial file; an existing output is refused unless ``overwrite``; an input is never written.
"""

from __future__ import annotations

import errno
import gzip
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthkit.io._cells import check_header, pandas_csv_options
from synthkit.errors import InputFileError, SynthkitError, one_line

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
INPUT_SUFFIXES = (*TABLE_SUFFIXES, ".npz", "-ubyte", "-ubyte.gz", ".idx", ".idx.gz")


@dataclass
class Data:
    """Loaded input: a table (``frame``) or images with optional labels, plus what is known of it."""

    name: str
    frame: object = None  # pandas DataFrame for tables
    images: np.ndarray | None = None
    labels: np.ndarray | None = None
    label_column: str | None = None  # the dataset's known label column, for tables
    paths: list | None = None  # each image's file path, relative to its folder (image folders)

    @property
    def is_table(self) -> bool:
        return self.frame is not None


def read_input(
    spec, inputs: set | None = None, image_size=None, skip_bad_files: bool = False
) -> Data:
    """Load a file path or a dataset name (``name`` or ``name:split``); the image options apply to folders.

    Only regular files and folders are read (``check_input_path``): a named pipe, a device or a
    socket is refused before it is opened, and a symlink loop is named as one."""
    path = Path(str(spec))
    if check_input_path(path):
        if inputs is not None:
            inputs.add(path.resolve())
        return _read_file(path, image_size, skip_bad_files)
    from synthkit.registry import get_registry

    name, _, split = str(spec).partition(":")
    datasets = get_registry().entries("datasets")
    if name in datasets:
        dataset = datasets[name][0]
        loaded = dataset.load(split or None)
        if dataset.kind == "image":
            images, labels = loaded
            return Data(
                str(spec),
                images=np.asarray(images),
                labels=None if labels is None else np.asarray(labels),
            )
        return Data(str(spec), frame=loaded, label_column=dataset.label_column)
    if _suffix(path) in INPUT_SUFFIXES or path.parent != Path("."):
        raise InputFileError(f"no such file: {spec}")
    raise InputFileError(
        f"{spec!r} is neither a file nor a dataset; datasets: {', '.join(sorted(datasets)) or 'none'}"
        " (see `synthkit datasets`)"
    )


SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_input_path(path) -> bool:
    """Whether ``path`` is there to read: True for a regular file or a folder, False when nothing
    is there. Refused in one line (``InputFileError``), before anything opens it: a symlink loop
    (which ``Path.exists`` reports as nothing there), and anything that is not a regular file or
    folder, such as a named pipe, which would block the read until something writes to it."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputFileError(
                f"{path} is a symlink loop (a link that leads back to itself); point it at the "
                "file to read, or give that file"
            ) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG):
            return False  # nothing there: the caller says so, or reads a dataset name
        raise InputFileError(f"cannot read {path}: {exc.strerror or one_line(exc)}") from None
    except ValueError:  # a name no file can have (a NUL character)
        return False
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return True
    kind = next((name for test, name in SPECIAL_FILES if test(mode)), "not a regular file")
    raise InputFileError(
        f"{path} is {kind}: synthkit reads only regular files and folders; save the data to a "
        "file (for a pipe: cat PIPE > data.csv) and give that file"
    )


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(INPUT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _read_file(path: Path, image_size=None, skip_bad_files: bool = False) -> Data:
    import pandas as pd

    if path.is_dir():
        from synthkit.io._image_folders import read_image_folder

        images, labels, paths = read_image_folder(path, image_size, skip_bad_files)
        return Data(path.name, images=images, labels=labels, paths=paths)
    suffix = _suffix(path)
    try:
        if suffix in (".csv", ".csv.gz"):
            frame = pd.read_csv(path, **pandas_csv_options())
            check_separator(path, frame.columns)
            check_header(path)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix == ".npz":
            return _read_npz(path)
        elif suffix in ("-ubyte", "-ubyte.gz", ".idx", ".idx.gz"):
            return Data(path.name, images=read_idx(path))
        else:
            raise InputFileError(
                f"cannot read {path}: unsupported file type {suffix or '(none)'}; "
                "use .csv, .parquet, .npz or an MNIST IDX file"
            )
    except SynthkitError:  # already one line that says what to do
        raise
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{path} is empty") from None
    except (
        OSError,
        ValueError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        EOFError,
        zlib.error,
    ) as exc:
        raise InputFileError(f"cannot read {path}: {one_line(exc)}") from None
    except Exception as exc:  # pyarrow raises its own error types on malformed files
        if type(exc).__module__.startswith("pyarrow"):
            raise InputFileError(f"cannot read {path}: {one_line(exc)}") from None
        raise
    return Data(path.name, frame=frame)


OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "pipes"}


def check_separator(path, columns) -> None:
    """Refuse a CSV read as one column whose header holds another separator: its rows would all be
    one text value, and every row would score alike."""
    if len(columns) != 1:
        return
    header = str(columns[0])
    for sep, name in OTHER_SEPARATORS.items():
        if sep in header:
            raise InputFileError(
                f"{path} was read as one column, and its header holds {name}: synthkit reads "
                f"comma-separated files; convert it, e.g. pandas.read_csv(path, sep={sep!r})"
                ".to_csv(new_path, index=False)"
            )


def _read_npz(path: Path) -> Data:
    import pandas as pd

    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] != b"PK":
        raise InputFileError(
            f"cannot read {path}: not an NPZ file (a zip archive of .npy arrays, "
            "as numpy.savez writes)"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
            if not arrays:
                raise InputFileError(f"{path} holds no arrays")
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(f"cannot read {path} as NPZ: {one_line(exc)}") from None
    x_key = next((k for k in ("x", "X", "images", "data", "x_train") if k in arrays), None)
    if x_key is None:
        if len(arrays) != 1:
            raise InputFileError(
                f"{path} holds {sorted(arrays) or 'no arrays'}; name the data array 'x' (and labels 'y')"
            )
        x_key = next(iter(arrays))
    y_key = next((k for k in ("y", "labels", "y_train") if k in arrays and k != x_key), None)
    x, y = arrays[x_key], (arrays[y_key] if y_key else None)
    if y is not None and (y.ndim != 1 or len(y) != len(x)):
        raise InputFileError(f"{path}: labels {y_key!r} must be 1-D with one label per row")
    if x.ndim == 2:
        return Data(
            path.name, frame=pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])]), labels=y
        )
    if x.ndim in (3, 4):
        return Data(path.name, images=x, labels=y)
    raise InputFileError(
        f"{path}: array {x_key!r} has shape {x.shape}; expected a 2-D table or 3-D/4-D images"
    )


def read_idx(path) -> np.ndarray:
    """Read an MNIST IDX file (optionally gzipped) as a numpy array."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputFileError(f"cannot read {path}: {one_line(exc)}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise InputFileError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise InputFileError(f"{path} is truncated (incomplete IDX header)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(shape))
    if len(data) - header != size:
        raise InputFileError(
            f"{path} is truncated or corrupted: expected {size} values for shape {shape}, "
            f"found {len(data) - header}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def as_data(data):
    """Wrap any accepted input (a DataFrame, an array, ``(images, labels)``, a file path or a dataset
    name) in ``Data``."""
    import pandas as pd

    from synthkit.errors import DataError

    if isinstance(data, Data):
        return data
    if isinstance(data, pd.DataFrame):
        return Data("dataframe", frame=data)
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray):
        images, labels = data
        return Data("array", images=images, labels=None if labels is None else np.asarray(labels))
    if isinstance(data, np.ndarray):
        if data.ndim == 2:
            return Data(
                "array", frame=pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
            )
        return Data("array", images=data)
    if isinstance(data, str) or hasattr(data, "__fspath__"):
        return read_input(data)
    raise DataError(
        f"cannot use {type(data).__name__} as data; give a DataFrame, an array, a file or a dataset name"
    )
