"""The table adapter: a DataFrame or 2-D array to standardised float32 features and back.

``synthkit.adapters`` is the entry point: it re-exports ``TableAdapter`` and states the rules,
``missing="model"`` among them. Here, how that policy is held: a numeric or boolean column with
missing values at fit is followed in ``columns`` by a boolean entry marked ``"missing_of": name``
(its flag), a categorical one gets the level ``missing_level``; saved schemas (``to_dict``) list
the input columns only, with those as keys of their column, so schemas written before load as they were.

On a DataFrame, ``synthkit.adapters._triage`` first leaves out columns with no values, one value or an
identifier's distinct values (``left_out``, saved under that key: the data must still hold them,
generated rows get them back), encodes text dates as days (a numeric column with ``date_format``)
and pools rare levels into one "other" level (``other_level``, kept apart from ``levels`` as the
missing level is); ``notes`` says what was done. Schemas without these keys load as before.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from synthkit.adapters._arrays import as_array, numeric_array, one_dimensional
from synthkit.errors import DataError, SchemaError
from synthkit.adapters._triage import (
    MAX_LEVELS,
    MISSING_MARKERS,
    date_format,
    draw_pooled,
    from_days,
    left_out,
    left_out_column,
    marker_name,
    notes,
    pool_levels,
    to_days,
    whole_days,
)

SKEW_FOR_LOG = 2.0
MAX_DECIMALS = 6  # float columns with more decimals than this are not rounded on the way back
# A value that at least ATOM_SHARE of a float column's training rows hold (a spike, such as 0 in
# card amounts, or one level of a standardised code) is an atom: a decoded value within
# ATOM_TOLERANCE of the column's range from it becomes it exactly, as float32 model space cannot
# hold it; at most MAX_ATOMS of them, the most frequent.
ATOM_SHARE, ATOM_TOLERANCE, MAX_ATOMS = 0.01, 1e-5, 64
MISSING_LEVEL = (
    "\x00missing"  # a categorical column's missing level, lengthened at fit until no value holds it
)


class TableAdapter:
    """Encodes a table to standardised float32 features and decodes generated rows back."""

    kind = "table"

    def __init__(self, missing: str = "error"):
        self.missing = missing
        self.columns: list[
            dict
        ] = []  # the encoded input columns, each followed by its missing flag if it has one
        self.left_out: list[
            dict
        ] = []  # input columns not encoded (synthkit.adapters._triage), with their position
        self.from_array = False
        self.text_names = False  # fitted on a DataFrame whose column names are all strings
        self.n_affected = 0  # rows with missing values in the last fit or transform

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X) -> "TableAdapter":
        df = self._frame(X, fitting=True)
        if len(df) and df.shape[1] == 0:
            # worded as scikit-learn's check_array words it, which its estimator checks look for
            raise DataError(
                f"the table is empty: 0 feature(s) (shape={df.shape}) while a minimum of 1 is required; "
                "give at least one column"
            )
        if len(df) == 0 or df.shape[1] == 0:
            raise DataError(
                f"the table is empty ({len(df)} rows, {df.shape[1]} columns); give at least one row and column"
            )
        dates = {} if self.from_array else {n: f for n in df.columns if (f := date_format(df[n]))}
        self.left_out, self.columns = ([] if self.from_array else left_out(df, dates)), []
        work = self._encodable(df, dates)
        if work.shape[1] == 0:
            raise DataError(
                f"the table has no features to learn from: column(s) {', '.join(map(str, df.columns))} "
                "hold no values (only missing ones); give at least one column with values"
            )
        absent, infinite = _missing_masks(work)
        bad = absent | infinite
        self.n_affected = int(bad.any(axis=1).sum())
        self._check_missing(work, absent, infinite)
        clean = work[~bad.any(axis=1)] if self.missing == "drop" else work
        if len(clean) == 0:
            raise DataError("every row has a missing or infinite value; nothing is left to fit on")
        for name in work.columns:
            col = self._describe(name, clean[name], dates.get(name))
            if name in dates:
                col["dtype"] = str(df[name].dtype)
            self.columns.append(col)
            if self.missing == "model" and absent[name].any():
                self._model_missing(col, df[name], taken={str(c) for c in df.columns})
        if not any(
            c["kind"] != "categorical" or set(c["levels"]) - {c.get("missing_level")}
            for c in self.input_columns
        ):
            raise DataError(
                f"the table has no features to learn from: column(s) {', '.join(map(str, df.columns))} "
                "hold no values (only missing ones); give at least one column with values"
            )
        return self

    def _encodable(self, df: pd.DataFrame, dates: dict | None = None) -> pd.DataFrame:
        """The columns of ``df`` that are encoded (not left out), text dates as days since 1970."""
        if dates is None:
            dates = {c["name"]: c["date_format"] for c in self.columns if "date_format" in c}
        skip = {c["name"] for c in self.left_out}
        work = df[[n for n in df.columns if n not in skip]] if skip else df
        dates = {n: to_days(df[n], f) for n, f in dates.items() if n in work.columns}
        return work.assign(**dates) if dates else work

    def _describe(self, name, s: pd.Series, date: str | None = None) -> dict:
        col = {"name": name, "dtype": str(s.dtype)}
        if pd.api.types.is_bool_dtype(s.dtype) or _boolean_objects(s):
            valid = s.dropna().astype(bool)
            col.update(kind="bool", fill=bool(valid.mean() >= 0.5) if len(valid) else False)
        elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype):
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = values[np.isfinite(values)]
            if finite.size == 0:
                raise DataError(f"column {name!r} has no finite values; drop it, or give it values")
            log = bool(date is None and finite.min() >= 0 and _skewness(finite) > SKEW_FOR_LOG)
            scaled = _symlog(finite) if log else finite
            with np.errstate(over="ignore", invalid="ignore"):
                mean, std = float(scaled.mean()), float(scaled.std())
            if not (np.isfinite(mean) and np.isfinite(std)):
                raise DataError(
                    f"column {name!r} has values too large to scale (up to {np.abs(finite).max():.3g}); rescale it first"
                )
            integer = bool(pd.api.types.is_integer_dtype(s.dtype)) or (
                date is not None and whole_days(finite)
            )
            col.update(
                kind="numeric",
                log=log,
                mean=mean,
                std=std if std > 0 else 1.0,
                min=float(finite.min()),
                max=float(finite.max()),
                median=float(np.median(finite)),
                integer=integer,
                decimals=None if integer or date else _decimals(finite, s.dtype),
            )
            if not integer and date is None and col["decimals"] is None:
                col["atoms"] = _atoms(finite)
            if date is not None:
                col["date_format"] = date
        elif _is_categorical(s):
            valid = s.dropna().astype(str)
            counts = valid.value_counts(sort=True)
            levels = sorted(counts.index[:MAX_LEVELS].tolist())
            if isinstance(s.dtype, pd.CategoricalDtype):
                categories = [str(c) for c in s.dtype.categories]
                col["categories"] = categories
                if len(categories) <= MAX_LEVELS:
                    levels = categories
            col.update(
                kind="categorical",
                levels=levels,
                fill=str(counts.index[0]) if len(counts) else (levels[0] if levels else ""),
            )
            if len(counts) > MAX_LEVELS:  # the most frequent levels, the rest pooled into "other"
                pool_levels(col, counts, taken=set(counts.index))
        elif pd.api.types.is_complex_dtype(s.dtype):
            raise DataError(
                f"Complex data not supported: column {name!r} has dtype {s.dtype}; "
                "split it into real and imaginary columns"
            )
        else:
            raise DataError(
                f"column {name!r} has dtype {s.dtype}, which synthkit cannot encode; "
                "convert it to numbers, booleans or strings"
            )
        return col

    def _model_missing(self, col: dict, s: pd.Series, taken: set) -> None:
        """Make a column with missing values model them: a flag column after it (numeric and
        boolean columns) or one more level (categorical); and the marker its missing values had."""
        col["missing_value"] = Counter(marker_name(v) for v in s[s.isna()]).most_common(1)[0][0]
        if col["kind"] == "categorical":
            level, values = MISSING_LEVEL, set(s.dropna().astype(str))
            while level in values:
                level += "\x00"
            col.update(missing_level=level, levels=col["levels"] + [level])
            return
        flag, taken = f"{col['name']} is missing", taken | {c["name"] for c in self.columns}
        while flag in taken:
            flag += "_"
        col["missing_flag"] = flag
        self.columns.append(_flag_entry(col))

    def _check_missing(
        self, df: pd.DataFrame, absent: pd.DataFrame, infinite: pd.DataFrame
    ) -> None:
        """Refuse missing or infinite values under "error", infinite ones under "model": one line naming them."""
        bad = infinite if self.missing == "model" else absent | infinite
        if self.missing not in ("error", "model") or not bad.values.any():
            return
        rows, cols = (
            int(bad.any(axis=1).sum()),
            ", ".join(str(c) for c in df.columns[bad.any(axis=0).values]),
        )
        if self.missing == "model":
            raise DataError(
                f"{rows} rows have infinite values in columns {cols}; replace them (with NaN to model "
                "them as missing values), or choose missing='impute' or 'drop' (CLI: --param missing=impute)"
            )
        raise DataError(
            f"{rows} rows have missing or infinite values in columns {cols}; clean them, or choose "
            "missing='model' (gaps as data: a flag or a level), 'impute' or 'drop' "
            "(CLI: --param missing=model, or missing=impute)"
        )

    # -- transforming --------------------------------------------------------------------------
    @property
    def input_columns(self) -> list[dict]:
        """The input's columns in order: the entries of ``columns`` that are not missing flags, and the
        ``left_out`` ones (``"kind": "left_out"``) at their places."""
        cols = [c for c in self.columns if "missing_of" not in c]
        for entry in sorted(getattr(self, "left_out", []), key=lambda e: e["index"]):
            cols.insert(entry["index"], entry)
        return cols

    @property
    def notes(self) -> list[str]:
        """What was done to the table's columns, one line per kind (``synthkit.adapters._triage.notes``)."""
        return notes(self)

    @property
    def n_input_features(self) -> int:
        """Columns of the input (scikit-learn's ``n_features_in_``), before one-hot encoding."""
        return len(self.input_columns)

    @property
    def input_names(self) -> list[str] | None:
        """The input's column names (scikit-learn's ``feature_names_in_``); None for arrays and for
        DataFrames whose column names are not all strings."""
        return (
            [str(c["name"]) for c in self.input_columns]
            if self.text_names and not self.from_array
            else None
        )

    @property
    def feature_names(self) -> list[str]:
        names = []
        for col in self.columns:
            if col["kind"] == "categorical":
                names += [
                    f"{col['name']} is missing"
                    if level == col.get("missing_level")
                    else f"{col['name']}=(other)"
                    if level == col.get("other_level")
                    else f"{col['name']}={level}"
                    for level in col["levels"]
                ]
            else:
                names.append(str(col["name"]))
        return names

    def transform(self, X, owner: str = "the model") -> tuple[np.ndarray, np.ndarray]:
        """Encode X; returns (features float32, kept) where ``kept`` marks rows that were encoded.

        ``owner`` names the estimator in the error for an array of the wrong width."""
        df = self._frame(X, fitting=False, owner=owner)
        self._check_schema(df)
        df = self._encodable(df)
        absent, infinite = _missing_masks(df)
        bad = absent | infinite
        self.n_affected = int(bad.any(axis=1).sum())
        self._check_missing(df, absent, infinite)
        kept = (
            np.ones(len(df), dtype=bool)
            if self.missing in ("impute", "model")
            else ~bad.any(axis=1).to_numpy()
        )
        blocks = []
        for col in self.columns:
            s = df[col.get("missing_of", col["name"])]
            if "missing_of" in col:  # the flag of its column's missing values
                blocks.append(absent[col["missing_of"]].to_numpy(dtype=np.float64)[:, None])
            elif col["kind"] == "numeric":
                v = s.to_numpy(dtype=np.float64, na_value=np.nan)
                v = np.where(np.isfinite(v), v, col["median"])
                v = _symlog(v) if col.get("log") else v
                with np.errstate(over="ignore", invalid="ignore"):
                    z = (v - col["mean"]) / col["std"]
                blocks.append(np.clip(z, -1e6, 1e6)[:, None])
            elif col["kind"] == "bool":
                v = s.to_numpy(dtype=object, copy=True)
                v[pd.isna(v)] = col["fill"]
                blocks.append(v.astype(bool).astype(np.float64)[:, None])
            else:
                fill = col.get("missing_level", col["fill"])
                values = s.astype(object).where(s.notna(), fill).astype(str).to_numpy()
                if "other_level" in col:  # pooled and unseen levels are "other"
                    values = np.where(
                        pd.Series(values).isin(col["levels"]).to_numpy(), values, col["other_level"]
                    )
                levels = np.asarray(col["levels"], dtype=object)
                blocks.append((values[:, None] == levels[None, :]).astype(np.float64))
        out = np.hstack(blocks).astype(np.float32) if blocks else np.zeros((len(df), 0), np.float32)
        return out[kept], kept

    def inverse_transform(self, Z: np.ndarray, rng: np.random.Generator | None = None):
        """Decode model-space rows to a DataFrame (or a 2-D array for array input) with the input's
        schema; missing values where a column's flag is on or its missing level is chosen. ``rng``
        draws the pooled values where "other" is chosen (default: seeded with 0)."""
        Z = np.asarray(Z, dtype=np.float64)
        rng = np.random.default_rng(0) if rng is None else rng
        out, absent, i = {}, {}, 0
        for col in self.columns:
            if "missing_of" in col:
                absent[col["missing_of"]] = Z[:, i] > 0.5
                i += 1
            elif col["kind"] == "numeric":
                v = Z[:, i] * col["std"] + col["mean"]
                v = np.sign(v) * np.expm1(np.minimum(np.abs(v), 700.0)) if col.get("log") else v
                v = np.clip(v, col["min"], col["max"])
                if col.get("integer"):
                    v = np.round(v)
                elif col.get("decimals") is not None:  # as many decimals as the training values had
                    with np.errstate(over="ignore", invalid="ignore"):
                        v = np.where(np.abs(v) < 2.0**52, np.round(v, int(col["decimals"])), v)
                elif col.get("atoms"):
                    v = _snap(v, np.asarray(col["atoms"]), col["max"] - col["min"])
                out[col["name"]] = (
                    from_days(v, col["date_format"], bool(col.get("integer")))
                    if "date_format" in col
                    else v
                )
                i += 1
            elif col["kind"] == "bool":
                out[col["name"]] = Z[:, i] > 0.5
                i += 1
            else:
                k = len(col["levels"])
                idx = Z[:, i : i + k].argmax(axis=1) if k else np.zeros(len(Z), int)
                out[col["name"]] = (
                    np.asarray(col["levels"], dtype=object)[idx]
                    if k
                    else np.full(len(Z), col["fill"])
                )
                if "missing_level" in col:
                    absent[col["name"]] = out[col["name"]] == col["missing_level"]
                if "other_level" in col:
                    other = out[col["name"]] == col["other_level"]
                    out[col["name"]][other] = draw_pooled(col, int(other.sum()), rng)
                i += k
        index = pd.RangeIndex(len(Z))
        columns = {  # built whole: a column at a time fragments a wide frame (a pandas warning)
            col["name"]: left_out_column(col, len(Z))
            if col["kind"] == "left_out"
            else _restore_dtype(
                pd.Series(out[col["name"]], index=index), col, absent.get(col["name"])
            )
            for col in self.input_columns
        }
        df = pd.DataFrame(columns, index=index)
        if self.from_array:
            return df.to_numpy(
                dtype=np.dtype(self.columns[0]["dtype"]) if self.columns else np.float64
            )
        return df

    # -- schema --------------------------------------------------------------------------------
    def _frame(self, X, fitting: bool, owner: str = "the model") -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            if fitting:
                self.from_array, self.text_names = False, all(isinstance(c, str) for c in X.columns)
            df = X
        else:
            arr = as_array(X)
            if arr.ndim == 1:
                raise SchemaError(one_dimensional(arr))
            if arr.ndim != 2:
                raise SchemaError(f"expected a 2-D table, got an array of shape {arr.shape}")
            arr = numeric_array(arr)
            if fitting:
                self.from_array, self.text_names = True, False
            elif self.from_array and arr.shape[1] != self.n_input_features:
                # worded as scikit-learn words it, which its estimator checks look for
                raise SchemaError(
                    f"X has {arr.shape[1]} features, but {owner} is expecting {self.n_input_features} "
                    "features as input"
                )
            df = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        if df.columns.duplicated().any():
            dups = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
            raise DataError(
                f"duplicate column names: {', '.join(dups)}; rename them so each column is unique"
            )
        if not fitting or not all(isinstance(c, str) for c in df.columns):
            df = df.rename(columns=str)
        return df

    def _check_schema(self, df: pd.DataFrame) -> None:
        expected = [c["name"] for c in self.input_columns]
        missing = [c for c in expected if c not in df.columns]
        extra = [str(c) for c in df.columns if c not in set(expected)]
        parts = ([f"missing columns {', '.join(map(str, missing))}"] if missing else []) + (
            [f"unexpected columns {', '.join(extra)}"] if extra else []
        )
        if parts:
            raise SchemaError(f"the data does not match the model's schema: {'; '.join(parts)}")
        wrong = []
        for col in self.input_columns:
            s = df[col["name"]]
            numeric = (
                pd.api.types.is_numeric_dtype(s.dtype)
                and not pd.api.types.is_bool_dtype(s.dtype)
                and not pd.api.types.is_complex_dtype(s.dtype)
            )
            if col["kind"] == "left_out":
                continue  # not encoded: any dtype
            if "date_format" in col:
                if not _is_categorical(s):
                    wrong.append(f"{col['name']} ({s.dtype}, expected text dates)")
            elif col["kind"] == "numeric" and not numeric:
                wrong.append(f"{col['name']} ({s.dtype}, expected numeric)")
            elif col["kind"] == "bool" and not pd.api.types.is_bool_dtype(s.dtype):
                if not (
                    s.dtype == object
                    and s.dropna().map(lambda v: isinstance(v, (bool, np.bool_))).all()
                ):
                    wrong.append(f"{col['name']} ({s.dtype}, expected bool)")
            elif col["kind"] == "categorical" and not _is_categorical(s):
                wrong.append(f"{col['name']} ({s.dtype}, expected categorical)")
        if wrong:
            raise SchemaError(
                f"the data does not match the model's schema: wrong dtypes in {', '.join(wrong)}"
            )

    def to_dict(self) -> dict:
        """The schema as plain data: the encoded input columns, a missing or "other" level kept apart
        from ``levels``; the columns left out under ``left_out``."""
        columns = []
        for c in self.columns:
            if "missing_of" not in c:
                special = {c.get("missing_level"), c.get("other_level")} - {None}
                columns.append(
                    dict(c, levels=[v for v in c["levels"] if v not in special])
                    if special
                    else dict(c)
                )
        out = {
            "kind": "table",
            "missing": self.missing,
            "from_array": self.from_array,
            "text_names": self.text_names,
            "columns": columns,
        }
        if self.left_out:
            out["left_out"] = [dict(c) for c in self.left_out]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "TableAdapter":
        self = cls(missing=d.get("missing", "error"))
        self.from_array = bool(d.get("from_array", False))
        self.text_names = bool(
            d.get("text_names", not self.from_array)
        )  # older schemas: frames had text names
        names = {c.get("name") for c in d["columns"] + list(d.get("left_out", []))}
        for col in d["columns"]:
            col = dict(col)
            self.columns.append(col)
            _check_missing_keys(col, names)
            if "other_level" in col:
                col["levels"] = list(col["levels"]) + [col["other_level"]]
            if "missing_level" in col:
                col["levels"] = list(col["levels"]) + [col["missing_level"]]
            if "missing_flag" in col:
                names.add(col["missing_flag"])
                self.columns.append(_flag_entry(col))
        self.left_out = [dict(c) for c in d.get("left_out", [])]
        return self

    def describe(self) -> str:
        return f"table of {self.n_input_features} columns ({len(self.feature_names)} features)"


