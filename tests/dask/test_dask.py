"""Scoring on a real Dask cluster (127.0.0.1, worker processes): equal to one process, a lost worker, bad inputs."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthkit
from synthkit.cli._main import cli
from synthkit.errors import InputFileError, ModelFileError, OutputFileError
from synthkit.io._reading import as_data

REQUIRE_DASK = os.environ.get("SYNTHKIT_REQUIRE_DASK", "").strip().lower() in {"1", "true", "yes"}


def _need(module: str):
    """Import ``module``, or skip this file (fail it under SYNTHKIT_REQUIRE_DASK=1, as .ci/run sets)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        reason = f'{module} is not installed: pip install -e ".[dask]" to run the Dask tests'
        if REQUIRE_DASK:
            pytest.fail(f"{reason}, and SYNTHKIT_REQUIRE_DASK=1 requires them", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


dd = _need("dask.dataframe")
distributed = _need("distributed")
import synthkit.dask as sdask  # noqa: E402  (after the dask check)
from synthkit.dask import _models  # noqa: E402

ROWS, PARTS = 2400, 8


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Transactions rows with a row_id in PARTS Parquet parts, and kmeans and dense autoencoder models."""
    root = tmp_path_factory.mktemp("dask")
    frame = (
        as_data("transactions").frame.iloc[:ROWS].drop(columns=["is_fraud"]).reset_index(drop=True)
    )
    synthkit.get_detector("kmeans", n_clusters=4, seed=0).fit(frame).save(root / "km")
    synthkit.get_detector("autoencoder", kind="dense", epochs=2, batch_size=64, seed=0).fit(
        frame
    ).save(root / "ae")
    rows = frame.copy()
    rows.insert(0, "row_id", np.arange(ROWS))
    (root / "in").mkdir()
    for i, part in enumerate(np.array_split(np.arange(ROWS), PARTS)):
        rows.iloc[part].to_parquet(root / "in" / f"p{i:02d}.parquet", index=False)
    return root, frame


@pytest.fixture(scope="module")
def client():
    """A scheduler and two worker processes on 127.0.0.1, closed after the module's tests."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=40,
    )
    try:
        c = distributed.Client(cluster)
        try:
            yield c
        finally:
            c.close()
    finally:
        cluster.close()


def expected(frame, model_dir):
    """The single-process scores of ``frame`` with ``model_dir`` (synthkit.detect in memory)."""
    out = synthkit.detect(frame, model=str(model_dir))
    out.insert(0, "row_id", np.arange(len(out)))
    return out


def read_parts(out_dir) -> pd.DataFrame:
    files = sorted(p for p in os.listdir(out_dir) if p.startswith("part-"))
    return pd.concat([pd.read_parquet(out_dir / f) for f in files], ignore_index=True)


def assert_same_rows(got: pd.DataFrame, want: pd.DataFrame):
    got = got.sort_values("row_id").reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    assert got["row_id"].tolist() == list(range(len(want)))  # every row exactly once
    np.testing.assert_allclose(got["anomaly_score"], want["anomaly_score"], rtol=1e-5, atol=1e-6)
    borderline = np.isclose(want["anomaly_score"], want.attrs["synthkit"]["threshold"], rtol=1e-5)
    assert (got["is_anomaly"].to_numpy() == want["is_anomaly"].to_numpy())[~borderline].all()
    for col in [c for c in want.columns if c not in ("anomaly_score", "is_anomaly")]:
        assert got[col].astype(object).tolist() == want[col].astype(object).tolist(), col


