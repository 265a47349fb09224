"""What the commands print: stdout holds the summary only (or the data with -o -), progress goes to
stderr, TensorFlow's start-up lines are silenced unless --verbose, loops through the API print no
tf.function retracing warnings, and --plot's time is counted and shown."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from helpers import bars
from synthkit.cli._main import cli

# what TensorFlow writes at start-up (and the image GAN's grappler at its first step)
TF_NOISE = re.compile(
    r"absl::InitializeLog|cudart_stub|cpu_feature_guard|oneDNN|cuInit|cuda_platform|"
    r"remapper|rebuild TensorFlow|^[IWE]\d{4} ",
    re.M,
)


def synthkit_run(*args, cwd=None):
    """``python -m synthkit ARGS`` as a user runs it: no TF_CPP_MIN_LOG_LEVEL of the test session."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, "-m", "synthkit", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=cwd,
    )


@pytest.fixture
def table_csv(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "t.csv"
    pd.DataFrame(
        {"a": rng.normal(size=120), "b": rng.normal(size=120), "c": rng.choice(["x", "y"], 120)}
    ).to_csv(path, index=False)
    return path


def test_detect_prints_only_the_summary_on_stdout_and_no_tensorflow_lines(table_csv):
    proc = synthkit_run(
        "detect",
        table_csv,
        "--plugin",
        "autoencoder",
        "--param",
        "epochs=1",
        "--param",
        "n_estimators=1",
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and re.fullmatch(
        r"rows: 120  flagged: \d+ \(\S+\)  threshold: \S+  time: \S+s", lines[0]
    ), proc.stdout
    assert not TF_NOISE.search(proc.stderr), proc.stderr
    assert "loss" in proc.stderr  # the epoch line: progress, on stderr


def test_image_augment_prints_only_the_summary_on_stdout_and_no_tensorflow_lines(tmp_path):
    X, y = bars(48)
    np.savez(tmp_path / "bars.npz", x=X, y=y)
    proc = synthkit_run(
        "augment",
        tmp_path / "bars.npz",
        "--plugin",
        "gan",
        "-n",
        4,
        "--label",
        1,
        "--param",
        "epochs=1",
        "--param",
        "width=8",
        "--param",
        "latent_dim=8",
        "-o",
        tmp_path / "out.npz",
    )
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"generated: 4 images  time: \S+s\nwrote \S+out\.npz\n", proc.stdout), (
        proc.stdout
    )
    assert not TF_NOISE.search(proc.stderr), proc.stderr
    assert "d_loss" in proc.stderr


def test_output_dash_writes_the_rows_to_stdout_and_the_summary_to_stderr(table_csv):
    proc = synthkit_run(
        "detect", table_csv, "--plugin", "kmeans", "--param", "n_clusters=2", "-o", "-"
    )
    assert proc.returncode == 0, proc.stderr
    from io import StringIO

    frame = pd.read_csv(StringIO(proc.stdout))
    assert len(frame) == 120 and list(frame.columns) == [
        "a",
        "b",
        "c",
        "anomaly_score",
        "is_anomaly",
        "segment",
    ]
    assert re.search(r"^rows: 120  flagged: ", proc.stderr, re.M)
    r = CliRunner().invoke(
        cli,
        [
            "augment",
            str(table_csv),
            "--plugin",
            "gan",
            "-n",
            "5",
            "-o",
            "-",
            "--param",
            "epochs=1",
            "--param",
            "batch_size=60",
            "--param",
            "max_modes=2",
        ],
    )
    assert r.exit_code == 0, r.output
    assert (
        len(pd.read_csv(__import__("io").StringIO(r.stdout))) == 5
        and "generated: 5 rows" in r.stderr
    )


def test_output_dash_refuses_images_and_streaming(tmp_path, table_csv):
    np.savez(tmp_path / "x.npz", x=np.zeros((4, 8, 8), np.uint8))
    for args in (
        ["detect", str(tmp_path / "x.npz"), "--plugin", "kmeans", "-o", "-"],
        ["detect", str(table_csv), "--plugin", "kmeans", "-o", "-", "--chunksize", "10"],
    ):
        r = CliRunner().invoke(cli, args)
        assert (
            r.exit_code == 1 and "-o -" in r.stderr and len(r.stderr.strip().splitlines()) == 1
        ), r.output


def test_verbose_is_an_option_of_every_tensorflow_command(registry):
    import click

    from synthkit.cli._main import SynthkitGroup

    group = SynthkitGroup(commands=dict(cli.commands))
    registry.add_commands(group)  # the plugin commands (denoise)
    for command in ("detect", "augment", "evaluate", "denoise"):
        r = CliRunner().invoke(group, [command, "--help"])
        assert r.exit_code == 0 and "--verbose" in r.output, (command, r.output)
    assert isinstance(group.commands["denoise"], click.Command)


def test_api_loops_print_no_retracing_warnings(caplog, capfd):
    """Keras traces new tf.functions for every new model, so fitting several through the API warned
    "N out of the last M calls ... triggered tf.function retracing"; import synthkit drops it."""
    import synthkit  # noqa: F401  (installs the filter)

    caplog.set_level(
        logging.WARNING, logger="tensorflow"
    )  # as in a user's session (a CLI test may have raised it)
    for i in range(4):  # without the filter, the warning came from the third fit on
        det = synthkit.get_detector(
            "autoencoder", epochs=1, n_estimators=1, latent_dim=2, batch_size=16, seed=i
        )
        det.fit(pd.DataFrame({"a": np.arange(32.0) + i, "b": np.arange(32.0) % 5}))
        det.decision_function(pd.DataFrame({"a": np.arange(5.0 + i), "b": np.arange(5.0 + i)}))
    tf_logger = logging.getLogger("tensorflow")
    tf_logger.warning(
        "5 out of the last 5 calls to <function f> triggered tf.function retracing. Tracing is expensive"
    )
    tf_logger.warning("another TensorFlow warning")
    messages = [r.getMessage() for r in caplog.records if r.name == "tensorflow"]
    assert not [m for m in messages if "retracing" in m], messages
    assert "another TensorFlow warning" in messages  # only the retracing warning is dropped
    assert "retracing" not in capfd.readouterr().err


def python_run(code, **env_changes):
    """``python -c CODE`` as a user runs it: no TF_CPP_MIN_LOG_LEVEL of the test session."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env
    )


FIRST_NETWORKS = """
import os, sys
import numpy as np, pandas as pd, synthkit
X = pd.DataFrame(np.random.default_rng(0).normal(size=(64, 4)), columns=list("abcd"))
synthkit.get_detector("autoencoder", epochs=1, n_estimators=1).fit(X)
out = synthkit.augment(X, plugin="gan", n=5, epochs=1, batch_size=60, max_modes=2)
hooked = any(type(f).__name__ == "_QuietImport" for f in sys.meta_path)
print(len(out), os.environ.get("TF_CPP_MIN_LOG_LEVEL"), hooked)
"""


def test_first_network_use_through_the_api_prints_no_tensorflow_lines():
    """The Python API printed TensorFlow's start-up lines (oneDNN, cpu_feature_guard, cuInit) on
    the first fit of a network; only the commands silenced them."""
    proc = python_run(FIRST_NETWORKS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["5", "3", "False"], proc.stdout  # the hook went with the import
    assert not TF_NOISE.search(proc.stderr), proc.stderr


def test_a_users_tf_cpp_min_log_level_is_respected_by_the_api():
    proc = python_run(FIRST_NETWORKS, TF_CPP_MIN_LOG_LEVEL="0")
    assert proc.returncode == 0, proc.stderr
    # neither raised nor hidden: TensorFlow writes what the user's level lets it
    assert proc.stdout.split() == ["5", "0", "False"], proc.stdout


def test_verbose_takes_back_the_api_default():
    """The registry loads (and quiets TensorFlow for the API) before a command reads --verbose."""
    proc = python_run(
        "import os, sys\n"
        "from synthkit.registry import get_registry\n"
        "from synthkit.quiet import quiet_tensorflow\n"
        "get_registry()\n"
        "hooked = lambda: any(type(f).__name__ == '_QuietImport' for f in sys.meta_path)\n"
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), hooked())\n"
        "quiet_tensorflow(verbose=True)\n"
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), hooked(), 'tensorflow' in sys.modules)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["3 True", "None False False"], proc.stdout


def test_plot_time_is_counted_and_shown_as_progress(tmp_path, monkeypatch):
    """--plot on the autoencoder spent about 43 s on t-SNE that the printed time left out."""
    import synthkit.plots._detection as plots

    real, pause = plots.tsne_plot, 2.0

    def slow_tsne(*args, **kwargs):  # t-SNE of 2,000 codes takes tens of seconds; 48 take a moment
        time.sleep(pause)
        return real(*args, **kwargs)

    monkeypatch.setattr(plots, "tsne_plot", slow_tsne)
    X, y = bars(48)
    np.savez(tmp_path / "bars.npz", x=X, y=y)
    r = CliRunner().invoke(
        cli,
        [
            "detect",
            str(tmp_path / "bars.npz"),
            "--plugin",
            "autoencoder",
            "--param",
            "epochs=1",
            "--plot",
            str(tmp_path / "plots"),
        ],
    )
    assert r.exit_code == 0, r.output
    m = re.search(r"time: ([\d.]+)s \(plots: ([\d.]+)s\)", r.stdout)
    assert m, r.stdout
    assert float(m[2]) >= pause and float(m[1]) >= float(m[2])
    assert "plotting tsne.png: t-SNE of 48 bottleneck codes" in r.stderr
    assert re.search(r"plotting tsne\.png: done in [\d.]+s", r.stderr), r.stderr
    assert "plotting" not in r.stdout and "loss" not in r.stdout  # progress stays on stderr
