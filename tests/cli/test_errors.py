"""Issue 20, tracebacks and leftovers: every user error is one line on stderr and exit 1, found
before anything trains, and a failed run leaves no output behind."""

from __future__ import annotations

import atexit
import errno
import functools
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import eager_tensorflow
from helpers import assert_clean_error, run

import synthkit
from synthkit.errors import ModelFileError, PluginError, SchemaError, SynthkitError

TINY_GAN = {"epochs": 1, "batch_size": 40, "pac": 2, "latent_dim": 4}


def tiny_table(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n).round(2),
            "y": rng.normal(size=n).round(2),
            "colour": rng.choice(["red", "blue"], n),
            "label": (np.arange(n) % 4 == 0).astype(int),
        }
    )


@functools.lru_cache(maxsize=None)
def tiny_models() -> Path:
    """A folder, made once per test session, holding ``gan/`` (a one-epoch table GAN conditional on
    ``label``), ``kmeans/`` (a detector) and ``small.csv`` (their training table)."""
    root = Path(tempfile.mkdtemp(prefix="synthkit-tiny-models-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    df = tiny_table()
    df.to_csv(root / "small.csv", index=False)
    with eager_tensorflow():  # one epoch of a few rows: faster than tracing the training step
        synthkit.get_generator("gan", **TINY_GAN).fit(df.drop(columns="label"), df["label"]).save(
            root / "gan"
        )
    synthkit.get_detector("kmeans", n_clusters=2, n_init=1).fit(df.drop(columns="label")).save(
        root / "kmeans"
    )
    return root


@pytest.fixture
def models():
    return tiny_models()


@pytest.fixture
def small_csv(models, tmp_path):
    path = tmp_path / "small.csv"
    shutil.copy(models / "small.csv", path)
    return path


@pytest.fixture
def images_npz(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "images.npz"
    np.savez(path, x=rng.integers(0, 256, (20, 8, 8), dtype=np.uint8), y=np.arange(20) % 2)
    return path


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a detector or generator starts fitting."""

    def boom(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__} started fitting; the error should come first")

    from synthkit.base._detector import BaseDetector
    from synthkit.base._generator import BaseGenerator

    monkeypatch.setattr(BaseDetector, "fit", boom)
    monkeypatch.setattr(BaseGenerator, "fit", boom)


def run_plugin_command(*args):
    """``run`` for the commands plugins add (``denoise``), through a group like the installed CLI's."""
    from click.testing import CliRunner

    from synthkit.cli._main import SynthkitGroup, cli
    from synthkit.registry import get_registry

    group = SynthkitGroup(commands=dict(cli.commands))
    get_registry().add_commands(group)
    return CliRunner().invoke(group, list(map(str, args)))


def leftovers(folder: Path, before: set) -> set:
    return {p.name for p in folder.iterdir()} - before


# -- 1. a model directory of the other kind --------------------------------------------------------
def test_detect_with_a_generator_model(models, small_csv, tmp_path):
    out = tmp_path / "o.csv"
    assert_clean_error(
        run("detect", small_csv, "--model", models / "gan", "-o", out),
        r"holds a generator \('gan'\); detect needs a detector model",
    )
    assert not out.exists()
    assert_clean_error(
        run("detect", small_csv, "--model", models / "gan", "--chunksize", 10),
        r"holds a generator \('gan'\)",
    )
    with pytest.raises(
        ModelFileError, match=r"holds a generator \('gan'\); detect needs a detector"
    ):
        synthkit.detect(small_csv, model=models / "gan")
    with pytest.raises(PluginError, match="not a detector"):
        synthkit.detect(small_csv, model=synthkit.load_model(models / "gan"))
    from synthkit.detection._scoring import score_file

    with pytest.raises(ModelFileError, match=r"holds a generator"):
        score_file(small_csv, str(models / "gan"))


def test_augment_and_denoise_with_a_detector_model(models, small_csv, images_npz, tmp_path):
    out = tmp_path / "o.csv"
    assert_clean_error(
        run("augment", small_csv, "--model", models / "kmeans", "-n", 5, "-o", out),
        r"holds a detector \('kmeans'\); augment needs a generator model",
    )
    assert not out.exists()
    with pytest.raises(
        ModelFileError, match=r"holds a detector \('kmeans'\); augment needs a generator"
    ):
        synthkit.augment(small_csv, n=5, model=models / "kmeans")
    with pytest.raises(PluginError, match="not a generator"):
        synthkit.augment(small_csv, n=5, model=synthkit.load_model(models / "kmeans"))
    assert_clean_error(
        run_plugin_command("denoise", images_npz, "--model", models / "kmeans"),
        r"holds a detector \('kmeans'\); denoise needs a generator model",
    )


# -- 2. an INPUT that does not match the saved generator ---------------------------------------------
def test_augment_refuses_input_unlike_the_model(models, small_csv, images_npz, tmp_path):
    out = tmp_path / "o.npz"
    assert_clean_error(
        run("augment", images_npz, "--model", models / "gan", "-n", 5, "-o", out),
        r"the model makes a table of 3 columns .* but INPUT images.npz holds images of shape \(8, 8\)",
    )
    assert not out.exists()
    other = tmp_path / "other.csv"
    pd.read_csv(small_csv).rename(columns={"x": "amount"}).to_csv(other, index=False)
    assert_clean_error(
        run(
            "augment",
            other,
            "--model",
            models / "gan",
            "-n",
            5,
            "--label-column",
            "label",
            "--label",
            1,
            "-o",
            tmp_path / "o.csv",
        ),
        "does not match the saved model: missing columns x; unexpected columns amount",
    )
    assert not (tmp_path / "o.csv").exists()
    assert_clean_error(
        run("augment", small_csv, "--model", models / "gan", "-n", 5),
        "unexpected columns label; if 'label' is the column the model is conditional on",
    )
    with pytest.raises(SchemaError, match="the model makes a table"):
        synthkit.augment(np.zeros((4, 8, 8), np.uint8), n=3, model=models / "gan")
    # the matching INPUT works, and its label column comes back
    result = run(
        "augment",
        small_csv,
        "--model",
        models / "gan",
        "-n",
        5,
        "--label-column",
        "label",
        "--label",
        1,
        "-o",
        tmp_path / "o.csv",
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "o.csv")
    assert list(rows.columns) == ["x", "y", "colour", "label"] and (rows["label"] == 1).all()


def test_augment_refuses_images_unlike_an_image_model(registry, tmp_path, images_npz):
    from helpers import ToyPlugin

    registry.register_plugin(ToyPlugin(), name="toy")
    rng = np.random.default_rng(1)
    synthkit.get_generator("bootstrap").fit(rng.integers(0, 256, (10, 6, 6), dtype=np.uint8)).save(
        tmp_path / "img"
    )
    assert_clean_error(
        run("augment", images_npz, "--model", tmp_path / "img", "-n", 3, "-o", tmp_path / "o.npz"),
        r"the model makes images 6x6x1, but INPUT images.npz holds images of shape \(8, 8\)",
    )
    table = tmp_path / "t.csv"
    tiny_table().to_csv(table, index=False)
    assert_clean_error(
        run("augment", table, "--model", tmp_path / "img", "-n", 3),
        r"the model makes images 6x6x1, but INPUT t.csv holds a table",
    )
    assert not (tmp_path / "o.npz").exists()


# -- 3. -n is bounded up front -----------------------------------------------------------------------
@pytest.mark.parametrize("n", ["99999999999999999999", "10000001", "0", "-3"])
def test_n_is_bounded_before_training(small_csv, tmp_path, no_training, n):
    out = tmp_path / "o.csv"
    assert_clean_error(
        run("augment", small_csv, "--plugin", "gan", "-n", n, "-o", out),
        r"n must be an integer from 1 to 10,000,000, got -?\d+$",
    )
    assert not out.exists()


def test_n_is_bounded_in_the_api(no_training):
    for n in (10**20, 0, -1, 2.5, True, "5"):
        with pytest.raises(PluginError, match="n must be an integer from 1 to 10,000,000"):
            synthkit.augment(tiny_table(), plugin="gan", n=n)


# -- 4. an unwritable place --------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_output_in_an_unwritable_place(small_csv, models, no_training):
    assert_clean_error(
        run("detect", small_csv, "--plugin", "kmeans", "-o", "/proc/o.csv"),
        r"cannot write /proc/o.csv: folder /proc is not writable",
    )
    assert_clean_error(
        run(
            "augment",
            small_csv,
            "--model",
            models / "gan",
            "-n",
            3,
            "--label-column",
            "label",
            "--label",
            1,
            "-o",
            "/proc/o.csv",
        ),
        r"cannot write /proc/o.csv",
    )
    assert_clean_error(
        run("detect", small_csv, "--plugin", "kmeans", "--save-model", "/proc/m"),
        r"cannot write /proc/m: folder /proc is not writable",
    )
    assert_clean_error(
        run("detect", small_csv, "--plugin", "kmeans", "--plot", "/proc/plots"),
        r"cannot write /proc/plots: folder /proc is not writable",
    )
    assert not os.path.exists("/proc/o.csv")


def test_writing_that_fails_late_is_one_line(small_csv, tmp_path, monkeypatch):
    """An OSError from the file system while writing (disk full, a vanished folder) is one line too."""
    import tempfile as tempfile_module

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile_module, "mkstemp", full)
    from synthkit.io._writing import write_table

    with pytest.raises(SynthkitError, match="cannot write .*o.csv: No space left on device"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "o.csv")


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")  # as write() raises it: no file name


@pytest.mark.parametrize("where", ["in-memory -o", "streamed -o", "--save-model", "--plot"])
def test_a_full_disk_is_one_line_and_leaves_nothing(small_csv, tmp_path, monkeypatch, where):
    """Issue 32, item 3: ENOSPC met mid-write (its OSError names no file) is one line, not a traceback."""
    import matplotlib.figure

    import synthkit.io._model_dirs
    import synthkit.io._writing

    out, model, plots = tmp_path / "o.csv", tmp_path / "m", tmp_path / "plots"
    args = ["-o", out]
    if where in ("in-memory -o", "streamed -o"):  # one CSV writer for both paths
        monkeypatch.setattr(synthkit.io._writing.CsvSink, "write", _disk_full)
    if where == "streamed -o":
        args += ["--chunksize", 10]
    elif where == "--save-model":
        monkeypatch.setattr(synthkit.io._model_dirs.np, "savez", _disk_full)
        args += ["--save-model", model]
    else:
        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _disk_full)
        args += ["--plot", plots]
    before = {p.name for p in tmp_path.iterdir()}
    shown = (
        "o.csv"
        if "-o" in where
        else where.strip("-").replace("save-model", "m").replace("plot", "plots")
    )
    result = run("detect", small_csv, "-p", "kmeans", *args)
    assert result.exit_code == 1 and "Traceback" not in result.output + result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()  # --plot shows its progress line first
    assert lines[-1].startswith("Error: ") and all(
        line.startswith("plotting ") for line in lines[:-1]
    ), lines
    assert re.search(
        rf"cannot write .*{shown}\S*: No space left on device; free some space", lines[-1]
    ), lines
    assert leftovers(tmp_path, before) == set()


def test_ctrl_c_exits_130_with_one_line(small_csv, tmp_path, monkeypatch):
    """Issue 32, item 4: Ctrl-C is one line and exit status 130 (the shell's 128 + SIGINT), not 1."""
    from synthkit.base._detector import BaseDetector

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(BaseDetector, "fit", interrupt)
    before = {p.name for p in tmp_path.iterdir()}
    result = run("detect", small_csv, "-p", "kmeans", "-o", tmp_path / "o.csv")
    assert result.exit_code == 130, (result.exit_code, result.output)
    assert result.stderr.strip().splitlines() == ["Error: interrupted (Ctrl-C)"], result.stderr
    assert leftovers(tmp_path, before) == set()


# -- 5. every output path checked before fitting; outputs written last -------------------------------
def test_output_paths_under_a_file_are_refused_before_fitting(
    small_csv, images_npz, tmp_path, no_training
):
    out = tmp_path / "o.csv"
    afile = tmp_path / "notes.txt"
    afile.write_text("a file")
    before = {p.name for p in tmp_path.iterdir()}
    for args, pattern in [
        (
            ["--save-model", afile / "m"],
            r"cannot write .*notes.txt/m: .*notes.txt is a file, not a folder",
        ),
        (["--save-model", afile], r"cannot write a model to .*notes.txt: it is a file"),
        (["--save-model", tmp_path], r"exists and is not a synthkit model directory"),
        (["--plot", afile], r"cannot write plots to .*notes.txt: it is a file"),
        (["--plot", small_csv], "refusing to overwrite the input"),
        (["--plot", afile / "plots"], r"notes.txt is a file, not a folder"),
        (["--plot", tmp_path / "o.csv"], r"-o .*o.csv and --plot .*o.csv overlap"),
    ]:
        assert_clean_error(
            run("detect", small_csv, "--plugin", "kmeans", "-o", out, *args), pattern
        )
        assert not out.exists()
    assert_clean_error(
        run("detect", small_csv, "-p", "kmeans", "-o", afile / "o.csv"), "notes.txt is a file"
    )
    for args, pattern in [
        (["--save-model", afile / "m"], r"notes.txt is a file, not a folder"),
        (["--grid", tmp_path / "g.png"], r"--grid draws images; this input is a table"),
        (["-o", tmp_path / "g.png"], r"use one of"),
    ]:
        assert_clean_error(
            run(
                "augment",
                small_csv,
                "--plugin",
                "gan",
                "-n",
                3,
                "--label-column",
                "label",
                "--label",
                1,
                *args,
                *(["-o", out] if "-o" not in args else []),
            ),
            pattern,
        )
        assert not out.exists()
    assert_clean_error(
        run(
            "augment",
            images_npz,
            "--plugin",
            "gan",
            "-n",
            3,
            "--grid",
            afile / "g.png",
            "-o",
            tmp_path / "o.npz",
        ),
        r"notes.txt is a file, not a folder",
    )
    assert leftovers(tmp_path, before) == set()


def test_images_must_be_written_as_npz_before_training(images_npz, tmp_path, no_training):
    assert_clean_error(
        run("augment", images_npz, "--plugin", "gan", "-n", 3, "-o", tmp_path / "o.csv"),
        r"images are written as .npz",
    )
    assert_clean_error(
        run_plugin_command("denoise", images_npz, "--save-model", images_npz / "m"),
        r"images.npz is a file, not a folder",
    )


def test_failed_save_or_plot_leaves_no_output(small_csv, tmp_path, monkeypatch):
    out, model, plots = tmp_path / "o.csv", tmp_path / "deep" / "m", tmp_path / "plots"
    before = {p.name for p in tmp_path.iterdir()}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    import synthkit.plots._detection
    from synthkit.base._detector import BaseDetector

    monkeypatch.setattr(synthkit.plots._detection, "detection_plots", broken)
    result = run(
        "detect", small_csv, "-p", "kmeans", "-o", out, "--save-model", model, "--plot", plots
    )
    assert result.exit_code != 0 and not out.exists() and not model.exists()
    assert leftovers(tmp_path, before) == set()
    monkeypatch.setattr(BaseDetector, "save", broken)
    result = run("detect", small_csv, "-p", "kmeans", "-o", out, "--save-model", model)
    assert result.exit_code != 0 and not out.exists()
    assert leftovers(tmp_path, before) == set()
    # a streamed run saves its model before it scores: a failed save leaves no scores behind
    result = run(
        "detect", small_csv, "-p", "kmeans", "--chunksize", 10, "-o", out, "--save-model", model
    )
    assert result.exit_code != 0 and not out.exists()
    assert leftovers(tmp_path, before) == set()


def test_existing_plot_folder_keeps_only_what_it_had(small_csv, tmp_path, monkeypatch):
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "mine.txt").write_text("keep")
    import synthkit.plots._detection

    real = synthkit.plots._detection.detection_plots

    def half(
        result, data, folder, **kwargs
    ):  # without the progress lines: the error is the one line
        real(result, data, folder)
        raise SynthkitError("plotting failed half-way")

    monkeypatch.setattr(synthkit.plots._detection, "detection_plots", half)
    assert_clean_error(
        run("detect", small_csv, "-p", "kmeans", "-o", tmp_path / "o.csv", "--plot", plots),
        "plotting failed half-way",
    )
    assert sorted(p.name for p in plots.iterdir()) == ["mine.txt"]
    assert not (tmp_path / "o.csv").exists()


