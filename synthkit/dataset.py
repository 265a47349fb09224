"""The dataset contract: what a dataset plugin registers with ``synthkit_register_datasets``."""

from __future__ import annotations


class Dataset:
    """A named data set that ``synthkit.load_dataset`` and the CLI can load by name.

    Subclasses set ``name``, ``kind`` (``"table"`` or ``"image"``), ``description`` and, for tables
    with a known anomaly or class label, ``label_column``; and implement ``splits()``,
    ``location()`` and ``load(split)``.

    - ``load(split)`` returns a pandas DataFrame for tables, and a tuple ``(images, labels)`` of
      numpy arrays for images (uint8 images of shape (n, h, w) or (n, h, w, c); int labels or None).
      ``split=None`` returns every available split, concatenated in the order of ``splits()``.
    - ``splits()`` lists the splits that can be loaded now, without downloading (may be empty).
    - ``location()`` says in one line where the data is loaded from, or where to put it.
    - Loading must not import TensorFlow; listing (``splits``, ``location``) must be cheap.
    """

    name: str = ""
    kind: str = "table"
    description: str = ""
    label_column: str | None = None

    def splits(self) -> list[str]:
        raise NotImplementedError

    def location(self) -> str:
        raise NotImplementedError

    def load(self, split: str | None = None):
        raise NotImplementedError