def _flag_entry(col: dict) -> dict:
    """The encoded column that flags ``col``'s missing values (a boolean, 1 where missing)."""
    return {
        "name": col["missing_flag"],
        "dtype": "bool",
        "kind": "bool",
        "fill": False,
        "missing_of": col["name"],
    }


def _check_missing_keys(col: dict, names: set) -> None:
    """Refuse a saved column whose missing-value keys the adapter could not use (a schema edited by hand)."""
    kind, flag, level = col.get("kind"), col.get("missing_flag"), col.get("missing_level")
    other = col.get("other_level")
    for key, bad in (
        ("missing_value", col.get("missing_value", "nan") not in tuple(MISSING_MARKERS)),
        (
            "other_level",
            "other_level" in col
            and (
                kind != "categorical"
                or not isinstance(other, str)
                or other in col.get("levels", [])
                or other == level
            ),
        ),
        (
            "date_format",
            "date_format" in col and (kind != "numeric" or not isinstance(col["date_format"], str)),
        ),
        (
            "missing_flag",
            "missing_flag" in col
            and (kind not in ("numeric", "bool") or not isinstance(flag, str) or flag in names),
        ),
        (
            "missing_level",
            "missing_level" in col
            and (
                kind != "categorical"
                or not isinstance(level, str)
                or level in col.get("levels", [])
            ),
        ),
    ):
        if bad:
            raise SchemaError(f"the schema's column {col.get('name')!r} has a malformed {key!r}")


