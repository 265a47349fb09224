"""How a signal ends a run: Ctrl-C and SIGTERM both unwind as ``KeyboardInterrupt``, so every
temporary output is removed on the way out (SIGKILL cannot be caught; a later run removes what it
left, see ``synthkit.io``).

Python drops an exception raised inside a destructor (it prints "Exception ignored in ..." and goes
on), and TensorFlow runs destructors all through training: a signal that lands in one would be
lost, and the run would finish and write its outputs. So within ``catch_interrupts()`` a caught
signal is also remembered, and ``raise_if_interrupted()`` raises it again where a run moves on: at
the end of every fit and training epoch, and before an output is renamed into place.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

_caught: list[int] = []  # the signals caught in the outermost catch_interrupts block, in order
_depth = [0]  # how many catch_interrupts blocks are open


def _interrupt(signum: int) -> KeyboardInterrupt:
    """Ctrl-C's ``KeyboardInterrupt()``, or ``KeyboardInterrupt("signal N")`` for another signal
    (the command line exits 128 + N for it, as shells report it)."""
    return KeyboardInterrupt() if signum == signal.SIGINT else KeyboardInterrupt(f"signal {signum}")


@contextmanager
def catch_interrupts():
    """Within the block, SIGINT and SIGTERM (unless ignored) raise ``KeyboardInterrupt`` in the
    main thread and are remembered until the outermost block ends; a remembered interrupt that
    Python drops in a destructor is not printed, since ``raise_if_interrupted`` raises it again."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        _caught.append(signum)
        raise _interrupt(signum)

    def unraisable(info):
        if not (_caught and isinstance(info.exc_value, KeyboardInterrupt)):
            previous_hook(info)

    # a signal the process was started ignoring stays ignored (a shell's background job ignores
    # Ctrl-C, and Python leaves it so)
    previous = {
        s: signal.signal(s, handler)
        for s in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(s) is not signal.SIG_IGN
    }
    previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    _depth[0] += 1
    try:
        yield
    finally:
        _depth[0] -= 1
        if not _depth[0]:
            _caught.clear()
        sys.unraisablehook = previous_hook
        for s, h in previous.items():
            signal.signal(s, h)


def raise_if_interrupted() -> None:
    """Raise the first signal caught in this run again, if any (a no-op outside
    ``catch_interrupts``)."""
    if _caught:
        raise _interrupt(_caught[0])


def interrupt_callback():
    """A Keras callback that ends training at the end of an epoch once a signal was caught (for
    networks that train inside ``model.fit``; imports Keras when called)."""
    import keras

    class RaiseIfInterrupted(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise_if_interrupted()

    return RaiseIfInterrupted()