def test_augment_failed_save_leaves_no_output(small_csv, tmp_path, monkeypatch):
    from synthkit.base._generator import BaseGenerator

    def broken(self, path):
        Path(path).mkdir(parents=True)
        raise SynthkitError("saving failed")

    monkeypatch.setattr(BaseGenerator, "save", broken)
    out, model = tmp_path / "o.csv", tmp_path / "m"
    with eager_tensorflow():
        result = run(
            "augment",
            small_csv,
            "--plugin",
            "gan",
            "-n",
            3,
            "--label-column",
            "label",
            "--label",
            1,
            *sum((["--param", f"{k}={v}"] for k, v in TINY_GAN.items()), []),
            "--param",
            "verbose=0",  # no epoch lines (progress, on stderr) before the error line
            "-o",
            out,
            "--save-model",
            model,
        )
    assert_clean_error(result, "saving failed")
    assert not out.exists() and not model.exists()


# -- 6. generator parameters that are not numbers -----------------------------------------------------
@pytest.mark.parametrize(
    "plugin,param",
    [
        ("gan", "ema_decay"),
        ("gan", "learning_rate"),
        ("gan", "max_seconds"),
        ("gan", "mismatch_weight"),
        ("diffusion", "ema_decay"),
        ("diffusion", "label_dropout"),
        ("diffusion", "guidance"),
        ("diffusion", "learning_rate"),
        ("diffusion", "max_seconds"),
    ],
)
@pytest.mark.parametrize("value", ["abc", "[1,2]", "NaN"])
def test_generator_parameters_that_are_not_numbers(small_csv, tmp_path, plugin, param, value):
    out = tmp_path / "o.csv"
    assert_clean_error(
        run(
            "augment",
            small_csv,
            "--plugin",
            plugin,
            "-n",
            3,
            "--param",
            f"{param}={value}",
            "-o",
            out,
        ),
        rf"^Error: {param} must be a number",
    )
    assert not out.exists()


