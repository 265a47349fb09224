"""Bad inputs, generated with hypothesis: every case succeeds with a valid result or raises a SynthkitError.

Random DataFrames (mixed dtypes, NaN and inf, empty and single-row frames, duplicate and unicode
column names, huge values) go through fit / decision_function / predict of kmeans and a tiny dense
autoencoder; random bytes stand in for CSV, Parquet, NPZ and model files, through the API and the CLI.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthkit
from synthkit.cli import cli
from synthkit.errors import SynthkitError
from synthkit.io import read_input

COMMON = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                  derandomize=True)

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from([1e308, -1e308, 1e-308, 0.0])
INTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(max_size=6)
NAMES = st.text(min_size=0, max_size=4) | st.sampled_from(["ü", "列", "a b", "🙂", "", "a", "anomaly_score"])


@st.composite
def frames(draw, max_rows=12, max_cols=4):
    n = draw(st.integers(min_value=0, max_value=max_rows))
    k = draw(st.integers(min_value=0, max_value=max_cols))
    names = draw(st.lists(NAMES, min_size=k, max_size=k))  # duplicates allowed on purpose
    columns = []
    for _ in range(k):
        kind = draw(st.sampled_from(["float", "int", "bool", "str", "mixed", "category", "nullable", "datetime"]))
        if kind == "float":
            col = pd.Series(draw(st.lists(FLOATS, min_size=n, max_size=n)), dtype="float64")
        elif kind == "int":
            col = pd.Series(draw(st.lists(INTS, min_size=n, max_size=n)), dtype="int64")
        elif kind == "bool":
            col = pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        elif kind == "str":
            col = pd.Series(draw(st.lists(TEXT | st.none(), min_size=n, max_size=n)), dtype=object)
        elif kind == "mixed":
            col = pd.Series(draw(st.lists(TEXT | FLOATS | st.booleans() | st.none(), min_size=n, max_size=n)),
                            dtype=object)
        elif kind == "category":
            col = pd.Series(draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n)), dtype="category")
        elif kind == "nullable":
            col = pd.Series(draw(st.lists(st.integers(-5, 5) | st.none(), min_size=n, max_size=n)), dtype="Int64")
        else:
            col = pd.Series(pd.to_datetime(draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)), unit="s"))
        columns.append(col.reset_index(drop=True))
    frame = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=range(n))
    frame.columns = names
    return frame


def check_detector(make, frame, missing):
    try:
        det = make(missing).fit(frame)
    except SynthkitError:
        return
    scores = det.decision_function(frame)
    assert scores.shape == (len(frame),)
    finite = np.isfinite(scores)
    if missing == "drop":
        assert (finite | np.isnan(scores)).all()
    else:
        assert finite.all()
    labels = det.predict(frame)
    assert set(np.unique(labels)) <= {0, 1}
    assert np.isfinite(det.threshold_)
    if hasattr(det, "segment"):
        assert det.segment(frame).shape == (len(frame),)


@settings(COMMON, max_examples=120)
@given(frame=frames(), missing=st.sampled_from(["error", "impute", "drop"]))
def test_kmeans_on_random_frames(frame, missing):
    check_detector(lambda m: synthkit.get_detector("kmeans", n_clusters=2, n_init=1, max_iter=20, missing=m),
                   frame, missing)


@settings(COMMON, max_examples=12)
@given(frame=frames(max_rows=8, max_cols=3), missing=st.sampled_from(["error", "impute", "drop"]))
def test_tiny_autoencoder_on_random_frames(frame, missing):
    check_detector(lambda m: synthkit.get_detector("autoencoder", kind="dense", epochs=1, hidden_units=(4,),
                                                   latent_dim=2, batch_size=8, missing=m), frame, missing)


@settings(COMMON, max_examples=60)
@given(train=frames(max_rows=10, max_cols=3), other=frames(max_rows=10, max_cols=3))
def test_scoring_other_random_frames(train, other):
    """A model fitted on one frame refuses, or scores, a different one; never a stray exception."""
    try:
        det = synthkit.get_detector("kmeans", n_clusters=2, n_init=1, max_iter=20, missing="impute").fit(train)
    except SynthkitError:
        return
    try:
        scores = det.decision_function(other)
    except SynthkitError:
        return
    assert scores.shape == (len(other),) and np.isfinite(scores).all()


# -- random bytes as files ---------------------------------------------------------------------
MAGIC = {".csv": b"", ".parquet": b"PAR1", ".npz": b"PK\x03\x04", ".csv.gz": b"\x1f\x8b\x08\x00"}


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("bytes")
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"a": rng.normal(size=200), "b": rng.choice(["p", "q"], 200)})
    synthkit.get_detector("kmeans", n_clusters=2).fit(train).save(root / "model")
    train.to_csv(root / "data.csv", index=False)
    return root


def cli_fails_cleanly(args, allow_success=False):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exit_code == 0 and allow_success:
        return result
    assert result.exit_code == 1, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    return result


@settings(COMMON, max_examples=40)
@given(suffix=st.sampled_from(sorted(MAGIC)), body=st.binary(max_size=300), magic=st.booleans(),
       tail=st.booleans())
def test_random_bytes_as_data_files(files_dir, suffix, body, magic, tail):
    path = files_dir / f"random{suffix}"
    data = (MAGIC[suffix] if magic else b"") + body + (MAGIC[suffix] if tail and suffix == ".parquet" else b"")
    path.write_bytes(data)
    try:
        read_input(path)
    except SynthkitError:
        pass
    out = files_dir / "out.csv"
    for args in (["detect", path, "-p", "kmeans", "-o", out], ["detect", path, "--model", files_dir / "model", "-o", out]):
        if out.exists():
            out.unlink()
        result = cli_fails_cleanly(args, allow_success=True)
        if result.exit_code != 0:
            assert not out.exists()


@settings(COMMON, max_examples=40)
@given(target=st.sampled_from(["manifest.json", "state.npz"]), body=st.binary(max_size=400),
       fix_checksum=st.booleans())
def test_random_bytes_as_model_files(files_dir, tmp_path_factory, target, body, fix_checksum):
    model = tmp_path_factory.mktemp("model")
    for f in (files_dir / "model").iterdir():
        (model / f.name).write_bytes(f.read_bytes())
    (model / target).write_bytes((b"PK\x03\x04" if target == "state.npz" and fix_checksum else b"") + body)
    if target == "state.npz" and fix_checksum:  # get past the checksum, into numpy's reader
        import hashlib

        manifest = json.loads((model / "manifest.json").read_text())
        manifest["files"]["state.npz"] = hashlib.sha256((model / target).read_bytes()).hexdigest()
        (model / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SynthkitError):
        synthkit.load_model(model)
    cli_fails_cleanly(["detect", files_dir / "data.csv", "--model", model])


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=6)


@settings(COMMON, max_examples=60)
@given(data=st.data())
def test_mutated_manifests(files_dir, tmp_path_factory, data):
    """A manifest edited by hand (any value replaced by any JSON) loads and scores, or fails with one clear error."""
    model = tmp_path_factory.mktemp("model")
    for f in (files_dir / "model").iterdir():
        (model / f.name).write_bytes(f.read_bytes())
    manifest = json.loads((model / "manifest.json").read_text())
    paths = []

    def walk(node, trail):
        paths.append(trail)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, trail + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, trail + (i,))

    walk(manifest, ())
    trail = data.draw(st.sampled_from(paths[1:]))
    value = data.draw(JSON_VALUES)
    node = manifest
    for step in trail[:-1]:
        node = node[step]
    node[trail[-1]] = value
    (model / "manifest.json").write_text(json.dumps(manifest))
    frame = pd.DataFrame({"a": [0.1, 5.0, np.nan], "b": ["p", "q", "r"]})
    try:
        det = synthkit.load_model(model)
        scores = det.decision_function(frame)
        det.predict(frame)
    except SynthkitError:
        return
    assert scores.shape == (3,)


def test_cli_messages_for_missing_and_odd_paths(files_dir, tmp_path):
    cli_fails_cleanly(["detect", tmp_path / "nope.csv", "-p", "kmeans"])
    cli_fails_cleanly(["detect", tmp_path, "-p", "kmeans"])
    cli_fails_cleanly(["detect", "transactions", "--model", tmp_path / "nope"])
    cli_fails_cleanly(["detect", "transactions", "-p", "kmeans", "-o", tmp_path / "no" / "such" / "dir.csv"])
    cli_fails_cleanly(["detect", "transactions", "-p", "kmeans", "-o", tmp_path / "out.txt"])
    os.chmod(tmp_path, 0o500)
    try:
        if not os.access(tmp_path, os.W_OK):  # root can write anyway
            cli_fails_cleanly(["detect", "transactions", "-p", "kmeans", "--param", "n_clusters=2",
                               "-o", tmp_path / "o.csv"])
    finally:
        os.chmod(tmp_path, 0o700)
