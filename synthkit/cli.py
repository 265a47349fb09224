"""The ``synthkit`` command line: plugins, datasets, detect and augment, plus plugin commands.

Heavy imports (pandas, scikit-learn, TensorFlow) happen inside commands, so ``--help``,
``plugins`` and ``datasets`` start fast. A user error ends with one line on stderr and exit 1.

Output: stdout holds the summary only (or, with ``-o -``, the rows as CSV, and the summary goes to
stderr); progress (epochs, streaming, plots) goes to stderr; TensorFlow's start-up lines, log
messages and warnings are silenced unless ``--verbose`` (see ``synthkit.quiet``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import warnings

import click

from synthkit.errors import DataError, SynthkitError


class SynthkitGroup(click.Group):
    """A click group that turns every SynthkitError into a one-line message and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SynthkitError as exc:
            raise click.ClickException(" ".join(str(exc).split())) from None


@click.group(cls=SynthkitGroup)
@click.version_option(package_name="synthkit")
def cli():
    """synthkit: anomaly detection and synthetic data, with plugins."""


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


def quiet_tensorflow(verbose: bool = False) -> None:
    """First thing in every command that may load TensorFlow (before it is imported)."""
    from synthkit.quiet import quiet_tensorflow as _quiet

    _quiet(verbose)


def verbose_option(f):
    return click.option("--verbose", "-v", is_flag=True,
                        help="Also show TensorFlow's own start-up lines, log messages and warnings (stderr).")(f)


def progress_to_stderr():
    """Everything printed while fitting, scoring and plotting (Keras epoch lines, t-SNE) goes to
    stderr, the one progress channel; stdout keeps the summary (or the data, with -o -)."""
    return contextlib.redirect_stdout(sys.stderr)


def _check_stdout_output(output, what: str) -> None:
    if output == STDOUT and what != "table":
        raise SynthkitError("-o - writes a table as CSV to standard output; images need an .npz file")


@cli.command()
def plugins():
    """List installed plugins, what each registered, and any that failed to load."""
    from synthkit.registry import get_registry

    registry = get_registry()
    registry.entries("detectors")  # runs the registration hooks
    for info in sorted(registry.infos.values(), key=lambda i: i.name):
        origin = f"{info.package} {info.version}" if info.version else (info.package or "in-process")
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
        click.echo(f"{name} ({dataset.kind}) splits: {', '.join(splits) if splits else 'none available'}")
        if dataset.description:
            click.echo(f"  {dataset.description}")
        click.echo(f"  {dataset.location()}")


class ContaminationType(click.ParamType):
    """--contamination: a share in (0, 0.5] as a number, or the word auto."""

    name = "contamination"

    def convert(self, value, param, ctx):
        if isinstance(value, float) or str(value).strip().lower() == "auto":
            return value if isinstance(value, float) else "auto"
        try:
            return float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number (e.g. 0.05) nor auto", param, ctx)


def _model_options(f):
    f = click.option("--model", "model_dir", type=click.Path(), help="Use a saved model directory instead of fitting.")(f)
    f = click.option("--save-model", "save_dir", type=click.Path(), help="Save the fitted model to this directory.")(f)
    return f


@cli.command()
@click.argument("input")
@click.option("--plugin", "-p", default=None,
              help="Detector to use (see `synthkit plugins`); default: ensemble for tables, autoencoder for images.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A detector parameter; repeat for more. With --model only missing=error|impute|drop.")
@click.option("--contamination", type=ContaminationType(), metavar="SHARE|auto",
              help="Expected share of anomalies, which sets the threshold (default 0.1), or auto: a threshold "
                   "from the training scores alone (median + 2 MADs).")
@click.option("--explain", type=click.IntRange(min=1), metavar="K",
              help="Add reason_1..K to flagged rows: the K columns with the largest part of the score (tables).")
@click.option("--label-column", help="A two-valued label column (1/0, Y/N, yes/no, true/false, >50K/<=50K, ...) "
                                     "kept out of the features and used to report ROC-AUC.")
@click.option("--positive-label", metavar="VALUE",
              help="The --label-column value that marks an anomaly (default: the yes value of a yes/no "
                   "pair such as 1/0 or Y/N, else the rarer value).")
@click.option("--normal-class", help="Images: fit on this class only and score all (other classes = anomalies).")
@click.option("-o", "--output", type=click.Path(), help="Write rows with scores here (.csv, .parquet, .npz; "
                                                        "- for CSV on stdout).")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--plot", "plot_dir", type=click.Path(), help="Write diagnostic plots (PNG) to this folder.")
