"""The progress line of a streamed run, drawn on stderr when it is a terminal."""

from __future__ import annotations
import sys
import time


# -- progress ----------------------------------------------------------------------------------
class Progress:
    """Rows per second and time left on stderr, redrawn at most twice a second; silent when not a terminal."""

    def __init__(self, label: str = "scoring", enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.label = label
        self.started = time.perf_counter()
        self.last = 0.0
        self.drawn = False

    def update(self, rows: int, fraction: float | None, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        text = f"{self.label}: {rows:,} rows  {rows / elapsed:,.0f} rows/s"
        if fraction:
            left = elapsed * (1.0 - fraction) / fraction
            text += f"  {fraction:.0%}  ETA {_clock(left)}"
        self.stream.write("\r" + text.ljust(72))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.enabled and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
