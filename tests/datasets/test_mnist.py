"""The built-in ``mnist`` dataset plugin: finding, parsing, caching and downloading MNIST, and its feature model.

Every test but the ``mnist``-marked one works on tiny synthetic files in a temporary folder, with
``HOME`` and ``KERAS_HOME`` pointing at an empty temporary folder, ``SYNTHKIT_OFFLINE=1`` and the
download function replaced by one that fails: no test reads the real home folder or the network.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
from pathlib import Path

import numpy as np
import pytest

from synthkit.errors import DatasetNotFoundError, InputFileError, PluginError
from synthkit_datasets.mnist import MnistDataset
from synthkit_datasets.mnist import features as mnist_features

MODULE = "synthkit_datasets.mnist.loader"  # where the file helpers are, for monkeypatching them


# --------------------------------------------------------------------------------------- helpers


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array (magic 0x0000 08 ndim, big-endian dims, then the data)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.tobytes()


def make_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


PREFIX = {"train": "train", "test": "t10k"}


def write_idx(folder: Path, split: str, images, labels, compress: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
        data = idx_bytes(array)
        name = f"{PREFIX[split]}-{kind}-ubyte"
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def mnist_npz_arrays(n_train=4, n_test=3):
    x_train, y_train = make_split(n_train, seed=10)
    x_test, y_test = make_split(n_test, seed=11)
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """An empty home and Keras cache, offline, no data dir, no network, and a cold file cache."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KERAS_HOME", str(home / ".keras"))
    monkeypatch.setenv("SYNTHKIT_OFFLINE", "1")
    monkeypatch.delenv("SYNTHKIT_DATA_DIR", raising=False)

    def no_network(url):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(f"{MODULE}._open_url", no_network)
    module = sys.modules[MODULE]
    module._load_idx.cache_clear()
    module._load_npz.cache_clear()
    yield home
    module._load_idx.cache_clear()
    module._load_npz.cache_clear()


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """``$SYNTHKIT_DATA_DIR`` set to an empty temporary folder; returns its (absent) ``mnist/``."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("SYNTHKIT_DATA_DIR", str(root))
    return root / "mnist"


# --------------------------------------------------------------------------------- real MNIST


@pytest.mark.mnist
def test_real_mnist_test_split(real_mnist_dir):
    ds = MnistDataset()
    assert "test" in ds.splits()
    images, labels = ds.load("test")
    assert images.shape == (10_000, 28, 28)
    assert images.dtype == np.uint8
    assert labels.shape == (10_000,)
    assert labels.dtype == np.int64
    assert set(np.unique(labels).tolist()) == set(range(10))
    assert images.max() == 255 and images.min() == 0
    assert str(real_mnist_dir) in ds.location()


# ------------------------------------------------------------------------------ IDX files


def test_metadata():
    ds = MnistDataset()
    assert ds.name == "mnist"
    assert ds.kind == "image"
    assert ds.description


def test_idx_gz_round_trip(data_dir):
    train = make_split(5, seed=1)
    test = make_split(3, seed=2)
    write_idx(data_dir, "train", *train)
    write_idx(data_dir, "test", *test)
    ds = MnistDataset()
    assert ds.splits() == ["train", "test"]

    images, labels = ds.load("train")
    assert images.shape == (5, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5,) and labels.dtype == np.int64
    np.testing.assert_array_equal(images, train[0])
    np.testing.assert_array_equal(labels, train[1])

    images, labels = ds.load("test")
    np.testing.assert_array_equal(images, test[0])
    np.testing.assert_array_equal(labels, test[1])

    images, labels = ds.load()  # every split, train first
    assert images.shape == (8, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(images, np.concatenate([train[0], test[0]]))
    np.testing.assert_array_equal(labels, np.concatenate([train[1], test[1]]))


def test_uncompressed_idx(data_dir):
    test = make_split(4, seed=3)
    write_idx(data_dir, "test", *test, compress=False)
    images, labels = MnistDataset().load("test")
    np.testing.assert_array_equal(images, test[0])
    np.testing.assert_array_equal(labels, test[1])


def test_only_test_split_present(data_dir):
    test = make_split(5, seed=4)
    write_idx(data_dir, "test", *test)
    ds = MnistDataset()
    assert ds.splits() == ["test"]
    images, labels = ds.load()  # None = the available splits only; no download
    np.testing.assert_array_equal(images, test[0])
    np.testing.assert_array_equal(labels, test[1])
    location = ds.location()
    assert "\n" not in location
    assert str(data_dir) in location


def test_missing_split_offline_says_where(data_dir, isolated):
    write_idx(data_dir, "test", *make_split(5, seed=5))
    ds = MnistDataset()
    with pytest.raises(DatasetNotFoundError) as info:
        ds.load("train")
    message = str(info.value)
    assert "\n" not in message
    assert str(data_dir) in message
    assert "train-images-idx3-ubyte.gz" in message
    assert str(isolated / ".keras" / "datasets") in message  # the Keras cache folder
    assert "SYNTHKIT_OFFLINE" in message


def test_nothing_anywhere_offline(isolated):
    ds = MnistDataset()
    assert ds.splits() == []
    location = ds.location()
    assert "\n" not in location and "unset" in location
    with pytest.raises(DatasetNotFoundError, match=r"\$SYNTHKIT_DATA_DIR/mnist/ \(now: unset\)"):
        ds.load("test")
    with pytest.raises(DatasetNotFoundError):
        ds.load()


def test_unknown_split(data_dir):
    write_idx(data_dir, "test", *make_split(2, seed=6))
    with pytest.raises(PluginError, match=r"'validation'.*train, test"):
        MnistDataset().load("validation")


def test_truncated_idx_gz(data_dir):
    write_idx(data_dir, "test", *make_split(5, seed=7))
    path = data_dir / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-40])  # cut the gzip stream short
    with pytest.raises(InputFileError, match="t10k-images-idx3-ubyte.gz"):
        MnistDataset().load("test")


def test_truncated_idx_data(data_dir):
    images, labels = make_split(5, seed=8)
    write_idx(data_dir, "test", images, labels)
    path = data_dir / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(images)[:-100]))  # a valid gzip of a short IDX file
    with pytest.raises(InputFileError, match=r"t10k-images-idx3-ubyte\.gz.*truncated"):
        MnistDataset().load("test")


def test_truncated_idx_header(data_dir):
    write_idx(data_dir, "test", *make_split(5, seed=8), compress=False)
    (data_dir / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08")
    with pytest.raises(InputFileError, match="t10k-labels-idx1-ubyte"):
        MnistDataset().load("test")


def test_wrong_magic_number(data_dir):
    images, labels = make_split(5, seed=9)
    write_idx(data_dir, "test", images, labels)
    # the labels file where the images file should be
    (data_dir / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(
        InputFileError,
        match=r"t10k-images-idx3-ubyte\.gz is not an MNIST images file: it holds a 1-D array",
    ):
        MnistDataset().load("test")


def test_images_and_labels_disagree(data_dir):
    images, labels = make_split(5, seed=12)
    write_idx(data_dir, "test", images, labels[:4])
    with pytest.raises(InputFileError, match="5 images but 4 labels"):
        MnistDataset().load("test")


def test_loaded_arrays_are_cached_and_callers_get_copies(data_dir):
    images, labels = make_split(5, seed=13)
    write_idx(data_dir, "test", images, labels)
    ds = MnistDataset()
    first, first_labels = ds.load("test")
    first[:] = 0
    first_labels[:] = 0
    module = sys.modules[MODULE]
    assert module._load_idx.cache_info().currsize == 1
    second, second_labels = MnistDataset().load("test")
    assert module._load_idx.cache_info().hits >= 1
    np.testing.assert_array_equal(second, images)
    np.testing.assert_array_equal(second_labels, labels)


# -------------------------------------------------------------------------------------- npz


def test_npz_in_data_dir(data_dir):
    arrays = mnist_npz_arrays()
    data_dir.mkdir(parents=True)
    (data_dir / "mnist.npz").write_bytes(npz_bytes(**arrays))
    ds = MnistDataset()
    assert ds.splits() == ["train", "test"]
    images, labels = ds.load("train")
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, arrays["x_train"])
    np.testing.assert_array_equal(labels, arrays["y_train"])
    images, labels = ds.load()
    assert images.shape == (7, 28, 28)
    np.testing.assert_array_equal(labels, np.concatenate([arrays["y_train"], arrays["y_test"]]))


def test_idx_files_take_precedence_over_npz(data_dir):
    test = make_split(2, seed=14)
    write_idx(data_dir, "test", *test)
    (data_dir / "mnist.npz").write_bytes(npz_bytes(**mnist_npz_arrays()))
    ds = MnistDataset()
    assert ds.splits() == ["train", "test"]
    np.testing.assert_array_equal(ds.load("test")[0], test[0])  # from the IDX files
    assert ds.load("train")[0].shape == (4, 28, 28)  # from mnist.npz


def test_npz_with_pickled_objects_is_refused(data_dir):
    data_dir.mkdir(parents=True)
    arrays = mnist_npz_arrays()
    arrays["y_test"] = np.array([object()] * 3, dtype=object)
    (data_dir / "mnist.npz").write_bytes(npz_bytes(**arrays))
    with pytest.raises(InputFileError, match="mnist.npz"):
        MnistDataset().load("test")


def test_corrupted_npz(data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "mnist.npz").write_bytes(npz_bytes(**mnist_npz_arrays())[:100])
    ds = MnistDataset()
    with pytest.raises(InputFileError, match="mnist.npz"):
        ds.load("train")


def test_npy_named_npz(data_dir):
    data_dir.mkdir(parents=True)
    np.save(data_dir / "mnist.npy", np.zeros((2, 28, 28), dtype=np.uint8))
    (data_dir / "mnist.npy").rename(data_dir / "mnist.npz")
    with pytest.raises(InputFileError, match="not an .npz archive"):
        MnistDataset().load("test")


def test_keras_cache_npz(isolated):
    arrays = mnist_npz_arrays()
    cache = isolated / ".keras" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(npz_bytes(**arrays))
    ds = MnistDataset()  # SYNTHKIT_DATA_DIR is unset: step 1 is skipped
    assert ds.splits() == ["train", "test"]
    np.testing.assert_array_equal(ds.load("test")[1], arrays["y_test"])
    assert str(cache / "mnist.npz") in ds.location()


def test_home_keras_cache_without_keras_home(isolated, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    arrays = mnist_npz_arrays()
    cache = isolated / ".keras" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(npz_bytes(**arrays))
    np.testing.assert_array_equal(MnistDataset().load("train")[0], arrays["x_train"])


# --------------------------------------------------------------------------------- download


def serve(monkeypatch, payload: bytes, calls: list):
    def fake_open_url(url):
        calls.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(f"{MODULE}._open_url", fake_open_url)


def test_download_with_wrong_checksum_leaves_nothing(isolated, monkeypatch):
    monkeypatch.delenv("SYNTHKIT_OFFLINE")
    calls: list = []
    serve(monkeypatch, npz_bytes(**mnist_npz_arrays()), calls)
    ds = MnistDataset()
    with pytest.raises(DatasetNotFoundError, match="SHA-256") as info:
        ds.load("train")
    assert "\n" not in str(info.value)
    assert len(calls) == 1 and calls[0].endswith("/mnist.npz")
    cache = isolated / ".keras" / "datasets"
    assert not cache.exists() or list(cache.iterdir()) == []
    assert ds.splits() == []


def test_download_with_right_checksum_loads(isolated, monkeypatch):
    monkeypatch.delenv("SYNTHKIT_OFFLINE")
    arrays = mnist_npz_arrays()
    payload = npz_bytes(**arrays)
    monkeypatch.setattr(f"{MODULE}.MNIST_SHA256", hashlib.sha256(payload).hexdigest())
    calls: list = []
    serve(monkeypatch, payload, calls)
    ds = MnistDataset()
    assert ds.splits() == []  # listing never downloads
    assert "\n" not in ds.location()
    assert calls == []
    images, labels = ds.load("test")
    assert len(calls) == 1
    np.testing.assert_array_equal(images, arrays["x_test"])
    np.testing.assert_array_equal(labels, arrays["y_test"])
    cache = isolated / ".keras" / "datasets"
    assert [p.name for p in cache.iterdir()] == ["mnist.npz"]  # no temporary file left
    assert ds.splits() == ["train", "test"]
    ds.load("train")
    assert len(calls) == 1  # now served from the cache


def test_download_only_for_missing_split(data_dir, monkeypatch):
    monkeypatch.delenv("SYNTHKIT_OFFLINE")
    write_idx(data_dir, "test", *make_split(3, seed=15))
    calls: list = []
    serve(monkeypatch, b"", calls)
    ds = MnistDataset()
    ds.load("test")
    ds.load()  # every *available* split: test only, no download
    assert calls == []


def test_network_failure(data_dir, monkeypatch):
    monkeypatch.delenv("SYNTHKIT_OFFLINE")

    def unreachable(url):
        raise OSError("Name or service not known")

    monkeypatch.setattr(f"{MODULE}._open_url", unreachable)
    with pytest.raises(DatasetNotFoundError, match="connect to the internet") as info:
        MnistDataset().load("train")
    message = str(info.value)
    assert "\n" not in message and str(data_dir) in message and "Name or service" in message


def test_offline_never_downloads(isolated, monkeypatch):
    calls: list = []
    serve(monkeypatch, b"", calls)
    for value in ("1", "true"):
        monkeypatch.setenv("SYNTHKIT_OFFLINE", value)
        with pytest.raises(DatasetNotFoundError):
            MnistDataset().load("test")
    assert calls == []


# ----------------------------------------------------------------------------------- plugin


def test_registers_through_the_hook():
    module = sys.modules[MnistDataset.__module__]  # the entry point, synthkit_datasets.mnist
    registered = []
    module.synthkit_register_datasets(register=lambda name, obj: registered.append((name, obj)))
    assert [name for name, _ in registered] == ["mnist"]
    assert isinstance(registered[0][1], MnistDataset)


# ------------------------------------------------------------------------------ feature model


def test_shipped_classifier_loads_without_pickle_and_is_small():
    path = mnist_features.CLASSIFIER_FILE
    assert path.is_file() and path.stat().st_size < 1_000_000 and path.parent.name == "mnist"
    with np.load(path, allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    _, _, info = mnist_features.load_mnist_classifier()
    assert info["test_accuracy"] > 0.97 and info["train_images"] == 8000


def test_feature_model_is_the_shipped_classifier():
    model = MnistDataset().feature_model()
    assert (
        isinstance(model, mnist_features.MnistFeatureModel)
        and model.name == "MNIST classifier features"
    )
    images = np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)
    assert model.features(images).shape == (5, mnist_features.FEATURE_DIM)
    assert model.predict(images).shape == (5,)


@pytest.mark.mnist
def test_classifier_on_real_mnist(real_mnist_dir):
    from synthkit.evaluation import as_unit_images

    images, labels = MnistDataset().load("test")
    predicted = MnistDataset().feature_model().predict(as_unit_images(images[8000:8500]))
    assert (predicted == labels[8000:8500]).mean() > 0.95
