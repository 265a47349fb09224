"""The built-in ``mnist`` dataset: 70,000 handwritten digits, 28x28 grey-scale, labels 0-9.

``MnistDataset`` is what the ``synthkit_register_datasets`` hook registers: ``loader`` finds, reads
and downloads the files (where they are looked for is told there), ``features`` is the small
classifier that image evaluation measures MNIST-like images with (``MnistDataset.feature_model``).

If a split can be found nowhere, ``load`` raises ``DatasetNotFoundError`` saying where to put the
files; ``splits()`` and ``location()`` never download. ``load`` hands out copies of the arrays
cached per process, so callers may modify what they get.

Importing this package is cheap (a few standard-library modules); numpy is imported on loading,
Keras when the feature model is first used.
"""

from __future__ import annotations

import os

from synthkit.dataset import Dataset
from synthkit.errors import DatasetNotFoundError, PluginError
from synthkit.hookspecs import hookimpl
from synthkit_datasets.mnist import loader


class MnistDataset(Dataset):
    """MNIST handwritten digits: ``load(split)`` gives uint8 images (n, 28, 28) and int64 labels."""

    name = "mnist"
    kind = "image"
    description = (
        "MNIST handwritten digits: 28x28 grey-scale images, labels 0-9 (60,000 train, 10,000 test)"
    )
    label_column = None

    def feature_model(self):
        """The shipped MNIST classifier (``features.MnistFeatureModel``); its weights load on first use."""
        from synthkit_datasets.mnist.features import MnistFeatureModel

        return MnistFeatureModel()

    def splits(self) -> list[str]:
        """The splits loadable now without downloading, in the order train, test."""
        return [s for s in loader.SPLITS if loader.find_source(s) is not None]

    def location(self) -> str:
        """One line: where each split is loaded from, or where to put the files."""
        found: dict[str, list[str]] = {}
        missing = []
        for split in loader.SPLITS:
            source = loader.find_source(split)
            if source is None:
                missing.append(split)
                continue
            if source[0] == "idx":
                where = f"{source[1].parent}{os.sep} (IDX files)"
            else:
                where = str(source[1])
            found.setdefault(where, []).append(split)
        parts = [f"{' and '.join(splits)} from {where}" for where, splits in found.items()]
        if missing:
            which = "MNIST" if len(missing) == len(loader.SPLITS) else " and ".join(missing)
            fetch = (
                "SYNTHKIT_OFFLINE is set, so it is not downloaded"
                if loader.offline()
                else f"downloaded on first load to {loader.keras_dirs()[0] / loader.NPZ_NAME}"
            )
            only = missing[0] if len(missing) == 1 else None
            parts.append(
                f"{which} not here ({fetch}); to use local files, {loader.where_to_put(only)}"
            )
        return "; ".join(parts)

    def load(self, split: str | None = None):
        """``(images, labels)``: uint8 (n, 28, 28), int64 (n,); ``None``: every available split."""
        if split is not None and split not in loader.SPLITS:
            raise PluginError(
                f"unknown MNIST split {split!r}: choose one of {', '.join(loader.SPLITS)} "
                "(or no split for every available one)"
            )
        if split is None:
            wanted = self.splits()
            if not wanted:  # nothing here: fetch the whole data set
                wanted = list(loader.SPLITS)
        else:
            wanted = [split]
        pairs = [self._load_split(s) for s in wanted]
        if len(pairs) == 1:
            images, labels = pairs[0]
            return images.copy(), labels.copy()
        import numpy as np

        return (
            np.concatenate([p[0] for p in pairs]),
            np.concatenate([p[1] for p in pairs]),
        )

    def _load_split(self, split: str):
        """The cached arrays of ``split``, downloaded first when they are nowhere here."""
        source = loader.find_source(split)
        if source is None:
            source = self._fetch(split)
        return loader.load_source(source, split)

    def _fetch(self, split: str):
        """Download ``mnist.npz`` into the Keras cache, or explain where to put the files."""
        what = f"MNIST split {split!r} not found"
        if loader.offline():
            raise DatasetNotFoundError(
                f"{what}: {loader.where_to_put(split)}, or unset SYNTHKIT_OFFLINE to download it"
            )
        dest = loader.keras_dirs()[0] / loader.NPZ_NAME
        try:
            loader.download(dest)
        except loader.DownloadFailed as exc:
            raise DatasetNotFoundError(
                f"{what}: {loader.where_to_put(split)}, or connect to the internet to download it "
                f"({exc})"
            ) from exc
        source = loader.find_source(split)
        if source is None:  # pragma: no cover - the verified file always holds both splits
            raise DatasetNotFoundError(f"{what}: the downloaded {dest} does not hold it")
        return source


@hookimpl
def synthkit_register_datasets(register):
    """The entry point's hook: register the ``mnist`` dataset."""
    register("mnist", MnistDataset())
