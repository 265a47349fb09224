"""The ``synthkit`` command line: one module per command, the options they share in ``_options``.

``_main`` holds the group (``cli``) and the console entry point (``main``); ``_listing`` the
``plugins`` and ``datasets`` commands; ``_detect``, ``_augment`` and ``_evaluate`` one command each.
A plugin's own command (the ``synthkit_register_commands`` hook) may use the shared options
re-exported here.
"""

from synthkit.cli._main import cli, main
from synthkit.cli._options import (
    SEED,
    STDOUT,
    SeedType,
    parse_params,
    progress_to_stderr,
    quiet_tensorflow,
)

__all__ = [
    "SEED",
    "STDOUT",
    "SeedType",
    "cli",
    "main",
    "parse_params",
    "progress_to_stderr",
    "quiet_tensorflow",
]