def run_cli(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def assert_one_line_error(code, output, *needles):
    assert code == 1, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in output, output
    for needle in needles:
        assert needle in lines[0], output


@pytest.mark.parametrize("model", ["km", "ae"])
def test_parts_equal_single_process(data, client, tmp_path, model):
    root, frame = data
    with client.as_current():
        ddf = sdask.read_input(root / "in" / "*.parquet", root / model)
        summary = sdask.score_to_parquet(ddf, root / model, tmp_path / "out", exclude=["row_id"])
    out = tmp_path / "out"
    assert sorted(os.listdir(out)) == ["_SUCCESS", *[f"part-{i:05d}.parquet" for i in range(PARTS)]]
    assert json.loads((out / "_SUCCESS").read_text())["rows"] == summary["rows"] == ROWS
    cached = client.run(
        lambda: [k[0] for k in _models._MODELS]
    )  # each worker loaded the directory once
    assert any(str(root / model) in paths for paths in cached.values()), cached
    want = expected(frame, root / model)
    assert summary["flagged"] == int(want["is_anomaly"].sum())
    assert_same_rows(read_parts(out), want)


def test_csv_parts_read_with_the_model_dtypes_replace_an_older_run(data, client, tmp_path):
    root, frame = data
    rows = frame.copy()
    rows.insert(0, "row_id", np.arange(ROWS))
    (tmp_path / "csv").mkdir()
    for i, part in enumerate(np.array_split(np.arange(ROWS), 3)):
        rows.iloc[part].to_csv(tmp_path / "csv" / f"p{i}.csv", index=False)
    with client.as_current():
        sdask.score_to_parquet(
            sdask.read_input(root / "in", root / "km"),
            root / "km",
            tmp_path / "out",
            exclude=["row_id"],
        )  # PARTS parts, replaced below by 3
        summary = sdask.score_to_parquet(
            sdask.read_input(tmp_path / "csv" / "*.csv", root / "km"),
            root / "km",
            tmp_path / "out",
            overwrite=True,
            exclude=["row_id"],
        )
    assert summary["parts"] == 3 and summary["rows"] == ROWS
    assert sorted(os.listdir(tmp_path / "out")) == [
        "_SUCCESS",
        *[f"part-{i:05d}.parquet" for i in range(3)],
    ]
    assert_same_rows(read_parts(tmp_path / "out"), expected(frame, root / "km"))


def test_detect_is_lazy_inside_a_user_pipeline(data, client):
    root, frame = data
    rows = frame.copy()
    rows.insert(0, "row_id", np.arange(ROWS))
    with client.as_current():
        scored = sdask.detect(
            dd.from_pandas(rows, npartitions=5), str(root / "km"), exclude="row_id"
        )
        assert {"anomaly_score", "is_anomaly", "segment"} <= set(scored.columns)
        flagged = scored[scored["is_anomaly"] == 1].compute()
    want = expected(frame, root / "km")
    assert sorted(flagged["row_id"]) == sorted(want.loc[want["is_anomaly"] == 1, "row_id"])


def test_fit_on_sample_then_score_on_the_cluster(data, client):
    """One call fits the table default on a seeded sample of a Dask DataFrame (what --engine dask
    does), and the fitted detector scores the rows on the cluster as it scores them in memory."""
    _, frame = data
    rows = frame.copy()
    rows.insert(0, "row_id", np.arange(ROWS))
    with client.as_current():
        ddf = dd.from_pandas(rows, npartitions=5)
        detector, fitted_on = sdask.fit_on_sample(ddf, n_rows=300, seed=3, exclude=["row_id"])
        again, _ = sdask.fit_on_sample(ddf, n_rows=300, seed=3, exclude=["row_id"])
        scored = sdask.detect(ddf, detector, exclude="row_id").compute()
    assert type(detector).__name__ == "IsolationForestDetector" and fitted_on == 300
    np.testing.assert_array_equal(detector.decision_scores_, again.decision_scores_)
    np.testing.assert_allclose(
        scored.sort_values("row_id")["anomaly_score"].to_numpy(), detector.decision_function(frame)
    )


def test_a_fitted_detector_is_sent_with_the_graph(data, client):
    root, frame = data
    rows = frame.copy()
    rows.insert(0, "row_id", np.arange(ROWS))
    with client.as_current():
        scored = sdask.detect(
            dd.from_pandas(rows, npartitions=3),
            synthkit.load_model(root / "ae"),
            exclude=["row_id"],
        )
        got = scored.compute()
    assert_same_rows(got, expected(frame, root / "ae"))


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--chunksize", "10"], "--chunksize is not available with --engine dask"),
        (["--plot", "plots"], "--plot is not available with --engine dask"),
        (["--param", "missing=drop"], "with --model the saved model is used as it is"),
        (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers sizes a local cluster"),
        (
            ["--scheduler", "tcp://127.0.0.1:notaport"],
            "cannot reach the Dask scheduler at tcp://127.0.0.1:notaport",
        ),
    ],
)
def test_cli_options_that_do_not_apply(data, tmp_path, args, needle):
    root, _ = data
    code, output = run_cli(
        "detect",
        root / "in",
        "--model",
        root / "km",
        "--engine",
        "dask",
        "-o",
        tmp_path / "out",
        *args,
    )
    assert_one_line_error(code, output, needle)
    assert not (tmp_path / "out").exists()


