"""Streaming detect: chunked scoring equals in-memory scoring, atomic outputs, model directories, determinism."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthkit
from synthkit import detection as scoring
from synthkit import streaming
from synthkit.cli._main import cli
from synthkit.errors import DataError, InputFileError, ModelFileError, OutputFileError, SchemaError


def make_table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(3, 1, n), 2),
            "x": rng.normal(size=n),
            "count": rng.poisson(3, n),
            "shop": rng.choice(["a", "b", "c", "7"], n),
            "online": rng.random(n) < 0.3,
        }
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A kmeans model directory fitted on 2,000 rows, and a 3,000-row CSV and Parquet to score."""
    root = tmp_path_factory.mktemp("stream")
    train = make_table(2000, seed=1)
    model = synthkit.get_detector("kmeans", n_clusters=4, seed=0, missing="impute").fit(train)
    model.save(root / "km")
    data = make_table(3000, seed=2)
    data.to_csv(root / "data.csv", index=False)
    data.to_parquet(root / "data.parquet", index=False)
    return root


def run_cli(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def assert_one_line_error(code, output, *needles):
    assert code == 1, output
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    for needle in needles:
        assert needle in lines[0], output


# -- chunked == in memory ----------------------------------------------------------------------
@pytest.mark.parametrize("source", ["data.csv", "data.parquet"])
@pytest.mark.parametrize("chunksize", [97, 1000, 100_000])
def test_chunked_scores_equal_in_memory(fitted, tmp_path, source, chunksize):
    model = synthkit.load_model(fitted / "km")
    data = pd.read_csv(fitted / "data.csv")
    expected_scores = model.decision_function(data)
    expected_segments = model.segment(data)
    out = tmp_path / ("out.parquet" if source.endswith("parquet") else "out.csv")
    summary = scoring.score_file(fitted / source, model, out, chunksize=chunksize)
    got = pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out)
    assert summary["rows"] == summary["rows_read"] == len(data) == len(got)
    assert list(got.columns) == [*data.columns, "anomaly_score", "is_anomaly", "segment"]
    np.testing.assert_allclose(got["anomaly_score"], expected_scores, rtol=1e-5, atol=1e-6)
    assert (got["segment"].to_numpy() == expected_segments).all()
    borderline = np.isclose(expected_scores, model.threshold_, rtol=1e-5)
    assert (got["is_anomaly"].to_numpy() == (expected_scores > model.threshold_))[~borderline].all()
    assert summary["flagged"] == int(got["is_anomaly"].sum())
    pd.testing.assert_frame_equal(
        got[data.columns].astype({"shop": object}), data.astype({"shop": object}), check_dtype=False
    )


def test_cli_stream_matches_in_memory_cli(fitted, tmp_path):
    code, out = run_cli(
        "detect",
        fitted / "data.csv",
        "--model",
        fitted / "km",
        "-o",
        tmp_path / "s.csv",
        "--chunksize",
        500,
    )
    assert code == 0, out
    assert "rows/s" in out and "rows: 3000" in out
    code, out = run_cli(
        "detect", fitted / "data.csv", "--model", fitted / "km", "-o", tmp_path / "m.npz"
    )
    assert code == 0, out  # .npz output: read in memory
    streamed = pd.read_csv(tmp_path / "s.csv")
    with np.load(tmp_path / "m.npz") as npz:
        np.testing.assert_allclose(
            streamed["anomaly_score"], npz["anomaly_score"], rtol=1e-5, atol=1e-6
        )


def test_api_streams_a_file_with_the_rows_and_scores_of_in_memory(tmp_path):
    """synthkit.detect(path, output=..., chunksize=...) fits on a sample (here all 1,200 rows) and streams."""
    make_table(1200, seed=10).to_csv(tmp_path / "d.csv", index=False)
    in_memory = synthkit.detect(tmp_path / "d.csv", plugin="kmeans", n_clusters=3, seed=0)
    assert isinstance(
        in_memory, pd.DataFrame
    )  # a small file without chunksize or a model: read whole
    summary = synthkit.detect(
        tmp_path / "d.csv",
        plugin="kmeans",
        n_clusters=3,
        seed=0,
        output=tmp_path / "o.csv",
        chunksize=250,
        sample_rows=5000,
    )
    assert (
        summary["rows"] == summary["rows_read"] == summary["sampled_rows"] == 1200
        and summary["sample_seed"] == 0
    )
    assert summary["threshold"] == in_memory.attrs["synthkit"]["threshold"]
    streamed = pd.read_csv(tmp_path / "o.csv")
    assert list(streamed.columns) == list(in_memory.columns)
    np.testing.assert_allclose(
        streamed["anomaly_score"], in_memory["anomaly_score"], rtol=1e-5, atol=1e-6
    )
    borderline = np.isclose(in_memory["anomaly_score"], summary["threshold"], rtol=1e-5)
    assert (streamed["is_anomaly"] == in_memory["is_anomaly"])[~borderline].all()
    pd.testing.assert_frame_equal(
        streamed.drop(columns=["anomaly_score", "is_anomaly"]),
        in_memory.drop(columns=["anomaly_score", "is_anomaly"]),
        check_dtype=False,
    )