@click.option("--seed", type=int, help="Random seed, for a repeatable fit (and fitting sample).")
@click.option("--chunksize", type=click.IntRange(min=1), metavar="ROWS",
              help="Stream a CSV/Parquet INPUT in chunks of this many rows (default 100000 when streaming).")
@click.option("--sample-rows", type=click.IntRange(min=1), metavar="ROWS",
              help="Fit on a seeded random sample of this many rows of a CSV/Parquet INPUT, then stream "
                   "the scoring (automatic, 500000 rows, for files over 256 MiB).")
@_model_options
@verbose_option
def detect(input, plugin, params, contamination, explain, label_column, positive_label, normal_class, output,
           overwrite, plot_dir, seed, chunksize, sample_rows, save_dir, model_dir, verbose):
    """Score INPUT (a CSV, Parquet, NPZ or IDX file, or a dataset name such as transactions or mnist:test).

    A CSV or Parquet INPUT is streamed in chunks, in flat memory, when scoring with --model, when
    --chunksize or --sample-rows is given, or when fitting on a file over 256 MiB (the fit then uses
    a seeded sample of --sample-rows rows). --plot and .npz outputs read the whole input instead.
    -o - writes the scored rows as CSV to stdout (and the summary to stderr); it reads the input
    in memory.
    """
    from synthkit.api import detect_streams, run_detect
    from synthkit.modeldir import model_for
    from synthkit.io import check_distinct, check_output, check_output_dir, read_input, removed_on_failure

    quiet_tensorflow(verbose)
    params = parse_params(params)
    if save_dir and model_dir:
        raise SynthkitError("give either --save-model or --model, not both")
    missing = None
    if model_dir:
        missing = params.pop("missing", None)
        if params or contamination is not None:
            raise SynthkitError("--param and --contamination set up a new fit; a --model is used as saved "
                                "(only --param missing=error|impute|drop applies to it)")
    to_stdout = output == STDOUT
    if to_stdout and (chunksize or sample_rows):
        raise SynthkitError("-o - writes to standard output in one piece; --chunksize and --sample-rows stream "
                            "to a file: give -o FILE.csv")
    # the API streams a file by its rule; --plot and -o - need the scored rows, so they read it whole
    streamed = not plot_dir and not to_stdout and detect_streams(
        input, output, model=model_dir, chunksize=chunksize, sample_rows=sample_rows, normal_class=normal_class)
    inputs: set = set()
    if streamed:
        inputs.add(os.path.realpath(input))
        data = input
    else:
        data = read_input(input, inputs)
    if to_stdout:
        _check_stdout_output(output, "table" if data.is_table else "images")
    elif output:
        check_output(output, overwrite, inputs=inputs)
    if save_dir:
        check_output_dir(save_dir, model=True, inputs=inputs)
    if plot_dir:
        check_output_dir(plot_dir, inputs=inputs)
    check_distinct(output=None if to_stdout else output, save_model=save_dir, plot=plot_dir)
    model = None
    if model_dir:
        model = model_for(model_dir, "detector", "detect")
        if missing is not None:
            _set_missing(model, missing)
    plot_time = None
    with removed_on_failure(None if to_stdout else output, save_dir, plot_dir), progress_to_stderr():
        # the model is saved, then OUT written, then the plots drawn; a failure leaves none of them
        started = time.perf_counter()
        result = run_detect(data, plugin=plugin, contamination=contamination, label_column=label_column, seed=seed,
                            normal_class=normal_class, model=model, positive_label=positive_label,
                            output=None if to_stdout else output, chunksize=chunksize, sample_rows=sample_rows,
                            save_model=save_dir, progress=True, explain=explain, **params)
        if plot_dir:  # counted in the printed time: t-SNE alone can take most of a run
            from synthkit.plots import detection_plots

            plot_started = time.perf_counter()
            written = detection_plots(result, data, plot_dir, progress=True)
            plot_time = time.perf_counter() - plot_started
        elapsed = time.perf_counter() - started
    if to_stdout:
        sys.stdout.flush()
        result.frame.to_csv(sys.stdout, index=False)
    with _summary_stream(to_stdout):
        if plot_dir:
            click.echo(f"plots: {', '.join(written)}")
        _print_detect_summary(result.summary, elapsed, None if to_stdout else output, save_dir, plot_time)


