"""The ``synthkit`` command line: plugins, datasets, augment and evaluate, plus plugin commands; detect is
in ``synthkit.cli._detect`` and the options they share in ``synthkit.cli._options``.

Heavy imports (pandas, scikit-learn, TensorFlow) happen inside commands, so ``--help``,
``plugins`` and ``datasets`` start fast. A user error ends with one line on stderr and exit 1.

Output: stdout holds the summary only (or, with ``-o -``, the rows as CSV, and the summary goes to
stderr); progress (epochs, streaming, plots) goes to stderr; TensorFlow's start-up lines, log
messages and warnings are silenced unless ``--verbose`` (see ``synthkit.quiet``).
"""

from __future__ import annotations

import sys
import warnings

import click

from synthkit.cli._augment import augment
from synthkit.cli._detect import detect
from synthkit.cli._evaluate import evaluate
from synthkit.cli._listing import datasets, plugins
from synthkit.signals import catch_interrupts
from synthkit.errors import SynthkitError


class SynthkitGroup(click.Group):
    """A click group that turns every SynthkitError into a one-line message and exit status 1, and
    Ctrl-C into one line and exit status 130 (128 + the signal, as shells report it)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SynthkitError as exc:
            raise click.ClickException(" ".join(str(exc).split())) from None
        except KeyboardInterrupt as exc:
            raise interrupted(exc) from None


def interrupted(exc: KeyboardInterrupt) -> click.exceptions.Exit:
    """Say on one line that the run was stopped; exit 130 for Ctrl-C, 128 + N for signal N (SIGTERM, as
    ``synthkit.signals.catch_interrupts`` raises it)."""
    import signal

    what, number = "interrupted (Ctrl-C)", int(signal.SIGINT)
    reason = str(exc.args[0]) if exc.args else ""
    if reason.startswith("signal ") and reason[len("signal ") :].isdigit():
        number = int(reason[len("signal ") :])
        try:
            what = f"stopped by {signal.Signals(number).name}"
        except ValueError:
            what = f"stopped by signal {number}"
    click.echo(f"Error: {what}", err=True)
    return click.exceptions.Exit(128 + number)


@click.group(cls=SynthkitGroup)
@click.version_option(package_name="synthkit")
def cli():
    """synthkit: anomaly detection and synthetic data, with plugins."""


for command in (plugins, datasets, detect, augment, evaluate):
    cli.add_command(command)


def main(argv=None) -> None:
    """Console entry point: load plugin commands, then run the CLI."""
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    from synthkit.registry import get_registry

    get_registry().add_commands(cli)
    with catch_interrupts():  # SIGTERM removes a half-written output, as Ctrl-C does
        cli.main(args=argv, prog_name="synthkit")


if __name__ == "__main__":  # pragma: no cover
    from synthkit.cli._main import (
        main as imported_main,
    )  # python -m synthkit.cli._main: the group cli_detect registered on

    imported_main(sys.argv[1:])
