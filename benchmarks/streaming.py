"""Streaming detect on a large CSV: rows/s and peak memory, against pandas + scikit-learn in memory.

    python benchmarks/streaming.py [--rows 3000000] [--chunksize 100000] [--keep DIR] [--profile]

Makes a CSV of ``--rows`` rows and 10 columns (7 floats, 1 integer count, 1 categorical with 20
levels, 1 boolean; seeded) in a temporary folder, fits a kmeans model and a dense autoencoder on a
200,000-row sample of it (not timed), then times, each in a fresh process:

- ``synthkit detect BIG.csv --model DIR -o OUT.csv`` with the kmeans model and with the autoencoder
  (whole-process wall time, including Python start-up and model loading);
- the in-memory baseline: ``pandas.read_csv`` of the whole file, one-hot encoding and scaling,
  scikit-learn ``KMeans.transform``/``predict`` for scores and segments, and ``to_csv`` of the whole
  frame plus the three columns (wall time of those steps, measured inside the process; the
  baseline's fit on 200,000 rows is not counted).

``--profile`` then runs the kmeans streaming once more under ``cProfile`` (in this process, after
the timed runs) and prints where its time goes: loading the model, reading, conversion to pandas,
encoding, scoring, writing.

Peak RSS is each process's own maximum resident set (``os.wait4``). The load average is printed
before the timed runs: the machine may be shared, so compare the ratios of one run, not absolute
times across runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE = r"""
import sys, time
import numpy as np, pandas as pd
from sklearn.cluster import KMeans
src, out, fit_csv = sys.argv[1], sys.argv[2], sys.argv[3]
sample = pd.read_csv(fit_csv)
def encode(df, cats=None, mean=None, std=None):
    num = df.select_dtypes(include=["number", "bool"]).astype(np.float32)
    dummies = pd.get_dummies(df["merchant"].astype(pd.CategoricalDtype(cats)), dtype=np.float32)
    X = np.hstack([num.to_numpy(), dummies.to_numpy()])
    return X
