"""Outputs written atomically: to a temporary file beside the target, renamed into place when
complete; a full disk or a refused write becomes one line."""

from __future__ import annotations
import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
import numpy as np
from synthkit.errors import OutputFileError


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
