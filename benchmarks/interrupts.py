"""Ctrl-C during a GAN's training, as a terminal sends it: how many runs end as promised.

Each try starts ``synthkit augment ADULT.csv -p gan -n 100 -o OUT.csv --seed I`` (the first
``--rows`` rows of the real UCI Adult table) with Ctrl-C's default handling, as a terminal starts
it, sends SIGINT after a seeded random delay of ``--min`` to ``--max`` seconds (start-up, the
TensorFlow import and training all fall in that window), and records the exit status, whether the
output or a temporary was left, the seconds from the signal to the exit and stderr's last line.
The promise (README, docs/cli.md): exit 130, ``Error: interrupted (Ctrl-C)``, nothing written.

    SYNTHKIT_DATA_DIR=../shared/datasets python benchmarks/interrupts.py [--tries 10] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--min", type=float, default=5.0)
    parser.add_argument("--max", type=float, default=30.0)
    args = parser.parse_args()
    import pandas as pd

    source = Path(os.environ["SYNTHKIT_DATA_DIR"]) / "tables" / "adult.csv.gz"
    rng = random.Random(args.seed)
    kept = 0
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        data = work / "adult.csv"
        pd.read_csv(source, nrows=args.rows).to_csv(data, index=False)
        print("try\tsignal at s\tto exit s\texit\toutput left\ttemporary left\tstderr's last line")
        for i in range(args.tries):
            out = work / f"out_{i}.csv"
            delay = rng.uniform(args.min, args.max)
            command = [sys.executable, "-m", "synthkit", "augment", str(data), "-p", "gan"]
            command += ["-n", "100", "-o", str(out), "--seed", str(i)]
            proc = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=work,
                # a terminal's foreground job handles Ctrl-C; a background one would ignore it
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
            sent = None
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGINT)
                sent = time.perf_counter()
            _, stderr = proc.communicate(timeout=600)
            to_exit = f"{time.perf_counter() - sent:.1f}" if sent else "ended before"
            lines = stderr.strip().splitlines()
            left = bool(list(work.glob(f".out_{i}.csv.*")))
            ok = proc.returncode == 130 and not out.exists() and not left
            kept += ok
            print(
                f"{i}\t{delay:.1f}\t{to_exit}\t{proc.returncode}\t{out.exists()}\t{left}\t"
                f"{lines[-1][:60] if lines else ''}",
                flush=True,
            )
    print(f"exit 130 with nothing written: {kept} of {args.tries}")


if __name__ == "__main__":
    main()