@pytest.mark.parametrize("plugin", ["gan", "diffusion"])
def test_generator_parameters_checked_before_training(plugin, monkeypatch):
    if plugin == "gan":
        import synthkit_plugins.gan.table as where

        monkeypatch.setattr(
            where, "fit_table_gan", lambda *a, **k: pytest.fail("trained before validating")
        )
    else:
        import synthkit_plugins.diffusion.model as where

        monkeypatch.setattr(
            where, "train", lambda *a, **k: pytest.fail("trained before validating")
        )
    for params in (
        {"ema_decay": "abc"},
        {"ema_decay": None},
        {"learning_rate": 0},
        {"max_seconds": -1},
        {"seed": "x"},
        {"seed": -1},
        {"verbose": "loud"},
    ):
        with pytest.raises(PluginError, match=f"{next(iter(params))} must be"):
            synthkit.get_generator(plugin, **params).fit(tiny_table(12))


# -- 7. a class not in the data, before training -------------------------------------------------------
def test_label_not_in_the_data_is_refused_before_training(
    small_csv, images_npz, tmp_path, no_training
):
    out = tmp_path / "o.csv"
    assert_clean_error(
        run(
            "augment",
            small_csv,
            "--plugin",
            "gan",
            "-n",
            3,
            "--label-column",
            "label",
            "--label",
            99,
            "-o",
            out,
        ),
        r"label '99' is not among the classes in the data: 0, 1$",
    )
    assert_clean_error(
        run(
            "augment",
            images_npz,
            "--plugin",
            "gan",
            "-n",
            3,
            "--label",
            7,
            "-o",
            tmp_path / "o.npz",
        ),
        r"label '7' is not among the classes in the data: 0, 1$",
    )
    assert_clean_error(
        run("augment", small_csv, "--plugin", "gan", "-n", 3, "--label-column", "label"),
        r"conditional on 'label': pass label",
    )
    assert not out.exists() and not (tmp_path / "o.npz").exists()
    with pytest.raises(SynthkitError, match="not among the classes in the data"):
        synthkit.augment(tiny_table(), plugin="gan", n=3, label_column="label", label="yes")


