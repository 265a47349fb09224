"""Third-party plugin packages, really installed with pip: docs/writing-a-plugin.md's example, and a broken one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN_PAGE = Path(__file__).resolve().parents[2] / "docs" / "writing-a-plugin.md"


def manual_block(marker: str) -> str:
    """The fenced code block that follows ``<!-- marker -->`` in docs/writing-a-plugin.md."""
    match = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)```", PLUGIN_PAGE.read_text(), re.S)
    assert match, f"docs/writing-a-plugin.md has no block after <!-- {marker} -->"
    return match.group(1)


def pip_install(source: Path, target: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


def synthkit(site: Path, *args, timeout=300):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "synthkit", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A folder with two plugin packages installed by pip: the manual's zscore, and a broken one."""
    root = tmp_path_factory.mktemp("plugins")
    good = root / "zscore"
    good.mkdir()
    (good / "pyproject.toml").write_text(manual_block("plugin-pyproject"))
    (good / "synthkit_zscore.py").write_text(manual_block("plugin-module"))
    broken = root / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text(
        manual_block("plugin-pyproject")
        .replace("synthkit-zscore", "synthkit-broken")
        .replace('zscore = "synthkit_zscore"', 'broken = "synthkit_broken"')
        .replace("synthkit_zscore", "synthkit_broken")
    )
    (broken / "synthkit_broken.py").write_text("import a_module_that_does_not_exist\n")
    target = root / "site"
    pip_install(good, target)
    pip_install(broken, target)
    return target


def test_installed_plugin_is_listed(site):
    proc = synthkit(site, "plugins")
    assert proc.returncode == 0, proc.stderr
    assert "zscore (synthkit-zscore 0.1.0)" in proc.stdout
    assert "detectors: zscore" in proc.stdout
    assert "kmeans (synthkit" in proc.stdout


def test_broken_plugin_is_reported_and_isolated(site):
    proc = synthkit(site, "plugins")
    failed = proc.stdout.split("\nfailed:\n", 1)[1]
    assert "broken (synthkit-broken)" in failed and "a_module_that_does_not_exist" in failed


def test_detect_uses_the_installed_plugin(site, tmp_path):
    out = tmp_path / "scores.csv"
    proc = synthkit(
        site, "detect", "transactions", "--plugin", "zscore", "--contamination", "0.02", "-o", out
    )
    assert proc.returncode == 0, proc.stderr
    assert "rows: 20000  flagged: " in proc.stdout and "ROC-AUC:" in proc.stdout
    assert "warning: synthkit plugin 'broken' (synthkit-broken) skipped" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert out.exists()
