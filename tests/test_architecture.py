"""The import layers (.importlinter, checked by lint-imports in CI) cover every module of the core,
and docs/architecture.md names each one."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def core_modules() -> set[str]:
    """The modules and subpackages directly inside synthkit/ (``__init__`` is the package itself)."""
    found = {p.stem for p in (ROOT / "synthkit").glob("*.py") if p.stem != "__init__"}
    return found | {p.parent.name for p in (ROOT / "synthkit").glob("*/__init__.py")}


def layered_modules() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    layers = config["importlinter:contract:layers"]["layers"].split("\n")
    return [name.strip() for line in layers if line.strip() for name in re.split(r"[:|]", line)]


def test_every_core_module_is_in_one_layer():
    named = layered_modules()
    assert sorted(set(named)) == sorted(named), "a module is in two layers"
    assert set(named) == core_modules()


def test_the_architecture_page_names_every_core_module():
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = [
        m for m in core_modules() - {"__main__"} if f"`{m}.py`" not in page and f"`{m}/" not in page
    ]
    assert not missing, f"docs/architecture.md does not name {missing}"
