"""Outputs checked before a run (suffix, existing path, writable folder, not an input) and what a
failed run began removed."""

from __future__ import annotations
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from synthkit.errors import OutputFileError


OUTPUT_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".npz")


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
