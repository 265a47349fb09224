"""How a signal ends a run: SIGTERM unwinds like Ctrl-C, so every temporary output is removed on
the way out (SIGKILL cannot be caught; a later run removes what it left, see ``synthkit.io``)."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


@contextmanager
def terminate_as_interrupt():
    """Within the block, SIGTERM raises ``KeyboardInterrupt("signal 15")`` in the main thread (the
    command line exits 143 for it, 128 + the signal, as shells report it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
