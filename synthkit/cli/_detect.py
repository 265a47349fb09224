"""``synthkit detect``: score a table, images or a big file with a detector (fitted here or loaded).

Registered on the ``synthkit`` group by ``synthkit.cli._main``; the options it shares are in ``synthkit.cli._options``.
"""

from __future__ import annotations

import contextlib
import logging
import os
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


@click.command()
@click.argument("input")
@click.option(
    "--plugin",
    "-p",
    default=None,
    help="Detector to use (see `synthkit plugins`); default: iforest for tables, autoencoder for images.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A detector parameter; repeat for more. With --model only missing=model|error|impute|drop.",
)
@click.option(
    "--contamination",
    type=ContaminationType(),
    metavar="SHARE|auto",
    help="Expected share of anomalies, which sets the threshold, or auto: a threshold from the "
    "training scores alone (median + 1.5 MADs). Default: the detector's own (auto for iforest, "
    "0.1 for the others).",
)
@click.option(
    "--explain",
    type=click.IntRange(min=1),
    metavar="K",
    help="Add reason_1..K to flagged rows: the K columns with the largest part of the score (tables).",
)
@click.option(
    "--label-column",
    help="A two-valued label column (1/0, Y/N, yes/no, true/false, >50K/<=50K, ...) "
    "kept out of the features and used to report ROC-AUC.",
)
@click.option(
    "--positive-label",
    metavar="VALUE",
    help="The --label-column value that marks an anomaly (default: the yes value of a yes/no "
    "pair such as 1/0 or Y/N, else the rarer value).",
)
@click.option(
    "--normal-class",
    help="Images: fit on this class only and score all (other classes = anomalies).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="Write rows with scores here (.csv, .parquet, .npz; - for CSV on stdout).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace outputs that exist (-o, a --save-model directory, the plots in --plot).",
)
@click.option(
    "--plot", "plot_dir", type=click.Path(), help="Write diagnostic plots (PNG) to this folder."
)
@click.option("--seed", type=SEED, help="Random seed, for a repeatable fit (and fitting sample).")
@click.option(
    "--chunksize",
    type=click.IntRange(min=1),
    metavar="ROWS",
    help="Stream a CSV/Parquet INPUT in chunks of this many rows (default 100000 when streaming).",
)
@click.option(
    "--sample-rows",
    type=click.IntRange(min=1),
    metavar="ROWS",
    help="Fit on a seeded random sample of this many rows of a CSV/Parquet INPUT, then stream "
    "the scoring (automatic, 500000 rows, for files over 256 MiB).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="dask: score INPUT (a glob or folder of CSV/Parquet parts) on a Dask cluster into the folder "
    "-o OUT_DIR, one Parquet part per input file, then _SUCCESS.",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="--engine dask: use this running Dask scheduler (default: start a local cluster).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    metavar="N",
    help="--engine dask: worker processes of the local cluster (default: one per core).",
)
@model_options
@image_folder_options
@na_values_option
@verbose_option
def detect(
    input,
    plugin,
    params,
    contamination,
    explain,
    label_column,
    positive_label,
    normal_class,
    output,
    overwrite,
    plot_dir,
    seed,
    chunksize,
    sample_rows,
    engine,
    scheduler,
    workers,
    save_dir,
    model_dir,
    image_size,
    skip_bad_files,
    verbose,
):
    """Score INPUT (a CSV, Parquet, NPZ or IDX file, a folder of PNG/JPEG images, or a dataset name such as
    transactions or mnist:test).

    A CSV or Parquet INPUT is streamed in chunks, in flat memory, when scoring with --model, when
    --chunksize or --sample-rows is given, or when fitting on a file over 256 MiB (the fit then uses
    a seeded sample of --sample-rows rows). --plot and .npz outputs read the whole input instead.
    -o - writes the scored rows as CSV to stdout (and the summary to stderr); it reads the input
    in memory.
    """
    from synthkit.detection._run import detect_streams, run_detect
    from synthkit.io._model_dirs import model_for
    from synthkit.io._reading import read_input
    from synthkit.io._outputs import (
        check_distinct,
        check_output,
        check_output_dir,
        removed_on_failure,
    )

    quiet_tensorflow(verbose)
    params = parse_params(params)
    if engine == "dask":
        return _detect_dask(
            input,
            model_dir,
            output,
            overwrite,
            scheduler,
            workers,
            label_column,
            explain,
            plugin=plugin,
            params=params,
            contamination=contamination,
            seed=seed,
            sample_rows=sample_rows,
            save_dir=save_dir,
            verbose=verbose,
            local_only={
                "--positive-label": positive_label,
                "--normal-class": normal_class,
                "--plot": plot_dir,
                "--chunksize": chunksize,
                "--image-size": image_size,
                "--skip-bad-files": skip_bad_files or None,
            },
        )
    if scheduler or workers:
        raise SynthkitError("--scheduler and --workers are for --engine dask")
    if save_dir and model_dir:
        raise SynthkitError("give either --save-model or --model, not both")
    missing = None
    if model_dir:
        missing = params.pop("missing", None)
        if params or contamination is not None:
            raise SynthkitError(
                "--param and --contamination set up a new fit; a --model is used as saved "
                "(only --param missing=model|error|impute|drop applies to it)"
            )
        if plugin:
            raise SynthkitError(
                f"--plugin {plugin} sets up a new fit; --model {model_dir} is used as saved, with "
                "its own detector: leave out --plugin"
            )
    to_stdout = output == STDOUT
    if to_stdout and (chunksize or sample_rows):
        raise SynthkitError(
            "-o - writes to standard output in one piece; --chunksize and --sample-rows stream "
            "to a file: give -o FILE.csv"
        )
    # the API streams a file by its rule; --plot and -o - need the scored rows, so they read it whole
    streamed = (
        not plot_dir
        and not to_stdout
        and detect_streams(
            input,
            output,
            model=model_dir,
            chunksize=chunksize,
            sample_rows=sample_rows,
            normal_class=normal_class,
        )
    )
    inputs: set = set()
    if streamed:
        inputs.add(os.path.realpath(input))
        data = input
    else:
        data = read_input(input, inputs, image_size, skip_bad_files)
    check_folder_options(image_size, skip_bad_files, data)
    if to_stdout:
        check_stdout_output(output, "table" if data.is_table else "images")
    elif output:
        check_output(output, overwrite, inputs=inputs)
    if save_dir:
        check_output_dir(save_dir, model=True, inputs=inputs, overwrite=overwrite)
    if plot_dir:
        from synthkit.plots._detection import DETECTION_PLOTS

        check_output_dir(plot_dir, inputs=inputs, overwrite=overwrite, names=DETECTION_PLOTS)
    check_distinct(output=None if to_stdout else output, save_model=save_dir, plot=plot_dir)
    model = None
    if model_dir:
        model = model_for(model_dir, "detector", "detect")
        if missing is not None:
            _set_missing(model, missing)
    if (
        explain
    ):  # more reasons than columns: refused before anything fits (reason_columns checks it again)
        from synthkit.base._explaining import check_reasons

        if model is not None and getattr(model.adapter_, "kind", None) == "table":
            check_reasons(explain, len(model.adapter_.input_columns))
        elif model is None and not streamed and data.is_table:
            check_reasons(explain, len([c for c in data.frame.columns if c != label_column]))
    plot_time = None
    with (
        removed_on_failure(None if to_stdout else output, save_dir, plot_dir),
        progress_to_stderr(),
    ):
        # the model is saved, then OUT written, then the plots drawn; a failure leaves none of them
        started = time.perf_counter()
        result = run_detect(
            data,
            plugin=plugin,
            contamination=contamination,
            label_column=label_column,
            seed=seed,
            normal_class=normal_class,
            model=model,
            positive_label=positive_label,
            output=None if to_stdout else output,
            chunksize=chunksize,
            sample_rows=sample_rows,
            save_model=save_dir,
            progress=True,
            explain=explain,
            **params,
        )
        if plot_dir:  # counted in the printed time: t-SNE alone can take most of a run
            from synthkit.plots._detection import detection_plots

            plot_started = time.perf_counter()
            written = detection_plots(result, data, plot_dir, progress=True)
            plot_time = time.perf_counter() - plot_started
        elapsed = time.perf_counter() - started
    if to_stdout:
        sys.stdout.flush()
        result.frame.to_csv(sys.stdout, index=False)
    with summary_stream(to_stdout):
        if plot_dir:
            click.echo(f"plots: {', '.join(written)}")
        _print_detect_summary(
            result.summary, elapsed, None if to_stdout else output, save_dir, plot_time
        )