def test_api_with_a_model_streams_to_an_output_unless_it_is_npz(fitted, tmp_path):
    summary = synthkit.detect(
        fitted / "data.csv", model=fitted / "km", output=tmp_path / "o.parquet", chunksize=700
    )
    assert (
        summary["rows"] == 3000 and "rows_per_second" in summary and "sampled_rows" not in summary
    )
    assert len(pd.read_parquet(tmp_path / "o.parquet")) == 3000
    frame = synthkit.detect(
        fitted / "data.csv", model=fitted / "km", output=tmp_path / "o.npz", chunksize=700
    )
    assert isinstance(frame, pd.DataFrame) and len(frame) == 3000
    with np.load(tmp_path / "o.npz") as npz:
        np.testing.assert_allclose(npz["anomaly_score"], frame["anomaly_score"])
    with pytest.raises(OutputFileError, match="refusing to overwrite the input"):
        synthkit.detect(fitted / "data.csv", model=fitted / "km", output=fitted / "data.csv")
    rows = synthkit.detect(
        fitted / "data.csv", model=fitted / "km", chunksize=700
    )  # no output: rows come back
    assert isinstance(rows, pd.DataFrame) and len(rows) == 3000
    np.testing.assert_allclose(rows["anomaly_score"], frame["anomaly_score"])


def test_chunk_dtypes_follow_the_model_schema(tmp_path):
    """A chunk whose categories look numeric, or whose int column has a gap, still fits the schema."""
    train = pd.DataFrame(
        {"code": ["x1", "7", "y2", "8"] * 50, "n": np.arange(200), "ok": [True, False] * 100}
    )
    model = synthkit.get_detector("kmeans", n_clusters=2, missing="impute").fit(train)
    rows = ["code,n,ok"] + [
        f"{i % 10},{i},True" for i in range(50)
    ]  # first chunks: numeric-looking codes
    rows += ["x1,,False", "y2,3,", "x1,4,True"]  # a missing int and a missing bool
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    for target in ("o.csv", "o.parquet"):
        summary = scoring.score_file(tmp_path / "d.csv", model, tmp_path / target, chunksize=10)
        assert summary["rows"] == 53 and summary["rows_imputed"] == 2
    import pyarrow.parquet as pq

    assert (
        str(pq.read_schema(tmp_path / "o.parquet").field("n").type) == "int64"
    )  # one type in every chunk
    got = pd.read_parquet(tmp_path / "o.parquet")
    assert got["n"].isna().sum() == 1
    assert pd.api.types.is_string_dtype(got["code"]) and got["code"].iloc[0] == "0"
    assert pd.read_csv(tmp_path / "o.csv")["n"].dropna().eq(got["n"].dropna().to_numpy()).all()


def test_missing_policy_summary_and_override(fitted, tmp_path):
    data = make_table(300, seed=3).astype({"count": float})
    data.loc[[3, 50, 51], "x"] = np.nan
    data.loc[7, "amount"] = np.inf
    data.to_csv(tmp_path / "dirty.csv", index=False)
    code, out = run_cli(
        "detect", tmp_path / "dirty.csv", "--model", fitted / "km", "-o", tmp_path / "a.csv"
    )
    assert code == 0 and "rows with imputed values: 4" in out, out
    code, out = run_cli(
        "detect",
        tmp_path / "dirty.csv",
        "--model",
        fitted / "km",
        "--param",
        "missing=drop",
        "-o",
        tmp_path / "b.csv",
    )
    assert code == 0 and "rows dropped for missing values: 4" in out and "rows: 296" in out, out
    assert len(pd.read_csv(tmp_path / "b.csv")) == 296
    code, out = run_cli(
        "detect",
        tmp_path / "dirty.csv",
        "--model",
        fitted / "km",
        "--param",
        "missing=error",
        "--chunksize",
        100,
        "-o",
        tmp_path / "c.csv",
    )
    assert_one_line_error(code, out, "rows 1-100", "missing=impute")
    assert not (tmp_path / "c.csv").exists() and not list(tmp_path.glob(".c.csv*"))
    code, out = run_cli(
        "detect", tmp_path / "dirty.csv", "--model", fitted / "km", "--param", "n_clusters=3"
    )
    assert_one_line_error(code, out, "--model is used as saved")


