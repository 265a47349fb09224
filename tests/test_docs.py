"""The README and the manual in docs/ say what a new user needs where they need it, and cannot drift from
the code or the benchmarks."""

from __future__ import annotations

import inspect
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = {f"docs/{path.name}": path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
PAGES = {
    "README.md": README,
    **DOCS,
}  # the README and every page of the manual, by path from the root
BENCHMARKS = (ROOT / "benchmarks" / "README.md").read_text()
CI_SCRIPT = (ROOT / ".ci" / "run").read_text()
BUILT_IN_PLUGINS = {
    "kmeans",
    "autoencoder",
    "iforest",
    "knn",
    "lof",
    "ecod",
    "ensemble",
    "gan",
    "diffusion",
}
MEASURED_FIGURE = re.compile(
    r"\b(?:ROC-AUC|AUC|AP|KS|TV|FID|KID|NMI|ARI|PSNR|accuracy)\b[^.\n|]{0,30}?\d+\.\d"  # a quality figure
    r"|\d+(?:\.\d+)? ?(?:s|ms|min|minutes|seconds|hours|dB)\b"  # a duration or a decibel gain
    r"|\d\.\d+×"  # a measured ratio
    r"|\d+(?:\.\d+)?% (?:of (?:the )?samples|classified|accuracy)"
    r"|peak memory|\[load|load average|farm-bench"
)


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section (up to the next heading of that level)."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n") + len(heading) + 1
    following = re.search(rf"^{level} ", text[start:], re.M)
    return text[start : start + following.start()] if following else text[start:]


def table_after(marker: str, text: str = README, where: str = "README") -> list[list[str]]:
    """The body rows of the Markdown table that follows ``<!-- marker -->``, as stripped cells."""
    match = re.search(rf"<!-- {re.escape(marker)} -->\n((?:\|.*\n)+)", text)
    assert match, f"{where} has no table after <!-- {marker} -->"
    rows = [line.strip().strip("|").split("|") for line in match.group(1).splitlines()]
    return [[cell.strip() for cell in row] for row in rows[2:]]  # past the header and its --- line


def written_default(value) -> str:
    """A default as the parameter tables write it: strings bare, everything else as Python's repr."""
    return value if isinstance(value, str) else repr(value)


def built_in_plugins() -> dict[str, type]:
    """Every detector and generator the shipped plugins register, by name, through the registry."""
    from synthkit.registry import get_registry

    registry = get_registry()
    classes = {}
    for kind in ("detectors", "generators"):
        for name, (cls, _plugin) in registry.entries(kind).items():
            if cls.__module__.startswith("synthkit_plugins."):
                classes[name] = cls
    return classes


def plugin_page(name: str) -> str:
    """The manual page that holds a built-in plugin's parameter table."""
    from synthkit.base._detector import BaseDetector

    return (
        "docs/detectors.md"
        if issubclass(built_in_plugins()[name], BaseDetector)
        else "docs/generators.md"
    )


def example_commands() -> list[list[str]]:
    """Every ``synthkit ...`` command of the README and the manual, from shell blocks and inline code, as words."""
    lines = []
    for text in PAGES.values():
        for block in re.findall(r"```bash\n(.*?)```", text, re.S):
            lines += [line.split("  #")[0] for line in block.replace("\\\n", " ").splitlines()]
        lines += [
            usage.replace("[", " ").replace("]", " ")
            for usage in re.findall(r"`(synthkit [^`]+)`", text)
        ]
    commands = []
    for line in lines:
        words = shlex.split(line)
        if words[:1] == ["synthkit"] and len(words) > 1:
            commands.append(words)
    return commands


@pytest.mark.parametrize(
    "page", [page for page, text in PAGES.items() if re.search(r"synthkit \w+ mnist", text)]
)
def test_the_first_mnist_example_says_where_the_data_comes_from(page):
    lines = PAGES[page].splitlines()
    first = next(i for i, line in enumerate(lines) if re.search(r"synthkit \w+ mnist", line))
    near = "\n".join(lines[max(0, first - 10) : first + 10])
    assert "SYNTHKIT_DATA_DIR" in near, f"{page}: {near}"


def test_scoring_with_a_saved_model_says_label_column_keeps_the_label_out():
    paragraphs = re.split(r"\n\s*\n|\n- ", DOCS["docs/cli.md"])
    assert any(
        "--model" in p and "--label-column" in p and "out of the features" in p for p in paragraphs
    )


