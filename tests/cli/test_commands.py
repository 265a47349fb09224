"""The CLI through click's CliRunner, one real subprocess, and every user error as one clean line."""

from __future__ import annotations

from helpers import run, assert_clean_error

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from synthkit.cli._main import cli


@pytest.fixture
def small_csv(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=200),
            "y": rng.normal(size=200),
            "colour": rng.choice(["red", "blue"], 200),
            "label": (np.arange(200) < 10).astype(int),
        }
    )
    df.loc[:9, ["x", "y"]] += 6
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    return path


def test_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("plugins", "datasets", "detect", "augment"):
        assert command in result.output


def test_plugins_and_datasets_commands():
    result = run("plugins")
    assert result.exit_code == 0
    assert "kmeans (synthkit" in result.output and "detectors: autoencoder" in result.output
    result = run("datasets")
    assert result.exit_code == 0
    assert "transactions (table) splits: train, test" in result.output


def test_detect_writes_scores_and_summary(small_csv, tmp_path):
    out = tmp_path / "scores.csv"
    result = run(
        "detect",
        small_csv,
        "--plugin",
        "kmeans",
        "--label-column",
        "label",
        "--contamination",
        "0.05",
        "--param",
        "n_clusters=2",
        "--seed",
        "1",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "rows: 200  flagged: 10 (5.0%)" in result.output
    assert "ROC-AUC: 1.0000" in result.output
    scores = pd.read_csv(out)
    assert list(scores.columns) == [
        "x",
        "y",
        "colour",
        "label",
        "anomaly_score",
        "is_anomaly",
        "segment",
    ]
    assert scores["is_anomaly"].sum() == 10


@pytest.mark.parametrize("suffix", [".parquet", ".npz"])
def test_detect_output_formats(small_csv, tmp_path, suffix):
    out = tmp_path / f"scores{suffix}"
    assert run("detect", small_csv, "--plugin", "kmeans", "-o", out).exit_code == 0
    if suffix == ".parquet":
        assert len(pd.read_parquet(out)) == 200
    else:
        with np.load(out, allow_pickle=False) as npz:
            assert npz["anomaly_score"].shape == (200,) and npz["colour"].dtype.kind == "U"


def test_save_model_then_score_with_it(small_csv, tmp_path):
    model = tmp_path / "model"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert (
        run(
            "detect",
            small_csv,
            "--plugin",
            "kmeans",
            "--label-column",
            "label",
            "--save-model",
            model,
            "-o",
            first,
        ).exit_code
        == 0
    )
    result = run("detect", small_csv, "--model", model, "--label-column", "label", "-o", second)
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(first), pd.read_csv(second))


