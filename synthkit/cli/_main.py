"""The ``synthkit`` command line: plugins, datasets, augment and evaluate, plus plugin commands; detect is
in ``synthkit.cli_detect`` and the options they share in ``synthkit.cli_options``.

Heavy imports (pandas, scikit-learn, TensorFlow) happen inside commands, so ``--help``,
``plugins`` and ``datasets`` start fast. A user error ends with one line on stderr and exit 1.

Output: stdout holds the summary only (or, with ``-o -``, the rows as CSV, and the summary goes to
stderr); progress (epochs, streaming, plots) goes to stderr; TensorFlow's start-up lines, log
messages and warnings are silenced unless ``--verbose`` (see ``synthkit.quiet``).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import click
from click.core import ParameterSource

from synthkit.cli_detect import detect
from synthkit.cli_options import (
    SEED,
    STDOUT,
    SeedType,
    check_folder_options,
    check_stdout_output,
    image_folder_options,
    model_options,
    parse_params,
    progress_to_stderr,
    quiet_tensorflow,
    summary_stream,
    verbose_option,
)
from synthkit.errors import DataError, SynthkitError

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
    ``synthkit.streaming.terminate_as_interrupt`` raises it)."""
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


@cli.command()
def plugins():
    """List installed plugins, what each registered, and any that failed to load."""
    from synthkit.registry import get_registry

    registry = get_registry()
    registry.entries("detectors")  # runs the registration hooks
    for info in sorted(registry.infos.values(), key=lambda i: i.name):
        origin = (
            f"{info.package} {info.version}" if info.version else (info.package or "in-process")
        )
        click.echo(f"{info.name} ({origin})")
        for kind, names in info.registered.items():
            if names:
                click.echo(f"  {kind}: {', '.join(sorted(names))}")
        if info.commands:
            click.echo(f"  commands: {', '.join(info.commands)}")
    if registry.failures:
        click.echo("failed:")
        for failure in registry.failures:
            click.echo(f"  {failure.name} ({failure.package or 'in-process'}): {failure.error}")


@cli.command()
def datasets():
    """List registered datasets, their splits available here, and where they load from."""
    from synthkit.registry import get_registry

    for name, (dataset, plugin) in sorted(get_registry().entries("datasets").items()):
        splits = dataset.splits()
        click.echo(
            f"{name} ({dataset.kind}) splits: {', '.join(splits) if splits else 'none available'}"
        )
        if dataset.description:
            click.echo(f"  {dataset.description}")
        click.echo(f"  {dataset.location()}")


