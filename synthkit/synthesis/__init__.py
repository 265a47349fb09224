"""The augment run: fit or load a generator, check ``n`` and the label, sample, and filter.

``_run`` holds ``run_augment``; ``_filter`` holds ``RowFilter``, which ``augment --filter`` uses to
keep generated rows that look like the real ones and are no near copies of them.
"""

from synthkit.synthesis._filter import RowFilter, summary_line
from synthkit.synthesis._run import run_augment

__all__ = ["RowFilter", "run_augment", "summary_line"]