def _set_missing(model, missing) -> None:
    """Apply a detector's missing-value policy (error, impute or drop) to a loaded detector (medians learned at fit)."""
    from synthkit.detector import MISSING_POLICIES

    if missing not in MISSING_POLICIES:
        raise SynthkitError(f"missing={missing!r} is not a detector's policy; choose one of {', '.join(MISSING_POLICIES)}")
    if "missing" in model.get_params(deep=False):
        model.set_params(missing=missing)
    model.adapter_.missing = missing


def _summary_stream(to_stderr: bool):
    """Where the summary goes: stdout, or stderr when stdout carries the data (-o -)."""
    return contextlib.redirect_stdout(sys.stderr) if to_stderr else contextlib.nullcontext()


def _print_detect_summary(s: dict, elapsed: float, output, save_dir, plot_time: float | None = None) -> None:
    """The summary lines of a detect run (stdout, or stderr with -o -)."""
    if "sampled_rows" in s:
        click.echo(f"fitted on {s['sampled_rows']} sampled rows (seed {s['sample_seed']})")
    share = s["flagged"] / s["rows"] if s["rows"] else 0.0
    rate = s.get("rows_per_second")
    speed = f"  ({rate:,.0f} rows/s)" if rate and rate == rate else ""  # streamed runs only; NaN != NaN
    plots = f" (plots: {plot_time:.1f}s)" if plot_time is not None else ""
    method = s.get("threshold_method", "quantile")
    rule = f" (auto: {method})" if method != "quantile" else ""
    click.echo(f"rows: {s['rows']}  flagged: {s['flagged']} ({share:.1%})  threshold: {s['threshold']:.6g}{rule}  "
               f"time: {elapsed:.1f}s{plots}{speed}")
    if s.get("rows_dropped"):
        click.echo(f"rows dropped for missing values: {s['rows_dropped']}")
    if s.get("rows_imputed"):
        click.echo(f"rows with imputed values: {s['rows_imputed']}")
    if "anomaly_class" in s:
        from synthkit.evaluation.detection import describe_labels

        click.echo(describe_labels(s))
    if "roc_auc" in s:
        click.echo(f"ROC-AUC: {s['roc_auc']:.4f}  average precision: {s['average_precision']:.4f}  "
                   f"precision@k: {s['precision_at_k']:.4f}")
    if output:
        click.echo(f"wrote {output}")
    if save_dir:
        click.echo(f"saved model to {save_dir}")


@cli.command()
@click.argument("input")
@click.option("--plugin", "-p", default="gan", show_default=True, help="Generator to use (see `synthkit plugins`).")
@click.option("-n", "n", type=int, required=True, help="Number of synthetic rows or images (1 to 10,000,000).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A generator parameter; repeat for more.")
@click.option("--label-column", help="Tables: the column to condition on.")
@click.option("--label", help="The class every synthetic row or image should have.")
@click.option("-o", "--output", type=click.Path(), help="Write the samples here (.csv, .parquet or .npz; "
                                                        "tables: - for CSV on stdout).")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--grid", type=click.Path(), help="Images: write a PNG grid of samples.")
@click.option("--seed", type=int, help="Random seed, for repeatable fitting and sampling.")
@click.option("--filter", "filter_rows", is_flag=True, help="Keep only samples a detector fitted on the real rows "
              "of the class finds plausible and that are not near copies of training rows; sample more until N pass.")
@click.option("--filter-model", type=click.Path(), help="The detector model directory --filter scores with "
                                                        "(implies --filter).")