@cli.command()
@click.argument("input")
@click.option(
    "--plugin",
    "-p",
    default="gan",
    show_default=True,
    help="Generator to use (see `synthkit plugins`).",
)
@click.option(
    "-n", "n", type=int, required=True, help="Number of synthetic rows or images (1 to 10,000,000)."
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A generator parameter; repeat for more.",
)
@click.option("--label-column", help="Tables: the column to condition on.")
@click.option("--label", help="The class every synthetic row or image should have.")
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="Write the samples here (.csv, .parquet or .npz; "
    "images: DIR/ for PNGs; tables: - for CSV on stdout).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace outputs that exist (-o, --grid, a --save-model directory).",
)
@click.option("--grid", type=click.Path(), help="Images: write a PNG grid of samples.")
@click.option("--seed", type=SEED, help="Random seed, for repeatable fitting and sampling.")
@click.option(
    "--filter",
    "filter_rows",
    is_flag=True,
    help="Keep only samples a detector fitted on the real rows "
    "of the class finds plausible and that are not near copies of training rows; sample more until N pass.",
)
@click.option(
    "--filter-model",
    type=click.Path(),
    help="The detector model directory --filter scores with (implies --filter).",
)
@model_options
@image_folder_options
@verbose_option
def augment(
    input,
    plugin,
    n,
    params,
    label_column,
    label,
    output,
    overwrite,
    grid,
    seed,
    filter_rows,
    filter_model,
    save_dir,
    model_dir,
    image_size,
    skip_bad_files,
    verbose,
):
    """Make N synthetic rows or images like INPUT (a file, a folder of PNG/JPEG images, or a dataset name).

    -o - writes synthetic rows as CSV to stdout (and the summary to stderr).
    """
    from synthkit.api import check_n
    from synthkit.image_folders import check_image_folder_output, is_folder_output
    from synthkit.io import (
        check_distinct,
        check_output,
        check_output_dir,
        read_input,
        removed_on_failure,
    )
    from synthkit.registry import get_registry

    quiet_tensorflow(verbose)
    params = parse_params(params)
    check_n(n)
    if save_dir and model_dir:
        raise SynthkitError("give either --save-model or --model, not both")
    if (
        model_dir
        and click.get_current_context().get_parameter_source("plugin") != ParameterSource.DEFAULT
    ):
        raise SynthkitError(
            f"--plugin {plugin} sets up a new fit; --model {model_dir} is used as saved, with its "
            "own generator: leave out --plugin"
        )
    if not model_dir:
        get_registry().get("generators", plugin)  # fail fast, naming what is installed
    inputs: set = set()
    data = read_input(input, inputs, image_size, skip_bad_files)
    check_folder_options(image_size, skip_bad_files, data)
    to_stdout = output == STDOUT
    if to_stdout:
        check_stdout_output(output, "table" if data.is_table else "images")
    elif output and not data.is_table and is_folder_output(output):
        check_image_folder_output(output, overwrite, inputs=inputs)
    elif output:
        if not data.is_table and not str(output).lower().endswith(".npz"):
            raise SynthkitError(
                "images are written as .npz (arrays x and y) or as PNGs into a folder "
                "(-o DIR/); use --grid for a picture"
            )
        check_output(output, overwrite, inputs=inputs)
    if grid:
        if data.is_table:
            raise SynthkitError("--grid draws images; this input is a table")
        check_output(grid, overwrite, suffixes=(".png",), inputs=inputs)
    if save_dir:
        check_output_dir(save_dir, model=True, inputs=inputs, overwrite=overwrite)
    check_distinct(output=None if to_stdout else output, grid=grid, save_model=save_dir)
    from synthkit.api import run_augment

    with removed_on_failure(None if to_stdout else output, grid, save_dir), progress_to_stderr():
        # outputs go last; a failure leaves none
        started = time.perf_counter()
        samples, labels, generator, report = run_augment(
            data,
            plugin=plugin,
            n=n,
            label_column=label_column,
            label=label,
            seed=seed,
            model=model_dir,
            progress=True,
            filter=filter_rows,
            filter_model=filter_model,
            **params,
        )
        elapsed = time.perf_counter() - started
        if save_dir:
            generator.save(save_dir)
        if grid:
            from synthkit.io import save_figure
            from synthkit.plots import image_grid

            save_figure(image_grid(samples, labels), grid)
        if output and not to_stdout:
            _write_samples(samples, labels, output)
    if to_stdout:
        sys.stdout.flush()
        samples.to_csv(sys.stdout, index=False)
    with summary_stream(to_stdout):
        click.echo(f"generated: {n} {'rows' if data.is_table else 'images'}  time: {elapsed:.1f}s")
        if report is not None:
            from synthkit.filtering import summary_line

            click.echo(summary_line(report))
        for path in (None if to_stdout else output, grid):
            if path:
                click.echo(f"wrote {path}")
        if save_dir:
            click.echo(f"saved model to {save_dir}")
    for line in getattr(
        generator.adapter_, "notes", []
    ):  # what the table adapter did to the columns
        click.echo(f"note: {line}", err=True)


def _write_samples(samples, labels, output) -> None:
    import numpy as np

    from synthkit.io import write_npz, write_table

    from synthkit.image_folders import is_folder_output, write_image_folder

    if hasattr(samples, "columns"):
        write_table(samples, output)
    elif is_folder_output(output):
        write_image_folder(samples, labels, output)
    elif str(output).lower().endswith(".npz"):
        arrays = {"x": samples}
        if labels is not None:
            arrays["y"] = np.asarray(labels)
        write_npz(arrays, output)
    else:
        raise SynthkitError("images are written as .npz (arrays x and y); use --grid for a picture")


