"""Signals during in-memory runs (issue 32, item 4): SIGTERM while ``detect`` writes its output
unwinds like Ctrl-C (exit 143, nothing left behind); after SIGKILL, which cannot be caught, the
next run to the same output removes the temporary the killed run left."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

import synthkit

# the run pauses inside its CSV writer, after the temporary file exists, so a signal lands mid-write
PAUSED_RUN = textwrap.dedent(
    """
    import pathlib, sys, time
    import synthkit.io._writing as writing
    real, flag = writing.CsvSink.write, pathlib.Path(sys.argv.pop(1))
    def paused(self, rows):
        real(self, rows)
        flag.touch()  # stdout may be the summary's alone: say it with a file
        time.sleep(60)
    writing.CsvSink.write = paused
    from synthkit.cli import main
    main(sys.argv[1:])
    """
)


@pytest.fixture
def table_csv(tmp_path):
    path = tmp_path / "transactions.csv"
    synthkit.load_dataset("transactions").iloc[:3000].to_csv(path, index=False)
    return path


def paused_run(flag, *args):
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_RUN, str(flag), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not flag.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert flag.exists(), proc.stderr.read() if proc.poll() is not None else "never wrote"
    return proc


@pytest.mark.parametrize("command", ["detect", "augment"])
def test_sigterm_mid_write_removes_the_temporary_and_exits_143(table_csv, tmp_path, command):
    out = tmp_path / "out.csv"
    if command == "detect":
        args = ["detect", table_csv, "-o", out]
    else:
        args = [
            "augment",
            table_csv,
            "--plugin",
            "gan",
            "--param",
            "epochs=1",
            "-n",
            "50",
            "-o",
            out,
        ]
    proc = paused_run(tmp_path / "writing", *args)
    assert list(tmp_path.glob(".out.csv.*.part"))
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    stderr = proc.stderr.read()
    assert proc.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1] == "Error: stopped by SIGTERM"
    assert "Traceback" not in stderr
    assert not out.exists() and not list(tmp_path.glob(".out.csv.*")), list(tmp_path.iterdir())


def test_after_sigkill_the_next_run_removes_the_stale_temporary(table_csv, tmp_path):
    out = tmp_path / "out.csv"
    proc = paused_run(tmp_path / "writing", "detect", table_csv, "-o", out)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    stale = list(tmp_path.glob(".out.csv.*.part"))
    assert stale and not out.exists()
    rerun = subprocess.run(
        [sys.executable, "-m", "synthkit", "detect", str(table_csv), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert out.exists() and not list(tmp_path.glob(".out.csv.*.part"))


def test_a_temporary_of_a_run_still_going_is_left_alone(tmp_path):
    from synthkit.io._writing import remove_stale_temporaries, temporary_prefix

    out = tmp_path / "out.csv"
    ours = tmp_path / f"{temporary_prefix(out)}abc.part"  # this process: still running
    ours.write_text("x")
    gone = tmp_path / ".out.csv.999999999.abc.part"  # no such process
    gone.mkdir()
    other = tmp_path / ".other.csv.999999999.abc.part"  # another output's
    other.write_text("x")
    assert remove_stale_temporaries(out) == [gone]
    assert ours.exists() and other.exists() and not gone.exists()


# Python drops an exception raised in a destructor; the GAN's epoch end here receives Ctrl-C inside
# one, as a signal landing in one of TensorFlow's destructors mid-training would
LOST_INTERRUPT_RUN = textwrap.dedent(
    """
    import os, pathlib, signal, sys
    from synthkit_plugins.gan import time_limit
    epochs, real = pathlib.Path(sys.argv.pop(1)), time_limit.TimeLimit.on_epoch_end
    class Destructor:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100000):  # Python runs the handler here, between bytecodes of __del__
                pass
    def on_epoch_end(self, epoch, logs=None):
        with epochs.open("a") as f:
            f.write(f"{epoch}\\n")
        if epoch == 0:
            Destructor()
        real(self, epoch, logs)
    time_limit.TimeLimit.on_epoch_end = on_epoch_end
    from synthkit.cli import main
    main(sys.argv[1:])
    """
)


def test_a_ctrl_c_python_drops_in_a_destructor_still_ends_the_run(table_csv, tmp_path):
    """In 1 of 10 tries Ctrl-C during a GAN's training was ignored and the outputs were written
    (issue 32, item 4): the interrupt had landed in a destructor, where Python prints it and goes
    on. The caught signal is remembered, so training stops at the end of that epoch, no output is
    written and the run exits 130 with one line."""
    out, epochs = tmp_path / "out.csv", tmp_path / "epochs"
    args = ["augment", table_csv, "-p", "gan", "--param", "epochs=3", "-n", "50", "-o", out]
    proc = subprocess.run(
        [sys.executable, "-c", LOST_INTERRUPT_RUN, str(epochs), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "Error: interrupted (Ctrl-C)"
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr
    assert epochs.read_text().split() == ["0"]  # no epoch after the interrupt
    assert not out.exists() and not list(tmp_path.glob(".out.csv.*")), list(tmp_path.iterdir())


def test_a_caught_interrupt_is_raised_again_until_its_block_ends():
    from synthkit.signals import catch_interrupts, raise_if_interrupted

    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with catch_interrupts():
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt, match="signal 15"):
            raise_if_interrupted()
        with catch_interrupts():  # streamed scoring's block inside the command line's
            pass
        with pytest.raises(KeyboardInterrupt, match="signal 15"):
            raise_if_interrupted()
    raise_if_interrupted()  # forgotten once the outermost block ended
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_a_signal_the_process_ignores_stays_ignored():
    """A shell starts a background job (``synthkit ... &``) with Ctrl-C ignored; so does Python."""
    from synthkit.signals import catch_interrupts

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with catch_interrupts():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_caught_interrupt_leaves_a_model_directory_it_would_replace_as_it_was(tmp_path):
    """The check comes before anything at the output is touched: with --overwrite, a dropped
    Ctrl-C must not remove the model directory the run was to replace."""
    import numpy as np

    from synthkit.io import load_model, save_model
    from synthkit.signals import catch_interrupts

    X = np.random.default_rng(0).normal(size=(200, 3))
    first = synthkit.get_detector("iforest", seed=0).fit(X)
    save_model(first, tmp_path / "m")
    before = sorted(p.name for p in (tmp_path / "m").iterdir())
    second = synthkit.get_detector("iforest", seed=1).fit(X)
    with catch_interrupts():
        with pytest.raises(KeyboardInterrupt, match="signal 15"):
            signal.raise_signal(signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt, match="signal 15"):
            save_model(second, tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == before
    assert load_model(tmp_path / "m").threshold_ == first.threshold_
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary left
