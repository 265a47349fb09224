"""Errors a user can cause: each message says what went wrong and what to do about it.

The classes also derive from the exceptions that Python and scikit-learn tools catch:
``DataError``, ``SchemaError`` and ``PluginError`` are ``ValueError``s (bad data or a bad
hyper-parameter, as scikit-learn raises them), ``DataTypeError`` is also a ``TypeError``, and
``NotFittedError`` is scikit-learn's ``NotFittedError`` (itself a ``ValueError`` and an
``AttributeError``), so ``check_is_fitted``-style code, ``GridSearchCV(error_score=...)`` and
``except ValueError`` work as with any estimator. The file errors stay plain ``SynthkitError``s:
the CLI raises them from ``except OSError`` handlers, and they never come from an estimator.

``NotFittedError`` is made on first use, so that importing this module (and ``synthkit --help``)
does not import scikit-learn.
"""


class SynthkitError(Exception):
    """Base class of every error a user can cause; the CLI prints its message on one line."""


class DataError(SynthkitError, ValueError):
    """The data is empty, malformed, or has values the model cannot take."""


class DataTypeError(DataError, TypeError):
    """The data holds values of a type that cannot be read as numbers (a dict in an array)."""


class SchemaError(DataError):
    """The data's columns or dtypes differ from the ones the model was fitted on."""


class InputFileError(SynthkitError):
    """An input file is missing, unreadable or in a format synthkit does not read."""


class OutputFileError(SynthkitError):
    """An output cannot be written where it was asked for."""


class PluginError(SynthkitError, ValueError):
    """A plugin, detector, generator or dataset name is unknown, or a parameter is invalid."""


class DatasetNotFoundError(SynthkitError):
    """A dataset's files are not on this machine and cannot be downloaded."""


class ModelFileError(SynthkitError):
    """A model directory is missing, corrupted, foreign, or made for other data."""


def __getattr__(name):
    if name == "NotFittedError":
        from sklearn.exceptions import NotFittedError as SklearnNotFittedError

        class NotFittedError(SynthkitError, SklearnNotFittedError):
            """A model is used before `fit` (also scikit-learn's NotFittedError, an AttributeError)."""

        NotFittedError.__module__, NotFittedError.__qualname__ = __name__, "NotFittedError"
        globals()[name] = NotFittedError  # made once: later look-ups find it without __getattr__
        return NotFittedError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def one_line(exc: BaseException) -> str:
    """The first line of what a library raised, to end a one-line error with."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
