"""Errors a user can cause: each message says what went wrong and what to do about it."""


class SynthkitError(Exception):
    """Base class of every error a user can cause; the CLI prints its message on one line."""


class DataError(SynthkitError):
    """The data is empty, malformed, or has values the model cannot take."""


class SchemaError(DataError):
    """The data's columns or dtypes differ from the ones the model was fitted on."""


class InputFileError(SynthkitError):
    """An input file is missing, unreadable or in a format synthkit does not read."""


class OutputFileError(SynthkitError):
    """An output cannot be written where it was asked for."""


class PluginError(SynthkitError):
    """A plugin, detector, generator or dataset name is unknown, or a parameter is invalid."""


class DatasetNotFoundError(SynthkitError):
    """A dataset's files are not on this machine and cannot be downloaded."""


class ModelFileError(SynthkitError):
    """A model directory is missing, corrupted, foreign, or made for other data."""


class NotFittedError(SynthkitError, AttributeError):
    """A model is used before `fit`."""
