"""The default table detector against what a user would write instead, as whole processes, as rows grow.

For each size, a seeded numeric CSV of ROWS x 30 columns is written once (correlated Gaussian rows
with 1% of them shifted off the bulk, and a 0/1 ``label`` column), then in turn, ``--repeats`` times:

- ``synthkit detect DATA.csv -o OUT.csv --label-column label`` (the default detector, in memory, or
  streamed with a fit on a sample where the file is over synthkit's streaming size);
- ``python ../shared/baselines/iforest_table.py DATA.csv OUT.csv --label-column label`` (pandas plus
  scikit-learn's IsolationForest).

Each run's wall time, CPU time (user + system) and peak resident memory come from the operating
system's accounting of that process (``os.wait4``). Prints the medians, the ratios synthkit/baseline,
the time per row relative to the smallest size, and the ROC-AUC each printed. ``--transactions`` adds
the built-in ``transactions`` table (``--contamination 0.02``). ``--stream ROWS`` adds a run that scores
a file of ROWS rows through ``synthkit detect --model`` (streamed), after ``--save-model`` on its
first 1,000,000 rows (written by the same seeded generator); data files are written once and kept
in ``--work``.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/scaling.py [--rows 10000,100000,1000000]
        [--repeats 3] [--transactions] [--stream 10000000] [--work /tmp/synthkit-scaling]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

COLUMNS = 30
OUTLIER_SHARE = 0.01
STREAM_SAMPLE_ROWS = 1_000_000
BASELINE = Path(__file__).resolve().parents[1] / ".." / "shared" / "baselines" / "iforest_table.py"


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    """ROWS x 30 correlated Gaussian columns, 1% of rows shifted by 4 sd along random directions, and ``label``."""
    import pyarrow as pa
    import pyarrow.csv as pv

    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(COLUMNS, COLUMNS)) / np.sqrt(COLUMNS)
    tmp = path.with_suffix(".part")
    writer = None
    for start in range(0, rows, 500_000):
        n = min(500_000, rows - start)
        X = rng.normal(size=(n, COLUMNS)) @ mixing
        label = rng.random(n) < OUTLIER_SHARE
        direction = rng.normal(size=(int(label.sum()), COLUMNS))
        X[label] += (
            4 * direction / np.linalg.norm(direction, axis=1, keepdims=True) * np.sqrt(COLUMNS) / 2
        )
        table = pa.table(
            {
                **{f"x{i}": np.round(X[:, i], 5) for i in range(COLUMNS)},
                "label": label.astype(np.int8),
            }
        )
        if writer is None:
            writer = pv.CSVWriter(str(tmp), table.schema)
        writer.write_table(table)
    writer.close()
    tmp.rename(path)


def run(cmd: list[str], env: dict) -> dict:
    """Wall s, CPU s and peak MB of one whole process, and the ROC-AUC it printed (if any)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out}")
    found = re.search(r"ROC-AUC:\s*([0-9.]+)", out)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "mb": usage.ru_maxrss / 1024,
        "auc": float(found.group(1)) if found else float("nan"),
    }


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def compare(name: str, ours: list[str], theirs: list[str], repeats: int, env: dict) -> dict:
    """Both commands in turn, ``repeats`` times each; the medians of each."""
    a, b = [], []
    for _ in range(repeats):
        a.append(run(ours, env))
        b.append(run(theirs, env))
    result = {
        f"{who}_{k}": median(runs, k)
        for who, runs in (("synthkit", a), ("baseline", b))
        for k in ("wall", "cpu", "mb", "auc")
    }
    print(
        f"{name:<14}"
        + "".join(
            f"{result['synthkit_' + k]:>10.1f}{result['baseline_' + k]:>10.1f}"
            f"{result['synthkit_' + k] / result['baseline_' + k]:>7.2f}"
            for k in ("wall", "cpu", "mb")
        )
        + f"{result['synthkit_auc']:>10.3f}{result['baseline_auc']:>8.3f}",
        flush=True,
    )
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="10000,100000,1000000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--transactions", action="store_true")
    ap.add_argument(
        "--stream", type=int, default=0, help="rows of a file scored through detect --model"
    )
    ap.add_argument("--work", default="/tmp/synthkit-scaling")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    synthkit = [sys.executable, "-m", "synthkit.cli._main", "detect", "--overwrite"]
    baseline = [sys.executable, str(BASELINE.resolve())]
    print(
        f"{'':<14}"
        + "".join(f"{k:>27}" for k in ("wall s", "CPU s", "peak MB"))
        + f"{'ROC-AUC':>18}"
    )
    print(
        f"{'data':<14}"
        + f"{'synthkit':>10}{'baseline':>10}{'ratio':>7}" * 3
        + f"{'synthkit':>10}{'base':>8}"
    )
    if args.transactions:
        from synthkit.api import load_dataset

        table = work / "transactions.csv"
        load_dataset("transactions").to_csv(table, index=False)
        compare(
            "transactions",
            [*synthkit, "transactions", "--contamination", "0.02", "-o", str(work / "a.csv")],
            [*baseline, str(table), str(work / "b.csv"), "--label-column", "is_fraud"],
            args.repeats,
            env,
        )
    per_row = {}
    for rows in [int(r) for r in args.rows.split(",") if r]:
        data = work / f"rows{rows}.csv"
        if not data.exists():
            write_table(data, rows)
        result = compare(
            f"{rows:,} rows",
            [*synthkit, str(data), "--label-column", "label", "-o", str(work / "a.csv")],
            [*baseline, str(data), str(work / "b.csv"), "--label-column", "label"],
            args.repeats,
            env,
        )
        per_row[rows] = result["synthkit_wall"] / rows
    if len(per_row) > 1:
        first = min(per_row)
        print(
            "synthkit wall time per row, relative to the smallest size: "
            + ", ".join(
                f"{rows:,}: {per_row[rows] / per_row[first]:.2f}x" for rows in sorted(per_row)
            )
        )
    if args.stream:
        data = work / f"rows{args.stream}.csv"
        if not data.exists():
            write_table(data, args.stream)
        model = work / "model"
        sample = (
            work / f"rows{STREAM_SAMPLE_ROWS}.csv"
        )  # the same seeded rows as the big file's first ones
        if not sample.exists():
            write_table(sample, STREAM_SAMPLE_ROWS)
        if model.exists():
            import shutil

            shutil.rmtree(model)
        fit = run(
            [
                *synthkit,
                str(sample),
                "--label-column",
                "label",
                "--save-model",
                str(model),
                "-o",
                str(work / "fit.csv"),
            ],
            env,
        )
        score = run(
            [
                *synthkit,
                str(data),
                "--model",
                str(model),
                "--label-column",
                "label",
                "-o",
                str(work / "scored.csv"),
            ],
            env,
        )
        for what, r in (
            (f"fit on its first {STREAM_SAMPLE_ROWS:,} rows", fit),
            ("--model, streamed", score),
        ):
            print(
                f"{args.stream:,} rows, {what}: wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s, "
                f"peak {r['mb']:.0f} MB, ROC-AUC {r['auc']:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
