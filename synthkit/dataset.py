"""The dataset contract: what a dataset plugin registers with ``synthkit_register_datasets``."""

from __future__ import annotations


class Dataset:
    """A named data set that ``synthkit.load_dataset`` and the CLI can load by name.

    Subclasses set ``name``, ``kind`` (``"table"`` or ``"image"``), ``description`` and, for tables
    with a known anomaly or class label, ``label_column``; and implement ``splits()``,
    ``location()`` and ``load(split)``. Image datasets may also implement ``feature_model()``.

    - ``load(split)`` returns a pandas DataFrame for tables, and a tuple ``(images, labels)`` of
      numpy arrays for images (uint8 images of shape (n, h, w) or (n, h, w, c); int labels or None).
      ``split=None`` returns every available split, concatenated in the order of ``splits()``.
    - ``splits()`` lists the splits that can be loaded now, without downloading (may be empty).
    - ``location()`` says in one line where the data is loaded from, or where to put it.
    - ``feature_model()`` returns the model that image evaluation (``synthkit evaluate`` with this
      dataset as REAL, ``synthkit.evaluation.image_report(..., features=name)``) measures images
      like this dataset's with, or None (the default: such images cannot be evaluated). It is an
      object with ``features(images)``, giving a float (n, d) array for float32 images of shape
      (n, h, w, c) in [0, 1], on which FID and KID are computed; optionally ``predict(images)``,
      giving the integer class of each image, for the classifier accuracy on the labels asked for;
      and optionally ``name``, what the features are, for the printed report.
    - Loading must not import TensorFlow; listing (``splits``, ``location``) and ``feature_model()``
      must be cheap (a feature model loads its weights when it is first used).
    """

    name: str = ""
    kind: str = "table"
    description: str = ""
    label_column: str | None = None

    def splits(self) -> list[str]:
        """The splits loadable now, without downloading."""
        raise NotImplementedError

    def location(self) -> str:
        """One line: where the data is loaded from, or where to put it."""
        raise NotImplementedError

    def load(self, split: str | None = None):
        """A DataFrame (tables) or ``(images, labels)`` (images) of ``split``, or of every split for None."""
        raise NotImplementedError

    def feature_model(self):
        """The model image evaluation measures this dataset's images with; None when there is none."""
        return None
