"""The built-in ``transactions`` dataset: a synthetic, fraud-style card-transactions table.

20,000 rows shipped in the package as ``transactions.csv.gz`` and rebuilt byte for byte by
``synthkit_datasets/make_transactions.py`` (whose docstring describes the columns and the four fraud
patterns). About 1.5% of the rows are fraud (``is_fraud == 1``).

Splits: ``"train"`` is the first 15,000 rows and ``"test"`` the remaining 5,000 (the rows are
shuffled when the file is built, so both hold every fraud pattern); ``load()`` with no split
returns the whole table.
"""

from __future__ import annotations

from pathlib import Path

from synthkit import hookimpl
from synthkit.dataset import Dataset
from synthkit.errors import InputFileError, PluginError

FILE_NAME = "transactions.csv.gz"
N_TRAIN = 15_000

FLOAT_COLUMNS = ("amount", "distance_from_home_km")
INT_COLUMNS = ("hour", "txn_count_24h", "account_age_days", "customer_age", "is_fraud")
STR_COLUMNS = ("day_of_week", "merchant_category", "channel", "country")
BOOL_COLUMNS = ("card_present", "new_device")
COLUMNS = (
    "amount",
    "hour",
    "day_of_week",
    "merchant_category",
    "channel",
    "country",
    "card_present",
    "new_device",
    "distance_from_home_km",
    "txn_count_24h",
    "account_age_days",
    "customer_age",
    "is_fraud",
)


def _data_path() -> Path:
    """Path of the shipped gzipped CSV: the installed package's data, else next to this file."""
    try:
        from importlib.resources import files

        candidate = files("synthkit_datasets") / FILE_NAME
        if candidate.is_file():
            return Path(str(candidate))
    except (ImportError, ModuleNotFoundError, TypeError, ValueError):
        pass
    return Path(__file__).with_name(FILE_NAME)


class TransactionsDataset(Dataset):
    """Synthetic card transactions with a 0/1 ``is_fraud`` label (about 1.5% fraud)."""

    name = "transactions"
    kind = "table"
    label_column = "is_fraud"
    description = (
        "Synthetic card transactions (20,000 rows, 13 columns: numeric, categorical, boolean) "
        "with ~1.5% fraud from four patterns: card testing, account takeover, ATM cash-out and "
        "card-not-present high-value purchases; label column 'is_fraud'."
    )

    def splits(self) -> list[str]:
        return ["train", "test"] if _data_path().is_file() else []

    def location(self) -> str:
        return str(_data_path())

    def load(self, split: str | None = None):
        """The table as a DataFrame: ``split`` None (all rows), ``"train"`` or ``"test"``."""
        if split is not None and split not in ("train", "test"):
            raise PluginError(
                f"unknown split {split!r} of dataset 'transactions'; choose one of 'train', "
                "'test', or no split for the whole table"
            )
        path = _data_path()
        if not path.is_file():
            raise InputFileError(
                f"the transactions data file is missing: {path}; reinstall synthkit or rebuild it "
                "with 'python synthkit_datasets/make_transactions.py'"
            )
        import pandas as pd

        dtype = {c: "float64" for c in FLOAT_COLUMNS}
        dtype.update({c: "int64" for c in INT_COLUMNS})
        dtype.update({c: object for c in STR_COLUMNS})
        dtype.update({c: bool for c in BOOL_COLUMNS})
        # na_filter=False: no value is missing, and country codes must never be read as NaN
        df = pd.read_csv(path, compression="gzip", dtype=dtype, na_filter=False)
        df = df[list(COLUMNS)]
        if split == "train":
            df = df.iloc[:N_TRAIN]
        elif split == "test":
            df = df.iloc[N_TRAIN:]
        return df.reset_index(drop=True)


@hookimpl
def synthkit_register_datasets(register):
    register("transactions", TransactionsDataset())
