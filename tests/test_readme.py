"""The README says what a new user needs where they need it."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_first_mnist_example_says_where_the_data_comes_from():
    lines = README.splitlines()
    first = next(i for i, line in enumerate(lines) if re.search(r"synthkit \w+ mnist", line))
    near = "\n".join(lines[max(0, first - 10):first + 10])
    assert "SYNTHKIT_DATA_DIR" in near, near


def test_scoring_with_a_saved_model_says_label_column_keeps_the_label_out():
    paragraphs = re.split(r"\n\s*\n|\n- ", README)
    assert any("--model" in p and "--label-column" in p and "out of the features" in p for p in paragraphs)


def test_the_readme_says_what_a_diffusion_fit_trains_and_how_plots_are_reached():
    assert "What a fit trains" in README and "train_denoiser" in README and "denoiser=fit" in README
    plots = README[README.index("### Plots"):README.index("### Big files")]
    assert "detection_plots(det, df" in plots and "synthkit.detect" in plots and "DetectResult" not in plots
