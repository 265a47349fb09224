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
import shutil
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthkit.errors import InputFileError, OutputFileError

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
INPUT_SUFFIXES = (*TABLE_SUFFIXES, ".npz", "-ubyte", "-ubyte.gz", ".idx", ".idx.gz")
OUTPUT_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".npz")


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
    """Load a file path or a dataset name (``name`` or ``name:split``); the image options apply to folders."""
    path = Path(str(spec))
    if path.exists():
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


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(INPUT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _read_file(path: Path, image_size=None, skip_bad_files: bool = False) -> Data:
    import pandas as pd

    if path.is_dir():
        from synthkit.image_folders import read_image_folder

        images, labels, paths = read_image_folder(path, image_size, skip_bad_files)
        return Data(path.name, images=images, labels=labels, paths=paths)
    suffix = _suffix(path)
    try:
        if suffix in (".csv", ".csv.gz"):
            frame = pd.read_csv(path)
            check_separator(path, frame.columns)
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
    except InputFileError:
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
        raise InputFileError(f"cannot read {path}: {_one_line(exc)}") from None
    except Exception as exc:  # pyarrow raises its own error types on malformed files
        if type(exc).__module__.startswith("pyarrow"):
            raise InputFileError(f"cannot read {path}: {_one_line(exc)}") from None
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
        raise InputFileError(f"cannot read {path} as NPZ: {_one_line(exc)}") from None
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
        raise InputFileError(f"cannot read {path}: {_one_line(exc)}") from None
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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- outputs -----------------------------------------------------------------------------------
def check_output(
    path, overwrite: bool = False, suffixes=OUTPUT_SUFFIXES, inputs: set | None = None
) -> Path:
    """Validate an output path before any work is done."""
    path = Path(path)
    name = path.name.lower()
    if suffixes and not any(name.endswith(s) for s in suffixes):
        raise OutputFileError(f"cannot write {path}: use one of {', '.join(suffixes)}")
    if inputs and (
        path.resolve() in {Path(i).resolve() for i in inputs} or _same_file(path, inputs)
    ):
        raise OutputFileError(f"refusing to overwrite the input {path}; choose another output path")
    if path.exists() and not overwrite:
        raise OutputFileError(f"{path} already exists; remove it or pass --overwrite")
    if path.is_dir():
        raise OutputFileError(f"{path} is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        above = _existing_ancestor(parent)
        if not above.is_dir():
            raise OutputFileError(f"cannot write {path}: {above} is a file, not a folder")
        raise OutputFileError(f"cannot write {path}: folder {parent} does not exist")
    _check_writable(parent, path)
    return path


def check_output_dir(
    path, model: bool = False, inputs: set | None = None, overwrite: bool = False, names=()
) -> Path:
    """Validate a folder output (``model``: a model directory; else a folder of plots) before any work.

    The folder may be missing (it is created, with its parents); an existing one must be a folder,
    and for a model a synthkit model directory, replaced only with ``overwrite``; in a folder of
    plots, the files ``names`` it would write must not exist unless ``overwrite`` (its other files are
    kept). Nothing above it may be a file, and the place it is written in must be writable.
    """
    path = Path(path)
    if inputs and path.resolve() in {Path(i).resolve() for i in inputs}:
        raise OutputFileError(f"refusing to overwrite the input {path}; choose another folder")
    if path.exists() and not path.is_dir():
        raise OutputFileError(
            f"cannot write {'a model' if model else 'plots'} to {path}: it is a file; give a folder"
        )
    if model and path.exists() and not (path / "manifest.json").is_file():
        raise OutputFileError(
            f"{path} exists and is not a synthkit model directory; choose another path"
        )
    if model and path.exists() and not overwrite:
        raise OutputFileError(
            f"{path} already holds a saved model; remove it, choose another folder or pass "
            "--overwrite"
        )
    existing = (
        [name for name in names if (path / name).exists()]
        if path.is_dir() and not overwrite
        else []
    )
    if existing:
        raise OutputFileError(
            f"{path / existing[0]} already exists; remove it, choose another folder or pass "
            "--overwrite"
        )
    above = _existing_ancestor(path if (path.exists() and not model) else path.parent)
    if not above.is_dir():
        raise OutputFileError(f"cannot write {path}: {above} is a file, not a folder")
    _check_writable(above, path)
    return path


def check_distinct(**paths) -> None:
    """Refuse outputs that are the same path, or one inside another (``name=path``; None skipped)."""
    given = [(name, Path(p).resolve()) for name, p in paths.items() if p]
    for i, (a, pa) in enumerate(given):
        for b, pb in given[i + 1 :]:
            if pa == pb or pa in pb.parents or pb in pa.parents:
                raise OutputFileError(
                    f"{_option(a)} {paths[a]} and {_option(b)} {paths[b]} overlap; "
                    "give separate paths"
                )


def _option(name: str) -> str:
    return "-o" if name == "output" else "--" + name.replace("_", "-")


def _existing_ancestor(path: Path) -> Path:
    """``path`` or the nearest of its parents that exists (possibly a file)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable(folder: Path, path: Path) -> None:
    """Create and remove a probe file in ``folder``: the only test that holds for root, read-only
    mounts and pseudo file systems such as /proc alike."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".synthkit-probe.", dir=folder)
    except OSError as exc:
        raise OutputFileError(
            f"cannot write {path}: folder {folder} is not writable "
            f"({exc.strerror or type(exc).__name__})"
        ) from None
    os.close(fd)
    os.unlink(probe)


@contextmanager
def removed_on_failure(*paths):
    """Remove what the block created at ``paths`` (None skipped) if it raises.

    A path that did not exist is removed with any parent folders the block made for it; in a
    folder that existed, only the entries the block added are removed. Used so that a failed run
    leaves no output behind even when it writes several (a model directory, plots, then OUT).
    """
    plan = []
    for p in paths:
        if p is None:
            continue
        p = Path(os.path.abspath(p))
        if p.is_dir():
            plan.append((p, set(os.listdir(p))))
        elif not p.exists():
            top = p
            while not top.parent.exists() and top.parent != top:
                top = top.parent
            plan.append((top, None))
    try:
        yield
    except BaseException:
        for p, before in plan:
            try:
                if before is None:
                    if p.is_dir() and not p.is_symlink():
                        shutil.rmtree(p, ignore_errors=True)
                    elif p.exists() or p.is_symlink():
                        p.unlink()
                elif p.is_dir():
                    for name in set(os.listdir(p)) - before:
                        entry = p / name
                        if entry.is_dir() and not entry.is_symlink():
                            shutil.rmtree(entry, ignore_errors=True)
                        else:
                            entry.unlink(missing_ok=True)
            except OSError:
                pass
        raise


def _same_file(path: Path, inputs) -> bool:
    """Whether ``path`` is one of ``inputs`` under another name (a hard link or another mount path)."""
    if not path.exists():
        return False
    for other in inputs:
        try:
            if os.path.samefile(path, other):
                return True
        except OSError:
            continue
    return False


DISK_FULL = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
)  # the disk, a quota or the file size is at its limit


def write_error(path, exc: OSError) -> OutputFileError:
    """The one-line error for ``exc``, met while writing ``path``; a full disk says what to do."""
    if exc.errno in DISK_FULL:
        return OutputFileError(
            f"cannot write {path}: {os.strerror(exc.errno)}; free some space or write "
            "to another disk (the partial output was removed)"
        )
    return OutputFileError(f"cannot write {path}: {exc.strerror or type(exc).__name__}")


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".part", dir=path.parent if str(path.parent) else "."
        )
    except OSError as exc:
        raise write_error(path, exc) from None
    os.close(fd)
    try:
        os.chmod(
            tmp, 0o666 & ~_umask()
        )  # mkstemp makes 0600; the output gets the usual permissions
        yield Path(tmp)
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise write_error(path, exc) from None
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        # writing failed: the temporary file named, or a full disk (a write() error names no file)
        if isinstance(exc, OSError) and (
            str(getattr(exc, "filename", None)) == tmp or exc.errno in DISK_FULL
        ):
            raise write_error(path, exc) from None
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_table(frame, path) -> None:
    """Write a DataFrame to CSV, Parquet or NPZ (by suffix), atomically."""
    path = Path(path)
    name = path.name.lower()
    with atomic_path(path) as tmp:
        if name.endswith(".csv") or name.endswith(".csv.gz"):
            frame.to_csv(tmp, index=False, compression="gzip" if name.endswith(".gz") else None)
        elif name.endswith(".parquet"):
            frame.to_parquet(tmp, index=False)
        elif name.endswith(".npz"):
            write_npz_arrays(tmp, {str(c): _npz_column(frame[c]) for c in frame.columns})
        else:
            raise OutputFileError(f"cannot write {path}: use .csv, .parquet or .npz")


def write_npz(arrays: dict, path) -> None:
    """Write arrays to an NPZ file, atomically."""
    with atomic_path(path) as tmp:
        write_npz_arrays(tmp, arrays)


def write_npz_arrays(tmp: Path, arrays: dict) -> None:
    with open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def _npz_column(s) -> np.ndarray:
    values = s.to_numpy()
    return (
        values.astype(str)
        if values.dtype == object or not isinstance(values.dtype, np.dtype)
        else values
    )


def save_figure(fig, path) -> None:
    """Save a matplotlib figure as PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")


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