def test_cli_needs_an_out_dir_and_the_local_engine_no_scheduler(data, tmp_path):
    root, _ = data
    assert_one_line_error(
        *run_cli("detect", root / "in", "--model", root / "km", "--engine", "dask"), "-o OUT_DIR"
    )
    code, output = run_cli(
        "detect",
        root / "in" / "p00.parquet",
        "--model",
        root / "km",
        "--scheduler",
        "tcp://127.0.0.1:1",
        "-o",
        tmp_path / "x.csv",
    )
    assert_one_line_error(code, output, "--engine dask")


def test_without_distributed_the_cli_says_what_to_install(data, tmp_path, monkeypatch):
    root, _ = data
    monkeypatch.setitem(sys.modules, "distributed", None)
    code, output = run_cli(
        "detect", root / "in", "--model", root / "km", "--engine", "dask", "-o", tmp_path / "out"
    )
    assert_one_line_error(code, output, 'pip install "synthkit[dask]"')


def test_help_does_not_import_dask():
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom synthkit.cli._main import cli\n"
        "assert '--engine' in CliRunner().invoke(cli, ['detect', '--help']).output\n"
        "assert 'dask' not in sys.modules and 'distributed' not in sys.modules, 'dask imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_cli_on_a_scheduler_equals_cli_in_one_process(data, client, tmp_path):
    root, frame = data
    code, output = run_cli(
        "detect",
        root / "in",
        "--model",
        root / "km",
        "--engine",
        "dask",
        "--scheduler",
        client.scheduler.address,
        "--label-column",
        "row_id",
        "-o",
        tmp_path / "out",
    )
    assert code == 0, output
    assert f"rows: {ROWS}" in output and "rows/s" in output
    frame.to_csv(tmp_path / "all.csv", index=False)
    code, output = run_cli(
        "detect", tmp_path / "all.csv", "--model", root / "km", "-o", tmp_path / "one.csv"
    )
    assert code == 0, output
    want = pd.read_csv(tmp_path / "one.csv")
    want.insert(0, "row_id", np.arange(ROWS))
    want.attrs["synthkit"] = {"threshold": synthkit.load_model(root / "km").threshold_}
    assert_same_rows(read_parts(tmp_path / "out"), want)


def test_cli_on_a_worker_with_two_threads_twice(data, tmp_path):
    """A worker process with 2 threads loads the plugins once for both threads, and a second job works too."""
    root, _ = data
    cluster = distributed.LocalCluster(
        n_workers=1,
        processes=True,
        threads_per_worker=2,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=40,
    )
    try:
        for run in ("first", "second"):
            code, output = run_cli(
                "detect",
                root / "in",
                "--model",
                root / "km",
                "--engine",
                "dask",
                "--scheduler",
                cluster.scheduler_address,
                "--label-column",
                "row_id",
                "-o",
                tmp_path / run,
            )
            assert code == 0, output
            assert sorted(read_parts(tmp_path / run)["row_id"]) == list(range(ROWS))
    finally:
        cluster.close()


def test_cli_local_cluster_fits_on_a_sample(data, tmp_path):
    root, _ = data
    code, output = run_cli(
        "detect",
        root / "in" / "*.parquet",
        "--engine",
        "dask",
        "--workers",
        "2",
        "--plugin",
        "kmeans",
        "--sample-rows",
        "500",
        "--seed",
        "1",
        "--label-column",
        "row_id",
        "--save-model",
        tmp_path / "model",
        "-o",
        tmp_path / "out",
    )
    assert code == 0, output
    assert "fitted on 500 sampled rows (seed 1)" in output and f"rows: {ROWS}" in output
    got = read_parts(tmp_path / "out")
    assert sorted(got["row_id"]) == list(range(ROWS))
    assert synthkit.load_model(tmp_path / "model").n_features_in_ > 0