# -- 8. bounds on sizes, reasons and seeds (issue 32, item 5) -------------------------------------------
def test_an_absurd_image_size_is_refused_before_reading(tmp_path, no_training, monkeypatch):
    from PIL import Image

    from synthkit.io._reading import read_input

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(folder / f"{i}.png")
    monkeypatch.setattr(
        Image.Image, "resize", lambda *a, **k: pytest.fail("resized before the size was checked")
    )
    for size in (["100000", "100000"], ["8", "4097"]):
        assert_clean_error(
            run("detect", folder, "-p", "kmeans", "--image-size", *size, "-o", tmp_path / "o.csv"),
            rf"--image-size {' '.join(size)} \(image_size=\) must be a height and a width, each "
            r"from 1 to 4096 pixels",
        )
    with pytest.raises(SynthkitError, match="each from 1 to 4096 pixels"):
        read_input(folder, image_size=(5000, 8))
    assert not (tmp_path / "o.csv").exists()


def test_explain_asks_for_at_most_one_reason_per_column(small_csv, models, tmp_path, no_training):
    out = tmp_path / "o.csv"
    # small.csv: x, y, colour and label; with --label-column label, three columns to explain
    assert_clean_error(
        run(
            "detect",
            small_csv,
            "-p",
            "kmeans",
            "--label-column",
            "label",
            "--explain",
            1000,
            "-o",
            out,
        ),
        r"--explain 1000 \(explain=1000\) asks for more reasons than the 3 columns "
        r"the model scores; give at most 3$",
    )
    assert_clean_error(
        run(
            "detect",
            small_csv,
            "--model",
            models / "kmeans",
            "--label-column",
            "label",
            "--explain",
            4,
            "-o",
            out,
        ),
        r"more reasons than the 3 columns the model scores",
    )
    assert not out.exists()