def test_the_manual_says_what_a_diffusion_fit_trains_and_how_plots_are_reached():
    generators = DOCS["docs/generators.md"]
    assert (
        "What a fit trains" in generators
        and "train_denoiser" in generators
        and "denoiser=fit" in generators
    )
    plots = DOCS["docs/plots.md"]
    assert (
        "detection_plots(det, df" in plots
        and "synthkit.detect" in plots
        and "DetectResult" not in plots
    )


def test_every_example_command_uses_real_commands_options_and_parameters():
    from synthkit.cli._main import cli
    from synthkit.registry import get_registry

    get_registry().add_commands(
        cli
    )  # plugin commands (denoise), as the console entry point adds them
    plugins = built_in_plugins()
    commands = example_commands()
    assert len(commands) > 20
    for words in commands:
        if words[1] == "--help":
            continue
        assert words[1] in cli.commands, f"no command {words[1]!r}: {' '.join(words)}"
        options = {
            opt
            for param in cli.commands[words[1]].params
            for opt in param.opts + param.secondary_opts
        }
        for word in words[2:]:
            if word.startswith("-") and word != "-":
                assert word in options, f"{words[1]} has no option {word}: {' '.join(words)}"
        plugin = words[words.index("--plugin") + 1] if "--plugin" in words else None
        if plugin in plugins:
            parameters = inspect.signature(plugins[plugin]).parameters
            for key in (
                words[i + 1].split("=")[0] for i, word in enumerate(words) if word == "--param"
            ):
                assert key in parameters, f"{plugin} has no parameter {key}: {' '.join(words)}"


def test_users_install_first_and_development_holds_the_commands_ci_runs():
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings[0] == "Install" and headings[-1] == "Development", headings
    install = section(README, "## Install")
    user_commands = re.search(r"```bash\n(.*?)```", install, re.S).group(1)
    assert (
        "pip install ." in user_commands
        and "pip install -e ." in user_commands
        and "[test]" not in user_commands
    )
    assert "`bench`" in install and "`test`" in install  # the extras are explained
    install_page = section(DOCS["docs/index.md"], "## Install")
    assert all(
        f"| `{extra}` |" in install_page for extra in ("bench", "dask", "docs", "test")
    )  # and in full here
    for page, development in (
        ("README.md", section(README, "## Development")),
        ("docs/development.md", DOCS["docs/development.md"]),
    ):
        assert 'pip install -e ".[test,dask,docs]"' in development, page
        assert (
            "SYNTHKIT_DATA_DIR=../shared/datasets python -m pytest -q -n 2 --dist loadfile"
            in development
        ), page
        assert "mkdocs build --strict" in development, page
        assert "ruff check . && ruff format --check . && lint-imports" in development, page
    # .ci/run says it runs the README's install and test commands and builds the manual: keep them in step.
    assert re.search(r'^pip install (--quiet )?-e "\.\[test,dask,docs\]"$', CI_SCRIPT, re.M)
    assert re.search(r"^export SYNTHKIT_DATA_DIR=\.\./shared/datasets$", CI_SCRIPT, re.M)
    lint = re.search(r"^ruff format --check \.$", CI_SCRIPT, re.M)
    tests = re.search(r"^python -m pytest -q .*-n 2 --dist loadfile$", CI_SCRIPT, re.M)
    assert lint and lint.start() < tests.start() and re.search(r"^ruff check \.$", CI_SCRIPT, re.M)
    layers = re.search(r"^lint-imports$", CI_SCRIPT, re.M)
    assert layers and layers.start() < tests.start()
    build = re.search(r"^mkdocs build --strict( .*)?$", CI_SCRIPT, re.M)
    assert tests and build and tests.start() < build.start()  # the manual is built after the tests


def test_every_built_in_plugin_has_a_parameter_table_on_its_page():
    assert set(built_in_plugins()) == BUILT_IN_PLUGINS
    documented = {
        page: set(re.findall(r"<!-- parameters: (\w+) -->", text)) for page, text in PAGES.items()
    }
    for name in BUILT_IN_PLUGINS:
        assert name in documented[plugin_page(name)], (
            f"{name}: no parameter table in {plugin_page(name)}"
        )
    assert set().union(*documented.values()) == BUILT_IN_PLUGINS
    assert sum(len(names) for names in documented.values()) == len(
        BUILT_IN_PLUGINS
    )  # each table once