def test_corrupt_part_fails_naming_it(data, client, tmp_path):
    root, _ = data
    shutil.copytree(root / "in", tmp_path / "in")
    bad = tmp_path / "in" / "p05.parquet"
    bad.write_bytes(b"PAR1 this is not a parquet file" * 20)
    code, output = run_cli(
        "detect",
        tmp_path / "in" / "*.parquet",
        "--model",
        root / "km",
        "--engine",
        "dask",
        "--scheduler",
        client.scheduler.address,
        "--label-column",
        "row_id",
        "-o",
        tmp_path / "out",
    )
    assert_one_line_error(code, output, str(bad))
    assert not (tmp_path / "out" / "_SUCCESS").exists()
    with client.as_current(), pytest.raises(InputFileError, match="p05.parquet"):
        sdask.score_to_parquet(
            sdask.read_input(tmp_path / "in", root / "km"),
            root / "km",
            tmp_path / "api",
            exclude=["row_id"],
        )
    assert not (tmp_path / "api" / "_SUCCESS").exists()


@pytest.mark.parametrize("bad", ["dtype", "corrupt"])
def test_cli_failure_on_a_local_cluster_prints_one_line(data, tmp_path, bad):
    """A part of the wrong dtype or a corrupt part: stderr holds synthkit's one line, not the worker's
    "Compute Failed" log and traceback (the CLI's own LocalCluster on 127.0.0.1, closed by the run)."""
    root, frame = data
    shutil.copytree(root / "in", tmp_path / "in")
    part = tmp_path / "in" / "p03.parquet"
    if bad == "dtype":
        rows = pd.read_parquet(part)
        rows["amount"] = "x" + rows["amount"].astype(str)
        rows.to_parquet(part, index=False)
        needle = "wrong dtypes in amount"
    else:
        part.write_bytes(b"PAR1 this is not a parquet file" * 20)
        needle = str(part)
    command = [sys.executable, "-m", "synthkit", "detect", str(tmp_path / "in"), "--model"]
    command += [str(root / "km"), "--engine", "dask", "--workers", "1", "--label-column", "row_id"]
    command += ["-o", str(tmp_path / "out")]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as run:
        try:
            out, err = run.communicate(timeout=180)
        finally:
            if run.poll() is None:  # stuck: stop it (its cluster's processes go with it)
                run.kill()
                run.communicate()
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("note:")]
    assert run.returncode == 1, err
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], err
    assert "Traceback" not in err and "distributed." not in err and out == ""
    assert not (tmp_path / "out").exists()


def test_existing_out_dir_is_refused(data, client, tmp_path):
    root, _ = data
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = [
        "detect",
        root / "in",
        "--model",
        root / "km",
        "--engine",
        "dask",
        "--scheduler",
        client.scheduler.address,
        "--label-column",
        "row_id",
        "-o",
        out,
    ]
    assert_one_line_error(*run_cli(*args), "exists", "--overwrite")
    assert_one_line_error(*run_cli(*args, "--overwrite"), "notes.txt")
    assert os.listdir(out) == ["notes.txt"]
    with pytest.raises(OutputFileError, match="exists"):
        sdask.check_out_dir(out)


def test_model_unreadable_on_the_workers(data, client, tmp_path):
    root, _ = data
    shutil.copytree(root / "km", tmp_path / "km")
    with client.as_current():
        lazy = sdask.detect(
            sdask.read_input(root / "in", tmp_path / "km"), tmp_path / "km", exclude="row_id"
        )
        (tmp_path / "km" / "manifest.json").unlink()  # after the client read it: the workers cannot
        with pytest.raises(
            ModelFileError, match="read on host .*every Dask worker needs the model directory"
        ):
            lazy.compute()


def _slow_read(path):
    time.sleep(0.3)
    return pd.read_parquet(path)