def test_explain_limit_in_the_api(small_csv, models):
    frame = pd.read_csv(small_csv).drop(columns="label")
    with pytest.raises(SynthkitError, match="more reasons than the 3 columns"):
        synthkit.detect(frame, model=str(models / "kmeans"), explain=12)
    out = synthkit.detect(frame, model=str(models / "kmeans"), explain=3)
    assert [c for c in out.columns if c.startswith("reason_")] == [
        "reason_1",
        "reason_2",
        "reason_3",
    ]


BAD_SEEDS = (-1, 2**32, 99999999999999999999, 1.5, "7", True)


@pytest.mark.parametrize("kind", ["detectors", "generators"])
def test_one_rule_for_seeds_in_every_plugin(kind, monkeypatch):
    """Every detector and generator with a seed refuses one outside [0, 2**32 - 1] with the same line,
    before anything trains; the bounds themselves are taken."""
    from synthkit.registry import get_registry

    make = synthkit.get_detector if kind == "detectors" else synthkit.get_generator
    seeded = [
        n
        for n, (cls, _) in sorted(get_registry().entries(kind).items())
        if "seed" in cls().get_params()
    ]
    assert len(seeded) >= (6 if kind == "detectors" else 2), seeded
    for name in seeded:
        cls = get_registry().get(kind, name)
        monkeypatch.setattr(
            cls, "_fit", lambda *a, **k: pytest.fail(f"{name} trained with a bad seed")
        )
        for seed in BAD_SEEDS:
            with pytest.raises(
                PluginError,
                match=r"^seed must be an integer in \[0, 4294967295\] \(0 to 2\*\*32 - 1\) "
                rf"or null, got {re.escape(repr(seed))}$",
            ):
                make(name, seed=seed).fit(tiny_table(12).drop(columns="label"))
        for seed in (0, 2**32 - 1, None):
            make(name, seed=seed)._validate_params("table")