def _detect_dask(
    input,
    model_dir,
    output,
    overwrite,
    scheduler,
    workers,
    label_column,
    explain,
    plugin,
    params,
    contamination,
    seed,
    sample_rows,
    save_dir,
    local_only,
    verbose=False,
) -> None:
    """--engine dask: score the parts of INPUT on a Dask cluster (a local one unless --scheduler) into -o OUT_DIR."""
    given = [name for name, value in local_only.items() if value is not None]
    if given:
        raise SynthkitError(
            f"{given[0]} is not available with --engine dask; leave it out or use --engine local"
        )
    if not output or output == STDOUT:
        raise SynthkitError("--engine dask writes a folder of Parquet parts: give -o OUT_DIR")
    if model_dir and (params or contamination is not None or plugin or save_dir or sample_rows):
        raise SynthkitError(
            "--plugin, --param, --contamination, --save-model and --sample-rows set up a fit; "
            "with --model the saved model is used as it is"
        )
    from synthkit import dask as sdask
    from synthkit.io._outputs import check_output_dir, removed_on_failure

    sdask.check_out_dir(output, overwrite)
    if save_dir:
        check_output_dir(save_dir, model=True, overwrite=overwrite)
    exclude = [label_column] if label_column else []
    started = time.perf_counter()
    with (
        _dask_client(scheduler, workers, verbose),
        removed_on_failure(save_dir),
        progress_to_stderr(),
    ):
        model, fitted_on = model_dir, None
        if model is None:
            model, fitted_on = sdask.fit_on_sample(
                sdask.read_input(input, None),
                plugin,
                sample_rows,
                seed,
                contamination,
                params,
                exclude,
            )
            if save_dir:
                model.save(save_dir)
                model = save_dir
        ddf = sdask.read_input(input, model)
        summary = sdask.score_to_parquet(
            ddf, model, output, overwrite=overwrite, exclude=exclude, explain=explain
        )
    elapsed = time.perf_counter() - started
    if fitted_on is not None:
        click.echo(f"fitted on {fitted_on} sampled rows (seed {0 if seed is None else seed})")
    share = summary["flagged"] / summary["rows"] if summary["rows"] else 0.0
    click.echo(
        f"rows: {summary['rows']}  flagged: {summary['flagged']} ({share:.1%})  threshold: "
        f"{summary['threshold']:.6g}  parts: {summary['parts']}  time: {elapsed:.1f}s  "
        f"({summary['rows'] / elapsed if elapsed > 0 else float('nan'):,.0f} rows/s)"
    )
    click.echo(f"wrote {output}")
    if save_dir:
        click.echo(f"saved model to {save_dir}")