@cli.command()
@click.argument("real")
@click.argument("synthetic")
@click.option(
    "--label-column",
    default=None,
    help="Tables: a two-valued label column (per-label similarity and GBM utility).",
)
@click.option(
    "--positive-label",
    default=None,
    metavar="VALUE",
    help="The --label-column value GBM utility scores as positive (default: the yes value of a "
    "yes/no pair, else the rarer value in REAL).",
)
@click.option(
    "--holdout",
    default=None,
    help="Real rows or images the generator did not see (default: 20% of REAL for "
    "tables; no memorisation check for images).",
)
@click.option(
    "--seed",
    type=SEED,
    default=0,
    show_default=True,
    help="Seed of the holdout split, of the real-vs-real reference draw and of the measures.",
)
@click.option(
    "--features",
    "features_from",
    default=None,
    metavar="DATASET",
    help="Images: measure with this dataset's feature model (e.g. mnist) (default: REAL's own "
    "dataset's; for a file or folder, one trained on REAL).",
)
@image_folder_options
@verbose_option
def evaluate(
    real,
    synthetic,
    label_column,
    positive_label,
    holdout,
    seed,
    features_from,
    image_size,
    skip_bad_files,
    verbose,
):
    """Quality of a SYNTHETIC set against REAL data (each a file or a dataset name).

    Images: the features come from REAL's dataset (such as mnist:test) or the dataset --features
    names (such as mnist); for a file or folder without --features, a classifier is trained on
    REAL's labels (its held-out accuracy is printed) or, unlabelled, an autoencoder. Printed: the
    classifier accuracy on the labels asked for, then FID and KID beside their real-vs-real
    reference, per class when both sets are labelled (a dataset, a folder with a subfolder per
    label, or an NPZ with a 'y' array, as `synthkit augment --label` writes).
    """
    quiet_tensorflow(verbose)
    from synthkit import evaluation
    from synthkit.io import read_input

    folder_options = {"image_size": image_size, "skip_bad_files": skip_bad_files}
    real_d, synth_d = read_input(real, **folder_options), read_input(synthetic, **folder_options)
    hold_d = read_input(holdout, **folder_options) if holdout else None
    check_folder_options(image_size, skip_bad_files, real_d, synth_d, hold_d)
    if real_d.is_table != synth_d.is_table or (
        hold_d is not None and hold_d.is_table != real_d.is_table
    ):
        raise DataError("REAL and SYNTHETIC must both be tables or both be images")
    if real_d.is_table:
        if positive_label is not None and label_column is None:
            raise DataError(
                "--positive-label names a class of --label-column; give --label-column too"
            )
        report = evaluation.table_report(
            real_d.frame,
            synth_d.frame,
            label_column=label_column,
            holdout=None if hold_d is None else hold_d.frame,
            seed=seed,
            positive_label=positive_label,
        )
        rows = evaluation.table_report_rows(report)
    else:
        if label_column is not None or positive_label is not None:
            raise DataError(
                "--label-column applies to tables; image labels come from a folder's subfolders or an NPZ's 'y' array"
            )
        report = evaluation.image_report(
            real_d.images,
            synth_d.images,
            labels=synth_d.labels,
            train=real_d.images if hold_d is not None else None,
            holdout=None if hold_d is None else hold_d.images,
            real_labels=real_d.labels,
            seed=seed,
            features=features_from or (None if Path(real).exists() else real),
        )
        rows = evaluation.image_report_rows(report)
    click.echo(evaluation.format_table([("measure", "value")] + rows))


cli.add_command(detect)


def main(argv=None) -> None:
    """Console entry point: load plugin commands, then run the CLI."""
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    from synthkit.registry import get_registry

    get_registry().add_commands(cli)
    cli.main(args=argv, prog_name="synthkit")


if __name__ == "__main__":  # pragma: no cover
    from synthkit.cli import (
        main as imported_main,
    )  # python -m synthkit.cli: the group cli_detect registered on

    imported_main(sys.argv[1:])