def test_missing_policy_round_trips_through_save(tmp_path):
    train = make_table(500).astype({"count": float})
    train.loc[[1, 2], "count"] = np.nan
    model = synthkit.get_detector("kmeans", n_clusters=3, missing="drop").fit(train)
    assert model.n_rows_affected_ == 2
    model.save(tmp_path / "m")
    loaded = synthkit.load_model(tmp_path / "m")
    assert loaded.missing == "drop" and loaded.adapter_.missing == "drop"
    scores = loaded.decision_function(train)
    assert np.isnan(scores[[1, 2]]).all() and np.isfinite(np.delete(scores, [1, 2])).all()


def test_label_column_reports_auc(tmp_path):
    data = make_table(1000, seed=4)
    data["fraud"] = 0
    data.loc[:19, "fraud"] = 1
    data.loc[:19, "x"] += 8
    data.drop(columns="fraud").iloc[20:].pipe(
        lambda d: synthkit.get_detector("kmeans", n_clusters=3).fit(d).save(tmp_path / "m")
    )
    data.to_csv(tmp_path / "l.csv", index=False)
    code, out = run_cli(
        "detect",
        tmp_path / "l.csv",
        "--model",
        tmp_path / "m",
        "--label-column",
        "fraud",
        "--chunksize",
        300,
        "-o",
        tmp_path / "o.csv",
    )
    assert code == 0 and "ROC-AUC: " in out, out
    assert float(out.split("ROC-AUC: ")[1].split()[0]) > 0.9
    assert "fraud" in pd.read_csv(tmp_path / "o.csv").columns


# -- atomic outputs ----------------------------------------------------------------------------
def test_overwrite_and_input_protection(fitted, tmp_path):
    target = tmp_path / "o.csv"
    target.write_text("keep me\n")
    code, out = run_cli("detect", fitted / "data.csv", "--model", fitted / "km", "-o", target)
    assert_one_line_error(code, out, "already exists", "--overwrite")
    assert target.read_text() == "keep me\n"
    code, out = run_cli(
        "detect", fitted / "data.csv", "--model", fitted / "km", "-o", target, "--overwrite"
    )
    assert code == 0 and len(pd.read_csv(target)) == 3000
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode
    copy = tmp_path / "in.csv"
    copy.write_bytes((fitted / "data.csv").read_bytes())
    before = copy.read_bytes()
    code, out = run_cli("detect", copy, "--model", fitted / "km", "-o", copy, "--overwrite")
    assert_one_line_error(code, out, "refusing to overwrite the input")
    assert copy.read_bytes() == before


def test_failure_mid_stream_leaves_no_output(tmp_path, fitted):
    rows = (fitted / "data.csv").read_text().splitlines()
    rows.insert(2500, "1,2,3,a,True,EXTRA,FIELDS")
    (tmp_path / "broken.csv").write_text("\n".join(rows) + "\n")
    code, out = run_cli(
        "detect",
        tmp_path / "broken.csv",
        "--model",
        fitted / "km",
        "-o",
        tmp_path / "o.parquet",
        "--chunksize",
        500,
    )
    assert_one_line_error(code, out, "cannot read", "after row 2000")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.csv"]


def _big_csv(path, rows=120_000):
    make_table(rows, seed=5).to_csv(path, index=False)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_run_leaves_no_partial_output(fitted, tmp_path, sig):
    big = tmp_path / "big.csv"
    _big_csv(big)
    target = tmp_path / "out.csv"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "synthkit.cli._main",
            "detect",
            str(big),
            "--model",
            str(fitted / "km"),
            "-o",
            str(target),
            "--chunksize",
            "2000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # a pytest-xdist worker ignores SIGINT, and a child would inherit that: give it the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    partial = []
    while time.time() < deadline and proc.poll() is None:
        partial = [p for p in tmp_path.glob(".out.csv.*.part") if p.stat().st_size > 0]
        if partial:
            break
        time.sleep(0.05)
    assert partial, "the run never started writing"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert not target.exists()
    if (
        sig != signal.SIGKILL
    ):  # caught: the temporary file is removed too, and the exit status is 128 + sig
        assert not list(tmp_path.glob(".out.csv.*")), list(tmp_path.iterdir())
        stderr = proc.stderr.read().decode()
        assert "Traceback" not in stderr and proc.returncode == 128 + sig, (proc.returncode, stderr)
        want = (
            "Error: interrupted (Ctrl-C)" if sig == signal.SIGINT else "Error: stopped by SIGTERM"
        )
        assert stderr.strip().splitlines()[-1] == want, stderr
    else:  # SIGKILL leaves the temporary; the next run to the same output removes it
        assert list(tmp_path.glob(".out.csv.*.part"))
        args = ["detect", str(big), "--model", str(fitted / "km"), "-o", str(target)]
        rerun = subprocess.run([sys.executable, "-m", "synthkit", *args], capture_output=True)
        assert rerun.returncode == 0, rerun.stderr.decode()
        assert target.exists() and not list(tmp_path.glob(".out.csv.*")), list(tmp_path.iterdir())


