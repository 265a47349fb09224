"""The examples of the README and the manual that run in seconds, run as a user would run them.

A block runs when the line before it is the marker below; blocks that train networks or need a
cluster are left to the benchmarks. Shell blocks run each line with ``python -m synthkit`` in a
fresh folder holding the files they name (``my.csv``: real ``transactions`` rows with their
``is_fraud`` label; ``day.csv``: new rows, without it);
Python blocks run in a namespace holding what the page set up before them (``synthkit``, ``df``:
the ``transactions`` table, ``X``: its numeric columns as an array).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- example: the tests run this block -->"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def marked_blocks() -> list[tuple[str, str, str]]:
    """(page:line, language, code) of every block after the marker."""
    found = []
    for page in PAGES:
        text = page.read_text()
        pattern = re.escape(MARKER) + r"\n```(bash|python)\n(.*?)```"
        for match in re.finditer(pattern, text, re.S):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", match.group(1), match.group(2)))
    return found


BLOCKS = marked_blocks()


def test_the_pages_mark_examples_to_run():
    assert len(BLOCKS) >= 5
    pages = {where.split(":")[0] for where, _, _ in BLOCKS}
    assert "README.md" in pages


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    import synthkit

    df = synthkit.load_dataset("transactions")
    df.iloc[:3000].to_csv(tmp_path / "my.csv", index=False)
    df.iloc[3000:6000].drop(columns="is_fraud").to_csv(tmp_path / "day.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("where,language,code", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_the_example_runs(where, language, code, workdir):
    if language == "bash":
        for line in code.strip().splitlines():
            args = shlex.split(line, comments=True)
            assert args[0] == "synthkit", f"{where}: {line}"
            result = subprocess.run(
                [sys.executable, "-m", "synthkit", *args[1:]],
                capture_output=True,
                text=True,
                cwd=workdir,
            )
            assert result.returncode == 0, f"{where}: {line}\n{result.stderr[-1500:]}"
        return
    import synthkit

    df = synthkit.load_dataset("transactions")
    namespace = {"synthkit": synthkit, "df": df, "X": df.select_dtypes("number").to_numpy()}
    exec(compile(code, where, "exec"), namespace)
