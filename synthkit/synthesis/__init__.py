"""The augment run: fit or load a generator, check ``n`` and the label, sample, and filter.

``_run`` holds ``run_augment`` and ``default_generator`` (diffusion for tables, the GAN for images); ``_filter`` holds ``RowFilter``, which ``augment --filter`` uses to
keep generated rows that look like the real ones and are no near copies of them.
"""

from synthkit.synthesis._filter import RowFilter, summary_line
from synthkit.synthesis._run import (
    IMAGE_GENERATOR,
    TABLE_GENERATOR,
    default_generator,
    run_augment,
)

__all__ = [
    "IMAGE_GENERATOR",
    "RowFilter",
    "TABLE_GENERATOR",
    "default_generator",
    "run_augment",
    "summary_line",
]