def test_lost_worker_every_row_scored_once(data, client, tmp_path):
    """Kill a worker process once the first parts are written: the job completes, each row once."""
    import cloudpickle

    root, frame = data
    cloudpickle.register_pickle_by_value(
        sys.modules[__name__]
    )  # the workers cannot import this test file
    many = 30
    rows = frame.copy()
    rows.insert(0, "row_id", np.arange(ROWS))
    (tmp_path / "in").mkdir()
    files = []
    for i, part in enumerate(np.array_split(np.arange(ROWS), many)):
        files.append(str(tmp_path / "in" / f"p{i:02d}.parquet"))
        rows.iloc[part].to_parquet(files[-1], index=False)
    out = tmp_path / "out"
    result: dict = {}

    def run():
        try:
            with client.as_current():
                ddf = dd.from_map(_slow_read, files, meta=rows.iloc[:0])
                result["summary"] = sdask.score_to_parquet(
                    ddf, root / "km", out, exclude=["row_id"]
                )
        except BaseException as exc:  # reported by the assertion below
            result["error"] = exc

    pids = client.run(os.getpid)
    job = threading.Thread(target=run)
    job.start()
    try:
        deadline = time.monotonic() + 60
        while not (out.is_dir() and any(n.startswith("part-") for n in os.listdir(out))):
            assert time.monotonic() < deadline and job.is_alive(), result
            time.sleep(0.02)
        written_at_kill = sum(n.startswith("part-") for n in os.listdir(out))
        os.kill(next(iter(pids.values())), signal.SIGKILL)
    finally:
        job.join(120)
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert "error" not in result, result
    assert written_at_kill < many  # the worker died mid-run
    assert result["summary"]["rows"] == ROWS and result["summary"]["parts"] == many
    assert sorted(os.listdir(out)) == ["_SUCCESS", *[f"part-{i:05d}.parquet" for i in range(many)]]
    assert_same_rows(read_parts(out), expected(frame, root / "km"))


@pytest.fixture(scope="module")
def table_gan(tmp_path_factory):
    """A conditional GAN (one epoch) fitted on real transactions rows, saved as a model directory."""
    frame = as_data("transactions").frame.iloc[:1500].reset_index(drop=True)
    root = tmp_path_factory.mktemp("gan")
    synthkit.get_generator("gan", epochs=1, batch_size=250, seed=0).fit(
        frame.drop(columns=["is_fraud"]), frame["is_fraud"].to_numpy()
    ).save(root / "gan")
    return root / "gan", frame


def test_augment_in_seeded_shards_on_the_workers(client, table_gan):
    model_dir, frame = table_gan
    lazy = sdask.augment(str(model_dir), 101, shards=4, seed=7, label=1, label_column="is_fraud")
    assert lazy.npartitions == 4
    rows = lazy.compute()
    again = sdask.augment(
        str(model_dir), 101, shards=4, seed=7, label=1, label_column="is_fraud"
    ).compute()
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), again.reset_index(drop=True))
    assert len(rows) == 101 and list(rows.columns) == list(frame.columns)
    assert (rows["is_fraud"] == 1).all()
    # shard i is the generator's own sample with the i-th spawned seed: nothing depends on the worker
    generator = synthkit.load_model(str(model_dir))
    size, seed = sdask.shard_plan(101, 4, 7)[2]
    first = sum(s for s, _ in sdask.shard_plan(101, 4, 7)[:2])
    local = generator.sample(size, y=1, seed=seed)
    pd.testing.assert_frame_equal(
        rows.drop(columns=["is_fraud"]).iloc[first : first + size].reset_index(drop=True),
        local.reset_index(drop=True),
        check_dtype=False,
    )  # Dask holds text as strings
    other = sdask.augment(str(model_dir), 101, shards=4, seed=8, label=1).compute()
    assert not other.reset_index(drop=True).equals(
        rows.drop(columns=["is_fraud"]).reset_index(drop=True)
    )
    assert (
        sdask.augment(generator, 10, seed=7, label=1).npartitions == 2
    )  # a fitted generator; one shard per worker
    with pytest.raises(synthkit.SynthkitError, match="shards must be"):
        sdask.augment(str(model_dir), 10, shards=0)


def test_progress_bar_while_parts_are_written(data, client, tmp_path, capsys):
    root, frame = data
    with client.as_current():
        summary = sdask.score_to_parquet(
            sdask.read_input(root / "in", root / "km"),
            root / "km",
            tmp_path / "out",
            exclude=["row_id"],
            progress=True,
        )
    printed = capsys.readouterr()
    assert "100%" in printed.out + printed.err and "Completed | " in printed.out + printed.err
    assert summary["rows"] == ROWS
    assert_same_rows(read_parts(tmp_path / "out"), expected(frame, root / "km"))