def test_one_rule_for_seeds_in_sample_and_the_cli(models, small_csv, tmp_path, no_training):
    gan = synthkit.load_model(models / "gan")
    for seed in (-1, 2**32):
        with pytest.raises(PluginError, match=r"seed must be an integer in \[0, 4294967295\]"):
            gan.sample(2, y=1, seed=seed)
    assert len(gan.sample(2, y=1, seed=2**32 - 1)) == 2
    for seed in ("-1", "99999999999999999999"):
        assert_clean_error(
            run("detect", small_csv, "-p", "kmeans", "--seed", seed, "-o", tmp_path / "o.csv"),
            rf"^Error: --seed must be an integer in \[0, 4294967295\] \(0 to 2\*\*32 - 1\), got {seed}$",
        )
        assert_clean_error(
            run(
                "augment",
                small_csv,
                "--model",
                models / "gan",
                "-n",
                2,
                "--label-column",
                "label",
                "--label",
                1,
                "--seed",
                seed,
                "-o",
                tmp_path / "o.csv",
            ),
            r"--seed must be an integer",
        )
        assert_clean_error(
            run("evaluate", small_csv, small_csv, "--seed", seed), r"--seed must be an integer"
        )
    assert not (tmp_path / "o.csv").exists()


# -- 9. no output replaced without --overwrite (issue 32, item 6) ---------------------------------------
def test_an_existing_model_directory_needs_overwrite(
    small_csv, models, images_npz, tmp_path, no_training
):
    model = tmp_path / "m"
    shutil.copytree(models / "gan", model)  # a model of another plugin and kind
    before = sorted(p.name for p in model.iterdir())
    for command in (
        ["detect", small_csv, "-p", "kmeans"],
        ["augment", small_csv, "-p", "gan", "-n", 2, "--label-column", "label", "--label", 1],
    ):
        assert_clean_error(
            run(*command, "--save-model", model, "-o", tmp_path / "o.csv"),
            rf"{re.escape(str(model))} already holds a saved model; remove it, choose another folder "
            r"or pass --overwrite$",
        )
    assert_clean_error(
        run_plugin_command("denoise", images_npz, "--save-model", model),
        "already holds a saved model",
    )
    assert sorted(p.name for p in model.iterdir()) == before and not (tmp_path / "o.csv").exists()
    assert synthkit.load_model(model).model_kind == "generator"