def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def _boolean_objects(s: pd.Series) -> bool:
    """An object column of True/False values (and missing ones), as CSV readers give booleans with gaps."""
    valid = s.dropna() if s.dtype == object else ()
    return len(valid) > 0 and bool(valid.map(lambda v: isinstance(v, (bool, np.bool_))).all())


def _atoms(values: np.ndarray) -> list[float]:
    """The values at least ``ATOM_SHARE`` of ``values`` (and two of them) hold, sorted; at most
    ``MAX_ATOMS``, the most frequent."""
    distinct, counts = np.unique(values, return_counts=True)
    frequent = np.flatnonzero(counts >= max(2, ATOM_SHARE * len(values)))
    frequent = frequent[np.argsort(-counts[frequent], kind="stable")][:MAX_ATOMS]
    return sorted(float(v) for v in distinct[frequent])


def _snap(v: np.ndarray, atoms: np.ndarray, spread: float) -> np.ndarray:
    """``v`` with each value within ``ATOM_TOLERANCE * spread`` of an atom set to that atom."""
    right = (
        np.clip(np.searchsorted(atoms, v), 1, len(atoms))
        if len(atoms) > 1
        else np.zeros(len(v), int)
    )
    left = np.maximum(right - 1, 0)
    right = np.minimum(right, len(atoms) - 1)
    nearest = np.where(
        np.abs(v - atoms[left]) <= np.abs(v - atoms[right]), atoms[left], atoms[right]
    )
    return np.where(np.abs(v - nearest) <= ATOM_TOLERANCE * spread, nearest, v)