cats = sorted(sample["merchant"].unique())
Xs = encode(sample, cats)
mean, std = Xs.mean(0), Xs.std(0) + 1e-9
km = KMeans(n_clusters=8, n_init=3, random_state=0).fit((Xs - mean) / std)
threshold = np.quantile(km.transform((Xs - mean) / std).min(1), 0.9)
t0 = time.perf_counter()
df = pd.read_csv(src)
t1 = time.perf_counter()
X = (encode(df, cats) - mean) / std
dist = km.transform(X)
df["anomaly_score"] = dist.min(1)
df["is_anomaly"] = (df["anomaly_score"] > threshold).astype(int)
df["segment"] = km.predict(X)
t2 = time.perf_counter()
df.to_csv(out, index=False)
t3 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f}")
"""


def make_csv(path: Path, rows: int, seed: int = 0, block: int = 500_000) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    merchants = np.array([f"m{i:02d}" for i in range(20)])
    written = 0
    with open(path, "w", newline="") as f:
        while written < rows:
            n = min(block, rows - written)
            df = pd.DataFrame(
                {
                    "amount": np.round(rng.lognormal(3.0, 1.0, n), 2),
                    **{f"f{i}": rng.normal(size=n) for i in range(1, 7)},
                    "count": rng.poisson(3, n),
                    "merchant": merchants[rng.integers(0, 20, n)],
                    "online": rng.random(n) < 0.3,
                }
            )
            df.to_csv(f, index=False, header=written == 0, lineterminator="\n")
            written += n


#: (label, file name ending, function name) of the steps the profile breakdown reports, cumulative.
STEPS = [
    ("score_file (all)", "scoring.py", "score_file"),
    ("loading the model", "modeldir.py", "model_for"),
    ("reading CSV chunks", "streaming.py", "tables"),
    ("reading CSV chunks (pandas)", "streaming.py", "_csv"),
    ("Arrow to pandas", "pandas_compat.py", "table_to_dataframe"),
    ("normalise_chunk", "streaming.py", "normalise_chunk"),
    ("score_frame", "scoring.py", "score_frame"),
    ("  adapter.transform", "table_adapter.py", "transform"),
    ("writing (sink.write)", "arrow_io.py", "write"),
    ("writing (sink.write, pandas)", "streaming.py", "write"),
]


def profile(big: Path, model_dir: Path, out: Path, chunksize: int) -> None:
    """Score ``big`` with the model under cProfile and print the cumulative seconds of each step."""
    import cProfile
    import pstats

    from synthkit import detection as scoring

    profiler = cProfile.Profile()
    profiler.runcall(scoring.score_file, big, str(model_dir), out, chunksize=chunksize)
    stats = pstats.Stats(profiler).stats
    total = max(ct for (f, _, name), (_, _, _, ct, _) in stats.items() if name == "score_file")
    print(
        f"\nprofile of the kmeans streaming run (cProfile, cumulative seconds; {total:.1f}s in score_file):"
    )
    for label, ending, function in STEPS:
        seconds = sum(
            ct
            for (f, _, name), (_, _, _, ct, _) in stats.items()
            if name == function and f.endswith(ending)
        )
        if seconds:
            print(f"  {label:<30} {seconds:7.2f}s  {seconds / total:6.1%}")


def measured(cmd: list[str], env=None) -> tuple[float, float, str]:
    """Run ``cmd`` and return (wall seconds, peak RSS MiB, stdout) using os.wait4 for this child only."""
    out_file = tempfile.TemporaryFile(mode="w+")
    err_file = tempfile.TemporaryFile(mode="w+")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, text=True, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out_file.seek(0)
    err_file.seek(0)
    out, err = out_file.read(), err_file.read()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.strip()[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--chunksize", type=int, default=100_000)
    parser.add_argument(
        "--keep", help="keep the data and outputs in this folder instead of a temporary one"
    )
    parser.add_argument("--skip-autoencoder", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="then profile the kmeans streaming run"
    )
    args = parser.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="synthkit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    synthkit = [sys.executable, "-m", "synthkit.cli._main"]
    try:
        big, fit = folder / "big.csv", folder / "fit.csv"
        if not big.exists():
            t = time.perf_counter()
            make_csv(big, args.rows)
            print(
                f"made {big} ({big.stat().st_size / 2**20:.0f} MiB, {args.rows:,} rows) in {time.perf_counter() - t:.0f}s"
            )
        if not fit.exists():
            make_csv(fit, 200_000, seed=1)
        models = {"kmeans": (folder / "km", ["-p", "kmeans", "--seed", "0"])}
        if not args.skip_autoencoder:
            models["autoencoder (dense)"] = (
                folder / "ae",
                [
                    "-p",
                    "autoencoder",
                    "--param",
                    "kind=dense",
                    "--param",
                    "epochs=3",
                    "--seed",
                    "0",
                ],
            )
        for name, (model_dir, fit_args) in models.items():
            if not model_dir.exists():
                subprocess.run(
                    [*synthkit, "detect", str(fit), *fit_args, "--save-model", str(model_dir)],
                    check=True,
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
        baseline_script = folder / "baseline.py"
        baseline_script.write_text(BASELINE)

        load = os.getloadavg()
        print(
            f"load average before the timed runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
            f"({os.cpu_count()} CPUs)"
        )
        rows = []
        wall, rss, out = measured(
            [sys.executable, str(baseline_script), str(big), str(folder / "base.csv"), str(fit)]
        )
        read_s, predict_s, write_s = map(float, out.split())
        base_time = read_s + predict_s + write_s
        rows.append(
            (
                "pandas + sklearn in memory (kmeans)",
                base_time,
                rss,
                f"read {read_s:.1f}s, predict {predict_s:.1f}s, to_csv {write_s:.1f}s; process {wall:.1f}s",
            )
        )
        for name, (model_dir, _) in models.items():
            target = folder / f"out-{model_dir.name}.csv"
            wall, rss, out = measured(
                [
                    *synthkit,
                    "detect",
                    str(big),
                    "--model",
                    str(model_dir),
                    "-o",
                    str(target),
                    "--overwrite",
                    "--chunksize",
                    str(args.chunksize),
                ],
                env=env,
            )
            rows.append((f"synthkit detect --model ({name})", wall, rss, "whole process"))
        load_after = os.getloadavg()

        print()
        print(
            f"{'run':<42} {'seconds':>8} {'rows/s':>10} {'peak RSS MiB':>13} {'time vs baseline':>17}  notes"
        )
        for name, seconds, rss, note in rows:
            print(
                f"{name:<42} {seconds:8.1f} {args.rows / seconds:10,.0f} {rss:13.0f} {seconds / base_time:16.2f}x  {note}"
            )
        print(
            f"\nrows: {args.rows:,}  chunksize: {args.chunksize:,}  load average after: "
            f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
        )
        if args.profile:
            profile(big, models["kmeans"][0], folder / "out-profile.csv", args.chunksize)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
