"""SDV's synthesizers for benchmarks/tabular_synthesis.py, in a module a spawned process can import."""

from __future__ import annotations

import time
import warnings

import numpy as np

SDV = {
    "ctgan": "CTGANSynthesizer",
    "tvae": "TVAESynthesizer",
    "copula": "GaussianCopulaSynthesizer",
}


def sdv_rows(name: str, seen, n: int, seed: int, params: dict):
    """(N rows, fit seconds, sample seconds) of an SDV synthesizer fitted on the minority rows ``seen``."""
    import random

    import sdv.single_table
    import torch
    from sdv.metadata import Metadata

    for set_seed in (random.seed, np.random.seed, torch.manual_seed):
        set_seed(seed)
    data = {"minority": seen}  # SDV 2 takes and gives a dict of tables
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synthesizer = getattr(sdv.single_table, SDV[name])(
            Metadata.detect_from_dataframes(data, infer_keys=None), **params
        )
        started = time.perf_counter()
        synthesizer.fit(data)
        fit_s, started = time.perf_counter() - started, time.perf_counter()
        rows = synthesizer.sample(num_rows=n)["minority"]
    return rows, fit_s, time.perf_counter() - started