def test_detect_mnist_normal_class(real_mnist_dir, tmp_path):
    out = tmp_path / "digits.csv"
    result = run(
        "detect",
        "mnist:test",
        "--plugin",
        "kmeans",
        "--normal-class",
        "1",
        "--param",
        "n_clusters=4",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "rows: 10000" in result.output and "ROC-AUC:" in result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["index", "label", "anomaly_score", "is_anomaly", "segment"]


def test_augment_without_generators_names_installed(small_csv):
    result = run("augment", small_csv, "--plugin", "nosuchgen", "-n", "5")
    assert_clean_error(result, r"unknown generator 'nosuchgen'; installed generators:")


# -- every bad input: one line, exit 1, no traceback, no output file ------------------------------
def test_missing_file(tmp_path):
    assert_clean_error(
        run("detect", tmp_path / "absent.csv", "-o", tmp_path / "o.csv"), "no such file"
    )
    assert not (tmp_path / "o.csv").exists()


def test_unknown_dataset_name():
    assert_clean_error(
        run("detect", "nosuchdata"), r"neither a file nor a dataset; datasets: .*transactions"
    )


@pytest.mark.parametrize(
    "content,pattern",
    [
        ("a,b\n1,2\n3,4,5,6\n", "cannot read"),
        ("", "is empty"),
        ("a,b\n", "the table is empty"),
        (b"\x1f\x8b\x08garbage", "cannot read"),
    ],
)
def test_bad_csv_files(tmp_path, content, pattern):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "o.csv"
    assert_clean_error(run("detect", path, "--plugin", "kmeans", "-o", out), pattern)
    assert not out.exists()


def test_unreadable_inputs(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    assert_clean_error(run("detect", tmp_path / "folder.csv"), "is a folder")
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"not parquet at all")
    assert_clean_error(run("detect", bad, "--plugin", "kmeans"), "cannot read")
    npz = tmp_path / "x.npz"
    npz.write_bytes(b"PK\x03\x04 broken")
    assert_clean_error(run("detect", npz, "--plugin", "kmeans"), "cannot read")
    other = tmp_path / "x.txt"
    other.write_text("hello")
    assert_clean_error(run("detect", other), "unsupported file type")


def test_unknown_plugin_and_parameter(small_csv):
    assert_clean_error(
        run("detect", small_csv, "--plugin", "nope"),
        r"unknown detector 'nope'; installed detectors:",
    )
    assert_clean_error(
        run("detect", small_csv, "--plugin", "kmeans", "--param", "bogus=1"),
        "unknown parameter bogus for detector 'kmeans'",
    )
    assert_clean_error(
        run("detect", small_csv, "--plugin", "kmeans", "--param", "n_clusters=zero"),
        "n_clusters must be a positive integer",
    )


def test_model_that_does_not_fit_the_data(small_csv, tmp_path):
    model = tmp_path / "model"
    assert run("detect", small_csv, "--plugin", "kmeans", "--save-model", model).exit_code == 0
    other = tmp_path / "other.csv"
    pd.read_csv(small_csv).rename(columns={"x": "z"}).to_csv(other, index=False)
    out = tmp_path / "o.csv"
    assert_clean_error(
        run("detect", other, "--model", model, "-o", out), "missing columns x; unexpected columns z"
    )
    assert not out.exists()
    assert_clean_error(
        run("detect", small_csv, "--model", tmp_path), "not a synthkit model directory"
    )


def test_existing_output_needs_overwrite(small_csv, tmp_path):
    out = tmp_path / "o.csv"
    out.write_text("keep me")
    assert_clean_error(run("detect", small_csv, "--plugin", "kmeans", "-o", out), "already exists")
    assert out.read_text() == "keep me"
    assert run("detect", small_csv, "--plugin", "kmeans", "-o", out, "--overwrite").exit_code == 0
    assert_clean_error(
        run("detect", small_csv, "--plugin", "kmeans", "-o", small_csv, "--overwrite"),
        "refusing to overwrite the input",
    )


def test_missing_values_message_and_impute(tmp_path):
    path = tmp_path / "nan.csv"
    pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": [1, 2, 3, 4]}).to_csv(path, index=False)
    assert_clean_error(
        run("detect", path, "--plugin", "kmeans", "--param", "missing=error"),
        "missing or infinite values in columns a",
    )
    result = run(
        "detect", path, "--plugin", "kmeans", "--param", "missing=impute", "--param", "n_clusters=2"
    )
    assert result.exit_code == 0 and "rows with imputed values: 1" in result.output


def test_real_subprocess_main_command(tmp_path):
    out = tmp_path / "scores.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "synthkit",
            "detect",
            "transactions",
            "--plugin",
            "kmeans",
            "--contamination",
            "0.02",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "rows: 20000  flagged: 400 (2.0%)" in proc.stdout and "ROC-AUC:" in proc.stdout
    assert len(pd.read_csv(out)) == 20_000


def test_help_does_not_import_tensorflow():
    code = (
        "import sys; from synthkit.cli._main import main\n"
        "for args in (['--help'], ['plugins'], ['datasets']):\n"
        "    try: main(args)\n"
        "    except SystemExit: pass\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_the_default_table_run_does_not_import_tensorflow(tmp_path):
    """`synthkit detect TABLE` with no --plugin (Isolation Forest), saved and scored again, never loads TensorFlow."""
    table = tmp_path / "t.csv"
    pd.DataFrame({"amount": np.arange(200.0) % 17, "kind": ["a", "b"] * 100}).to_csv(
        table, index=False
    )
    code = (
        "import sys; from synthkit.cli._main import main\n"
        f"for args in (['detect', {str(table)!r}, '--save-model', {str(tmp_path / 'm')!r}],\n"
        f"             ['detect', {str(table)!r}, '--model', {str(tmp_path / 'm')!r}]):\n"
        "    try: main(args)\n"
        "    except SystemExit as exc: assert not exc.code, exc.code\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_plugin_commands_are_added_and_listed(registry):
    import click

    from synthkit import hookimpl

    class Commands:
        @hookimpl
        def synthkit_register_commands(self, cli):
            @cli.command()
            def hello():
                """Say hello."""
                click.echo("hello from a plugin")

    class BrokenCommands:
        @hookimpl
        def synthkit_register_commands(self, cli):
            cli.add_command(click.Command("half"))
            raise RuntimeError("no commands today")

    registry.register_plugin(Commands(), name="greeter")
    registry.register_plugin(BrokenCommands(), name="badcommands")
    group = click.Group(commands=dict(cli.commands))
    with pytest.warns(UserWarning, match="no commands today"):
        registry.add_commands(group)
    assert "half" not in group.commands
    assert CliRunner().invoke(group, ["hello"]).output == "hello from a plugin\n"
    listing = CliRunner().invoke(group, ["plugins"]).output
    assert "greeter (" in listing and "commands: hello" in listing
    assert (
        "badcommands (in-process): synthkit_register_commands failed: RuntimeError: no commands today"
        in listing
    )
