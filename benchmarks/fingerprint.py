"""Fingerprint of what synthkit computes: a sha256 per case of scores, thresholds, labels and samples.

A refactor that only moves code must leave every number bitwise the same. This script runs small,
seeded cases through the public API only (``synthkit.get_detector``, ``get_generator``,
``load_model``, ``load_dataset``, ``detect`` and ``python -m synthkit detect``), so the same file
runs before and after a move, and writes one hash per case; ``--compare`` then says which differ.

- ``cli/...``: ``synthkit detect`` on a CSV of transactions with the default detector, the output
  file's bytes; then with ``--save-model`` and scored again with ``--model`` (a streamed run).
- ``api/detect``: ``synthkit.detect`` on a DataFrame, with ``explain``.
- ``detector/NAME/DATA``: fit on a transactions subset (label dropped) or MNIST test images; the
  scores of held-out rows (``decision_function``, ``predict``), ``decision_scores_``, ``threshold_``
  and ``labels_``; ``.../reloaded``: the same from the model saved and loaded back. ``kmeans-ae``
  is ``kmeans`` with ``features="autoencoder"``.
- ``generator/NAME/DATA``: fit with labels, ``sample(n, y, seed)`` (rows with their column names
  and dtypes, or image bytes); ``.../reloaded``: sampled again after save and load.

Every fit and sample is seeded, and TensorFlow runs on one thread with deterministic ops, so two
runs of the same code give the same hashes.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/fingerprint.py --out before.json
    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/fingerprint.py --out after.json
    python benchmarks/fingerprint.py --compare before.json after.json   # exit 1 if any differ

``--only TEXT`` runs the cases whose name contains TEXT.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Before TensorFlow loads (in this process and in the CLI's): quiet, one thread, deterministic ops.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TABLE_FIT_ROWS = 2000
TABLE_SCORE_ROWS = 500
CLI_ROWS = 3000
IMAGE_FIT = 500
IMAGE_SCORE = 200
GEN_TABLE_ROWS = 300  # of which every fraud row among the first rows, up to GEN_TABLE_FRAUD
GEN_TABLE_FRAUD = 60
GEN_IMAGES = 300
SEED = 0

TABLE_DETECTORS = {
    "iforest": {},
    "knn": {},
    "lof": {},
    "ecod": {},
    "kmeans": {},
    "ensemble": {},
    "autoencoder": {"epochs": 2},
}
IMAGE_DETECTORS = {
    "kmeans": {},
    "kmeans-ae": {"features": "autoencoder", "ae_epochs": 1},
    "autoencoder": {"epochs": 1},
}
GENERATORS = {  # name: (table params, image params)
    "gan": ({"epochs": 2, "batch_size": 100}, {"epochs": 1, "batch_size": 64}),
    "diffusion": (
        {"epochs": 2, "steps": 10},
        {"epochs": 1, "ae_epochs": 1, "denoiser_epochs": 0, "steps": 5},
    ),
}
TABLE_SAMPLES = 200
IMAGE_SAMPLES = 32


# -- hashing ------------------------------------------------------------------------------------
class Digest:
    """sha256 over labelled parts; each array part carries its dtype and shape."""

    def __init__(self):
        self._h = hashlib.sha256()

    def text(self, label: str, value: str) -> None:
        self._h.update(f"{label}={value}\n".encode())

    def array(self, label: str, value) -> None:
        a = np.ascontiguousarray(np.asarray(value))
        if a.dtype == object:
            self.text(label, repr(a.tolist()))
            return
        self.text(label, f"{a.dtype.str}{a.shape}")
        self._h.update(a.tobytes())

    def frame(self, label: str, df: pd.DataFrame) -> None:
        self.text(label, repr([(str(c), repr(df[c].dtype)) for c in df.columns]))
        self.array(label + ".rows", pd.util.hash_pandas_object(df, index=True).to_numpy())

    def file(self, label: str, path) -> None:
        self.text(label, hashlib.sha256(Path(path).read_bytes()).hexdigest())

    def hexdigest(self) -> str:
        return self._h.hexdigest()


# -- data ---------------------------------------------------------------------------------------
def table_data(synthkit):
    df = synthkit.load_dataset("transactions")
    X = df.drop(columns="is_fraud")
    fit, score = X.iloc[:TABLE_FIT_ROWS], X.iloc[TABLE_FIT_ROWS : TABLE_FIT_ROWS + TABLE_SCORE_ROWS]
    fraud = df[df["is_fraud"] == 1].iloc[:GEN_TABLE_FRAUD]
    normal = df[df["is_fraud"] == 0].iloc[: GEN_TABLE_ROWS - len(fraud)]
    gen = pd.concat([normal, fraud]).sort_index()
    return df, fit, score, gen


def image_data(synthkit):
    images, labels = synthkit.load_dataset("mnist", "test")
    return (
        images[:IMAGE_FIT],
        images[IMAGE_FIT : IMAGE_FIT + IMAGE_SCORE],
        images[:GEN_IMAGES],
        labels[:GEN_IMAGES],
    )


# -- cases --------------------------------------------------------------------------------------
def cli_cases(df, tmp: Path):
    """``python -m synthkit detect`` on a CSV. The subprocess inherits this environment (PYTHONPATH
    included) and runs in ``tmp``, not the caller's folder (``-m`` puts it first on the path), so it
    runs the same code as this process."""
    csv = tmp / "transactions.csv"
    df.iloc[:CLI_ROWS].to_csv(csv, index=False)
    common = ["--label-column", "is_fraud"]

    def python(*args):
        cmd = [sys.executable, *args]
        done = subprocess.run(cmd, env=dict(os.environ), cwd=tmp, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
        return done.stdout

    def run(*args):
        python("-m", "synthkit", "detect", str(csv), *args)

    where = python("-c", "import synthkit; print(synthkit.__file__)").strip()
    print(f"synthkit (CLI): {where}", file=sys.stderr)

    def fit():
        d = Digest()
        run(*common, "--seed", str(SEED), "-o", str(tmp / "cli.csv"))
        d.file("out", tmp / "cli.csv")
        return d

    def fit_save():
        d = Digest()
        run(
            *common,
            "--seed",
            str(SEED),
            "--save-model",
            str(tmp / "cli_m"),
            "-o",
            str(tmp / "a.csv"),
        )
        d.file("out", tmp / "a.csv")
        return d

    def score_model():
        d = Digest()
        run(*common, "--model", str(tmp / "cli_m"), "-o", str(tmp / "b.csv"))
        d.file("out", tmp / "b.csv")
        return d

    return [
        ("cli/detect", fit),
        ("cli/detect-save-model", fit_save),
        ("cli/detect-model", score_model),
    ]


def api_detect_case(synthkit, df):
    def run():
        scored = synthkit.detect(
            df.iloc[:CLI_ROWS], label_column="is_fraud", contamination=0.02, explain=2, seed=SEED
        )
        d = Digest()
        d.frame("scored", scored)
        summary = scored.attrs["synthkit"]
        d.text("summary", repr(sorted((k, repr(v)) for k, v in summary.items() if k != "seconds")))
        return d

    return [("api/detect", run)]


def detector_cases(synthkit, data_name, fit_X, score_X, specs, tmp: Path, load_from=None):
    def digest(det):
        d = Digest()
        d.array("decision_function", det.decision_function(score_X))
        d.array("predict", det.predict(score_X))
        d.array("decision_scores_", det.decision_scores_)
        d.array("threshold_", det.threshold_)
        d.array("labels_", det.labels_)
        return d

    cases = []
    for label, params in specs.items():
        name = label.split("-")[0]
        key = f"detector/{label}/{data_name}"
        state = {}

        def fit(name=name, params=params, key=key, state=state):
            det = synthkit.get_detector(name, seed=SEED, **params).fit(fit_X)
            d = digest(det)
            path = tmp / key.replace("/", "_")
            det.save(path)
            state["path"] = path
            return d

        def reloaded(state=state, key=key):
            path = Path(load_from) / key.replace("/", "_") if load_from else state["path"]
            return digest(synthkit.load_model(path))

        cases += [(key, fit), (key + "/reloaded", reloaded)]
    return cases


def generator_cases(synthkit, data_name, X, y, label, n, tmp: Path, load_from=None):
    def digest(samples):
        d = Digest()
        if isinstance(samples, pd.DataFrame):
            d.frame("samples", samples)
        else:
            d.array("samples", samples)
        return d

    cases = []
    for name, (table_params, image_params) in GENERATORS.items():
        params = table_params if data_name == "table" else image_params
        key = f"generator/{name}/{data_name}"
        state = {}

        def fit(name=name, params=params, key=key, state=state):
            gen = synthkit.get_generator(name, seed=SEED, **params).fit(X, y)
            d = digest(gen.sample(n, y=label, seed=SEED))
            path = tmp / key.replace("/", "_")
            gen.save(path)
            state["path"] = path
            return d

        def reloaded(state=state, key=key):
            path = Path(load_from) / key.replace("/", "_") if load_from else state["path"]
            gen = synthkit.load_model(path)
            return digest(gen.sample(n, y=label, seed=SEED))

        cases += [(key, fit), (key + "/reloaded", reloaded)]
    return cases


# -- main ---------------------------------------------------------------------------------------
def fingerprint(only: str | None, models=None, load_models=None) -> dict:
    import synthkit

    print(f"synthkit: {synthkit.__file__}", file=sys.stderr)
    probe = synthkit.get_detector("iforest")
    print(f"plugins: {sys.modules[type(probe).__module__].__file__}", file=sys.stderr)
    df, fit_X, score_X, gen_df = table_data(synthkit)
    img_fit, img_score, gen_images, gen_labels = image_data(synthkit)
    result = {}
    with tempfile.TemporaryDirectory(prefix="synthkit_fingerprint_") as tmp:
        tmp = Path(tmp)
        saved = Path(models) if models else tmp  # where the fitted models are saved
        if models:
            saved.mkdir(parents=True, exist_ok=True)
        cases = [
            *cli_cases(df, tmp),
            *api_detect_case(synthkit, df),
            *detector_cases(synthkit, "table", fit_X, score_X, TABLE_DETECTORS, saved, load_models),
            *detector_cases(
                synthkit, "mnist", img_fit, img_score, IMAGE_DETECTORS, saved, load_models
            ),
            *generator_cases(
                synthkit,
                "table",
                gen_df.drop(columns="is_fraud"),
                gen_df["is_fraud"].to_numpy(),
                1,
                TABLE_SAMPLES,
                saved,
                load_models,
            ),
            *generator_cases(
                synthkit, "mnist", gen_images, gen_labels, 3, IMAGE_SAMPLES, saved, load_models
            ),
        ]
        chosen = {key for key, _ in cases if not only or only in key}
        for key, run in cases:
            if key not in chosen and not any(c.startswith(key + "/") for c in chosen):
                continue  # a reloaded case needs the fit case before it
            start = time.perf_counter()
            result[key] = run().hexdigest()
            print(f"{key:40s} {result[key]}  ({time.perf_counter() - start:.1f} s)", flush=True)
    return result


def compare(a_path, b_path) -> int:
    a, b = (json.loads(Path(p).read_text()) for p in (a_path, b_path))
    differ = 0
    for key in list(a) + [k for k in b if k not in a]:
        same = key in a and key in b and a[key] == b[key]
        note = "" if key in a and key in b else f" (only in {a_path if key in a else b_path})"
        print(f"{key:40s} {'equal' if same else 'DIFFERENT'}{note}")
        differ += not same
    print(f"{len(set(a) | set(b)) - differ} equal, {differ} different")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", help="write {case: sha256} to this JSON file")
    group.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two --out files")
    parser.add_argument("--only", help="run only the cases whose name contains this text")
    parser.add_argument("--models", help="keep the fitted models in this folder")
    parser.add_argument(
        "--load-models",
        help="the reloaded cases load the models another run kept with --models (saved by "
        "another version of synthkit, to show its model directories still load)",
    )
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    start = time.perf_counter()
    result = fingerprint(args.only, args.models, args.load_models)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"{len(result)} cases in {time.perf_counter() - start:.0f} s -> {args.out}", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