def test_overwrite_replaces_a_model_directory(small_csv, models, tmp_path):
    model = tmp_path / "m"
    shutil.copytree(models / "gan", model)
    result = run("detect", small_csv, "-p", "kmeans", "--save-model", model, "--overwrite")
    assert result.exit_code == 0, result.output
    assert synthkit.load_model(model).model_kind == "detector"


def test_existing_plots_need_overwrite(small_csv, tmp_path, monkeypatch):
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "scores.png").write_bytes(b"mine")
    (plots / "notes.txt").write_text("keep")
    import synthkit.plots._detection

    monkeypatch.setattr(
        synthkit.plots._detection,
        "detection_plots",
        lambda *a, **k: pytest.fail("plotted over scores.png"),
    )
    assert_clean_error(
        run("detect", small_csv, "-p", "kmeans", "--plot", plots),
        r"plots/scores.png already exists; remove it, choose another folder or pass --overwrite$",
    )
    assert (plots / "scores.png").read_bytes() == b"mine"
    monkeypatch.undo()
    result = run("detect", small_csv, "-p", "kmeans", "--plot", plots, "--overwrite")
    assert result.exit_code == 0, result.output
    assert (plots / "scores.png").read_bytes()[:4] == b"\x89PNG" and (
        plots / "notes.txt"
    ).read_text() == "keep"


def test_plugin_with_a_saved_model_is_refused(small_csv, models, tmp_path, no_training):
    out = tmp_path / "o.csv"
    for plugin in ("kmeans", "iforest"):
        assert_clean_error(
            run("detect", small_csv, "--model", models / "kmeans", "--plugin", plugin, "-o", out),
            rf"--plugin {plugin} sets up a new fit; --model .*kmeans is used as saved, with its own "
            r"detector: leave out --plugin$",
        )
    assert_clean_error(
        run(
            "augment",
            small_csv,
            "--model",
            models / "gan",
            "--plugin",
            "gan",
            "-n",
            2,
            "--label-column",
            "label",
            "--label",
            1,
            "-o",
            out,
        ),
        r"leave out --plugin$",
    )
    assert not out.exists()