@_model_options
@verbose_option
def augment(input, plugin, n, params, label_column, label, output, overwrite, grid, seed, filter_rows, filter_model,
            save_dir, model_dir, verbose):
    """Make N synthetic rows or images like INPUT (a file or a dataset name).

    -o - writes synthetic rows as CSV to stdout (and the summary to stderr).
    """
    from synthkit.api import check_n
    from synthkit.io import check_distinct, check_output, check_output_dir, read_input, removed_on_failure
    from synthkit.registry import get_registry

    quiet_tensorflow(verbose)
    params = parse_params(params)
    check_n(n)
    if save_dir and model_dir:
        raise SynthkitError("give either --save-model or --model, not both")
    if not model_dir:
        get_registry().get("generators", plugin)  # fail fast, naming what is installed
    inputs: set = set()
    data = read_input(input, inputs)
    to_stdout = output == STDOUT
    if to_stdout:
        _check_stdout_output(output, "table" if data.is_table else "images")
    elif output:
        if not data.is_table and not str(output).lower().endswith(".npz"):
            raise SynthkitError("images are written as .npz (arrays x and y); use --grid for a picture")
        check_output(output, overwrite, inputs=inputs)
    if grid:
        if data.is_table:
            raise SynthkitError("--grid draws images; this input is a table")
        check_output(grid, overwrite, suffixes=(".png",), inputs=inputs)
    if save_dir:
        check_output_dir(save_dir, model=True, inputs=inputs)
    check_distinct(output=None if to_stdout else output, grid=grid, save_model=save_dir)
    from synthkit.api import run_augment

    with removed_on_failure(None if to_stdout else output, grid, save_dir), progress_to_stderr():
        # outputs go last; a failure leaves none
        started = time.perf_counter()
        samples, labels, generator, report = run_augment(
            data, plugin=plugin, n=n, label_column=label_column, label=label, seed=seed, model=model_dir,
            progress=True, filter=filter_rows, filter_model=filter_model, **params)
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
    with _summary_stream(to_stdout):
        click.echo(f"generated: {n} {'rows' if data.is_table else 'images'}  time: {elapsed:.1f}s")
        if report is not None:
            from synthkit.filtering import summary_line

            click.echo(summary_line(report))
        for path in (None if to_stdout else output, grid):
            if path:
                click.echo(f"wrote {path}")
        if save_dir:
            click.echo(f"saved model to {save_dir}")


def _write_samples(samples, labels, output) -> None:
    import numpy as np

    from synthkit.io import write_npz, write_table

    if hasattr(samples, "columns"):
        write_table(samples, output)
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
@click.option("--label-column", default=None, help="Tables: a two-valued label column (per-label similarity and "
                                                   "GBM utility).")
@click.option("--positive-label", default=None, metavar="VALUE",
              help="The --label-column value GBM utility scores as positive (default: the yes value of a "
                   "yes/no pair, else the rarer value in REAL).")
@click.option("--holdout", default=None, help="Real rows or images the generator did not see (default: 20% of REAL for "
                                              "tables; no memorisation check for images).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the holdout split, of the real-vs-real reference draw and of the measures.")
@click.option("--features", "features_from", default=None, metavar="DATASET",
              help="Images: measure with this dataset's feature model (e.g. mnist) when REAL is a file "
                   "(default: REAL's own dataset).")
@verbose_option
def evaluate(real, synthetic, label_column, positive_label, holdout, seed, features_from, verbose):
    """Quality of a SYNTHETIC set against REAL data (each a file or a dataset name).

    Images: REAL is a dataset with a feature model (such as mnist:test), or a file measured with
    the feature model of the dataset --features names (such as mnist), which measures both sets: the classifier accuracy on the labels asked for, then FID and KID beside their
    real-vs-real reference, per class when both sets are labelled (a dataset, or an NPZ with a 'y'
    array, as `synthkit augment --label` writes).
    """
    quiet_tensorflow(verbose)
    from synthkit import evaluation
    from synthkit.io import read_input

    real_d, synth_d = read_input(real), read_input(synthetic)
    hold_d = read_input(holdout) if holdout else None
    if real_d.is_table != synth_d.is_table or (hold_d is not None and hold_d.is_table != real_d.is_table):
        raise DataError("REAL and SYNTHETIC must both be tables or both be images")
    if real_d.is_table:
        if positive_label is not None and label_column is None:
            raise DataError("--positive-label names a class of --label-column; give --label-column too")
        report = evaluation.table_report(real_d.frame, synth_d.frame, label_column=label_column,
                                         holdout=None if hold_d is None else hold_d.frame, seed=seed,
                                         positive_label=positive_label)
        rows = evaluation.table_report_rows(report)
    else:
        if label_column is not None or positive_label is not None:
            raise DataError("--label-column applies to tables; image labels come from the NPZ 'y' array")
        report = evaluation.image_report(real_d.images, synth_d.images, labels=synth_d.labels,
                                         train=real_d.images if hold_d is not None else None,
                                         holdout=None if hold_d is None else hold_d.images,
                                         real_labels=real_d.labels, seed=seed,
                                         features=features_from or real)
        rows = evaluation.image_report_rows(report)
    click.echo(evaluation.format_table([("measure", "value")] + rows))


def main(argv=None) -> None:
    """Console entry point: load plugin commands, then run the CLI."""
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    from synthkit.registry import get_registry

    get_registry().add_commands(cli)
    cli.main(args=argv, prog_name="synthkit")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
