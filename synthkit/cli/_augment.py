"""``synthkit augment``: synthetic rows or images like the input, written to a file or folder."""

from __future__ import annotations
import sys
import time
import click
from synthkit.cli._options import (
    SEED,
    STDOUT,
    check_folder_options,
    check_stdout_output,
    image_folder_options,
    model_options,
    parse_params,
    progress_to_stderr,
    quiet_tensorflow,
    summary_stream,
    na_values_option,
    verbose_option,
)
from synthkit.errors import SynthkitError


@click.command()
@click.argument("input")
@click.option(
    "--plugin",
    "-p",
    help="Generator to use (see `synthkit plugins`); default: diffusion for tables, gan for images.",
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
@na_values_option
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
    from synthkit.base import check_n
    from synthkit.io._image_folders import check_image_folder_output, is_folder_output
    from synthkit.io._reading import read_input
    from synthkit.io._outputs import (
        check_distinct,
        check_output,
        check_output_dir,
        removed_on_failure,
    )
    from synthkit.registry import get_registry

    quiet_tensorflow(verbose)
    params = parse_params(params)
    check_n(n)
    if save_dir and model_dir:
        raise SynthkitError("give either --save-model or --model, not both")
    if model_dir and plugin:
        raise SynthkitError(
            f"--plugin {plugin} sets up a new fit; --model {model_dir} is used as saved, with its "
            "own generator: leave out --plugin"
        )
    if plugin and not model_dir:
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
    from synthkit.synthesis._run import run_augment

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
            from synthkit.io._writing import save_figure
            from synthkit.plots._figures import image_grid

            save_figure(image_grid(samples, labels), grid)
        if output and not to_stdout:
            _write_samples(samples, labels, output)
    if to_stdout:
        sys.stdout.flush()
        samples.to_csv(sys.stdout, index=False)
    with summary_stream(to_stdout):
        click.echo(f"generated: {n} {'rows' if data.is_table else 'images'}  time: {elapsed:.1f}s")
        if report is not None:
            from synthkit.synthesis._filter import summary_line

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

    from synthkit.io._writing import write_npz, write_table

    from synthkit.io._image_folders import is_folder_output, write_image_folder

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
