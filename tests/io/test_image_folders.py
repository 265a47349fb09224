"""Folders of PNG/JPEG images in (as_data, detect) and out (augment -o DIR/), on patches of two real photos."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from synthkit.cli._main import cli
from synthkit.errors import InputFileError
from synthkit.io._reading import as_data

PER_CLASS = 40
SIZE = 32


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def assert_one_line_error(result, pattern: str):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert re.search(pattern, lines[0]), lines[0]


def _patches(photo: np.ndarray, n: int, size: int, rng) -> list[np.ndarray]:
    rows = rng.integers(0, photo.shape[0] - size, n)
    cols = rng.integers(0, photo.shape[1] - size, n)
    return [photo[r : r + size, c : c + size] for r, c in zip(rows, cols)]


@pytest.fixture(scope="module")
def photos():
    from sklearn.datasets import load_sample_images

    return dict(zip(["china", "flower"], load_sample_images().images))


@pytest.fixture
def labelled(tmp_path, photos):
    """``images/china/`` and ``images/flower/``: 40 real 32x32 patches of each photo, the last 5 of each as JPEG."""
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for name, photo in photos.items():
        (root / name).mkdir(parents=True)
        for i, patch in enumerate(_patches(photo, PER_CLASS, SIZE, rng)):
            suffix = ".jpg" if i >= PER_CLASS - 5 else ".png"
            Image.fromarray(patch).save(root / name / f"{i:02d}{suffix}")
    return root


def test_labelled_folder_reads_as_images_labels_and_paths(labelled, photos):
    data = as_data(labelled)
    assert data.images.shape == (2 * PER_CLASS, SIZE, SIZE, 3) and data.images.dtype == np.uint8
    assert list(np.unique(data.labels, return_counts=True)[1]) == [PER_CLASS, PER_CLASS]
    assert data.paths[0] == "china/00.png" and data.paths[-1] == "flower/39.jpg"
    assert all(p.split("/")[0] == label for p, label in zip(data.paths, data.labels))
    first = np.asarray(Image.open(labelled / "china" / "00.png"))
    np.testing.assert_array_equal(data.images[0], first)  # PNG is lossless: the pixels as written


def test_flat_folder_has_no_labels_and_grayscale_keeps_one_channel(tmp_path, photos):
    rng = np.random.default_rng(1)
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, patch in enumerate(_patches(photos["flower"], 6, 16, rng)):
        Image.fromarray(patch).convert("L").save(flat / f"g{i}.png")
    (flat / "notes.txt").write_text("not an image, not read")
    data = as_data(str(flat))
    assert data.labels is None and data.images.shape == (6, 16, 16, 1)
    assert data.paths == [f"g{i}.png" for i in range(6)]


def test_rgba_becomes_rgb(tmp_path, photos):
    folder = tmp_path / "rgba"
    folder.mkdir()
    patch = photos["china"][:20, :20]
    Image.fromarray(np.dstack([patch, np.full(patch.shape[:2], 128, np.uint8)])).save(
        folder / "a.png"
    )
    data = as_data(folder)
    assert data.images.shape == (1, 20, 20, 3)
    np.testing.assert_array_equal(data.images[0], patch)


def test_mixed_sizes_resize_to_the_most_common_with_a_note(tmp_path, photos, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for i, patch in enumerate(
        _patches(photos["china"], 5, SIZE, rng) + _patches(photos["china"], 2, 48, rng)
    ):
        Image.fromarray(patch).save(folder / f"{i}.png")
    data = as_data(folder)
    assert data.images.shape == (7, SIZE, SIZE, 3)
    note = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(note) == 1 and "2 of 7 images" in note[0] and f"{SIZE}x{SIZE}" in note[0]


def test_corrupt_image_is_one_line_naming_the_file(labelled):
    (labelled / "flower" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    with pytest.raises(InputFileError, match=r"broken\.png"):
        as_data(labelled)
    assert_one_line_error(
        run("detect", labelled, "--plugin", "kmeans"), r"cannot read image .*broken\.png"
    )


def test_empty_folder_and_mixed_layout_are_refused(tmp_path, labelled):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="is a folder with no PNG or JPEG images"):
        as_data(tmp_path / "empty")
    Image.fromarray(np.zeros((SIZE, SIZE, 3), np.uint8)).save(labelled / "stray.png")
    with pytest.raises(InputFileError, match=r"both in subfolders and at its top \(stray\.png\)"):
        as_data(labelled)


def test_detect_folder_writes_a_row_per_image_with_its_path(labelled, tmp_path):
    out = tmp_path / "scores.csv"
    result = run("detect", labelled, "--plugin", "kmeans", "-o", out)
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out)
    assert list(scores.columns)[:4] == [
        "path",
        "label",
        "anomaly_score",
        "is_anomaly",
    ]  # kmeans adds its segment
    assert len(scores) == 2 * PER_CLASS
    assert scores["path"].tolist() == as_data(labelled).paths
    assert (scores["path"].str.split("/").str[0] == scores["label"]).all()
    assert (
        scores["anomaly_score"].notna().all()
        and scores["is_anomaly"].isin([0, 1, True, False]).all()
    )


def test_augment_writes_pngs_into_a_label_folder(labelled, tmp_path):
    out = tmp_path / "out"
    result = run(
        "augment",
        labelled,
        "--plugin",
        "gan",
        "--param",
        "epochs=1",
        "-n",
        10,
        "--label",
        "china",
        "--seed",
        0,
        "-o",
        f"{out}/",
    )
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["china"]
    written = sorted((out / "china").iterdir())
    assert len(written) == 10 and all(p.suffix == ".png" for p in written)
    back = as_data(out)
    assert back.images.shape == (10, SIZE, SIZE, 3) and set(back.labels) == {"china"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left

    again = run("augment", labelled, "--plugin", "gan", "-n", 3, "-o", f"{out}/")
    assert_one_line_error(again, r"already exists; remove it or pass --overwrite")
    replaced = run(
        "augment",
        labelled,
        "--plugin",
        "gan",
        "--param",
        "epochs=1",
        "-n",
        4,
        "--overwrite",
        "-o",
        out,
    )
    assert replaced.exit_code == 0, replaced.output
    assert sum(1 for p in out.rglob("*.png")) == 4


def test_augment_refuses_to_write_into_its_input(labelled):
    assert_one_line_error(
        run("augment", labelled, "--plugin", "gan", "-n", 3, "-o", f"{labelled}/china/"),
        r"refusing to write images into or over the input",
    )


def test_plots_of_a_folder_find_each_row_by_its_path(labelled, tmp_path):
    import synthkit
    from synthkit.errors import DataError
    from synthkit.plots._detection import detection_plots

    frame = synthkit.detect(str(labelled), plugin="kmeans")
    written = detection_plots(frame.iloc[::-1].head(20), labelled, tmp_path / "plots")
    assert {"scores.png", "most_anomalous.png"} <= {p.rsplit("/", 1)[-1] for p in map(str, written)}
    with pytest.raises(DataError, match="give the images as data"):
        detection_plots(frame, None, tmp_path / "p2")
    renamed = frame.assign(path=frame["path"].str.replace("china/", "other/"))
    with pytest.raises(DataError, match=r"scores image 'other/00\.png'"):
        detection_plots(renamed, labelled, tmp_path / "p3")


def test_image_size_resizes_every_image(labelled, tmp_path, capsys):
    from synthkit.io._reading import read_input

    data = read_input(labelled, image_size=(24, 20))
    assert data.images.shape == (2 * PER_CLASS, 24, 20, 3)
    assert "80 of 80 images" in capsys.readouterr().err
    out = tmp_path / "scores.csv"
    result = run("detect", labelled, "--plugin", "kmeans", "--image-size", 24, 20, "-o", out)
    assert result.exit_code == 0, result.output
    assert "resized to 24x20 (height x width), as asked" in result.stderr
    assert len(pd.read_csv(out)) == 2 * PER_CLASS


def test_skip_bad_files_leaves_out_what_does_not_decode(labelled, tmp_path):
    (labelled / "flower" / "broken.png").write_bytes(b"not a png at all")
    out = tmp_path / "scores.csv"
    result = run("detect", labelled, "--plugin", "kmeans", "--skip-bad-files", "-o", out)
    assert result.exit_code == 0, result.output
    assert (
        "skipped 1 unreadable image file" in result.stderr and "flower/broken.png" in result.stderr
    )
    scores = pd.read_csv(out)
    assert len(scores) == 2 * PER_CLASS and "flower/broken.png" not in set(scores["path"])


def test_folder_options_need_a_folder(tmp_path):
    table = tmp_path / "t.csv"
    pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) % 3}).to_csv(table, index=False)
    for command in (["detect", table, "--plugin", "kmeans"], ["augment", table, "-n", 3]):
        assert_one_line_error(run(*command, "--image-size", 8, 8), r"apply to a folder of images")
        assert_one_line_error(run(*command, "--skip-bad-files"), r"apply to a folder of images")
