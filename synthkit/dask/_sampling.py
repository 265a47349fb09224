"""A fitted table generator's rows drawn in seeded shards on the workers."""

from __future__ import annotations
import numpy as np
import pandas as pd
from synthkit.dask._models import import_dask, load, model_ref
from synthkit.errors import DataError


def shard_plan(n: int, shards: int, seed: int | None) -> list[tuple[int, int]]:
    """(rows, seed) per shard: ``n`` split as evenly as possible, seeds spawned from ``seed``."""
    sizes = [len(part) for part in np.array_split(np.arange(n), shards)]
    seeds = [
        int(s.generate_state(1)[0])
        for s in np.random.SeedSequence(0 if seed is None else seed).spawn(shards)
    ]
    return [(size, s) for size, s in zip(sizes, seeds) if size]


def _sample_shard(ref, size: int, shard_seed: int, label, label_column) -> pd.DataFrame:
    """One shard's rows, drawn on a worker."""
    frame = load(ref, "generator").sample(size, y=label, seed=shard_seed)
    if label_column is not None:
        frame.insert(len(frame.columns), label_column, np.full(len(frame), label))
    return frame


def augment(
    model, n: int, shards: int | None = None, seed: int | None = 0, label=None, label_column=None
):
    """``n`` synthetic rows of a fitted table generator, drawn in seeded shards on the workers.

    A lazy Dask DataFrame with one partition per shard. ``model`` is a model directory (each worker
    process loads it once; the same path on every worker) or a fitted generator. ``shards`` defaults
    to the current client's number of workers (1 without a client). Shard i draws its share of ``n``
    with the i-th seed spawned from ``seed`` (``numpy.random.SeedSequence``), so the same seed and
    shard count give the same rows, whichever worker draws them. ``label`` picks the class of a
    conditional generator; ``label_column`` adds it as a column.
    """
    from synthkit.base import check_n
    from synthkit.synthesis._run import _match_label

    dask, dd = import_dask()
    n = check_n(n)
    ref, generator = model_ref(model, "generator")
    if getattr(generator.adapter_, "kind", "table") != "table":
        raise DataError("synthkit.dask.augment draws table rows; for images use synthkit.augment")
    if label is not None and getattr(generator, "classes_", None) is not None:
        label = _match_label(label, generator.classes_)
    if shards is None:
        shards = _workers()
    if (
        isinstance(shards, bool)
        or not isinstance(shards, (int, np.integer))
        or not 1 <= shards <= n
    ):
        raise DataError(f"shards must be a whole number from 1 to n ({n}), got {shards!r}")
    meta = _sample_shard(generator, 1, 0, label, label_column).iloc[:0]
    carried = ref if isinstance(ref, str) else dask.delayed(ref, pure=True)
    parts = [
        dask.delayed(_sample_shard, pure=True)(carried, size, s, label, label_column)
        for size, s in shard_plan(n, int(shards), seed)
    ]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _workers() -> int:
    """The current distributed client's number of workers, or 1."""
    try:
        from distributed import get_client

        return max(1, len(get_client().scheduler_info()["workers"]))
    except (ImportError, ValueError):
        return 1
