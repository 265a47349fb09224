"""`synthkit detect --engine dask` writes a folder of Parquet parts: an output named as a file
(`-o scored.csv`) is refused in one line before any data is read or a cluster started."""

from __future__ import annotations

import time

import pytest

from synthkit.errors import OutputFileError
from tests.helpers import assert_clean_error, load_anomaly_set, run

pytest.importorskip("dask")
pytest.importorskip("distributed")


@pytest.fixture
def table(tmp_path):
    """A real table file: the first 200 rows of the annthyroid anomaly set."""
    import pandas as pd

    X, _ = load_anomaly_set("annthyroid")
    path = tmp_path / "rows.parquet"
    pd.DataFrame(X[:200], columns=[f"f{i}" for i in range(X.shape[1])]).to_parquet(path)
    return path


@pytest.mark.parametrize("name", ["scored.csv", "scored.CSV.GZ", "scored.parquet", "scored.npz"])
def test_a_file_name_is_refused_before_anything_runs(table, tmp_path, name):
    out = tmp_path / name
    started = time.perf_counter()
    result = run("detect", "--engine", "dask", table, "--model", tmp_path / "m", "-o", out)
    assert_clean_error(result, r"writes a folder of Parquet parts: give a folder, such as .*scored")
    assert time.perf_counter() - started < 10  # no cluster was started
    assert not out.exists()


def test_check_out_dir_takes_folder_names(tmp_path):
    from synthkit import dask as sdask

    with pytest.raises(OutputFileError, match=r"scored\.csv is a file name \(\.csv\)"):
        sdask.check_out_dir(tmp_path / "scored.csv")
    for name in ("scored", "scored_v1.2", "run.2024-05-01"):
        assert sdask.check_out_dir(tmp_path / name) == tmp_path / name
