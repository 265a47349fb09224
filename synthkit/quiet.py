"""Keep TensorFlow's own chatter out of synthkit's output.

- ``quiet_retracing()``: drops TensorFlow's "N out of the last M calls to <function> triggered
  tf.function retracing" warning. Keras makes new ``tf.function``s for every new model's fit and
  predict, so any loop that fits models through the API (cross-validation, seeds, benchmarks)
  prints it, although nothing is wrong and nothing can be done about it from outside Keras.
  ``import synthkit`` installs it (a filter on the ``tensorflow`` logger; TensorFlow is not imported).
- ``quiet_tensorflow(verbose)``: what the commands call first. Unless ``verbose``, it sets
  ``TF_CPP_MIN_LOG_LEVEL=3`` (if unset), holds TensorFlow's and absl's Python loggers to errors,
  ignores Python warnings raised inside keras and tensorflow, and swallows what TensorFlow writes
  to the stderr file descriptor while it is imported (the ``cudart_stub``, ``cpu_feature_guard``
  and oneDNN lines, which its C++ code writes before its log level is read). If that import
  fails, the swallowed text is written out after all, before the error.
- ``quiet_startup()``: the Python API's default, called when the plugin registry first loads (every
  network synthkit fits is a plugin found there). Unless the user set ``TF_CPP_MIN_LOG_LEVEL``
  (then TensorFlow's output is theirs to choose) or TensorFlow is already imported, it sets it to
  ``3`` (which hides the ``failed call to cuInit`` line of the first device use) and swallows the
  start-up lines of the import, as above. Python loggers and warnings are left to the user.
  ``quiet_tensorflow(verbose=True)`` takes it back, so ``--verbose`` still shows everything.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import sys
import tempfile
import warnings

RETRACING = "triggered tf.function retracing"
LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"

_startup = {"set_level": False}  # whether quiet_startup set LOG_LEVEL (so --verbose can unset it)


class _DropRetracing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return RETRACING not in record.getMessage()
        except Exception:  # a record that does not format: leave it to logging
            return True


def quiet_retracing() -> None:
    """Drop TensorFlow's tf.function retracing warnings (idempotent; does not import TensorFlow)."""
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _DropRetracing) for f in logger.filters):
        logger.addFilter(_DropRetracing())


def quiet_tensorflow(verbose: bool = False) -> None:
    """Silence TensorFlow's start-up lines, log messages and warnings unless ``verbose``.

    Call it before TensorFlow is imported (it installs an import hook, so TensorFlow still loads
    only when something needs it); called later, it quiets the log levels only."""
    quiet_retracing()
    if verbose:
        _undo_startup()
        return
    os.environ.setdefault(LOG_LEVEL, "3")
    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"(keras|tensorflow|tf_keras|absl)(\.|$)")
    _quiet_import()


def quiet_startup() -> None:
    """The Python API's default: TensorFlow's start-up lines and C++ log kept off stderr, unless the
    user set ``TF_CPP_MIN_LOG_LEVEL`` or TensorFlow is already imported (idempotent; does not
    import TensorFlow)."""
    if "tensorflow" in sys.modules or LOG_LEVEL in os.environ:
        return
    os.environ[LOG_LEVEL] = "3"
    _startup["set_level"] = True
    _quiet_import()


def _undo_startup() -> None:
    """Take back what ``quiet_startup`` did, while TensorFlow is not yet imported."""
    if "tensorflow" in sys.modules:
        return
    if _startup["set_level"] and os.environ.get(LOG_LEVEL) == "3":
        del os.environ[LOG_LEVEL]
    _startup["set_level"] = False
    for finder in [f for f in sys.meta_path if isinstance(f, _QuietImport)]:
        sys.meta_path.remove(finder)


def _quiet_import() -> None:
    """Swallow what the import of TensorFlow writes to stderr, once, when it happens."""
    if "tensorflow" not in sys.modules and not any(
        isinstance(f, _QuietImport) for f in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietImport())


@contextlib.contextmanager
def stderr_fd_swallowed():
    """Redirect file descriptor 2 to a temporary file for the block; replay it if the block raises."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (
        OSError,
        ValueError,
        AttributeError,
    ):  # no real stderr (embedded, closed): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            if text:
                sys.stderr.write(text)
                sys.stderr.flush()
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, with a loader that executes it inside ``stderr_fd_swallowed``."""

    def __init__(self):
        self._busy = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow" or self._busy:
            return None
        self._busy = True  # the other finders find it; this one only wraps the loader
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy = False
        if spec is None or spec.loader is None:
            return None
        with contextlib.suppress(ValueError):  # once; the import stops at the spec returned
            sys.meta_path.remove(self)
        spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with stderr_fd_swallowed():
            self._loader.exec_module(module)

    def __getattr__(self, name):  # get_resource_reader, is_package, ... of the real loader
        return getattr(self._loader, name)
