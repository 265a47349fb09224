"""``synthkit plugins`` and ``synthkit datasets``: what is installed and what data is here."""

from __future__ import annotations
import click


@click.command()
def plugins():
    """List installed plugins, what each registered, and any that failed to load."""
    from synthkit.registry import get_registry

    registry = get_registry()
    registry.entries("detectors")  # runs the registration hooks
    for info in sorted(registry.infos.values(), key=lambda i: i.name):
        origin = (
            f"{info.package} {info.version}" if info.version else (info.package or "in-process")
        )
        click.echo(f"{info.name} ({origin})")
        for kind, names in info.registered.items():
            if names:
                click.echo(f"  {kind}: {', '.join(sorted(names))}")
        if info.commands:
            click.echo(f"  commands: {', '.join(info.commands)}")
    if registry.failures:
        click.echo("failed:")
        for failure in registry.failures:
            click.echo(f"  {failure.name} ({failure.package or 'in-process'}): {failure.error}")


@click.command()
def datasets():
    """List registered datasets, their splits available here, and where they load from."""
    from synthkit.registry import get_registry

    for name, (dataset, plugin) in sorted(get_registry().entries("datasets").items()):
        splits = dataset.splits()
        click.echo(
            f"{name} ({dataset.kind}) splits: {', '.join(splits) if splits else 'none available'}"
        )
        if dataset.description:
            click.echo(f"  {dataset.description}")
        click.echo(f"  {dataset.location()}")
