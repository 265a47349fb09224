"""How CSV cells are read, the same by pandas and by pyarrow: which text counts as a missing value,
and column names a table can be written back under."""

from __future__ import annotations

import contextvars
import csv
import gzip
import warnings
from contextlib import contextmanager

from synthkit.errors import DataError

#: Text read as a missing value: pandas' default ``na_values`` except ``"None"``, which real tables
#: use as a value ("no authority contacted") and which therefore stays text, as it came in.
MISSING_TEXT = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "n/a",
    "nan",
    "null",
)


_MISSING = contextvars.ContextVar("synthkit_missing_text", default=MISSING_TEXT)


def missing_text() -> tuple:
    """The text read as missing now: ``MISSING_TEXT``, or what ``reading_missing_as`` set."""
    return _MISSING.get()


@contextmanager
def reading_missing_as(na_values):
    """Within the block, the CSV cells read as missing are exactly ``na_values`` (a string or a
    list of strings, as pandas' ``na_values`` with ``keep_default_na=False``); None keeps
    ``MISSING_TEXT``. Scoped to the calling thread or task, as scikit-learn's ``config_context``."""
    if na_values is None:
        yield
        return
    values = [na_values] if isinstance(na_values, str) else na_values
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if values is None or not all(isinstance(v, str) for v in values):
        raise DataError(
            f"na_values must be a string or a list of strings (the cells read as missing), "
            f"got {na_values!r}"
        )
    token = _MISSING.set(values)
    try:
        yield
    finally:
        _MISSING.reset(token)


def pandas_csv_options() -> dict:
    """``pandas.read_csv`` keywords that read as missing exactly the text ``missing_text`` names."""
    return {"keep_default_na": False, "na_values": list(missing_text())}


def check_header(path) -> None:
    """Refuse a CSV whose columns share a name (pandas would rename one ``amount.1`` and the output
    could not be joined back), and say which columns have no name (read as ``Unnamed: N``)."""
    name = str(path).lower()
    try:
        with (
            gzip.open(path, "rt", newline="")
            if name.endswith(".gz")
            else open(path, newline="") as f
        ):
            header = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, EOFError, csv.Error):
        return  # the reader says what is wrong with the file
    seen: dict[str, int] = {}
    for i, column in enumerate(header, 1):
        if column in seen and column != "":
            raise DataError(
                f"{path}: columns {seen[column]} and {i} are both named {column!r}; rename one, so "
                "that each column is written back under its own name"
            )
        seen.setdefault(column, i)
    unnamed = [i for i, column in enumerate(header, 1) if column == ""]
    if unnamed:
        warnings.warn(
            f"{path}: column {', '.join(map(str, unnamed))} has no name; it is read and written "
            f"back as 'Unnamed: {unnamed[0] - 1}', as pandas names it",
            stacklevel=2,
        )
