"""One rule for "the same label" (``synthkit.adapters._labels``), and the places that follow it: detect's
``positive_label``, the image ``normal_class`` (``class_mask``), a conditional generator's labels and
augment's ``label``; and the one check that a label column is there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthkit
from synthkit.detection._run import class_mask
from synthkit.errors import DataError, PluginError
from synthkit.adapters._labels import (
    label_index,
    label_key,
    label_mask,
    require_label_column,
    same_label,
)

ONE = [
    1,
    1.0,
    "1",
    "1.0",
    " 1 ",
    "1.00",
    np.int64(1),
    np.uint8(1),
    np.float32(1),
    np.float64(1),
    True,
    np.bool_(True),
    "true",
    "True",
    "TRUE",
]
ZERO = [0, 0.0, "0", "0.0", -0.0, np.int32(0), False, np.bool_(False), "false", "False"]
SAME = [
    ONE,
    ZERO,
    ["Y", "y", " y ", np.str_("Y")],
    [">50K", ">50k", " >50K "],
    ["<=50K", "<=50k"],
    [0.5, "0.50", np.float64(0.5), ".5"],
    [1000, "1e3", 1000.0],
    ["Fraud", "FRAUD", "fraud"],
]


# -- the rule --------------------------------------------------------------------------------------
@pytest.mark.parametrize("group", SAME, ids=lambda g: repr(g[0]))
def test_the_same_label(group):
    assert len({label_key(v) for v in group}) == 1
    assert all(same_label(group[0], v) for v in group)


def test_different_labels():
    keys = [label_key(g[0]) for g in SAME]
    assert len(set(keys)) == len(keys)  # no two groups meet
    for a, b in [
        (1, 2),
        ("1", "10"),
        (1, 1.5),
        ("Y", "N"),
        (">50K", "<=50K"),
        (">50K", "50K"),
        ("yes", True),
        ("y", 1),
        ("no", False),
        ("1_0", 10),
        ("a b", "ab"),
        (-1, 1),
    ]:
        assert not same_label(a, b), (a, b)


def test_big_integers_stay_exact():
    assert same_label(2**64 + 1, str(2**64 + 1)) and not same_label(2**64 + 1, 2**64)


def test_label_index_returns_the_class_as_it_was():
    assert label_index("1", np.array([0, 1])) == 1
    assert label_index(True, [0.0, 1.0]) == 1
    assert label_index("y", ["N", "Y"]) == 1
    assert label_index(">50k", np.array(["<=50K", ">50K"], dtype=object)) == 1
    assert label_index("2", [0, 1]) == -1


def test_label_index_prefers_the_exact_class_and_refuses_an_ambiguous_one():
    classes = ["A", "a", "b"]
    assert [label_index(v, classes) for v in ("A", "a", "B")] == [0, 1, 2]
    with pytest.raises(DataError, match=r"label ' a' names 2 classes .*'A', 'a'"):
        label_index(" a", classes)


def test_label_mask():
    assert label_mask(np.array([1, 2, 1, 0]), "1").tolist() == [True, False, True, False]
    assert label_mask(np.array([1.0, np.nan, 2.0]), 1).tolist() == [True, False, False]
    assert label_mask(np.array(["Y", "y", "N", None], dtype=object), "y").tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert label_mask(np.array([True, False]), "true").tolist() == [True, False]
    assert label_mask(np.array([], dtype=np.int64), 1).tolist() == []


def test_require_label_column_is_one_message():
    frame = pd.DataFrame({"a": [1], "b": [2]})
    require_label_column(frame, "a")
    with pytest.raises(DataError, match=r"^label column 'c' is not in the data; columns: a, b$"):
        require_label_column(frame, "c")
    with pytest.raises(
        DataError, match=r"^label column 'c' is not in the real table; columns: a, b$"
    ):
        require_label_column(frame, "c", "the real table")


# -- detect: positive_label ------------------------------------------------------------------------
def _table(labels) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"x": rng.normal(size=len(labels)), "z": rng.normal(size=len(labels)), "c": labels}
    )


@pytest.mark.parametrize(
    "labels, given, anomaly",
    [
        ([1, 0, 0, 0] * 10, "1", 1),
        ([1, 0, 0, 0] * 10, 1.0, 1),
        ([1, 0, 0, 0] * 10, True, 1),
        ([1, 0, 0, 0] * 10, "0.0", 0),
        ([1.0, 0.0, 0.0, 0.0] * 10, "1", 1.0),
        (["1", "0", "0", "0"] * 10, 1, "1"),
        ([True, False, False, False] * 10, "true", True),
        ([True, False, False, False] * 10, 1, True),
        (["Y", "N", "N", "N"] * 10, "y", "Y"),
        ([">50K", "<=50K", "<=50K", "<=50K"] * 10, ">50k", ">50K"),
        ([">50K", "<=50K", "<=50K", "<=50K"] * 10, "<=50k", "<=50K"),
    ],
)
def test_detect_positive_label_follows_the_rule(labels, given, anomaly):
    summary = synthkit.detect(_table(labels), label_column="c", positive_label=given, seed=0).attrs[
        "synthkit"
    ]
    assert summary["anomaly_class"] == anomaly and type(summary["anomaly_class"]) is type(anomaly)
    share = np.mean([same_label(v, anomaly) for v in labels])
    assert summary["anomaly_class_share"] == pytest.approx(share)


def test_detect_missing_label_column():
    with pytest.raises(
        DataError, match=r"^label column 'label' is not in the data; columns: x, z, c$"
    ):
        synthkit.detect(_table([0, 1] * 10), label_column="label")


# -- images: normal_class ----------------------------------------------------------------------------
@pytest.mark.parametrize("normal", [1, "1", 1.0, "1.0", np.int64(1), True])
def test_class_mask_follows_the_rule(normal):
    assert class_mask(np.array([0, 1, 2, 1], dtype=np.int64), normal).tolist() == [
        False,
        True,
        False,
        True,
    ]
    assert class_mask(np.array(["0", "1", "2", "1"]), normal).tolist() == [False, True, False, True]
    assert class_mask(np.array([0.0, 1.0, 2.0, 1.0]), normal).tolist() == [False, True, False, True]


def test_class_mask_text_labels_and_none():
    assert class_mask(np.array(["cat", "Dog", "dog"]), "DOG").tolist() == [False, True, True]
    with pytest.raises(DataError, match="no rows of normal class '7'; classes present: 0, 1"):
        class_mask(np.array([0, 1]), "7")


def test_detect_images_normal_class_as_text():
    rng = np.random.default_rng(0)
    images = rng.random((30, 6, 6)).astype(np.float32)
    labels = np.array([0, 1, 2] * 10, dtype=np.int64)
    by_int = synthkit.detect(
        (images, labels), plugin="kmeans", n_clusters=2, normal_class=1, seed=0
    )
    for normal in ("1", "1.0", 1.0):  # "1.0" once matched no image: class_mask compared text
        scored = synthkit.detect(
            (images, labels), plugin="kmeans", n_clusters=2, normal_class=normal, seed=0
        )
        assert scored.attrs["synthkit"] == {**by_int.attrs["synthkit"], "normal_class": normal}
        assert scored["anomaly_score"].tolist() == by_int["anomaly_score"].tolist()
    assert "roc_auc" in by_int.attrs["synthkit"]


# -- a conditional generator, and augment's label ------------------------------------------------------
@pytest.fixture(scope="module")
def gan():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=64), "b": rng.normal(size=64)})
    return x, synthkit.get_generator(
        "gan", epochs=1, batch_size=32, width=8, latent_dim=8, pac=2, seed=0
    )


def test_generator_labels_follow_the_rule(gan):
    x, generator = gan
    generator.fit(x, np.array([0, 1] * 32, dtype=np.int64))
    assert generator._codes(7, [1, 1.0, "1", "1.0", True, np.int64(0), "false"]).tolist() == [
        1,
        1,
        1,
        1,
        1,
        0,
        0,
    ]
    assert generator._codes(3, "1").tolist() == [1, 1, 1]
    assert len(generator.sample(5, y="1.0", seed=0)) == 5
    with pytest.raises(PluginError, match="label 2 was not seen in fit; known labels: 0, 1"):
        generator.sample(2, y="2")


def test_generator_text_labels_ignore_case_but_keep_distinct_classes(gan):
    x, generator = gan
    generator.fit(x, np.array(["Y", "N"] * 32, dtype=object))
    assert generator._codes(3, ["y", " Y", "n"]).tolist() == [1, 1, 0]
    generator.fit(
        x, np.array(["A", "a"] * 32, dtype=object)
    )  # two classes the rule cannot tell apart
    assert [generator.classes_[i] for i in generator._codes(2, ["a", "A"])] == ["a", "A"]
    with pytest.raises(DataError, match="names 2 classes"):
        generator._codes(1, [" a "])


@pytest.mark.parametrize(
    "labels, given, decoded",
    [
        ([1, 0] * 32, "1", 1),
        ([1, 0] * 32, True, 1),
        (["Y", "N"] * 32, "y", "Y"),
        ([">50K", "<=50K"] * 32, ">50k", ">50K"),
    ],
)
def test_augment_label_decodes_to_the_class_as_it_was(labels, given, decoded):
    table = _table(labels)
    rows = synthkit.augment(
        table,
        plugin="gan",
        n=4,
        label_column="c",
        label=given,
        seed=0,
        epochs=1,
        batch_size=32,
        width=8,
        latent_dim=8,
        pac=2,
    )
    assert list(rows.columns) == ["x", "z", "c"]
    assert rows["c"].tolist() == [decoded] * 4 and all(
        type(v) is type(decoded) for v in rows["c"].tolist()
    )


def test_augment_missing_label_column():
    with pytest.raises(
        DataError, match=r"^label column 'label' is not in the data; columns: x, z, c$"
    ):
        synthkit.augment(_table([0, 1] * 10), label_column="label", label=1, n=2)