@pytest.mark.parametrize("name", sorted(BUILT_IN_PLUGINS))
def test_the_parameter_table_lists_every_parameter_with_the_code_default(name):
    signature = inspect.signature(built_in_plugins()[name])
    in_code = {
        p.name: written_default(p.default)
        for p in signature.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    page = plugin_page(name)
    rows = table_after(f"parameters: {name}", PAGES[page], page)
    names = [row[0].strip("`") for row in rows]
    assert len(names) == len(set(names)), f"{name}: a parameter listed twice: {names}"
    in_table = {row[0].strip("`"): row[1].strip("`") for row in rows}
    assert in_table == in_code
    assert all(len(row) >= 3 and row[2] for row in rows), f"{name}: a parameter without its meaning"


def test_the_readme_is_a_front_page_and_the_manual_is_in_docs():
    assert len(README.encode()) <= 12 * 1024, (
        "README.md is over 12 KB: move the detail to a page in docs/"
    )
    assert set(re.findall(r"\]\((docs/[\w-]+\.md)", README)) == set(DOCS), (
        "the README links to every page of docs/"
    )


def test_the_readme_lists_every_built_in_plugin_with_a_link_to_its_page():
    rows = [
        line.strip().strip("|").split("|")
        for line in section(README, "## Plugins").splitlines()
        if line.startswith("| `")
    ]
    listed = {row[0].strip().strip("`"): row for row in rows}
    assert BUILT_IN_PLUGINS <= set(listed)
    for name in BUILT_IN_PLUGINS:
        kind = "detector" if plugin_page(name) == "docs/detectors.md" else "generator"
        assert listed[name][1].strip() == kind, listed[name]
        assert f"]({plugin_page(name)}" in listed[name][-1], (
            f"{name}: no link to {plugin_page(name)}"
        )


def github_anchor(heading: str) -> str:
    """A heading's anchor as GitHub (and the manual's toc) writes it."""
    text = re.sub(r"[`*]", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_relative_link_points_to_a_file_and_heading_that_exist(page):
    text = re.sub(r"```.*?```", "", PAGES[page], flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        file = (ROOT / page).parent / path if path else ROOT / page
        assert file.exists(), f"{page}: the link {target} points to no file"
        if anchor and file.suffix == ".md":
            headings = re.findall(
                r"^#+ (.+)$", re.sub(r"```.*?```", "", file.read_text(), flags=re.S), re.M
            )
            assert anchor in {github_anchor(h) for h in headings}, (
                f"{page}: {target} names no heading of {path}"
            )


def test_measured_figures_live_in_the_benchmarks_readme():
    headline = table_after("headline-results")
    assert len(headline) == 5
    assert "](benchmarks/README.md)" in README
    for row in headline:
        for number in re.findall(r"\d[\d,]*(?:\.\d+)?", " ".join(row)):
            assert number in BENCHMARKS, (
                f"the headline figure {number} is not in benchmarks/README.md: {row}"
            )
    start = README.index("<!-- headline-results -->")
    end = README.index("\n\n", start)
    for page, text in {**PAGES, "README.md": README[:start] + README[end:]}.items():
        found = [m.group(0) for m in MEASURED_FIGURE.finditer(text)]
        assert not found, f"measured figures in {page} (move them to benchmarks/README.md): {found}"


def test_every_measured_figure_in_the_benchmarks_readme_names_its_command():
    rows = []
    for table in re.findall(
        r"^\| what \| command \| result \|\n\|[- |]+\|\n((?:\|.*\n?)+)", BENCHMARKS, re.M
    ):
        rows += [line.strip().strip("|").split(" | ") for line in table.splitlines()]
    assert len(rows) > 20
    for row in rows:
        assert re.search(r"`(python benchmarks/|synthkit )", row[1]), (
            f"no command to reproduce: {row}"
        )
    assert "farm-bench" not in BENCHMARKS and "/work/" not in BENCHMARKS


def test_the_benchmarks_readme_has_a_table_of_contents_of_its_sections():
    text = re.sub(r"```.*?```", "", BENCHMARKS, flags=re.S)
    sections = [h for h in re.findall(r"^## (.+)$", text, re.M) if h != "Contents"]
    contents = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^- \[(.+)\]\(#([^)]+)\)$", contents, re.M)
    assert [title for title, _ in listed] == sections
    assert all(anchor == github_anchor(title) for title, anchor in listed)
