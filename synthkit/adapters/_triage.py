"""What the table adapter does to a dirty table's columns before it encodes them, and the notes that say so.

``synthkit.adapters._tables.TableAdapter`` calls these at fit on a DataFrame (not on 2-D arrays, whose
columns are all numbers of equal standing):

- **Left out** (``left_out``): a column with no values (every cell missing), a column with one value
  (every cell the same, none missing; tables of two rows or more) and a text column with a distinct
  value in nearly every row (an identifier: more than ``IDENTIFIER_MIN_ROWS`` values, at least
  ``IDENTIFIER_SHARE`` of them distinct). Such a column must still be in the data given later; it
  is not encoded, ``detect`` keeps its cells as they came, and generated rows have it back: the one
  value, or empty (an empty column, and an identifier, which a synthetic row has none of). Where
  leaving columns out would leave nothing, only the empty ones are left out.
- **Dates** (``date_format``): a text column whose values all parse as dates in one format
  (``pandas.tseries.api.guess_datetime_format``; the format holds a year and a month, no time
  zone) is encoded as a number, days since 1970-01-01, like any number column (its gaps modelled
  the same way); generated rows write it back as text in that format, whole days where every
  training date was one, else to the second. A value that does not parse later counts as missing.
- **Rare levels** (``pool_levels``, in ``TableAdapter._describe``): a text column with more than
  ``MAX_LEVELS`` distinct values keeps the most frequent ``MAX_LEVELS`` and pools the rest into
  one "other" level (as are levels first seen after fit); generated rows give a pooled value back
  drawn at the pooled values' training frequencies (at most ``MAX_POOLED`` recorded).

``notes`` words what was done, one line per kind; the schema (``to_dict``) holds everything they
are made from, so a saved model has the same notes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

IDENTIFIER_SHARE = 0.95
IDENTIFIER_MIN_ROWS = 20
MAX_LEVELS = 30
MAX_POOLED = 1000
OTHER_LEVEL = (
    "\x00other"  # a pooled column's "other" level, lengthened at fit until no value holds it
)
LEFT_OUT_REASONS = ("no values", "one value", "identifier-like text")
EPOCH = pd.Timestamp("1970-01-01")
DAY_SECONDS = 86400.0


MISSING_MARKERS = {
    "nan": np.nan,
    "none": None,
    "na": pd.NA,
    "nat": pd.NaT,
}  # what object columns get back


def marker_name(value) -> str:
    """Which missing marker a value is: None, pd.NA, NaT, or NaN (anything else)."""
    return (
        "none"
        if value is None
        else "na"
        if value is pd.NA
        else "nat"
        if value is pd.NaT or isinstance(value, np.datetime64)
        else "nan"
    )


def is_text(s: pd.Series) -> bool:
    """An object or string column (not categorical, not booleans): text as CSV readers give it."""
    return (
        pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)
    ) and not isinstance(s.dtype, pd.CategoricalDtype)


def left_out(df: pd.DataFrame, dates: dict) -> list[dict]:
    """The columns of ``df`` to leave out, each ``{"name", "dtype", "kind": "left_out", "reason",
    "index"}`` (its position among the input columns) and, for one value, ``"value"``; the
    columns in ``dates`` are not identifiers."""
    found = []
    for i, name in enumerate(df.columns):
        s = df[name]
        reason = _reason(s, len(df), name in dates)
        if reason:
            entry = {
                "name": name,
                "dtype": str(s.dtype),
                "kind": "left_out",
                "reason": reason,
                "index": i,
            }
            if reason == "no values":
                entry["missing_value"] = _marker(s)
            if reason == "one value":
                entry["value"] = _plain(s.iloc[0])
            found.append(entry)
    if len(found) == df.shape[1]:  # nothing would be left: keep all but the empty ones
        found = [e for e in found if e["reason"] == "no values"]
    return found


def _reason(s: pd.Series, n: int, is_date: bool) -> str | None:
    present = s.notna()
    if not present.any():
        return "no values"
    try:
        distinct = s[present].nunique()
    except TypeError:  # unhashable values: the encoder names the column
        return None
    if n >= 2 and distinct == 1 and present.all() and not (s.dtype == object and _unequal_types(s)):
        return "one value"
    if (
        is_text(s)
        and not is_date
        and present.sum() > IDENTIFIER_MIN_ROWS
        and distinct >= IDENTIFIER_SHARE * present.sum()
    ):
        return "identifier-like text"
    return None


def _unequal_types(s: pd.Series) -> bool:
    """Values equal but of different types (1 and 1.0 and True): not one value as text."""
    return len({type(v) for v in s}) > 1


def _marker(s: pd.Series) -> str:
    return marker_name(s.iloc[0])


def _plain(value):
    """A value as JSON holds it: numbers, booleans and text as they are, anything else as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def left_out_column(entry: dict, n: int) -> pd.Series:
    """A left-out column's values in generated rows: its one value, or empty (no values, identifiers)."""
    if entry["reason"] == "one value":
        value = entry.get("value")
    else:
        value = (
            MISSING_MARKERS[entry.get("missing_value", "none")]
            if entry["dtype"] == "object"
            else np.nan
        )
    s = pd.Series([value] * n, dtype=object)
    try:
        return s.astype(entry["dtype"])
    except (TypeError, ValueError):
        return s


