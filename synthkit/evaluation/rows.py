"""How ``synthkit evaluate`` prints a report: values as text, and rows as a two-column table."""

from __future__ import annotations


def format_value(v) -> str:
    """A float to 4 decimals; anything else as ``str`` gives it."""
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def format_table(rows) -> str:
    """``(name, value)`` rows as lines with the names padded to one width."""
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
