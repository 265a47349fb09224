"""MkDocs hooks: the results log, benchmarks/README.md, becomes the site's ``benchmarks.md`` page.

The pages link to it as ``../benchmarks/README.md``, the path that works on GitHub; in the built
site those links point to the generated page instead, so ``mkdocs build --strict`` can check them.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks" / "README.md"
LINK = re.compile(r"\]\(\.\./benchmarks/README\.md(#[^)]*)?\)")


def on_files(files, config):
    files.append(
        File.generated(config, "benchmarks.md", content=BENCHMARKS.read_text(encoding="utf-8"))
    )
    return files


def on_page_markdown(markdown, page, config, files):
    return LINK.sub(lambda m: f"](benchmarks.md{m.group(1) or ''})", markdown)
