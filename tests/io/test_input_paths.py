"""Inputs that are not regular files or folders: a named pipe is refused before it is opened (with
no writer, opening it would wait for ever), and a symlink loop is named as one, in one line."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from synthkit.errors import InputFileError
from synthkit.io._reading import read_input
from tests.helpers import assert_clean_error, run

WAIT_SECONDS = 20


def unblocked(call, fifo):
    """``call()``'s result, or the exception it raised; when it is still waiting on ``fifo`` after
    ``WAIT_SECONDS`` (it opened the pipe), a writer opens and closes the pipe so that it ends, and
    the test fails saying it blocked."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(WAIT_SECONDS)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the reader sees the end of the data
        thread.join(WAIT_SECONDS)
        pytest.fail(f"reading {fifo} blocked waiting for a writer")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes need os.mkfifo (POSIX)")
    path = tmp_path / "rows.csv"
    os.mkfifo(path)
    return path


@pytest.fixture
def table(tmp_path):
    """A real table file: the first 200 rows of the annthyroid anomaly set."""
    from tests.helpers import load_anomaly_set

    import pandas as pd

    X, _ = load_anomaly_set("annthyroid")
    path = tmp_path / "annthyroid.csv"
    pd.DataFrame(X[:200], columns=[f"f{i}" for i in range(X.shape[1])]).to_csv(path, index=False)
    return path


def test_a_named_pipe_is_refused_before_it_is_opened(fifo):
    with pytest.raises(InputFileError, match=r"rows\.csv is a named pipe \(FIFO\).*regular files"):
        unblocked(lambda: read_input(fifo), fifo)


@pytest.mark.parametrize("extra", [[], ["--chunksize", "50"]], ids=["in-memory", "streamable"])
def test_the_cli_refuses_a_named_pipe_in_one_line(fifo, tmp_path, extra):
    result = unblocked(lambda: run("detect", fifo, "-o", tmp_path / "s.csv", *extra), fifo)
    assert_clean_error(result, r"is a named pipe \(FIFO\): .*save the data to a file")
    assert not (tmp_path / "s.csv").exists()


def test_a_device_is_refused():
    if not os.path.exists(os.devnull) or os.name != "posix":
        pytest.skip("no /dev/null")
    with pytest.raises(InputFileError, match="is a character device"):
        read_input(os.devnull)


def test_a_symlink_loop_is_named_as_one(tmp_path):
    loop = tmp_path / "loop.csv"
    os.symlink(loop.name, loop)  # a link to itself
    other = tmp_path / "a.csv"
    os.symlink("b.csv", other)
    os.symlink("a.csv", tmp_path / "b.csv")  # a -> b -> a
    for path in (loop, other):
        with pytest.raises(InputFileError, match=r"is a symlink loop"):
            read_input(path)
    assert_clean_error(
        run("detect", loop, "-o", tmp_path / "s.csv"), r"loop\.csv is a symlink loop"
    )


def test_files_links_folders_and_missing_files_as_before(table, tmp_path):
    link = tmp_path / "link.csv"
    os.symlink(table.name, link)
    assert read_input(link).frame.shape == read_input(table).frame.shape == (200, 6)
    (tmp_path / "images" / "a").mkdir(parents=True)
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "images" / "a" / "0.png")
    assert read_input(tmp_path / "images").images.shape[0] == 1
    with pytest.raises(InputFileError, match="no such file"):
        read_input(tmp_path / "absent.csv")
    dangling = tmp_path / "dangling.csv"
    os.symlink("absent.csv", dangling)
    with pytest.raises(InputFileError, match="no such file"):
        read_input(dangling)