# -- model directories -------------------------------------------------------------------------
def _copy_model(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


@pytest.mark.parametrize(
    "damage",
    [
        "truncated_state",
        "flipped_byte",
        "no_manifest",
        "bad_json",
        "foreign",
        "newer_format",
        "unknown_plugin",
        "bad_schema",
        "missing_state",
        "a_file",
    ],
)
def test_bad_model_directories_fail_with_one_line(fitted, tmp_path, damage):
    model = _copy_model(fitted / "km", tmp_path / "m")
    manifest = json.loads((model / "manifest.json").read_text())
    state = model / "state.npz"
    if damage == "truncated_state":
        state.write_bytes(state.read_bytes()[:100])
    elif damage == "flipped_byte":
        raw = bytearray(state.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        state.write_bytes(bytes(raw))
    elif damage == "no_manifest":
        (model / "manifest.json").unlink()
    elif damage == "bad_json":
        (model / "manifest.json").write_text('{"format": "synthkit-model", ')
    elif damage == "foreign":
        (model / "manifest.json").write_text(json.dumps({"format": "keras", "name": "x"}))
    elif damage == "newer_format":
        manifest["format_version"] = 99
    elif damage == "unknown_plugin":
        manifest["plugin"] = "nonesuch"
    elif damage == "bad_schema":
        manifest["schema"]["columns"][0]["kind"] = "complex"
    elif damage == "missing_state":
        state.unlink()
    elif damage == "a_file":
        model = tmp_path / "m.json"
        model.write_text("{}")
    if damage in ("newer_format", "unknown_plugin", "bad_schema"):
        (model / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError):
        synthkit.load_model(model)
    code, out = run_cli("detect", fitted / "data.csv", "--model", model, "-o", tmp_path / "o.csv")
    assert_one_line_error(code, out)
    assert not (tmp_path / "o.csv").exists()


def test_model_refuses_other_columns(fitted, tmp_path):
    data = pd.read_csv(fitted / "data.csv").rename(columns={"x": "y"})
    data.to_csv(tmp_path / "other.csv", index=False)
    code, out = run_cli(
        "detect", tmp_path / "other.csv", "--model", fitted / "km", "-o", tmp_path / "o.csv"
    )
    assert_one_line_error(code, out, "missing columns x", "unexpected columns y")
    data = pd.read_csv(fitted / "data.csv").assign(count=lambda d: d["count"].astype(str) + "x")
    data.to_csv(tmp_path / "types.csv", index=False)
    with pytest.raises(SchemaError, match="count"):
        scoring.score_file(tmp_path / "types.csv", fitted / "km")


# -- inputs, sampling, progress ----------------------------------------------------------------
def test_unreadable_inputs(fitted, tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(InputFileError, match="empty"):
        scoring.score_file(tmp_path / "e.csv", fitted / "km")
    (tmp_path / "h.csv").write_text("amount,x,count,shop,online\n")
    with pytest.raises(DataError, match="no rows"):
        scoring.score_file(tmp_path / "h.csv", fitted / "km")
    (tmp_path / "z.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(InputFileError):
        scoring.score_file(tmp_path / "z.csv.gz", fitted / "km")
    with pytest.raises(DataError, match="chunksize"):
        scoring.score_file(fitted / "data.csv", fitted / "km", chunksize=0)


def test_gzip_csv_round_trip(fitted, tmp_path):
    pd.read_csv(fitted / "data.csv").to_csv(tmp_path / "d.csv.gz", index=False)
    summary = scoring.score_file(
        tmp_path / "d.csv.gz", fitted / "km", tmp_path / "o.csv.gz", chunksize=999
    )
    assert summary["rows"] == 3000 and len(pd.read_csv(tmp_path / "o.csv.gz")) == 3000


def test_sample_is_seeded_uniform_and_chunk_independent(tmp_path):
    data = pd.DataFrame({"i": np.arange(10_000), "v": np.random.default_rng(0).normal(size=10_000)})
    data.to_csv(tmp_path / "d.csv", index=False)
    a = streaming.sample_rows(tmp_path / "d.csv", 500, seed=3, chunksize=777)
    b = streaming.sample_rows(tmp_path / "d.csv", 500, seed=3, chunksize=5000)
    c = streaming.sample_rows(tmp_path / "d.csv", 500, seed=4, chunksize=777)
    pd.testing.assert_frame_equal(a, b)
    assert not a["i"].equals(c["i"])
    assert len(a) == 500 and a["i"].is_monotonic_increasing and a["i"].is_unique
    assert 3500 < a["i"].mean() < 6500  # spread over the whole file, not its head
    whole = streaming.sample_rows(tmp_path / "d.csv", 20_000, seed=0, chunksize=3000)
    pd.testing.assert_frame_equal(whole, data)


def test_fit_on_sample_through_cli_is_deterministic(tmp_path):
    make_table(4000, seed=6).to_csv(tmp_path / "d.csv", index=False)
    outputs = []
    for name in ("a", "b"):
        code, out = run_cli(
            "detect",
            tmp_path / "d.csv",
            "-p",
            "kmeans",
            "--param",
            "n_clusters=3",
            "--sample-rows",
            1000,
            "--seed",
            5,
            "--chunksize",
            700,
            "-o",
            tmp_path / f"{name}.csv",
            "--save-model",
            tmp_path / f"m{name}",
        )
        assert code == 0 and "fitted on 1000 sampled rows (seed 5)" in out, out
        outputs.append((tmp_path / f"{name}.csv").read_bytes())
    assert outputs[0] == outputs[1]
    assert len(pd.read_csv(tmp_path / "a.csv")) == 4000


def test_progress_on_a_terminal_only():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = streaming.Progress("scoring", stream=stream)
        bar.update(1000, 0.25, force=True)
        bar.close()
    assert "rows/s" in tty.getvalue() and "ETA" in tty.getvalue() and "25%" in tty.getvalue()
    assert pipe.getvalue() == ""


# -- determinism -------------------------------------------------------------------------------
def test_kmeans_cli_is_deterministic(tmp_path):
    make_table(1500, seed=7).to_csv(tmp_path / "d.csv", index=False)
    outs = []
    for name in ("a", "b"):
        code, out = run_cli(
            "detect",
            tmp_path / "d.csv",
            "-p",
            "kmeans",
            "--seed",
            11,
            "-o",
            tmp_path / f"{name}.csv",
        )
        assert code == 0, out
        outs.append((tmp_path / f"{name}.csv").read_bytes())
    assert outs[0] == outs[1]


def test_autoencoder_is_deterministic():
    data = make_table(300, seed=8)
    runs = [
        synthkit.detect(
            data,
            plugin="autoencoder",
            kind="dense",
            epochs=2,
            hidden_units=(8,),
            latent_dim=2,
            batch_size=32,
            seed=3,
        )["anomaly_score"].to_numpy()
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    other = synthkit.detect(
        data,
        plugin="autoencoder",
        kind="dense",
        epochs=2,
        hidden_units=(8,),
        latent_dim=2,
        batch_size=32,
        seed=4,
    )["anomaly_score"].to_numpy()
    assert not np.array_equal(runs[0], other)


@pytest.mark.slow
def test_autoencoder_cli_is_deterministic_across_processes(tmp_path):
    make_table(2000, seed=9).to_csv(tmp_path / "d.csv", index=False)
    outs = []
    for name in ("a", "b"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "synthkit.cli._main",
                "detect",
                str(tmp_path / "d.csv"),
                "-p",
                "autoencoder",
                "--param",
                "kind=dense",
                "--param",
                "epochs=3",
                "--seed",
                "1",
                "-o",
                str(tmp_path / f"{name}.csv"),
            ],
            check=True,
            capture_output=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        )
        outs.append((tmp_path / f"{name}.csv").read_bytes())
    assert outs[0] == outs[1]


def test_the_stream_readers_refuse_a_named_pipe_before_opening_it(tmp_path):
    """Issue 32, item 11: the CLI refused a FIFO, but the streaming API opened it and waited."""
    import os

    from synthkit.errors import InputFileError

    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)  # no writer: opening it would block for ever
    with pytest.raises(InputFileError, match="is a named pipe"):
        streaming.ChunkReader(fifo)
    with pytest.raises(InputFileError, match="is a named pipe"):
        streaming.sample_rows(fifo, 10)