def _dask_client(scheduler, workers, verbose=False):
    """A distributed Client on --scheduler, or on a local cluster of --workers processes closed at the end.

    Unless ``verbose``, distributed's own log lines stay off stderr for the run (a worker's "Compute
    Failed" with its traceback, a lost connection): synthkit's one-line error says what failed."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SynthkitError('--engine dask needs dask: pip install "synthkit[dask]"') from None
    stack = contextlib.ExitStack()
    try:
        if not verbose:  # entered first, so restored after the cluster has closed
            stack.enter_context(_quiet_dask_logs())
        if scheduler:
            if workers:
                raise SynthkitError(
                    "--workers sizes a local cluster; a --scheduler has its own workers"
                )
            try:
                stack.enter_context(Client(scheduler, timeout=10))
            except (OSError, TimeoutError, ValueError) as exc:
                raise SynthkitError(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc}); is it running?"
                ) from None
        else:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",
                    # the level of the "distributed" handlers in the scheduler and each worker process
                    silence_logs=logging.ERROR if verbose else logging.CRITICAL,
                )
            )
            stack.enter_context(Client(cluster))
        stack.enter_context(_cluster_errors())
    except BaseException:
        stack.close()
        raise
    return stack


@contextlib.contextmanager
def _quiet_dask_logs():
    """Hold distributed's loggers in this process (client, scheduler, core, comm) to CRITICAL while
    the run lasts, and restore their levels after."""
    loggers = [logging.getLogger("distributed")] + [
        logger
        for name, logger in list(logging.root.manager.loggerDict.items())
        if name.startswith("distributed.") and isinstance(logger, logging.Logger)
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


@contextlib.contextmanager
def _cluster_errors():
    """A lost scheduler or connection, or a task whose workers all died, as one SynthkitError line."""
    from distributed.client import FutureCancelledError
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker

    from synthkit.errors import one_line

    try:
        yield
    except KilledWorker as exc:
        raise SynthkitError(f"Dask workers died while scoring: {one_line(exc)}") from None
    except (FutureCancelledError, CommClosedError) as exc:
        raise SynthkitError(f"lost the Dask cluster during the run: {one_line(exc)}") from None


def _set_missing(model, missing) -> None:
    """Apply a detector's missing-value policy (model, error, impute or drop) to a loaded detector (medians learned at fit)."""
    from synthkit.base._detector import MISSING_POLICIES

    if missing not in MISSING_POLICIES:
        raise SynthkitError(
            f"missing={missing!r} is not a detector's policy; choose one of {', '.join(MISSING_POLICIES)}"
        )
    if "missing" in model.get_params(deep=False):
        model.set_params(missing=missing)
    model.adapter_.missing = missing


