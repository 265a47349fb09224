"""``synthkit denoise``: denoise images with a diffusion model and draw the comparison grid.

Only click and the standard library load at registration; numpy, synthkit.io._reading and TensorFlow load
when the command runs.
"""

from __future__ import annotations

import time

import click

from synthkit.cli import SEED
from synthkit.errors import DataError, SynthkitError

QUICK_FIT = {"denoiser_epochs": 5, "ae_epochs": 5, "epochs": 1}


@click.command("denoise")
@click.argument("input")
@click.option(
    "--noise-std",
    type=click.FloatRange(min=0.0, max=1.0),
    help="Add Gaussian noise of this standard deviation (in [0, 1] pixel units) to INPUT first, "
    "then denoise it, knowing the level. Without it INPUT is taken as already noisy and "
    "its noise level is estimated.",
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(),
    help="A saved diffusion model directory (from "
    "`synthkit augment ... --plugin diffusion --save-model DIR`). Without it a quick model is "
    "fitted on INPUT first.",
)
@click.option(
    "--save-model", "save_dir", type=click.Path(), help="Save the quickly fitted model here."
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A diffusion parameter of the quick fit (default denoiser_epochs=5 ae_epochs=5 epochs=1), "
    "or denoise_steps.",
)
@click.option(
    "-n", "limit", type=click.IntRange(min=1), help="Use only the first N images of INPUT."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="Write denoised images to this .npz (arrays x, noisy, and y when INPUT has labels).",
)
@click.option(
    "--grid", type=click.Path(), help="Write a PNG grid: original / noisy / denoised rows."
)
@click.option("--overwrite", is_flag=True, help="Replace outputs that exist.")
@click.option(
    "--seed",
    type=SEED,
    default=0,
    show_default=True,
    help="Seed of the added noise and of the quick fit.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also show TensorFlow's own start-up lines, log messages and warnings (stderr).",
)
def denoise(
    input, noise_std, model_dir, save_dir, params, limit, output, grid, overwrite, seed, verbose
):
    """Denoise the images of INPUT (an NPZ or IDX file, or an image dataset such as mnist:test).

    Without --model, a quick model is fitted on INPUT first (the clean images when --noise-std is
    given): its pixel denoiser and its denoising autoencoder for 5 epochs each, and its diffusion
    U-Net for 1 epoch: enough for denoising (which uses the autoencoder and U-Net only with
    --param denoise_steps=K) but not for sampling. Denoised images come back in INPUT's dtype and
    scale (uint8, or floats in [0, 1] or [0, 255]).
    """
    import numpy as np

    from synthkit.cli import parse_params, progress_to_stderr, quiet_tensorflow
    from synthkit.io import read_input
    from synthkit.io import (
        check_distinct,
        check_output,
        check_output_dir,
        removed_on_failure,
    )

    quiet_tensorflow(verbose)
    params = parse_params(params)
    if save_dir and model_dir:
        raise SynthkitError("give either --save-model or --model, not both")
    if model_dir and set(params) - {"denoise_steps"}:
        raise SynthkitError(
            "--param sets up the quick fit; with --model only --param denoise_steps=K applies"
        )
    inputs: set = set()
    data = read_input(input, inputs)
    if data.is_table:
        raise DataError(
            f"{input} is a table; denoise works on images (an NPZ/IDX file or an image dataset)"
        )
    if output:
        check_output(output, overwrite, suffixes=(".npz",), inputs=inputs)
    if grid:
        check_output(grid, overwrite, suffixes=(".png",), inputs=inputs)
    if save_dir:
        check_output_dir(save_dir, model=True, inputs=inputs, overwrite=overwrite)
    check_distinct(output=output, grid=grid, save_model=save_dir)
    images = np.asarray(data.images)
    labels = data.labels
    if limit:
        images = images[:limit]
        labels = None if labels is None else labels[:limit]
    if len(images) == 0:
        raise DataError(f"{input} holds no images")
    steps = params.pop("denoise_steps", None)
    started = time.perf_counter()
    if model_dir:
        from synthkit.io import model_for

        model = model_for(model_dir, "generator", "denoise")
        if not hasattr(model, "denoise"):
            raise SynthkitError(
                f"{model_dir} holds a {type(model).__name__}, which cannot denoise; "
                "save a diffusion model"
            )
    else:
        from synthkit.registry import get_generator

        settings = {**QUICK_FIT, **params}
        settings.setdefault("seed", seed)
        model = get_generator("diffusion", **settings)
        with progress_to_stderr():
            model.fit(images)
            if not int(model.denoise_steps if steps is None else steps) and int(
                model._setting("denoiser_epochs")
            ):
                model.train_denoiser()  # now, so that the fitting time below counts it
    fitted = time.perf_counter()
    if getattr(model, "kind_", "image") != "image":
        raise DataError(f"{model_dir} was fitted on a table; denoise needs an image model")
    unit, _ = model.adapter_.transform(images)
    if noise_std is not None:
        from synthkit_plugins.diffusion.noise import add_noise

        noisy_unit = add_noise(unit, noise_std, np.random.default_rng(seed))
        noisy = model.adapter_.inverse_transform(
            noisy_unit, like=images
        )  # in INPUT's dtype and scale
        level, how = float(noise_std), "given"
    else:
        noisy, noisy_unit = images, unit
        level, how = model.estimate_noise_std(images), "estimated"
    with progress_to_stderr():
        denoised = model.denoise(noisy, noise_std=level, steps=steps)
    elapsed = time.perf_counter() - started
    den_unit, _ = model.adapter_.transform(denoised)
    from synthkit_plugins.diffusion.noise import psnr

    click.echo(
        f"images: {len(images)}  noise std: {level:.3f} ({how})  "
        f"time: {elapsed:.1f}s ({'loading' if model_dir else 'fitting'} the model: {fitted - started:.1f}s)"
    )
    if noise_std is not None:
        before, after = psnr(unit, noisy_unit), psnr(unit, den_unit)
        click.echo(
            f"PSNR noisy: {before:.2f} dB  denoised: {after:.2f} dB  gain: {after - before:+.2f} dB"
        )
    with removed_on_failure(output, grid, save_dir):  # outputs go last; a failure leaves none
        _write_outputs(model, images, noisy, denoised, labels, noise_std, output, grid, save_dir)
    for path in (output, grid):
        if path:
            click.echo(f"wrote {path}")
    if save_dir:
        click.echo(f"saved model to {save_dir}")


def _write_outputs(
    model, images, noisy, denoised, labels, noise_std, output, grid, save_dir
) -> None:
    """The model directory, then the grid, then OUT: written last, so a failure leaves none behind."""
    import numpy as np

    from synthkit.io import save_figure, write_npz

    if save_dir:
        model.save(save_dir)
    if grid:
        from synthkit.plots import image_grid

        k = min(10, len(images))
        rows = ([images[:k]] if noise_std is not None else []) + [noisy[:k], denoised[:k]]
        names = (["original"] if noise_std is not None else []) + ["noisy", "denoised"]
        fig = image_grid(np.concatenate(rows), np.repeat(names, k), per_row=k)
        save_figure(fig, grid)
    if output:
        arrays = {"x": denoised, "noisy": noisy}
        if labels is not None:
            arrays["y"] = np.asarray(labels)
        write_npz(arrays, output)
