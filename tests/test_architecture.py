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


def packages() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "synthkit").glob("*/__init__.py"))


def test_the_architecture_page_names_every_module_of_every_package():
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = [
        f"{package}/{p.name}"
        for package in packages()
        for p in (ROOT / "synthkit" / package).glob("*.py")
        if p.stem != "__init__"
        and f"`{p.name}`" not in page
        and f"`{package}/{p.name}`" not in page
    ]
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_each_package_reexports_names_that_exist_and_imports_on_its_own():
    """Each package's ``__all__`` names exist, and each package imports first in a fresh
    interpreter: an import circle inside a package shows only when it is imported first."""
    import subprocess
    import sys

    for package in packages():
        code = (
            f"import synthkit.{package} as p; "
            "missing = [n for n in getattr(p, '__all__', []) if not hasattr(p, n)]; "
            "assert not missing, missing"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 0, f"synthkit.{package}: {result.stderr.strip()[-300:]}"


def test_tests_mirror_the_packages():
    """Each topic package has a test folder of its name (tests/detection/, tests/io/, ...)."""
    missing = [p for p in packages() if not (ROOT / "tests" / p).is_dir()]
    assert not missing, f"no tests/<package>/ for {missing}"