AUTO_SHARE_CAVEAT = (
    "the flagged share is estimated from the scores alone: where anomalies are rare (under a few "
    "percent) it can be several times too many; rank by anomaly_score, or give --contamination"
)


def _print_detect_summary(
    s: dict, elapsed: float, output, save_dir, plot_time: float | None = None
) -> None:
    """The summary lines of a detect run (stdout, or stderr with -o -)."""
    if "sampled_rows" in s:
        click.echo(f"fitted on {s['sampled_rows']} sampled rows (seed {s['sample_seed']})")
    share = s["flagged"] / s["rows"] if s["rows"] else 0.0
    rate = s.get("rows_per_second")
    speed = (
        f"  ({rate:,.0f} rows/s)" if rate and rate == rate else ""
    )  # streamed runs only; NaN != NaN
    plots = f" (plots: {plot_time:.1f}s)" if plot_time is not None else ""
    method = s.get("threshold_method", "quantile")
    rule = f" (auto: {method})" if method != "quantile" else ""
    click.echo(
        f"rows: {s['rows']}  flagged: {s['flagged']} ({share:.1%})  threshold: {s['threshold']:.6g}{rule}  "
        f"time: {elapsed:.1f}s{plots}{speed}"
    )
    if method != "quantile":
        click.echo(AUTO_SHARE_CAVEAT)
    if s.get("rows_dropped"):
        click.echo(f"rows dropped for missing values: {s['rows_dropped']}")
    if s.get("rows_imputed"):
        click.echo(f"rows with imputed values: {s['rows_imputed']}")
    if "anomaly_class" in s:
        from synthkit.evaluation.detection import describe_labels

        click.echo(describe_labels(s))
    if "roc_auc" in s:
        click.echo(
            f"ROC-AUC: {s['roc_auc']:.4f}  average precision: {s['average_precision']:.4f}  "
            f"precision@k: {s['precision_at_k']:.4f}"
        )
    if output:
        click.echo(f"wrote {output}")
    if save_dir:
        click.echo(f"saved model to {save_dir}")
    for line in s.get("table_notes", []):  # what the table adapter did to the columns
        click.echo(f"note: {line}", err=True)
