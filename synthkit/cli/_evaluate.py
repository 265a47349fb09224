"""``synthkit evaluate``: the quality of a synthetic set against real data, as a report."""

from __future__ import annotations
from pathlib import Path
import click
from synthkit.cli._options import (
    SEED,
    check_folder_options,
    image_folder_options,
    quiet_tensorflow,
    verbose_option,
)
from synthkit.errors import DataError


@click.command()
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

    Tables: a measure that cannot run on these rows (GBM utility when the real training or test
    rows hold one class only, say) is printed as skipped, with the reason, beside the others; it
    is an error only when no measure can run.
    """
    quiet_tensorflow(verbose)
    from synthkit import evaluation
    from synthkit.io._reading import read_input

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
