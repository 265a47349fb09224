"""``augment``'s default generator: diffusion for tables, the GAN for images, by API and CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from click.testing import CliRunner

import synthkit
import synthkit.api
from synthkit.synthesis import default_generator, run_augment


def _table(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(3, 1, n), 2),
            "channel": rng.choice(["web", "shop"], n),
            "label": (rng.random(n) < 0.3).astype(int),
        }
    )


def test_the_default_generator_is_diffusion_for_tables_and_the_gan_for_images():
    assert default_generator(_table()) == synthkit.api.TABLE_GENERATOR == "diffusion"
    images = np.zeros((8, 6, 6), np.uint8)
    assert default_generator(images) == synthkit.api.IMAGE_GENERATOR == "gan"
    _, _, generator, _ = run_augment(
        _table(), n=4, label_column="label", label=1, seed=0, train_steps=3, widths=(8,), steps=2
    )
    assert type(generator).__name__ == "DiffusionGenerator"
    rows = synthkit.augment(
        _table(), n=4, label_column="label", label=1, seed=0, train_steps=3, widths=(8,), steps=2
    )
    assert list(rows.columns) == ["amount", "channel", "label"] and (rows["label"] == 1).all()


def test_cli_augment_without_plugin_fits_diffusion_on_a_table(tmp_path):
    from synthkit.cli._main import cli

    _table().to_csv(tmp_path / "t.csv", index=False)
    common = ["augment", str(tmp_path / "t.csv"), "-n", "5", "--label-column", "label"]
    params = ["--param", "train_steps=3", "--param", "widths=8", "--param", "steps=2"]
    result = CliRunner().invoke(
        cli, [*common, "--label", "1", *params, "--save-model", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["plugin"] == "diffusion"
    again = CliRunner().invoke(
        cli, [*common, "--label", "1", "--model", str(tmp_path / "m"), "--plugin", "gan"]
    )
    assert again.exit_code == 1 and "leave out --plugin" in again.output
