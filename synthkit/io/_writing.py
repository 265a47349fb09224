"""Outputs written atomically: to a temporary file beside the target, renamed into place when
complete; a full disk or a refused write becomes one line. A temporary's name carries the process
id (``.NAME.PID.xxxx.part``), so a later run to the same output removes what a killed run left."""

from __future__ import annotations
import errno
import glob
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
import numpy as np
from synthkit.errors import OutputFileError
from synthkit.signals import raise_if_interrupted


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
        remove_stale_temporaries(path)
        fd, tmp = tempfile.mkstemp(
            prefix=temporary_prefix(path),
            suffix=".part",
            dir=path.parent if str(path.parent) else ".",
        )
    except OSError as exc:
        raise write_error(path, exc) from None
    os.close(fd)
    try:
        os.chmod(
            tmp, 0o666 & ~current_umask()
        )  # mkstemp makes 0600; the output gets the usual permissions
        yield Path(tmp)
        try:
            replace_into_place(tmp, path)
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


def replace_into_place(tmp, path) -> None:
    """Rename the finished temporary ``tmp`` (a file or a folder) to ``path``, unless a signal was
    caught during the run: then it raises that interrupt, before anything at ``path`` is touched,
    and the caller removes ``tmp`` (see ``synthkit.signals``). A folder already at ``path`` is moved
    aside, replaced, then removed."""
    raise_if_interrupted()
    path = Path(path)
    if not (os.path.isdir(tmp) and path.exists()):
        os.replace(tmp, path)
        return
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def temporary_prefix(path) -> str:
    """The start of the name of this process's temporaries for ``path``: ``.NAME.PID.``."""
    return f".{Path(path).name}.{os.getpid()}."


def temporary_folder(path, shown=None) -> Path:
    """A new folder beside ``path`` to fill and rename to it (``.NAME.PID.xxxx.part``, with the
    usual permissions), after removing what killed runs left; an OSError is one line naming
    ``shown`` (default ``path``). Its parent must exist."""
    path = Path(path)
    try:
        remove_stale_temporaries(path)
        tmp = Path(tempfile.mkdtemp(prefix=temporary_prefix(path), suffix=".part", dir=path.parent))
    except OSError as exc:
        raise write_error(path if shown is None else shown, exc) from None
    try:
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes 0700
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise write_error(path if shown is None else shown, exc) from None
    return tmp


def remove_stale_temporaries(path) -> list:
    """Remove the temporaries (files or folders, ``.NAME.PID.*.part``) that runs writing ``path``
    left when they were killed (SIGKILL cannot be caught): those whose process no longer runs.
    A temporary of a run still going, or of another host's process, is left alone."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    removed = []
    for tmp in folder.glob(f".{glob.escape(path.name)}.*.part"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if not pid.isdigit() or _running(int(pid)):
            continue
        try:
            shutil.rmtree(tmp) if tmp.is_dir() and not tmp.is_symlink() else tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass  # another run removed it, or it is not ours to remove
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # a process of another user, or no pid at all: not ours to judge
    return True


def current_umask() -> int:
    """The process's umask (read by setting and restoring it): the permissions outputs get."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_table(frame, path) -> None:
    """Write a DataFrame to CSV, Parquet or NPZ (by suffix), atomically."""
    path = Path(path)
    name = path.name.lower()
    with atomic_path(path) as tmp:
        if name.endswith(".csv") or name.endswith(".csv.gz"):
            write_csv(frame, tmp, gz=name.endswith(".gz"))
        elif name.endswith(".parquet"):
            frame.to_parquet(tmp, index=False)
        elif name.endswith(".npz"):
            write_npz_arrays(tmp, {str(c): _npz_column(frame[c]) for c in frame.columns})
        else:
            raise OutputFileError(f"cannot write {path}: use .csv, .parquet or .npz")


def write_csv(frame, tmp, gz: bool = False) -> None:
    """A DataFrame as CSV through the writer streamed outputs use (``CsvSink``), so both write each
    cell alike; pandas writes a frame Arrow cannot type (an object column of mixed types)."""
    import pyarrow as pa

    try:
        table = as_table(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        frame.to_csv(tmp, index=False, compression="gzip" if gz else None)
        return
    sink = CsvSink(tmp, gz=gz)
    try:
        sink.write(table)
    finally:
        sink.close()


def as_table(rows):
    """An Arrow table of ``rows`` (a table already, or a DataFrame, its index left out)."""
    import pyarrow as pa

    return rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False)


def csv_cells(table):
    """How every CSV output writes a cell, in memory and streamed alike: booleans as ``True`` and
    ``False`` (as pandas writes and reads them), every text value in quotes, missing values empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, field in enumerate(table.schema):
        if pa.types.is_boolean(field.type):
            text = pc.if_else(table.column(i), "True", "False")
            table = table.set_column(i, field.name, text)
    return table


class CsvSink:
    """Appends tables to one CSV file (gzip-compressed for .gz), the header once; a chunk whose column
    types differ from the first's is written by a new writer with no header."""

    def __init__(self, tmp, gz: bool):
        import pyarrow as pa

        self.file = pa.OSFile(str(tmp), "wb")
        self.stream = pa.CompressedOutputStream(self.file, "gzip") if gz else self.file
        self.writer = None
        self.header = True

    def write(self, rows) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        table = csv_cells(as_table(rows))
        if self.writer is not None and not table.schema.equals(self.writer_schema):
            try:
                table = table.cast(self.writer_schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                self.writer.close()
                self.writer = None
        if self.writer is None:
            options = pacsv.WriteOptions(include_header=self.header, quoting_style="needed")
            self.writer, self.writer_schema = (
                pacsv.CSVWriter(self.stream, table.schema, write_options=options),
                table.schema,
            )
            self.header = False
        self.writer.write_table(table)

    def close(self) -> None:
        try:
            if self.writer is not None:
                self.writer.close()
            self.stream.close()
        finally:
            if not self.file.closed:
                self.file.close()


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