def _decimals(values: np.ndarray, dtype) -> int | None:
    """The fewest decimals (0 to MAX_DECIMALS) that hold every value, up to the float's own
    precision (2 for 19.99 and 5.5; float32's 0.1 counts as 0.1); None where more are needed."""
    eps = np.finfo(np.float32 if str(dtype) == "float32" else np.float64).eps
    values = values[np.abs(values) < 2.0**52]  # larger floats hold no decimals
    tol = 16 * eps * np.abs(values)
    with np.errstate(over="ignore", invalid="ignore"):
        for d in range(MAX_DECIMALS + 1):
            if (np.abs(np.round(values, d) - values) <= tol).all():
                return d
    return None


def _skewness(v: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        centred = v - v.mean()
        sd = centred.std()
        return float((centred**3).mean() / sd**3) if sd > 0 and np.isfinite(sd) else 0.0


def _symlog(v: np.ndarray) -> np.ndarray:
    """sign(v) * log(1 + |v|): compresses heavy right tails, defined for any value."""
    return np.sign(v) * np.log1p(np.abs(v))


def _missing_masks(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(absent, infinite): where values are missing (NaN, None, pd.NA, NaT) and where numeric ones are infinite."""
    absent = df.isna()
    infinite = pd.DataFrame(False, index=df.index, columns=df.columns)
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            absent[name] = np.isnan(v)
            infinite[name] = np.isinf(v)
    return absent, infinite


def _restore_dtype(s: pd.Series, col: dict, absent: np.ndarray | None = None) -> pd.Series:
    """Decoded values in the training column's dtype, missing (with its marker) where ``absent``."""
    dtype = col["dtype"]
    if absent is not None and absent.any():
        if dtype == "object":
            values = s.to_numpy(dtype=object).copy()
            values[absent] = MISSING_MARKERS[col.get("missing_value", "nan")]
            s = pd.Series(values, name=s.name, dtype=object)
        else:
            s = s.where(~absent)
    if "categories" in col:
        return pd.Categorical(s.where(s.isna(), s.astype(str)), categories=col["categories"])
    try:
        return s.astype(dtype)
    except (TypeError, ValueError):
        return s
