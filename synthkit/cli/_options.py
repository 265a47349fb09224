"""Options and helpers shared by the commands (``synthkit.cli._main``, ``synthkit.cli._detect`` and plugin
commands): ``--param`` parsing, ``--seed``, ``--verbose``, the image-folder and model-directory
options, and where progress and the summary go. Nothing here imports pandas or TensorFlow."""

from __future__ import annotations

import contextlib
import json
import sys

import click

from synthkit.errors import SynthkitError


def parse_params(pairs) -> dict:
    """``key=value`` strings to a dict; values parse as JSON (numbers, true/false, null, lists) or stay strings."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--param")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = {"True": True, "False": False, "None": None}.get(value, value)
        params[key.strip()] = tuple(parsed) if isinstance(parsed, list) else parsed
    return params


STDOUT = "-"  # -o -: the rows, as CSV, to standard output


class SeedType(click.ParamType):
    """--seed: an integer under the one rule for seeds (``synthkit.parameters.check_seed``); a seed out
    of range is one line and exit 1, as the same seed given to the Python API is refused."""

    name = "integer"

    def convert(self, value, param, ctx):
        from synthkit.parameters import check_seed

        seed = click.INT.convert(value, param, ctx)
        check_seed(seed, "--seed")  # a PluginError: SynthkitGroup prints it on one line
        return seed


SEED = SeedType()


def quiet_tensorflow(verbose: bool = False) -> None:
    """First thing in every command that may load TensorFlow (before it is imported)."""
    from synthkit.quiet import quiet_tensorflow as _quiet

    _quiet(verbose)


def verbose_option(f):
    return click.option(
        "--verbose",
        "-v",
        is_flag=True,
        help="Also show TensorFlow's own start-up lines, log messages and warnings, and Dask's "
        "worker log with --engine dask (stderr).",
    )(f)


def progress_to_stderr():
    """Everything printed while fitting, scoring and plotting (Keras epoch lines, t-SNE) goes to
    stderr, the one progress channel; stdout keeps the summary (or the data, with -o -)."""
    return contextlib.redirect_stdout(sys.stderr)


def check_stdout_output(output, what: str) -> None:
    if output == STDOUT and what != "table":
        raise SynthkitError(
            "-o - writes a table as CSV to standard output; images need an .npz file"
        )


def image_folder_options(f):
    f = click.option(
        "--skip-bad-files",
        is_flag=True,
        help="Image folders: leave out files that do not decode (listed on stderr).",
    )(f)
    return click.option(
        "--image-size",
        nargs=2,
        type=click.IntRange(min=1),
        metavar="H W",
        help="Image folders: resize every image to H x W pixels (default: the most common size).",
    )(f)


def check_folder_options(image_size, skip_bad_files, *loaded) -> None:
    """Refuse --image-size / --skip-bad-files when no input is a folder of images."""
    if (image_size or skip_bad_files) and not any(
        getattr(d, "paths", None) is not None for d in loaded
    ):
        raise SynthkitError(
            "--image-size and --skip-bad-files apply to a folder of images; no input is one"
        )


def model_options(f):
    f = click.option(
        "--model",
        "model_dir",
        type=click.Path(),
        help="Use a saved model directory instead of fitting.",
    )(f)
    f = click.option(
        "--save-model",
        "save_dir",
        type=click.Path(),
        help="Save the fitted model to this directory.",
    )(f)
    return f


def summary_stream(to_stderr: bool):
    """Where the summary goes: stdout, or stderr when stdout carries the data (-o -)."""
    return contextlib.redirect_stdout(sys.stderr) if to_stderr else contextlib.nullcontext()


def na_values_option(f):
    """``--na-values``: the CSV cells read as missing for the whole command (``reading_missing_as``)."""

    def apply(ctx, param, value):
        if value is None:
            return
        from synthkit.io import reading_missing_as  # here, so that --help loads no pandas

        scope = reading_missing_as(value.split(","))
        scope.__enter__()
        ctx.call_on_close(lambda: scope.__exit__(None, None, None))

    return click.option(
        "--na-values",
        callback=apply,
        expose_value=False,
        is_eager=True,
        help="CSV cells to read as missing, comma-separated ('' for empty cells only; replaces "
        "the default: pandas' list without None, which stays text). Give the same with --model.",
    )(f)