# -- dates ----------------------------------------------------------------------------------------
def date_format(s: pd.Series) -> str | None:
    """The one date format every value of text column ``s`` parses with, or None."""
    if not is_text(s):
        return None
    values = s.dropna()
    if not len(values) or not all(isinstance(v, str) for v in values.iloc[:50]):
        return None
    try:
        unique = pd.unique(values.astype(str))
    except TypeError:
        return None
    from pandas.tseries.api import guess_datetime_format

    tried = set()
    for first in unique[:3]:
        for dayfirst in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fmt = guess_datetime_format(str(first), dayfirst=dayfirst)
                except Exception:
                    fmt = None
            if (
                not fmt
                or fmt in tried
                or "%z" in fmt
                or "%Z" in fmt
                or "%Y" not in fmt
                and "%y" not in fmt
                or not any(m in fmt for m in ("%m", "%b", "%B"))
            ):
                continue
            tried.add(fmt)
            parsed = pd.to_datetime(pd.Series(unique), format=fmt, errors="coerce")
            if parsed.notna().all():
                return fmt
    return None


def to_days(s: pd.Series, fmt: str) -> pd.Series:
    """Text dates as float days since 1970-01-01; NaN where missing or not a date in ``fmt``."""
    text = s.astype(object).where(s.notna(), None)
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    return pd.Series((parsed - EPOCH) / pd.Timedelta(days=1), index=s.index, dtype=np.float64)


def whole_days(days: np.ndarray) -> bool:
    finite = days[np.isfinite(days)]
    return bool(finite.size and (finite == np.round(finite)).all())


def from_days(days: np.ndarray, fmt: str, whole: bool) -> np.ndarray:
    """Days since 1970-01-01 back to text dates in ``fmt`` (object array)."""
    seconds = np.round(np.asarray(days, np.float64) * (1 if whole else DAY_SECONDS))
    unit = "D" if whole else "s"
    stamps = pd.to_datetime(seconds, unit=unit, errors="coerce")
    return np.asarray(stamps.strftime(fmt), dtype=object)


# -- rare levels ----------------------------------------------------------------------------------
def pool_levels(col: dict, counts: pd.Series, taken: set) -> None:
    """Keep the ``MAX_LEVELS`` most frequent of ``counts`` (value counts, most frequent first) as
    ``col``'s levels and pool the rest into one "other" level, recording the pooled values."""
    level = OTHER_LEVEL
    while level in taken:
        level += "\x00"
    kept, pooled = counts.iloc[:MAX_LEVELS], counts.iloc[MAX_LEVELS:]
    col.update(
        levels=sorted(kept.index.tolist()) + [level],
        other_level=level,
        n_levels=int(len(counts)),
        pooled=[str(v) for v in pooled.index[:MAX_POOLED]],
        pooled_counts=[int(c) for c in pooled.to_numpy()[:MAX_POOLED]],
    )


def draw_pooled(col: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` pooled values of ``col`` at their training frequencies (its fill where none were recorded)."""
    values = col.get("pooled") or [col["fill"]]
    counts = np.asarray(col.get("pooled_counts") or [1] * len(values), np.float64)
    p = counts / counts.sum() if counts.sum() > 0 else None
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


# -- notes ----------------------------------------------------------------------------------------
def notes(adapter) -> list[str]:
    """One line per kind of thing done to the table's columns (none for a clean table)."""
    lines = []
    for reason in LEFT_OUT_REASONS:
        names = [str(c["name"]) for c in getattr(adapter, "left_out", []) if c["reason"] == reason]
        if names:
            lines.append(f"left out ({reason}): {', '.join(names)}")
    dates = [str(c["name"]) for c in adapter.columns if "date_format" in c]
    if dates:
        lines.append(f"dates as numbers: {', '.join(dates)}")
    pooled = [
        f"{c['name']} ({c.get('n_levels', '?')} levels -> {len(c['levels']) - 1 - ('missing_level' in c)} + other)"
        for c in adapter.columns
        if "other_level" in c
    ]
    if pooled:
        lines.append(f"rare levels pooled: {', '.join(pooled)}")
    flagged = [
        str(c["name"]) for c in adapter.input_columns if "missing_flag" in c or "missing_level" in c
    ]
    if flagged:
        lines.append(f"missing values as flags/levels: {', '.join(flagged)}")
    return lines
