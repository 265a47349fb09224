"""``python -m synthkit``: the same as the ``synthkit`` command."""

from synthkit.cli import main

main()
